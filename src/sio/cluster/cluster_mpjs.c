/*
 * cluster_mpjs.c: the values of a msgpack tree (cluster_mp.c) as
 * JavaScript sees them once notepack.io 3.0.1 decoded them (pure: libc +
 * codec/).
 *
 * mp_js_value() writes a node as JSON.stringify() writes what
 * notepack.io decoded, after socket.io-parser replaced its Buffers by
 * {"_placeholder":true,"num":i} (deconstructPacket()): strings decoded
 * as Buffer.toString() does (bad UTF-8 becomes U+FFFD, WHATWG's way),
 * integers beyond 2^53 rounded to the double JS holds, doubles in JS's
 * shortest form, NaN and the infinities null, Dates as toJSON() writes
 * them (invalid ones null), undefined dropped from objects and null in
 * arrays. A map is a JS object: its keys go through ToPropertyKey (1 ->
 * "1", null -> "null", [1,2] -> "1,2", a Map -> "[object Object]"; a
 * Date key, whose string depends on the time zone, is refused), a key
 * seen twice keeps its first place and its last value, "__proto__" is
 * no own property, and array-index keys ("0".."4294967294") come first
 * in ascending order, as JS orders properties. Placeholders are
 * numbered in that order, as socket.io-parser numbers them.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_codec.h"
#include "cluster_mp.h"
#include "codec/sio_packet.h"

/* 2^53: integers up to this are exact in a JavaScript number. */
#define MP_JS_SAFE		9007199254740992.0
/* The largest array index: 2^32 - 2. */
#define MP_JS_MAX_INDEX		4294967294ULL
#define MP_DAY_MS		86400000LL

/* A property of an object being written (mp_js_map()). */
struct mp_ent {
	size_t		 koff;
	size_t		 klen;
	uint32_t	 val;
	uint32_t	 pos;
	uint32_t	 index;
	uint8_t		 isidx;
	uint8_t		 dead;
};

static void	 mp_js_int(struct sbuf *, const struct mp_node *);
static void	 mp_js_str(struct mp_js *, const uint8_t *, size_t);
static void	 mp_js_bin(struct mp_js *, const struct mp_node *);
static void	 mp_js_date(struct sbuf *, double);
static int	 mp_js_array(struct mp_js *, uint32_t);
static int	 mp_js_map(struct mp_js *, uint32_t);
static int	 mp_js_isindex(const char *, size_t, uint32_t *);
static int	 mp_ent_bykey(const void *, const void *, void *);
static int	 mp_ent_byorder(const void *, const void *);
static int	 mp_ents_plain(const struct mp_ent *, size_t, const uint8_t *);

/*
 * Append s[0..len) decoded as UTF-8 the WHATWG way (Buffer.toString()):
 * each maximal invalid subsequence becomes U+FFFD.
 */
void
mp_js_utf8(struct sbuf *out, const uint8_t *s, size_t len)
{
	static const uint8_t	fffd[] = { 0xef, 0xbf, 0xbd };
	size_t			i, need, k;
	uint8_t			c, lo, hi;

	i = 0;
	while (i < len) {
		c = s[i];
		if (c < 0x80) {
			sbuf_append_byte(out, c);
			i++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf)
			need = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else {
			sbuf_append(out, fffd, sizeof(fffd));
			i++;
			continue;
		}
		for (k = 1; k <= need; k++) {
			if (i + k >= len || s[i + k] < lo || s[i + k] > hi)
				break;
			lo = 0x80;
			hi = 0xbf;
		}
		if (k <= need) {
			sbuf_append(out, fffd, sizeof(fffd));
			i += k;
			continue;
		}
		sbuf_append(out, s + i, need + 1);
		i += need + 1;
	}
}

/* Number.prototype.toString(): NaN, Infinity, else as JSON writes it. */
void
mp_js_number(struct sbuf *out, double d)
{
	if (isnan(d))
		sbuf_append_str(out, "NaN");
	else if (isinf(d))
		sbuf_append_str(out, d > 0 ? "Infinity" : "-Infinity");
	else
		sio_json_real(out, d);
}

