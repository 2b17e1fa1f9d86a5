/*
 * The Socket.IO v5 layer: namespaces, sockets, connect middleware, event
 * handlers, acknowledgements both ways, rooms and broadcasts.
 *
 * Every Engine.IO session of the Socket.IO endpoint has a client (struct
 * sio_client) holding its sockets, one per connected namespace, and the
 * binary reassembly state. All of it lives on the worker that owns the
 * session (engine.c), so handlers, joins and leaves are local operations.
 *
 * A broadcast is encoded once into shared frames, fanned out to this
 * worker's members of the rooms (each socket once, whatever the number of
 * rooms it is in), and sent once to every other worker, which fans the same
 * bytes out to its own members.
 *
 * Rules from socket.io 4.8: the first packet of a session must be a
 * CONNECT; a session that connects no namespace within connectTimeout is
 * closed; an unknown namespace gets CONNECT_ERROR "Invalid namespace"; a
 * client DISCONNECT ends that namespace's socket and keeps the session;
 * packets for a namespace that is not connected are ignored; a packet that
 * does not decode closes the session. Connection-state recovery is off (no
 * "pid" in the CONNECT reply).
 */

#include <sys/types.h>
#include <sys/random.h>

#include <kore/kore.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sio_internal.h"
#include "eio.h"
#include "hmap.h"
#include "rooms.h"
#include "sio_packet.h"

#define SOCK_CONNECTING		1
#define SOCK_CONNECTED		2
#define SOCK_CLOSED		3

#define NSP_MAX			16

struct sio_handler {
	sio_event_fn		fn;
};

struct sio_nsp {
	char			*name;
	u_int8_t		index;
	sio_connect_fn		on_connect;
	sio_socket_fn		on_connection;
	sio_disconnect_fn	on_disconnect;
	sio_event_fn		on_unknown;
	struct hmap		handlers;
	struct rooms		rooms;
	TAILQ_HEAD(, sio_socket) sockets;
	size_t			count;
};

struct sio_pending_ack {
	int64_t				id;
	sio_ack_fn			fn;
	void				*arg;
	TAILQ_ENTRY(sio_pending_ack)	list;
};

struct sio_client {
	struct eio_session		*s;
	struct sio_packet_reasm		reasm;
	TAILQ_HEAD(, sio_socket)	sockets;
	int				got_connect;
	u_int64_t			deadline;
	int				in_ctq;
	TAILQ_ENTRY(sio_client)		ctl;
};

struct sio_socket {
	char				id[SIO_SID_LEN + 1];
	struct sio_nsp			*nsp;
	struct sio_client		*client;
	int				state;
	u_int32_t			refs;
	void				*udata;
	int64_t				next_ack;
	TAILQ_HEAD(, sio_pending_ack)	acks;
	struct rooms_member		member;
	TAILQ_ENTRY(sio_socket)		clist;
	TAILQ_ENTRY(sio_socket)		nlist;
};

struct fanout {
	struct sio_socket	**sockets;
	size_t			n;
	size_t			cap;
	const char *const	*except;
	size_t			nexcept;
	struct sio_nsp		*nsp;
};

static struct sio_nsp		*nsps[NSP_MAX];
static size_t			nnsps;
static TAILQ_HEAD(, sio_client)	connect_queue;

static void	server_packet(struct sio_client *, struct sio_packet *);
static void	server_connect(struct sio_client *, struct sio_packet *);
static void	server_event(struct sio_socket *, struct sio_packet *);
static void	server_ack(struct sio_socket *, struct sio_packet *);
static struct sio_socket *server_find(struct sio_client *, const char *);
static void	socket_close(struct sio_socket *, const char *);
static void	socket_free(struct sio_socket *);
static void	socket_id_new(char *);
static int	socket_packet(struct sio_socket *, int, int64_t, json_t *,
		    const struct sio_attachment *, size_t);
static size_t	encode_frames(struct sio_frame **, const char *, int, int64_t,
		    json_t *, const struct sio_attachment *, size_t);
static json_t	*event_array(const char *, json_t *);
static void	fanout_local(struct sio_nsp *, const char *const *, size_t,
		    const char *const *, size_t, struct sio_frame **, size_t);
static void	fanout_member(struct rooms_member *, void *);
static void	client_ctq_remove(struct sio_client *);

void
server_init(void)
{
	TAILQ_INIT(&connect_queue);
	if (sio_nsp_lookup("/") == NULL)
		(void)sio_nsp_create("/");
}

