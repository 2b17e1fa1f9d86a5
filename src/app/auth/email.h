/*
 * korio: emails as users are found by (email.c): the one form an email
 * is stored, looked up and limited in, so that look-alikes of an address
 * ("\uff42ob@x.com", "BOB@x.com") are that address and invisible
 * characters can't make a second account beside it ("bob@x.com\u200b").
 *
 * Pure module (libunistring only): no Kore, no global state, so pool
 * threads, unit tests and the fuzzer call it alike.
 *
 * email_normalize(s, len, out, bad): the normal form of the len bytes at
 *   s in out: NFKC, lowercased (full Unicode case mapping), ASCII blanks
 *   trimmed at both ends. Returns
 *     EMAIL_OK         out holds 1 to EMAIL_MAX bytes with an @ that has
 *                      text on both sides;
 *     EMAIL_INVISIBLE  s holds a format character (general category Cf:
 *                      U+200B, U+200D, U+2060, U+FEFF, U+00AD...) or
 *                      another default-ignorable one (variation
 *                      selectors, Hangul fillers): *bad is the first;
 *     EMAIL_INVALID    anything else: not UTF-8, NUL or other control
 *                      characters, blanks or separators inside, private
 *                      use or unassigned code points, no local@domain
 *                      shape, over EMAIL_IN_MAX bytes in or EMAIL_MAX
 *                      out.
 *   out is "" unless EMAIL_OK. The result is a fixed point:
 *   email_normalize() of an out gives the same out back.
 */

#ifndef KORIO_EMAIL_H
#define KORIO_EMAIL_H

#include <stddef.h>
#include <stdint.h>

#define EMAIL_MAX	254	/* bytes of a normalized email */
#define EMAIL_IN_MAX	1024	/* bytes of input looked at */

enum email_result {
	EMAIL_OK = 0,
	EMAIL_INVALID,
	EMAIL_INVISIBLE
};

/* email.c */
enum email_result	email_normalize(const char *, size_t,
			    char [EMAIL_MAX + 1], uint32_t *);

#endif /* !KORIO_EMAIL_H */