/* An integer node as the JS number it decodes to. */
static void
mp_js_int(struct sbuf *out, const struct mp_node *nd)
{
	if (nd->kind == MP_INT && nd->v.i >= -(int64_t)MP_JS_SAFE &&
	    nd->v.i <= (int64_t)MP_JS_SAFE)
		sio_json_int(out, nd->v.i);
	else if (nd->kind == MP_UINT && nd->v.u <= (uint64_t)MP_JS_SAFE)
		sio_json_int(out, (int64_t)nd->v.u);
	else
		sio_json_real(out, mp_number(nd));
}

/*
 * JavaScript's ToPropertyKey of a decoded map key, appended to out; -1
 * for a Date (its string depends on the time zone).
 */
int
mp_js_key(struct sbuf *out, const struct mp_node *nodes, uint32_t i)
{
	const struct mp_node	*nd = &nodes[i];
	uint32_t		 c, k;

	switch (nd->kind) {
	case MP_NIL:
		sbuf_append_str(out, "null");
		return (0);
	case MP_UNDEF:
		sbuf_append_str(out, "undefined");
		return (0);
	case MP_FALSE:
	case MP_TRUE:
		sbuf_append_str(out, nd->kind == MP_TRUE ? "true" : "false");
		return (0);
	case MP_INT:
	case MP_UINT:
		mp_js_int(out, nd);
		return (0);
	case MP_FLOAT:
		mp_js_number(out, nd->v.d);
		return (0);
	case MP_STR:
	case MP_BIN:
		mp_js_utf8(out, nd->p, nd->len);
		return (0);
	case MP_ABUF:
		sbuf_append_str(out, "[object ArrayBuffer]");
		return (0);
	case MP_EXT:
		sio_json_int(out, nd->ext);
		sbuf_append_byte(out, ',');
		mp_js_utf8(out, nd->p, nd->len);
		return (0);
	case MP_MAP:
		sbuf_append_str(out, "[object Object]");
		return (0);
	case MP_ARRAY:
		/* Array.prototype.join(): null and undefined are "". */
		for (c = i + 1, k = 0; k < nd->n; k++, c = nodes[c].end) {
			if (k > 0)
				sbuf_append_byte(out, ',');
			if (nodes[c].kind != MP_NIL &&
			    nodes[c].kind != MP_UNDEF &&
			    mp_js_key(out, nodes, c) == -1)
				return (-1);
		}
		return (0);
	}

	return (-1);
}

/* A string value: as it is when it is valid UTF-8, else decoded. */
static void
mp_js_str(struct mp_js *js, const uint8_t *p, size_t len)
{
	size_t		off;

	if (sbuf_utf8_valid(p, len)) {
		sbuf_append_jstr(js->out, (const char *)p, len);
		return;
	}

	off = js->keys->len;
	mp_js_utf8(js->keys, p, len);
	sbuf_append_jstr(js->out, (const char *)js->keys->data + off,
	    js->keys->len - off);
	js->keys->len = off;
}

/* A Buffer: the next attachment, and its placeholder. */
static void
mp_js_bin(struct mp_js *js, const struct mp_node *nd)
{
	struct cc_bin	b;

	b.data = nd->p;
	b.len = nd->len;
	sbuf_append(js->att, &b, sizeof(b));
	sbuf_append_str(js->out, "{\"_placeholder\":true,\"num\":");
	sio_json_int(js->out, (int64_t)(js->att->len / sizeof(b) - 1));
	sbuf_append_byte(js->out, '}');
}

