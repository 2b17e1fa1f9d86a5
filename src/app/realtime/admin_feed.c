/*
 * What the Socket.IO Admin UI is told, as @socket.io/admin-ui 0.5.1's
 * instrument() tells it, from every worker: each worker is one server
 * of the UI ("<hostname>#<pid>", as admin-ui names a cluster worker) and
 * speaks about its own sockets only.
 *
 * The plugin's monitor (sio_monitor_set()) shows this worker every
 * socket of every namespace. Every socket joins a room named by its id,
 * as in socket.io (the UI acts on one socket through that room). While
 * an admin socket is connected anywhere, each worker sends, for its own
 * sockets: socket_connected (the socket as admin-ui serializes it),
 * socket_updated (an upgrade to WebSocket), socket_disconnected,
 * room_joined, room_left, event_received and event_sent (a socket's own
 * events, not the admin namespace's), each with the date; and every
 * FEED_STATS_MS its server_stats. In production mode (ADMIN_UI_MODE) only
 * server_stats goes out, as in admin-ui. admin_view.c gives them their
 * shapes.
 *
 * How. Every message goes over the plugin's bus (sio_bus_send()) to every
 * worker, which hands it to its own admin sockets: one worker's messages
 * reach another in the order they were sent, and that is what keeps a
 * new admin socket right. It asks every worker, itself included, for its
 * sockets (FEED_DUMP); each answers (FEED_DUMP_REPLY) with its sockets as
 * they are when it answers, then sends its server_stats. What a worker
 * sent before its answer is in the answer; what it sends after is held
 * for the new socket, and told in order once every worker has answered
 * (or FEED_SYNC_MS have passed: a worker that died) and all_sockets has
 * gone. (The plugin's broadcast would not do: it keeps one order of all
 * broadcasts, in which an answer over the bus has no place.)
 *
 * Nothing is sent while no admin socket is connected anywhere: each
 * worker knows which workers have some (FEED_WATCH, a bit per worker,
 * as presence.c keeps its users; a worker that starts again tells the
 * others to forget it and asks them for theirs).
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "realtime/admin.h"
#include "realtime/realtime.h"
#include "sio.h"

#define FEED_TICK_MS		500
#define FEED_STATS_MS		2000
#define FEED_SYNC_MS		5000
#define FEED_HELD_MAX		10000

#define FEED_WATCH		1
#define FEED_RESET		2
#define FEED_SYNC		3
#define FEED_DUMP		4
#define FEED_DUMP_REPLY		5
#define FEED_EVENT		6

/* The head of every feed message; a payload may follow. */
struct feed_msg {
	u_int8_t	op;
	u_int8_t	on;
	u_int16_t	worker;
	u_int32_t	unused;
	u_int64_t	reqid;
};

struct feed_collect {
	json_t		*all;
};

static void	feed_connected(struct sio_socket *);
static void	feed_disconnected(struct sio_socket *, const char *);
static void	feed_joined(struct sio_socket *, const char *);
static void	feed_left(struct sio_socket *, const char *);
static void	feed_event_in(struct sio_socket *, const struct sio_event *);
static void	feed_event_out(struct sio_socket *, json_t *);
static void	feed_upgraded(struct sio_socket *);
static void	feed_session_opened(struct eio_session *);
static void	feed_session_closed(struct eio_session *, const char *);

static int	feed_verbose(void);
static void	feed_send(u_int16_t, u_int8_t, int, u_int64_t, const void *,
		    size_t);
static void	feed_event(const char *, json_t *);
static void	feed_recv(u_int16_t, const u_int8_t *, size_t);
static void	feed_recv_event(u_int16_t, const u_int8_t *, size_t);
static void	feed_recv_dump(u_int16_t, u_int64_t);
static void	feed_recv_reply(u_int16_t, u_int64_t, const u_int8_t *,
		    size_t);
static void	feed_watch(u_int16_t, int);
static void	feed_live(struct admin_sock *);
static void	feed_tick(void *, u_int64_t);
static void	feed_stats(void);
static void	feed_collect(struct sio_socket *, void *);
static u_int64_t feed_all_workers(void);

static const struct sio_monitor	feed_monitor = {
	.connected = feed_connected,
	.disconnected = feed_disconnected,
	.joined = feed_joined,
	.left = feed_left,
	.event_in = feed_event_in,
	.event_out = feed_event_out,
	.upgraded = feed_upgraded,
	.session_opened = feed_session_opened,
	.session_closed = feed_session_closed
};

