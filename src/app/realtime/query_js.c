/*
 * JavaScript's String() and JSON.stringify() over jansson values, as
 * Terreno's query matcher and queryId see them (query.c). A NULL
 * json_t * is undefined.
 *
 * - String(v): strings as they are, numbers as Number::toString writes
 *   them, "true", "false", "null", "undefined", arrays as their
 *   elements' String() joined by "," (null elements empty), objects as
 *   "[object Object]". Loose equality (query_js_loose_eq) is
 *   String(a) === String(b): for JSON values a === b implies it, and a
 *   document's object is never the query's object.
 * - JSON.stringify(v) (query_js_json): compact; keys that are array
 *   indices ("0" to "4294967294", no leading zero) first in numeric
 *   order, as a JavaScript object holds them, then the others in stored
 *   order (jansson keeps insertion order) or, for the top level of a
 *   queryId, sorted by UTF-16 code units; strings escape only '"', '\'
 *   and U+0000-U+001F (\b \f \n \r \t, else \u00xx), the rest stays raw
 *   (jansson strings are valid UTF-8, so no lone surrogates); numbers in
 *   the shortest form that reads back, -0 as 0, integers beyond 2^53 as
 *   the double JavaScript would hold.
 */

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "realtime/query.h"

/* 2^53: integers up to this are exact in a JavaScript number. */
#define QUERY_JS_SAFE_INT	9007199254740992LL

/* The largest array index, 2^32 - 2. */
#define QUERY_JS_INDEX_MAX	4294967294LL

typedef void	(*query_js_writer)(FILE *, const json_t *);

static char	*query_js_render(query_js_writer, const json_t *, size_t *);
static void	 query_js_string(FILE *, const json_t *);
static const char *query_js_string_of(const json_t *, size_t *, char **);
static int	 query_js_string_is(const char *, size_t, const json_t *);
static int	 query_js_loose_any(const json_t *, const json_t *,
		    const json_t *);
static void	 query_js_json_value(FILE *, const json_t *);
static void	 query_js_object(FILE *, const json_t *, int);
static void	 query_js_jstr(FILE *, const char *, size_t);
static void	 query_js_integer(FILE *, json_int_t);
static int	 query_js_shortest(double, char *, int *);
static int	 query_js_reads_back(uint64_t, int, double);
static int	 query_js_key_held(const void *, const void *);
static int	 query_js_key_utf16(const void *, const void *);

/* For jansson's iterators, which read but are declared with json_t *. */
json_t *
query_unconst(const json_t *json)
{
	return ((json_t *)(uintptr_t)json);
}

/* Nothing here can recover from an allocation failure (as sbuf_oom). */
void
query_oom(void)
{
	abort();
}

/* Run a writer into a new string of *lenp bytes (caller frees). */
static char *
query_js_render(query_js_writer fn, const json_t *v, size_t *lenp)
{
	FILE	*f;
	char	*buf;
	size_t	 len;

	buf = NULL;
	len = 0;
	if ((f = open_memstream(&buf, &len)) == NULL)
		query_oom();
	fn(f, v);
	if (ferror(f) || fclose(f) != 0)
		query_oom();
	*lenp = len;

	return (buf);
}

/* String(v), see the top of this file. */
static void
query_js_string(FILE *f, const json_t *v)
{
	size_t		i;

	if (v == NULL) {
		fputs("undefined", f);
		return;
	}
	switch (json_typeof(v)) {
	case JSON_STRING:
		fwrite(json_string_value(v), 1, json_string_length(v), f);
		break;
	case JSON_ARRAY:
		for (i = 0; i < json_array_size(v); i++) {
			if (i > 0)
				fputc(',', f);
			if (!json_is_null(json_array_get(v, i)))
				query_js_string(f, json_array_get(v, i));
		}
		break;
	case JSON_OBJECT:
		fputs("[object Object]", f);
		break;
	default:
		/* Numbers, booleans and null read as in JSON. */
		query_js_json_value(f, v);
		break;
	}
}

/* String(v) as a new string of *lenp bytes (caller frees). */
char *
query_js_string_new(const json_t *v, size_t *lenp)
{
	return (query_js_render(query_js_string, v, lenp));
}

/* String(v): its bytes, rendered into *owned (caller frees) unless a string. */
static const char *
query_js_string_of(const json_t *v, size_t *lenp, char **owned)
{
	*owned = NULL;
	if (json_is_string(v)) {
		*lenp = json_string_length(v);
		return (json_string_value(v));
	}
	*owned = query_js_string_new(v, lenp);

	return (*owned);
}