/* Date.prototype.toJSON(): "YYYY-MM-DDTHH:mm:ss.sssZ", null if invalid. */
static void
mp_js_date(struct sbuf *out, double ms)
{
	int64_t		t, days, msd, z, era, doe, yoe, doy, mp, y, m, d;

	if (isnan(ms)) {
		sbuf_append_str(out, "null");
		return;
	}

	t = (int64_t)ms;
	days = t / MP_DAY_MS;
	msd = t % MP_DAY_MS;
	if (msd < 0) {
		msd += MP_DAY_MS;
		days--;
	}

	/* Howard Hinnant's civil_from_days(). */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;

	if (y >= 0 && y <= 9999)
		sbuf_appendf(out, "\"%04lld", (long long)y);
	else
		sbuf_appendf(out, "\"%c%06lld", y < 0 ? '-' : '+',
		    (long long)(y < 0 ? -y : y));
	sbuf_appendf(out, "-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ\"",
	    (long long)m, (long long)d, (long long)(msd / 3600000),
	    (long long)(msd / 60000 % 60), (long long)(msd / 1000 % 60),
	    (long long)(msd % 1000));
}

static int
mp_js_array(struct mp_js *js, uint32_t i)
{
	const struct mp_node	*nodes = js->nodes;
	uint32_t		 c, k;

	sbuf_append_byte(js->out, '[');
	for (c = i + 1, k = 0; k < nodes[i].n; k++, c = nodes[c].end) {
		if (k > 0)
			sbuf_append_byte(js->out, ',');
		if (nodes[c].kind == MP_UNDEF)
			sbuf_append_str(js->out, "null");
		else if (mp_js_value(js, c) == -1)
			return (-1);
	}
	sbuf_append_byte(js->out, ']');

	return (0);
}

/* 1 if key is a canonical array index ("0", "17"; not "017", "-1"). */
static int
mp_js_isindex(const char *key, size_t len, uint32_t *index)
{
	uint64_t	v;
	size_t		i;

	if (len == 0 || len > 10 || (key[0] == '0' && len > 1))
		return (0);
	for (v = 0, i = 0; i < len; i++) {
		if (key[i] < '0' || key[i] > '9')
			return (0);
		v = v * 10 + (uint64_t)(key[i] - '0');
	}
	if (v > MP_JS_MAX_INDEX)
		return (0);
	*index = (uint32_t)v;

	return (1);
}

/* qsort_r(): by key, then by position. */
static int
mp_ent_bykey(const void *a, const void *b, void *keys)
{
	const struct mp_ent	*ea = a, *eb = b;
	const uint8_t		*k = keys;
	int			 r;

	r = memcmp(k + ea->koff, k + eb->koff,
	    ea->klen < eb->klen ? ea->klen : eb->klen);
	if (r == 0 && ea->klen != eb->klen)
		r = ea->klen < eb->klen ? -1 : 1;
	if (r == 0)
		r = ea->pos < eb->pos ? -1 : ea->pos > eb->pos;

	return (r);
}

/* qsort(): JS property order; dead entries last. */
static int
mp_ent_byorder(const void *a, const void *b)
{
	const struct mp_ent	*ea = a, *eb = b;

	if (ea->dead != eb->dead)
		return (ea->dead ? 1 : -1);
	if (ea->isidx != eb->isidx)
		return (ea->isidx ? -1 : 1);
	if (ea->isidx)
		return (ea->index < eb->index ? -1 : ea->index > eb->index);

	return (ea->pos < eb->pos ? -1 : ea->pos > eb->pos);
}

/* 1 if a small map has no index key and no key twice: no sorting. */
static int
mp_ents_plain(const struct mp_ent *e, size_t n, const uint8_t *keys)
{
	size_t		i, j;

	if (n > 16)
		return (0);
	for (i = 0; i < n; i++) {
		if (e[i].isidx)
			return (0);
		for (j = 0; j < i; j++) {
			if (e[j].klen == e[i].klen && memcmp(keys + e[j].koff,
			    keys + e[i].koff, e[i].klen) == 0)
				return (0);
		}
	}

	return (1);
}