struct sio_nsp *
sio_nsp_create(const char *name)
{
	struct sio_nsp	*n;

	if ((n = sio_nsp_lookup(name)) != NULL)
		return (n);
	if (nnsps == NSP_MAX)
		fatal("sio_nsp_create: too many namespaces");
	if (name[0] != '/' || strchr(name, ',') != NULL)
		fatal("sio_nsp_create: bad namespace '%s'", name);

	n = sbuf_xcalloc(1, sizeof(*n));
	n->name = sbuf_xstrdup(name);
	n->index = (u_int8_t)nnsps;
	hmap_init(&n->handlers);
	rooms_init(&n->rooms);
	TAILQ_INIT(&n->sockets);
	nsps[nnsps++] = n;

	return (n);
}

struct sio_nsp *
sio_nsp_lookup(const char *name)
{
	size_t		i;

	for (i = 0; i < nnsps; i++) {
		if (!strcmp(nsps[i]->name, name))
			return (nsps[i]);
	}

	return (NULL);
}

void
sio_nsp_on_connect(struct sio_nsp *n, sio_connect_fn fn)
{
	n->on_connect = fn;
}

void
sio_nsp_on_connection(struct sio_nsp *n, sio_socket_fn fn)
{
	n->on_connection = fn;
}

void
sio_nsp_on_disconnect(struct sio_nsp *n, sio_disconnect_fn fn)
{
	n->on_disconnect = fn;
}

void
sio_nsp_on(struct sio_nsp *n, const char *event, sio_event_fn fn)
{
	struct sio_handler	*h;

	h = sbuf_xcalloc(1, sizeof(*h));
	h->fn = fn;
	hmap_put(&n->handlers, event, strlen(event), h);
}

void
sio_nsp_on_unknown(struct sio_nsp *n, sio_event_fn fn)
{
	n->on_unknown = fn;
}

size_t
sio_nsp_local_count(struct sio_nsp *n)
{
	return (n->count);
}

void
sio_nsp_foreach(struct sio_nsp *n, void (*cb)(struct sio_socket *, void *),
    void *arg)
{
	struct sio_socket	*so, *next;

	for (so = TAILQ_FIRST(&n->sockets); so != NULL; so = next) {
		next = TAILQ_NEXT(so, nlist);
		cb(so, arg);
	}
}

/* Engine.IO callbacks for the Socket.IO endpoint. */
void
server_open(struct eio_session *s)
{
	struct sio_client	*c;

	c = sbuf_xcalloc(1, sizeof(*c));
	c->s = s;
	TAILQ_INIT(&c->sockets);
	sio_packet_reasm_init(&c->reasm, sio_conf.max_attachment_bytes);
	c->deadline = kore_time_ms() + sio_conf.connect_timeout;
	c->in_ctq = 1;
	TAILQ_INSERT_TAIL(&connect_queue, c, ctl);
	eio_session_set_udata(s, c);
}

void
server_message(struct eio_session *s, const u_int8_t *data, size_t len,
    int binary)
{
	struct sio_client	*c;
	struct sio_packet	pkt;
	int			r;

	if ((c = eio_session_udata(s)) == NULL)
		return;

	if (binary)
		r = sio_packet_reasm_binary(&c->reasm, &pkt, data, len);
	else
		r = sio_packet_reasm_text(&c->reasm, &pkt, data, len);

	if (r == SIO_REASM_MORE)
		return;
	if (r == SIO_REASM_ERROR) {
		if (sio_conf.debug)
			kore_log(LOG_INFO, "sio: %s: bad packet, closing",
			    eio_session_id(s));
		eio_close(s, "parse error");
		return;
	}

	server_packet(c, &pkt);
	sio_packet_clear(&pkt);
}

void
server_close(struct eio_session *s, const char *reason)
{
	struct sio_client	*c;
	struct sio_socket	*so;

	if ((c = eio_session_udata(s)) == NULL)
		return;
	eio_session_set_udata(s, NULL);

	while ((so = TAILQ_FIRST(&c->sockets)) != NULL)
		socket_close(so, reason);

	client_ctq_remove(c);
	sio_packet_reasm_clear(&c->reasm);
	free(c);
}

