/*
 * test_sbuf.c: unit tests for src/sio/sbuf.c (buffer, base64, UTF-8,
 * JSON string escaping, allocation helpers).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/sbuf.h"
#include "test_help.h"

static int	test_sbuf_basic(void);
static int	test_sbuf_appendf(void);
static int	test_sbuf_release(void);
static int	test_sbuf_growth(void);
static int	test_b64_vectors(void);
static int	test_b64_binary(void);
static int	test_b64_invalid(void);
static int	test_utf8(void);
static int	test_jstr(void);
static int	test_alloc(void);

static int
test_sbuf_basic(void)
{
	struct sbuf	sb;

	sbuf_init(&sb);
	TEST_ASSERT(sb.data == NULL && sb.len == 0 && sb.cap == 0);

	sbuf_append(&sb, "abc", 3);
	sbuf_append_byte(&sb, 'd');
	sbuf_append_str(&sb, "ef");
	sbuf_append(&sb, NULL, 0);
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len, "abcdef"));
	TEST_ASSERT(strcmp(sbuf_cstr(&sb), "abcdef") == 0);
	TEST_ASSERT(sb.len == 6);

	sbuf_reset(&sb);
	TEST_ASSERT(sb.len == 0 && sb.cap >= 6 && sb.data != NULL);
	sbuf_append_str(&sb, "x");
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len, "x"));

	sbuf_free(&sb);
	TEST_ASSERT(sb.data == NULL && sb.len == 0 && sb.cap == 0);
	sbuf_free(&sb);

	return (0);
}

static int
test_sbuf_appendf(void)
{
	struct sbuf	 sb;
	char		*big;

	sbuf_init(&sb);
	sbuf_appendf(&sb, "%d-%s", 42, "x");
	sbuf_appendf(&sb, "%s", "");
	sbuf_appendf(&sb, "|%05u", 7U);
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len, "42-x|00007"));

	/* Longer than the spare room: the second vsnprintf path. */
	big = malloc(5001);
	TEST_ASSERT(big != NULL);
	memset(big, 'z', 5000);
	big[5000] = '\0';
	sbuf_appendf(&sb, "<%s>", big);
	TEST_ASSERT(sb.len == 10 + 5002);
	TEST_ASSERT(sb.data[10] == '<' && sb.data[sb.len - 1] == '>');
	TEST_ASSERT(sb.data[5010] == 'z');
	free(big);
	sbuf_free(&sb);

	return (0);
}

static int
test_sbuf_release(void)
{
	struct sbuf	 sb;
	uint8_t		*p;
	size_t		 len;

	sbuf_init(&sb);
	p = sbuf_release(&sb, &len);
	TEST_ASSERT(p != NULL && len == 0 && p[0] == '\0');
	free(p);

	sbuf_append_str(&sb, "hello");
	p = sbuf_release(&sb, &len);
	TEST_ASSERT(len == 5 && strcmp((char *)p, "hello") == 0);
	TEST_ASSERT(sb.data == NULL && sb.len == 0 && sb.cap == 0);
	free(p);

	sbuf_append_str(&sb, "again");
	p = sbuf_release(&sb, NULL);
	TEST_ASSERT(strcmp((char *)p, "again") == 0);
	free(p);

	return (0);
}

static int
test_sbuf_growth(void)
{
	struct sbuf	sb;
	size_t		i, reallocs, cap;

	sbuf_init(&sb);
	reallocs = 0;
	cap = 0;
	for (i = 0; i < 1000000; i++) {
		sbuf_append_byte(&sb, (uint8_t)i);
		if (sb.cap != cap) {
			cap = sb.cap;
			reallocs++;
		}
	}
	TEST_ASSERT(sb.len == 1000000);
	TEST_ASSERT(reallocs < 20);
	for (i = 0; i < sb.len; i += 9973)
		TEST_ASSERT(sb.data[i] == (uint8_t)i);

	sbuf_reset(&sb);
	sbuf_reserve(&sb, 10);
	TEST_ASSERT(sb.cap == cap);
	sbuf_free(&sb);

	return (0);
}

static int
test_b64_vectors(void)
{
	static const char *const vec[][2] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
		{ "\x01\x02\x03\x04", "AQIDBA==" },
		{ "\xfb\xff", "+/8=" },
	};
	struct sbuf	sb;
	size_t		i, n;

	sbuf_init(&sb);
	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		n = strlen(vec[i][0]);
		sbuf_reset(&sb);
		sbuf_b64_encode(&sb, (const uint8_t *)vec[i][0], n);
		TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len, vec[i][1]));
		TEST_ASSERT(sbuf_b64_len(n) == strlen(vec[i][1]));

		sbuf_reset(&sb);
		TEST_ASSERT(sbuf_b64_decode(&sb, (const uint8_t *)vec[i][1],
		    strlen(vec[i][1])) == 1);
		TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len, vec[i][0]));
	}

	/* Appends after existing content. */
	sbuf_reset(&sb);
	sbuf_append_str(&sb, "b");
	sbuf_b64_encode(&sb, (const uint8_t *)"\x01\x02\x03\x04", 4);
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len, "bAQIDBA=="));
	sbuf_free(&sb);

	return (0);
}

