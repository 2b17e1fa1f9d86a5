/*
 * The Socket.IO v5 layer: namespaces, sockets, connect middleware, event
 * handlers, acknowledgements both ways, rooms and broadcasts.
 *
 * Every Engine.IO session of the Socket.IO endpoint has a client (struct
 * sio_client) holding its sockets, one per connected namespace, and the
 * binary reassembly state. All of it lives on the worker that owns the
 * session (engine/engine.c), so handlers, joins and leaves are local
 * operations.
 *
 * A broadcast is encoded once into shared frames, fanned out to this
 * worker's members of the rooms (each socket once, whatever the number of
 * rooms it is in), and sent once to every other worker, which fans the same
 * bytes out to its own members (server_emit.c).
 *
 * Rules from socket.io 4.8: the first packet of a session must be a
 * CONNECT; a session that connects no namespace within connectTimeout is
 * closed; an unknown namespace gets CONNECT_ERROR "Invalid namespace"; a
 * client DISCONNECT ends that namespace's socket and keeps the session;
 * packets for a namespace that is not connected are ignored; a packet that
 * does not decode closes the session. Connection-state recovery (socket.io
 * 4.6+) is off unless sio_config.recovery_ms says how long a lost socket
 * is kept: server_recover.c.
 *
 * The code is split by concern. This file: namespaces, clients (the
 * Engine.IO callbacks, handed to the engine as server_handlers by
 * sio_init(), the connect timeout on the server's own timer), incoming
 * packets, events to handlers and acknowledgements back.
 * server_socket.c: sockets, from the CONNECT of a namespace to their end,
 * and their rooms. server_emit.c: everything sent, to one socket or
 * broadcast. server_order.c: one order of broadcasts on every worker.
 * server_monitor.c: what an observer (an admin module) sees, and the
 * accessors it needs. server_recover.c: lost sockets kept, taken over
 * again, and what they missed replayed. server.h holds what they share.
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

struct sio_handler {
	sio_event_fn		fn;
};

struct sio_nsp			*server_nsps[NSP_MAX];
size_t				server_nnsps;

static TAILQ_HEAD(, sio_client)	connect_queue;

static void	server_open(struct eio_session *);
static void	server_message(struct eio_session *, const u_int8_t *,
		    size_t, int);
static void	server_close(struct eio_session *, const char *);
static void	server_tick(void *, u_int64_t);
static void	server_packet(struct sio_client *, struct sio_packet *);
static void	server_event(struct sio_socket *, struct sio_packet *);
static void	server_ack(struct sio_socket *, struct sio_packet *);

/* The Engine.IO callbacks of the Socket.IO endpoint (endpoint 0). */
const struct eio_handlers server_handlers = {
	.open = server_open,
	.message = server_message,
	.close = server_close,
	.upgrade = server_upgrade
};

/* From sio_init(), after the engine. */
void
server_init(void)
{
	TAILQ_INIT(&connect_queue);
	if (sio_nsp_lookup("/") == NULL)
		(void)sio_nsp_create("/");
	server_order_init();
	server_recover_init();
	(void)kore_timer_add(server_tick, engine_tick_interval(), NULL, 0);
}

struct sio_nsp *
sio_nsp_create(const char *name)
{
	struct sio_nsp	*n;

	if ((n = sio_nsp_lookup(name)) != NULL)
		return (n);
	if (server_nnsps == NSP_MAX)
		fatal("sio_nsp_create: too many namespaces");
	if (name[0] != '/' || strchr(name, ',') != NULL)
		fatal("sio_nsp_create: bad namespace '%s'", name);

	n = sbuf_xcalloc(1, sizeof(*n));
	n->name = sbuf_xstrdup(name);
	n->index = (u_int8_t)server_nnsps;
	hmap_init(&n->handlers);
	rooms_init(&n->rooms);
	TAILQ_INIT(&n->sockets);
	server_nsps[server_nnsps++] = n;

	return (n);
}

struct sio_nsp *
sio_nsp_lookup(const char *name)
{
	size_t		i;

	for (i = 0; i < server_nnsps; i++) {
		if (!strcmp(server_nsps[i]->name, name))
			return (server_nsps[i]);
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
static void
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

	if (server_monitor != NULL && server_monitor->session_opened != NULL)
		server_monitor->session_opened(s);
}

static void
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
			sio_log(LOG_INFO, eio_session_id(s), "sio: %s: bad "
			    "packet, closing", eio_session_id(s));
		eio_close(s, "parse error");
		return;
	}

	server_packet(c, &pkt);
	sio_packet_clear(&pkt);
}

static void
server_close(struct eio_session *s, const char *reason)
{
	struct sio_client	*c;
	struct sio_socket	*so;

	if ((c = eio_session_udata(s)) == NULL)
		return;
	eio_session_set_udata(s, NULL);

	if (server_monitor != NULL && server_monitor->session_closed != NULL)
		server_monitor->session_closed(s, reason);

	while ((so = TAILQ_FIRST(&c->sockets)) != NULL)
		server_socket_close(so, reason);

	server_ctq_remove(c);
	sio_packet_reasm_clear(&c->reasm);
	free(c);
}

/*
 * The server's timer: broadcasts given up on, kept sockets expired, and
 * sessions that connected no namespace within connectTimeout.
 */
static void
server_tick(void *arg, u_int64_t now)
{
	struct sio_client	*c;

	(void)arg;
	server_order_tick(now);
	server_recover_tick(now);

	while ((c = TAILQ_FIRST(&connect_queue)) != NULL &&
	    c->deadline <= now) {
		server_ctq_remove(c);
		if (sio_conf.debug)
			sio_log(LOG_INFO, eio_session_id(c->s), "sio: %s: no "
			    "namespace connected in time, closing",
			    eio_session_id(c->s));
		eio_close(c->s, "connect timeout");
	}
}

/* Take c off the connect-timeout queue, if it is on it. */
void
server_ctq_remove(struct sio_client *c)
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
		server_socket_connect(c, pkt);
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
		server_socket_close(so, "client namespace disconnect");
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

/* The socket of client c in namespace nsp, NULL if none. */
struct sio_socket *
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
server_event(struct sio_socket *so, struct sio_packet *pkt)
{
	struct sio_event	ev;
	struct sio_handler	*h;
	json_t			*name;
	char			num[32];
	size_t			i, len;
	double			d;

	SIO_STAT_ADD(events_received, 1);

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
	if (server_monitor != NULL && server_monitor->event_in != NULL)
		server_monitor->event_in(so, &ev);
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