/* 1 if String(v) is the len bytes at s. */
static int
query_js_string_is(const char *s, size_t len, const json_t *v)
{
	char		*sv;
	size_t		 lv;
	int		 eq;

	if (json_is_string(v)) {
		return (json_string_length(v) == len &&
		    memcmp(json_string_value(v), s, len) == 0);
	}
	sv = query_js_string_new(v, &lv);
	eq = lv == len && memcmp(sv, s, len) == 0;
	free(sv);

	return (eq);
}

/*
 * 1 if a loosely equals one (when not NULL) or an element of the array
 * list: String() of a is made once.
 */
static int
query_js_loose_any(const json_t *a, const json_t *one, const json_t *list)
{
	const char	*s;
	char		*owned;
	size_t		 i, len;
	int		 eq;

	s = query_js_string_of(a, &len, &owned);
	eq = one != NULL && query_js_string_is(s, len, one);
	for (i = 0; !eq && i < json_array_size(list); i++)
		eq = query_js_string_is(s, len, json_array_get(list, i));
	free(owned);

	return (eq);
}

/* a == b as Terreno tests it: a === b || String(a) === String(b). */
int
query_js_loose_eq(const json_t *a, const json_t *b)
{
	return (query_js_loose_any(a, b, NULL));
}

/* 1 if a loosely equals an element of the array list ($in, $nin). */
int
query_js_loose_in(const json_t *a, const json_t *list)
{
	return (query_js_loose_any(a, NULL, list));
}

/*
 * JSON.stringify(a) === JSON.stringify(b); undefined equals nothing.
 * Only arrays write '[', and equal texts hold as many elements.
 */
int
query_js_json_eq(const json_t *a, const json_t *b)
{
	char	*sa, *sb;
	size_t	 la, lb;
	int	 eq;

	if (a == NULL || b == NULL || json_is_array(a) != json_is_array(b))
		return (0);
	if (json_is_array(a) && json_array_size(a) != json_array_size(b))
		return (0);
	sa = query_js_render(query_js_json_value, a, &la);
	sb = query_js_render(query_js_json_value, b, &lb);
	eq = la == lb && memcmp(sa, sb, la) == 0;
	free(sa);
	free(sb);

	return (eq);
}

static void
query_js_json_value(FILE *f, const json_t *v)
{
	query_js_json(f, v, 0);
}

/*
 * The keys of obj (*np of them; caller frees) in the order a JavaScript
 * object holds them, which Object.entries() and JSON.stringify()
 * follow. With sorted set, as for the top level of a queryId (see
 * query_id()): the keys that are not array indices in UTF-16 order,
 * and "__proto__" left out.
 */
struct query_js_key *
query_js_keys(const json_t *obj, int sorted, size_t *np)
{
	struct query_js_key	*keys;
	const char		*name;
	size_t			 i, n, len;
	json_t			*value;

	if ((keys = calloc(json_object_size(obj) + 1, sizeof(*keys))) == NULL)
		query_oom();
	n = 0;
	json_object_keylen_foreach(query_unconst(obj), name, len, value) {
		if (sorted && len == 9 && memcmp(name, "__proto__", 9) == 0)
			continue;
		keys[n].name = name;
		keys[n].len = len;
		keys[n].value = value;
		keys[n].index = query_js_index(name, len);
		keys[n].pos = n;
		n++;
	}
	qsort(keys, n, sizeof(*keys), query_js_key_held);
	if (sorted) {
		for (i = 0; i < n && keys[i].index >= 0; i++)
			;
		qsort(keys + i, n - i, sizeof(*keys), query_js_key_utf16);
	}
	*np = n;

	return (keys);
}

static void
query_js_object(FILE *f, const json_t *obj, int sorted)
{
	struct query_js_key	*keys;
	size_t			 i, n;

	keys = query_js_keys(obj, sorted, &n);
	fputc('{', f);
	for (i = 0; i < n; i++) {
		if (i > 0)
			fputc(',', f);
		query_js_jstr(f, keys[i].name, keys[i].len);
		fputc(':', f);
		query_js_json(f, keys[i].value, 0);
	}
	fputc('}', f);
	free(keys);
}

/*
 * Write JSON.stringify(v). With sorted set, a top-level object's keys
 * go as in a queryId (query_js_keys()).
 */
void
query_js_json(FILE *f, const json_t *v, int sorted)
{
	size_t		i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		query_js_object(f, v, sorted);
		break;
	case JSON_ARRAY:
		fputc('[', f);
		for (i = 0; i < json_array_size(v); i++) {
			if (i > 0)
				fputc(',', f);
			query_js_json(f, json_array_get(v, i), 0);
		}
		fputc(']', f);
		break;
	case JSON_STRING:
		query_js_jstr(f, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		query_js_integer(f, json_integer_value(v));
		break;
	case JSON_REAL:
		query_js_number(f, json_real_value(v));
		break;
	case JSON_TRUE:
		fputs("true", f);
		break;
	case JSON_FALSE:
		fputs("false", f);
		break;
	case JSON_NULL:
		fputs("null", f);
		break;
	}
}

