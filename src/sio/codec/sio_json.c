/*
 * sio_json.c: the JSON writer of the Socket.IO codec (pure: libc +
 * jansson), used by sio_packet_encode(); sio_packet_json() is exposed so
 * the glue can serialise arguments once.
 *
 * It writes JSON exactly like JSON.stringify(): compact, object keys
 * in insertion order, numbers in JavaScript's shortest round-trip form
 * (1.0 -> 1, 0.1 -> 0.1, 1e21 -> 1e+21; integers beyond 2^53 as the
 * double JS would hold: 9007199254740993 -> 9007199254740992), strings
 * escaped as in sbuf_append_jstr(). So the text is what the Node
 * server would write for the same value, and decoding our own output
 * gives it back unchanged. The only known difference: JS objects list
 * integer-like keys ("1", "2") first, we keep insertion order.
 */

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sio_packet.h"

/* 2^53: integers up to this are exact in a JavaScript number. */
#define SIO_JSON_JS_SAFE	9007199254740992LL

static int	 sio_json_real_try(double, const char *, int, int);
static void	 sio_json_real_step(char *, int, int *, int);
static void	 sio_json_real_nearest(double, int, char *, int *);
static int	 sio_json_real_shortest(double, char *, int *);
static void	 sio_json_object(struct sbuf *, const json_t *);

/*
 * jansson's object iterators take a non-const json_t although they do
 * not modify it; this keeps the cast in one place.
 */
json_t *
sio_json_unconst(const json_t *json)
{
	return ((json_t *)(uintptr_t)json);
}

/* Append v in decimal, as JSON and the packet grammar write integers. */
void
sio_json_int(struct sbuf *out, int64_t v)
{
	char		 buf[24], *p;
	uint64_t	 u;

	u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	p = buf + sizeof(buf);
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';

	sbuf_append(out, p, (size_t)(buf + sizeof(buf) - p));
}

/* 1 if the digits d[0..k) times 10^(e - k + 1) read back as v. */
static int
sio_json_real_try(double v, const char *d, int k, int e)
{
	char		buf[48];

	/* An integer mantissa: no decimal point, so no locale issue. */
	snprintf(buf, sizeof(buf), "%.*se%d", k, d, e - (k - 1));

	return (strtod(buf, NULL) == v);
}

/*
 * Move the k-digit decimal d x 10^e one unit in the last place up
 * (dir 1) or down (dir -1), keeping k digits: 9.99e4 + 1 -> 1.00e5,
 * 1.00e5 - 1 -> 9.99e4.
 */
static void
sio_json_real_step(char *d, int k, int *e, int dir)
{
	int		i;

	for (i = k - 1; i >= 0; i--) {
		if (dir > 0 && d[i] == '9')
			d[i] = '0';
		else if (dir < 0 && d[i] == '0')
			d[i] = '9';
		else {
			d[i] = (char)(d[i] + dir);
			break;
		}
	}

	if (i < 0) {
		/* 9..9 + 1: carry out of the top digit. */
		d[0] = '1';
		(*e)++;
	} else if (i == 0 && d[0] == '0') {
		/* 1..0 - 1: the borrow emptied the top digit. */
		memset(d, '9', (size_t)k);
		(*e)--;
	}
}

/* The k-digit correctly rounded decimal of v: digits to d, exponent. */
static void
sio_json_real_nearest(double v, int k, char *d, int *e)
{
	char		 buf[40];
	const char	*p;
	int		 n;

	snprintf(buf, sizeof(buf), "%.*e", k - 1, v);

	/* "d.ddde+XX" in any locale: the digits, then the exponent. */
	for (p = buf, n = 0; *p != 'e'; p++) {
		if (*p >= '0' && *p <= '9' && n < k)
			d[n++] = *p;
	}
	*e = (int)strtol(p + 1, NULL, 10);
}

/*
 * Find the shortest decimal d (k digits, possibly with trailing zeros)
 * x 10^e that reads back as v (v > 0, finite), the closest one when
 * several have that length, as ECMAScript's Number::toString requires.
 * Returns k.
 *
 * For a normal double at most one 15-digit decimal reads back (the
 * spacing of 15-digit decimals exceeds the binary rounding interval:
 * DBL_DIG), so if the correctly rounded 15-digit form does, its
 * significant digits are the answer and no shorter length needs a try.
 * Otherwise 16 and 17 digits: the correctly rounded value is the
 * closest, but when it does not read back the neighbour on the other
 * side of v still may (powers of two have an asymmetric rounding
 * interval: 2^-24 is 5.960464477539063e-8). 17 digits always do.
 * Subnormals have fewer significant bits and walk up from 1 digit.
 */
