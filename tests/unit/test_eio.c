/*
 * test_eio.c: unit tests for src/sio/eio.c (Engine.IO v4 packets,
 * polling payloads, the open packet).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/eio.h"
#include "test_help.h"

#define U8(s)	((const uint8_t *)(s))

static int	test_frame_text(void);
static int	test_frame_types(void);
static int	test_frame_errors(void);
static int	test_frame_binary(void);
static int	test_frame_encode(void);
static int	test_payload_decode(void);
static int	test_payload_binary(void);
static int	test_payload_errors(void);
static int	test_payload_max(void);
static int	test_payload_encode(void);
static int	test_payload_roundtrip(void);
static int	test_open_packet(void);

static int	payload_count(const char *, size_t, size_t, int *);

static int
test_frame_text(void)
{
	struct eio_packet	pkt;
	const char		*uni = "4h\xc3\xa9llo \xe2\x82\xac\xf0\x9f\x98\x80";

	TEST_ASSERT(eio_decode_frame(&pkt, U8("4hello"), 6, 0) == 1);
	TEST_ASSERT(pkt.type == EIO_PACKET_MESSAGE && pkt.binary == 0);
	TEST_ASSERT(TEST_MEMEQ(pkt.data, pkt.len, "hello"));

	TEST_ASSERT(eio_decode_frame(&pkt, U8("2"), 1, 0) == 1);
	TEST_ASSERT(pkt.type == EIO_PACKET_PING && pkt.len == 0);

	TEST_ASSERT(eio_decode_frame(&pkt, U8("3probe"), 6, 0) == 1);
	TEST_ASSERT(pkt.type == EIO_PACKET_PONG);
	TEST_ASSERT(TEST_MEMEQ(pkt.data, pkt.len, "probe"));

	TEST_ASSERT(eio_decode_frame(&pkt, U8(uni), strlen(uni), 0) == 1);
	TEST_ASSERT(pkt.type == EIO_PACKET_MESSAGE);
	TEST_ASSERT(TEST_MEMEQ(pkt.data, pkt.len, uni + 1));

	/* Socket.IO data is opaque here, 0x1e included. */
	TEST_ASSERT(eio_decode_frame(&pkt, U8("40{\"a\":\"\x1e\"}"), 10, 0));
	TEST_ASSERT(pkt.len == 9);

	return (0);
}

static int
test_frame_types(void)
{
	struct eio_packet	pkt;
	char			buf[2];
	int			t;

	for (t = 0; t <= 6; t++) {
		buf[0] = (char)('0' + t);
		buf[1] = 'x';
		TEST_ASSERT(eio_decode_frame(&pkt, U8(buf), 2, 0) == 1);
		TEST_ASSERT(pkt.type == t && pkt.len == 1);
		TEST_ASSERT(pkt.data == U8(buf) + 1);
	}
	TEST_ASSERT(EIO_PACKET_OPEN == 0 && EIO_PACKET_CLOSE == 1 &&
	    EIO_PACKET_PING == 2 && EIO_PACKET_PONG == 3 &&
	    EIO_PACKET_MESSAGE == 4 && EIO_PACKET_UPGRADE == 5 &&
	    EIO_PACKET_NOOP == 6);

	return (0);
}

static int
test_frame_errors(void)
{
	static const char *const bad[] = {
		"", "abc", "7", "9hello", "/", " 4", "b", "bAQIDBA==", "-1",
		"4\xff", "4\xc0\x80", "2\xed\xa0\x80",
	};
	struct eio_packet	pkt;
	size_t			i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TEST_ASSERT(eio_decode_frame(&pkt, U8(bad[i]), strlen(bad[i]),
		    0) == 0);
	TEST_ASSERT(eio_decode_frame(&pkt, NULL, 0, 0) == 0);
	TEST_ASSERT(eio_decode_frame(&pkt, U8("\x004"), 2, 0) == 0);

	return (0);
}

