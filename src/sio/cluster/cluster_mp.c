/*
 * cluster_mp.c: msgpack as @socket.io/redis-adapter speaks it, through
 * notepack.io 3.0.1 (pure: libc + jansson + codec/); what the values
 * are to JavaScript is cluster_mpjs.c.
 *
 * Reading. mp_parse() checks a whole message and turns it into a flat
 * tree (struct mp_node, cluster_mp.h) whose strings and binaries point
 * into the input: every format of the msgpack spec except c1 (never
 * used), sizes checked against what is left before anything is read,
 * containers nested at most CC_MAX_DEPTH deep, no trailing bytes. The
 * values are notepack.io's: ext -1 (timestamp 32/64/96) and its legacy
 * d7 00 are Dates, ext 0 an ArrayBuffer, d4 00 xx undefined, any other
 * ext the array [type, Buffer]. One deviation: ext8 -1 must say 12
 * bytes (notepack.io reads 12 whatever it says).
 *
 * Writing. mp_put_*() follow notepack.io's encode(): the smallest
 * string, binary, array and map headers, integral numbers as the
 * smallest uint (0 and up, -0 too) or int, other numbers as float64.
 * Integral numbers beyond [-2^63, 2^64), which notepack.io would wrap,
 * are written as float64.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_codec.h"
#include "cluster_mp.h"
#include "codec/sio_packet.h"

/* new Date(t) keeps |t| <= 8.64e15 ms. */
#define MP_DATE_MAX		8.64e15

#define MP_NODE(nb, i)		(((struct mp_node *)(void *)(nb)->data) + (i))

struct mp_rd {
	struct sbuf	*nodes;
	const uint8_t	*p;
	const uint8_t	*end;
	uint32_t	 count;
};

static uint64_t	 mp_be(const uint8_t *, int);
static uint32_t	 mp_rd_node(struct mp_rd *, uint8_t);
static int	 mp_rd_take(struct mp_rd *, size_t, const uint8_t **);
static int	 mp_rd_value(struct mp_rd *, int);
static int	 mp_rd_sized(struct mp_rd *, uint32_t, uint8_t, int);
static int	 mp_rd_fixext(struct mp_rd *, uint32_t, size_t);
static int	 mp_rd_ext(struct mp_rd *, uint32_t, size_t, int);
static int	 mp_rd_container(struct mp_rd *, uint32_t, uint8_t, uint64_t,
		    int);
static double	 mp_timeclip(double);
static double	 mp_ts_ms(double, uint64_t);
static void	 mp_put_head(struct sbuf *, uint8_t, uint64_t, int);
static int	 mp_put_object(struct sbuf *, const json_t *,
		    const struct cc_bin *, size_t, int);

/* ---- reading ------------------------------------------------------------ */

static uint64_t
mp_be(const uint8_t *p, int n)
{
	uint64_t	v;
	int		i;

	for (v = 0, i = 0; i < n; i++)
		v = (v << 8) | p[i];

	return (v);
}

static uint32_t
mp_rd_node(struct mp_rd *r, uint8_t kind)
{
	struct mp_node	*nd;

	sbuf_reserve(r->nodes, sizeof(*nd));
	nd = MP_NODE(r->nodes, r->count);
	memset(nd, 0, sizeof(*nd));
	nd->kind = kind;
	r->nodes->len += sizeof(*nd);

	return (r->count++);
}

/* Take n bytes of the input: 0, or -1 if fewer are left. */
static int
mp_rd_take(struct mp_rd *r, size_t n, const uint8_t **p)
{
	if ((size_t)(r->end - r->p) < n)
		return (-1);
	*p = r->p;
	r->p += n;

	return (0);
}

/*
 * Parse one msgpack value of a whole message into nodes (an array of
 * struct mp_node, emptied first). 0, or -1 for bad, truncated, too deep
 * input or trailing bytes.
 */
int
mp_parse(struct sbuf *nodes, const uint8_t *buf, size_t len)
{
	struct mp_rd	r;

	sbuf_reset(nodes);
	r.nodes = nodes;
	r.p = buf;
	r.end = buf + len;
	r.count = 0;

	if (len == 0 || mp_rd_value(&r, 0) == -1 || r.p != r.end)
		return (-1);

	return (0);
}

