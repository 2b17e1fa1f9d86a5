/*
 * utf8.c: the length and code point of one well-formed UTF-8 sequence.
 *
 * Well-formed is RFC 3629's table 3-7: no overlong forms, no surrogates
 * (U+D800-U+DFFF), nothing past U+10FFFF, every continuation byte in
 * 0x80-0xBF. The callers decide what a malformed byte becomes (an error,
 * U+FFFD, or the byte itself).
 */

#include "utf8.h"

/*
 * Length of the well-formed sequence s (len bytes left) starts with:
 * 1 for ASCII, 2 to 4 for the rest, 0 when it is not one.
 */
size_t
utf8_seq(const uint8_t *s, size_t len)
{
	size_t		n, i;
	uint8_t		lo, hi;

	if (len == 0)
		return (0);
	if (s[0] < 0x80)
		return (1);

	lo = 0x80;
	hi = 0xbf;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return (0);

	if (len < n || s[1] < lo || s[1] > hi)
		return (0);
	for (i = 2; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return (0);
	}

	return (n);
}

/*
 * The code point of the well-formed sequence s starts with in *cp, and
 * its length; 0 (and *cp untouched) when it is not one.
 */
size_t
utf8_decode(const uint8_t *s, size_t len, uint32_t *cp)
{
	size_t		n, i;
	uint32_t	c;

	if ((n = utf8_seq(s, len)) == 0)
		return (0);
	if (n == 1) {
		*cp = s[0];
		return (1);
	}

	c = s[0] & (0x7f >> n);
	for (i = 1; i < n; i++)
		c = c << 6 | (s[i] & 0x3f);
	*cp = c;

	return (n);
}
