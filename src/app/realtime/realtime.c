/*
 * The realtime half: Socket.IO namespace "/" on top of the plugin.
 *
 * Handshake: the CONNECT payload carries {"token":"Bearer <jwt>"} (the
 * prefix is optional). The token is checked with the same verifier as the
 * REST routes, then the user is looked up in the store on a pool thread;
 * the refusals are CONNECT_ERROR "Authentication required", "Invalid
 * token" and "User not found". An accepted socket is in room user:<id>.
 *
 * Rooms: user:<id> (every socket of a user), todos:<id> (the sockets of a
 * user that asked for todo events: subscribe:todos), project:<id> (sockets
 * that joined a project: join:project, members only, checked in the
 * store).
 *
 * Hook emits (hooks.h, hooks.c) run on the worker that served the REST
 * write and reach every worker through the plugin's broadcast.
 *
 * Client events are rate limited per socket (token bucket, RATE_LIMIT_RATE
 * events a second, bursts of RATE_LIMIT_BURST); the excess is dropped with
 * an "error" event {"message":"Rate limit exceeded"} at most once a second,
 * and a socket that keeps going is disconnected.
 *
 * Connection-state recovery (RECOVERY_MAX_DISCONNECTION_MS): a socket lost
 * with its connection is kept by the plugin with its rooms and its user
 * and sync subscriptions (rt_save()). A client coming back with its pid
 * is checked as any other (token, user in the store); if the token is
 * another user's, it starts a new session instead; otherwise its sync
 * state comes back, the plugin gives its rooms back and replays what it
 * missed (todo:* events, and sync events through sync.c's filter, which
 * sees the socket as it was), and presence counts it again.
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "job.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "realtime/limit.h"
#include "realtime/realtime.h"
#include "sio.h"
#include "store/store.h"
#include "auth/auth.h"

#define RT_ABUSE_DROPS		200
#define RT_SWEEP_MS		1000

#define RT_JOB_CONNECT		1
#define RT_JOB_JOIN		2

struct rt_job {
	struct job		job;
	int			kind;
	struct sio_socket	*so;
	char			user[STORE_OID_LEN + 1];
	char			project[STORE_OID_LEN + 1];
	int64_t			exp;
	int64_t			ack;
	int			found;
	int			member;
	int			admin;
	int			failed;
};

struct sio_nsp		*rt_nsp;

static void	rt_connect(struct sio_socket *, json_t *);
static void	rt_refuse(struct sio_socket *, const char *, const char *);
static void	rt_disconnect(struct sio_socket *, const char *);
static void	rt_accepted(struct sio_socket *, const char *, int64_t, int);
static json_t	*rt_save(struct sio_socket *);
static void	rt_sock_free(struct rt_sock *);
static int	rt_allow(struct sio_socket *, const struct sio_event *);
static void	rt_sweep(void *, u_int64_t);
static void	rt_reply(struct sio_socket *, int64_t, json_t *);
static void	rt_error(struct sio_socket *, int64_t, const char *);
static int	rt_project_arg(struct sio_socket *, const struct sio_event *,
		    char *);
static void	rt_subscribe(struct sio_socket *, const struct sio_event *);
static void	rt_unsubscribe(struct sio_socket *, const struct sio_event *);
static int	rt_join(struct sio_socket *, const struct sio_event *);
static void	rt_event(struct sio_socket *, const struct sio_event *);
static void	rt_dispatch(struct sio_socket *, const struct sio_event *);
static void	rt_hold(struct rt_sock *, const struct sio_event *);
static void	rt_held_free(struct rt_sock *);
static void	rt_leave(struct sio_socket *, const struct sio_event *);
static void	rt_unknown(struct sio_socket *, const struct sio_event *);
static void	rt_debug_worker(struct sio_socket *, const struct sio_event *);
static struct rt_job *rt_job_new(struct sio_socket *, int);
static void	rt_job_work(struct job *);
static void	rt_job_done(struct job *);
static void	rt_job_cleanup(struct job *);
static double	rt_env_num(const char *, double, double, double);
static json_t	*rt_cluster_ping(struct sio_nsp *, json_t *);

/*
 * The client events, each handled in arrival order: one that waits for
 * the store (hold non-NULL and returning 0) holds the socket's next
 * events until it is done (rt_release()).
 */