/* Sessions that connected no namespace within connectTimeout. */
void
server_tick(u_int64_t now)
{
	struct sio_client	*c;

	while ((c = TAILQ_FIRST(&connect_queue)) != NULL &&
	    c->deadline <= now) {
		client_ctq_remove(c);
		if (sio_conf.debug)
			kore_log(LOG_INFO, "sio: %s: no namespace connected in "
			    "time, closing", eio_session_id(c->s));
		eio_close(c->s, "connect timeout");
	}
}

static void
client_ctq_remove(struct sio_client *c)
{
	if (!c->in_ctq)
		return;
	TAILQ_REMOVE(&connect_queue, c, ctl);
	c->in_ctq = 0;
}

static void
server_packet(struct sio_client *c, struct sio_packet *pkt)
{
	struct sio_socket	*so;

	if (pkt->type == SIO_PACKET_CONNECT) {
		server_connect(c, pkt);
		return;
	}

	if (!c->got_connect || pkt->type == SIO_PACKET_CONNECT_ERROR) {
		eio_close(c->s, "parse error");
		return;
	}

	if ((so = server_find(c, pkt->nsp)) == NULL ||
	    so->state != SOCK_CONNECTED)
		return;

	switch (pkt->type) {
	case SIO_PACKET_DISCONNECT:
		socket_close(so, "client namespace disconnect");
		break;
	case SIO_PACKET_EVENT:
	case SIO_PACKET_BINARY_EVENT:
		server_event(so, pkt);
		break;
	case SIO_PACKET_ACK:
	case SIO_PACKET_BINARY_ACK:
		server_ack(so, pkt);
		break;
	default:
		break;
	}
}

static struct sio_socket *
server_find(struct sio_client *c, const char *nsp)
{
	struct sio_socket	*so;

	TAILQ_FOREACH(so, &c->sockets, clist) {
		if (!strcmp(so->nsp->name, nsp))
			return (so);
	}

	return (NULL);
}

static void
server_connect(struct sio_client *c, struct sio_packet *pkt)
{
	struct sio_nsp		*n;
	struct sio_socket	*so;
	json_t			*auth;

	c->got_connect = 1;

	if ((n = sio_nsp_lookup(pkt->nsp)) == NULL) {
		so = &(struct sio_socket){ .client = c };
		so->nsp = &(struct sio_nsp){ .name = pkt->nsp };
		(void)socket_packet(so, SIO_PACKET_CONNECT_ERROR, -1,
		    json_pack("{s:s}", "message", "Invalid namespace"),
		    NULL, 0);
		return;
	}

	if (server_find(c, n->name) != NULL)
		return;

	so = sbuf_xcalloc(1, sizeof(*so));
	socket_id_new(so->id);
	so->nsp = n;
	so->client = c;
	so->state = SOCK_CONNECTING;
	so->refs = 1;
	TAILQ_INIT(&so->acks);
	rooms_member_init(&so->member, so);
	TAILQ_INSERT_TAIL(&c->sockets, so, clist);

	auth = pkt->data != NULL ? json_incref(pkt->data) : json_object();
	if (n->on_connect != NULL)
		n->on_connect(so, auth);
	else
		sio_accept(so);
	json_decref(auth);
}

/* Accept a socket that is waiting in its namespace's connect middleware. */
void
sio_accept(struct sio_socket *so)
{
	struct sio_nsp	*n = so->nsp;

	if (so->state != SOCK_CONNECTING)
		return;

	so->state = SOCK_CONNECTED;
	TAILQ_INSERT_TAIL(&n->sockets, so, nlist);
	n->count++;
	client_ctq_remove(so->client);

	(void)socket_packet(so, SIO_PACKET_CONNECT, -1,
	    json_pack("{s:s}", "sid", so->id), NULL, 0);

	if (sio_conf.debug) {
		kore_log(LOG_INFO, "sio: %s: socket %s connected to %s",
		    eio_session_id(so->client->s), so->id, n->name);
	}

	if (so->state == SOCK_CONNECTED && n->on_connection != NULL)
		n->on_connection(so);
}

/* Refuse a connecting socket: CONNECT_ERROR {message, data}. */
void
sio_reject(struct sio_socket *so, const char *message, json_t *data)
{
	json_t		*err;

	if (so->state != SOCK_CONNECTING) {
		json_decref(data);
		return;
	}

	err = json_pack("{s:s}", "message", message);
	if (data != NULL)
		(void)json_object_set_new(err, "data", data);
	(void)socket_packet(so, SIO_PACKET_CONNECT_ERROR, -1, err, NULL, 0);

	if (sio_conf.debug) {
		kore_log(LOG_INFO, "sio: %s: connect to %s refused: %s",
		    eio_session_id(so->client->s), so->nsp->name, message);
	}

	socket_close(so, NULL);
}