static int
sio_json_real_shortest(double v, char *d, int *e)
{
	char		alt[20];
	int		k, ae, dir;

	for (k = v >= DBL_MIN ? DBL_DIG : 1; k < 17; k++) {
		sio_json_real_nearest(v, k, d, e);
		if (sio_json_real_try(v, d, k, *e))
			return (k);

		for (dir = -1; dir <= 1; dir += 2) {
			memcpy(alt, d, (size_t)k);
			ae = *e;
			sio_json_real_step(alt, k, &ae, dir);
			if (sio_json_real_try(v, alt, k, ae)) {
				memcpy(d, alt, (size_t)k);
				*e = ae;
				return (k);
			}
		}
	}

	sio_json_real_nearest(v, 17, d, e);

	return (17);
}

/*
 * Append a double as JavaScript's Number.prototype.toString() (and so
 * JSON.stringify()) writes it: the shortest digit string that reads
 * back as the same double, in plain notation for exponents -7 < e < 21,
 * otherwise as d.ddde+X. NaN and the infinities become null, -0 is 0.
 * Exposed for the Redis adapter's msgpack codec (cluster/).
 */
void
sio_json_real(struct sbuf *out, double v)
{
	char		digits[20];
	int		k, n, e, i;

	if (!isfinite(v)) {
		sbuf_append_str(out, "null");
		return;
	}
	if (v == 0) {
		sbuf_append_byte(out, '0');
		return;
	}
	if (v < 0) {
		sbuf_append_byte(out, '-');
		v = -v;
	}

	k = sio_json_real_shortest(v, digits, &e);
	while (k > 1 && digits[k - 1] == '0')
		k--;
	n = e + 1;

	if (k <= n && n <= 21) {
		sbuf_append(out, digits, (size_t)k);
		for (i = k; i < n; i++)
			sbuf_append_byte(out, '0');
	} else if (0 < n && n <= 21) {
		sbuf_append(out, digits, (size_t)n);
		sbuf_append_byte(out, '.');
		sbuf_append(out, digits + n, (size_t)(k - n));
	} else if (-6 < n && n <= 0) {
		sbuf_append_str(out, "0.");
		for (i = n; i < 0; i++)
			sbuf_append_byte(out, '0');
		sbuf_append(out, digits, (size_t)k);
	} else {
		sbuf_append_byte(out, (uint8_t)digits[0]);
		if (k > 1) {
			sbuf_append_byte(out, '.');
			sbuf_append(out, digits + 1, (size_t)(k - 1));
		}
		sbuf_appendf(out, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
	}
}

static void
sio_json_object(struct sbuf *out, const json_t *json)
{
	json_t		*obj, *value;
	const char	*key;
	size_t		 klen;
	int		 first;

	obj = sio_json_unconst(json);
	first = 1;
	sbuf_append_byte(out, '{');
	json_object_keylen_foreach(obj, key, klen, value) {
		if (!first)
			sbuf_append_byte(out, ',');
		first = 0;
		sbuf_append_jstr(out, key, klen);
		sbuf_append_byte(out, ':');
		sio_packet_json(out, value);
	}
	sbuf_append_byte(out, '}');
}

/*
 * Append json to out as JSON.stringify() would write it (see the top
 * of this file). Exposed so the glue can serialise arguments once.
 */
void
sio_packet_json(struct sbuf *out, const json_t *json)
{
	json_int_t	iv;
	size_t		i, n;

	switch (json_typeof(json)) {
	case JSON_OBJECT:
		sio_json_object(out, json);
		break;
	case JSON_ARRAY:
		sbuf_append_byte(out, '[');
		n = json_array_size(json);
		for (i = 0; i < n; i++) {
			if (i > 0)
				sbuf_append_byte(out, ',');
			sio_packet_json(out, json_array_get(json, i));
		}
		sbuf_append_byte(out, ']');
		break;
	case JSON_STRING:
		sbuf_append_jstr(out, json_string_value(json),
		    json_string_length(json));
		break;
	case JSON_INTEGER:
		iv = json_integer_value(json);
		if (iv >= -SIO_JSON_JS_SAFE && iv <= SIO_JSON_JS_SAFE)
			sio_json_int(out, iv);
		else
			sio_json_real(out, (double)iv);
		break;
	case JSON_REAL:
		sio_json_real(out, json_real_value(json));
		break;
	case JSON_TRUE:
		sbuf_append_str(out, "true");
		break;
	case JSON_FALSE:
		sbuf_append_str(out, "false");
		break;
	case JSON_NULL:
		sbuf_append_str(out, "null");
		break;
	}
}
