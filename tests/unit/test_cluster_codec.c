/*
 * test_cluster_codec.c: unit tests for src/sio/cluster/cluster_codec.c
 * and cluster_mp.c, the Redis adapter's wire format. The byte strings
 * captured in ../shared/docs/redis-adapter.md (sections 3, 4 and 7) are
 * written here as the document writes them (hex bytes and "quoted"
 * strings, see mp()).
 *
 * Run with --driver, the program is the C end of the Node cross-check
 * (tests/integ/50-cluster-codec.test.mjs): one command a line on stdin,
 * one JSON answer a line on stdout (see driver()).
 */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_codec.h"
#include "test_help.h"

#define U8(s)	((const uint8_t *)(s))

static struct sbuf	 mpbuf;

static const uint8_t	*mp(const char *, size_t *);
static int		 bdec(const char *, struct cc_bcast *);
static int		 text_is(const struct cc_bcast *, const char *);
static int		 data_is(const char *, const char *);
static int		 rejects(const char *);
static int		 roundtrip(const char *);
static int		 hexval(int);

static int	test_captured_room(void);
static int	test_captured_binary(void);
static int	test_emitter(void);
static int	test_flags(void);
static int	test_nsp(void);
static int	test_rooms(void);
static int	test_numbers(void);
static int	test_big_ints(void);
static int	test_dates(void);
static int	test_strings(void);
static int	test_maps(void);
static int	test_ext(void);
static int	test_rejects(void);
static int	test_depth(void);
static int	test_encode_captured(void);
static int	test_encode_numbers(void);
static int	test_encode_errors(void);
static int	test_roundtrips(void);
static int	test_req_json(void);
static int	test_req_emitter(void);
static int	test_req_bcast(void);
static int	test_req_ack(void);
static int	test_req_replies(void);
static int	test_req_rejects(void);
static int	test_reuse(void);

static int	driver(void);

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/*
 * Bytes from the document's notation: hex pairs (spaces anywhere) and
 * "strings" for their bytes: `93 a6"HMEnjj" c4 03 010203`.
 */
static const uint8_t *
mp(const char *s, size_t *len)
{
	sbuf_reset(&mpbuf);
	while (*s != '\0') {
		if (*s == ' ') {
			s++;
		} else if (*s == '"') {
			for (s++; *s != '"' && *s != '\0'; s++)
				sbuf_append_byte(&mpbuf, (uint8_t)*s);
			if (*s == '"')
				s++;
		} else {
			if (hexval(s[0]) < 0 || hexval(s[1]) < 0)
				abort();
			sbuf_append_byte(&mpbuf,
			    (uint8_t)(hexval(s[0]) << 4 | hexval(s[1])));
			s += 2;
		}
	}
	sbuf_reserve(&mpbuf, 1);
	*len = mpbuf.len;

	return (mpbuf.data);
}

static int
bdec(const char *notation, struct cc_bcast *b)
{
	const uint8_t	*p;
	size_t		 len;

	p = mp(notation, &len);
	return (cc_bcast_decode(p, len, b));
}

static int
text_is(const struct cc_bcast *b, const char *text)
{
	if (!TEST_MEMEQ(b->packet, b->packet_len, text)) {
		printf("  packet: %.*s\n  wanted: %s\n", (int)b->packet_len,
		    (const char *)b->packet, text);
		return (0);
	}
	return (1);
}

/* A broadcast whose packet data is `data` (notation) gives text. */
static int
data_is(const char *data, const char *text)
{
	struct cc_bcast	b;
	char		buf[8192];
	int		ok;

	snprintf(buf, sizeof(buf), "93 a1\"u\" 83 a4\"type\" 02 a4\"data\" %s"
	    " a3\"nsp\" a1\"/\" 83 a5\"rooms\" 90 a6\"except\" 90 a5\"flags\""
	    " 80", data);
	cc_bcast_init(&b);
	ok = bdec(buf, &b) == 0 && text_is(&b, text);
	cc_bcast_free(&b);

	return (ok);
}

static int
rejects(const char *notation)
{
	struct cc_bcast	b;
	int		rc;

	cc_bcast_init(&b);
	rc = bdec(notation, &b);
	cc_bcast_free(&b);

	return (rc == -1);
}

/* encode(decode(x)) == x for a notepack-shaped broadcast x. */
static int
roundtrip(const char *notation)
{
	struct cc_bcast	 b;
	struct sbuf	 out;
	const uint8_t	*p;
	size_t		 len;
	int		 ok;

	cc_bcast_init(&b);
	sbuf_init(&out);
	p = mp(notation, &len);
	ok = cc_bcast_decode(p, len, &b) == 0 &&
	    cc_bcast_encode(&out, &b) == 0 && out.len == len &&
	    memcmp(out.data, p, len) == 0;
	if (!ok)
		printf("  round trip of %s failed\n", notation);
	sbuf_free(&out);
	cc_bcast_free(&b);

	return (ok);
}

/* Section 3: io.to('r1').emit('ev2','to-r1') from A, 63 bytes. */
static int
test_captured_room(void)
{
	struct cc_bcast	 b;
	const char	*cap = "93 a6\"HMEnjj\" 83 a4\"type\" 02 a4\"data\" 92 "
	    "a3\"ev2\" a5\"to-r1\" a3\"nsp\" a1\"/\"   83 a5\"rooms\" 91 "
	    "a2\"r1\" a6\"except\" 90 a5\"flags\" 80";
	size_t		 len;

	(void)mp(cap, &len);
	TEST_ASSERT(len == 63);
	cc_bcast_init(&b);
	TEST_ASSERT(bdec(cap, &b) == 0);
	TEST_ASSERT(strcmp(b.uid, "HMEnjj") == 0);
	TEST_ASSERT(strcmp(b.nsp, "/") == 0);
	TEST_ASSERT(text_is(&b, "2[\"ev2\",\"to-r1\"]"));
	TEST_ASSERT(b.natt == 0);
	TEST_ASSERT(b.nrooms == 1 && strcmp(b.rooms[0], "r1") == 0);
	TEST_ASSERT(b.nexcept == 0);
	TEST_ASSERT(b.flags.volatile_ == 0 && b.flags.compress == -1 &&
	    b.flags.timeout == -1 && b.flags.expect_single == 0);
	cc_bcast_free(&b);
	TEST_ASSERT(roundtrip(cap));

	return (0);
}

/* Section 3: io.emit('bin', Buffer[1,2,3], {n: Uint8Array[ff,00]}). */
static int
test_captured_binary(void)
{
	struct cc_bcast	 b;
	const char	*cap = "93 a6\"HMEnjj\" 83 a4\"type\" 02 a4\"data\" 93 "
	    "a3\"bin\" c4 03 010203 81 a1\"n\" c4 02 ff00 a3\"nsp\" a1\"/\" "
	    "83 a5\"rooms\" 90 a6\"except\" 90 a5\"flags\" 80";

	cc_bcast_init(&b);
	TEST_ASSERT(bdec(cap, &b) == 0);
	TEST_ASSERT(text_is(&b, "52-[\"bin\",{\"_placeholder\":true,\"num\":0},"
	    "{\"n\":{\"_placeholder\":true,\"num\":1}}]"));
	TEST_ASSERT(b.natt == 2);
	TEST_ASSERT(b.att[0].len == 3 && memcmp(b.att[0].data, "\1\2\3", 3) == 0);
	TEST_ASSERT(b.att[1].len == 2 && memcmp(b.att[1].data, "\xff", 2) == 0);
	/* The attachments point into the message. */
	TEST_ASSERT(b.att[0].data > mpbuf.data &&
	    b.att[0].data < mpbuf.data + mpbuf.len);
	cc_bcast_free(&b);
	TEST_ASSERT(roundtrip(cap));

	/* In /admin: "5<n>-/admin,[...]". */
	TEST_ASSERT(bdec("93 a1\"u\" 83 a4\"type\" 02 a4\"data\" 92 a1\"e\" "
	    "c4 00 a3\"nsp\" a6\"/admin\" 80", &b) == 0);
	TEST_ASSERT(text_is(&b, "51-/admin,[\"e\",{\"_placeholder\":true,"
	    "\"num\":0}]"));
	TEST_ASSERT(b.natt == 1 && b.att[0].len == 0);
	cc_bcast_free(&b);

	return (0);
}