void
sio_disconnect(struct sio_socket *so)
{
	if (so->state == SOCK_CLOSED)
		return;

	(void)socket_packet(so, SIO_PACKET_DISCONNECT, -1, NULL, NULL, 0);
	socket_close(so, "server namespace disconnect");
}

const char *
sio_socket_id(struct sio_socket *so)
{
	return (so->id);
}

struct sio_nsp *
sio_socket_nsp(struct sio_socket *so)
{
	return (so->nsp);
}

int
sio_socket_connected(struct sio_socket *so)
{
	return (so->state == SOCK_CONNECTED);
}

void *
sio_socket_udata(struct sio_socket *so)
{
	return (so->udata);
}

void
sio_socket_set_udata(struct sio_socket *so, void *udata)
{
	so->udata = udata;
}

void
sio_socket_ref(struct sio_socket *so)
{
	so->refs++;
}

void
sio_socket_unref(struct sio_socket *so)
{
	if (--so->refs == 0)
		socket_free(so);
}

/* args (stolen, may be NULL): the arguments after the event name. */
int
sio_emit(struct sio_socket *so, const char *event, json_t *args)
{
	return (sio_emit_bin(so, event, args, NULL, 0));
}

int
sio_emit_bin(struct sio_socket *so, const char *event, json_t *args,
    const struct sio_attachment *att, size_t natt)
{
	return (socket_packet(so, SIO_PACKET_EVENT, -1,
	    event_array(event, args), att, natt));
}

int
sio_emit_ack(struct sio_socket *so, const char *event, json_t *args,
    sio_ack_fn fn, void *arg)
{
	struct sio_pending_ack	*pa;
	int64_t			id;

	if (so->state != SOCK_CONNECTED) {
		json_decref(args);
		return (0);
	}

	id = so->next_ack++;
	if (!socket_packet(so, SIO_PACKET_EVENT, id, event_array(event, args),
	    NULL, 0))
		return (0);

	pa = sbuf_xcalloc(1, sizeof(*pa));
	pa->id = id;
	pa->fn = fn;
	pa->arg = arg;
	TAILQ_INSERT_TAIL(&so->acks, pa, list);

	return (1);
}

/* args (stolen, may be NULL for []): the acknowledgement's arguments. */
void
sio_ack(struct sio_socket *so, int64_t id, json_t *args)
{
	sio_ack_bin(so, id, args, NULL, 0);
}

void
sio_ack_bin(struct sio_socket *so, int64_t id, json_t *args,
    const struct sio_attachment *att, size_t natt)
{
	if (id < 0) {
		json_decref(args);
		return;
	}
	if (args == NULL)
		args = json_array();
	(void)socket_packet(so, SIO_PACKET_ACK, id, args, att, natt);
}

int
sio_join(struct sio_socket *so, const char *room)
{
	if (so->state != SOCK_CONNECTED)
		return (0);
	return (rooms_join(&so->nsp->rooms, &so->member, room));
}

int
sio_leave(struct sio_socket *so, const char *room)
{
	if (so->state != SOCK_CONNECTED)
		return (0);
	return (rooms_leave(&so->nsp->rooms, &so->member, room));
}

int
sio_in_room(struct sio_socket *so, const char *room)
{
	return (rooms_has(&so->nsp->rooms, &so->member, room));
}

/*
 * Emit event(args) to the sockets of namespace n in any of rooms (all of
 * them when nrooms is 0) and in none of except, on every worker. args is
 * stolen. The packet is encoded once.
 */