static int
test_frame_binary(void)
{
	struct eio_packet	pkt;
	const uint8_t		bytes[] = { 0x01, 0x02, 0x03, 0xff, 0x00 };

	TEST_ASSERT(eio_decode_frame(&pkt, bytes, sizeof(bytes), 1) == 1);
	TEST_ASSERT(pkt.type == EIO_PACKET_MESSAGE && pkt.binary == 1);
	TEST_ASSERT(pkt.data == bytes && pkt.len == sizeof(bytes));

	/* A binary frame has no type byte, even if it looks like one. */
	TEST_ASSERT(eio_decode_frame(&pkt, U8("2"), 1, 1) == 1);
	TEST_ASSERT(pkt.type == EIO_PACKET_MESSAGE && pkt.len == 1);

	TEST_ASSERT(eio_decode_frame(&pkt, NULL, 0, 1) == 1);
	TEST_ASSERT(pkt.binary == 1 && pkt.len == 0);

	return (0);
}

static int
test_frame_encode(void)
{
	struct sbuf	sb;

	sbuf_init(&sb);
	TEST_ASSERT(eio_encode_frame(&sb, EIO_PACKET_MESSAGE, "hello", 5));
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len, "4hello"));

	sbuf_reset(&sb);
	TEST_ASSERT(eio_encode_frame(&sb, EIO_PACKET_PING, NULL, 0));
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len, "2"));

	sbuf_reset(&sb);
	TEST_ASSERT(eio_encode_frame(&sb, EIO_PACKET_PONG, "probe", 5));
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len, "3probe"));

	sbuf_reset(&sb);
	TEST_ASSERT(eio_encode_frame(&sb, EIO_PACKET_NOOP, NULL, 0));
	TEST_ASSERT(eio_encode_frame(&sb, EIO_PACKET_CLOSE, NULL, 0));
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len, "61"));

	TEST_ASSERT(eio_encode_frame(&sb, 7, "x", 1) == 0);
	TEST_ASSERT(eio_encode_frame(&sb, -1, "x", 1) == 0);
	TEST_ASSERT(sb.len == 2);
	sbuf_free(&sb);

	return (0);
}

/*
 * Iterate a payload; returns the number of packets seen before the end
 * or the error, and sets *err to whether it ended in an error.
 */
static int
payload_count(const char *buf, size_t len, size_t max, int *err)
{
	struct eio_payload	it;
	struct eio_packet	pkt;
	int			n, r;

	n = 0;
	*err = 0;
	if (!eio_payload_init(&it, U8(buf), len, max)) {
		*err = 1;
		r = eio_payload_next(&it, &pkt);
		eio_payload_cleanup(&it);
		return (r == EIO_NEXT_ERROR ? 0 : -1);
	}
	while ((r = eio_payload_next(&it, &pkt)) == EIO_NEXT_PACKET)
		n++;
	if (r == EIO_NEXT_ERROR)
		*err = 1;
	/* Both end states are sticky. */
	if (eio_payload_next(&it, &pkt) != r)
		n = -1;
	eio_payload_cleanup(&it);

	return (n);
}

static int
test_payload_decode(void)
{
	struct eio_payload	 it;
	struct eio_packet	 pkt;
	const char		*p = "4hello\x1e" "2\x1e" "3probe\x1e" "4h\xc3\xa9";

	TEST_ASSERT(eio_payload_init(&it, U8(p), strlen(p), 1000) == 1);
	TEST_ASSERT(eio_payload_next(&it, &pkt) == EIO_NEXT_PACKET);
	TEST_ASSERT(pkt.type == EIO_PACKET_MESSAGE && !pkt.binary);
	TEST_ASSERT(TEST_MEMEQ(pkt.data, pkt.len, "hello"));
	TEST_ASSERT(eio_payload_next(&it, &pkt) == EIO_NEXT_PACKET);
	TEST_ASSERT(pkt.type == EIO_PACKET_PING && pkt.len == 0);
	TEST_ASSERT(eio_payload_next(&it, &pkt) == EIO_NEXT_PACKET);
	TEST_ASSERT(pkt.type == EIO_PACKET_PONG);
	TEST_ASSERT(TEST_MEMEQ(pkt.data, pkt.len, "probe"));
	TEST_ASSERT(eio_payload_next(&it, &pkt) == EIO_NEXT_PACKET);
	TEST_ASSERT(TEST_MEMEQ(pkt.data, pkt.len, "h\xc3\xa9"));
	TEST_ASSERT(eio_payload_next(&it, &pkt) == EIO_NEXT_END);
	TEST_ASSERT(eio_payload_next(&it, &pkt) == EIO_NEXT_END);
	eio_payload_cleanup(&it);

	/* A single packet without separator. */
	TEST_ASSERT(eio_payload_init(&it, U8("1"), 1, 1000) == 1);
	TEST_ASSERT(eio_payload_next(&it, &pkt) == EIO_NEXT_PACKET);
	TEST_ASSERT(pkt.type == EIO_PACKET_CLOSE && pkt.len == 0);
	TEST_ASSERT(eio_payload_next(&it, &pkt) == EIO_NEXT_END);
	eio_payload_cleanup(&it);

	return (0);
}

