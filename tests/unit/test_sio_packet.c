/*
 * test_sio_packet.c: unit tests for src/sio/sio_packet.c (Socket.IO v5
 * decoder rules of socket.io-parser 4.2.7, the encoder and its
 * JSON.stringify-compatible output, placeholders, binary reassembly).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/sio_packet.h"
#include "test_help.h"

#define U8(s)	((const uint8_t *)(s))

static int	dec(struct sio_packet *, const char *);
static int	dec_fails(const char *);
static int	reencodes_to(const char *, const char *);
static int	reasm_text(struct sio_packet_reasm *, struct sio_packet *,
		    const char *);

static int	test_types(void);
static int	test_connect(void);
static int	test_disconnect(void);
static int	test_event(void);
static int	test_reserved(void);
static int	test_ack(void);
static int	test_connect_error(void);
static int	test_binary_header(void);
static int	test_nsp(void);
static int	test_ack_id(void);
static int	test_json_errors(void);
static int	test_encode(void);
static int	test_encode_errors(void);
static int	test_json_numbers(void);
static int	test_json_strings(void);
static int	test_json_objects(void);
static int	test_roundtrip(void);
static int	test_placeholder(void);
static int	test_reasm_basic(void);
static int	test_reasm_errors(void);
static int	test_reasm_limits(void);
static int	test_reasm_echo(void);
static int	test_packet_alloc(void);

static int
dec(struct sio_packet *pkt, const char *s)
{
	return (sio_packet_decode(pkt, U8(s), strlen(s)));
}

/* 1 if s is rejected and the packet is left clean. */
static int
dec_fails(const char *s)
{
	struct sio_packet	pkt;

	if (dec(&pkt, s) != 0) {
		printf("accepted: %s\n", s);
		sio_packet_clear(&pkt);
		return (0);
	}

	return (pkt.nsp == NULL && pkt.data == NULL && pkt.ack_id == -1);
}

/* Decode in, encode it again, compare with out. */
static int
reencodes_to(const char *in, const char *out)
{
	struct sio_packet	pkt;
	struct sbuf		sb;
	int			ok;

	if (!dec(&pkt, in)) {
		printf("rejected: %s\n", in);
		return (0);
	}
	sbuf_init(&sb);
	ok = sio_packet_encode(&sb, pkt.type, pkt.nsp, pkt.ack_id,
	    pkt.attachments, pkt.data);
	if (ok && !TEST_MEMEQ(sb.data, sb.len, out)) {
		printf("got: %.*s\nwant: %s\n", (int)sb.len, sb.data, out);
		ok = 0;
	}
	sbuf_free(&sb);
	sio_packet_clear(&pkt);

	return (ok);
}

static int
reasm_text(struct sio_packet_reasm *r, struct sio_packet *out, const char *s)
{
	return (sio_packet_reasm_text(r, out, U8(s), strlen(s)));
}

static int
test_types(void)
{
	struct sio_packet	pkt;

	TEST_ASSERT(SIO_PACKET_CONNECT == 0 && SIO_PACKET_DISCONNECT == 1 &&
	    SIO_PACKET_EVENT == 2 && SIO_PACKET_ACK == 3 &&
	    SIO_PACKET_CONNECT_ERROR == 4 && SIO_PACKET_BINARY_EVENT == 5 &&
	    SIO_PACKET_BINARY_ACK == 6);

	TEST_ASSERT(dec_fails(""));
	TEST_ASSERT(dec_fails("7"));
	TEST_ASSERT(dec_fails("9[\"x\"]"));
	TEST_ASSERT(dec_fails("abc"));
	TEST_ASSERT(dec_fails("/"));
	TEST_ASSERT(dec_fails(" 2[\"x\"]"));
	TEST_ASSERT(dec_fails("-1"));
	TEST_ASSERT(dec_fails("\xc3\xa9"));
	TEST_ASSERT(sio_packet_decode(&pkt, NULL, 0) == 0);

	return (0);
}

static int
test_connect(void)
{
	struct sio_packet	pkt;

	TEST_ASSERT(dec(&pkt, "0"));
	TEST_ASSERT(pkt.type == SIO_PACKET_CONNECT);
	TEST_ASSERT(strcmp(pkt.nsp, "/") == 0);
	TEST_ASSERT(pkt.data == NULL && pkt.ack_id == -1);
	TEST_ASSERT(pkt.attachments == 0 && pkt.att == NULL);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec(&pkt, "0{\"token\":\"123\"}"));
	TEST_ASSERT(json_is_object(pkt.data));
	TEST_ASSERT(strcmp(json_string_value(json_object_get(pkt.data,
	    "token")), "123") == 0);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec(&pkt, "0/admin,{\"token\":\"abc\"}"));
	TEST_ASSERT(strcmp(pkt.nsp, "/admin") == 0 && json_is_object(pkt.data));
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec(&pkt, "0/custom"));
	TEST_ASSERT(strcmp(pkt.nsp, "/custom") == 0 && pkt.data == NULL);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec(&pkt, "0/custom,"));
	TEST_ASSERT(strcmp(pkt.nsp, "/custom") == 0 && pkt.data == NULL);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec(&pkt, "0{}"));
	TEST_ASSERT(json_object_size(pkt.data) == 0);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec_fails("0[]"));
	TEST_ASSERT(dec_fails("0\"x\""));
	TEST_ASSERT(dec_fails("0null"));
	TEST_ASSERT(dec_fails("0 1"));
	TEST_ASSERT(dec_fails("0 "));
	TEST_ASSERT(dec_fails("0{"));
	TEST_ASSERT(dec_fails("0{}x"));
	TEST_ASSERT(dec_fails("0{}{}"));
	TEST_ASSERT(dec_fails("0/admin,[]"));
	TEST_ASSERT(dec_fails("0/admin,\"x\""));

	return (0);
}

