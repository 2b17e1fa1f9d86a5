/*
 * fuzz_relay_msg.c: libFuzzer target for the Engine.IO relay's messages
 * between korio nodes, as they come from Redis (src/sio/codec/relay_msg.c).
 * Whatever relay_msg_decode() accepts stays within the input, and
 * encodes back to the same bytes.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/relay_msg.h"
#include "codec/sbuf.h"

#define FUZZ_CHECK(x)	do { if (!(x)) abort(); } while (0)

int		LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct relay_msg	m;
	struct sbuf		b;
	uint64_t		*ids;
	uint32_t		i;

	if (relay_msg_decode(data, len, &m) == -1)
		return (0);

	FUZZ_CHECK(m.src >= 1 && m.src <= 255 && m.dst >= 1 && m.dst <= 255);
	FUZZ_CHECK(relay_tag_valid(m.tag));
	FUZZ_CHECK(m.rest >= data && m.rest + m.restlen == data + len);

	ids = calloc(m.count + 1, sizeof(*ids));
	FUZZ_CHECK(ids != NULL);
	for (i = 0; i < m.count; i++)
		ids[i] = relay_msg_id(&m, i);

	sbuf_init(&b);
	relay_msg_encode(&b, &m, ids, m.rest, m.restlen);
	FUZZ_CHECK(b.len == len && !memcmp(b.data, data, len));
	sbuf_free(&b);
	free(ids);

	return (0);
}
