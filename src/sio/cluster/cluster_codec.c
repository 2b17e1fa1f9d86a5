/*
 * cluster_codec.c: broadcasts of Socket.IO's classic Redis adapter
 * (../shared/docs/redis-adapter.md, section 3) to and from korio's forms,
 * and the decoded structs' memory (pure: libc + jansson + codec/; the
 * msgpack itself is cluster_mp.c, its JS meaning cluster_mpjs.c,
 * requests and responses cluster_req.c).
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
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_codec.h"
#include "cluster_mp.h"
#include "codec/sio_packet.h"

static int	 cc_name_node(struct cc_mem *, const struct mp_node *,
		    uint32_t, size_t *);
static int	 cc_rooms_node(struct cc_mem *, const struct mp_node *,
		    uint32_t, struct cc_list *);
static void	 cc_flags_node(const struct mp_node *, uint32_t,
		    struct cc_flags *);
static void	 cc_packet_binary(struct cc_mem *, size_t);
static void	 cc_put_names(struct sbuf *, const char *const *, size_t);

const struct cc_flags cc_flags_none = { 0, -1, -1, 0 };

/* ---- memory ------------------------------------------------------------- */

void
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

void
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
size_t
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

	sbuf_reserve(&m->names, 1);	/* names.data is read at *off below */
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
void
cc_list_add(struct cc_mem *m, struct cc_list *l, size_t off)
{
	uintptr_t	v;

	if (l->n == 0)
		l->first = m->ptrs.len / sizeof(v);
	v = off;
	sbuf_append(&m->ptrs, &v, sizeof(v));
	l->n++;
}

const char *const *
cc_list_ptr(struct cc_mem *m, const struct cc_list *l)
{
	if (l->n == 0)
		return (NULL);

	return ((const char *const *)(void *)m->ptrs.data + l->first);
}

const char *
cc_str(struct cc_mem *m, size_t off)
{
	return ((const char *)m->names.data + off);
}

/* Every offset in ptrs becomes a pointer into names (all lists done). */
void
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

struct mp_js
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
int
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
int
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

void
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
void
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
