/*
 * Engine.IO over WebSocket. On any worker: the upgrade of an HTTP request
 * to a WebSocket and Kore's WebSocket callbacks, which hand frames to the
 * session or relay them to its owner (struct eio_ws). On the owner: a
 * session's WebSocket peers, the active one and the one that wants to
 * take over from polling, and the probe/upgrade dance between them.
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

/* WebSockets here whose session lives on another worker, by id. */
struct hmap			engine_ws_remote;
/* Sessions with an upgrade WebSocket, oldest (first due) first. */
struct eio_session_list		engine_ws_upgrades;

/*
 * Frames for WebSockets relayed through other workers, gathered while one
 * broadcast or one heartbeat round sends to many sessions: a bus message
 * per worker and frame that names every connection, not one message per
 * connection. Flushed in the order the (worker, frame) pairs came, so each
 * connection still gets its frames in order, and before a relayed close.
 */
struct ws_batch {
	u_int16_t		dst;
	u_int32_t		count;
	struct sio_frame	*f;
	struct sbuf		ids;
};

#define WS_BATCH_MAX	16

static struct ws_batch	ws_batch[WS_BATCH_MAX];
static size_t		ws_nbatch;
static int		ws_batching;

static int	peer_is(const struct eio_peer *, u_int16_t, u_int64_t,
		    struct eio_ws *);
static void	ws_batch_add(u_int16_t, u_int64_t, struct sio_frame *);
static void	ws_batch_flush(void);

void	eio_ws_connect(struct connection *);
void	eio_ws_message(struct connection *, u_int8_t, const void *, size_t);
void	eio_ws_disconnect(struct connection *);

/* Upgrade the request to a WebSocket whose state is w (hdlr_extra). */
void
engine_ws_start(struct http_request *req, struct eio_ws *w)
{
	struct connection	*c = req->owner;

	w->c = c;
	c->hdlr_extra = w;
	kore_websocket_handshake(req, "eio_ws_connect", "eio_ws_message",
	    "eio_ws_disconnect");
}

/* A WebSocket wants to take over s; returns the attach status. */
int
engine_ws_attach(struct eio_session *s, struct eio_peer *peer)
{
	if (s->transport != T_POLLING || s->has_up)
		return (ATTACH_CLOSE);

	s->up = *peer;
	s->has_up = 1;
	s->upgrading = 0;
	s->up_deadline = kore_time_ms() + sio_conf.upgrade_timeout;
	s->in_upl = 1;
	TAILQ_INSERT_TAIL(&engine_ws_upgrades, s, upl);

	return (ATTACH_OK);
}

/* Send f to a WebSocket peer of s, here or through its worker. */
void
engine_ws_send(struct eio_session *s, struct eio_peer *p,
    struct sio_frame *f)
{
	if (p->worker != worker->id) {
		if (ws_batching > 0) {
			ws_batch_add(p->worker, p->id, f);
			return;
		}
		engine_msg_send(p->worker, SIO_MSG_WS_OUT,
		    &(struct sio_msg){ .count = 1, .binary = f->binary },
		    &p->id, sizeof(p->id), SIO_FRAME_DATA(f), f->len);
		return;
	}

	if (p->ws == NULL)
		return;

	if (!frame_send_ws(p->ws->c, f, sio_conf.max_buffer)) {
		sio_log(LOG_NOTICE, s->sid, "eio: session %s: client is not "
		    "reading (more than %zu bytes queued), closing", s->sid,
		    sio_conf.max_buffer);
		engine_session_close(s, "transport error", 0);
	}
}

/* Relayed frames wait until the matching end (calls nest). */
void
engine_send_batch_begin(void)
{
	ws_batching++;
}

void
engine_send_batch_end(void)
{
	if (--ws_batching == 0)
		ws_batch_flush();
}