static int
test_disconnect(void)
{
	struct sio_packet	pkt;

	TEST_ASSERT(dec(&pkt, "1"));
	TEST_ASSERT(pkt.type == SIO_PACKET_DISCONNECT && pkt.data == NULL);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec(&pkt, "1/admin,"));
	TEST_ASSERT(strcmp(pkt.nsp, "/admin") == 0 && pkt.data == NULL);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec_fails("1{}"));
	TEST_ASSERT(dec_fails("1/admin,{}"));
	TEST_ASSERT(dec_fails("1[]"));
	TEST_ASSERT(dec_fails("1 "));
	TEST_ASSERT(dec_fails("1\"bye\""));

	return (0);
}

static int
test_event(void)
{
	struct sio_packet	pkt;

	TEST_ASSERT(dec(&pkt, "2[\"message\",1,\"2\",{\"3\":[true]}]"));
	TEST_ASSERT(pkt.type == SIO_PACKET_EVENT && pkt.ack_id == -1);
	TEST_ASSERT(strcmp(pkt.nsp, "/") == 0);
	TEST_ASSERT(json_array_size(pkt.data) == 4);
	TEST_ASSERT(strcmp(json_string_value(json_array_get(pkt.data, 0)),
	    "message") == 0);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec(&pkt, "2[1]"));
	sio_packet_clear(&pkt);
	TEST_ASSERT(dec(&pkt, "2[-1.5,\"x\"]"));
	sio_packet_clear(&pkt);
	TEST_ASSERT(dec(&pkt, "2[\"x\"] \n"));
	sio_packet_clear(&pkt);
	/* JS would read the space as ack id 0: refused. */
	TEST_ASSERT(dec_fails("2 [\"x\"]"));
	TEST_ASSERT(dec_fails("21 [\"x\"]"));
	TEST_ASSERT(dec_fails("2/a,\n[\"x\"]"));
	TEST_ASSERT(dec_fails("51-\t[\"x\"]"));
	TEST_ASSERT(dec(&pkt, "2[\"connectx\"]"));
	sio_packet_clear(&pkt);
	TEST_ASSERT(dec(&pkt, "2[\"Disconnect\"]"));
	sio_packet_clear(&pkt);
	TEST_ASSERT(dec(&pkt, "2[\"\"]"));
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec(&pkt, "2[\"h\xc3\xa9llo \xe2\x82\xac\xf0\x9f\x98\x80\"]"));
	TEST_ASSERT(strcmp(json_string_value(json_array_get(pkt.data, 0)),
	    "h\xc3\xa9llo \xe2\x82\xac\xf0\x9f\x98\x80") == 0);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec_fails("2{}"));
	TEST_ASSERT(dec_fails("2[]"));
	TEST_ASSERT(dec_fails("2"));
	TEST_ASSERT(dec_fails("2abc[\"x\"]"));
	TEST_ASSERT(dec_fails("2[null]"));
	TEST_ASSERT(dec_fails("2[true]"));
	TEST_ASSERT(dec_fails("2[[\"x\"]]"));
	TEST_ASSERT(dec_fails("2[{}]"));
	TEST_ASSERT(dec_fails("2\"x\""));
	TEST_ASSERT(dec_fails("21"));
	TEST_ASSERT(dec_fails("2[\"x\"]garbage"));
	TEST_ASSERT(dec_fails("2[\"x\"]]"));
	TEST_ASSERT(dec_fails("2[\"x\""));
	TEST_ASSERT(dec_fails("2/admin"));
	TEST_ASSERT(dec_fails("2/admin[\"x\"]"));
	TEST_ASSERT(dec_fails("2[\"x\",]"));
	TEST_ASSERT(dec_fails("2['x']"));

	return (0);
}

static int
test_reserved(void)
{
	static const char *const names[] = {
		"connect", "connect_error", "disconnect", "disconnecting",
		"newListener", "removeListener",
	};
	char		buf[64];
	size_t		i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(buf, sizeof(buf), "2[\"%s\",1]", names[i]);
		TEST_ASSERT(dec_fails(buf));
		snprintf(buf, sizeof(buf), "5/a,1[\"%s\"]", names[i]);
		TEST_ASSERT(dec_fails(buf));
		snprintf(buf, sizeof(buf), "51-[\"%s\"]", names[i]);
		TEST_ASSERT(dec_fails(buf));
		/* Reserved names are fine as ACK arguments. */
		snprintf(buf, sizeof(buf), "31[\"%s\"]", names[i]);
		TEST_ASSERT(reencodes_to(buf, buf));
	}

	return (0);
}

