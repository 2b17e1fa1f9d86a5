/*
 * Engine.IO v4 server for Kore: sessions, the HTTP long-polling and
 * WebSocket transports, the upgrade from one to the other, heartbeats.
 *
 * Ownership across workers. Kore hands out TCP connections, not sessions,
 * to its workers, so the polling GETs, the POSTs and the upgrade WebSocket
 * of one session may each land on a different worker. A session lives on
 * the worker that handled its handshake (its owner, whose id is the first
 * two hex digits of the session id) for its whole life; everything above
 * Engine.IO (Socket.IO sockets, rooms, handlers) runs there too. A request
 * or WebSocket that lands elsewhere is a thin relay: a polling request is
 * forwarded to the owner over Kore's message bus and put to sleep until the
 * owner answers; a WebSocket's frames are forwarded to the owner and the
 * owner's frames come back the same way (engine_relay.c, over ../bus.c).
 * No sticky sessions needed.
 *
 * What is implemented: the handshake on either transport (open packet with
 * sid, upgrades, pingInterval, pingTimeout, maxPayload), server pings and
 * the pong timeout, message packets text and binary (polling payloads
 * joined by 0x1e, binary as "b" + base64), noop, close, the probe/upgrade
 * dance, CORS on polling responses and the HTTP errors engine.io gives
 * ({"code":N,"message":"..."}). What is rejected: Engine.IO v3 (EIO=3),
 * JSONP, client pings (engine.io 6 closes on "invalid heartbeat
 * direction"), WebTransport.
 *
 * Limits: maxPayload per WebSocket frame and per POST body (413, and the
 * session is closed); at most max_buffer bytes waiting per session, on a
 * polling queue or in a WebSocket's send queue (a client that stops
 * reading is disconnected).
 *
 * The engine knows nothing of Socket.IO: it calls the struct eio_handlers
 * of an endpoint (the server's for endpoint 0, given by ../sio.c).
 *
 * The code is split by concern. This file: the engine's set-up, the
 * endpoints, the session table (ids, create, lookup, close), heartbeats
 * and the timer tick, Engine.IO packet processing. engine_poll.c: a
 * session's polling queue and the GETs and POSTs it serves.
 * engine_ws.c: WebSockets, Kore's callbacks and a session's WebSocket
 * peers, the upgrade dance. engine_http.c: the HTTP route handler.
 * engine_relay.c: messages from other workers. frame.c: shared outgoing
 * frames. engine_int.h holds what they share; engine.h what the layers
 * above may use.
 */

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/random.h>

#include <kore/kore.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

#define HB_NONE			0
#define HB_PING			1
#define HB_PONG			2

struct eio_endpoint		engine_endpoints[SIO_ENDPOINT_MAX];
struct sio_frame		*engine_frame_noop;
struct eio_stats		engine_stats;
size_t				engine_npolling;	/* open, on polling */

/*
 * Open sessions per worker, in memory the parent maps before the workers
 * fork (engine_parent_init()), so any worker can tell the process's total.
 */
#define ENGINE_COUNT_SLOTS	256
static volatile u_int64_t	*engine_counts;

static int			nendpoints;
static struct hmap		sessions;
static struct eio_session_list	hb_ping;
static struct eio_session_list	hb_pong;
static struct eio_session_list	graveyard;
static u_int64_t		engine_tick_ms;
static struct sio_frame		*frame_ping;

/*
 * Sessions the client closed over polling with no GET waiting. A GET the
 * client sent just before its close may still be on its way through
 * another worker (on one connection nothing overtakes, on two workers the
 * closing POST can arrive first): the first GET for such a session within
 * ENGINE_CLOSED_MS gets what a waiting GET gets, a noop, not "Session ID
 * unknown". Later ones get the 400.
 */
#define ENGINE_CLOSED_MAX	64
#define ENGINE_CLOSED_MS	2000

static struct {
	char		sid[SIO_SID_LEN];
	int		ep;
	u_int64_t	until;
} engine_closed[ENGINE_CLOSED_MAX];
static size_t			engine_closed_next;

static void	engine_sid_new(char *);
static void	engine_tick(void *, u_int64_t);
static void	engine_count_update(void);
static void	session_open_packet(struct eio_session *, struct sbuf *);
static void	session_hb_set(struct eio_session *, int, u_int64_t);
static void	session_pong(struct eio_session *);
static void	sessions_collect(void *, void *);

/*
 * Set up the engine in this worker (from sio_init(), after the bus): its
 * tables, its shared frames, its relay handlers and its timer.
 */
