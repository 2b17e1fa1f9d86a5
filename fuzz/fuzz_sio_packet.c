/*
 * fuzz_sio_packet.c: libFuzzer target for sio_packet_decode() and
 * sio_packet_encode(). The input is one Socket.IO packet (the data of
 * an Engine.IO message). Whatever decodes must satisfy the decoder's
 * invariants, must encode, and the encoding must decode again and
 * encode to the same bytes (our output is a fixed point).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/sio_packet.h"

#define FUZZ_CHECK(x)	do { if (!(x)) abort(); } while (0)

int		LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static void	fuzz_invariants(const struct sio_packet *);

static void
fuzz_invariants(const struct sio_packet *pkt)
{
	FUZZ_CHECK(pkt->type >= SIO_PACKET_CONNECT &&
	    pkt->type <= SIO_PACKET_BINARY_ACK);
	FUZZ_CHECK(pkt->nsp != NULL && pkt->nsp[0] == '/');
	FUZZ_CHECK(strchr(pkt->nsp, ',') == NULL);
	FUZZ_CHECK(pkt->ack_id >= -1 && pkt->ack_id < 1000000000000000LL);
	FUZZ_CHECK(pkt->attachments <= SIO_PACKET_MAX_ATTACHMENTS);
	FUZZ_CHECK(pkt->natt == 0 && pkt->att == NULL);
	if (pkt->type != SIO_PACKET_BINARY_EVENT &&
	    pkt->type != SIO_PACKET_BINARY_ACK)
		FUZZ_CHECK(pkt->attachments == 0);
	else
		FUZZ_CHECK(pkt->attachments >= 1);
	if (pkt->type == SIO_PACKET_EVENT || pkt->type == SIO_PACKET_ACK ||
	    pkt->type >= SIO_PACKET_BINARY_EVENT)
		FUZZ_CHECK(json_is_array(pkt->data));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sio_packet	p1, p2;
	struct sbuf		e1, e2;

	if (!sio_packet_decode(&p1, data, size)) {
		FUZZ_CHECK(p1.nsp == NULL && p1.data == NULL);
		return (0);
	}
	fuzz_invariants(&p1);
	(void)sio_placeholder_check(p1.data, p1.attachments);

	sbuf_init(&e1);
	sbuf_init(&e2);
	FUZZ_CHECK(sio_packet_encode(&e1, p1.type, p1.nsp, p1.ack_id,
	    p1.attachments, p1.data));

	FUZZ_CHECK(sio_packet_decode(&p2, e1.data, e1.len));
	fuzz_invariants(&p2);
	FUZZ_CHECK(p2.type == p1.type && p2.ack_id == p1.ack_id);
	FUZZ_CHECK(p2.attachments == p1.attachments);
	FUZZ_CHECK(strcmp(p2.nsp, p1.nsp) == 0);
	FUZZ_CHECK((p1.data == NULL) == (p2.data == NULL));

	FUZZ_CHECK(sio_packet_encode(&e2, p2.type, p2.nsp, p2.ack_id,
	    p2.attachments, p2.data));
	FUZZ_CHECK(e1.len == e2.len && memcmp(e1.data, e2.data, e1.len) == 0);

	sio_packet_clear(&p1);
	sio_packet_clear(&p2);
	sbuf_free(&e1);
	sbuf_free(&e2);

	return (0);
}
