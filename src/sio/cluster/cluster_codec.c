/*
 * cluster_codec.c: broadcasts, requests and responses of Socket.IO's
 * classic Redis adapter (../shared/docs/redis-adapter.md, sections 3
 * and 4) to and from korio's forms (pure: libc + jansson + codec/; the
 * msgpack itself is cluster_mp.c).
 *
 * A broadcast [uid, {type:2, data, nsp}, {rooms, except, flags}] decodes
 * to what a Node node would deliver for it: the text packet its
 * socket.io-parser writes ("2[...]", "2/nsp,[...]", "5<n>-[...]" with
 * placeholders for its Buffers, numbered in JS property order), the
 * Buffers themselves (pointing into the message), the namespace ("/"
 * when absent) and the room names, numbers as their JS decimal strings.
 * What a Node node would choke on or never deliver is refused (-1): a
 * message that is not such an array, a packet type other than 2, data
 * that is not a non-empty array, opts that is not a map, rooms that are
 * neither strings nor numbers or hold a NUL.
 *
 * Encoding goes the other way, from korio's text packet (an EVENT or a
 * BINARY_EVENT with its attachments, no ack id) to the msgpack a Node
 * node or emitter publishes: keys in their order, placeholders back into
 * bins, numbers as notepack.io writes them (cluster_mp.c).
 *
 * Requests and responses are JSON (first byte '{') except the ack
 * request (type 7) and its per-client acks (type 9), which are msgpack;
 * both decode into struct cc_req, a msgpack one through the same JSON
 * so that every field is read one way.
 */

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_codec.h"
#include "cluster_mp.h"
#include "codec/sio_packet.h"

/* A list of names being decoded: where it starts in mem.ptrs, how long. */
struct cc_list {
	size_t		first;
	size_t		n;
};

static void	 cc_mem_reset(struct cc_mem *);
static void	 cc_mem_free(struct cc_mem *);
static size_t	 cc_name(struct cc_mem *, const char *, size_t);
static int	 cc_name_node(struct cc_mem *, const struct mp_node *,
		    uint32_t, size_t *);
static void	 cc_list_add(struct cc_mem *, struct cc_list *, size_t);
static const char *const *cc_list_ptr(struct cc_mem *, const struct cc_list *);
static const char *cc_str(struct cc_mem *, size_t);
static void	 cc_fixup(struct cc_mem *);
static struct mp_js cc_js(struct cc_mem *);
static int	 cc_rooms_node(struct cc_mem *, const struct mp_node *,
		    uint32_t, struct cc_list *);
static void	 cc_flags_node(const struct mp_node *, uint32_t,
		    struct cc_flags *);
static int	 cc_packet_node(struct cc_mem *, const struct mp_node *,
		    uint32_t, size_t *);
static void	 cc_packet_binary(struct cc_mem *, size_t);
static json_t	*cc_json_load(const uint8_t *, size_t);
static int	 cc_rooms_json(struct cc_mem *, const json_t *,
		    struct cc_list *);
static void	 cc_flags_json(const json_t *, struct cc_flags *);
static int	 cc_truthy_json(const json_t *);
static int	 cc_req_fields(struct cc_req *, struct cc_list *,
		    struct cc_list *, struct cc_list *, size_t *, size_t *);
static int	 cc_req_packet(struct cc_req *, const uint8_t *, size_t);
static int	 cc_put_packet(struct sbuf *, const struct cc_bcast *);
static void	 cc_put_opts(struct sbuf *, const struct cc_bcast *);
static void	 cc_put_names(struct sbuf *, const char *const *, size_t);
static void	 cc_put_key(struct sbuf *, const char *);

static const struct cc_flags cc_flags_none = { 0, -1, -1, 0 };

/* ---- memory ------------------------------------------------------------- */

static void
cc_mem_reset(struct cc_mem *m)
{
	sbuf_reset(&m->text);
	sbuf_reset(&m->names);
	sbuf_reset(&m->ptrs);
	sbuf_reset(&m->att);
	sbuf_reset(&m->nodes);
	sbuf_reset(&m->keys);
	sbuf_reset(&m->ents);
}

static void
cc_mem_free(struct cc_mem *m)
{
	sbuf_free(&m->text);
	sbuf_free(&m->names);
	sbuf_free(&m->ptrs);
	sbuf_free(&m->att);
	sbuf_free(&m->nodes);
	sbuf_free(&m->keys);
	sbuf_free(&m->ents);
}

