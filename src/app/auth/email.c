/*
 * Emails in the one form users are stored and found by (email.h).
 *
 * Compatibility normalization (NFKC) folds the look-alikes Unicode
 * itself calls the same character: fullwidth letters ("\uff42ob"), the
 * fullwidth at sign, ligatures, ideographic spaces. Lowercasing is
 * Unicode's full case mapping of the NFKC form (libunistring's
 * u8_tolower(), which normalizes its result to NFKC again); for ASCII it
 * is what korio always did, so existing users are found as before. What
 * NFKC leaves alone but no one can see, format characters (general
 * category Cf) and the other default-ignorable code points, is refused
 * rather than stripped: the client is told which one, and a name with
 * one never matches anybody.
 */

#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "auth/email.h"

/* Room for most results; longer ones come from libunistring's malloc. */
#define EMAIL_BUF		(EMAIL_MAX * 4)

/* Code points refused inside an email, apart from the invisible ones. */
#define EMAIL_REFUSED		(UC_CATEGORY_MASK_Cc | UC_CATEGORY_MASK_Cs | \
				 UC_CATEGORY_MASK_Co | UC_CATEGORY_MASK_Cn | \
				 UC_CATEGORY_MASK_Z)

static enum email_result	email_scan(const uint8_t *, size_t, uint32_t,
				    uint32_t *);
static enum email_result	email_finish(const uint8_t *, size_t,
				    char [EMAIL_MAX + 1], uint32_t *);
static int			email_invisible(ucs4_t);
static int			email_blank(uint8_t);

enum email_result
email_normalize(const char *s, size_t len, char out[EMAIL_MAX + 1],
    uint32_t *bad)
{
	const uint8_t		*in = (const uint8_t *)s;
	uint8_t			 nfkc[EMAIL_BUF], buf[EMAIL_BUF];
	uint8_t			*norm, *low;
	size_t			 n, m;
	enum email_result	 r;

	out[0] = '\0';
	*bad = 0;
	if (len > EMAIL_IN_MAX || memchr(in, '\0', len) != NULL ||
	    u8_check(in, len) != NULL)
		return (EMAIL_INVALID);

	/* Name the invisible character as the client sent it. */
	if ((r = email_scan(in, len, 0, bad)) != EMAIL_OK)
		return (r);

	/*
	 * NFKC first: u8_tolower() maps the cases of the characters it is
	 * given, so U+3381 (a square "nA") must be "nA" before it can be
	 * "na". Its own NFKC then recomposes what the mapping decomposed.
	 */
	n = sizeof(nfkc);
	if ((norm = u8_normalize(UNINORM_NFKC, in, len, nfkc, &n)) == NULL)
		return (EMAIL_INVALID);
	m = sizeof(buf);
	low = u8_tolower(norm, n, NULL, UNINORM_NFKC, buf, &m);

	r = low == NULL ? EMAIL_INVALID : email_finish(low, m, out, bad);
	if (norm != nfkc)
		free(norm);
	if (low != buf)
		free(low);

	return (r);
}

/*
 * The normalized bytes, trimmed, checked and copied out: EMAIL_OK, or
 * why not (*bad: the offending code point).
 */
static enum email_result
email_finish(const uint8_t *s, size_t n, char out[EMAIL_MAX + 1],
    uint32_t *bad)
{
	const char		*at;
	enum email_result	 r;

	while (n > 0 && email_blank(*s)) {
		s++;
		n--;
	}
	while (n > 0 && email_blank(s[n - 1]))
		n--;
	if (n == 0 || n > EMAIL_MAX)
		return (EMAIL_INVALID);

	if ((r = email_scan(s, n, EMAIL_REFUSED, bad)) != EMAIL_OK)
		return (r);

	memcpy(out, s, n);
	out[n] = '\0';

	at = strchr(out, '@');
	if (at == NULL || at == out || at[1] == '\0') {
		out[0] = '\0';
		return (EMAIL_INVALID);
	}

	return (EMAIL_OK);
}

/*
 * The first code point of the n bytes of valid UTF-8 at s that is
 * invisible, or in one of the general categories of mask.
 */
static enum email_result
email_scan(const uint8_t *s, size_t n, uint32_t mask, uint32_t *bad)
{
	ucs4_t		uc;
	int		len;

	while (n > 0) {
		if ((len = u8_mbtouc(&uc, s, n)) <= 0)
			return (EMAIL_INVALID);
		if (email_invisible(uc)) {
			*bad = uc;
			return (EMAIL_INVISIBLE);
		}
		if (mask != 0 && uc_is_general_category_withtable(uc, mask)) {
			*bad = uc;
			return (EMAIL_INVALID);
		}
		s += len;
		n -= (size_t)len;
	}

	return (EMAIL_OK);
}

static int
email_invisible(ucs4_t uc)
{
	return (uc_is_general_category_withtable(uc, UC_CATEGORY_MASK_Cf) ||
	    uc_is_property_default_ignorable_code_point(uc));
}

/* The ASCII blanks trimmed around an email (isspace() in the C locale). */
static int
email_blank(uint8_t c)
{
	return (c == ' ' || (c >= '\t' && c <= '\r'));
}
