/*
 * test_relay_msg.c: the Engine.IO relay's messages between korio nodes
 * (src/sio/codec/relay_msg.c), linked alone.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_help.h"

#include "codec/relay_msg.h"

static void
sample(struct relay_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = 206;
	memcpy(m->tag, "Ab-_", RELAY_TAG_LEN);
	m->src = 2;
	m->dst = 255;
	m->ep = 1;
	m->binary = 1;
	m->status = 400;
	m->id = 0x0102030405060708ULL;
}

static int
test_round_trip(void)
{
	struct relay_msg	m, d;
	struct sbuf		b;
	uint64_t		ids[2] = { 7, UINT64_MAX };

	sample(&m);
	sbuf_init(&b);
	relay_msg_encode(&b, &m, NULL, "02sidsidsidsidsidsidbody", 24);
	TEST_ASSERT(b.len == RELAY_HEAD_LEN + 24);
	TEST_ASSERT(b.data[0] == 'K' && b.data[1] == RELAY_MSG_VERSION);
	/* Big-endian on the wire, whatever the host. */
	TEST_ASSERT(b.data[19] == 1 && b.data[26] == 8);
	TEST_ASSERT(relay_msg_decode(b.data, b.len, &d) == 0);
	TEST_ASSERT(d.type == 206 && !memcmp(d.tag, "Ab-_", 4) &&
	    d.src == 2 && d.dst == 255 && d.ep == 1 && d.binary == 1 &&
	    d.status == 400 && d.count == 0 && d.id == m.id);
	TEST_ASSERT(d.restlen == 24 && !memcmp(d.rest, "02sid", 5));
	sbuf_free(&b);

	m.count = 2;
	sbuf_init(&b);
	relay_msg_encode(&b, &m, ids, "frame", 5);
	TEST_ASSERT(relay_msg_decode(b.data, b.len, &d) == 0);
	TEST_ASSERT(d.count == 2 && relay_msg_id(&d, 0) == 7 &&
	    relay_msg_id(&d, 1) == UINT64_MAX);
	TEST_ASSERT(d.restlen == 5 && !memcmp(d.rest, "frame", 5));
	sbuf_free(&b);
	return (0);
}

static int
test_malformed(void)
{
	struct relay_msg	m, d;
	struct sbuf		b;
	uint8_t			*p;
	size_t			i;

	sample(&m);
	sbuf_init(&b);
	relay_msg_encode(&b, &m, NULL, NULL, 0);
	p = b.data;

	/* Every prefix short of the head. */
	for (i = 0; i < RELAY_HEAD_LEN; i++)
		TEST_ASSERT(relay_msg_decode(p, i, &d) == -1);
	TEST_ASSERT(relay_msg_decode(p, b.len, &d) == 0);

#define BAD(off, val) do {						\
	uint8_t	old = p[off];						\
	p[off] = (val);							\
	TEST_ASSERT(relay_msg_decode(p, b.len, &d) == -1);		\
	p[off] = old;							\
} while (0)
	BAD(0, 'k');			/* magic */
	BAD(1, 2);			/* version */
	BAD(4, '#');			/* tag: a channel's separator */
	BAD(6, 0);
	BAD(8, 0);			/* source worker 0 */
	BAD(7, 1);			/* source worker 256 */
	BAD(10, 0);			/* destination worker 0 */
	BAD(18, 1);			/* one id, not there */
	BAD(15, 0x7f);			/* a count past the bound */
#undef BAD
	sbuf_free(&b);

	TEST_ASSERT(!relay_tag_valid("ab c"));
	TEST_ASSERT(relay_tag_valid("a-Z9"));
	return (0);
}

int
main(void)
{
	TEST_RUN(test_round_trip);
	TEST_RUN(test_malformed);
	return (TEST_REPORT("test_relay_msg"));
}