/*
 * Section 3: the emitter's layout, uid "emitter", opts {rooms, flags,
 * except}: em.to('r2').except('r3').volatile.emit('e2',1), and
 * em.emit('e1','x',Buffer[09,08]).
 */
static int
test_emitter(void)
{
	struct cc_bcast	b;

	cc_bcast_init(&b);
	TEST_ASSERT(bdec("93 a7\"emitter\" 83 a4\"type\" 02 a4\"data\" 92 "
	    "a2\"e2\" 01 a3\"nsp\" a1\"/\" 83 a5\"rooms\" 91 a2\"r2\" "
	    "a5\"flags\" 81 a8\"volatile\" c3 a6\"except\" 91 a2\"r3\"",
	    &b) == 0);
	TEST_ASSERT(strcmp(b.uid, "emitter") == 0);
	TEST_ASSERT(text_is(&b, "2[\"e2\",1]"));
	TEST_ASSERT(b.nrooms == 1 && strcmp(b.rooms[0], "r2") == 0);
	TEST_ASSERT(b.nexcept == 1 && strcmp(b.except[0], "r3") == 0);
	TEST_ASSERT(b.flags.volatile_ == 1 && b.flags.compress == -1);

	TEST_ASSERT(bdec("93 a7\"emitter\" 83 a4\"type\" 02 a4\"data\" 93 "
	    "a2\"e1\" a1\"x\" c4 02 0908 a3\"nsp\" a1\"/\" 83 a5\"rooms\" 90 "
	    "a5\"flags\" 80 a6\"except\" 90", &b) == 0);
	TEST_ASSERT(text_is(&b, "51-[\"e1\",\"x\",{\"_placeholder\":true,"
	    "\"num\":0}]"));
	TEST_ASSERT(b.natt == 1 && b.att[0].len == 2 &&
	    memcmp(b.att[0].data, "\x09\x08", 2) == 0);
	cc_bcast_free(&b);

	return (0);
}

/* The observed flags: {}, volatile+compress, timeout, single response. */
static int
test_flags(void)
{
	struct cc_bcast	 b;
	const char	*fmt = "93 a1\"u\" 83 a4\"type\" 02 a4\"data\" 91 a1\"e\" "
	    "a3\"nsp\" a1\"/\" 83 a5\"rooms\" 90 a6\"except\" 90 a5\"flags\" ";
	char		 buf[512];

	cc_bcast_init(&b);
	snprintf(buf, sizeof(buf), "%s82 a8\"volatile\" c3 a8\"compress\" c2",
	    fmt);
	TEST_ASSERT(bdec(buf, &b) == 0);
	TEST_ASSERT(b.flags.volatile_ == 1 && b.flags.compress == 0);
	TEST_ASSERT(roundtrip(buf));
	snprintf(buf, sizeof(buf), "%s81 a7\"timeout\" cd 05dc", fmt);
	TEST_ASSERT(bdec(buf, &b) == 0);
	TEST_ASSERT(b.flags.timeout == 1500 && b.flags.volatile_ == 0);
	TEST_ASSERT(roundtrip(buf));
	snprintf(buf, sizeof(buf), "%s81 b4\"expectSingleResponse\" c3", fmt);
	TEST_ASSERT(bdec(buf, &b) == 0);
	TEST_ASSERT(b.flags.expect_single == 1);
	TEST_ASSERT(roundtrip(buf));
	/* JS truthiness; unknown flags ignored; flags absent or nil. */
	snprintf(buf, sizeof(buf), "%s83 a8\"volatile\" 01 a5\"local\" c3 "
	    "a8\"compress\" a0", fmt);
	TEST_ASSERT(bdec(buf, &b) == 0);
	TEST_ASSERT(b.flags.volatile_ == 1 && b.flags.compress == 0);
	snprintf(buf, sizeof(buf), "%sc0", fmt);
	TEST_ASSERT(bdec(buf, &b) == 0 && b.flags.volatile_ == 0);
	cc_bcast_free(&b);

	return (0);
}

static int
test_nsp(void)
{
	struct cc_bcast	b;

	cc_bcast_init(&b);
	/* No nsp: "/" (Node defaults it). */
	TEST_ASSERT(bdec("93 a1\"u\" 82 a4\"type\" 02 a4\"data\" 91 a1\"e\" "
	    "80", &b) == 0);
	TEST_ASSERT(strcmp(b.nsp, "/") == 0 && text_is(&b, "2[\"e\"]"));
	TEST_ASSERT(bdec("93 a1\"u\" 83 a3\"nsp\" a6\"/admin\" a4\"type\" 02 "
	    "a4\"data\" 92 a1\"e\" c0 80", &b) == 0);
	TEST_ASSERT(strcmp(b.nsp, "/admin") == 0);
	TEST_ASSERT(text_is(&b, "2/admin,[\"e\",null]"));
	/* A uid that is not a string is nobody's. */
	TEST_ASSERT(bdec("93 01 82 a4\"type\" 02 a4\"data\" 91 a1\"e\" 80",
	    &b) == 0);
	TEST_ASSERT(strcmp(b.uid, "") == 0);
	/* An nsp that is not a string; a type other than 2; bad data. */
	TEST_ASSERT(bdec("93 a1\"u\" 83 a3\"nsp\" 01 a4\"type\" 02 "
	    "a4\"data\" 91 a1\"e\" 80", &b) == -1);
	TEST_ASSERT(bdec("93 a1\"u\" 82 a4\"type\" 05 a4\"data\" 91 a1\"e\" "
	    "80", &b) == -1);
	TEST_ASSERT(bdec("93 a1\"u\" 81 a4\"data\" 91 a1\"e\" 80", &b) == -1);
	TEST_ASSERT(bdec("93 a1\"u\" 82 a4\"type\" 02 a4\"data\" 90 80",
	    &b) == -1);
	TEST_ASSERT(bdec("93 a1\"u\" 82 a4\"type\" 02 a4\"data\" a1\"e\" 80",
	    &b) == -1);
	/* Extra elements after opts are ignored, as destructuring does. */
	TEST_ASSERT(bdec("94 a1\"u\" 82 a4\"type\" 02 a4\"data\" 91 a1\"e\" "
	    "80 c0", &b) == 0);
	/* Not an array of 3 at least; opts not a map. */
	TEST_ASSERT(bdec("92 a1\"u\" 82 a4\"type\" 02 a4\"data\" 91 a1\"e\"",
	    &b) == -1);
	TEST_ASSERT(bdec("93 a1\"u\" 82 a4\"type\" 02 a4\"data\" 91 a1\"e\" "
	    "c0", &b) == -1);
	TEST_ASSERT(bdec("83 a1\"u\" 01 a1\"v\" 02 a1\"w\" 03", &b) == -1);
	cc_bcast_free(&b);

	return (0);
}