static int
test_payload_binary(void)
{
	struct eio_payload	 it;
	struct eio_packet	 pkt;
	const char		*p = "4hello\x1e" "bAQIDBA==\x1e" "b\x1e" "b/w==";

	TEST_ASSERT(eio_payload_init(&it, U8(p), strlen(p), 1000) == 1);
	TEST_ASSERT(eio_payload_next(&it, &pkt) == EIO_NEXT_PACKET);
	TEST_ASSERT(!pkt.binary && TEST_MEMEQ(pkt.data, pkt.len, "hello"));

	TEST_ASSERT(eio_payload_next(&it, &pkt) == EIO_NEXT_PACKET);
	TEST_ASSERT(pkt.binary && pkt.type == EIO_PACKET_MESSAGE);
	TEST_ASSERT(TEST_MEMEQ(pkt.data, pkt.len, "\x01\x02\x03\x04"));

	/* "b" alone is an empty binary message. */
	TEST_ASSERT(eio_payload_next(&it, &pkt) == EIO_NEXT_PACKET);
	TEST_ASSERT(pkt.binary && pkt.len == 0);

	TEST_ASSERT(eio_payload_next(&it, &pkt) == EIO_NEXT_PACKET);
	TEST_ASSERT(pkt.binary && pkt.len == 1 && pkt.data[0] == 0xff);
	TEST_ASSERT(eio_payload_next(&it, &pkt) == EIO_NEXT_END);
	eio_payload_cleanup(&it);

	return (0);
}

static int
test_payload_errors(void)
{
	static const struct {
		const char	*buf;
		int		 before;
	} bad[] = {
		{ "", 0 },
		{ "\x1e", 0 },
		{ "\x1e" "4a", 0 },
		{ "4a\x1e", 1 },
		{ "4a\x1e\x1e" "4b", 1 },
		{ "abc", 0 },
		{ "4a\x1e" "9x", 1 },
		{ "4a\x1e" "bAQ", 1 },
		{ "bAQ=", 0 },
		{ "b AQID", 0 },
		{ "bAQIDBA==\x1e" "b====", 1 },
		{ "2\x1e" "3\x1e" "7", 2 },
	};
	size_t		i;
	int		n, err;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = payload_count(bad[i].buf, strlen(bad[i].buf), 1000, &err);
		TEST_ASSERT(err == 1);
		TEST_ASSERT(n == bad[i].before);
	}

	/* Invalid UTF-8 anywhere fails up front. */
	n = payload_count("4ok\x1e" "4\xc3", 6, 1000, &err);
	TEST_ASSERT(err == 1 && n == 0);

	n = payload_count("4a\x1e" "4b\x1e" "4c", 8, 1000, &err);
	TEST_ASSERT(err == 0 && n == 3);

	return (0);
}

static int
test_payload_max(void)
{
	struct eio_payload	it;
	struct eio_packet	pkt;
	int			n, err;

	n = payload_count("4hello", 6, 6, &err);
	TEST_ASSERT(err == 0 && n == 1);

	n = payload_count("4hello", 6, 5, &err);
	TEST_ASSERT(err == 1 && n == 0);

	TEST_ASSERT(eio_payload_init(&it, U8("4hello"), 6, 0) == 0);
	TEST_ASSERT(eio_payload_next(&it, &pkt) == EIO_NEXT_ERROR);
	eio_payload_cleanup(&it);

	return (0);
}

