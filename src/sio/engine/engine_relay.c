/*
 * Messages from other workers (bus.c). On the owner of a session: the
 * polling requests, WebSocket attaches and WebSocket frames that landed
 * on another worker. On that other worker: the owner's replies, frames
 * to write to a WebSocket, closes.
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <string.h>

#include "engine_int.h"

static void	engine_msg_poll_get(u_int16_t, const u_int8_t *, size_t);
static void	engine_msg_poll_post(u_int16_t, const u_int8_t *, size_t);
static void	engine_msg_poll_reply(u_int16_t, const u_int8_t *, size_t);
static void	engine_msg_poll_cancel(u_int16_t, const u_int8_t *, size_t);
static void	engine_msg_ws_attach(u_int16_t, const u_int8_t *, size_t);
static void	engine_msg_ws_attach_reply(u_int16_t, const u_int8_t *, size_t);
static void	engine_msg_ws_in(u_int16_t, const u_int8_t *, size_t);
static void	engine_msg_ws_gone(u_int16_t, const u_int8_t *, size_t);
static void	engine_msg_ws_out(u_int16_t, const u_int8_t *, size_t);
static void	engine_msg_ws_close(u_int16_t, const u_int8_t *, size_t);
static void	engine_msg_head(struct sio_msg *, const u_int8_t *, size_t,
		    const char *);
static void	engine_relay_lost(u_int16_t);
static void	relay_ws_collect(void *, void *);
static struct eio_session *engine_msg_session(const u_int8_t *, size_t,
		    struct sio_msg *, const u_int8_t **, size_t *);

/* The relays' message handlers, from engine_init(). */
void
engine_relay_init(void)
{
	bus_register(SIO_MSG_POLL_GET, engine_msg_poll_get);
	bus_register(SIO_MSG_POLL_POST, engine_msg_poll_post);
	bus_register(SIO_MSG_POLL_REPLY, engine_msg_poll_reply);
	bus_register(SIO_MSG_POLL_CANCEL, engine_msg_poll_cancel);
	bus_register(SIO_MSG_WS_ATTACH, engine_msg_ws_attach);
	bus_register(SIO_MSG_WS_ATTACH_REPLY, engine_msg_ws_attach_reply);
	bus_register(SIO_MSG_WS_IN, engine_msg_ws_in);
	bus_register(SIO_MSG_WS_GONE, engine_msg_ws_gone);
	bus_register(SIO_MSG_WS_OUT, engine_msg_ws_out);
	bus_register(SIO_MSG_WS_CLOSE, engine_msg_ws_close);
	bus_on_restart(engine_relay_lost);
}

/* WebSockets here relayed to sessions a worker owned (engine_relay_lost()). */
struct relay_walk {
	u_int16_t	wid;
	struct eio_ws	**ws;
	size_t		n;
};

static void
relay_ws_collect(void *value, void *arg)
{
	struct eio_ws		*w = value;
	struct relay_walk	*walk = arg;

	if (w->owner == walk->wid)
		walk->ws[walk->n++] = w;
}

/*
 * Worker wid started again: what it held died with it. Sessions here
 * whose transport was on it lost that (engine_sessions_lost()); the
 * WebSockets and requests here relayed to sessions it owned are ended now,
 * so that their clients start over at once instead of at their ping
 * timeout.
 */
static void
engine_relay_lost(u_int16_t wid)
{
	struct relay_walk	walk;
	size_t			i, sessions, requests;

	sessions = engine_sessions_lost(wid);
	requests = engine_http_lost(wid);

	walk.wid = wid;
	walk.n = 0;
	walk.ws = sbuf_xcalloc(engine_ws_remote.count + 1, sizeof(*walk.ws));
	hmap_foreach(&engine_ws_remote, relay_ws_collect, &walk);
	for (i = 0; i < walk.n; i++)
		engine_relay_ws_end(walk.ws[i]);
	free(walk.ws);

	sio_log(LOG_NOTICE, NULL, "eio: worker %u started again: %zu "
	    "sessions lost their connection there, %zu relayed requests and "
	    "%zu relayed WebSockets ended", wid, sessions, requests, walk.n);
}