static void
ws_batch_add(u_int16_t dst, u_int64_t id, struct sio_frame *f)
{
	struct ws_batch		*b;
	size_t			i;

	for (i = ws_nbatch; i > 0; i--) {
		if (ws_batch[i - 1].dst == dst && ws_batch[i - 1].f == f)
			break;
	}

	if (i > 0) {
		b = &ws_batch[i - 1];
	} else {
		if (ws_nbatch == WS_BATCH_MAX)
			ws_batch_flush();
		b = &ws_batch[ws_nbatch++];
		b->dst = dst;
		b->count = 0;
		b->f = f;
		frame_ref(f);
		sbuf_init(&b->ids);
	}

	sbuf_append(&b->ids, &id, sizeof(id));
	b->count++;
}

static void
ws_batch_flush(void)
{
	struct ws_batch		*b;
	size_t			i;

	for (i = 0; i < ws_nbatch; i++) {
		b = &ws_batch[i];
		engine_msg_send(b->dst, SIO_MSG_WS_OUT,
		    &(struct sio_msg){ .count = b->count,
		    .binary = b->f->binary }, b->ids.data, b->ids.len,
		    SIO_FRAME_DATA(b->f), b->f->len);
		sbuf_free(&b->ids);
		frame_unref(b->f);
	}
	ws_nbatch = 0;
}

/* Close a WebSocket peer, here or through its worker. */
void
engine_ws_close(struct eio_peer *p)
{
	struct eio_ws	*w;

	if (p->worker != worker->id) {
		ws_batch_flush();
		engine_msg_send(p->worker, SIO_MSG_WS_CLOSE,
		    &(struct sio_msg){ .id = p->id }, NULL, 0, NULL, 0);
		return;
	}

	if ((w = p->ws) == NULL)
		return;

	w->s = NULL;
	p->ws = NULL;
	frame_send_close(w->c);
	kore_connection_disconnect(w->c);
}

/* The upgrade WebSocket is finished with: taken over, failed or timed out. */
void
engine_ws_up_done(struct eio_session *s, int close_it)
{
	if (s->in_upl) {
		TAILQ_REMOVE(&engine_ws_upgrades, s, upl);
		s->in_upl = 0;
	}
	if (close_it && s->has_up)
		engine_ws_close(&s->up);
	s->has_up = 0;
	s->upgrading = 0;
}

static int
peer_is(const struct eio_peer *p, u_int16_t wid, u_int64_t id,
    struct eio_ws *w)
{
	if (wid == worker->id)
		return (p->worker == wid && p->ws == w);

	return (p->worker == wid && p->id == id);
}

/* The probe/upgrade dance on the WebSocket that wants to take over. */
void
engine_ws_upgrade(struct eio_session *s, const struct eio_packet *pkt)
{
	struct sio_frame	*f;
	size_t			i;

	if (pkt->type == EIO_PACKET_PING && pkt->len == 5 &&
	    !memcmp(pkt->data, "probe", 5)) {
		f = frame_new_text(EIO_PACKET_PONG, "probe", 5);
		engine_ws_send(s, &s->up, f);
		frame_unref(f);
		s->upgrading = 1;
		if (s->has_get) {
			if (s->qlen == 0)
				engine_send_frames(s, &engine_frame_noop, 1);
			engine_poll_flush(s);
		}
		return;
	}

	if (pkt->type != EIO_PACKET_UPGRADE || !s->upgrading) {
		engine_ws_up_done(s, 1);
		return;
	}

	/*
	 * Upgrade done: the WebSocket carries everything from now on. A GET
	 * still waiting came after the probe: polling is over for it.
	 */
	if (s->has_get)
		engine_poll_reply(s, 400, CT_JSON, ENGINE_BAD_REQUEST,
		    strlen(ENGINE_BAD_REQUEST));
	s->transport = T_WEBSOCKET;
	engine_stats_transport(T_POLLING, -1);
	engine_stats_transport(T_WEBSOCKET, 1);
	s->ws = s->up;
	s->has_ws = 1;
	engine_ws_up_done(s, 0);

	if (sio_conf.debug)
		sio_log(LOG_INFO, s->sid, "eio: session %s upgraded", s->sid);

	for (i = 0; i < s->qlen && s->state == SESS_OPEN; i++)
		engine_ws_send(s, &s->ws, s->q[i]);
	for (i = 0; i < s->qlen; i++)
		frame_unref(s->q[i]);
	s->qlen = 0;
	s->qbytes = 0;
}