static int
test_payload_encode(void)
{
	struct sbuf	sb;

	sbuf_init(&sb);
	TEST_ASSERT(eio_payload_append(&sb, EIO_PACKET_MESSAGE, 0, "hello",
	    5));
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len, "4hello"));
	TEST_ASSERT(eio_payload_append(&sb, EIO_PACKET_MESSAGE, 1,
	    "\x01\x02\x03\x04", 4));
	TEST_ASSERT(eio_payload_append(&sb, EIO_PACKET_PING, 0, NULL, 0));
	TEST_ASSERT(eio_payload_append(&sb, EIO_PACKET_MESSAGE, 1, NULL, 0));
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len,
	    "4hello\x1e" "bAQIDBA==\x1e" "2\x1e" "b"));

	/* Rejected without touching the buffer. */
	TEST_ASSERT(eio_payload_append(&sb, EIO_PACKET_PING, 1, "x", 1) == 0);
	TEST_ASSERT(eio_payload_append(&sb, 7, 0, "x", 1) == 0);
	TEST_ASSERT(eio_payload_append(&sb, EIO_PACKET_MESSAGE, 0, "a\x1e",
	    2) == 0);
	TEST_ASSERT(sb.len == 20);

	sbuf_reset(&sb);
	TEST_ASSERT(eio_payload_append(&sb, EIO_PACKET_NOOP, 0, NULL, 0));
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len, "6"));
	sbuf_free(&sb);

	return (0);
}

static int
test_payload_roundtrip(void)
{
	struct sbuf		sb;
	struct eio_payload	it;
	struct eio_packet	pkt;
	uint8_t			bin[300];
	size_t			i;
	int			n;

	sbuf_init(&sb);
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)(i * 7);
	for (i = 0; i < 100; i++) {
		if (i % 3 == 0)
			TEST_ASSERT(eio_payload_append(&sb, EIO_PACKET_MESSAGE,
			    1, bin, i));
		else
			TEST_ASSERT(eio_payload_append(&sb, EIO_PACKET_MESSAGE,
			    0, "2[\"\xc3\xa9\"]", 7));
	}

	TEST_ASSERT(eio_payload_init(&it, sb.data, sb.len, sb.len));
	n = 0;
	while (eio_payload_next(&it, &pkt) == EIO_NEXT_PACKET) {
		TEST_ASSERT(pkt.type == EIO_PACKET_MESSAGE);
		if (n % 3 == 0) {
			TEST_ASSERT(pkt.binary && pkt.len == (size_t)n);
			TEST_ASSERT(n == 0 || memcmp(pkt.data, bin, (size_t)n) == 0);
		} else
			TEST_ASSERT(TEST_MEMEQ(pkt.data, pkt.len,
			    "2[\"\xc3\xa9\"]"));
		n++;
	}
	TEST_ASSERT(n == 100);
	TEST_ASSERT(eio_payload_next(&it, &pkt) == EIO_NEXT_END);
	eio_payload_cleanup(&it);
	sbuf_free(&sb);

	return (0);
}

static int
test_open_packet(void)
{
	static const char *const ws[] = { "websocket" };
	struct sbuf	sb;

	sbuf_init(&sb);
	eio_open_packet(&sb, "lv_VI97HAXpY6yYWAAAC", NULL, 0, 25000, 20000,
	    1000000);
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len,
	    "0{\"sid\":\"lv_VI97HAXpY6yYWAAAC\",\"upgrades\":[],"
	    "\"pingInterval\":25000,\"pingTimeout\":20000,"
	    "\"maxPayload\":1000000}"));

	sbuf_reset(&sb);
	eio_open_packet(&sb, "a\"b", ws, 1, 300, 200, 1000000);
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len,
	    "0{\"sid\":\"a\\\"b\",\"upgrades\":[\"websocket\"],"
	    "\"pingInterval\":300,\"pingTimeout\":200,"
	    "\"maxPayload\":1000000}"));
	sbuf_free(&sb);

	return (0);
}

int
main(void)
{
	TEST_RUN(test_frame_text);
	TEST_RUN(test_frame_types);
	TEST_RUN(test_frame_errors);
	TEST_RUN(test_frame_binary);
	TEST_RUN(test_frame_encode);
	TEST_RUN(test_payload_decode);
	TEST_RUN(test_payload_binary);
	TEST_RUN(test_payload_errors);
	TEST_RUN(test_payload_max);
	TEST_RUN(test_payload_encode);
	TEST_RUN(test_payload_roundtrip);
	TEST_RUN(test_open_packet);

	return (TEST_REPORT("test_eio"));
}