void
sio_broadcast(struct sio_nsp *n, const char *const *rooms, size_t nrooms,
    const char *const *except, size_t nexcept, const char *event, json_t *args)
{
	struct sio_frame	*frames[SIO_FRAMES_MAX];
	struct sbuf		b;
	size_t			i, nf, len;
	u_int16_t		u16;
	u_int32_t		u32;

	nf = encode_frames(frames, n->name, SIO_PACKET_EVENT, -1,
	    event_array(event, args), NULL, 0);
	if (nf == 0)
		return;

	fanout_local(n, rooms, nrooms, except, nexcept, frames, nf);

	if (bus_worker_count() > 1) {
		sbuf_init(&b);
		sbuf_append_byte(&b, n->index);
		sbuf_append_byte(&b, (u_int8_t)nf);
		u16 = (u_int16_t)nrooms;
		sbuf_append(&b, &u16, sizeof(u16));
		u16 = (u_int16_t)nexcept;
		sbuf_append(&b, &u16, sizeof(u16));
		for (i = 0; i < nrooms + nexcept; i++) {
			len = strlen(i < nrooms ? rooms[i] : except[i - nrooms]);
			u16 = (u_int16_t)len;
			sbuf_append(&b, &u16, sizeof(u16));
			sbuf_append(&b, i < nrooms ? rooms[i] :
			    except[i - nrooms], len);
		}
		for (i = 0; i < nf; i++) {
			sbuf_append_byte(&b, frames[i]->binary);
			u32 = (u_int32_t)frames[i]->len;
			sbuf_append(&b, &u32, sizeof(u32));
			sbuf_append(&b, SIO_FRAME_DATA(frames[i]),
			    frames[i]->len);
		}
		bus_send_others(SIO_MSG_BROADCAST, b.data, b.len);
		sbuf_free(&b);
	}

	for (i = 0; i < nf; i++)
		frame_unref(frames[i]);
}

/*
 * Like sio_broadcast(), to this worker's sockets only (for state every
 * worker keeps a copy of, such as presence). args is stolen.
 */
void
sio_broadcast_local(struct sio_nsp *n, const char *const *rooms,
    size_t nrooms, const char *event, json_t *args)
{
	struct sio_frame	*frames[SIO_FRAMES_MAX];
	size_t			i, nf;

	nf = encode_frames(frames, n->name, SIO_PACKET_EVENT, -1,
	    event_array(event, args), NULL, 0);
	fanout_local(n, rooms, nrooms, NULL, 0, frames, nf);
	for (i = 0; i < nf; i++)
		frame_unref(frames[i]);
}

/*
 * Every socket of namespace n in room `in`, on every worker, leaves room
 * `room` (socket.io's io.in(x).socketsLeave(y)).
 */
void
sio_sockets_leave(struct sio_nsp *n, const char *in, const char *room)
{
	struct sbuf	b;

	sbuf_init(&b);
	sbuf_append_byte(&b, n->index);
	sbuf_append(&b, in, strlen(in) + 1);
	sbuf_append(&b, room, strlen(room) + 1);
	server_msg_sockets_leave(b.data, b.len);
	if (bus_worker_count() > 1)
		bus_send_others(SIO_MSG_SOCKETS_LEAVE, b.data, b.len);
	sbuf_free(&b);
}

void
server_msg_sockets_leave(const u_int8_t *d, size_t len)
{
	struct fanout		fo;
	struct sio_nsp		*n;
	const char		*in, *room;
	size_t			i;

	if (len < 3 || d[0] >= nnsps || d[len - 1] != '\0')
		fatal("sio: bad sockets-leave message");
	n = nsps[d[0]];
	in = (const char *)d + 1;
	room = in + strlen(in) + 1;
	if ((const u_int8_t *)room >= d + len)
		fatal("sio: bad sockets-leave message");

	memset(&fo, 0, sizeof(fo));
	fo.nsp = n;
	rooms_foreach(&n->rooms, &in, 1, NULL, 0, fanout_member, &fo);
	for (i = 0; i < fo.n; i++) {
		(void)sio_leave(fo.sockets[i], room);
		sio_socket_unref(fo.sockets[i]);
	}
	free(fo.sockets);
}