static int
test_ack(void)
{
	struct sio_packet	pkt;

	TEST_ASSERT(dec(&pkt, "3[]"));
	TEST_ASSERT(pkt.type == SIO_PACKET_ACK && json_array_size(pkt.data) == 0);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec(&pkt, "312[\"a\",null]"));
	TEST_ASSERT(pkt.ack_id == 12 && json_array_size(pkt.data) == 2);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec(&pkt, "3/admin,13[]"));
	TEST_ASSERT(pkt.ack_id == 13 && strcmp(pkt.nsp, "/admin") == 0);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec_fails("3{}"));
	TEST_ASSERT(dec_fails("3\"x\""));
	TEST_ASSERT(dec_fails("3"));
	TEST_ASSERT(dec_fails("31"));
	TEST_ASSERT(dec_fails("31null"));

	return (0);
}

static int
test_connect_error(void)
{
	struct sio_packet	pkt;

	TEST_ASSERT(dec(&pkt, "4{\"message\":\"not authorized\","
	    "\"data\":{\"reason\":\"bad token\",\"code\":42}}"));
	TEST_ASSERT(pkt.type == SIO_PACKET_CONNECT_ERROR);
	TEST_ASSERT(json_is_object(pkt.data));
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec(&pkt, "4\"str\""));
	TEST_ASSERT(json_is_string(pkt.data));
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec(&pkt, "4/nope,{\"message\":\"Invalid namespace\"}"));
	TEST_ASSERT(strcmp(pkt.nsp, "/nope") == 0);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec_fails("4"));
	TEST_ASSERT(dec_fails("4[]"));
	TEST_ASSERT(dec_fails("41"));
	TEST_ASSERT(dec_fails("4null"));
	TEST_ASSERT(dec_fails("4abc"));

	return (0);
}

static int
test_binary_header(void)
{
	struct sio_packet	pkt;

	TEST_ASSERT(dec(&pkt,
	    "51-[\"message\",{\"_placeholder\":true,\"num\":0}]"));
	TEST_ASSERT(pkt.type == SIO_PACKET_BINARY_EVENT);
	TEST_ASSERT(pkt.attachments == 1 && pkt.natt == 0 && pkt.att == NULL);
	TEST_ASSERT(strcmp(pkt.nsp, "/") == 0 && pkt.ack_id == -1);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec(&pkt, "52-0[\"m\"]"));
	TEST_ASSERT(pkt.attachments == 2 && pkt.ack_id == 0);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec(&pkt, "61-/admin,12[]"));
	TEST_ASSERT(pkt.type == SIO_PACKET_BINARY_ACK && pkt.attachments == 1);
	TEST_ASSERT(strcmp(pkt.nsp, "/admin") == 0 && pkt.ack_id == 12);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec(&pkt, "510-[\"x\"]"));
	TEST_ASSERT(pkt.attachments == 10);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec(&pkt, "501-[\"x\"]"));
	TEST_ASSERT(pkt.attachments == 1);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec_fails("50-[\"x\"]"));
	TEST_ASSERT(dec_fails("600-[]"));
	TEST_ASSERT(dec_fails("511-[\"x\"]"));
	TEST_ASSERT(dec_fails("5100-[\"x\"]"));
	TEST_ASSERT(dec_fails("599999999999999999999999-[\"x\"]"));
	TEST_ASSERT(dec_fails("5-[\"x\"]"));
	TEST_ASSERT(dec_fails("5[\"x\"]"));
	TEST_ASSERT(dec_fails("51[\"x\"]"));
	TEST_ASSERT(dec_fails("51"));
	TEST_ASSERT(dec_fails("5a-[\"x\"]"));
	TEST_ASSERT(dec_fails("5 1-[\"x\"]"));
	TEST_ASSERT(dec_fails("51-"));
	TEST_ASSERT(dec_fails("61-"));
	TEST_ASSERT(dec_fails("51-{}"));
	TEST_ASSERT(dec_fails("61-{}"));
	TEST_ASSERT(dec_fails("6"));
	/* Non-binary types have no attachment field. */
	TEST_ASSERT(dec_fails("21-[\"x\"]"));

	return (0);
}

static int
test_nsp(void)
{
	struct sio_packet	pkt;

	TEST_ASSERT(dec(&pkt, "2/a/b,[\"x\"]"));
	TEST_ASSERT(strcmp(pkt.nsp, "/a/b") == 0);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec(&pkt, "0/\xc3\xa9t\xc3\xa9,"));
	TEST_ASSERT(strcmp(pkt.nsp, "/\xc3\xa9t\xc3\xa9") == 0);
	sio_packet_clear(&pkt);

	/* A lone "/" is the main namespace, with or without comma. */
	TEST_ASSERT(dec(&pkt, "0/"));
	TEST_ASSERT(strcmp(pkt.nsp, "/") == 0);
	sio_packet_clear(&pkt);
	TEST_ASSERT(dec(&pkt, "0/,{}"));
	TEST_ASSERT(strcmp(pkt.nsp, "/") == 0 && json_is_object(pkt.data));
	sio_packet_clear(&pkt);

	/* Only the first comma ends it. */
	TEST_ASSERT(dec(&pkt, "3/x,1[\"a,b\"]"));
	TEST_ASSERT(strcmp(pkt.nsp, "/x") == 0 && pkt.ack_id == 1);
	sio_packet_clear(&pkt);

	TEST_ASSERT(sio_packet_decode(&pkt, U8("0/a\0b,"), 6) == 0);
	TEST_ASSERT(pkt.nsp == NULL);
	/* A namespace without '/' is not one: "admin,..." is bad JSON. */
	TEST_ASSERT(dec_fails("0admin,{}"));

	return (0);
}