static const struct rt_event {
	const char	*name;
	void		(*fn)(struct sio_socket *, const struct sio_event *);
	int		(*hold)(struct sio_socket *, const struct sio_event *);
} rt_events[] = {
	{ "subscribe:todos",		rt_subscribe,		NULL },
	{ "unsubscribe:todos",		rt_unsubscribe,		NULL },
	{ "join:project",		NULL,			rt_join },
	{ "leave:project",		rt_leave,		NULL },
	{ "subscribe:model",		sync_subscribe_model,	NULL },
	{ "unsubscribe:model",		sync_unsubscribe_model,	NULL },
	{ "subscribe:document",		sync_subscribe_document, NULL },
	{ "unsubscribe:document",	sync_unsubscribe_document, NULL },
	{ "subscribe:query",		NULL,		sync_subscribe_query },
	{ "unsubscribe:query",		sync_unsubscribe_query,	NULL },
	{ NULL,				rt_unknown,		NULL }
};

/* Events held at most per socket; more are dropped. */
#define RT_HELD_MAX		32

struct rt_held {
	char		*name;
	json_t		*args;
	int64_t		 ack;
};

void
realtime_init(void)
{
	struct sio_config	cf;
	struct limit_conf	lc;
	size_t			i;

	lc.rate = rt_env_num("RATE_LIMIT_RATE", 20, 0.1, 100000);
	lc.burst = rt_env_num("RATE_LIMIT_BURST", 40, 1, 100000);
	lc.abuse = RT_ABUSE_DROPS;
	limit_init(&lc);
	(void)kore_timer_add(rt_sweep, RT_SWEEP_MS, NULL, 0);

	sio_config_defaults(&cf);
	cf.path = "/socket.io/";
	cf.ping_interval = (uint32_t)rt_env_num("SIO_PING_INTERVAL", 25000,
	    50, 3600000);
	cf.ping_timeout = (uint32_t)rt_env_num("SIO_PING_TIMEOUT", 20000,
	    50, 3600000);
	cf.max_payload = (size_t)rt_env_num("SIO_MAX_PAYLOAD", 1000000,
	    1024, 1000000);
	cf.max_buffer = (size_t)rt_env_num("SIO_MAX_BUFFER", 4 * 1024 * 1024,
	    64 * 1024, 1024 * 1024 * 1024);
	cf.max_poll_packets = (size_t)rt_env_num("SIO_MAX_POLL_PACKETS", 16,
	    1, 1000000);
	cf.cors_origin = korio.frontend_url;
	cf.debug = korio.ws_debug;
	cf.log = log_sio;
	/* fetchSockets from other nodes wants handshakes too. */
	cf.keep_handshake = korio.admin_ui || korio.redis_url != NULL;
	cf.redis_url = korio.redis_url;
	cf.redis_prefix = korio.redis_prefix;
	cf.redis_queue_max = korio.redis_queue_max;
	cf.redis_queue_bytes = korio.redis_queue_bytes;
	cf.recovery_ms = (uint32_t)rt_env_num("RECOVERY_MAX_DISCONNECTION_MS",
	    120000, 0, 86400000);
	cf.recovery_max_events = (size_t)rt_env_num("RECOVERY_MAX_EVENTS",
	    10000, 0, 10000000);
	/* A replay is at most the log: it must fit what a client may owe. */
	cf.recovery_max_bytes = (size_t)rt_env_num("RECOVERY_MAX_BYTES",
	    MIN(2 * 1024 * 1024, cf.max_buffer), 0, (double)cf.max_buffer);
	cf.recovery_max_sessions = (size_t)rt_env_num("RECOVERY_MAX_SESSIONS",
	    10000, 0, 10000000);
	sio_init(&cf);

	rt_nsp = sio_nsp_create("/");
	sio_nsp_on_connect(rt_nsp, rt_connect);
	sio_nsp_on_disconnect(rt_nsp, rt_disconnect);
	sio_nsp_on_save(rt_nsp, rt_save);
	for (i = 0; rt_events[i].name != NULL; i++)
		sio_nsp_on(rt_nsp, rt_events[i].name, rt_event);
	sio_nsp_on_unknown(rt_nsp, rt_event);
	if (korio.debug_endpoints)
		sio_nsp_on(rt_nsp, "debug:worker", rt_debug_worker);

	/* Cluster mode: cluster:ping answers its first argument. */
	if (korio.redis_url != NULL)
		sio_cluster_on(rt_nsp, "cluster:ping", rt_cluster_ping);

	presence_init(rt_nsp);
	sync_init((size_t)rt_env_num("SYNC_QUERY_MAX_BYTES", 4096, 64,
	    1000000));
	revalidate_init((u_int64_t)rt_env_num("REALTIME_REVALIDATE_MS",
	    60000, 0, 86400000));
	admin_init();
}

