/*
 * test_email.c: unit tests for src/app/auth/email.c (the normal form of
 * emails: NFKC, lowercase, trimmed; invisible characters refused).
 */

#include <string.h>

#include "auth/email.h"
#include "test_help.h"

static int	norm_is(const char *, const char *);
static int	refused(const char *, enum email_result, uint32_t);

static int	test_ascii(void);
static int	test_lookalikes(void);
static int	test_invisible(void);
static int	test_invalid(void);
static int	test_lengths(void);
static int	test_fixed_point(void);

int
main(void)
{
	TEST_RUN(test_ascii);
	TEST_RUN(test_lookalikes);
	TEST_RUN(test_invisible);
	TEST_RUN(test_invalid);
	TEST_RUN(test_lengths);
	TEST_RUN(test_fixed_point);

	return (TEST_REPORT("test_email"));
}

/* s normalizes to want. */
static int
norm_is(const char *s, const char *want)
{
	char		out[EMAIL_MAX + 1];
	uint32_t	bad;

	if (email_normalize(s, strlen(s), out, &bad) != EMAIL_OK) {
		printf("  refused: \"%s\" (U+%04X)\n", s, (unsigned int)bad);
		return (0);
	}
	if (strcmp(out, want)) {
		printf("  \"%s\" -> \"%s\", want \"%s\"\n", s, out, want);
		return (0);
	}

	return (1);
}

/* s is refused with r, naming cp (when cp is not 0). */
static int
refused(const char *s, enum email_result r, uint32_t cp)
{
	char		out[EMAIL_MAX + 1];
	uint32_t	bad;

	if (email_normalize(s, strlen(s), out, &bad) != r || out[0] != '\0')
		return (0);

	return (cp == 0 || bad == cp);
}

/* What korio always did for ASCII: trim blanks, lowercase. */
static int
test_ascii(void)
{
	TEST_ASSERT(norm_is("bob@x.com", "bob@x.com"));
	TEST_ASSERT(norm_is("Bob@X.COM", "bob@x.com"));
	TEST_ASSERT(norm_is(" \tALICE@example.com\r\n", "alice@example.com"));
	TEST_ASSERT(norm_is("a+tag@b", "a+tag@b"));
	TEST_ASSERT(norm_is("a@b@c", "a@b@c"));

	return (0);
}

static int
test_lookalikes(void)
{
	/* Fullwidth letters and at sign. */
	TEST_ASSERT(norm_is("\xef\xbd\x82ob@x.com", "bob@x.com"));
	TEST_ASSERT(norm_is("\xef\xbc\xa2OB@X.COM", "bob@x.com"));
	TEST_ASSERT(norm_is("bob\xef\xbc\xa0x.com", "bob@x.com"));
	/* An ideographic space (U+3000) is a space: trimmed at the end. */
	TEST_ASSERT(norm_is("bob@x.com\xe3\x80\x80", "bob@x.com"));
	/* A no-break space (U+00A0) too. */
	TEST_ASSERT(norm_is("\xc2\xa0" "bob@x.com", "bob@x.com"));
	/* Ligature fi (U+FB01), mathematical bold b (U+1D41B). */
	TEST_ASSERT(norm_is("\xef\xac\x81@x", "fi@x"));
	TEST_ASSERT(norm_is("\xf0\x9d\x90\x9b" "ob@x", "bob@x"));
	/* Non-ASCII capitals, composed: O + U+0308 is U+00F6. */
	TEST_ASSERT(norm_is("J\xc3\x96RG@x.de", "j\xc3\xb6rg@x.de"));
	TEST_ASSERT(norm_is("jo\xcc\x88rg@x.de", "j\xc3\xb6rg@x.de"));
	/* Roman numeral one (U+2160) is I, so i. */
	TEST_ASSERT(norm_is("\xe2\x85\xa0@x", "i@x"));
	/* Sharp s stays: lowercase, not case folding. */
	TEST_ASSERT(norm_is("stra\xc3\x9f" "e@x", "stra\xc3\x9f" "e@x"));

	return (0);
}

static int
test_invisible(void)
{
	TEST_ASSERT(refused("bob@x.com\xe2\x80\x8b", EMAIL_INVISIBLE, 0x200b));
	TEST_ASSERT(refused("\xe2\x80\x8d" "bob@x.com", EMAIL_INVISIBLE,
	    0x200d));
	TEST_ASSERT(refused("bob\xef\xbb\xbf@x.com", EMAIL_INVISIBLE, 0xfeff));
	TEST_ASSERT(refused("bo\xe2\x81\xa0" "b@x.com", EMAIL_INVISIBLE,
	    0x2060));
	TEST_ASSERT(refused("bob@x\xc2\xad.com", EMAIL_INVISIBLE, 0xad));
	/* Right-to-left override, a tag character. */
	TEST_ASSERT(refused("bob@x\xe2\x80\xae.com", EMAIL_INVISIBLE, 0x202e));
	TEST_ASSERT(refused("bob@x.com\xf3\xa0\x80\x81", EMAIL_INVISIBLE,
	    0xe0001));
	/* Default-ignorable but not Cf: Hangul filler, variation selector. */
	TEST_ASSERT(refused("\xe3\x85\xa4" "bob@x.com", EMAIL_INVISIBLE,
	    0x3164));
	TEST_ASSERT(refused("bob@x.com\xef\xb8\x8f", EMAIL_INVISIBLE, 0xfe0f));
	/* Whatever comes first in the input is named. */
	TEST_ASSERT(refused(" bob\xe2\x80\x8c@x\xe2\x80\x8b", EMAIL_INVISIBLE,
	    0x200c));

	return (0);
}