/* A JSON string as JSON.stringify() escapes it. */
static void
query_js_jstr(FILE *f, const char *s, size_t len)
{
	static const char *const	 named[0x20] = {
		['\b'] = "\\b", ['\t'] = "\\t", ['\n'] = "\\n",
		['\f'] = "\\f", ['\r'] = "\\r"
	};
	size_t				 i;
	unsigned char			 c;

	fputc('"', f);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
		} else if (c < 0x20 && named[c] != NULL)
			fputs(named[c], f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* A jansson integer is the double JavaScript's JSON.parse() makes. */
static void
query_js_integer(FILE *f, json_int_t v)
{
	if (v >= -QUERY_JS_SAFE_INT && v <= QUERY_JS_SAFE_INT)
		fprintf(f, "%" JSON_INTEGER_FORMAT, v);
	else
		query_js_number(f, (double)v);
}

/* 1 if m x 10^e reads back as v. */
static int
query_js_reads_back(uint64_t m, int e, double v)
{
	char		buf[48];

	snprintf(buf, sizeof(buf), "%" PRIu64 "e%d", m, e);

	return (strtod(buf, NULL) == v);
}

/*
 * The shortest decimal that reads back as v (finite, > 0), the nearest
 * to v of that length: its digits (no trailing zero) to d, their count
 * returned, and *point, where the decimal point goes (d x 10^(*point -
 * count)). printf's %.*e rounds correctly; when that rounding falls
 * below v and does not read back, the decimal one unit above still may
 * (a power of two has a narrower rounding interval below than above).
 * 17 digits always read back. The digits never end in 0: then one
 * digit fewer would have read back already.
 */
static int
query_js_shortest(double v, char *d, int *point)
{
	char		 buf[40], *p;
	uint64_t	 m;
	int		 prec, e, k;

	m = 0;
	e = 0;
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, v);
		for (m = 0, p = buf; *p != 'e'; p++) {
			if (*p >= '0' && *p <= '9')
				m = m * 10 + (uint64_t)(*p - '0');
		}
		e = (int)strtol(p + 1, NULL, 10) - (prec - 1);
		if (query_js_reads_back(m, e, v))
			break;
		if (strtod(buf, NULL) < v && query_js_reads_back(m + 1, e, v)) {
			m++;
			break;
		}
	}

	k = snprintf(d, 24, "%" PRIu64, m);
	*point = e + k;

	return (k);
}

/*
 * Write v as Number::toString() does: plain notation while the point
 * falls within 21 digits and no more than 6 zeros follow "0.",
 * otherwise d.ddde+X. Not finite: null, as JSON.stringify() writes it.
 */
void
query_js_number(FILE *f, double v)
{
	char		d[24];
	int		k, n;

	if (!isfinite(v)) {
		fputs("null", f);
		return;
	}
	if (v == 0) {
		fputc('0', f);
		return;
	}
	if (v < 0)
		fputc('-', f);
	k = query_js_shortest(fabs(v), d, &n);

	if (n >= k && n <= 21)
		fprintf(f, "%s%.*d", d, n - k, 0);
	else if (n > 0 && n <= 21)
		fprintf(f, "%.*s.%s", n, d, d + n);
	else if (n > -6 && n <= 0)
		fprintf(f, "0.%.*d%s", -n, 0, d);
	else if (k == 1)
		fprintf(f, "%se%+d", d, n - 1);
	else
		fprintf(f, "%c.%se%+d", d[0], d + 1, n - 1);
}

/* The array index a key names ("0", "42", not "01"), or -1. */
int64_t
query_js_index(const char *s, size_t len)
{
	int64_t		v;
	size_t		i;

	if (len == 0 || len > 10 || (len > 1 && s[0] == '0'))
		return (-1);
	for (v = 0, i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (s[i] - '0');
	}

	return (v <= QUERY_JS_INDEX_MAX ? v : -1);
}

/*
 * As a JavaScript object holds its keys: array indices first, in
 * numeric order, then the others in insertion order.
 */
static int
query_js_key_held(const void *pa, const void *pb)
{
	const struct query_js_key	*a, *b;

	a = pa;
	b = pb;
	if (a->index >= 0 && b->index >= 0)
		return ((a->index > b->index) - (a->index < b->index));
	if (a->index >= 0 || b->index >= 0)
		return (a->index >= 0 ? -1 : 1);

	return ((a->pos > b->pos) - (a->pos < b->pos));
}

/* As Array.prototype.sort() orders strings: by UTF-16 code units. */
static int
query_js_key_utf16(const void *pa, const void *pb)
{
	const struct query_js_key	*a, *b;

	a = pa;
	b = pb;

	return (query_order_utf16_cmp(a->name, a->len, b->name, b->len));
}