/*
 * Another node's serverSideEmitWithAck("cluster:ping", x): every node of
 * a korio cluster answers x (redis-adapter.md section 10).
 */
static json_t *
rt_cluster_ping(struct sio_nsp *n, json_t *args)
{
	json_t		*x;

	(void)n;
	if ((x = json_array_get(args, 0)) == NULL)
		return (json_null());
	return (json_incref(x));
}

static void
rt_connect(struct sio_socket *so, json_t *auth)
{
	struct token_claims	claims;
	struct rt_job		*j;
	json_t			*tok;
	int			r;

	if (!rt_budget(so))
		return;

	tok = json_object_get(auth, "token");
	if (!json_is_string(tok)) {
		rt_refuse(so, "Authentication required", "no token");
		return;
	}

	r = auth_access(json_string_value(tok), 1, &claims);
	if (r == TOKEN_NONE) {
		rt_refuse(so, "Authentication required", "no token");
		return;
	}
	if (r != TOKEN_OK) {
		rt_refuse(so, "Invalid token", token_result_str(r));
		return;
	}

	if (!store_oid_valid(claims.user_id)) {
		rt_refuse(so, "User not found", "user id is not an ObjectId");
		return;
	}

	j = rt_job_new(so, RT_JOB_CONNECT);
	memcpy(j->user, claims.user_id, STORE_OID_LEN + 1);
	j->exp = claims.exp;
	job_start(&j->job);
}

static void
rt_refuse(struct sio_socket *so, const char *message, const char *why)
{
	if (korio.ws_debug)
		log_sid(LOG_INFO, sio_socket_id(so), "realtime: socket %s "
		    "refused: %s (%s)", sio_socket_id(so), message, why);
	sio_reject(so, message, NULL);
}

/*
 * The token checked and the user found: accept. A socket taking over a
 * kept one (recovery) gets its sync subscriptions back, or, if the kept
 * one was another user's, starts a new session instead. Its state is set
 * before sio_accept(), which replays what it missed through sync.c's
 * filter.
 */
static void
rt_accepted(struct sio_socket *so, const char *user, int64_t exp, int admin)
{
	struct rt_sock	*rs;
	json_t		*saved;
	const char	*was;
	char		room[RT_ROOM_MAX];

	if ((saved = sio_socket_recovered(so)) != NULL) {
		was = json_string_value(json_object_get(saved, "user"));
		if (was == NULL || strcmp(was, user) != 0) {
			if (korio.ws_debug)
				log_sid(LOG_INFO, sio_socket_id(so),
				    "realtime: socket %s of another user, "
				    "not recovered", sio_socket_id(so));
			sio_socket_recover_cancel(so);
			saved = NULL;
		}
	}

	rs = mem_calloc(1, sizeof(*rs));
	memcpy(rs->user, user, STORE_OID_LEN + 1);
	rs->exp = exp;
	rs->admin = admin;
	if (saved != NULL)
		sync_socket_restore(rs, json_object_get(saved, "sync"));
	sio_socket_set_udata(so, rs);

	sio_accept(so);
	if (!sio_socket_connected(so)) {
		/* Gone before it was connected: no disconnect handler. */
		if ((rs = sio_socket_udata(so)) != NULL) {
			sio_socket_set_udata(so, NULL);
			rt_sock_free(rs);
		}
		return;
	}

	(void)snprintf(room, sizeof(room), "user:%s", user);
	(void)sio_join(so, room);
	(void)sio_join(so, "authenticated");
	if (admin)
		(void)sio_join(so, "admin");
	else
		(void)sio_leave(so, "admin");
	if (korio.ws_debug)
		log_sid(LOG_INFO, sio_socket_id(so), "realtime: socket %s is "
		    "user %s", sio_socket_id(so), user);

	presence_socket_added(user, so);
	rs->present = 1;
}