/* Rooms: strings, numbers as their decimal string, several, nil. */
static int
test_rooms(void)
{
	struct cc_bcast	 b;
	const char	*pre = "93 a1\"u\" 82 a4\"type\" 02 a4\"data\" 91 "
	    "a1\"e\" ";
	char		 buf[512];

	cc_bcast_init(&b);
	snprintf(buf, sizeof(buf), "%s82 a5\"rooms\" 94 a2\"r1\" 07 d0 85 "
	    "cb 3ff8000000000000 a6\"except\" 92 a2\"r3\" cf "
	    "ffffffffffffffff", pre);
	TEST_ASSERT(bdec(buf, &b) == 0);
	TEST_ASSERT(b.nrooms == 4);
	TEST_ASSERT(strcmp(b.rooms[0], "r1") == 0);
	TEST_ASSERT(strcmp(b.rooms[1], "7") == 0);
	TEST_ASSERT(strcmp(b.rooms[2], "-123") == 0);
	TEST_ASSERT(strcmp(b.rooms[3], "1.5") == 0);
	TEST_ASSERT(b.nexcept == 2 && strcmp(b.except[0], "r3") == 0);
	TEST_ASSERT(strcmp(b.except[1], "18446744073709552000") == 0);
	/* No rooms, nil rooms: everyone. */
	snprintf(buf, sizeof(buf), "%s81 a5\"rooms\" c0", pre);
	TEST_ASSERT(bdec(buf, &b) == 0 && b.nrooms == 0 && b.rooms == NULL);
	/* Rooms that are not strings or numbers, or hold a NUL. */
	snprintf(buf, sizeof(buf), "%s81 a5\"rooms\" 91 c3", pre);
	TEST_ASSERT(bdec(buf, &b) == -1);
	snprintf(buf, sizeof(buf), "%s81 a5\"rooms\" 91 a3\"a\" 00 \"b\"",
	    pre);
	TEST_ASSERT(bdec(buf, &b) == -1);
	snprintf(buf, sizeof(buf), "%s81 a6\"except\" a2\"r1\"", pre);
	TEST_ASSERT(bdec(buf, &b) == -1);
	/* A room name that is not UTF-8 is what JS makes of it. */
	snprintf(buf, sizeof(buf), "%s81 a5\"rooms\" 91 a3\"a\" ff \"b\"",
	    pre);
	TEST_ASSERT(bdec(buf, &b) == 0);
	TEST_ASSERT(strcmp(b.rooms[0], "a\xef\xbf\xbd" "b") == 0);
	cc_bcast_free(&b);

	return (0);
}

/* Numbers as JS prints them: 0.1, 1.5, 1e21, -0, NaN, float32. */
static int
test_numbers(void)
{
	TEST_ASSERT(data_is("93 a1\"e\" cb 3fb999999999999a cb "
	    "3ff8000000000000", "2[\"e\",0.1,1.5]"));
	TEST_ASSERT(data_is("94 a1\"e\" cb 444b1ae4d6e2ef50 cb "
	    "8000000000000000 cb 3ff0000000000000",
	    "2[\"e\",1e+21,0,1]"));
	TEST_ASSERT(data_is("94 a1\"e\" cb 7ff8000000000000 cb "
	    "7ff0000000000000 cb fff0000000000000", "2[\"e\",null,null,null]"));
	/* float32 0.1 is the double 0.10000000149011612. */
	TEST_ASSERT(data_is("92 a1\"e\" ca 3dcccccd",
	    "2[\"e\",0.10000000149011612]"));
	TEST_ASSERT(data_is("93 a1\"e\" cb 3eb0c6f7a0b5ed8d cb c4e6a87b780a6319",
	    "2[\"e\",0.000001,-8.560001e+23]"));
	TEST_ASSERT(data_is("93 a1\"e\" cb 3e7ad7f29abcaf48 cb 4415af1d78b58c40",
	    "2[\"e\",1e-7,100000000000000000000]"));
	/* Every integer format. */
	TEST_ASSERT(data_is("9c a1\"e\" 00 7f cc 80 cd 0100 ce 00010000 "
	    "cf 0000000100000000 ff e0 d0 80 d1 8000 d2 80000000",
	    "2[\"e\",0,127,128,256,65536,4294967296,-1,-32,-128,-32768,"
	    "-2147483648]"));
	TEST_ASSERT(data_is("93 a1\"e\" c2 c3", "2[\"e\",false,true]"));

	return (0);
}

/* uint64 max, int64 min, 2^53 + 1: the doubles JS holds. */
static int
test_big_ints(void)
{
	TEST_ASSERT(data_is("92 a1\"e\" cf ffffffffffffffff",
	    "2[\"e\",18446744073709552000]"));
	TEST_ASSERT(data_is("92 a1\"e\" d3 8000000000000000",
	    "2[\"e\",-9223372036854776000]"));
	TEST_ASSERT(data_is("93 a1\"e\" cf 0020000000000001 d3 "
	    "ffe0000000000001", "2[\"e\",9007199254740992,-9007199254740991]"));
	TEST_ASSERT(data_is("92 a1\"e\" d3 7fffffffffffffff",
	    "2[\"e\",9223372036854776000]"));

	return (0);
}

/* ext -1 (timestamp 32/64/96) and the legacy d7 00: toJSON()'s text. */
static int
test_dates(void)
{
	/* 1700000000 s. */
	TEST_ASSERT(data_is("92 a1\"e\" d6 ff 6553f100",
	    "2[\"e\",\"2023-11-14T22:13:20.000Z\"]"));
	/* 64-bit: 1700000000 s + 123456789 ns -> .123 (truncated). */
	TEST_ASSERT(data_is("92 a1\"e\" d7 ff 1d6f3454 6553f100",
	    "2[\"e\",\"2023-11-14T22:13:20.123Z\"]"));
	/* 96-bit, negative seconds: -1 s + 500 ms. */
	TEST_ASSERT(data_is("92 a1\"e\" c7 0c ff 1dcd6500 ffffffff ffffffff",
	    "2[\"e\",\"1969-12-31T23:59:59.500Z\"]"));
	/* 96-bit: past 2^32 s, and before 1970. */
	TEST_ASSERT(data_is("92 a1\"e\" c7 0c ff 00000000 00000001 00000000",
	    "2[\"e\",\"2106-02-07T06:28:16.000Z\"]"));
	TEST_ASSERT(data_is("92 a1\"e\" c7 0c ff 00000000 fffffffe ffffffff",
	    "2[\"e\",\"1833-11-24T17:31:43.000Z\"]"));
	/* The ends of a Date's range: expanded years; past them null. */
	TEST_ASSERT(data_is("92 a1\"e\" d7 00 001eb208 c2dc0000",
	    "2[\"e\",\"+275760-09-13T00:00:00.000Z\"]"));
	TEST_ASSERT(data_is("92 a1\"e\" d7 00 ffe14df7 3d240000",
	    "2[\"e\",\"-271821-04-20T00:00:00.000Z\"]"));
	TEST_ASSERT(data_is("92 a1\"e\" d7 00 001eb208 c2dc0001",
	    "2[\"e\",null]"));
	/* Beyond what a Date holds: Invalid Date, null in JSON. */
	TEST_ASSERT(data_is("92 a1\"e\" c7 0c ff 00000000 7fffffff 00000000",
	    "2[\"e\",null]"));
	/* Legacy custom date: ms in 64 bits. */
	TEST_ASSERT(data_is("92 a1\"e\" d7 00 00000000 00000000",
	    "2[\"e\",\"1970-01-01T00:00:00.000Z\"]"));
	TEST_ASSERT(data_is("92 a1\"e\" d7 00 00000000 000003e9",
	    "2[\"e\",\"1970-01-01T00:00:01.001Z\"]"));
	/* Years 0 and -1 of the proleptic calendar. */
	TEST_ASSERT(data_is("92 a1\"e\" d7 00 ffffc775 90fba000",
	    "2[\"e\",\"0000-01-01T00:00:00.000Z\"]"));
	TEST_ASSERT(data_is("92 a1\"e\" d7 00 ffffc76e 394a7400",
	    "2[\"e\",\"-000001-01-01T00:00:00.000Z\"]"));
	/* ext8 -1 of another length: refused (notepack.io reads 12). */
	TEST_ASSERT(rejects("93 a1\"u\" 82 a4\"type\" 02 a4\"data\" 92 "
	    "a1\"e\" c7 04 ff 00000000 80"));

	return (0);
}