/*
 * A frame for s from WebSocket id on worker wid (w if it is here): from
 * the active WebSocket or the one that wants to take over.
 */
void
engine_ws_frame(struct eio_session *s, u_int16_t wid, u_int64_t id,
    struct eio_ws *w, const u_int8_t *data, size_t len, int binary)
{
	struct eio_packet	pkt;
	int			from;

	if (s->has_ws && peer_is(&s->ws, wid, id, w))
		from = FROM_ACTIVE;
	else if (s->has_up && peer_is(&s->up, wid, id, w))
		from = FROM_UPGRADE;
	else
		return;

	if (len > sio_conf.max_payload) {
		engine_session_close(s, "transport error", 0);
		return;
	}

	if (!eio_decode_frame(&pkt, data, len, binary)) {
		if (from == FROM_ACTIVE)
			engine_session_close(s, "parse error", 0);
		else
			engine_ws_up_done(s, 1);
		return;
	}

	engine_session_packet(s, from, &pkt);
}

/* That WebSocket closed: the session ends or the upgrade fails. */
void
engine_ws_gone(struct eio_session *s, u_int16_t wid, u_int64_t id,
    struct eio_ws *w)
{
	if (s->has_ws && peer_is(&s->ws, wid, id, w)) {
		s->has_ws = 0;
		engine_session_close(s, "transport close", 0);
	} else if (s->has_up && peer_is(&s->up, wid, id, w)) {
		engine_ws_up_done(s, 0);
	}
}

/* Kore WebSocket callbacks, found by name. */
void
eio_ws_connect(struct connection *c)
{
	struct eio_ws		*w = c->hdlr_extra;
	struct eio_session	*s;

	if (w == NULL || w->owner != worker->id || (s = w->s) == NULL)
		return;

	if (s->transport == T_WEBSOCKET && !s->has_ws) {
		/* A WebSocket-only session: the open packet goes first. */
		s->ws = (struct eio_peer){ .worker = worker->id, .ws = w };
		s->has_ws = 1;
		s->qlen = 0;
		engine_ws_send(s, &s->ws, s->q[0]);
		frame_unref(s->q[0]);
		s->qbytes = 0;
		if (s->state == SESS_OPEN &&
		    engine_endpoints[s->ep].h.open != NULL)
			engine_endpoints[s->ep].h.open(s);
	} else if (s->has_up && s->up.worker == worker->id &&
	    s->up.ws == NULL) {
		s->up.ws = w;
	}
}

void
eio_ws_message(struct connection *c, u_int8_t op, const void *data,
    size_t len)
{
	struct eio_ws	*w = c->hdlr_extra;
	int		binary;

	if (w == NULL)
		return;

	binary = (op == WEBSOCKET_OP_BINARY);

	if (w->owner == worker->id) {
		if (w->s == NULL) {
			kore_connection_disconnect(c);
			return;
		}
		engine_ws_frame(w->s, worker->id, w->id, w, data, len,
		    binary);
		return;
	}

	engine_msg_send(w->owner, SIO_MSG_WS_IN,
	    &(struct sio_msg){ .ep = w->ep, .id = w->id, .binary = binary },
	    w->sid, SIO_SID_LEN, data, len);
}

void
eio_ws_disconnect(struct connection *c)
{
	struct eio_ws	*w = c->hdlr_extra;

	if (w == NULL)
		return;
	c->hdlr_extra = NULL;

	if (w->owner == worker->id) {
		if (w->s != NULL)
			engine_ws_gone(w->s, worker->id, w->id, w);
	} else if (w->registered) {
		(void)hmap_del(&engine_ws_remote, &w->id, sizeof(w->id));
		ENGINE_STATS_RELAYED();
		engine_msg_send(w->owner, SIO_MSG_WS_GONE,
		    &(struct sio_msg){ .ep = w->ep, .id = w->id },
		    w->sid, SIO_SID_LEN, NULL, 0);
	}

	free(w);
}
