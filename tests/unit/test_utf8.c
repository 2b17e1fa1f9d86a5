/*
 * test_utf8.c: unit tests for src/util/utf8.c. Every code point is
 * encoded by a reference encoder here and read back; every 2- and
 * 3-byte string is checked against that encoder (accepted exactly when
 * it is the encoding of what it decodes to); the edges of RFC 3629's
 * table (overlong forms, surrogates, past U+10FFFF, short input) by name.
 */

#include <stdint.h>
#include <string.h>

#include "utf8.h"
#include "test_help.h"

static size_t	ref_encode(uint32_t, uint8_t [4]);

static int	test_every_code_point(void);
static int	test_every_short_string(void);
static int	test_edges(void);

int
main(void)
{
	TEST_RUN(test_every_code_point);
	TEST_RUN(test_every_short_string);
	TEST_RUN(test_edges);

	return (TEST_REPORT("test_utf8"));
}

/* The shortest encoding of cp, surrogates included (they must fail). */
static size_t
ref_encode(uint32_t cp, uint8_t out[4])
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return (1);
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | cp >> 6);
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return (2);
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xe0 | cp >> 12);
		out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return (3);
	}
	out[0] = (uint8_t)(0xf0 | cp >> 18);
	out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return (4);
}

static int
test_every_code_point(void)
{
	uint8_t		b[4];
	uint32_t	cp, got;
	size_t		n;

	for (cp = 0; cp <= 0x10ffff; cp++) {
		n = ref_encode(cp, b);
		if (cp >= 0xd800 && cp <= 0xdfff) {
			TEST_ASSERT(utf8_seq(b, n) == 0);
			TEST_ASSERT(utf8_decode(b, n, &got) == 0);
			continue;
		}
		TEST_ASSERT(utf8_seq(b, n) == n);
		got = 0xffffffff;
		TEST_ASSERT(utf8_decode(b, n, &got) == n);
		TEST_ASSERT(got == cp);
		/* One byte short is never a character (ASCII has none). */
		if (n > 1)
			TEST_ASSERT(utf8_seq(b, n - 1) == 0);
	}

	return (0);
}

static int
test_every_short_string(void)
{
	uint8_t		s[3], ref[4];
	uint32_t	v, cp;
	size_t		n, len;

	for (v = 0; v < 0x1000000; v++) {
		s[0] = (uint8_t)(v >> 16);
		s[1] = (uint8_t)(v >> 8);
		s[2] = (uint8_t)v;
		n = utf8_decode(s, 3, &cp);
		if (s[0] < 0x80) {
			TEST_ASSERT(n == 1 && cp == s[0]);
			continue;
		}
		if (n == 0)
			continue;
		/* Accepted: it must be the one encoding of cp. */
		TEST_ASSERT(n == 2 || n == 3);
		len = ref_encode(cp, ref);
		TEST_ASSERT(len == n && memcmp(ref, s, n) == 0);
		TEST_ASSERT(!(cp >= 0xd800 && cp <= 0xdfff));
	}

	return (0);
}

static int
test_edges(void)
{
	static const struct {
		const char	*s;
		size_t		 seq;
	} cases[] = {
		{ "\xc0\x80", 0 },		/* overlong NUL */
		{ "\xc1\xbf", 0 },		/* overlong U+7F */
		{ "\xc2\x80", 2 },		/* U+0080 */
		{ "\xe0\x9f\xbf", 0 },		/* overlong U+07FF */
		{ "\xe0\xa0\x80", 3 },		/* U+0800 */
		{ "\xed\x9f\xbf", 3 },		/* U+D7FF */
		{ "\xed\xa0\x80", 0 },		/* U+D800 */
		{ "\xed\xbf\xbf", 0 },		/* U+DFFF */
		{ "\xee\x80\x80", 3 },		/* U+E000 */
		{ "\xef\xbf\xbf", 3 },		/* U+FFFF */
		{ "\xf0\x8f\xbf\xbf", 0 },	/* overlong U+FFFF */
		{ "\xf0\x90\x80\x80", 4 },	/* U+10000 */
		{ "\xf4\x8f\xbf\xbf", 4 },	/* U+10FFFF */
		{ "\xf4\x90\x80\x80", 0 },	/* U+110000 */
		{ "\xf5\x80\x80\x80", 0 },
		{ "\xff", 0 },
		{ "\x80", 0 },			/* lone continuation */
		{ "\xe2\x28\xa1", 0 },		/* bad second byte */
		{ "\xe2\x82\x28", 0 },		/* bad third byte */
		{ "\xf0\x9f\x98\x28", 0 },	/* bad fourth byte */
		{ "\xf0\x9f\x98\x80", 4 },	/* U+1F600 */
	};
	size_t		i;
	uint32_t	cp;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TEST_ASSERT(utf8_seq((const uint8_t *)cases[i].s,
		    strlen(cases[i].s)) == cases[i].seq);
	}

	TEST_ASSERT(utf8_seq((const uint8_t *)"", 0) == 0);
	TEST_ASSERT(utf8_seq((const uint8_t *)"\xf0\x9f\x98", 3) == 0);
	TEST_ASSERT(utf8_decode((const uint8_t *)"\xf0\x9f\x98\x80", 4,
	    &cp) == 4 && cp == 0x1f600);
	TEST_ASSERT(utf8_decode((const uint8_t *)"\0", 1, &cp) == 1 &&
	    cp == 0);

	return (0);
}