static int
test_ack_id(void)
{
	struct sio_packet	pkt;

	TEST_ASSERT(dec(&pkt, "20[\"x\"]"));
	TEST_ASSERT(pkt.ack_id == 0);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec(&pkt, "2007[\"x\"]"));
	TEST_ASSERT(pkt.ack_id == 7);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec(&pkt, "2123456789012345[\"x\"]"));
	TEST_ASSERT(pkt.ack_id == 123456789012345LL);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec(&pkt, "0/admin,999"));
	TEST_ASSERT(pkt.ack_id == 999 && pkt.data == NULL);
	sio_packet_clear(&pkt);

	TEST_ASSERT(dec_fails("21234567890123456[\"x\"]"));
	TEST_ASSERT(dec_fails("2-1[\"x\"]"));

	return (0);
}

static int
test_json_errors(void)
{
	struct sio_packet	pkt;
	static const char	nul[] = "2[\"a\\u0000b\"]";
	struct sbuf		b;

	/* NUL inside a string value is fine (JSON.parse takes it)... */
	sio_packet_init(&pkt);
	TEST_ASSERT(sio_packet_decode(&pkt, (const uint8_t *)nul,
	    sizeof(nul) - 1) == 1);
	TEST_ASSERT(json_string_length(json_array_get(pkt.data, 0)) == 3);
	sbuf_init(&b);
	TEST_ASSERT(sio_packet_encode_pkt(&b, &pkt) == 1);
	TEST_ASSERT(b.len == sizeof(nul) - 1 && !memcmp(b.data, nul, b.len));
	sbuf_free(&b);
	sio_packet_clear(&pkt);

	/* ...not in an object key, which jansson cannot hold. */
	TEST_ASSERT(dec_fails("2[\"x\",{\"k\\u0000\":1}]"));
	TEST_ASSERT(dec_fails("2[\"\\ud800\"]"));
	TEST_ASSERT(dec_fails("2[\"x\",1e400]"));
	TEST_ASSERT(dec_fails("2[\"x\",NaN]"));
	TEST_ASSERT(dec_fails("2[\"\xff\"]"));
	TEST_ASSERT(dec_fails("2[\"x\"/*c*/]"));

	return (0);
}

static int
test_encode(void)
{
	struct sbuf	 sb;
	json_t		*args;

	sbuf_init(&sb);
	args = json_loads("[\"message-back\",1,\"2\",{\"3\":[true]}]", 0, NULL);
	TEST_ASSERT(args != NULL);
	TEST_ASSERT(sio_packet_encode(&sb, SIO_PACKET_EVENT, "/", -1, 0, args));
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len,
	    "2[\"message-back\",1,\"2\",{\"3\":[true]}]"));

	/* Appends: the glue writes the Engine.IO "4" first. */
	sbuf_reset(&sb);
	sbuf_append_byte(&sb, '4');
	TEST_ASSERT(sio_packet_encode(&sb, SIO_PACKET_BINARY_EVENT, "/admin",
	    12, 1, args));
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len,
	    "451-/admin,12[\"message-back\",1,\"2\",{\"3\":[true]}]"));
	json_decref(args);

	sbuf_reset(&sb);
	args = json_pack("{s:s}", "sid", "abc");
	TEST_ASSERT(sio_packet_encode(&sb, SIO_PACKET_CONNECT, NULL, -1, 0,
	    args));
	TEST_ASSERT(sio_packet_encode(&sb, SIO_PACKET_CONNECT, "/admin", -1,
	    0, args));
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len,
	    "0{\"sid\":\"abc\"}0/admin,{\"sid\":\"abc\"}"));
	json_decref(args);

	sbuf_reset(&sb);
	TEST_ASSERT(sio_packet_encode(&sb, SIO_PACKET_DISCONNECT, "/", -1, 0,
	    NULL));
	TEST_ASSERT(sio_packet_encode(&sb, SIO_PACKET_DISCONNECT, "/admin",
	    -1, 0, NULL));
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len, "11/admin,"));

	sbuf_reset(&sb);
	args = json_pack("{s:s}", "message", "Invalid namespace");
	TEST_ASSERT(sio_packet_encode(&sb, SIO_PACKET_CONNECT_ERROR, "/nope",
	    -1, 0, args));
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len,
	    "4/nope,{\"message\":\"Invalid namespace\"}"));
	json_decref(args);

	sbuf_reset(&sb);
	args = json_pack("[s]", "a");
	TEST_ASSERT(sio_packet_encode(&sb, SIO_PACKET_ACK, "/", 12, 0, args));
	TEST_ASSERT(sio_packet_encode(&sb, SIO_PACKET_BINARY_ACK, "/", 0, 1,
	    args));
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len, "312[\"a\"]61-0[\"a\"]"));
	json_decref(args);
	sbuf_free(&sb);

	return (0);
}