/* Keep s[0..len) NUL-terminated in names; its offset. */
static size_t
cc_name(struct cc_mem *m, const char *s, size_t len)
{
	size_t		off;

	off = m->names.len;
	sbuf_append(&m->names, s, len);
	sbuf_append_byte(&m->names, '\0');

	return (off);
}

/*
 * A room name, uid or nsp from node i: a string (decoded as JS does) or
 * a number (its JS string). -1 for anything else or a NUL inside.
 */
static int
cc_name_node(struct cc_mem *m, const struct mp_node *nodes, uint32_t i,
    size_t *off)
{
	const struct mp_node	*nd = &nodes[i];

	*off = m->names.len;
	if (nd->kind == MP_STR)
		mp_js_utf8(&m->names, nd->p, nd->len);
	else if (mp_is_number(nd))
		(void)mp_js_key(&m->names, nodes, i);
	else
		return (-1);

	if (memchr(m->names.data + *off, '\0', m->names.len - *off) != NULL)
		return (-1);
	sbuf_append_byte(&m->names, '\0');

	return (0);
}

/* Lists are offsets into names in ptrs until cc_fixup() makes pointers. */
static void
cc_list_add(struct cc_mem *m, struct cc_list *l, size_t off)
{
	uintptr_t	v;

	if (l->n == 0)
		l->first = m->ptrs.len / sizeof(v);
	v = off;
	sbuf_append(&m->ptrs, &v, sizeof(v));
	l->n++;
}

static const char *const *
cc_list_ptr(struct cc_mem *m, const struct cc_list *l)
{
	if (l->n == 0)
		return (NULL);

	return ((const char *const *)(void *)m->ptrs.data + l->first);
}

static const char *
cc_str(struct cc_mem *m, size_t off)
{
	return ((const char *)m->names.data + off);
}

/* Every offset in ptrs becomes a pointer into names (all lists done). */
static void
cc_fixup(struct cc_mem *m)
{
	uintptr_t	*v;
	size_t		 i, n;

	sbuf_reserve(&m->names, 1);
	v = (uintptr_t *)(void *)m->ptrs.data;
	n = m->ptrs.len / sizeof(*v);
	for (i = 0; i < n; i++)
		v[i] = (uintptr_t)(m->names.data + v[i]);
}

static struct mp_js
cc_js(struct cc_mem *m)
{
	struct mp_js	js;

	js.nodes = (const struct mp_node *)(void *)m->nodes.data;
	js.out = &m->text;
	js.att = &m->att;
	js.keys = &m->keys;
	js.ents = &m->ents;

	return (js);
}

/* ---- broadcasts --------------------------------------------------------- */

void
cc_bcast_init(struct cc_bcast *b)
{
	memset(b, 0, sizeof(*b));
	b->flags = cc_flags_none;
}

void
cc_bcast_free(struct cc_bcast *b)
{
	cc_mem_free(&b->mem);
	cc_bcast_init(b);
}

/* opts.rooms or opts.except (node i, 0 if absent): names into l. */
static int
cc_rooms_node(struct cc_mem *m, const struct mp_node *nodes, uint32_t i,
    struct cc_list *l)
{
	uint32_t	c, k;
	size_t		off;

	memset(l, 0, sizeof(*l));
	/* new Set(undefined or null) is empty. */
	if (i == 0 || nodes[i].kind == MP_NIL || nodes[i].kind == MP_UNDEF)
		return (0);
	if (nodes[i].kind != MP_ARRAY)
		return (-1);

	for (c = i + 1, k = 0; k < nodes[i].n; k++, c = nodes[c].end) {
		if (cc_name_node(m, nodes, c, &off) == -1)
			return (-1);
		cc_list_add(m, l, off);
	}

	return (0);
}

/* opts.flags (node i, 0 if absent), as JS tests them. */
static void
cc_flags_node(const struct mp_node *nodes, uint32_t i, struct cc_flags *f)
{
	uint32_t	v;
	double		d;

	*f = cc_flags_none;
	if (i == 0 || nodes[i].kind != MP_MAP)
		return;

	if ((v = mp_map_get(nodes, i, "volatile")) != 0)
		f->volatile_ = mp_truthy(&nodes[v]);
	if ((v = mp_map_get(nodes, i, "compress")) != 0 &&
	    nodes[v].kind != MP_UNDEF)
		f->compress = mp_truthy(&nodes[v]);
	if ((v = mp_map_get(nodes, i, "timeout")) != 0 &&
	    mp_is_number(&nodes[v])) {
		d = mp_number(&nodes[v]);
		if (d >= 0 && d < 9007199254740992.0)
			f->timeout = (int64_t)d;
	}
	if ((v = mp_map_get(nodes, i, "expectSingleResponse")) != 0)
		f->expect_single = mp_truthy(&nodes[v]);
}