/* A map as the JS object notepack.io makes of it (see the top). */
static int
mp_js_map(struct mp_js *js, uint32_t i)
{
	const struct mp_node	*nodes = js->nodes;
	struct mp_ent		 e, *ents;
	size_t			 kbase, ebase, n, k, j;
	uint32_t		 c, pair;
	int			 first, rc;

	/* Both stacks exist before they are indexed (an empty map too). */
	sbuf_reserve(js->keys, 1);
	sbuf_reserve(js->ents, sizeof(e));
	kbase = js->keys->len;
	ebase = js->ents->len;
	rc = -1;

	for (c = i + 1, pair = 0; pair < nodes[i].n; pair++) {
		memset(&e, 0, sizeof(e));
		e.koff = js->keys->len;
		if (mp_js_key(js->keys, nodes, c) == -1)
			goto cleanup;
		e.klen = js->keys->len - e.koff;
		e.val = nodes[c].end;
		e.pos = pair;
		c = nodes[e.val].end;
		if (e.klen == 9 &&
		    memcmp(js->keys->data + e.koff, "__proto__", 9) == 0)
			continue;
		e.isidx = (uint8_t)mp_js_isindex((const char *)js->keys->data +
		    e.koff, e.klen, &e.index);
		sbuf_append(js->ents, &e, sizeof(e));
	}

	n = (js->ents->len - ebase) / sizeof(e);
	ents = (struct mp_ent *)(void *)(js->ents->data + ebase);
	if (n > 1 && !mp_ents_plain(ents, n, js->keys->data)) {
		/* A key seen again: its first place, its last value. */
		qsort_r(ents, n, sizeof(e), mp_ent_bykey, js->keys->data);
		for (k = 0; k < n; k = j) {
			for (j = k + 1; j < n && ents[j].klen == ents[k].klen &&
			    memcmp(js->keys->data + ents[j].koff,
			    js->keys->data + ents[k].koff, ents[k].klen) == 0;
			    j++)
				ents[j].dead = 1;
			ents[k].val = ents[j - 1].val;
		}
		qsort(ents, n, sizeof(e), mp_ent_byorder);
	}

	first = 1;
	sbuf_append_byte(js->out, '{');
	for (k = 0; k < n; k++) {
		/* mp_js_value() may move both stacks: index them anew. */
		ents = (struct mp_ent *)(void *)(js->ents->data + ebase);
		if (ents[k].dead || nodes[ents[k].val].kind == MP_UNDEF)
			continue;
		if (!first)
			sbuf_append_byte(js->out, ',');
		first = 0;
		sbuf_append_jstr(js->out, (const char *)js->keys->data +
		    ents[k].koff, ents[k].klen);
		sbuf_append_byte(js->out, ':');
		if (mp_js_value(js, ents[k].val) == -1)
			goto cleanup;
	}
	sbuf_append_byte(js->out, '}');
	rc = 0;

cleanup:
	js->keys->len = kbase;
	js->ents->len = ebase;

	return (rc);
}

/* Node i as JSON (see the top of this file); 0, or -1 (a Date key). */
int
mp_js_value(struct mp_js *js, uint32_t i)
{
	const struct mp_node	*nd = &js->nodes[i];

	switch (nd->kind) {
	case MP_NIL:
	case MP_UNDEF:
		sbuf_append_str(js->out, "null");
		return (0);
	case MP_FALSE:
	case MP_TRUE:
		sbuf_append_str(js->out, nd->kind == MP_TRUE ? "true" : "false");
		return (0);
	case MP_INT:
	case MP_UINT:
		mp_js_int(js->out, nd);
		return (0);
	case MP_FLOAT:
		sio_json_real(js->out, nd->v.d);
		return (0);
	case MP_STR:
		mp_js_str(js, nd->p, nd->len);
		return (0);
	case MP_BIN:
	case MP_ABUF:
		mp_js_bin(js, nd);
		return (0);
	case MP_EXT:
		sbuf_append_byte(js->out, '[');
		sio_json_int(js->out, nd->ext);
		sbuf_append_byte(js->out, ',');
		mp_js_bin(js, nd);
		sbuf_append_byte(js->out, ']');
		return (0);
	case MP_DATE:
		mp_js_date(js->out, nd->v.d);
		return (0);
	case MP_ARRAY:
		return (mp_js_array(js, i));
	case MP_MAP:
		return (mp_js_map(js, i));
	}

	return (-1);
}