static int
test_encode_errors(void)
{
	struct sbuf	 sb;
	json_t		*ev, *bad, *obj;

	sbuf_init(&sb);
	sbuf_append_str(&sb, "keep");
	ev = json_pack("[s]", "x");
	bad = json_pack("[s]", "disconnect");
	obj = json_object();

	TEST_ASSERT(sio_packet_encode(&sb, 7, "/", -1, 0, ev) == 0);
	TEST_ASSERT(sio_packet_encode(&sb, -1, "/", -1, 0, ev) == 0);
	TEST_ASSERT(sio_packet_encode(&sb, SIO_PACKET_EVENT, "/", -1, 0,
	    bad) == 0);
	TEST_ASSERT(sio_packet_encode(&sb, SIO_PACKET_EVENT, "/", -1, 0,
	    NULL) == 0);
	TEST_ASSERT(sio_packet_encode(&sb, SIO_PACKET_EVENT, "/", -1, 0,
	    obj) == 0);
	TEST_ASSERT(sio_packet_encode(&sb, SIO_PACKET_EVENT, "admin", -1, 0,
	    ev) == 0);
	TEST_ASSERT(sio_packet_encode(&sb, SIO_PACKET_EVENT, "/a,b", -1, 0,
	    ev) == 0);
	TEST_ASSERT(sio_packet_encode(&sb, SIO_PACKET_EVENT, "/", -2, 0,
	    ev) == 0);
	TEST_ASSERT(sio_packet_encode(&sb, SIO_PACKET_EVENT, "/", -1, 1,
	    ev) == 0);
	TEST_ASSERT(sio_packet_encode(&sb, SIO_PACKET_BINARY_EVENT, "/", -1,
	    SIO_PACKET_MAX_ATTACHMENTS + 1, ev) == 0);
	TEST_ASSERT(sio_packet_encode(&sb, SIO_PACKET_BINARY_EVENT, "/", -1,
	    0, ev) == 0);
	TEST_ASSERT(sio_packet_encode(&sb, SIO_PACKET_DISCONNECT, "/", -1, 0,
	    obj) == 0);
	TEST_ASSERT(sio_packet_encode(&sb, SIO_PACKET_CONNECT, "/", -1, 0,
	    ev) == 0);
	TEST_ASSERT(sio_packet_encode(&sb, SIO_PACKET_CONNECT_ERROR, "/", -1,
	    0, NULL) == 0);
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len, "keep"));

	TEST_ASSERT(sio_packet_encode(&sb, SIO_PACKET_BINARY_EVENT, "/", -1,
	    SIO_PACKET_MAX_ATTACHMENTS, ev) == 1);

	json_decref(ev);
	json_decref(bad);
	json_decref(obj);
	sbuf_free(&sb);

	return (0);
}

static int
test_json_numbers(void)
{
	struct sbuf	 sb;
	json_t		*a;

	TEST_ASSERT(reencodes_to(
	    "3[0.1,1.0,-0.0,1e21,1e20,1.5e-7,123456789.125,-2.5e-300]",
	    "3[0.1,1,0,1e+21,100000000000000000000,1.5e-7,123456789.125,"
	    "-2.5e-300]"));
	TEST_ASSERT(reencodes_to(
	    "3[5e-324,1.7976931348623157e308,0.000001,1e-7,100,-7,-0,"
	    "9007199254740991,0.30000000000000004,2.5E+3,1e+0,123e-2]",
	    "3[5e-324,1.7976931348623157e+308,0.000001,1e-7,100,-7,0,"
	    "9007199254740991,0.30000000000000004,2500,1,1.23]"));
	/* Beyond int64: every number becomes a double, as in JS. */
	TEST_ASSERT(reencodes_to("3[99999999999999999999999,10000000000000000000,"
	    "7,0.5,-0]", "3[1e+23,10000000000000000000,7,0.5,0]"));
	/* Integers beyond 2^53 come out as the double JS would hold. */
	TEST_ASSERT(reencodes_to("3[9223372036854775807,-9223372036854775808,"
	    "9007199254740992,-9007199254740993,9999988899999999]",
	    "3[9223372036854776000,-9223372036854776000,9007199254740992,"
	    "-9007199254740992,9999988900000000]"));
	/* 2^-24: the shortest form is not the correctly rounded one. */
	TEST_ASSERT(reencodes_to("3[5.9604644775390625e-8,0.0000152587890625]",
	    "3[5.960464477539063e-8,0.0000152587890625]"));
	TEST_ASSERT(reencodes_to("3[1.2345678901234567e-5,12345678.9e13]",
	    "3[0.000012345678901234568,123456789000000000000]"));

	/* Doubles that cannot come from the parser. */
	sbuf_init(&sb);
	a = json_array();
	json_array_append_new(a, json_real(-1e-10));
	json_array_append_new(a, json_real(4.35));
	json_array_append_new(a, json_real(1e100));
	sio_packet_json(&sb, a);
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len, "[-1e-10,4.35,1e+100]"));
	json_decref(a);
	sbuf_free(&sb);

	return (0);
}

static int
test_json_strings(void)
{
	TEST_ASSERT(reencodes_to(
	    "3[\"a\\u0001\\/b\\\"\\t\\u001F\\u007f\\u00e9\"]",
	    "3[\"a\\u0001/b\\\"\\t\\u001f\x7f\xc3\xa9\"]"));
	TEST_ASSERT(reencodes_to("3[\"\\ud83d\\ude00\"]",
	    "3[\"\xf0\x9f\x98\x80\"]"));
	TEST_ASSERT(reencodes_to(
	    "2[\"message\",\"h\xc3\xa9llo \xe2\x82\xac\xf0\x9f\x98\x80\"]",
	    "2[\"message\",\"h\xc3\xa9llo \xe2\x82\xac\xf0\x9f\x98\x80\"]"));
	TEST_ASSERT(reencodes_to("3[\"\\b\\f\\n\\r\\\\\"]",
	    "3[\"\\b\\f\\n\\r\\\\\"]"));

	return (0);
}