static TAILQ_HEAD(, admin_sock)	feed_admins =
				    TAILQ_HEAD_INITIALIZER(feed_admins);
static size_t			feed_nadmins;
static u_int64_t		feed_watchers;	/* bit w - 1: w has admins */
static u_int64_t		feed_nextreq;
static u_int64_t		feed_stats_due;

void
admin_feed_init(void)
{
	admin_view_init();
	sio_monitor_set(&feed_monitor);
	sio_bus_register(RT_MSG_ADMIN_FEED, feed_recv);
	(void)kore_timer_add(feed_tick, FEED_TICK_MS, NULL, 0);

	/* Whatever this worker had before it started again is gone. */
	feed_send(SIO_BUS_ALL, FEED_RESET, 0, 0, NULL, 0);
	feed_send(SIO_BUS_ALL, FEED_SYNC, 0, 0, NULL, 0);
}

/* An admin socket of this worker, accepted: it asks every worker. */
void
admin_feed_add(struct admin_sock *as)
{
	TAILQ_INSERT_TAIL(&feed_admins, as, list);
	if (feed_nadmins++ == 0) {
		feed_watchers |= (u_int64_t)1 << (eio_worker_id() - 1);
		feed_send(SIO_BUS_ALL, FEED_WATCH, 1, 0, NULL, 0);
	}

	as->reqid = ++feed_nextreq;
	as->deadline = kore_time_ms() + FEED_SYNC_MS;
	as->sockets = json_array();
	as->held = json_array();
	feed_send(SIO_BUS_ALL, FEED_DUMP, 0, as->reqid, NULL, 0);
}

void
admin_feed_remove(struct admin_sock *as)
{
	TAILQ_REMOVE(&feed_admins, as, list);
	json_decref(as->sockets);
	json_decref(as->held);
	as->sockets = as->held = NULL;
	if (--feed_nadmins == 0) {
		feed_watchers &= ~((u_int64_t)1 << (eio_worker_id() - 1));
		feed_send(SIO_BUS_ALL, FEED_WATCH, 0, 0, NULL, 0);
	}
}

/* The monitor: what happens to this worker's sockets. */
static void
feed_connected(struct sio_socket *so)
{
	(void)sio_join(so, sio_socket_id(so));
	if (feed_verbose())
		feed_event("socket_connected", json_pack("[oo]",
		    admin_view_socket(so), admin_view_date()));
}

static void
feed_disconnected(struct sio_socket *so, const char *reason)
{
	if (feed_verbose())
		feed_event("socket_disconnected", json_pack("[ssso]",
		    sio_nsp_name(sio_socket_nsp(so)), sio_socket_id(so),
		    reason != NULL ? reason : "", admin_view_date()));
}

static void
feed_joined(struct sio_socket *so, const char *room)
{
	if (feed_verbose())
		feed_event("room_joined", json_pack("[ssso]",
		    sio_nsp_name(sio_socket_nsp(so)), room, sio_socket_id(so),
		    admin_view_date()));
}

static void
feed_left(struct sio_socket *so, const char *room)
{
	if (feed_verbose())
		feed_event("room_left", json_pack("[ssso]",
		    sio_nsp_name(sio_socket_nsp(so)), room, sio_socket_id(so),
		    admin_view_date()));
}

static void
feed_event_in(struct sio_socket *so, const struct sio_event *ev)
{
	json_t		*args;

	if (!feed_verbose() || sio_socket_nsp(so) == admin_nsp)
		return;

	args = json_pack("[s]", ev->name);
	(void)json_array_extend(args, ev->args);
	feed_event("event_received", json_pack("[ssoo]",
	    sio_nsp_name(sio_socket_nsp(so)), sio_socket_id(so), args,
	    admin_view_date()));
}

static void
feed_event_out(struct sio_socket *so, json_t *data)
{
	if (!feed_verbose() || sio_socket_nsp(so) == admin_nsp)
		return;

	feed_event("event_sent", json_pack("[ssOo]",
	    sio_nsp_name(sio_socket_nsp(so)), sio_socket_id(so), data,
	    admin_view_date()));
}