/* A broadcast from another worker: the same frames to our members. */
void
server_msg_broadcast(const u_int8_t *d, size_t len)
{
	struct sio_frame	*frames[SIO_FRAMES_MAX];
	const char		*names[512];
	char			*copy, *p;
	size_t			off, i, nr, ne, nf, l;
	u_int16_t		u16;
	u_int32_t		u32;

	if (len < 6 || d[0] >= nnsps || d[1] == 0 || d[1] > SIO_FRAMES_MAX)
		fatal("sio: bad broadcast message");
	nf = d[1];
	memcpy(&u16, d + 2, 2);
	nr = u16;
	memcpy(&u16, d + 4, 2);
	ne = u16;
	if (nr + ne > 512)
		fatal("sio: broadcast to too many rooms");

	/* Room names are copied out so that each is NUL-terminated. */
	p = copy = sbuf_xmalloc(len + nr + ne + 1);
	off = 6;
	for (i = 0; i < nr + ne; i++) {
		if (off + 2 > len)
			fatal("sio: bad broadcast rooms");
		memcpy(&u16, d + off, 2);
		l = u16;
		off += 2;
		if (off + l > len)
			fatal("sio: bad broadcast rooms");
		memcpy(p, d + off, l);
		p[l] = '\0';
		names[i] = p;
		p += l + 1;
		off += l;
	}

	for (i = 0; i < nf; i++) {
		if (off + 5 > len)
			fatal("sio: bad broadcast frames");
		memcpy(&u32, d + off + 1, 4);
		if (off + 5 + u32 > len)
			fatal("sio: bad broadcast frames");
		frames[i] = frame_new(d + off + 5, u32, d[off]);
		off += 5 + u32;
	}

	fanout_local(nsps[d[0]], names, nr, names + nr, ne, frames, nf);

	for (i = 0; i < nf; i++)
		frame_unref(frames[i]);
	free(copy);
}

/*
 * Sending may close a session (a client that stopped reading), which
 * leaves rooms: that must not happen inside rooms_foreach(), so the
 * recipients are collected first (each holding a reference), then sent to.
 */
static void
fanout_local(struct sio_nsp *n, const char *const *rooms, size_t nrooms,
    const char *const *except, size_t nexcept, struct sio_frame **frames,
    size_t nf)
{
	struct fanout		fo;
	struct sio_socket	*so;
	size_t			i;

	memset(&fo, 0, sizeof(fo));
	fo.except = except;
	fo.nexcept = nexcept;
	fo.nsp = n;

	if (nrooms > 0) {
		rooms_foreach(&n->rooms, rooms, nrooms, except, nexcept,
		    fanout_member, &fo);
	} else {
		TAILQ_FOREACH(so, &n->sockets, nlist)
			fanout_member(&so->member, &fo);
	}

	for (i = 0; i < fo.n; i++) {
		so = fo.sockets[i];
		if (so->state == SOCK_CONNECTED)
			engine_send_frames(so->client->s, frames, nf);
		sio_socket_unref(so);
	}
	free(fo.sockets);
}

static void
fanout_member(struct rooms_member *m, void *arg)
{
	struct fanout		*fo = arg;
	struct sio_socket	*so = m->owner;
	size_t			i;

	if (so->state != SOCK_CONNECTED)
		return;

	for (i = 0; i < fo->nexcept; i++) {
		if (rooms_has(&fo->nsp->rooms, m, fo->except[i]))
			return;
	}

	if (fo->n == fo->cap) {
		fo->cap = fo->cap ? fo->cap * 2 : 64;
		fo->sockets = sbuf_xreallocarray(fo->sockets, fo->cap,
		    sizeof(*fo->sockets));
	}
	sio_socket_ref(so);
	fo->sockets[fo->n++] = so;
}

static void
server_event(struct sio_socket *so, struct sio_packet *pkt)
{
	struct sio_event	ev;
	struct sio_handler	*h;
	json_t			*name;
	char			num[32];
	size_t			i, len;
	double			d;

	/* A name may hold NUL ("a\u0000b"): look it up by its length. */
	name = json_array_get(pkt->data, 0);
	if (json_is_string(name)) {
		ev.name = json_string_value(name);
		len = json_string_length(name);
	} else {
		/* As JavaScript's String(n) for the usual cases. */
		d = json_number_value(name);
		if (d == (double)(int64_t)d && d > -1e15 && d < 1e15)
			(void)snprintf(num, sizeof(num), "%" PRId64,
			    (int64_t)d);
		else
			(void)snprintf(num, sizeof(num), "%.17g", d);
		ev.name = num;
		len = strlen(num);
	}

	ev.args = json_array();
	for (i = 1; i < json_array_size(pkt->data); i++)
		(void)json_array_append(ev.args, json_array_get(pkt->data, i));
	ev.att = pkt->att;
	ev.natt = pkt->natt;
	ev.ack_id = pkt->ack_id;

	h = hmap_get(&so->nsp->handlers, ev.name, len);
	sio_socket_ref(so);
	if (h != NULL)
		h->fn(so, &ev);
	else if (so->nsp->on_unknown != NULL)
		so->nsp->on_unknown(so, &ev);
	sio_socket_unref(so);

	json_decref(ev.args);
}