static int
test_json_objects(void)
{
	TEST_ASSERT(reencodes_to(
	    "0{ \"z\" : 1 , \"a\" : { \"y\" : [ ] , \"b\" : { } } } ",
	    "0{\"z\":1,\"a\":{\"y\":[],\"b\":{}}}"));
	/* Duplicate keys: the last value wins, in the first position. */
	TEST_ASSERT(reencodes_to("0{\"a\":1,\"b\":2,\"a\":3}",
	    "0{\"a\":3,\"b\":2}"));
	TEST_ASSERT(reencodes_to("3[null,true,false,[[]],{\"\":\"\"}]",
	    "3[null,true,false,[[]],{\"\":\"\"}]"));
	TEST_ASSERT(reencodes_to("0{\"k\\n\":1}", "0{\"k\\n\":1}"));

	return (0);
}

static int
test_roundtrip(void)
{
	static const char *const same[] = {
		"0", "0{\"token\":\"123\"}", "0/admin,", "0/admin,{\"t\":\"a\"}",
		"1", "1/admin,", "2[\"ev\",1]", "21[\"ev\"]", "2/admin,13[\"x\"]",
		"3[]", "30[\"client-ack\"]", "4{\"message\":\"x\"}", "4\"s\"",
		"51-[\"message\",{\"_placeholder\":true,\"num\":0}]",
		"61-0[\"ack\",{\"_placeholder\":true,\"num\":0}]",
		("52-/admin,7[\"m\",{\"_placeholder\":true,\"num\":0},"
		    "{\"_placeholder\":true,\"num\":1}]"),
		"2[\"message\",1,\"2\",{\"3\":[true]}]",
	};
	size_t		i;

	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		TEST_ASSERT(reencodes_to(same[i], same[i]));

	/* "40/custom" (the suite's form) comes back with its comma. */
	TEST_ASSERT(reencodes_to("0/custom", "0/custom,"));
	TEST_ASSERT(reencodes_to("0/", "0"));
	TEST_ASSERT(reencodes_to("2007[\"x\"]", "27[\"x\"]"));

	return (0);
}

static int
test_placeholder(void)
{
	struct sbuf	 sb;
	json_t		*ph, *j;
	int		 ok;

	sbuf_init(&sb);
	ph = sio_placeholder_new(3);
	sio_packet_json(&sb, ph);
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len,
	    "{\"_placeholder\":true,\"num\":3}"));
	TEST_ASSERT(sio_placeholder_check(ph, 4) == 1);
	TEST_ASSERT(sio_placeholder_check(ph, 3) == 0);
	json_decref(ph);
	sbuf_free(&sb);

#define PH(s, n)	(j = json_loads((s), 0, NULL),			\
	    ok = sio_placeholder_check(j, (n)), json_decref(j), ok)
	TEST_ASSERT(PH("[\"x\"]", 0) == 1);
	TEST_ASSERT(PH("[{\"_placeholder\":true,\"num\":0}]", 1) == 1);
	TEST_ASSERT(PH("[{\"_placeholder\":true,\"num\":0}]", 0) == 0);
	TEST_ASSERT(PH("[{\"a\":[[{\"_placeholder\":true,\"num\":1}]]}]",
	    2) == 1);
	TEST_ASSERT(PH("[{\"a\":[[{\"_placeholder\":true,\"num\":2}]]}]",
	    2) == 0);
	TEST_ASSERT(PH("[{\"_placeholder\":true,\"num\":-1}]", 2) == 0);
	TEST_ASSERT(PH("[{\"_placeholder\":true,\"num\":\"0\"}]", 2) == 0);
	TEST_ASSERT(PH("[{\"_placeholder\":true,\"num\":1.0}]", 2) == 1);
	TEST_ASSERT(PH("[{\"_placeholder\":true,\"num\":0.5}]", 2) == 0);
	TEST_ASSERT(PH("[{\"_placeholder\":true}]", 2) == 0);
	TEST_ASSERT(PH("[{\"_placeholder\":true,\"num\":null}]", 2) == 0);
	TEST_ASSERT(PH("[{\"_placeholder\":true,\"num\":1e300}]", 2) == 0);
	/* Not a placeholder: looked into like any object. */
	TEST_ASSERT(PH("[{\"_placeholder\":false,\"num\":9}]", 1) == 1);
	TEST_ASSERT(PH("[{\"_placeholder\":1,\"x\":"
	    "{\"_placeholder\":true,\"num\":9}}]", 1) == 0);
	/* A placeholder's other members are not inspected. */
	TEST_ASSERT(PH("[{\"_placeholder\":true,\"num\":0,\"x\":"
	    "{\"_placeholder\":true,\"num\":9}}]", 1) == 1);
#undef PH

	return (0);
}