/* A relayed WebSocket whose session is gone: closed, out of the table. */
void
engine_relay_ws_end(struct eio_ws *w)
{
	(void)hmap_del(&engine_ws_remote, &w->id, sizeof(w->id));
	ENGINE_STATS_RELAYED();
	w->registered = 0;
	frame_send_close(w->c);
	kore_connection_disconnect(w->c);
}

/*
 * The head of a message for this worker's side of a relay (a reply, frames
 * to write, a close); what names the message in the error if it is short.
 */
static void
engine_msg_head(struct sio_msg *m, const u_int8_t *data, size_t len,
    const char *what)
{
	if (len < sizeof(*m))
		fatal("engine: short %s", what);
	memcpy(m, data, sizeof(*m));
}

/*
 * The head of a message for the owner of a session, the session (NULL if
 * it is gone) and, if rest is not NULL, what follows the session id.
 */
static struct eio_session *
engine_msg_session(const u_int8_t *data, size_t len, struct sio_msg *m,
    const u_int8_t **rest, size_t *restlen)
{
	char	sid[SIO_SID_LEN + 1];

	if (len < sizeof(*m) + SIO_SID_LEN)
		fatal("engine: short message");
	memcpy(m, data, sizeof(*m));
	memcpy(sid, data + sizeof(*m), SIO_SID_LEN);
	sid[SIO_SID_LEN] = '\0';
	if (rest != NULL) {
		*rest = data + sizeof(*m) + SIO_SID_LEN;
		*restlen = len - sizeof(*m) - SIO_SID_LEN;
	}

	return (engine_session_lookup(m->ep, sid));
}

static void
engine_msg_poll_get(u_int16_t src, const u_int8_t *data, size_t len)
{
	struct eio_session	*s;
	struct sio_msg		m;
	struct eio_peer		peer;

	s = engine_msg_session(data, len, &m, NULL, NULL);
	peer = (struct eio_peer){ .worker = src, .id = m.id };
	if (s == NULL) {
		if (engine_closed_take(m.ep, (const char *)data + sizeof(m))) {
			engine_msg_send(src, SIO_MSG_POLL_REPLY, &(struct sio_msg){
			    .id = m.id, .status = 200, .binary = CT_TEXT },
			    NULL, 0, "6", 1);
			return;
		}
		engine_msg_send(src, SIO_MSG_POLL_REPLY,
		    &(struct sio_msg){ .id = m.id, .status = 400 },
		    NULL, 0, NULL, 0);
		return;
	}

	(void)engine_poll_get(s, &peer);
}

static void
engine_msg_poll_post(u_int16_t src, const u_int8_t *data, size_t len)
{
	struct eio_session	*s;
	struct sio_msg		m;
	struct sbuf		b;
	const u_int8_t		*rest;
	size_t			restlen;
	int			status, ctype;

	s = engine_msg_session(data, len, &m, &rest, &restlen);
	status = s == NULL ? 400 : engine_poll_post(s, rest, restlen);

	sbuf_init(&b);
	if (s != NULL)
		engine_poll_post_reply(status, &b, &ctype);
	else
		ctype = CT_JSON;

	engine_msg_send(src, SIO_MSG_POLL_REPLY, &(struct sio_msg){ .id = m.id,
	    .status = status, .binary = ctype }, NULL, 0, b.data, b.len);
	sbuf_free(&b);
}

static void
engine_msg_poll_reply(u_int16_t src, const u_int8_t *data, size_t len)
{
	struct sio_msg		m;
	struct eio_preq		*p;

	(void)src;

	engine_msg_head(&m, data, len, "poll reply");

	if ((p = hmap_get(&engine_http_remote, &m.id, sizeof(m.id))) == NULL)
		return;

	engine_http_reply(p, m.status, m.binary, data + sizeof(m),
	    len - sizeof(m));
}

