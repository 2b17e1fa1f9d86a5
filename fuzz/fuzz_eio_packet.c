/*
 * fuzz_eio_packet.c: libFuzzer target for eio_decode_frame() and
 * eio_encode_frame(). The first input byte picks text (even) or binary
 * (odd) framing, the rest is the frame. A decoded text frame must
 * encode back to the same bytes.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/eio.h"

#define FUZZ_CHECK(x)	do { if (!(x)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eio_packet	pkt;
	struct sbuf		sb;
	int			binary;

	if (size == 0)
		return (0);
	binary = data[0] & 1;
	data++;
	size--;

	if (!eio_decode_frame(&pkt, data, size, binary)) {
		FUZZ_CHECK(!binary);
		return (0);
	}

	if (binary) {
		FUZZ_CHECK(pkt.binary && pkt.type == EIO_PACKET_MESSAGE);
		FUZZ_CHECK(pkt.data == data && pkt.len == size);
		return (0);
	}

	FUZZ_CHECK(pkt.type >= EIO_PACKET_OPEN && pkt.type <= EIO_PACKET_NOOP);
	FUZZ_CHECK(sbuf_utf8_valid(data, size));

	sbuf_init(&sb);
	FUZZ_CHECK(eio_encode_frame(&sb, pkt.type, pkt.data, pkt.len));
	FUZZ_CHECK(sb.len == size && memcmp(sb.data, data, size) == 0);
	sbuf_free(&sb);

	return (0);
}