/* What recovery keeps of a lost socket besides its rooms. */
static json_t *
rt_save(struct sio_socket *so)
{
	struct rt_sock	*rs;

	if ((rs = sio_socket_udata(so)) == NULL)
		return (NULL);

	return (json_pack("{s:s,s:o}", "user", rs->user, "sync",
	    sync_socket_save(rs)));
}

static void
rt_sock_free(struct rt_sock *rs)
{
	sync_socket_free(rs);
	rt_held_free(rs);
	free(rs);
}

static void
rt_disconnect(struct sio_socket *so, const char *reason)
{
	struct rt_sock	*rs;

	if ((rs = sio_socket_udata(so)) == NULL)
		return;
	sio_socket_set_udata(so, NULL);

	/* A client's own DISCONNECT takes from its budget as a CONNECT does. */
	if (!strcmp(reason, "client namespace disconnect") &&
	    sio_socket_sid(so) != NULL)
		(void)limit_take(sio_socket_sid(so), kore_time_ms());

	if (korio.ws_debug)
		log_sid(LOG_INFO, sio_socket_id(so), "realtime: socket %s of "
		    "user %s gone: %s", sio_socket_id(so), rs->user, reason);

	if (rs->present)
		presence_socket_removed(rs->user);
	rt_sock_free(rs);
}

/* An event of so within its connection's budget (limit.c); 0 drops it. */
static int
rt_allow(struct sio_socket *so, const struct sio_event *ev)
{
	struct rt_sock	*rs;
	const char	*sid;

	(void)ev;
	if ((rs = sio_socket_udata(so)) == NULL ||
	    (sid = sio_socket_sid(so)) == NULL)
		return (0);

	switch (limit_take(sid, kore_time_ms())) {
	case LIMIT_OK:
		return (1);
	case LIMIT_NOTICE:
		metrics_rate_limit_drop();
		(void)sio_emit(so, "error",
		    json_pack("[{s:s}]", "message", "Rate limit exceeded"));
		return (0);
	case LIMIT_ABUSE:
		metrics_rate_limit_drop();
		log_sid(LOG_NOTICE, sio_socket_id(so), "realtime: socket %s "
		    "of user %s keeps exceeding the rate limit, disconnecting",
		    sio_socket_id(so), rs->user);
		sio_disconnect(so);
		return (0);
	default:
		metrics_rate_limit_drop();
		return (0);
	}
}

/*
 * A CONNECT within its connection's budget: over it, CONNECT_ERROR "Rate
 * limit exceeded" before any token check or store lookup; a client that
 * keeps going loses its whole connection.
 */
int
rt_budget(struct sio_socket *so)
{
	const char	*sid;
	int		r;

	if ((sid = sio_socket_sid(so)) == NULL)
		return (0);

	if ((r = limit_take(sid, kore_time_ms())) == LIMIT_OK)
		return (1);
	metrics_rate_limit_drop();

	/* Closing the session ends so too: no reject after it. */
	if (r == LIMIT_ABUSE) {
		log_sid(LOG_NOTICE, sid, "realtime: connection %s keeps "
		    "connecting past the rate limit, closing it", sid);
		sio_socket_close_session(so, "rate limit");
	} else {
		sio_reject(so, "Rate limit exceeded", NULL);
	}

	return (0);
}

static void
rt_sweep(void *arg, u_int64_t now)
{
	(void)arg;
	limit_sweep(now);
}

/* Answer an event: an ack if one was asked for, else errors as "error". */
static void
rt_reply(struct sio_socket *so, int64_t ack, json_t *body)
{
	if (ack >= 0) {
		sio_ack(so, ack, json_pack("[o]", body));
		return;
	}

	if (json_object_get(body, "error") != NULL)
		(void)sio_emit(so, "error", json_pack("[o]", body));
	else
		json_decref(body);
}

static void
rt_error(struct sio_socket *so, int64_t ack, const char *message)
{
	rt_reply(so, ack, json_pack("{s:s}", "error", message));
}

static void
rt_subscribe(struct sio_socket *so, const struct sio_event *ev)
{
	struct rt_sock	*rs = sio_socket_udata(so);
	char		room[RT_ROOM_MAX];

	(void)snprintf(room, sizeof(room), "todos:%s", rs->user);
	(void)sio_join(so, room);
	rt_reply(so, ev->ack_id, json_pack("{s:b}", "ok", 1));
}

