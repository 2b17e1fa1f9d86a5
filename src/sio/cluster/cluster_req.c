/*
 * cluster_req.c: requests and responses of the classic Redis adapter's
 * request/response channels (../shared/docs/redis-adapter.md, section 4;
 * pure: libc + jansson + codec/). JSON (first byte '{') except the ack
 * request (type 7) and its per-client acks (type 9), which are msgpack;
 * both decode into struct cc_req, a msgpack one through its JSON text
 * (cluster_mpjs.c) so that every field is read one way. Type 7's packet
 * is read as a broadcast's (cluster_codec.c), type 9's as JSON text.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_codec.h"
#include "cluster_mp.h"
#include "codec/sio_packet.h"

static int	 cc_rooms_json(struct cc_mem *, const json_t *,
		    struct cc_list *);
static void	 cc_flags_json(const json_t *, struct cc_flags *);
static int	 cc_truthy_json(const json_t *);
static int	 cc_req_fields(struct cc_req *, struct cc_list *,
		    struct cc_list *, struct cc_list *, size_t *, size_t *);
static int	 cc_req_packet(struct cc_req *, const uint8_t *);

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
cc_req_packet(struct cc_req *q, const uint8_t *buf)
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
		q->json = sio_packet_parse_json(buf, len);
	else {
		/* msgpack: a map, read through its JSON text. */
		if (mp_parse(&m->nodes, buf, len) == -1 ||
		    ((const struct mp_node *)(void *)m->nodes.data)->kind !=
		    MP_MAP)
			return (-1);
		js = cc_js(m);
		if (mp_js_value(&js, 0) == -1)
			return (-1);
		q->json = sio_packet_parse_json(m->text.data, m->text.len);
	}
	if (q->json == NULL ||
	    cc_req_fields(q, &rooms, &except, &targets, &uid, &rid) == -1)
		return (-1);
	if ((q->type == CC_REQ_BROADCAST || q->type == CC_REQ_BROADCAST_ACK) &&
	    cc_req_packet(q, buf) == -1)
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
	if (json != NULL && (arg = sio_packet_parse_json(json, len)) == NULL)
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