static int
mp_rd_value(struct mp_rd *r, int depth)
{
	const uint8_t	*p;
	uint32_t	 idx;
	uint8_t		 c;

	if (mp_rd_take(r, 1, &p) == -1)
		return (-1);
	c = *p;
	idx = mp_rd_node(r, MP_UINT);

	if (c < 0x80)
		MP_NODE(r->nodes, idx)->v.u = c;
	else if (c < 0x90)
		return (mp_rd_container(r, idx, MP_MAP, c & 0x0f, depth));
	else if (c < 0xa0)
		return (mp_rd_container(r, idx, MP_ARRAY, c & 0x0f, depth));
	else if (c < 0xc0) {
		MP_NODE(r->nodes, idx)->kind = MP_STR;
		MP_NODE(r->nodes, idx)->len = c & 0x1f;
		if (mp_rd_take(r, c & 0x1f, &MP_NODE(r->nodes, idx)->p) == -1)
			return (-1);
	} else if (c >= 0xe0) {
		MP_NODE(r->nodes, idx)->kind = MP_INT;
		MP_NODE(r->nodes, idx)->v.i = (int8_t)c;
	} else if (mp_rd_sized(r, idx, c, depth) == -1)
		return (-1);

	MP_NODE(r->nodes, idx)->end = r->count;

	return (0);
}

/* The formats c0..df (c1 is refused). */
static int
mp_rd_sized(struct mp_rd *r, uint32_t idx, uint8_t c, int depth)
{
	static const uint8_t	 lens[] = { 1, 2, 4 };
	const uint8_t		*p;
	struct mp_node		*nd;
	uint64_t		 u;
	int			 n;
	float			 f;

	nd = MP_NODE(r->nodes, idx);
	switch (c) {
	case 0xc0:
		nd->kind = MP_NIL;
		return (0);
	case 0xc2:
	case 0xc3:
		nd->kind = c == 0xc2 ? MP_FALSE : MP_TRUE;
		return (0);
	case 0xc4: case 0xc5: case 0xc6:	/* bin 8/16/32 */
	case 0xd9: case 0xda: case 0xdb:	/* str 8/16/32 */
		n = c >= 0xd9 ? lens[c - 0xd9] : lens[c - 0xc4];
		if (mp_rd_take(r, (size_t)n, &p) == -1)
			return (-1);
		nd->kind = c >= 0xd9 ? MP_STR : MP_BIN;
		nd->len = (size_t)mp_be(p, n);
		return (mp_rd_take(r, nd->len, &nd->p));
	case 0xc7: case 0xc8: case 0xc9:	/* ext 8/16/32 */
		n = lens[c - 0xc7];
		if (mp_rd_take(r, (size_t)n, &p) == -1)
			return (-1);
		return (mp_rd_ext(r, idx, (size_t)mp_be(p, n), c == 0xc7));
	case 0xca:
		if (mp_rd_take(r, 4, &p) == -1)
			return (-1);
		u = mp_be(p, 4);
		memcpy(&f, &(uint32_t){ (uint32_t)u }, sizeof(f));
		nd->kind = MP_FLOAT;
		nd->v.d = f;
		return (0);
	case 0xcb:
		if (mp_rd_take(r, 8, &p) == -1)
			return (-1);
		u = mp_be(p, 8);
		nd->kind = MP_FLOAT;
		memcpy(&nd->v.d, &u, sizeof(u));
		return (0);
	case 0xcc: case 0xcd: case 0xce: case 0xcf:
		n = 1 << (c - 0xcc);
		if (mp_rd_take(r, (size_t)n, &p) == -1)
			return (-1);
		nd->v.u = mp_be(p, n);
		return (0);
	case 0xd0: case 0xd1: case 0xd2: case 0xd3:
		n = 1 << (c - 0xd0);
		if (mp_rd_take(r, (size_t)n, &p) == -1)
			return (-1);
		u = mp_be(p, n);
		if (n < 8 && (u >> (n * 8 - 1)) != 0)
			u |= ~(uint64_t)0 << (n * 8);	/* sign-extend */
		nd->kind = MP_INT;
		nd->v.i = (int64_t)u;
		return (0);
	case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
		return (mp_rd_fixext(r, idx, (size_t)1 << (c - 0xd4)));
	case 0xdc: case 0xdd:
	case 0xde: case 0xdf:
		n = (c & 1) ? 4 : 2;
		if (mp_rd_take(r, (size_t)n, &p) == -1)
			return (-1);
		return (mp_rd_container(r, idx, c >= 0xde ? MP_MAP : MP_ARRAY,
		    mp_be(p, n), depth));
	}

	return (-1);
}