static void
rt_unsubscribe(struct sio_socket *so, const struct sio_event *ev)
{
	struct rt_sock	*rs = sio_socket_udata(so);
	char		room[RT_ROOM_MAX];

	(void)snprintf(room, sizeof(room), "todos:%s", rs->user);
	(void)sio_leave(so, room);
	rt_reply(so, ev->ack_id, json_pack("{s:b}", "ok", 1));
}

/* The first argument must be a project id (24 hex digits). */
static int
rt_project_arg(struct sio_socket *so, const struct sio_event *ev, char *out)
{
	json_t		*arg;

	arg = json_array_get(ev->args, 0);
	if (!json_is_string(arg)) {
		rt_error(so, ev->ack_id, "projectId must be a string");
		return (0);
	}
	if (!store_oid_valid(json_string_value(arg))) {
		rt_error(so, ev->ack_id, "projectId must be 24 hex digits");
		return (0);
	}

	memcpy(out, json_string_value(arg), STORE_OID_LEN + 1);
	return (1);
}

static int
rt_join(struct sio_socket *so, const struct sio_event *ev)
{
	struct rt_sock	*rs = sio_socket_udata(so);
	struct rt_job	*j;
	char		project[STORE_OID_LEN + 1];

	if (!rt_project_arg(so, ev, project))
		return (1);

	j = rt_job_new(so, RT_JOB_JOIN);
	memcpy(j->user, rs->user, STORE_OID_LEN + 1);
	memcpy(j->project, project, STORE_OID_LEN + 1);
	j->ack = ev->ack_id;
	job_start(&j->job);

	return (0);
}

static void
rt_leave(struct sio_socket *so, const struct sio_event *ev)
{
	char		project[STORE_OID_LEN + 1];
	char		room[RT_ROOM_MAX];

	if (!rt_project_arg(so, ev, project))
		return;

	(void)snprintf(room, sizeof(room), "project:%s", project);
	if (sio_leave(so, room) && korio.ws_debug)
		log_sid(LOG_INFO, sio_socket_id(so), "realtime: socket %s "
		    "left %s", sio_socket_id(so), room);
	rt_reply(so, ev->ack_id, json_pack("{s:b}", "ok", 1));
}

static void
rt_unknown(struct sio_socket *so, const struct sio_event *ev)
{
	rt_error(so, ev->ack_id, "Unknown event");
}

/* Every client event: the budget, then in arrival order. */
static void
rt_event(struct sio_socket *so, const struct sio_event *ev)
{
	struct rt_sock	*rs;

	if (!rt_allow(so, ev))
		return;
	rs = sio_socket_udata(so);
	if (rs->busy) {
		rt_hold(rs, ev);
		return;
	}
	rt_dispatch(so, ev);
}

static void
rt_dispatch(struct sio_socket *so, const struct sio_event *ev)
{
	const struct rt_event	*e;
	struct rt_sock		*rs = sio_socket_udata(so);

	for (e = rt_events; e->name != NULL; e++) {
		if (!strcmp(e->name, ev->name))
			break;
	}
	if (e->hold != NULL) {
		if (!e->hold(so, ev))
			rs->busy = 1;
	} else {
		e->fn(so, ev);
	}
}

/* A copy of ev for later; past RT_HELD_MAX it is dropped. */
static void
rt_hold(struct rt_sock *rs, const struct sio_event *ev)
{
	struct rt_held	*h;

	if (rs->nheld == RT_HELD_MAX)
		return;
	if (rs->held == NULL)
		rs->held = mem_calloc(RT_HELD_MAX, sizeof(*rs->held));
	h = &rs->held[rs->nheld++];
	h->name = mem_strdup(ev->name);
	h->args = json_incref(ev->args);
	h->ack = ev->ack_id;
}

/* so's event at work is done: handle what it held, in order. */
void
rt_release(struct sio_socket *so)
{
	struct rt_sock		*rs;
	struct rt_held		h;
	struct sio_event	ev;

	if ((rs = sio_socket_udata(so)) == NULL)
		return;
	rs->busy = 0;
	while (!rs->busy && rs->nheld > 0 &&
	    sio_socket_udata(so) == rs) {
		h = rs->held[0];
		rs->nheld--;
		memmove(rs->held, rs->held + 1, rs->nheld * sizeof(h));
		memset(&ev, 0, sizeof(ev));
		ev.name = h.name;
		ev.args = h.args;
		ev.ack_id = h.ack;
		rt_dispatch(so, &ev);
		free(h.name);
		json_decref(h.args);
	}
}