/*
 * The packet map at node i as the text packet a Node node sends for
 * it, into mem.text, its Buffers into mem.att; the nsp's offset.
 */
static int
cc_packet_node(struct cc_mem *m, const struct mp_node *nodes, uint32_t i,
    size_t *nsp)
{
	struct mp_js	js;
	uint32_t	type, data, n;

	if (nodes[i].kind != MP_MAP)
		return (-1);
	type = mp_map_get(nodes, i, "type");
	data = mp_map_get(nodes, i, "data");
	n = mp_map_get(nodes, i, "nsp");
	if (type == 0 || !mp_is_number(&nodes[type]) ||
	    mp_number(&nodes[type]) != 2)
		return (-1);
	if (data == 0 || nodes[data].kind != MP_ARRAY || nodes[data].n == 0)
		return (-1);

	if (n == 0 || nodes[n].kind == MP_UNDEF)
		*nsp = cc_name(m, "/", 1);
	else if (nodes[n].kind != MP_STR || cc_name_node(m, nodes, n, nsp) == -1)
		return (-1);

	sbuf_reset(&m->text);
	sbuf_reset(&m->att);
	sbuf_append_byte(&m->text, '0' + SIO_PACKET_EVENT);
	if (strcmp(cc_str(m, *nsp), "/") != 0) {
		sbuf_append_str(&m->text, cc_str(m, *nsp));
		sbuf_append_byte(&m->text, ',');
	}
	js = cc_js(m);
	if (mp_js_value(&js, data) == -1)
		return (-1);
	if (m->att.len > 0)
		cc_packet_binary(m, m->att.len / sizeof(struct cc_bin));

	return (0);
}

/* "2..." with n Buffers is "5<n>-...", as socket.io-parser writes it. */
static void
cc_packet_binary(struct cc_mem *m, size_t n)
{
	struct sbuf	head;

	sbuf_init(&head);
	sio_json_int(&head, (int64_t)n);
	sbuf_append_byte(&head, '-');
	sbuf_reserve(&m->text, head.len);
	memmove(m->text.data + 1 + head.len, m->text.data + 1,
	    m->text.len - 1);
	memcpy(m->text.data + 1, head.data, head.len);
	m->text.data[0] = '0' + SIO_PACKET_BINARY_EVENT;
	m->text.len += head.len;
	sbuf_free(&head);
}

/*
 * Decode the broadcast buf[0..len) into b (see cluster_codec.h). 0, or
 * -1 for bad input (b then holds nothing useful).
 */
int
cc_bcast_decode(const uint8_t *buf, size_t len, struct cc_bcast *b)
{
	struct cc_mem		*m = &b->mem;
	const struct mp_node	*nodes;
	struct cc_list		 rooms, except;
	uint32_t		 pk, op;
	size_t			 uid, nsp;

	cc_mem_reset(m);
	b->uid = b->nsp = NULL;
	b->packet = NULL;
	b->packet_len = 0;
	b->att = NULL;
	b->natt = 0;
	b->rooms = b->except = NULL;
	b->nrooms = b->nexcept = 0;
	b->flags = cc_flags_none;
	if (mp_parse(&m->nodes, buf, len) == -1)
		return (-1);
	nodes = (const struct mp_node *)(void *)m->nodes.data;
	/* const [uid, packet, opts] = decode(msg): more is ignored. */
	if (nodes[0].kind != MP_ARRAY || nodes[0].n < 3)
		return (-1);
	pk = nodes[1].end;
	op = nodes[pk].end;

	if (nodes[1].kind != MP_STR || cc_name_node(m, nodes, 1, &uid) == -1)
		uid = cc_name(m, "", 0);
	if (cc_packet_node(m, nodes, pk, &nsp) == -1)
		return (-1);
	if (nodes[op].kind != MP_MAP ||
	    cc_rooms_node(m, nodes, mp_map_get(nodes, op, "rooms"),
	    &rooms) == -1 ||
	    cc_rooms_node(m, nodes, mp_map_get(nodes, op, "except"),
	    &except) == -1)
		return (-1);
	cc_flags_node(nodes, mp_map_get(nodes, op, "flags"), &b->flags);

	cc_fixup(m);
	b->uid = cc_str(m, uid);
	b->nsp = cc_str(m, nsp);
	b->packet = m->text.data;
	b->packet_len = m->text.len;
	b->att = (const struct cc_bin *)(void *)m->att.data;
	b->natt = m->att.len / sizeof(struct cc_bin);
	b->rooms = cc_list_ptr(m, &rooms);
	b->nrooms = rooms.n;
	b->except = cc_list_ptr(m, &except);
	b->nexcept = except.n;

	return (0);
}