/* new Date(t): NaN unless |t| <= 8.64e15, then t truncated, +0 for -0. */
static double
mp_timeclip(double t)
{
	if (!(t >= -MP_DATE_MAX && t <= MP_DATE_MAX))
		return (NAN);

	return ((double)(int64_t)t + 0.0);
}

/* A msgpack timestamp (seconds, nanoseconds) as a JS Date's time value. */
static double
mp_ts_ms(double s, uint64_t ns)
{
	return (mp_timeclip(s * 1e3 + (double)ns / 1e6));
}

/* fixext 1/2/4/8/16: notepack.io's dates and undefined, else [type, buf]. */
static int
mp_rd_fixext(struct mp_rd *r, uint32_t idx, size_t len)
{
	const uint8_t	*p;
	struct mp_node	*nd;
	int8_t		 type;
	uint64_t	 hi, lo;
	double		 s, ms;

	if (mp_rd_take(r, 1 + len, &p) == -1)
		return (-1);
	type = (int8_t)p[0];
	p++;
	nd = MP_NODE(r->nodes, idx);

	if (len == 1 && type == 0) {
		nd->kind = MP_UNDEF;
		return (0);
	}
	if (len == 4 && type == -1) {
		nd->kind = MP_DATE;
		ms = (double)mp_be(p, 4) * 1e3;
		nd->v.d = mp_timeclip(ms);
		return (0);
	}
	if (len == 8 && (type == -1 || type == 0)) {
		hi = mp_be(p, 4);
		lo = mp_be(p + 4, 4);
		nd->kind = MP_DATE;
		if (type == 0) {
			/* Legacy: signed 64-bit milliseconds. */
			s = (double)(int32_t)(uint32_t)hi * 4294967296.0;
			ms = s + (double)lo;
			nd->v.d = mp_timeclip(ms);
		} else {
			s = (double)(hi & 0x3) * 4294967296.0 + (double)lo;
			nd->v.d = mp_ts_ms(s, hi >> 2);
		}
		return (0);
	}

	nd->kind = MP_EXT;
	nd->ext = type;
	nd->p = p;
	nd->len = len;

	return (0);
}

/*
 * ext 8/16/32 (ext8 1 for ext 8) of len bytes: an ArrayBuffer (type 0),
 * a timestamp 96 (ext 8, -1), else [type, Buffer].
 */
static int
mp_rd_ext(struct mp_rd *r, uint32_t idx, size_t len, int ext8)
{
	const uint8_t	*p;
	struct mp_node	*nd;
	int8_t		 type;
	uint64_t	 ns, lo;
	double		 s;

	if (mp_rd_take(r, 1, &p) == -1)
		return (-1);
	type = (int8_t)p[0];
	if (mp_rd_take(r, len, &p) == -1)
		return (-1);
	nd = MP_NODE(r->nodes, idx);

	if (type == 0) {
		nd->kind = MP_ABUF;
		nd->p = p;
		nd->len = len;
		return (0);
	}
	if (type == -1 && ext8) {
		/* notepack.io reads 12 bytes whatever the length says. */
		if (len != 12)
			return (-1);
		ns = mp_be(p, 4);
		lo = mp_be(p + 8, 4);
		s = (double)(int32_t)(uint32_t)mp_be(p + 4, 4) * 4294967296.0 +
		    (double)lo;
		nd->kind = MP_DATE;
		nd->v.d = mp_ts_ms(s, ns);
		return (0);
	}

	nd->kind = MP_EXT;
	nd->ext = type;
	nd->p = p;
	nd->len = len;

	return (0);
}