static int
test_b64_binary(void)
{
	struct sbuf	enc, dec;
	uint8_t		all[256];
	size_t		i, n;

	for (i = 0; i < sizeof(all); i++)
		all[i] = (uint8_t)i;

	sbuf_init(&enc);
	sbuf_init(&dec);
	for (n = 0; n <= sizeof(all); n++) {
		sbuf_reset(&enc);
		sbuf_reset(&dec);
		sbuf_b64_encode(&enc, all + sizeof(all) - n, n);
		TEST_ASSERT(enc.len == sbuf_b64_len(n));
		TEST_ASSERT(sbuf_b64_decode(&dec, enc.data, enc.len) == 1);
		TEST_ASSERT(dec.len == n);
		TEST_ASSERT(n == 0 ||
		    memcmp(dec.data, all + sizeof(all) - n, n) == 0);
	}
	sbuf_free(&enc);
	sbuf_free(&dec);

	return (0);
}

static int
test_b64_invalid(void)
{
	static const char *const bad[] = {
		"Zg=", "Zg", "Z", "Z===", "====", "A===", "=Zg=", "Zg==Zg==",
		"Zh==", "Zm9=", "Zm-v", "Zm_v", "Zm v", "Zm9v\n", "Zm9v====",
		"Zm\x80v", "Zg=A",
	};
	struct sbuf	sb;
	size_t		i;

	sbuf_init(&sb);
	sbuf_append_str(&sb, "keep");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sbuf_b64_decode(&sb, (const uint8_t *)bad[i],
		    strlen(bad[i])) != 0) {
			printf("accepted \"%s\"\n", bad[i]);
			TEST_ASSERT(0);
		}
		TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len, "keep"));
	}
	sbuf_free(&sb);

	return (0);
}

static int
test_utf8(void)
{
	static const char *const good[] = {
		"", "plain ascii", "h\xc3\xa9llo", "\xe2\x82\xac",
		"\xf0\x9f\x98\x80 smile", "\xef\xbb\xbf", "\xf4\x8f\xbf\xbf",
		"\xed\x9f\xbf",
	};
	static const char *const bad[] = {
		"\x80", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xed\xa0\x80",
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\xe2\x82",
		"ok\xc3", "\xf0\x9f\x98", "\xc3\x28", "\xf0\x80\x80\x80",
	};
	size_t		i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		TEST_ASSERT(sbuf_utf8_valid((const uint8_t *)good[i],
		    strlen(good[i])) == 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TEST_ASSERT(sbuf_utf8_valid((const uint8_t *)bad[i],
		    strlen(bad[i])) == 0);

	/* NUL is a valid code point. */
	TEST_ASSERT(sbuf_utf8_valid((const uint8_t *)"a\0b", 3) == 1);

	return (0);
}

static int
test_jstr(void)
{
	struct sbuf	sb;
	const char	in[] = "a\"b\\c/d\b\f\n\r\t\x01\x1f\x7f \xc3\xa9\0z";

	sbuf_init(&sb);
	sbuf_append_jstr(&sb, in, sizeof(in) - 1);
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len,
	    "\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\\u0001\\u001f\x7f \xc3\xa9"
	    "\\u0000z\""));

	sbuf_reset(&sb);
	sbuf_append_jstr(&sb, "", 0);
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len, "\"\""));

	sbuf_reset(&sb);
	sbuf_append_jstr(&sb, "\x1e", 1);
	TEST_ASSERT(TEST_MEMEQ(sb.data, sb.len, "\"\\u001e\""));
	sbuf_free(&sb);

	return (0);
}

static int
test_alloc(void)
{
	char		*s;
	uint8_t		*p;
	int		*a;

	s = sbuf_xstrdup("room");
	TEST_ASSERT(strcmp(s, "room") == 0);
	free(s);

	s = sbuf_xstrndup("abcdef", 3);
	TEST_ASSERT(strcmp(s, "abc") == 0);
	free(s);

	p = sbuf_xmemdup("", 0);
	TEST_ASSERT(p != NULL);
	free(p);

	p = sbuf_xmalloc(0);
	TEST_ASSERT(p != NULL);
	free(p);

	a = sbuf_xcalloc(4, sizeof(*a));
	TEST_ASSERT(a[0] == 0 && a[3] == 0);
	a = sbuf_xreallocarray(a, 1000, sizeof(*a));
	a[999] = 7;
	TEST_ASSERT(a[0] == 0 && a[999] == 7);
	free(a);

	return (0);
}

int
main(void)
{
	TEST_RUN(test_sbuf_basic);
	TEST_RUN(test_sbuf_appendf);
	TEST_RUN(test_sbuf_release);
	TEST_RUN(test_sbuf_growth);
	TEST_RUN(test_b64_vectors);
	TEST_RUN(test_b64_binary);
	TEST_RUN(test_b64_invalid);
	TEST_RUN(test_utf8);
	TEST_RUN(test_jstr);
	TEST_RUN(test_alloc);

	return (TEST_REPORT("test_sbuf"));
}