/* {type:2, data, nsp} from korio's text packet b->packet. */
static int
cc_put_packet(struct sbuf *out, const struct cc_bcast *b)
{
	struct sio_packet	pkt;
	int			rc;

	rc = -1;
	if (b->packet == NULL ||
	    !sio_packet_decode(&pkt, b->packet, b->packet_len))
		return (-1);
	if (pkt.ack_id != -1 || (pkt.type == SIO_PACKET_EVENT ? b->natt != 0 :
	    pkt.type != SIO_PACKET_BINARY_EVENT || pkt.attachments != b->natt))
		goto cleanup;

	mp_put_map(out, 3);
	cc_put_key(out, "type");
	mp_put_uint(out, SIO_PACKET_EVENT);
	cc_put_key(out, "data");
	if (mp_put_json(out, pkt.data, b->att, b->natt, 2) == -1)
		goto cleanup;
	cc_put_key(out, "nsp");
	mp_put_str(out, pkt.nsp, strlen(pkt.nsp));
	rc = 0;

cleanup:
	sio_packet_clear(&pkt);
	return (rc);
}

static void
cc_put_key(struct sbuf *out, const char *key)
{
	mp_put_str(out, key, strlen(key));
}

static void
cc_put_names(struct sbuf *out, const char *const *names, size_t n)
{
	size_t		i;

	mp_put_array(out, n);
	for (i = 0; i < n; i++)
		mp_put_str(out, names[i], strlen(names[i]));
}

/* {rooms, except, flags}: the flags set, in Node's usual order. */
static void
cc_put_opts(struct sbuf *out, const struct cc_bcast *b)
{
	const struct cc_flags	*f = &b->flags;

	mp_put_map(out, 3);
	cc_put_key(out, "rooms");
	cc_put_names(out, b->rooms, b->nrooms);
	cc_put_key(out, "except");
	cc_put_names(out, b->except, b->nexcept);
	cc_put_key(out, "flags");
	mp_put_map(out, (size_t)((f->volatile_ != 0) + (f->compress >= 0) +
	    (f->timeout >= 0) + (f->expect_single != 0)));
	if (f->volatile_) {
		cc_put_key(out, "volatile");
		mp_put_bool(out, 1);
	}
	if (f->compress >= 0) {
		cc_put_key(out, "compress");
		mp_put_bool(out, f->compress);
	}
	if (f->timeout >= 0) {
		cc_put_key(out, "timeout");
		mp_put_uint(out, (uint64_t)f->timeout);
	}
	if (f->expect_single) {
		cc_put_key(out, "expectSingleResponse");
		mp_put_bool(out, 1);
	}
}

/*
 * Append b as the msgpack [uid, packet, opts] to out (see the header).
 * 0, or -1 (out unchanged) if b->packet is not an event korio could
 * publish (an ack id, attachments that do not match, too deep).
 */
int
cc_bcast_encode(struct sbuf *out, const struct cc_bcast *b)
{
	size_t		start;

	start = out->len;
	mp_put_array(out, 3);
	cc_put_key(out, b->uid != NULL ? b->uid : "");
	if (cc_put_packet(out, b) == -1) {
		out->len = start;
		return (-1);
	}
	cc_put_opts(out, b);

	return (0);
}

/* ---- requests and responses --------------------------------------------- */

void
cc_req_init(struct cc_req *q)
{
	memset(q, 0, sizeof(*q));
	q->type = CC_REQ_NONE;
	q->client_count = -1;
	q->flags = cc_flags_none;
}

void
cc_req_free(struct cc_req *q)
{
	if (q->json != NULL)
		json_decref(q->json);
	cc_mem_free(&q->mem);
	cc_req_init(q);
}