static void
server_ack(struct sio_socket *so, struct sio_packet *pkt)
{
	struct sio_pending_ack	*pa;

	TAILQ_FOREACH(pa, &so->acks, list) {
		if (pa->id == pkt->ack_id)
			break;
	}
	if (pa == NULL)
		return;

	TAILQ_REMOVE(&so->acks, pa, list);
	pa->fn(so, pkt->data, pa->arg);
	free(pa);
}

/*
 * A socket's end: leave its rooms, run the disconnect handler (for sockets
 * that were connected; reason NULL for a refused one), drop pending acks.
 */
static void
socket_close(struct sio_socket *so, const char *reason)
{
	struct sio_pending_ack	*pa;
	struct sio_client	*c = so->client;
	int			was;

	if (so->state == SOCK_CLOSED)
		return;

	was = so->state;
	so->state = SOCK_CLOSED;
	TAILQ_REMOVE(&c->sockets, so, clist);

	if (was == SOCK_CONNECTED) {
		TAILQ_REMOVE(&so->nsp->sockets, so, nlist);
		so->nsp->count--;
		(void)rooms_leave_all(&so->nsp->rooms, &so->member);
		if (sio_conf.debug && reason != NULL) {
			kore_log(LOG_INFO, "sio: socket %s disconnected: %s",
			    so->id, reason);
		}
		if (so->nsp->on_disconnect != NULL && reason != NULL)
			so->nsp->on_disconnect(so, reason);
	}

	while ((pa = TAILQ_FIRST(&so->acks)) != NULL) {
		TAILQ_REMOVE(&so->acks, pa, list);
		pa->fn(so, NULL, pa->arg);
		free(pa);
	}

	so->client = NULL;
	sio_socket_unref(so);
}

static void
socket_free(struct sio_socket *so)
{
	free(so);
}

static void
socket_id_new(char *id)
{
	static const char	b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	u_int8_t		rnd[SIO_SID_LEN];
	size_t			i;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		fatal("getrandom: %s", errno_s);

	for (i = 0; i < SIO_SID_LEN; i++)
		id[i] = b64[rnd[i] & 63];
	id[SIO_SID_LEN] = '\0';
}

/* Encode one packet for a socket and queue it on its session. */
static int
socket_packet(struct sio_socket *so, int type, int64_t ack, json_t *data,
    const struct sio_attachment *att, size_t natt)
{
	struct sio_frame	*frames[SIO_FRAMES_MAX];
	size_t			i, nf;

	if (so->client == NULL) {
		json_decref(data);
		return (0);
	}

	if ((nf = encode_frames(frames, so->nsp->name, type, ack, data, att,
	    natt)) == 0)
		return (0);

	engine_send_frames(so->client->s, frames, nf);
	for (i = 0; i < nf; i++)
		frame_unref(frames[i]);

	return (1);
}

/* data is stolen. Returns the number of frames (0: not encodable). */
static size_t
encode_frames(struct sio_frame **frames, const char *nsp, int type,
    int64_t ack, json_t *data, const struct sio_attachment *att, size_t natt)
{
	struct sbuf	b;
	size_t		i;

	if (natt > SIO_FRAMES_MAX - 1) {
		json_decref(data);
		return (0);
	}

	if (natt > 0) {
		if (type == SIO_PACKET_EVENT)
			type = SIO_PACKET_BINARY_EVENT;
		else if (type == SIO_PACKET_ACK)
			type = SIO_PACKET_BINARY_ACK;
	}

	sbuf_init(&b);
	sbuf_append_byte(&b, '0' + EIO_PACKET_MESSAGE);
	if (!sio_packet_encode(&b, type, nsp, ack, natt, data)) {
		kore_log(LOG_WARNING, "sio: refusing to send an invalid packet "
		    "(type %d)", type);
		sbuf_free(&b);
		json_decref(data);
		return (0);
	}
	json_decref(data);

	frames[0] = frame_new(b.data, b.len, 0);
	sbuf_free(&b);
	for (i = 0; i < natt; i++)
		frames[i + 1] = frame_new(att[i].data, att[i].len, 1);

	return (natt + 1);
}

/* [event, ...args]; args is stolen. */
static json_t *
event_array(const char *event, json_t *args)
{
	json_t		*a;

	a = json_array();
	(void)json_array_append_new(a, json_string(event));
	if (args != NULL) {
		if (json_is_array(args))
			(void)json_array_extend(a, args);
		else
			(void)json_array_append(a, args);
		json_decref(args);
	}

	return (a);
}