static int
test_reasm_basic(void)
{
	struct sio_packet_reasm	r;
	struct sio_packet	p;

	sio_packet_reasm_init(&r, 1000);
	TEST_ASSERT(!sio_packet_reasm_pending(&r));

	TEST_ASSERT(reasm_text(&r, &p, "2[\"x\"]") == SIO_REASM_PACKET);
	TEST_ASSERT(p.type == SIO_PACKET_EVENT && p.att == NULL);
	sio_packet_clear(&p);

	TEST_ASSERT(reasm_text(&r, &p, "52-[\"m\",{\"_placeholder\":true,"
	    "\"num\":0},{\"_placeholder\":true,\"num\":1}]") == SIO_REASM_MORE);
	TEST_ASSERT(sio_packet_reasm_pending(&r));
	TEST_ASSERT(p.nsp == NULL && p.data == NULL);
	TEST_ASSERT(sio_packet_reasm_binary(&r, &p, U8("\x01\x02\x03"), 3) ==
	    SIO_REASM_MORE);
	TEST_ASSERT(sio_packet_reasm_binary(&r, &p, U8("\x04\x05\x06"), 3) ==
	    SIO_REASM_PACKET);
	TEST_ASSERT(!sio_packet_reasm_pending(&r));
	TEST_ASSERT(p.type == SIO_PACKET_BINARY_EVENT);
	TEST_ASSERT(p.attachments == 2 && p.natt == 2);
	TEST_ASSERT(TEST_MEMEQ(p.att[0].data, p.att[0].len, "\x01\x02\x03"));
	TEST_ASSERT(TEST_MEMEQ(p.att[1].data, p.att[1].len, "\x04\x05\x06"));
	TEST_ASSERT(json_array_size(p.data) == 3);
	sio_packet_clear(&p);

	/* Zero-length attachment, binary ack with nsp and id. */
	TEST_ASSERT(reasm_text(&r, &p, "61-/admin,4[{\"_placeholder\":true,"
	    "\"num\":0}]") == SIO_REASM_MORE);
	TEST_ASSERT(sio_packet_reasm_binary(&r, &p, NULL, 0) ==
	    SIO_REASM_PACKET);
	TEST_ASSERT(p.natt == 1 && p.att[0].len == 0 && p.att[0].data != NULL);
	TEST_ASSERT(p.ack_id == 4 && strcmp(p.nsp, "/admin") == 0);
	sio_packet_clear(&p);

	/* A binary packet whose JSON has no placeholder at all. */
	TEST_ASSERT(reasm_text(&r, &p, "51-[\"x\"]") == SIO_REASM_MORE);
	TEST_ASSERT(sio_packet_reasm_binary(&r, &p, U8("z"), 1) ==
	    SIO_REASM_PACKET);
	sio_packet_clear(&p);

	sio_packet_reasm_clear(&r);

	return (0);
}

static int
test_reasm_errors(void)
{
	struct sio_packet_reasm	r;
	struct sio_packet	p;

	sio_packet_reasm_init(&r, 1000);

	/* "got binary data when not reconstructing a packet" */
	TEST_ASSERT(sio_packet_reasm_binary(&r, &p, U8("x"), 1) ==
	    SIO_REASM_ERROR);

	/* "got plaintext data when reconstructing a packet" */
	TEST_ASSERT(reasm_text(&r, &p, "51-[\"m\",{\"_placeholder\":true,"
	    "\"num\":0}]") == SIO_REASM_MORE);
	TEST_ASSERT(reasm_text(&r, &p, "2[\"x\"]") == SIO_REASM_ERROR);
	TEST_ASSERT(!sio_packet_reasm_pending(&r));
	TEST_ASSERT(p.nsp == NULL && p.data == NULL);

	/* The state is reusable after an error. */
	TEST_ASSERT(reasm_text(&r, &p, "2[\"x\"]") == SIO_REASM_PACKET);
	sio_packet_clear(&p);

	TEST_ASSERT(reasm_text(&r, &p, "51-[\"m\",{\"_placeholder\":true,"
	    "\"num\":1}]") == SIO_REASM_ERROR);
	TEST_ASSERT(reasm_text(&r, &p, "50-[\"m\"]") == SIO_REASM_ERROR);
	TEST_ASSERT(reasm_text(&r, &p, "52-[\"m\",{\"_placeholder\":true,"
	    "\"num\":0.5}]") == SIO_REASM_ERROR);
	TEST_ASSERT(reasm_text(&r, &p, "4abc") == SIO_REASM_ERROR);
	TEST_ASSERT(reasm_text(&r, &p, "511-[\"m\"]") == SIO_REASM_ERROR);
	TEST_ASSERT(!sio_packet_reasm_pending(&r));

	/* Clearing a half-received packet frees its attachments. */
	TEST_ASSERT(reasm_text(&r, &p, "53-[\"m\"]") == SIO_REASM_MORE);
	TEST_ASSERT(sio_packet_reasm_binary(&r, &p, U8("ab"), 2) ==
	    SIO_REASM_MORE);
	sio_packet_reasm_clear(&r);
	TEST_ASSERT(!sio_packet_reasm_pending(&r));
	TEST_ASSERT(sio_packet_reasm_binary(&r, &p, U8("x"), 1) ==
	    SIO_REASM_ERROR);

	return (0);
}