static int
mp_rd_container(struct mp_rd *r, uint32_t idx, uint8_t kind, uint64_t n,
    int depth)
{
	uint64_t	need, i;

	need = kind == MP_MAP ? n * 2 : n;
	/* Every value takes a byte at least. */
	if (depth >= CC_MAX_DEPTH || need > (uint64_t)(r->end - r->p))
		return (-1);

	MP_NODE(r->nodes, idx)->kind = kind;
	MP_NODE(r->nodes, idx)->n = (uint32_t)n;
	for (i = 0; i < need; i++) {
		if (mp_rd_value(r, depth + 1) == -1)
			return (-1);
	}
	MP_NODE(r->nodes, idx)->end = r->count;

	return (0);
}

/* The value of the last key `key` (a str) of map m, or 0 if none. */
uint32_t
mp_map_get(const struct mp_node *nodes, uint32_t m, const char *key)
{
	uint32_t	c, i, found;
	size_t		len;

	if (nodes[m].kind != MP_MAP)
		return (0);
	len = strlen(key);
	found = 0;
	for (c = m + 1, i = 0; i < nodes[m].n; i++) {
		if (nodes[c].kind == MP_STR && nodes[c].len == len &&
		    memcmp(nodes[c].p, key, len) == 0)
			found = nodes[c].end;
		c = nodes[nodes[c].end].end;
	}

	return (found);
}

/* JavaScript's ToBoolean of the decoded value. */
int
mp_truthy(const struct mp_node *nd)
{
	switch (nd->kind) {
	case MP_NIL:
	case MP_UNDEF:
	case MP_FALSE:
		return (0);
	case MP_INT:
		return (nd->v.i != 0);
	case MP_UINT:
		return (nd->v.u != 0);
	case MP_FLOAT:
		return (nd->v.d != 0 && !isnan(nd->v.d));
	case MP_STR:
		return (nd->len > 0);
	}

	return (1);
}

int
mp_is_number(const struct mp_node *nd)
{
	return (nd->kind == MP_INT || nd->kind == MP_UINT ||
	    nd->kind == MP_FLOAT);
}

/* The JS number a numeric node decodes to. */
double
mp_number(const struct mp_node *nd)
{
	if (nd->kind == MP_INT)
		return ((double)nd->v.i);
	if (nd->kind == MP_UINT)
		return ((double)nd->v.u);

	return (nd->v.d);
}

/* ---- writing ------------------------------------------------------------ */