/* A JSON value (integers too big for jansson as doubles, as in JS). */
static json_t *
cc_json_load(const uint8_t *buf, size_t len)
{
	json_t		*json;
	json_error_t	 err;

	json = json_loadb((const char *)buf, len, JSON_DECODE_ANY |
	    JSON_ALLOW_NUL, &err);
	if (json == NULL && json_error_code(&err) == json_error_numeric_overflow)
		json = json_loadb((const char *)buf, len, JSON_DECODE_ANY |
		    JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &err);

	return (json);
}

/* A JSON array of room names (strings or numbers) into l. */
static int
cc_rooms_json(struct cc_mem *m, const json_t *a, struct cc_list *l)
{
	const json_t	*v;
	size_t		 i, off;

	memset(l, 0, sizeof(*l));
	if (a == NULL || json_is_null(a))
		return (0);
	if (!json_is_array(a))
		return (-1);

	for (i = 0; i < json_array_size(a); i++) {
		v = json_array_get(a, i);
		off = m->names.len;
		if (json_is_string(v)) {
			if (memchr(json_string_value(v), '\0',
			    json_string_length(v)) != NULL)
				return (-1);
			sbuf_append(&m->names, json_string_value(v),
			    json_string_length(v));
		} else if (json_is_number(v))
			sio_packet_json(&m->names, v);
		else
			return (-1);
		sbuf_append_byte(&m->names, '\0');
		cc_list_add(m, l, off);
	}

	return (0);
}

static int
cc_truthy_json(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_NULL:
	case JSON_FALSE:
		return (0);
	case JSON_INTEGER:
	case JSON_REAL:
		return (json_number_value(v) != 0);
	case JSON_STRING:
		return (json_string_length(v) > 0);
	default:
		return (1);
	}
}

static void
cc_flags_json(const json_t *o, struct cc_flags *f)
{
	const json_t	*v;
	double		 d;

	*f = cc_flags_none;
	if (!json_is_object(o))
		return;

	if ((v = json_object_get(o, "volatile")) != NULL)
		f->volatile_ = cc_truthy_json(v);
	if ((v = json_object_get(o, "compress")) != NULL)
		f->compress = cc_truthy_json(v);
	if ((v = json_object_get(o, "timeout")) != NULL && json_is_number(v)) {
		d = json_number_value(v);
		if (d >= 0 && d < 9007199254740992.0)
			f->timeout = (int64_t)d;
	}
	if ((v = json_object_get(o, "expectSingleResponse")) != NULL)
		f->expect_single = cc_truthy_json(v);
}

/* The fields every request or response may have, from q->json. */
static int
cc_req_fields(struct cc_req *q, struct cc_list *rooms, struct cc_list *except,
    struct cc_list *targets, size_t *uid, size_t *rid)
{
	struct cc_mem	*m = &q->mem;
	const json_t	*v, *opts;
	double		 d;

	if (!json_is_object(q->json))
		return (-1);

	if ((v = json_object_get(q->json, "type")) != NULL) {
		d = json_is_number(v) ? json_number_value(v) : -1;
		if (!(d >= 0 && d <= 255) || (double)(int)d != d)
			return (-1);
		q->type = (int)d;
	}
	*uid = *rid = SIZE_MAX;
	if ((v = json_object_get(q->json, "uid")) != NULL &&
	    json_is_string(v))
		*uid = cc_name(m, json_string_value(v), json_string_length(v));
	if ((v = json_object_get(q->json, "requestId")) != NULL &&
	    json_is_string(v))
		*rid = cc_name(m, json_string_value(v), json_string_length(v));

	opts = json_object_get(q->json, "opts");
	if (opts != NULL && !json_is_object(opts) && !json_is_null(opts))
		return (-1);
	if (cc_rooms_json(m, json_object_get(opts, "rooms"), rooms) == -1 ||
	    cc_rooms_json(m, json_object_get(opts, "except"), except) == -1)
		return (-1);
	cc_flags_json(json_object_get(opts, "flags"), &q->flags);
	if (cc_rooms_json(m, json_object_get(q->json, "rooms"), targets) == -1)
		return (-1);

	if ((v = json_object_get(q->json, "close")) != NULL)
		q->close = cc_truthy_json(v);
	if ((v = json_object_get(q->json, "clientCount")) != NULL &&
	    json_is_number(v)) {
		d = json_number_value(v);
		if (d >= 0 && d < 9007199254740992.0)
			q->client_count = (int64_t)d;
	}