static int
test_strings(void)
{
	/* JSON.stringify's escapes, UTF-8 as it is. */
	TEST_ASSERT(data_is("92 a1\"e\" a9 22 5c 0a 09 01 \"/\" 7f c3a9",
	    "2[\"e\",\"\\\"\\\\\\n\\t\\u0001/\x7f\xc3\xa9\"]"));
	/* Bad UTF-8: U+FFFD for each maximal invalid part. */
	TEST_ASSERT(data_is("92 a1\"e\" a6 ff \"a\" e282 \"b\" ed",
	    "2[\"e\",\"\xef\xbf\xbd" "a\xef\xbf\xbd" "b\xef\xbf\xbd\"]"));
	/* A UTF-8 surrogate: three replacements. */
	TEST_ASSERT(data_is("92 a1\"e\" a3 eda080",
	    "2[\"e\",\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"]"));
	/* str 8/16/32 headers. */
	TEST_ASSERT(data_is("94 a1\"e\" d9 01 \"x\" da 0001 \"y\" db 00000001 "
	    "\"z\"", "2[\"e\",\"x\",\"y\",\"z\"]"));

	return (0);
}

/* Maps as JS objects: key order, duplicates, non-string keys, nesting. */
static int
test_maps(void)
{
	/* Integer-like keys first, ascending; then insertion order. */
	TEST_ASSERT(data_is("92 a1\"e\" 84 a1\"b\" 01 a1\"2\" 02 a1\"a\" 03 "
	    "a1\"1\" 04", "2[\"e\",{\"1\":4,\"2\":2,\"b\":1,\"a\":3}]"));
	/* A key again: first place, last value; "__proto__" is no key. */
	TEST_ASSERT(data_is("92 a1\"e\" 84 a1\"a\" 01 a1\"b\" 02 a1\"a\" 03 "
	    "a9\"__proto__\" 81 a1\"x\" 01", "2[\"e\",{\"a\":3,\"b\":2}]"));
	/* Keys: numbers, nil, booleans, arrays, maps, bins, as JS. */
	TEST_ASSERT(data_is("92 a1\"e\" 87 01 a1\"i\" cb 3ff8000000000000 "
	    "a1\"f\" c0 a1\"n\" c3 a1\"t\" 92 01 c0 a1\"a\" 80 a1\"m\" "
	    "c4 01 \"k\" a1\"b\"", "2[\"e\",{\"1\":\"i\",\"1.5\":\"f\","
	    "\"null\":\"n\",\"true\":\"t\",\"1,\":\"a\",\"[object Object]\":"
	    "\"m\",\"k\":\"b\"}]"));
	/* "01" and 4294967295 are no array indexes. */
	TEST_ASSERT(data_is("92 a1\"e\" 83 a2\"01\" 01 aa\"4294967295\" 02 "
	    "aa\"4294967294\" 03", "2[\"e\",{\"4294967294\":3,\"01\":1,"
	    "\"4294967295\":2}]"));
	/* undefined (d4 00 00): dropped from objects, null in arrays. */
	TEST_ASSERT(data_is("93 a1\"e\" 82 a1\"u\" d4 00 00 a1\"v\" 01 "
	    "d4 00 00", "2[\"e\",{\"v\":1},null]"));
	/* Nested maps and arrays, map 16 / array 16. */
	TEST_ASSERT(data_is("92 a1\"e\" de 0001 a1\"a\" dc 0002 81 a1\"b\" "
	    "91 80 90", "2[\"e\",{\"a\":[{\"b\":[{}]},[]]}]"));
	/* Placeholders are numbered in property order. */
	TEST_ASSERT(data_is("92 a1\"e\" 82 a1\"z\" c4 01 aa a1\"0\" c4 01 bb",
	    "52-[\"e\",{\"0\":{\"_placeholder\":true,\"num\":0},"
	    "\"z\":{\"_placeholder\":true,\"num\":1}}]"));
	/* A Date key is refused (its string depends on the time zone). */
	TEST_ASSERT(rejects("93 a1\"u\" 82 a4\"type\" 02 a4\"data\" 92 "
	    "a1\"e\" 81 d6 ff 00000000 01 80"));
	/* Many keys (the dedup sorts). */
	TEST_ASSERT(data_is("92 a1\"e\" 8f a1\"o\" 00 a1\"n\" 00 a1\"m\" 00 "
	    "a1\"l\" 00 a1\"k\" 00 a1\"j\" 00 a1\"i\" 00 a1\"h\" 00 a1\"g\" 00 "
	    "a1\"f\" 00 a1\"e\" 00 a1\"d\" 00 a1\"c\" 00 a1\"b\" 00 a1\"o\" 01",
	    "2[\"e\",{\"o\":1,\"n\":0,\"m\":0,\"l\":0,\"k\":0,\"j\":0,\"i\":0,"
	    "\"h\":0,\"g\":0,\"f\":0,\"e\":0,\"d\":0,\"c\":0,\"b\":0}]"));

	return (0);
}

/* ext: ArrayBuffer (0) is binary, others [type, Buffer]. */
static int
test_ext(void)
{
	TEST_ASSERT(data_is("92 a1\"e\" c7 02 00 abcd",
	    "51-[\"e\",{\"_placeholder\":true,\"num\":0}]"));
	TEST_ASSERT(data_is("92 a1\"e\" d5 05 abcd",
	    "51-[\"e\",[5,{\"_placeholder\":true,\"num\":0}]]"));
	TEST_ASSERT(data_is("93 a1\"e\" d4 ff 01 c8 0001 fe 02",
	    "52-[\"e\",[-1,{\"_placeholder\":true,\"num\":0}],"
	    "[-2,{\"_placeholder\":true,\"num\":1}]]"));
	TEST_ASSERT(data_is("92 a1\"e\" d8 07 00000000000000000000000000000000",
	    "51-[\"e\",[7,{\"_placeholder\":true,\"num\":0}]]"));

	return (0);
}

/* Section 2: what crashed Node servers, and other bad input. */
static int
test_rejects(void)
{
	TEST_ASSERT(rejects("c1"));
	TEST_ASSERT(rejects("93a178"));
	TEST_ASSERT(rejects("93a1780102"));
	TEST_ASSERT(rejects(""));
	/* Trailing bytes. */
	TEST_ASSERT(rejects("93 a1\"u\" 82 a4\"type\" 02 a4\"data\" 91 "
	    "a1\"e\" 80 00"));
	/* Truncated at every byte. */
	TEST_ASSERT(rejects("93 a1\"u\" 82 a4\"type\" 02 a4\"data\" 91 "
	    "a1\"e\""));
	TEST_ASSERT(rejects("93 a1\"u\" 82 a4\"type\" 02 a4\"data\" 91 a2\"e\""));
	TEST_ASSERT(rejects("cb 3ff8"));
	TEST_ASSERT(rejects("da 00"));
	/* Sizes beyond the input. */
	TEST_ASSERT(rejects("dd ffffffff 00"));
	TEST_ASSERT(rejects("df 7fffffff 00 00"));
	TEST_ASSERT(rejects("c6 ffffffff 00"));
	TEST_ASSERT(rejects("db 80000000 41"));
	TEST_ASSERT(rejects("c9 ffffffff 05 00"));

	return (0);
}

static int
test_depth(void)
{
	char	buf[1024], *p;
	int	i;

	/* 32 containers nested in all (message, packet, data and 29). */
	p = buf;
	p += sprintf(p, "93 a1\"u\" 82 a4\"type\" 02 a4\"data\" 92 a1\"e\" ");
	for (i = 0; i < 28; i++)
		p += sprintf(p, "91 ");
	p += sprintf(p, "90 80");
	TEST_ASSERT(!rejects(buf));
	p = buf;
	p += sprintf(p, "93 a1\"u\" 82 a4\"type\" 02 a4\"data\" 92 a1\"e\" ");
	for (i = 0; i < 29; i++)
		p += sprintf(p, "91 ");
	p += sprintf(p, "90 80");
	TEST_ASSERT(rejects(buf));

	return (0);
}

/* Section 7: the C node's broadcast, 72 bytes, from korio's forms. */
static int
test_encode_captured(void)
{
	struct cc_bcast	 b;
	struct cc_bin	 att = { U8("\xde\xad"), 2 };
	const char	*rooms[] = { "r1" }, *except[] = { "r3" };
	const char	*text = "51-[\"fromC\",\"hello\","
	    "{\"_placeholder\":true,\"num\":0}]";
	struct sbuf	 out;
	const uint8_t	*want;
	size_t		 len;

	cc_bcast_init(&b);
	b.uid = "cnode1";
	b.packet = U8(text);
	b.packet_len = strlen(text);
	b.att = &att;
	b.natt = 1;
	b.rooms = rooms;
	b.nrooms = 1;
	b.except = except;
	b.nexcept = 1;
	sbuf_init(&out);
	TEST_ASSERT(cc_bcast_encode(&out, &b) == 0);
	want = mp("93 a6\"cnode1\" 83 a4\"type\" 02 a4\"data\" 93 a5\"fromC\" "
	    "a5\"hello\" c4 02 dead a3\"nsp\" a1\"/\" 83 a5\"rooms\" 91 "
	    "a2\"r1\" a6\"except\" 91 a2\"r3\" a5\"flags\" 80", &len);
	TEST_ASSERT(len == 72);
	TEST_ASSERT(out.len == len && memcmp(out.data, want, len) == 0);

	/* An nsp, flags, appended to what out holds. */
	sbuf_reset(&out);
	sbuf_append_byte(&out, 'X');
	text = "2/admin,[\"ev\",{\"a\":[true,null]}]";
	b.packet = U8(text);
	b.packet_len = strlen(text);
	b.natt = 0;
	b.nrooms = b.nexcept = 0;
	b.flags.volatile_ = 1;
	b.flags.compress = 0;
	b.flags.timeout = 1500;
	b.flags.expect_single = 1;
	TEST_ASSERT(cc_bcast_encode(&out, &b) == 0);
	want = mp("\"X\" 93 a6\"cnode1\" 83 a4\"type\" 02 a4\"data\" 92 "
	    "a2\"ev\" 81 a1\"a\" 92 c3 c0 a3\"nsp\" a6\"/admin\" 83 "
	    "a5\"rooms\" 90 a6\"except\" 90 a5\"flags\" 84 a8\"volatile\" c3 "
	    "a8\"compress\" c2 a7\"timeout\" cd 05dc "
	    "b4\"expectSingleResponse\" c3", &len);
	TEST_ASSERT(out.len == len && memcmp(out.data, want, len) == 0);
	sbuf_free(&out);

	return (0);
}

/* JSON numbers as notepack.io writes the JS number. */
static int
test_encode_numbers(void)
{
	struct cc_bcast	 b;
	struct sbuf	 out;
	const uint8_t	*want;
	size_t		 len;
	const char	*text = "2[\"e\",0,-0,127,128,-32,-33,-129,65535,"
	    "4294967296,-2147483649,1.5,0.1,1e21,9007199254740993,"
	    "18446744073709551615,-9223372036854775808,1e300]";

	cc_bcast_init(&b);
	b.uid = "u";
	b.packet = U8(text);
	b.packet_len = strlen(text);
	sbuf_init(&out);
	TEST_ASSERT(cc_bcast_encode(&out, &b) == 0);
	want = mp("93 a1\"u\" 83 a4\"type\" 02 a4\"data\" dc 0012 a1\"e\" "
	    "00 00 7f cc 80 e0 d0 df d1 ff7f cd ffff cf 0000000100000000 "
	    "d3 ffffffff 7fffffff cb 3ff8000000000000 cb 3fb999999999999a "
	    "cb 444b1ae4d6e2ef50 cf 0020000000000000 cb 43f0000000000000 "
	    "d3 8000000000000000 cb 7e37e43c8800759c "
	    "a3\"nsp\" a1\"/\" 83 a5\"rooms\" 90 a6\"except\" 90 a5\"flags\" 80",
	    &len);
	TEST_ASSERT(out.len == len && memcmp(out.data, want, len) == 0);
	sbuf_free(&out);

	return (0);
}

static int
test_encode_errors(void)
{
	struct cc_bcast	 b;
	struct cc_bin	 att = { U8("x"), 1 };
	struct sbuf	 out;
	const char	*bad[] = {
		"2[\"e\"",			/* not JSON */
		"21[\"e\"]",			/* an ack id */
		"3[\"e\"]",			/* not an event */
		"51-[\"e\",{\"_placeholder\":true,\"num\":1}]",
		"51-[\"e\",{\"_placeholder\":true,\"num\":0.5}]",
		"51-[\"e\",{\"_placeholder\":true}]",
		NULL
	};
	size_t		 i;

	cc_bcast_init(&b);
	b.uid = "u";
	b.att = &att;
	b.natt = 1;
	sbuf_init(&out);
	for (i = 0; bad[i] != NULL; i++) {
		b.packet = U8(bad[i]);
		b.packet_len = strlen(bad[i]);
		TEST_ASSERT(cc_bcast_encode(&out, &b) == -1);
		TEST_ASSERT(out.len == 0);
	}
	/* An EVENT with attachments, a BINARY_EVENT with another count. */
	b.packet = U8("2[\"e\"]");
	b.packet_len = 6;
	TEST_ASSERT(cc_bcast_encode(&out, &b) == -1);
	b.packet = U8("52-[\"e\"]");
	b.packet_len = 8;
	TEST_ASSERT(cc_bcast_encode(&out, &b) == -1);
	b.packet = NULL;
	TEST_ASSERT(cc_bcast_encode(&out, &b) == -1);
	TEST_ASSERT(out.len == 0);
	sbuf_free(&out);

	return (0);
}

static int
test_roundtrips(void)
{
	TEST_ASSERT(roundtrip("93 a6\"HMEnjj\" 83 a4\"type\" 02 a4\"data\" 94 "
	    "a1\"e\" 83 a1\"a\" 92 c3 c2 a1\"b\" cb 3fb999999999999a a1\"c\" "
	    "c0 dc 0010 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f "
	    "d9 20 \"0123456789abcdef0123456789abcdef\" a3\"nsp\" a1\"/\" 83 "
	    "a5\"rooms\" 92 a2\"r1\" a2\"r2\" a6\"except\" 91 a2\"r3\" "
	    "a5\"flags\" 80"));
	TEST_ASSERT(roundtrip("93 a6\"HMEnjj\" 83 a4\"type\" 02 a4\"data\" 93 "
	    "a3\"bin\" c5 0100 "
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    " 81 a1\"n\" c4 02 ff00 a3\"nsp\" a6\"/admin\" 83 a5\"rooms\" 90 "
	    "a6\"except\" 90 a5\"flags\" 81 a7\"timeout\" 00"));
	TEST_ASSERT(roundtrip("93 a6\"HMEnjj\" 83 a4\"type\" 02 a4\"data\" 93 "
	    "a1\"e\" d3 ffffffff 7fffffff cf 0000000100000000 a3\"nsp\" "
	    "a1\"/\" 83 a5\"rooms\" 90 a6\"except\" 90 a5\"flags\" 80"));

	return (0);
}

/* Section 4: the JSON requests as captured. */
static int
test_req_json(void)
{
	struct cc_req	 q;
	const char	*s;

	cc_req_init(&q);
	s = "{\"uid\":\"HMEnjj\",\"requestId\":\"S6mvXx\",\"type\":1}";
	TEST_ASSERT(cc_req_decode(U8(s), strlen(s), &q) == 0);
	TEST_ASSERT(q.type == CC_REQ_ALL_ROOMS);
	TEST_ASSERT(strcmp(q.uid, "HMEnjj") == 0);
	TEST_ASSERT(strcmp(q.request_id, "S6mvXx") == 0);
	TEST_ASSERT(q.nrooms == 0 && q.ntargets == 0 && q.packet == NULL);

	s = "{\"uid\":\"HMEnjj\",\"type\":2,\"opts\":{\"rooms\":[\"r1\"],"
	    "\"except\":[]},\"rooms\":[\"j1\",\"j2\"]}";
	TEST_ASSERT(cc_req_decode(U8(s), strlen(s), &q) == 0);
	TEST_ASSERT(q.type == CC_REQ_REMOTE_JOIN && q.request_id == NULL);
	TEST_ASSERT(q.nrooms == 1 && strcmp(q.rooms[0], "r1") == 0);
	TEST_ASSERT(q.nexcept == 0);
	TEST_ASSERT(q.ntargets == 2 && strcmp(q.targets[0], "j1") == 0 &&
	    strcmp(q.targets[1], "j2") == 0);

	s = "{\"uid\":\"HMEnjj\",\"type\":3,\"opts\":{\"rooms\":[\"r1\"],"
	    "\"except\":[]},\"rooms\":[\"j1\"]}";
	TEST_ASSERT(cc_req_decode(U8(s), strlen(s), &q) == 0);
	TEST_ASSERT(q.type == CC_REQ_REMOTE_LEAVE && q.ntargets == 1);

	s = "{\"uid\":\"HMEnjj\",\"type\":4,\"opts\":{\"rooms\":[\"r1\"],"
	    "\"except\":[]},\"close\":false}";
	TEST_ASSERT(cc_req_decode(U8(s), strlen(s), &q) == 0);
	TEST_ASSERT(q.type == CC_REQ_REMOTE_DISCONNECT && q.close == 0);

	s = "{\"uid\":\"HMEnjj\",\"requestId\":\"qcOePh\",\"type\":5,"
	    "\"opts\":{\"rooms\":[\"r2\"],\"except\":[\"r3\"]}}";
	TEST_ASSERT(cc_req_decode(U8(s), strlen(s), &q) == 0);
	TEST_ASSERT(q.type == CC_REQ_REMOTE_FETCH);
	TEST_ASSERT(q.nrooms == 1 && strcmp(q.rooms[0], "r2") == 0);
	TEST_ASSERT(q.nexcept == 1 && strcmp(q.except[0], "r3") == 0);

	s = "{\"uid\":\"HMEnjj\",\"type\":6,\"data\":[\"hello\",1,\"x\"]}";
	TEST_ASSERT(cc_req_decode(U8(s), strlen(s), &q) == 0);
	TEST_ASSERT(q.type == CC_REQ_SERVER_SIDE_EMIT && q.request_id == NULL);
	TEST_ASSERT(json_array_size(json_object_get(q.json, "data")) == 3);

	s = "{\"uid\":\"HMEnjj\",\"type\":6,\"data\":[\"hello\"],"
	    "\"requestId\":\"1JkxME\"}";
	TEST_ASSERT(cc_req_decode(U8(s), strlen(s), &q) == 0);
	TEST_ASSERT(strcmp(q.request_id, "1JkxME") == 0);

	/* Replies: typeless rooms, type 6, type 8. */
	s = "{\"requestId\":\"S6mvXx\",\"rooms\":[\"YxVtvzuaoaJOKUUGAAAC\","
	    "\"r1\"]}";
	TEST_ASSERT(cc_req_decode(U8(s), strlen(s), &q) == 0);
	TEST_ASSERT(q.type == CC_REQ_NONE && q.ntargets == 2);
	TEST_ASSERT(strcmp(q.targets[1], "r1") == 0);
	s = "{\"type\":6,\"requestId\":\"1JkxME\",\"data\":\"reply-from-B\"}";
	TEST_ASSERT(cc_req_decode(U8(s), strlen(s), &q) == 0);
	TEST_ASSERT(json_is_string(json_object_get(q.json, "data")));
	s = "{\"type\":8,\"requestId\":\"h-77CQ\",\"clientCount\":3}";
	TEST_ASSERT(cc_req_decode(U8(s), strlen(s), &q) == 0);
	TEST_ASSERT(q.type == CC_REQ_BROADCAST_CLIENT_COUNT &&
	    q.client_count == 3);
	s = "{\"requestId\":\"qcOePh\",\"sockets\":[{\"id\":\"a\"}]}";
	TEST_ASSERT(cc_req_decode(U8(s), strlen(s), &q) == 0);
	TEST_ASSERT(json_array_size(json_object_get(q.json, "sockets")) == 1);
	cc_req_free(&q);

	return (0);
}

/* Section 4: the emitter's requests (no uid for 2/3/4). */
static int
test_req_emitter(void)
{
	struct cc_req	 q;
	const char	*s;

	cc_req_init(&q);
	s = "{\"type\":2,\"opts\":{\"rooms\":[\"r1\"],\"except\":[]},"
	    "\"rooms\":[\"k1\"]}";
	TEST_ASSERT(cc_req_decode(U8(s), strlen(s), &q) == 0);
	TEST_ASSERT(q.type == 2 && q.uid == NULL && q.ntargets == 1);
	s = "{\"type\":4,\"opts\":{\"rooms\":[\"r3\"],\"except\":[]},"
	    "\"close\":true}";
	TEST_ASSERT(cc_req_decode(U8(s), strlen(s), &q) == 0);
	TEST_ASSERT(q.type == 4 && q.close == 1 && q.uid == NULL);
	TEST_ASSERT(strcmp(q.rooms[0], "r3") == 0);
	s = "{\"uid\":\"emitter\",\"type\":6,\"data\":[\"hello\","
	    "\"from-emitter\"]}";
	TEST_ASSERT(cc_req_decode(U8(s), strlen(s), &q) == 0);
	TEST_ASSERT(strcmp(q.uid, "emitter") == 0);
	cc_req_free(&q);

	return (0);
}

/* Section 4: type 7, msgpack, and its encoding. */
static int
test_req_bcast(void)
{
	struct cc_req	 q;
	struct cc_bcast	 b;
	struct sbuf	 out;
	const uint8_t	*p;
	size_t		 len;
	const char	*cap = "85 a3\"uid\" a6\"HMEnjj\" a9\"requestId\" "
	    "a6\"h-77CQ\" a4\"type\" 07 a6\"packet\" 83 a4\"type\" 02 "
	    "a4\"data\" 92 a3\"ask\" 01 a3\"nsp\" a1\"/\" a4\"opts\" 83 "
	    "a5\"rooms\" 90 a6\"except\" 90 a5\"flags\" 81 a7\"timeout\" "
	    "cd 05dc";

	cc_req_init(&q);
	p = mp(cap, &len);
	TEST_ASSERT(cc_req_decode(p, len, &q) == 0);
	TEST_ASSERT(q.type == CC_REQ_BROADCAST);
	TEST_ASSERT(strcmp(q.uid, "HMEnjj") == 0);
	TEST_ASSERT(strcmp(q.request_id, "h-77CQ") == 0);
	TEST_ASSERT(TEST_MEMEQ(q.packet, q.packet_len, "2[\"ask\",1]"));
	TEST_ASSERT(q.natt == 0 && q.nrooms == 0 && q.nexcept == 0);
	TEST_ASSERT(q.flags.timeout == 1500);

	/* Encoded back from a broadcast with the same fields. */
	cc_bcast_init(&b);
	b.uid = "HMEnjj";
	b.packet = q.packet;
	b.packet_len = q.packet_len;
	b.flags = q.flags;
	sbuf_init(&out);
	TEST_ASSERT(cc_req_encode_bcast(&out, "h-77CQ", &b) == 0);
	p = mp(cap, &len);
	TEST_ASSERT(out.len == len && memcmp(out.data, p, len) == 0);

	/* With binary. */
	p = mp("85 a3\"uid\" a1\"A\" a9\"requestId\" a1\"r\" a4\"type\" 07 "
	    "a6\"packet\" 83 a4\"type\" 02 a4\"data\" 92 a3\"ask\" c4 01 ee "
	    "a3\"nsp\" a6\"/admin\" a4\"opts\" 83 a5\"rooms\" 91 a2\"r1\" "
	    "a6\"except\" 90 a5\"flags\" 81 a7\"timeout\" 0a", &len);
	TEST_ASSERT(cc_req_decode(p, len, &q) == 0);
	TEST_ASSERT(TEST_MEMEQ(q.packet, q.packet_len,
	    "51-/admin,[\"ask\",{\"_placeholder\":true,\"num\":0}]"));
	TEST_ASSERT(q.natt == 1 && q.att[0].len == 1 &&
	    q.att[0].data[0] == 0xee);
	TEST_ASSERT(q.nrooms == 1 && strcmp(q.rooms[0], "r1") == 0);
	sbuf_free(&out);
	cc_req_free(&q);

	return (0);
}

/* Section 7: the type 9 ack as captured; binary and undefined acks. */
static int
test_req_ack(void)
{
	struct cc_req	 q;
	struct cc_bin	 att = { U8("\x01\x02"), 2 };
	struct sbuf	 out;
	const uint8_t	*p;
	size_t		 len;
	const char	*cap = "83 a4\"type\" 09 a9\"requestId\" a6\"ildJiP\" "
	    "a6\"packet\" aa\"ack-from-C\"";
	const char	*arg;

	cc_req_init(&q);
	p = mp(cap, &len);
	TEST_ASSERT(cc_req_decode(p, len, &q) == 0);
	TEST_ASSERT(q.type == CC_REQ_BROADCAST_ACK);
	TEST_ASSERT(strcmp(q.request_id, "ildJiP") == 0);
	TEST_ASSERT(TEST_MEMEQ(q.packet, q.packet_len, "\"ack-from-C\""));

	sbuf_init(&out);
	arg = "\"ack-from-C\"";
	TEST_ASSERT(cc_req_encode_ack(&out, "ildJiP", U8(arg), strlen(arg),
	    NULL, 0) == 0);
	p = mp(cap, &len);
	TEST_ASSERT(out.len == len && memcmp(out.data, p, len) == 0);

	sbuf_reset(&out);
	arg = "{\"b\":{\"_placeholder\":true,\"num\":0},\"n\":1.5}";
	TEST_ASSERT(cc_req_encode_ack(&out, "r", U8(arg), strlen(arg), &att,
	    1) == 0);
	p = mp("83 a4\"type\" 09 a9\"requestId\" a1\"r\" a6\"packet\" 82 "
	    "a1\"b\" c4 02 0102 a1\"n\" cb 3ff8000000000000", &len);
	TEST_ASSERT(out.len == len && memcmp(out.data, p, len) == 0);
	TEST_ASSERT(cc_req_decode(out.data, out.len, &q) == 0);
	TEST_ASSERT(TEST_MEMEQ(q.packet, q.packet_len,
	    "{\"b\":{\"_placeholder\":true,\"num\":0},\"n\":1.5}"));
	TEST_ASSERT(q.natt == 1 && q.att[0].len == 2);

	/* An undefined ack argument: no packet key. */
	sbuf_reset(&out);
	TEST_ASSERT(cc_req_encode_ack(&out, "r", NULL, 0, NULL, 0) == 0);
	TEST_ASSERT(cc_req_decode(out.data, out.len, &q) == 0);
	TEST_ASSERT(q.type == 9 && q.packet == NULL);
	sbuf_free(&out);
	cc_req_free(&q);

	return (0);
}

/* The JSON replies korio sends: types 8, 1, 5, 6. */
static int
test_req_replies(void)
{
	struct sbuf	 out;
	const char	*rooms[] = { "r1", "a\"b" };
	json_t		*j;

	sbuf_init(&out);
	TEST_ASSERT(cc_req_encode_count(&out, "h-77CQ", 3) == 0);
	TEST_ASSERT(TEST_MEMEQ(out.data, out.len,
	    "{\"type\":8,\"requestId\":\"h-77CQ\",\"clientCount\":3}"));
	sbuf_reset(&out);
	TEST_ASSERT(cc_req_encode_rooms(&out, "S6mvXx", rooms, 2) == 0);
	TEST_ASSERT(TEST_MEMEQ(out.data, out.len,
	    "{\"requestId\":\"S6mvXx\",\"rooms\":[\"r1\",\"a\\\"b\"]}"));
	sbuf_reset(&out);
	j = json_pack("[{s:s}]", "id", "CcCc");
	TEST_ASSERT(cc_req_encode_sockets(&out, "q", j) == 0);
	TEST_ASSERT(TEST_MEMEQ(out.data, out.len,
	    "{\"requestId\":\"q\",\"sockets\":[{\"id\":\"CcCc\"}]}"));
	json_decref(j);
	sbuf_reset(&out);
	j = json_string("reply-from-C");
	TEST_ASSERT(cc_req_encode_emit_ack(&out, "1JkxME", j) == 0);
	TEST_ASSERT(TEST_MEMEQ(out.data, out.len,
	    "{\"type\":6,\"requestId\":\"1JkxME\",\"data\":\"reply-from-C\"}"));
	json_decref(j);
	sbuf_free(&out);

	return (0);
}

static int
test_req_rejects(void)
{
	struct cc_req	 q;
	const char	*bad[] = {
		"{", "{\"type\":\"x\"}", "{\"type\":1.5}", "{\"type\":-1}",
		"[1]", "{\"opts\":[]}", "{\"opts\":{\"rooms\":[true]}}",
		"{\"rooms\":\"r1\"}", "{\"type\":7,\"packet\":{\"data\":[]}}",
		NULL
	};
	size_t		 i, len;
	const uint8_t	*p;

	cc_req_init(&q);
	for (i = 0; bad[i] != NULL; i++)
		TEST_ASSERT(cc_req_decode(U8(bad[i]), strlen(bad[i]), &q) == -1);
	TEST_ASSERT(cc_req_decode(U8(""), 0, &q) == -1);
	/* msgpack: not a map, garbage, trailing bytes. */
	p = mp("91 01", &len);
	TEST_ASSERT(cc_req_decode(p, len, &q) == -1);
	p = mp("c1", &len);
	TEST_ASSERT(cc_req_decode(p, len, &q) == -1);
	p = mp("81 a4\"type\" 09 00", &len);
	TEST_ASSERT(cc_req_decode(p, len, &q) == -1);
	/* An empty object: a typeless reply holding nothing. */
	p = mp("\"{\" 20 \"}\"", &len);
	TEST_ASSERT(cc_req_decode(p, len, &q) == 0 && q.type == CC_REQ_NONE);
	cc_req_free(&q);

	return (0);
}

/* One struct, many decodes: each forgets the last. */
static int
test_reuse(void)
{
	struct cc_bcast	b;
	int		i;

	cc_bcast_init(&b);
	for (i = 0; i < 100; i++) {
		TEST_ASSERT(bdec(i % 2 ? "93 a1\"u\" 82 a4\"type\" 02 a4\"data\" "
		    "92 a1\"e\" c4 01 00 81 a5\"rooms\" 92 a1\"a\" a1\"b\"" :
		    "93 a1\"v\" 82 a4\"type\" 02 a4\"data\" 91 a1\"f\" 80",
		    &b) == 0);
		TEST_ASSERT(b.natt == (size_t)(i % 2) &&
		    b.nrooms == (size_t)(i % 2 ? 2 : 0));
		TEST_ASSERT(strcmp(b.uid, i % 2 ? "u" : "v") == 0);
	}
	TEST_ASSERT(rejects("c1"));
	cc_bcast_free(&b);
	cc_bcast_free(&b);

	return (0);
}

int
main(int argc, char *argv[])
{
	sbuf_init(&mpbuf);
	if (argc > 1 && strcmp(argv[1], "--driver") == 0)
		return (driver());

	TEST_RUN(test_captured_room);
	TEST_RUN(test_captured_binary);
	TEST_RUN(test_emitter);
	TEST_RUN(test_flags);
	TEST_RUN(test_nsp);
	TEST_RUN(test_rooms);
	TEST_RUN(test_numbers);
	TEST_RUN(test_big_ints);
	TEST_RUN(test_dates);
	TEST_RUN(test_strings);
	TEST_RUN(test_maps);
	TEST_RUN(test_ext);
	TEST_RUN(test_rejects);
	TEST_RUN(test_depth);
	TEST_RUN(test_encode_captured);
	TEST_RUN(test_encode_numbers);
	TEST_RUN(test_encode_errors);
	TEST_RUN(test_roundtrips);
	TEST_RUN(test_req_json);
	TEST_RUN(test_req_emitter);
	TEST_RUN(test_req_bcast);
	TEST_RUN(test_req_ack);
	TEST_RUN(test_req_replies);
	TEST_RUN(test_req_rejects);
	TEST_RUN(test_reuse);
	sbuf_free(&mpbuf);

	return (TEST_REPORT("test_cluster_codec"));
}

/* ---- the Node cross-check's C end ---------------------------------------- */

static json_t	*hexstr(const uint8_t *, size_t);
static int	 unhex(const char *, struct sbuf *);
static json_t	*names(const char *const *, size_t);
static json_t	*atts(const struct cc_bin *, size_t);
static json_t	*flags(const struct cc_flags *);
static json_t	*drv_bcast(const char *);
static json_t	*drv_encode(const char *);
static json_t	*drv_req(const char *);
static json_t	*drv_ack(const char *);

static json_t *
hexstr(const uint8_t *p, size_t len)
{
	static const char	 hx[] = "0123456789abcdef";
	char			*s;
	json_t			*j;
	size_t			 i;

	s = sbuf_xmalloc(len * 2 + 1);
	for (i = 0; i < len; i++) {
		s[2 * i] = hx[p[i] >> 4];
		s[2 * i + 1] = hx[p[i] & 15];
	}
	s[2 * len] = '\0';
	j = json_string(s);
	free(s);

	return (j);
}

static int
unhex(const char *s, struct sbuf *out)
{
	sbuf_reset(out);
	for (; s[0] != '\0' && s[0] != '\n'; s += 2) {
		if (hexval(s[0]) < 0 || hexval(s[1]) < 0)
			return (-1);
		sbuf_append_byte(out, (uint8_t)(hexval(s[0]) << 4 |
		    hexval(s[1])));
	}
	sbuf_reserve(out, 1);

	return (0);
}

static json_t *
names(const char *const *n, size_t count)
{
	json_t		*a;
	size_t		 i;

	a = json_array();
	for (i = 0; i < count; i++)
		json_array_append_new(a, json_string(n[i]));

	return (a);
}

static json_t *
atts(const struct cc_bin *att, size_t n)
{
	json_t		*a;
	size_t		 i;

	a = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(a, hexstr(att[i].data, att[i].len));

	return (a);
}

static json_t *
flags(const struct cc_flags *f)
{
	return (json_pack("{s:b,s:i,s:I,s:b}", "volatile", f->volatile_,
	    "compress", f->compress, "timeout", (json_int_t)f->timeout,
	    "expectSingleResponse", f->expect_single));
}

/* "B <hex>": decode a broadcast, and encode it again. */
static json_t *
drv_bcast(const char *arg)
{
	struct cc_bcast	 b;
	struct sbuf	 in, re;
	json_t		*r;

	sbuf_init(&in);
	sbuf_init(&re);
	cc_bcast_init(&b);
	if (unhex(arg, &in) == -1 || cc_bcast_decode(in.data, in.len, &b) == -1)
		r = json_pack("{s:b}", "ok", 0);
	else {
		r = json_pack("{s:b,s:s,s:s,s:s%,s:o,s:o,s:o,s:o}", "ok", 1,
		    "uid", b.uid, "nsp", b.nsp, "packet",
		    (const char *)b.packet, b.packet_len,
		    "att", atts(b.att, b.natt),
		    "rooms", names(b.rooms, b.nrooms),
		    "except", names(b.except, b.nexcept),
		    "flags", flags(&b.flags));
		if (cc_bcast_encode(&re, &b) == 0)
			json_object_set_new(r, "re", hexstr(re.data, re.len));
	}
	cc_bcast_free(&b);
	sbuf_free(&in);
	sbuf_free(&re);

	return (r);
}

/* "E {uid,packet,att,rooms,except,flags}": encode a broadcast. */
static json_t *
drv_encode(const char *arg)
{
	struct cc_bcast	 b;
	struct cc_bin	 att[16];
	struct sbuf	 bins[16], out;
	const char	*rooms[64], *except[64];
	json_t		*j, *r, *v, *f;
	size_t		 i;

	if ((j = json_loads(arg, 0, NULL)) == NULL)
		return (json_pack("{s:b}", "ok", 0));
	cc_bcast_init(&b);
	sbuf_init(&out);
	b.uid = json_string_value(json_object_get(j, "uid"));
	v = json_object_get(j, "packet");
	b.packet = (const uint8_t *)json_string_value(v);
	b.packet_len = json_string_length(v);
	json_array_foreach(json_object_get(j, "att"), i, v) {
		sbuf_init(&bins[i]);
		(void)unhex(json_string_value(v), &bins[i]);
		att[i].data = bins[i].data;
		att[i].len = bins[i].len;
		b.natt = i + 1;
	}
	b.att = att;
	json_array_foreach(json_object_get(j, "rooms"), i, v) {
		rooms[i] = json_string_value(v);
		b.nrooms = i + 1;
	}
	json_array_foreach(json_object_get(j, "except"), i, v) {
		except[i] = json_string_value(v);
		b.nexcept = i + 1;
	}
	b.rooms = rooms;
	b.except = except;
	if ((f = json_object_get(j, "flags")) != NULL) {
		b.flags.volatile_ = json_is_true(json_object_get(f, "volatile"));
		if ((v = json_object_get(f, "compress")) != NULL)
			b.flags.compress = json_is_true(v);
		if ((v = json_object_get(f, "timeout")) != NULL)
			b.flags.timeout = json_integer_value(v);
	}
	if (cc_bcast_encode(&out, &b) == 0)
		r = json_pack("{s:b,s:o}", "ok", 1, "hex",
		    hexstr(out.data, out.len));
	else
		r = json_pack("{s:b}", "ok", 0);
	for (i = 0; i < b.natt; i++)
		sbuf_free(&bins[i]);
	sbuf_free(&out);
	json_decref(j);

	return (r);
}

/* "R <hex>": decode a request or response. */
static json_t *
drv_req(const char *arg)
{
	struct cc_req	 q;
	struct sbuf	 in;
	json_t		*r;

	sbuf_init(&in);
	cc_req_init(&q);
	if (unhex(arg, &in) == -1 || cc_req_decode(in.data, in.len, &q) == -1)
		r = json_pack("{s:b}", "ok", 0);
	else {
		r = json_pack("{s:b,s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:I,s:o}",
		    "ok", 1, "type", q.type,
		    "uid", q.uid ? json_string(q.uid) : json_null(),
		    "requestId", q.request_id ? json_string(q.request_id) :
		    json_null(),
		    "rooms", names(q.rooms, q.nrooms),
		    "except", names(q.except, q.nexcept),
		    "targets", names(q.targets, q.ntargets),
		    "flags", flags(&q.flags), "close", q.close,
		    "clientCount", (json_int_t)q.client_count,
		    "att", atts(q.att, q.natt));
		json_object_set_new(r, "packet", q.packet == NULL ?
		    json_null() : json_stringn((const char *)q.packet,
		    q.packet_len));
	}
	cc_req_free(&q);
	sbuf_free(&in);

	return (r);
}

/* "A {rid,arg,att}": encode a type 9 ack (arg: JSON text or null). */
static json_t *
drv_ack(const char *arg)
{
	struct cc_bin	 att[16];
	struct sbuf	 bins[16], out;
	json_t		*j, *r, *v;
	const char	*a;
	size_t		 i, n;

	if ((j = json_loads(arg, 0, NULL)) == NULL)
		return (json_pack("{s:b}", "ok", 0));
	sbuf_init(&out);
	n = 0;
	json_array_foreach(json_object_get(j, "att"), i, v) {
		sbuf_init(&bins[i]);
		(void)unhex(json_string_value(v), &bins[i]);
		att[i].data = bins[i].data;
		att[i].len = bins[i].len;
		n = i + 1;
	}
	a = json_string_value(json_object_get(j, "arg"));
	if (cc_req_encode_ack(&out, json_string_value(json_object_get(j,
	    "rid")), (const uint8_t *)a, a ? strlen(a) : 0, att, n) == 0)
		r = json_pack("{s:b,s:o}", "ok", 1, "hex",
		    hexstr(out.data, out.len));
	else
		r = json_pack("{s:b}", "ok", 0);
	for (i = 0; i < n; i++)
		sbuf_free(&bins[i]);
	sbuf_free(&out);
	json_decref(j);

	return (r);
}

/*
 * One command a line: "B <hex>", "E <json>", "R <hex>", "A <json>";
 * one line of JSON back each.
 */
static int
driver(void)
{
	char		*line, *s;
	size_t		 cap;
	ssize_t		 n;
	json_t		*r;

	line = NULL;
	cap = 0;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (n < 2)
			continue;
		switch (line[0]) {
		case 'B':
			r = drv_bcast(line + 2);
			break;
		case 'E':
			r = drv_encode(line + 2);
			break;
		case 'R':
			r = drv_req(line + 2);
			break;
		case 'A':
			r = drv_ack(line + 2);
			break;
		default:
			r = json_pack("{s:b}", "ok", 0);
			break;
		}
		s = json_dumps(r, JSON_COMPACT | JSON_ENSURE_ASCII);
		printf("%s\n", s);
		fflush(stdout);
		free(s);
		json_decref(r);
	}
	free(line);
	sbuf_free(&mpbuf);

	return (0);
}