/* A header: the byte c, then v in n big-endian bytes. */
static void
mp_put_head(struct sbuf *out, uint8_t c, uint64_t v, int n)
{
	uint8_t		b[9];
	int		i;

	b[0] = c;
	for (i = 0; i < n; i++)
		b[1 + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	sbuf_append(out, b, (size_t)n + 1);
}

void
mp_put_nil(struct sbuf *out)
{
	sbuf_append_byte(out, 0xc0);
}

void
mp_put_bool(struct sbuf *out, int v)
{
	sbuf_append_byte(out, v ? 0xc3 : 0xc2);
}

void
mp_put_uint(struct sbuf *out, uint64_t v)
{
	if (v < 0x80)
		sbuf_append_byte(out, (uint8_t)v);
	else if (v < 0x100)
		mp_put_head(out, 0xcc, v, 1);
	else if (v < 0x10000)
		mp_put_head(out, 0xcd, v, 2);
	else if (v < 0x100000000ULL)
		mp_put_head(out, 0xce, v, 4);
	else
		mp_put_head(out, 0xcf, v, 8);
}

void
mp_put_int(struct sbuf *out, int64_t v)
{
	if (v >= 0)
		mp_put_uint(out, (uint64_t)v);
	else if (v >= -0x20)
		sbuf_append_byte(out, (uint8_t)v);
	else if (v >= -0x80)
		mp_put_head(out, 0xd0, (uint64_t)v, 1);
	else if (v >= -0x8000)
		mp_put_head(out, 0xd1, (uint64_t)v, 2);
	else if (v >= -0x80000000LL)
		mp_put_head(out, 0xd2, (uint64_t)v, 4);
	else
		mp_put_head(out, 0xd3, (uint64_t)v, 8);
}

/* A JS number as notepack.io writes it (see the top). */
void
mp_put_number(struct sbuf *out, double d)
{
	uint64_t	u;

	/* No libm: korio does not link it. */
	if (d >= 0 && d < 18446744073709551616.0 && (double)(uint64_t)d == d) {
		mp_put_uint(out, (uint64_t)d);
		return;
	}
	if (d < 0 && d >= -9223372036854775808.0 && (double)(int64_t)d == d) {
		mp_put_int(out, (int64_t)d);
		return;
	}

	memcpy(&u, &d, sizeof(u));
	mp_put_head(out, 0xcb, u, 8);
}

void
mp_put_str(struct sbuf *out, const void *s, size_t len)
{
	if (len < 0x20)
		sbuf_append_byte(out, (uint8_t)(0xa0 | len));
	else if (len < 0x100)
		mp_put_head(out, 0xd9, len, 1);
	else if (len < 0x10000)
		mp_put_head(out, 0xda, len, 2);
	else
		mp_put_head(out, 0xdb, len, 4);
	sbuf_append(out, s, len);
}

void
mp_put_bin(struct sbuf *out, const void *p, size_t len)
{
	if (len < 0x100)
		mp_put_head(out, 0xc4, len, 1);
	else if (len < 0x10000)
		mp_put_head(out, 0xc5, len, 2);
	else
		mp_put_head(out, 0xc6, len, 4);
	sbuf_append(out, p, len);
}

void
mp_put_array(struct sbuf *out, size_t n)
{
	if (n < 0x10)
		sbuf_append_byte(out, (uint8_t)(0x90 | n));
	else if (n < 0x10000)
		mp_put_head(out, 0xdc, n, 2);
	else
		mp_put_head(out, 0xdd, n, 4);
}

void
mp_put_map(struct sbuf *out, size_t n)
{
	if (n < 0x10)
		sbuf_append_byte(out, (uint8_t)(0x80 | n));
	else if (n < 0x10000)
		mp_put_head(out, 0xde, n, 2);
	else
		mp_put_head(out, 0xdf, n, 4);
}

static int
mp_put_object(struct sbuf *out, const json_t *json, const struct cc_bin *att,
    size_t natt, int depth)
{
	json_t		*obj, *value, *num;
	const char	*key;
	size_t		 klen;
	double		 d;

	if (json_is_true(json_object_get(json, "_placeholder"))) {
		/* socket.io-parser's reconstructPacket(): att[num]. */
		num = json_object_get(json, "num");
		if (!json_is_number(num))
			return (-1);
		d = json_number_value(num);
		if (!(d >= 0 && d < (double)natt) || (double)(size_t)d != d)
			return (-1);
		mp_put_bin(out, att[(size_t)d].data, att[(size_t)d].len);
		return (0);
	}

	obj = sio_json_unconst(json);
	mp_put_map(out, json_object_size(json));
	json_object_keylen_foreach(obj, key, klen, value) {
		mp_put_str(out, key, klen);
		if (mp_put_json(out, value, att, natt, depth + 1) == -1)
			return (-1);
	}

	return (0);
}

/*
 * Write json as notepack.io writes what JSON.parse() makes of it, its
 * placeholders as the binaries att[num]. -1 for a bad placeholder or
 * nesting deeper than CC_MAX_DEPTH (which no korio node would decode).
 */
int
mp_put_json(struct sbuf *out, const json_t *json, const struct cc_bin *att,
    size_t natt, int depth)
{
	size_t		i, n;

	if (depth >= CC_MAX_DEPTH &&
	    (json_is_array(json) || json_is_object(json)))
		return (-1);

	switch (json_typeof(json)) {
	case JSON_OBJECT:
		return (mp_put_object(out, json, att, natt, depth));
	case JSON_ARRAY:
		n = json_array_size(json);
		mp_put_array(out, n);
		for (i = 0; i < n; i++) {
			if (mp_put_json(out, json_array_get(json, i), att,
			    natt, depth + 1) == -1)
				return (-1);
		}
		return (0);
	case JSON_STRING:
		mp_put_str(out, json_string_value(json),
		    json_string_length(json));
		return (0);
	case JSON_INTEGER:
	case JSON_REAL:
		mp_put_number(out, json_number_value(json));
		return (0);
	case JSON_TRUE:
	case JSON_FALSE:
		mp_put_bool(out, json_is_true(json));
		return (0);
	case JSON_NULL:
		mp_put_nil(out);
		return (0);
	}

	return (-1);
}