static void
engine_msg_poll_cancel(u_int16_t src, const u_int8_t *data, size_t len)
{
	struct eio_session	*s;
	struct sio_msg		m;

	s = engine_msg_session(data, len, &m, NULL, NULL);
	if (s == NULL || !s->has_get || s->get.worker != src ||
	    s->get.id != m.id)
		return;

	s->has_get = 0;
	engine_session_close(s, "transport error", 0);
}

static void
engine_msg_ws_attach(u_int16_t src, const u_int8_t *data, size_t len)
{
	struct eio_session	*s;
	struct sio_msg		m;
	struct eio_peer		peer;
	int			status;

	s = engine_msg_session(data, len, &m, NULL, NULL);
	peer = (struct eio_peer){ .worker = src, .id = m.id };
	status = s == NULL ? ATTACH_UNKNOWN : engine_ws_attach(s, &peer);

	engine_msg_send(src, SIO_MSG_WS_ATTACH_REPLY,
	    &(struct sio_msg){ .id = m.id, .status = status },
	    NULL, 0, NULL, 0);
}

static void
engine_msg_ws_attach_reply(u_int16_t src, const u_int8_t *data, size_t len)
{
	struct sio_msg		m;
	struct eio_preq		*p;

	(void)src;

	engine_msg_head(&m, data, len, "attach reply");

	/* A request gone meanwhile: the owner's upgrade timeout cleans up. */
	if ((p = hmap_get(&engine_http_remote, &m.id, sizeof(m.id))) == NULL)
		return;

	p->status = m.status;
	http_request_wakeup(p->req);
}

static void
engine_msg_ws_in(u_int16_t src, const u_int8_t *data, size_t len)
{
	struct eio_session	*s;
	struct sio_msg		m;
	const u_int8_t		*rest;
	size_t			restlen;

	s = engine_msg_session(data, len, &m, &rest, &restlen);
	if (s == NULL) {
		engine_msg_send(src, SIO_MSG_WS_CLOSE,
		    &(struct sio_msg){ .id = m.id }, NULL, 0, NULL, 0);
		return;
	}

	engine_ws_frame(s, src, m.id, NULL, rest, restlen, m.binary);
}

static void
engine_msg_ws_gone(u_int16_t src, const u_int8_t *data, size_t len)
{
	struct eio_session	*s;
	struct sio_msg		m;

	s = engine_msg_session(data, len, &m, NULL, NULL);
	if (s != NULL)
		engine_ws_gone(s, src, m.id, NULL);
}

static void
engine_msg_ws_out(u_int16_t src, const u_int8_t *data, size_t len)
{
	struct sio_msg		m;
	struct sio_frame	*f;
	struct eio_ws		*w;
	u_int64_t		id;
	size_t			i, off;

	(void)src;

	engine_msg_head(&m, data, len, "ws out");
	off = sizeof(m) + (size_t)m.count * sizeof(id);
	if (off > len)
		fatal("engine: bad ws out");

	f = frame_new(data + off, len - off, m.binary);
	for (i = 0; i < m.count; i++) {
		memcpy(&id, data + sizeof(m) + i * sizeof(id), sizeof(id));
		if ((w = hmap_get(&engine_ws_remote, &id, sizeof(id))) == NULL)
			continue;
		if (!frame_send_ws(w->c, f, sio_conf.max_buffer)) {
			sio_log(LOG_NOTICE, w->sid, "eio: relayed session %s: "
			    "client is not reading, closing", w->sid);
			kore_connection_disconnect(w->c);
		}
	}
	frame_unref(f);
}

static void
engine_msg_ws_close(u_int16_t src, const u_int8_t *data, size_t len)
{
	struct sio_msg		m;
	struct eio_ws		*w;

	(void)src;

	engine_msg_head(&m, data, len, "ws close");

	if ((w = hmap_get(&engine_ws_remote, &m.id, sizeof(m.id))) == NULL)
		return;
	engine_relay_ws_end(w);
}