void
engine_init(void)
{
	u_int64_t		tick;

	hmap_init(&sessions);
	hmap_init(&engine_ws_remote);
	hmap_init(&engine_http_remote);
	TAILQ_INIT(&hb_ping);
	TAILQ_INIT(&hb_pong);
	TAILQ_INIT(&graveyard);
	TAILQ_INIT(&engine_ws_upgrades);

	frame_ping = frame_new_text(EIO_PACKET_PING, NULL, 0);
	engine_frame_noop = frame_new_text(EIO_PACKET_NOOP, NULL, 0);

	engine_relay_init();
	engine_drain_init();
	/* A restarted worker's sessions died with it. */
	engine_count_update();

	/* Kore answers PINGs itself: its PONGs count against the budget. */
	kore_websocket_maxqueue = sio_conf.max_buffer;

	tick = engine_tick_interval();
	engine_tick_ms = tick;
	(void)kore_timer_add(engine_tick, tick, NULL, 0);
}

/* How often the engine's and the server's timers run, in ms. */
u_int64_t
engine_tick_interval(void)
{
	u_int64_t	tick;

	tick = MIN(sio_conf.ping_interval, sio_conf.ping_timeout) / 40;
	return (MAX(5, MIN(tick, 100)));
}

void
eio_endpoint_create(const char *path, const struct eio_handlers *h)
{
	struct eio_endpoint	*ep;

	if (nendpoints == SIO_ENDPOINT_MAX)
		fatal("eio_endpoint_create: too many endpoints");

	ep = &engine_endpoints[nendpoints++];
	ep->path = sbuf_xstrdup(path);
	ep->pathlen = strlen(path);
	ep->h = *h;
}

/* The endpoint at path, also without its trailing slash; -1 if none. */
int
engine_endpoint_find(const char *path)
{
	int		i;
	size_t		len;

	len = strlen(path);
	for (i = 0; i < nendpoints; i++) {
		if (len == engine_endpoints[i].pathlen &&
		    !memcmp(path, engine_endpoints[i].path, len))
			return (i);
		if (len + 1 == engine_endpoints[i].pathlen &&
		    !memcmp(path, engine_endpoints[i].path, len))
			return (i);
	}

	return (-1);
}

uint16_t
eio_worker_id(void)
{
	return (worker->id);
}

/* Each open session of this worker, in no order (engine_drain.c). */
void
engine_sessions_foreach(void (*cb)(void *, void *), void *arg)
{
	hmap_foreach(&sessions, cb, arg);
}

/* The open session sid of any endpoint, NULL if there is none. */
struct eio_session *
engine_session_find(const char *sid)
{
	return (hmap_get(&sessions, sid, SIO_SID_LEN));
}

/* Open sessions on this worker. */
size_t
eio_session_count(void)
{
	return (sessions.count);
}

/* Open sessions on every worker of the process. */
size_t
eio_session_count_all(void)
{
	size_t		i, n;

	if (engine_counts == NULL)
		return (sessions.count);

	for (i = n = 0; i < ENGINE_COUNT_SLOTS; i++)
		n += __atomic_load_n(&engine_counts[i], __ATOMIC_RELAXED);
	return (n);
}