static void
feed_upgraded(struct sio_socket *so)
{
	if (feed_verbose())
		feed_event("socket_updated", json_pack("[{s:s,s:s,s:s}]",
		    "id", sio_socket_id(so), "nsp",
		    sio_nsp_name(sio_socket_nsp(so)), "transport",
		    "websocket"));
}

static void
feed_session_opened(struct eio_session *s)
{
	(void)s;
	if (feed_watchers != 0)
		admin_view_count("rawConnection", NULL, 1);
}

static void
feed_session_closed(struct eio_session *s, const char *reason)
{
	(void)s;
	if (feed_watchers != 0)
		admin_view_count("rawDisconnection", reason, 1);
}

/* Whether socket events go out: someone watches, in development mode. */
static int
feed_verbose(void)
{
	return (feed_watchers != 0 && korio.admin_all_events);
}

static void
feed_send(u_int16_t dst, u_int8_t op, int on, u_int64_t reqid,
    const void *payload, size_t len)
{
	struct feed_msg		m;
	u_int8_t		*buf;

	memset(&m, 0, sizeof(m));
	m.op = op;
	m.on = (u_int8_t)on;
	m.worker = eio_worker_id();
	m.reqid = reqid;

	if (len == 0) {
		sio_bus_send(dst, RT_MSG_ADMIN_FEED, &m, sizeof(m));
		return;
	}

	buf = mem_malloc(sizeof(m) + len);
	memcpy(buf, &m, sizeof(m));
	memcpy(buf + sizeof(m), payload, len);
	sio_bus_send(dst, RT_MSG_ADMIN_FEED, buf, sizeof(m) + len);
	free(buf);
}