	return (0);
}

/*
 * "packet" of types 7 and 9 into mem.text (and mem.att): a msgpack one
 * from its tree, a JSON one (never sent by Node) from the JSON.
 */
static int
cc_req_packet(struct cc_req *q, const uint8_t *buf, size_t len)
{
	struct cc_mem		*m = &q->mem;
	const struct mp_node	*nodes;
	struct mp_js		 js;
	const json_t		*pk, *data, *nsp;
	uint32_t		 p;
	size_t			 off;

	sbuf_reset(&m->text);
	sbuf_reset(&m->att);
	if (buf[0] != '{') {
		nodes = (const struct mp_node *)(void *)m->nodes.data;
		if ((p = mp_map_get(nodes, 0, "packet")) == 0 ||
		    nodes[p].kind == MP_UNDEF)
			return (0);
		if (q->type == CC_REQ_BROADCAST)
			return (cc_packet_node(m, nodes, p, &off));
		js = cc_js(m);
		return (mp_js_value(&js, p));
	}

	(void)len;
	if ((pk = json_object_get(q->json, "packet")) == NULL)
		return (0);
	if (q->type == CC_REQ_BROADCAST_ACK) {
		sio_packet_json(&m->text, pk);
		return (0);
	}
	data = json_object_get(pk, "data");
	nsp = json_object_get(pk, "nsp");
	if (!json_is_array(data) || json_array_size(data) == 0 ||
	    (nsp != NULL && !json_is_string(nsp)))
		return (-1);
	sbuf_append_byte(&m->text, '0' + SIO_PACKET_EVENT);
	if (nsp != NULL && strcmp(json_string_value(nsp), "/") != 0) {
		sbuf_append(&m->text, json_string_value(nsp),
		    json_string_length(nsp));
		sbuf_append_byte(&m->text, ',');
	}
	sio_packet_json(&m->text, data);

	return (0);
}

/*
 * Decode a request or response buf[0..len) into q (see the header). 0,
 * or -1 for bad input.
 */
int
cc_req_decode(const uint8_t *buf, size_t len, struct cc_req *q)
{
	struct cc_mem		*m = &q->mem;
	struct cc_list		 rooms, except, targets;
	struct mp_js		 js;
	size_t			 uid, rid;

	if (q->json != NULL)
		json_decref(q->json);
	cc_mem_reset(m);
	q->json = NULL;
	q->type = CC_REQ_NONE;
	q->close = 0;
	q->client_count = -1;
	q->flags = cc_flags_none;
	q->uid = q->request_id = NULL;
	q->rooms = q->except = q->targets = NULL;
	q->nrooms = q->nexcept = q->ntargets = 0;
	q->packet = NULL;
	q->packet_len = 0;
	q->att = NULL;
	q->natt = 0;
	if (len == 0)
		return (-1);

	if (buf[0] == '{')
		q->json = cc_json_load(buf, len);
	else {
		/* msgpack: a map, read through its JSON text. */
		if (mp_parse(&m->nodes, buf, len) == -1 ||
		    ((const struct mp_node *)(void *)m->nodes.data)->kind !=
		    MP_MAP)
			return (-1);
		js = cc_js(m);
		if (mp_js_value(&js, 0) == -1)
			return (-1);
		q->json = cc_json_load(m->text.data, m->text.len);
	}
	if (q->json == NULL ||
	    cc_req_fields(q, &rooms, &except, &targets, &uid, &rid) == -1)
		return (-1);
	if ((q->type == CC_REQ_BROADCAST || q->type == CC_REQ_BROADCAST_ACK) &&
	    cc_req_packet(q, buf, len) == -1)
		return (-1);

	cc_fixup(m);
	q->uid = uid == SIZE_MAX ? NULL : cc_str(m, uid);
	q->request_id = rid == SIZE_MAX ? NULL : cc_str(m, rid);
	q->rooms = cc_list_ptr(m, &rooms);
	q->nrooms = rooms.n;
	q->except = cc_list_ptr(m, &except);
	q->nexcept = except.n;
	q->targets = cc_list_ptr(m, &targets);
	q->ntargets = targets.n;
	if (q->type == CC_REQ_BROADCAST || q->type == CC_REQ_BROADCAST_ACK) {
		q->packet = m->text.len > 0 ? m->text.data : NULL;
		q->packet_len = m->text.len;
	}
	q->att = (const struct cc_bin *)(void *)m->att.data;
	q->natt = q->packet != NULL ? m->att.len / sizeof(struct cc_bin) : 0;

	return (0);
}

