/*
 * fuzz_sio_binary.c: libFuzzer target for the binary reassembly state
 * machine (sio_packet_reasm_*). Input: one flags byte, then messages
 * separated by 0xff (never valid in UTF-8 text). A message whose first
 * byte is 't' is fed as text (the rest of it), anything else as a
 * binary attachment (the rest of it). The low six flag bits scale the
 * attachment byte limit. Complete packets must hold all their
 * attachments, pass the placeholder check and encode.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/sio_packet.h"

#define FUZZ_CHECK(x)	do { if (!(x)) abort(); } while (0)

int		LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static void	fuzz_packet(struct sio_packet *);

static void
fuzz_packet(struct sio_packet *pkt)
{
	struct sbuf	sb;
	size_t		i;

	if (pkt->type == SIO_PACKET_BINARY_EVENT ||
	    pkt->type == SIO_PACKET_BINARY_ACK) {
		FUZZ_CHECK(pkt->natt == pkt->attachments);
		FUZZ_CHECK(sio_placeholder_check(pkt->data, pkt->natt));
		for (i = 0; i < pkt->natt; i++)
			FUZZ_CHECK(pkt->att[i].data != NULL);
	} else
		FUZZ_CHECK(pkt->natt == 0 && pkt->att == NULL);

	sbuf_init(&sb);
	FUZZ_CHECK(sio_packet_encode_pkt(&sb, pkt));
	sbuf_free(&sb);
	sio_packet_clear(pkt);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sio_packet_reasm	 r;
	struct sio_packet	 pkt;
	const uint8_t		*msg, *end, *sep;
	size_t			 len;
	int			 res;

	if (size == 0)
		return (0);
	sio_packet_reasm_init(&r, (data[0] & 0x3f) == 0x3f ? SIZE_MAX :
	    (size_t)(data[0] & 0x3f) * 8);
	end = data + size;

	for (msg = data + 1; msg < end; msg = sep + 1) {
		if ((sep = memchr(msg, 0xff, (size_t)(end - msg))) == NULL)
			sep = end;
		len = (size_t)(sep - msg);

		if (len > 0 && msg[0] == 't')
			res = sio_packet_reasm_text(&r, &pkt, msg + 1, len - 1);
		else
			res = sio_packet_reasm_binary(&r, &pkt,
			    len > 0 ? msg + 1 : msg, len > 0 ? len - 1 : 0);

		if (res == SIO_REASM_PACKET)
			fuzz_packet(&pkt);
		else if (res == SIO_REASM_ERROR)
			FUZZ_CHECK(!sio_packet_reasm_pending(&r));
		else
			FUZZ_CHECK(sio_packet_reasm_pending(&r));
		if (res != SIO_REASM_PACKET)
			FUZZ_CHECK(pkt.nsp == NULL && pkt.data == NULL);
		if (sep == end)
			break;
	}

	sio_packet_reasm_clear(&r);

	return (0);
}