/* event(args) to every admin socket of every worker; args is stolen. */
static void
feed_event(const char *event, json_t *args)
{
	char		*text, *buf;
	size_t		elen, tlen;

	if (args == NULL)
		return;
	if (feed_watchers == 0 || (text = json_dumps(args,
	    JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL) {
		json_decref(args);
		return;
	}
	json_decref(args);

	elen = strlen(event) + 1;
	tlen = strlen(text);
	buf = mem_malloc(elen + tlen);
	memcpy(buf, event, elen);
	memcpy(buf + elen, text, tlen);
	feed_send(SIO_BUS_ALL, FEED_EVENT, 0, 0, buf, elen + tlen);
	free(buf);
	free(text);
}

static void
feed_recv(u_int16_t src, const u_int8_t *data, size_t len)
{
	struct feed_msg		m;

	if (len < sizeof(m))
		return;
	memcpy(&m, data, sizeof(m));
	data += sizeof(m);
	len -= sizeof(m);
	if (m.worker == 0 || m.worker > 64 || m.worker != src)
		return;

	switch (m.op) {
	case FEED_WATCH:
		feed_watch(m.worker, m.on);
		break;
	case FEED_RESET:
		if (m.worker != eio_worker_id())
			feed_watch(m.worker, 0);
		break;
	case FEED_SYNC:
		if (m.worker != eio_worker_id() && feed_nadmins > 0)
			feed_send(m.worker, FEED_WATCH, 1, 0, NULL, 0);
		break;
	case FEED_DUMP:
		feed_recv_dump(m.worker, m.reqid);
		break;
	case FEED_DUMP_REPLY:
		feed_recv_reply(m.worker, m.reqid, data, len);
		break;
	case FEED_EVENT:
		feed_recv_event(m.worker, data, len);
		break;
	default:
		break;
	}
}

/* Another worker has admin sockets, or no more (ours is kept here). */
static void
feed_watch(u_int16_t wid, int on)
{
	u_int64_t	bit;

	if (wid == eio_worker_id())
		return;

	bit = (u_int64_t)1 << (wid - 1);
	if (on)
		feed_watchers |= bit;
	else
		feed_watchers &= ~bit;
}

/*
 * An event from worker wid: to the live admin sockets here, and held for
 * a syncing one that has wid's answer already (what came before the
 * answer is in it).
 */
static void
feed_recv_event(u_int16_t wid, const u_int8_t *data, size_t len)
{
	struct admin_sock	*as, *next;
	struct sio_socket	*so;
	const u_int8_t		*nul;
	const char		*event;
	json_t			*args;

	if (feed_nadmins == 0 ||
	    (nul = memchr(data, '\0', len)) == NULL)
		return;
	event = (const char *)data;
	if ((args = json_loadb((const char *)nul + 1, len - (nul + 1 - data),
	    0, NULL)) == NULL)
		return;

	/* An emit may end its socket, and free as; next stays. */
	for (as = TAILQ_FIRST(&feed_admins); as != NULL; as = next) {
		next = TAILQ_NEXT(as, list);
		so = as->so;
		if (as->live) {
			(void)sio_emit(so, event, json_incref(args));
		} else if ((as->replied & ((u_int64_t)1 << (wid - 1))) &&
		    json_array_size(as->held) < FEED_HELD_MAX) {
			(void)json_array_append_new(as->held,
			    json_pack("[sO]", event, args));
		}
	}
	json_decref(args);
}

/* Worker wid asks for our sockets: they go, then our stats. */
static void
feed_recv_dump(u_int16_t wid, u_int64_t reqid)
{
	struct feed_collect	fc;
	struct sio_nsp		*nsps[SIO_NSP_MAX];
	size_t			i, n;
	char			*text;

	fc.all = json_array();
	if (korio.admin_all_events) {
		n = sio_nsp_list(nsps, SIO_NSP_MAX);
		for (i = 0; i < n; i++)
			sio_nsp_foreach(nsps[i], feed_collect, &fc);
	}
	text = json_dumps(fc.all, JSON_COMPACT);
	json_decref(fc.all);
	if (text == NULL)
		text = mem_strdup("[]");

	feed_send(wid, FEED_DUMP_REPLY, 0, reqid, text, strlen(text));
	free(text);
	feed_stats();
}

static void
feed_recv_reply(u_int16_t wid, u_int64_t reqid, const u_int8_t *data,
    size_t len)
{
	struct admin_sock	*as;
	json_t			*list;

	TAILQ_FOREACH(as, &feed_admins, list) {
		if (as->reqid == reqid && !as->live)
			break;
	}
	if (as == NULL)
		return;

	as->replied |= (u_int64_t)1 << (wid - 1);
	if ((list = json_loadb((const char *)data, len, 0, NULL)) != NULL) {
		(void)json_array_extend(as->sockets, list);
		json_decref(list);
	}

	if ((as->replied & feed_all_workers()) == feed_all_workers())
		feed_live(as);
}

/*
 * Every worker has answered (or the time is up): all_sockets, then what
 * was held, in order. An emit may end the socket (and free as): what is
 * left to send is taken out of as first.
 */
static void
feed_live(struct admin_sock *as)
{
	struct sio_socket	*so = as->so;
	json_t			*sockets, *held, *h;
	size_t			i;

	sockets = as->sockets;
	held = as->held;
	as->sockets = NULL;
	as->held = NULL;
	as->live = 1;

	sio_socket_ref(so);
	if (korio.admin_all_events)
		(void)sio_emit(so, "all_sockets", json_pack("[O]", sockets));
	json_array_foreach(held, i, h) {
		if (!sio_socket_connected(so))
			break;
		(void)sio_emit(so, json_string_value(json_array_get(h, 0)),
		    json_incref(json_array_get(h, 1)));
	}
	sio_socket_unref(so);

	json_decref(sockets);
	json_decref(held);
}

static void
feed_tick(void *arg, u_int64_t now)
{
	struct admin_sock	*as, *next;

	(void)arg;
	for (as = TAILQ_FIRST(&feed_admins); as != NULL; as = next) {
		next = TAILQ_NEXT(as, list);
		if (!as->live && as->deadline <= now) {
			kore_log(LOG_NOTICE, "admin: workers %#llx did not "
			    "answer in time", (unsigned long long)
			    (feed_all_workers() & ~as->replied));
			feed_live(as);
		}
	}

	if (now < feed_stats_due)
		return;
	feed_stats_due = now + FEED_STATS_MS;

	if (feed_watchers != 0)
		feed_stats();
	else
		admin_view_reset();
}

static void
feed_collect(struct sio_socket *so, void *arg)
{
	struct feed_collect	*fc = arg;

	(void)json_array_append_new(fc->all, admin_view_socket(so));
}

/* This worker's server_stats, to every admin socket. */
static void
feed_stats(void)
{
	feed_event("server_stats", json_pack("[o]", admin_view_stats()));
}

/* The bits of workers 1 to sio_worker_count(). */
static u_int64_t
feed_all_workers(void)
{
	u_int16_t	n;

	n = sio_worker_count();
	if (n >= 64)
		return (~(u_int64_t)0);

	return (((u_int64_t)1 << n) - 1);
}