static void
rt_held_free(struct rt_sock *rs)
{
	size_t		i;

	for (i = 0; i < rs->nheld; i++) {
		free(rs->held[i].name);
		json_decref(rs->held[i].args);
	}
	free(rs->held);
	rs->held = NULL;
	rs->nheld = 0;
}

static void
rt_debug_worker(struct sio_socket *so, const struct sio_event *ev)
{
	rt_reply(so, ev->ack_id, json_pack("{s:i,s:i,s:s}", "worker",
	    (int)eio_worker_id(), "pid", (int)getpid(), "sid",
	    sio_socket_id(so)));
}

static struct rt_job *
rt_job_new(struct sio_socket *so, int kind)
{
	struct rt_job	*j;

	j = (struct rt_job *)job_callback_new(sizeof(*j), rt_job_work,
	    rt_job_done, rt_job_cleanup);
	j->kind = kind;
	j->so = so;
	j->ack = -1;
	sio_socket_ref(so);

	return (j);
}

/* Pool thread: the store lookups of a handshake or a join. */
static void
rt_job_work(struct job *job)
{
	struct rt_job		*j = (struct rt_job *)job;
	struct store_conn	*sc;
	json_t			*doc, *members, *m;
	size_t			i;
	enum store_result	r;

	if ((sc = store_acquire()) == NULL) {
		j->failed = 1;
		return;
	}

	doc = NULL;
	if (j->kind == RT_JOB_CONNECT) {
		r = store_get(sc, STORE_USERS, j->user, &doc);
		j->found = (r == STORE_OK);
		j->admin = json_is_true(json_object_get(doc, "admin"));
		j->failed = (r != STORE_OK && r != STORE_NOTFOUND);
	} else {
		r = store_get(sc, STORE_PROJECTS, j->project, &doc);
		j->failed = (r != STORE_OK && r != STORE_NOTFOUND);
		members = json_object_get(doc, "members");
		json_array_foreach(members, i, m) {
			if (json_is_string(m) &&
			    !strcmp(json_string_value(m), j->user))
				j->member = 1;
		}
	}

	json_decref(doc);
	store_release(sc);
}

/* Worker: act on the lookup, if the socket is still there. */
static void
rt_job_done(struct job *job)
{
	struct rt_job	*j = (struct rt_job *)job;
	char		room[RT_ROOM_MAX];

	if (j->kind == RT_JOB_CONNECT) {
		if (j->failed) {
			log_sid(LOG_WARNING, sio_socket_id(j->so), "realtime: "
			    "store unavailable during a handshake");
			sio_reject(j->so, "Server error", NULL);
		} else if (!j->found) {
			rt_refuse(j->so, "User not found", "no such user");
		} else {
			rt_accepted(j->so, j->user, j->exp, j->admin);
		}
		return;
	}

	if (!sio_socket_connected(j->so))
		return;

	if (j->failed) {
		rt_error(j->so, j->ack, "Server error");
	} else if (!j->member) {
		if (korio.ws_debug)
			log_sid(LOG_INFO, sio_socket_id(j->so), "realtime: "
			    "socket %s may not join project %s",
			    sio_socket_id(j->so), j->project);
		rt_error(j->so, j->ack, "Forbidden");
	} else {
		(void)snprintf(room, sizeof(room), "project:%s", j->project);
		(void)sio_join(j->so, room);
		if (korio.ws_debug)
			log_sid(LOG_INFO, sio_socket_id(j->so), "realtime: "
			    "socket %s joined %s", sio_socket_id(j->so), room);
		rt_reply(j->so, j->ack, json_pack("{s:b}", "ok", 1));
	}
	rt_release(j->so);
}

static void
rt_job_cleanup(struct job *job)
{
	struct rt_job	*j = (struct rt_job *)job;

	sio_socket_unref(j->so);
}

static double
rt_env_num(const char *name, double def, double min, double max)
{
	const char	*v;
	char		*end;
	double		d;

	if ((v = getenv(name)) == NULL || *v == '\0')
		return (def);

	d = strtod(v, &end);
	if (*end != '\0' || d < min || d > max)
		fatal("%s: expected a number from %g to %g, got '%s'",
		    name, min, max, v);

	return (d);
}