/*
 * msgpack {uid, requestId, type:7, packet, opts}: b's broadcast asking
 * for acks (b->flags.timeout set), as io.timeout(t).emitWithAck() sends.
 */
int
cc_req_encode_bcast(struct sbuf *out, const char *rid, const struct cc_bcast *b)
{
	size_t		start;

	start = out->len;
	mp_put_map(out, 5);
	cc_put_key(out, "uid");
	cc_put_key(out, b->uid != NULL ? b->uid : "");
	cc_put_key(out, "requestId");
	cc_put_key(out, rid);
	cc_put_key(out, "type");
	mp_put_uint(out, CC_REQ_BROADCAST);
	cc_put_key(out, "packet");
	if (cc_put_packet(out, b) == -1) {
		out->len = start;
		return (-1);
	}
	cc_put_key(out, "opts");
	cc_put_opts(out, b);

	return (0);
}

/*
 * msgpack {type:9, requestId, packet}: one client's ack, its first
 * argument json[0..len) (JSON, placeholders for att). json NULL: the
 * argument was undefined, and notepack.io leaves the key out.
 */
int
cc_req_encode_ack(struct sbuf *out, const char *rid, const uint8_t *json,
    size_t len, const struct cc_bin *att, size_t natt)
{
	json_t		*arg;
	size_t		 start;
	int		 rc;

	arg = NULL;
	if (json != NULL && (arg = cc_json_load(json, len)) == NULL)
		return (-1);

	start = out->len;
	mp_put_map(out, arg != NULL ? 3 : 2);
	cc_put_key(out, "type");
	mp_put_uint(out, CC_REQ_BROADCAST_ACK);
	cc_put_key(out, "requestId");
	cc_put_key(out, rid);
	rc = 0;
	if (arg != NULL) {
		cc_put_key(out, "packet");
		rc = mp_put_json(out, arg, att, natt, 1);
		json_decref(arg);
	}
	if (rc == -1)
		out->len = start;

	return (rc);
}

/* {"type":8,"requestId":...,"clientCount":n} */
int
cc_req_encode_count(struct sbuf *out, const char *rid, uint64_t n)
{
	sbuf_append_str(out, "{\"type\":8,\"requestId\":");
	sbuf_append_jstr(out, rid, strlen(rid));
	sbuf_append_str(out, ",\"clientCount\":");
	sio_json_int(out, (int64_t)n);
	sbuf_append_byte(out, '}');

	return (0);
}

/* {"requestId":...,"rooms":[...]}: the reply to allRooms (type 1). */
int
cc_req_encode_rooms(struct sbuf *out, const char *rid,
    const char *const *rooms, size_t n)
{
	size_t		i;

	sbuf_append_str(out, "{\"requestId\":");
	sbuf_append_jstr(out, rid, strlen(rid));
	sbuf_append_str(out, ",\"rooms\":[");
	for (i = 0; i < n; i++) {
		if (i > 0)
			sbuf_append_byte(out, ',');
		sbuf_append_jstr(out, rooms[i], strlen(rooms[i]));
	}
	sbuf_append_str(out, "]}");

	return (0);
}

/* {"requestId":...,"sockets":[...]}: the reply to fetchSockets (5). */
int
cc_req_encode_sockets(struct sbuf *out, const char *rid,
    const json_t *sockets)
{
	if (!json_is_array(sockets))
		return (-1);
	sbuf_append_str(out, "{\"requestId\":");
	sbuf_append_jstr(out, rid, strlen(rid));
	sbuf_append_str(out, ",\"sockets\":");
	sio_packet_json(out, sockets);
	sbuf_append_byte(out, '}');

	return (0);
}

/* {"type":6,"requestId":...,"data":...}: a serverSideEmit ack. */
int
cc_req_encode_emit_ack(struct sbuf *out, const char *rid, const json_t *data)
{
	sbuf_append_str(out, "{\"type\":6,\"requestId\":");
	sbuf_append_jstr(out, rid, strlen(rid));
	if (data != NULL) {
		sbuf_append_str(out, ",\"data\":");
		sio_packet_json(out, data);
	}
	sbuf_append_byte(out, '}');

	return (0);
}