static int
test_reasm_limits(void)
{
	struct sio_packet_reasm	 r;
	struct sio_packet	 p;
	char			 buf[512];
	size_t			 i, n;

	sio_packet_reasm_init(&r, 5);
	TEST_ASSERT(reasm_text(&r, &p, "52-[\"m\"]") == SIO_REASM_MORE);
	TEST_ASSERT(sio_packet_reasm_binary(&r, &p, U8("abc"), 3) ==
	    SIO_REASM_MORE);
	TEST_ASSERT(sio_packet_reasm_binary(&r, &p, U8("def"), 3) ==
	    SIO_REASM_ERROR);
	TEST_ASSERT(!sio_packet_reasm_pending(&r));

	/* Exactly the limit is fine, and the count restarts per packet. */
	for (i = 0; i < 2; i++) {
		TEST_ASSERT(reasm_text(&r, &p, "52-[\"m\"]") == SIO_REASM_MORE);
		TEST_ASSERT(sio_packet_reasm_binary(&r, &p, U8("abc"), 3) ==
		    SIO_REASM_MORE);
		TEST_ASSERT(sio_packet_reasm_binary(&r, &p, U8("de"), 2) ==
		    SIO_REASM_PACKET);
		sio_packet_clear(&p);
	}

	/* SIO_PACKET_MAX_ATTACHMENTS attachments. */
	sio_packet_reasm_init(&r, 1000);
	n = (size_t)snprintf(buf, sizeof(buf), "5%d-[\"m\"",
	    SIO_PACKET_MAX_ATTACHMENTS);
	for (i = 0; i < SIO_PACKET_MAX_ATTACHMENTS; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		    ",{\"_placeholder\":true,\"num\":%zu}", i);
	snprintf(buf + n, sizeof(buf) - n, "]");
	TEST_ASSERT(reasm_text(&r, &p, buf) == SIO_REASM_MORE);
	for (i = 0; i + 1 < SIO_PACKET_MAX_ATTACHMENTS; i++)
		TEST_ASSERT(sio_packet_reasm_binary(&r, &p, U8("x"), 1) ==
		    SIO_REASM_MORE);
	TEST_ASSERT(sio_packet_reasm_binary(&r, &p, U8("y"), 1) ==
	    SIO_REASM_PACKET);
	TEST_ASSERT(p.natt == SIO_PACKET_MAX_ATTACHMENTS);
	TEST_ASSERT(p.att[SIO_PACKET_MAX_ATTACHMENTS - 1].data[0] == 'y');
	sio_packet_clear(&p);

	return (0);
}

/* The suite's binary echo: "message" -> "message-back", same buffers. */
static int
test_reasm_echo(void)
{
	struct sio_packet_reasm	r;
	struct sio_packet	p;
	struct sbuf		sb;

	sio_packet_reasm_init(&r, 1000);
	sbuf_init(&sb);
	TEST_ASSERT(reasm_text(&r, &p, "51-[\"message\",{\"_placeholder\":"
	    "true,\"num\":0}]") == SIO_REASM_MORE);
	TEST_ASSERT(sio_packet_reasm_binary(&r, &p, U8("\x01\x02\x03"), 3) ==
	    SIO_REASM_PACKET);

	TEST_ASSERT(json_array_set_new(p.data, 0,
	    json_string("message-back")) == 0);
	sbuf_append_byte(&sb, '4');
	TEST_ASSERT(sio_packet_encode_pkt(&sb, &p));
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len, "451-[\"message-back\","
	    "{\"_placeholder\":true,\"num\":0}]"));
	sio_packet_clear(&p);

	/* A text packet encodes without an attachment count. */
	sbuf_reset(&sb);
	TEST_ASSERT(reasm_text(&r, &p, "3/a,5[]") == SIO_REASM_PACKET);
	TEST_ASSERT(sio_packet_encode_pkt(&sb, &p));
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len, "3/a,5[]"));
	sio_packet_clear(&p);
	sbuf_free(&sb);

	return (0);
}

static int
test_packet_alloc(void)
{
	struct sio_packet	*p;
	struct sio_packet	 q;

	p = sio_packet_new();
	TEST_ASSERT(p->ack_id == -1 && p->nsp == NULL && p->data == NULL);
	TEST_ASSERT(sio_packet_decode(p, U8("2[\"x\"]"), 6));
	sio_packet_free(p);
	sio_packet_free(NULL);

	sio_packet_init(&q);
	sio_packet_clear(&q);
	sio_packet_clear(&q);
	TEST_ASSERT(q.ack_id == -1);

	return (0);
}

int
main(void)
{
	TEST_RUN(test_types);
	TEST_RUN(test_connect);
	TEST_RUN(test_disconnect);
	TEST_RUN(test_event);
	TEST_RUN(test_reserved);
	TEST_RUN(test_ack);
	TEST_RUN(test_connect_error);
	TEST_RUN(test_binary_header);
	TEST_RUN(test_nsp);
	TEST_RUN(test_ack_id);
	TEST_RUN(test_json_errors);
	TEST_RUN(test_encode);
	TEST_RUN(test_encode_errors);
	TEST_RUN(test_json_numbers);
	TEST_RUN(test_json_strings);
	TEST_RUN(test_json_objects);
	TEST_RUN(test_roundtrip);
	TEST_RUN(test_placeholder);
	TEST_RUN(test_reasm_basic);
	TEST_RUN(test_reasm_errors);
	TEST_RUN(test_reasm_limits);
	TEST_RUN(test_reasm_echo);
	TEST_RUN(test_packet_alloc);

	return (TEST_REPORT("test_sio_packet"));
}
