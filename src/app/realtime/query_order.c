/*
 * JavaScript's relational operators over jansson values, as Terreno's
 * $gt $gte $lt $lte see them (query.c), and the orders they rest on. A
 * NULL json_t * is undefined.
 *
 * Both operands go through ToPrimitive (arrays and objects become their
 * String()); two strings compare by UTF-16 code units, anything else
 * through ToNumber: true 1, false and null 0, undefined NaN, strings by
 * StringToNumber. NaN compares false.
 *
 * StringToNumber (query_order_number): JavaScript white space and line
 * terminators trimmed; empty is 0; [+-] with decimal digits, a point,
 * an exponent, or Infinity; 0x, 0o, 0b integers without a sign
 * (correctly rounded at any length); anything else, numeric separators
 * and "inf" included, is NaN.
 *
 * UTF-16 order differs from UTF-8 byte order only where a character
 * above U+FFFF (a surrogate pair, 0xD800-0xDFFF) meets one in
 * U+E000-U+FFFF: query_order_utf16_cmp() ranks code points that way.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "realtime/query.h"
#include "utf8.h"

/* A value after ToPrimitive: a string (str set) or a number. */
struct query_order_prim {
	const char	*str;
	size_t		 len;
	char		*owned;	/* str when it was rendered here */
	double		 num;
};

static void	 query_order_prim(struct query_order_prim *, const json_t *);
static double	 query_order_prim_number(const struct query_order_prim *);
static int	 query_order_space(uint32_t);
static double	 query_order_radix(const char *, size_t, int);
static int	 query_order_decimal(const char *, size_t);
static uint32_t	 query_order_rank(uint32_t);

/* ToPrimitive(v): arrays and objects become their String(). */
static void
query_order_prim(struct query_order_prim *p, const json_t *v)
{
	memset(p, 0, sizeof(*p));
	p->num = NAN;
	if (v == NULL)
		return;
	switch (json_typeof(v)) {
	case JSON_STRING:
		p->str = json_string_value(v);
		p->len = json_string_length(v);
		break;
	case JSON_ARRAY:
	case JSON_OBJECT:
		p->owned = query_js_string_new(v, &p->len);
		p->str = p->owned;
		break;
	case JSON_INTEGER:
		p->num = (double)json_integer_value(v);
		break;
	case JSON_REAL:
		p->num = json_real_value(v);
		break;
	case JSON_TRUE:
		p->num = 1;
		break;
	case JSON_FALSE:
	case JSON_NULL:
		p->num = 0;
		break;
	}
}

static double
query_order_prim_number(const struct query_order_prim *p)
{
	if (p->str != NULL)
		return (query_order_number(p->str, p->len));

	return (p->num);
}

/*
 * Compare a and b as JavaScript's < and > do: 1 with *cmp set (-1, 0,
 * 1), or 0 when the comparison is undefined (a NaN) and so every one of
 * < <= > >= is false.
 */
int
query_order_relate(const json_t *a, const json_t *b, int *cmp)
{
	struct query_order_prim	pa, pb;
	double			na, nb;
	int			ok;

	query_order_prim(&pa, a);
	query_order_prim(&pb, b);
	ok = 1;
	if (pa.str != NULL && pb.str != NULL) {
		*cmp = query_order_utf16_cmp(pa.str, pa.len, pb.str, pb.len);
	} else {
		na = query_order_prim_number(&pa);
		nb = query_order_prim_number(&pb);
		if (isnan(na) || isnan(nb))
			ok = 0;
		else
			*cmp = (na > nb) - (na < nb);
	}
	free(pa.owned);
	free(pb.owned);

	return (ok);
}

/* 1 for JavaScript's WhiteSpace and LineTerminator code points. */
static int
query_order_space(uint32_t c)
{
	switch (c) {
	case 0x09: case 0x0a: case 0x0b: case 0x0c: case 0x0d: case 0x20:
	case 0xa0: case 0x1680: case 0x2028: case 0x2029: case 0x202f:
	case 0x205f: case 0x3000: case 0xfeff:
		return (1);
	}

	return (c >= 0x2000 && c <= 0x200a);
}

/*
 * The integer of 0x, 0o or 0b digits (bits per digit: 4, 3, 1),
 * correctly rounded: the first 60 or so significant bits are kept
 * exactly, any later non-zero bit is folded into the lowest (a sticky
 * bit), which is enough for the 53 a double keeps.
 */
