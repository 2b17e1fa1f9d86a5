/*
 * fuzz_eio_payload.c: libFuzzer target for the long-polling payload
 * iterator (eio_payload_*) and encoder (eio_payload_append()). The
 * first input byte scales maxPayload, the rest is the payload. Every
 * accepted payload must encode back to exactly the same bytes (base64
 * is canonical, text is copied).
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
	struct eio_payload	it;
	struct eio_packet	pkt;
	struct sbuf		sb;
	size_t			max;
	int			r;

	if (size == 0)
		return (0);
	/* 0xff: no limit; otherwise a limit that may cut the payload. */
	max = data[0] == 0xff ? SIZE_MAX : (size_t)data[0] * 4;
	data++;
	size--;

	sbuf_init(&sb);
	if (!eio_payload_init(&it, data, size, max)) {
		FUZZ_CHECK(size > max || !sbuf_utf8_valid(data, size));
		FUZZ_CHECK(eio_payload_next(&it, &pkt) == EIO_NEXT_ERROR);
		goto cleanup;
	}

	while ((r = eio_payload_next(&it, &pkt)) == EIO_NEXT_PACKET) {
		FUZZ_CHECK(pkt.type >= 0 && pkt.type <= EIO_PACKET_NOOP);
		FUZZ_CHECK(!pkt.binary || pkt.type == EIO_PACKET_MESSAGE);
		FUZZ_CHECK(eio_payload_append(&sb, pkt.type, pkt.binary,
		    pkt.data, pkt.len));
	}
	FUZZ_CHECK(eio_payload_next(&it, &pkt) == r);

	if (r == EIO_NEXT_END)
		FUZZ_CHECK(sb.len == size && memcmp(sb.data, data, size) == 0);
	else
		FUZZ_CHECK(r == EIO_NEXT_ERROR);

cleanup:
	eio_payload_cleanup(&it);
	sbuf_free(&sb);

	return (0);
}