static int
test_invalid(void)
{
	char		out[EMAIL_MAX + 1];
	uint32_t	bad;

	TEST_ASSERT(refused("", EMAIL_INVALID, 0));
	TEST_ASSERT(refused("   ", EMAIL_INVALID, 0));
	TEST_ASSERT(refused("bob", EMAIL_INVALID, 0));
	TEST_ASSERT(refused("@x", EMAIL_INVALID, 0));
	TEST_ASSERT(refused("bob@", EMAIL_INVALID, 0));
	TEST_ASSERT(refused("b ob@x", EMAIL_INVALID, 0x20));
	TEST_ASSERT(refused("b\tob@x", EMAIL_INVALID, 0x09));
	TEST_ASSERT(refused("b\x7fob@x", EMAIL_INVALID, 0x7f));
	/* C1 control, line separator, private use, unassigned. */
	TEST_ASSERT(refused("b\xc2\x85ob@x", EMAIL_INVALID, 0x85));
	TEST_ASSERT(refused("bob@x\xe2\x80\xa8", EMAIL_INVALID, 0x2028));
	TEST_ASSERT(refused("bob@\xee\x80\x80", EMAIL_INVALID, 0xe000));
	TEST_ASSERT(refused("bob@\xcd\xb8", EMAIL_INVALID, 0x378));
	/* Not UTF-8: a lone continuation byte, an overlong slash, CESU. */
	TEST_ASSERT(refused("b\x80ob@x", EMAIL_INVALID, 0));
	TEST_ASSERT(refused("bob@\xc0\xaf", EMAIL_INVALID, 0));
	TEST_ASSERT(refused("bob@\xed\xa0\x80", EMAIL_INVALID, 0));
	/* An embedded NUL ("\u0000" in JSON) is refused, not truncated. */
	TEST_ASSERT(email_normalize("bob@x\0y", 7, out, &bad) ==
	    EMAIL_INVALID);

	return (0);
}

static int
test_lengths(void)
{
	char		in[EMAIL_IN_MAX + 2], out[EMAIL_MAX + 1];
	uint32_t	bad;
	size_t		i;

	/* 254 bytes: the most; 255: too long. */
	memset(in, 'a', EMAIL_MAX);
	in[EMAIL_MAX - 2] = '@';
	in[EMAIL_MAX] = '\0';
	TEST_ASSERT(email_normalize(in, EMAIL_MAX, out, &bad) == EMAIL_OK);
	TEST_ASSERT(strlen(out) == EMAIL_MAX);
	TEST_ASSERT(email_normalize("a", 1, out, &bad) == EMAIL_INVALID);
	in[EMAIL_MAX] = 'a';
	TEST_ASSERT(email_normalize(in, EMAIL_MAX + 1, out, &bad) ==
	    EMAIL_INVALID);

	/* Fullwidth letters: 3 bytes in, 1 out: 84 of them fit. */
	for (i = 0; i < 84; i++)
		memcpy(in + i * 3, "\xef\xbd\x81", 3);
	memcpy(in + 252, "@b", 3);
	TEST_ASSERT(email_normalize(in, 254, out, &bad) == EMAIL_OK);
	TEST_ASSERT(strlen(out) == 86);

	/* U+FDFA grows to 33 bytes: the output bound holds. */
	for (i = 0; i < 10; i++)
		memcpy(in + i * 3, "\xef\xb7\xba", 3);
	memcpy(in + 30, "@b", 3);
	TEST_ASSERT(email_normalize(in, 32, out, &bad) == EMAIL_INVALID);

	/* Input past EMAIL_IN_MAX is not looked at. */
	memset(in, ' ', sizeof(in));
	memcpy(in, "a@b", 3);
	TEST_ASSERT(email_normalize(in, EMAIL_IN_MAX, out, &bad) == EMAIL_OK);
	TEST_ASSERT(email_normalize(in, EMAIL_IN_MAX + 1, out, &bad) ==
	    EMAIL_INVALID);

	return (0);
}

/* A normalized email normalizes to itself. */
static int
test_fixed_point(void)
{
	static const char	*in[] = { "\xef\xbc\xa2OB@X.COM",
				    "J\xc3\x96RG@x.de", "jo\xcc\x88rg@x.de",
				    "\xe1\xba\x9e@x", "\xc7\x85@x",
				    "\xce\xa3\xce\xa3@x", "\xe2\x84\xab@x",
				    "j\xcc\x88@.\xe3\x8e\x81", NULL };
	char			 a[EMAIL_MAX + 1], b[EMAIL_MAX + 1];
	uint32_t		 bad;
	size_t			 i;

	for (i = 0; in[i] != NULL; i++) {
		TEST_ASSERT(email_normalize(in[i], strlen(in[i]), a, &bad) ==
		    EMAIL_OK);
		TEST_ASSERT(email_normalize(a, strlen(a), b, &bad) ==
		    EMAIL_OK);
		TEST_ASSERT(!strcmp(a, b));
	}

	return (0);
}