static double
query_order_radix(const char *s, size_t len, int bits)
{
	uint64_t	m;
	size_t		i;
	int		d, shift, sticky;

	if (len == 0)
		return (NAN);
	m = 0;
	shift = sticky = 0;
	for (i = 0; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'f')
			d = (s[i] | 0x20) - 'a' + 10;
		else
			return (NAN);
		if (d >= 1 << bits)
			return (NAN);
		if ((m >> (64 - bits)) == 0) {
			m = (m << bits) | (uint64_t)d;
		} else {
			shift += bits;
			sticky |= d != 0;
		}
	}

	return (ldexp((double)(m | (uint64_t)sticky), shift));
}

/* 1 if s is a StrDecimalLiteral: [+-] Infinity, or digits . digits e. */
static int
query_order_decimal(const char *s, size_t len)
{
	size_t		i, digits;

	i = 0;
	if (len > 0 && (s[0] == '+' || s[0] == '-'))
		i++;
	if (len - i == 8 && memcmp(s + i, "Infinity", 8) == 0)
		return (1);

	for (digits = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (i < len && s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	}
	if (digits == 0)
		return (0);
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		for (digits = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
		if (digits == 0)
			return (0);
	}

	return (i == len);
}

/* StringToNumber(s), see the top of this file. */
double
query_order_number(const char *s, size_t len)
{
	size_t		 i, n, start, end;
	uint32_t	 c;
	char		*copy;
	double		 v;

	start = len;
	end = 0;
	for (i = 0; i < len; i += n) {
		n = query_order_utf8(s + i, len - i, &c);
		if (!query_order_space(c)) {
			if (start == len)
				start = i;
			end = i + n;
		}
	}
	if (start == len)
		return (0);
	s += start;
	len = end - start;

	if (len > 2 && s[0] == '0' && (s[1] | 0x20) == 'x')
		return (query_order_radix(s + 2, len - 2, 4));
	if (len > 2 && s[0] == '0' && (s[1] | 0x20) == 'o')
		return (query_order_radix(s + 2, len - 2, 3));
	if (len > 2 && s[0] == '0' && (s[1] | 0x20) == 'b')
		return (query_order_radix(s + 2, len - 2, 1));
	if (!query_order_decimal(s, len))
		return (NAN);

	if ((copy = malloc(len + 1)) == NULL)
		query_oom();
	memcpy(copy, s, len);
	copy[len] = '\0';
	v = strtod(copy, NULL);
	free(copy);

	return (v);
}

/*
 * Decode the UTF-8 sequence at s (len > 0 bytes) into *cp; returns its
 * length. A malformed byte reads as itself, one byte long (jansson
 * strings are valid UTF-8; this only keeps reads in bounds).
 */
size_t
query_order_utf8(const char *s, size_t len, uint32_t *cp)
{
	size_t		n;

	if ((n = utf8_decode((const uint8_t *)s, len, cp)) == 0) {
		*cp = (unsigned char)s[0];
		n = 1;
	}

	return (n);
}

/*
 * Where a code point sorts among UTF-16 code units: a character above
 * U+FFFF starts with a surrogate (0xD800-0xDBFF), so it sorts after
 * U+D7FF and before U+E000-U+FFFF, and among others of its kind in
 * code point order.
 */
static uint32_t
query_order_rank(uint32_t cp)
{
	if (cp >= 0xe000 && cp <= 0xffff)
		return (cp + 0x110000);

	return (cp);
}

/* Compare two UTF-8 strings by their UTF-16 code units (< 0, 0, > 0). */
int
query_order_utf16_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t		i, j, n;
	uint32_t	ca, cb, ra, rb;

	n = alen < blen ? alen : blen;
	for (j = 0; j < n && a[j] == b[j]; j++)
		;
	if (j == n)
		return ((alen > blen) - (alen < blen));

	/* Both differ inside the same character: back to its first byte. */
	for (i = j; i > 0 && ((unsigned char)a[i] & 0xc0) == 0x80; i--)
		;
	(void)query_order_utf8(a + i, alen - i, &ca);
	(void)query_order_utf8(b + i, blen - i, &cb);
	ra = query_order_rank(ca);
	rb = query_order_rank(cb);
	if (ra != rb)
		return (ra < rb ? -1 : 1);

	/* Malformed input only: fall back to the bytes. */
	return ((unsigned char)a[j] < (unsigned char)b[j] ? -1 : 1);
}