/* From sio_parent_init(): the per-worker session counts. */
void
engine_parent_init(void)
{
	void	*p;

	p = mmap(NULL, ENGINE_COUNT_SLOTS * sizeof(u_int64_t),
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fatal("engine_parent_init: mmap: %s", errno_s);
	engine_counts = p;
}

/* Open sessions on transport t (stats.c) went up or down by one. */
void
engine_stats_transport(int t, int delta)
{
	if (t == T_WEBSOCKET && delta > 0)
		SIO_STAT_ADD(sessions_websocket, 1);
	else if (t == T_WEBSOCKET)
		SIO_STAT_SUB(sessions_websocket, 1);
	else if (delta > 0)
		SIO_STAT_ADD(sessions_polling, 1);
	else
		SIO_STAT_SUB(sessions_polling, 1);
}

/* This worker's slot, after a session came or went. */
static void
engine_count_update(void)
{
	if (engine_counts != NULL && worker->id < ENGINE_COUNT_SLOTS)
		__atomic_store_n(&engine_counts[worker->id], sessions.count,
		    __ATOMIC_RELAXED);
}

/* Open sessions of this worker still on HTTP long-polling. */
size_t
eio_polling_count(void)
{
	return (engine_npolling);
}

/* This worker's counts since the last call (struct eio_stats, sio.h). */
void
eio_stats_take(struct eio_stats *st)
{
	*st = engine_stats;
	memset(&engine_stats, 0, sizeof(engine_stats));
}

const char *
eio_session_transport(struct eio_session *s)
{
	return (s->transport == T_WEBSOCKET ? "websocket" : "polling");
}

/*
 * The request that opened s, as socket.io's socket.handshake describes it
 * (engine_http.c), when sio_conf.keep_handshake is set; else NULL.
 * Borrowed: it lives as long as s.
 */
json_t *
eio_session_handshake(struct eio_session *s)
{
	return (s->handshake);
}

const char *
eio_session_id(struct eio_session *s)
{
	return (s->sid);
}

void *
eio_session_udata(struct eio_session *s)
{
	return (s->udata);
}

void
eio_session_set_udata(struct eio_session *s, void *udata)
{
	s->udata = udata;
}

/* Send one message packet (text or binary) on a raw Engine.IO session. */
void
eio_send(struct eio_session *s, const void *data, size_t len, int binary)
{
	struct sio_frame	*f;

	if (binary)
		f = frame_new(data, len, 1);
	else
		f = frame_new_text(EIO_PACKET_MESSAGE, data, len);

	engine_send_frames(s, &f, 1);
	frame_unref(f);
}

void
eio_close(struct eio_session *s, const char *reason)
{
	engine_session_close(s, reason, 0);
}

/*
 * Queue frames for a session, in order, on whatever transport it uses now.
 * The caller keeps its references.
 */
void
engine_send_frames(struct eio_session *s, struct sio_frame **f, size_t n)
{
	size_t		i;

	for (i = 0; i < n && s->state == SESS_OPEN; i++) {
		if (f[i]->binary || (f[i]->len > 1 &&
		    SIO_FRAME_DATA(f[i])[0] == '0' + EIO_PACKET_MESSAGE)) {
			engine_stats.packets_out++;
			engine_stats.bytes_out += f[i]->binary ? f[i]->len :
			    f[i]->len - 1;
		}
		if (s->transport == T_WEBSOCKET)
			engine_ws_send(s, &s->ws, f[i]);
		else
			engine_poll_enqueue(s, f[i]);
	}

	if (s->state == SESS_OPEN && s->transport == T_POLLING && s->has_get &&
	    !s->upgrading)
		engine_poll_flush(s);
}

/*
 * A session id: two hex digits naming the owner worker, 18 random chars;
 * in cluster mode the first 4 of those are the node's tag
 * (engine_remote.c).
 */
static void
engine_sid_new(char *sid)
{
	static const char	b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	static const char	hex[] = "0123456789abcdef";
	u_int8_t		rnd[SIO_SID_LEN];
	size_t			i;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		fatal("getrandom: %s", errno_s);

	sid[0] = hex[(worker->id >> 4) & 0xf];
	sid[1] = hex[worker->id & 0xf];
	for (i = 2; i < SIO_SID_LEN; i++)
		sid[i] = b64[rnd[i] & 63];
	if (engine_node_tag[0] != '\0')
		memcpy(sid + 2, engine_node_tag, strlen(engine_node_tag));
	sid[SIO_SID_LEN] = '\0';
}

/*
 * The worker a session id names as owner; BUS_REMOTE_SID for another
 * node's; -1 for a malformed id.
 */
int
engine_sid_owner(const char *sid)
{
	size_t		i;
	int		owner;

	if (strlen(sid) != SIO_SID_LEN)
		return (-1);
	for (i = 0; i < SIO_SID_LEN; i++) {
		if (!isalnum((unsigned char)sid[i]) && sid[i] != '-' &&
		    sid[i] != '_')
			return (-1);
	}
	if (!isxdigit((unsigned char)sid[0]) ||
	    !isxdigit((unsigned char)sid[1]))
		return (-1);
	if (engine_remote_owner(sid) != -1)
		return (BUS_REMOTE_SID);

	owner = engine_sid_worker(sid);
	if (owner < 1 || owner > bus_worker_count())
		return (-1);

	return (owner);
}

/*
 * The worker number in a session id's first two (hex) digits, on this
 * node or another: 1 to 255, or -1.
 */
int
engine_sid_worker(const char *sid)
{
	char	hex[3];
	long	w;

	hex[0] = sid[0];
	hex[1] = sid[1];
	hex[2] = '\0';
	w = strtol(hex, NULL, 16);
	return (w >= 1 && w <= 255 ? (int)w : -1);
}

static void
engine_tick(void *arg, u_int64_t now)
{
	struct eio_session	*s;
	u_int64_t		due;

	(void)arg;

	engine_http_expire();

	/*
	 * The pong is due pingTimeout after the ping was due, not after the
	 * tick that noticed it, unless the worker was held up for more than
	 * a couple of ticks: then pingTimeout counts from the late ping, as
	 * engine.io arms its timer when it sends.
	 */
	engine_send_batch_begin();
	while ((s = TAILQ_FIRST(&hb_ping)) != NULL && s->deadline <= now) {
		due = s->deadline;
		if (now - due > 2 * engine_tick_ms)
			due = now;
		engine_send_frames(s, &frame_ping, 1);
		if (s->state == SESS_OPEN)
			session_hb_set(s, HB_PONG, due + sio_conf.ping_timeout);
	}
	engine_send_batch_end();

	while ((s = TAILQ_FIRST(&hb_pong)) != NULL && s->deadline <= now)
		engine_session_close(s, "ping timeout", 0);

	while ((s = TAILQ_FIRST(&engine_ws_upgrades)) != NULL &&
	    s->up_deadline <= now)
		engine_ws_up_done(s, 1);

	/* GETs held during an upgrade whose upgrade packet did not come. */
	TAILQ_FOREACH(s, &engine_ws_upgrades, upl) {
		if (s->has_get && s->upgrading && s->get_hold <= now) {
			engine_send_frames(s, &engine_frame_noop, 1);
			engine_poll_flush(s);
		}
	}

	while ((s = TAILQ_FIRST(&graveyard)) != NULL) {
		TAILQ_REMOVE(&graveyard, s, grave);
		json_decref(s->handshake);
		free(s);
	}
}

/* A new session owned by this worker, its open packet queued. */
struct eio_session *
engine_session_new(int ep, int transport)
{
	struct eio_session	*s;
	struct sbuf		b;

	s = sbuf_xcalloc(1, sizeof(*s));
	do {
		engine_sid_new(s->sid);
	} while (hmap_get(&sessions, s->sid, SIO_SID_LEN) != NULL);

	s->ep = ep;
	s->state = SESS_OPEN;
	s->transport = transport;
	if (transport == T_POLLING)
		engine_npolling++;
	hmap_put(&sessions, s->sid, SIO_SID_LEN, s);
	engine_count_update();
	engine_stats_transport(transport, 1);
	session_hb_set(s, HB_PING, kore_time_ms() + sio_conf.ping_interval);

	sbuf_init(&b);
	session_open_packet(s, &b);
	s->q = sbuf_xcalloc(4, sizeof(*s->q));
	s->qcap = 4;
	s->q[s->qlen++] = frame_new(b.data, b.len, 0);
	s->qbytes = b.len;
	sbuf_free(&b);

	if (sio_conf.debug) {
		sio_log(LOG_INFO, s->sid, "eio: session %s open (%s)", s->sid,
		    transport == T_POLLING ? "polling" : "websocket");
	}

	return (s);
}

static void
session_open_packet(struct eio_session *s, struct sbuf *b)
{
	static const char *const	up[] = { "websocket" };

	eio_open_packet(b, s->sid, up, s->transport == T_POLLING ? 1 : 0,
	    sio_conf.ping_interval, sio_conf.ping_timeout,
	    sio_conf.max_payload);
}

/* The open session sid of endpoint ep, NULL if there is none. */
struct eio_session *
engine_session_lookup(int ep, const char *sid)
{
	struct eio_session	*s;

	if ((s = hmap_get(&sessions, sid, SIO_SID_LEN)) == NULL)
		return (NULL);
	if (s->ep != ep || s->state != SESS_OPEN)
		return (NULL);

	/* A pong overdue by the time a request comes: the tick is late. */
	if (s->hb == HB_PONG && s->deadline <= kore_time_ms()) {
		engine_session_close(s, "ping timeout", 0);
		return (NULL);
	}

	return (s);
}

/* hmap_foreach() callback: every session into an array. */
static void
sessions_collect(void *value, void *arg)
{
	struct eio_session	***pp = arg;

	*(*pp)++ = value;
}

/*
 * Worker wid started again (bus.c): a session here whose WebSocket, or the
 * GET it holds, was on that worker's connection lost it with the client's
 * connection, and ends as one whose connection closed (the server keeps
 * its socket for recovery). Returns how many.
 */
size_t
engine_sessions_lost(u_int16_t wid)
{
	struct eio_session	**all, **end, *s;
	size_t			i, n, lost;

	if ((n = sessions.count) == 0)
		return (0);
	all = sbuf_xcalloc(n, sizeof(*all));
	end = all;
	hmap_foreach(&sessions, sessions_collect, &end);

	lost = 0;
	for (i = 0; i < n; i++) {
		s = all[i];
		if (s->has_ws && s->ws.worker == wid) {
			engine_ws_gone(s, wid, s->ws.id, NULL);
			lost++;
		} else if (s->has_up && s->up.worker == wid) {
			engine_ws_gone(s, wid, s->up.id, NULL);
		} else if (s->has_get && s->get.worker == wid) {
			s->has_get = 0;
			engine_session_close(s, "transport error", 0);
			lost++;
		}
	}
	free(all);

	return (lost);
}

/*
 * Close a session. client is set when the client asked (a close packet on
 * polling): a waiting GET then gets a noop, otherwise a close packet. The
 * memory is freed at the next tick, so callers up the stack may still look
 * at s->state.
 */
void
engine_session_close(struct eio_session *s, const char *reason, int client)
{
	size_t		i;
	u_int8_t	pkt;

	if (s->state != SESS_OPEN)
		return;

	s->state = SESS_CLOSED;
	if (s->transport == T_POLLING)
		engine_npolling--;
	(void)hmap_del(&sessions, s->sid, SIO_SID_LEN);
	engine_count_update();
	engine_stats_transport(s->transport, -1);
	session_hb_set(s, HB_NONE, 0);

	if (sio_conf.debug)
		sio_log(LOG_INFO, s->sid, "eio: session %s closed: %s",
		    s->sid, reason);

	if (engine_endpoints[s->ep].h.close != NULL)
		engine_endpoints[s->ep].h.close(s, reason);

	if (s->has_get) {
		pkt = client ? '6' : '1';
		engine_poll_reply(s, 200, CT_TEXT, &pkt, 1);
	} else if (client && s->transport == T_POLLING) {
		i = engine_closed_next++ % ENGINE_CLOSED_MAX;
		memcpy(engine_closed[i].sid, s->sid, SIO_SID_LEN);
		engine_closed[i].ep = s->ep;
		engine_closed[i].until = kore_time_ms() + ENGINE_CLOSED_MS;
	}
	if (s->has_ws) {
		engine_ws_close(&s->ws);
		s->has_ws = 0;
	}
	engine_ws_up_done(s, 1);

	for (i = 0; i < s->qlen; i++)
		frame_unref(s->q[i]);
	free(s->q);
	s->q = NULL;
	s->qlen = s->qcap = s->qbytes = 0;

	TAILQ_INSERT_TAIL(&graveyard, s, grave);
}

/* Whether a GET for unknown session sid gets the noop (see above). */
int
engine_closed_take(int ep, const char *sid)
{
	u_int64_t	now;
	size_t		i;

	now = kore_time_ms();
	for (i = 0; i < ENGINE_CLOSED_MAX; i++) {
		if (engine_closed[i].until < now || engine_closed[i].ep != ep ||
		    memcmp(engine_closed[i].sid, sid, SIO_SID_LEN) != 0)
			continue;
		engine_closed[i].until = 0;
		return (1);
	}

	return (0);
}

static void
session_hb_set(struct eio_session *s, int which, u_int64_t deadline)
{
	if (s->hb == HB_PING)
		TAILQ_REMOVE(&hb_ping, s, hbl);
	else if (s->hb == HB_PONG)
		TAILQ_REMOVE(&hb_pong, s, hbl);

	s->hb = which;
	s->deadline = deadline;

	if (which == HB_PING)
		TAILQ_INSERT_TAIL(&hb_ping, s, hbl);
	else if (which == HB_PONG)
		TAILQ_INSERT_TAIL(&hb_pong, s, hbl);
}

static void
session_pong(struct eio_session *s)
{
	if (s->hb != HB_PONG)
		return;
	session_hb_set(s, HB_PING, kore_time_ms() + sio_conf.ping_interval);
}

/*
 * A packet for s from its active transport (FROM_ACTIVE) or from the
 * WebSocket that wants to take over (FROM_UPGRADE).
 */
void
engine_session_packet(struct eio_session *s, int from,
    const struct eio_packet *pkt)
{
	if (from == FROM_UPGRADE) {
		engine_ws_upgrade(s, pkt);
		return;
	}

	switch (pkt->type) {
	case EIO_PACKET_PONG:
		session_pong(s);
		break;
	case EIO_PACKET_MESSAGE:
		engine_stats.packets_in++;
		engine_stats.bytes_in += pkt->len;
		if (engine_endpoints[s->ep].h.message != NULL) {
			engine_endpoints[s->ep].h.message(s, pkt->data,
			    pkt->len, pkt->binary);
		}
		break;
	case EIO_PACKET_CLOSE:
		engine_session_close(s, "transport close", 1);
		break;
	case EIO_PACKET_PING:
		engine_session_close(s, "parse error", 0);
		break;
	default:
		break;
	}
}
