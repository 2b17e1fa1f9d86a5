/*
 * Connection-state recovery (socket.io 4.6+'s connectionStateRecovery): a
 * client that loses its connection and comes back within recovery_ms gets
 * its socket back, the same id, its rooms, and every broadcast it missed,
 * once and in order, before the live ones. Off when recovery_ms is 0.
 *
 * The wire, as socket.io 4.8 and socket.io-client 4.6+ have it. The
 * CONNECT reply carries a "pid" besides the "sid", and every broadcast
 * event (not an emit to one socket, not an ack) carries its offset as its
 * last argument: its number in the one order of broadcasts
 * (server_order.c), a decimal string (codec/replay.c); so does each
 * packet of a filtered broadcast (server_filter.c). The client keeps
 * the last one it got, and its next CONNECT carries "pid" and "offset"
 * beside the app's auth. A session taken over is answered with the same
 * pid (the client's socket.recovered is true) and the same socket id;
 * anything else gets a new pid (socket.recovered false).
 *
 * Keeping. A connected socket that ends with its connection ("transport
 * close", "transport error", "ping timeout"; not a DISCONNECT from either
 * side, not a parse error) is kept by the worker it lived on: its pid,
 * id, namespace, rooms, and the JSON its namespace's save callback
 * (sio_nsp_on_save()) returns, encoded once into the bytes the bus
 * carries (recover_rec_new()). For recovery_ms at most, and at most
 * recovery_max_sessions per worker: past that the oldest go first (they
 * are counted, and logged once a minute).
 *
 * Taking over. The worker that gets the CONNECT looks among its own kept
 * sockets, then asks every other worker (SIO_MSG_RECOVER, ASK); the one
 * that has it forgets it as it hands it over (REPLY), the others say no.
 * A kept socket is thus taken over once at most, however many CONNECTs
 * race for it. A worker that does not answer within RECOVER_ASK_MS
 * (dead, restarting) counts as a no. A client asks other workers once per
 * namespace and connection at most.
 *
 * The app still decides. The namespace's connect handler runs as for any
 * CONNECT (korio checks the token and looks the user up again): it may
 * reject (CONNECT_ERROR, nothing comes back, the kept socket is gone),
 * call sio_socket_recover_cancel() (a new session instead), look at what
 * was saved (sio_socket_recovered()) and accept. In sio_accept(), right
 * after the CONNECT reply, the rooms come back and the missed messages
 * are replayed; then the connection handler runs.
 *
 * Replay. Every worker fans out the same numbered messages in the same
 * order, and logs them as it does (server_recover_log(), codec/replay.c),
 * within recovery_max_events and recovery_max_bytes. A socket taken over
 * gets every logged message numbered above its offset, through the same
 * per-socket path as a live fan-out (server_order_fanout() with it as the
 * only recipient): a broadcast if it is in one of its rooms, a filtered
 * broadcast if its filter says so (asked again now, so the app's state
 * for the socket must be set before sio_accept()), a socketsLeave applied
 * to it, in order, with nothing fanned out here meanwhile. When the log no longer holds all of them (the oldest went
 * past a bound, or this worker started after that offset), the CONNECT
 * is answered as a new session, and the kept socket stays where it is
 * until it expires.
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "codec/replay.h"

#define RECOVER_ASK_MS		1000
#define RECOVER_REPORT_MS	60000

#define RECOVER_ASK		1
#define RECOVER_REPLY		2

/*
 * A socket kept after its connection was lost. blob: its id, its rooms
 * and the saved JSON (recover_rec_new()), sent as they are to a worker
 * that takes it over.
 */
struct recover_rec {
	TAILQ_ENTRY(recover_rec)	list;
	char				pid[SIO_SID_LEN + 1];
	u_int8_t			nsp;
	u_int64_t			lost;
	size_t				len;
	u_int8_t			blob[];
};

TAILQ_HEAD(recover_rec_list, recover_rec);

/* A connecting socket that takes a kept one over (so->recovery). */
struct server_recovery {
	struct recover_rec	*rec;		/* until sio_accept() */
	u_int64_t		offset;
	json_t			*saved;
	char			fresh[SIO_SID_LEN + 1];
};

/* A CONNECT waiting for the other workers' answers. */
struct recover_ask {
	TAILQ_ENTRY(recover_ask)	list;
	u_int64_t			id;
	struct sio_socket		*so;
	json_t				*auth;
	u_int64_t			offset;
	u_int16_t			left;
	u_int64_t			deadline;
};

/* SIO_MSG_RECOVER: an ASK, or a REPLY followed by the blob if found. */
struct recover_msg {
	u_int64_t	id;
	u_int64_t	lost;
	u_int8_t	kind;
	u_int8_t	nsp;
	u_int8_t	found;
	char		pid[SIO_SID_LEN];
};

/* A reader of a blob; blobs are made by this binary, on some worker. */
struct recover_rd {
	const u_int8_t	*p;
	size_t		left;
};

static void	recover_recv(u_int16_t, const u_int8_t *, size_t);
static void	recover_ask_send(struct sio_socket *, json_t *, const char *,
		    u_int64_t);
static void	recover_ask_done(struct recover_ask *, struct recover_rec *);
static void	recover_attach(struct sio_socket *, struct recover_rec *,
		    u_int64_t);
static int	recover_reason(const char *);
static struct recover_rec *recover_take(const char *, u_int8_t);
static void	recover_put(struct recover_rec *);
static void	recover_forget(struct recover_rec *);
static struct recover_rec *recover_rec_new(struct sio_socket *);
static void	recover_rec_room(const char *, void *);
static void	recover_rooms(struct sio_socket *, struct recover_rec *);
static size_t	recover_replay(struct sio_socket *, u_int64_t);
static void	recover_report(u_int64_t);
static u_int32_t recover_rd_u32(struct recover_rd *);
static const u_int8_t *recover_rd_bytes(struct recover_rd *, size_t);

static struct replay_log	recover_log;
static struct hmap		recover_kept;		/* pid -> rec */
static struct recover_rec_list	recover_recs =		/* oldest first */
				    TAILQ_HEAD_INITIALIZER(recover_recs);
static TAILQ_HEAD(, recover_ask) recover_asks =
				    TAILQ_HEAD_INITIALIZER(recover_asks);
static u_int64_t		recover_ask_next;

/* Since the last report: what went early, what came back too late. */
static u_int64_t		recover_dropped;
static u_int64_t		recover_late;
static u_int64_t		recover_reported;

/* From server_init(), after server_order_init(). */
void
server_recover_init(void)
{
	hmap_init(&recover_kept);
	replay_log_init(&recover_log, sio_conf.recovery_max_events,
	    sio_conf.recovery_max_bytes, server_order_next());
	bus_register(SIO_MSG_RECOVER, recover_recv);
	recover_reported = kore_time_ms();
}

void
sio_nsp_on_save(struct sio_nsp *n, sio_save_fn fn)
{
	n->on_save = fn;
}

/*
 * What the namespace's save callback returned for the kept socket that so
 * takes over (json null if it has none), NULL if so takes none over. For
 * the connect and connection handlers: it is gone once sio_accept()
 * returns.
 */
json_t *
sio_socket_recovered(struct sio_socket *so)
{
	if (so->recovery == NULL)
		return (NULL);

	return (so->recovery->saved);
}

/*
 * so, still connecting, takes no kept socket over after all: it connects
 * as a new session (a new id and pid, no rooms, nothing replayed), and the
 * kept socket is gone.
 */
void
sio_socket_recover_cancel(struct sio_socket *so)
{
	if (so->recovery == NULL || so->state != SOCK_CONNECTING)
		return;

	memcpy(so->id, so->recovery->fresh, sizeof(so->id));
	server_recover_end(so, NULL);
}

/*
 * A CONNECT with "pid" and "offset": take the kept socket over if this
 * worker has it, or ask the others. 1: asked, server_socket_handshake()
 * comes with their answers; 0: go on now.
 */
int
server_recover_connect(struct sio_socket *so, json_t *auth)
{
	struct recover_rec	*rec;
	json_t			*pid, *off;
	u_int64_t		offset;
	u_int16_t		bit;

	if (sio_conf.recovery_ms == 0)
		return (0);

	pid = json_object_get(auth, "pid");
	off = json_object_get(auth, "offset");
	if (!json_is_string(pid) || !json_is_string(off) ||
	    json_string_length(pid) != SIO_SID_LEN ||
	    !replay_offset_parse(json_string_value(off), &offset))
		return (0);

	if (!replay_log_covers(&recover_log, offset)) {
		recover_late++;
		if (sio_conf.debug) {
			sio_log(LOG_INFO, so->id, "sio: socket %s: offset %s "
			    "is older than the broadcasts kept, new session",
			    so->id, json_string_value(off));
		}
		return (0);
	}

	if ((rec = recover_take(json_string_value(pid),
	    so->nsp->index)) != NULL) {
		recover_attach(so, rec, offset);
		return (0);
	}

	bit = (u_int16_t)(1 << so->nsp->index);
	if (bus_worker_count() < 2 || (so->client->recover_asked & bit))
		return (0);
	so->client->recover_asked |= bit;

	recover_ask_send(so, auth, json_string_value(pid), offset);
	return (1);
}

/* so is accepted: the pid its CONNECT reply carries, new or kept. */
void
server_recover_accept(struct sio_socket *so, json_t *reply)
{
	if (sio_conf.recovery_ms == 0)
		return;

	if (so->recovery != NULL && so->recovery->rec != NULL)
		memcpy(so->pid, so->recovery->rec->pid, sizeof(so->pid));
	else
		server_socket_id_new(so->pid);
	(void)json_object_set_new(reply, "pid", json_string(so->pid));
}

/*
 * so is accepted and told so: its rooms back, then what it missed. Nothing
 * is fanned out here meanwhile; what was due is, afterwards, so included.
 */
void
server_recover_restore(struct sio_socket *so)
{
	struct recover_rec	*rec;
	u_int64_t		offset;
	size_t			n;

	if (so->recovery == NULL || (rec = so->recovery->rec) == NULL)
		return;
	so->recovery->rec = NULL;
	offset = so->recovery->offset;

	sio_defer_begin();
	recover_rooms(so, rec);
	n = recover_replay(so, offset);
	sio_defer_end();

	if (sio_conf.debug) {
		sio_log(LOG_INFO, so->id, "sio: socket %s recovered: %zu "
		    "rooms, %zu messages replayed", so->id, so->member.count, n);
	}
	free(rec);
}

/*
 * A connected socket ends, about to leave its rooms: keep it if its
 * connection was lost.
 */
void
server_recover_keep(struct sio_socket *so, const char *reason)
{
	if (sio_conf.recovery_ms == 0 || so->pid[0] == '\0' ||
	    !recover_reason(reason))
		return;

	recover_put(recover_rec_new(so));
}

/*
 * The end of so's taking over (accepted, refused, cancelled, or its
 * connection gone first: then what it was taking over is kept again).
 */
void
server_recover_end(struct sio_socket *so, const char *reason)
{
	struct server_recovery	*r;

	if ((r = so->recovery) == NULL)
		return;
	so->recovery = NULL;

	if (r->rec != NULL) {
		if (recover_reason(reason))
			recover_put(r->rec);
		else
			free(r->rec);
	}
	json_decref(r->saved);
	free(r);
}

/* The first frame of broadcast seq gets its offset (recovery on). */
void
server_recover_offset(struct sio_frame **f, u_int64_t seq)
{
	struct sbuf	b;

	if (sio_conf.recovery_ms == 0 || (*f)->binary)
		return;

	sbuf_init(&b);
	if (replay_offset_append(&b, SIO_FRAME_DATA(*f), (*f)->len, seq)) {
		frame_unref(*f);
		*f = frame_new(b.data, b.len, 0);
	}
	sbuf_free(&b);
}

/* The same for an event array about to be encoded: one more argument. */
void
server_recover_offset_args(json_t *data, u_int64_t seq)
{
	char	s[REPLAY_OFFSET_MAX + 1];

	if (sio_conf.recovery_ms == 0)
		return;

	(void)snprintf(s, sizeof(s), "%llu", (unsigned long long)seq);
	(void)json_array_append_new(data, json_string(s));
}

/* Numbered message seq was fanned out here (server_order.c). */
void
server_recover_log(u_int64_t seq, u_int8_t type, const u_int8_t *d,
    size_t len)
{
	if (sio_conf.recovery_ms > 0)
		replay_log_add(&recover_log, seq, type, d, len);
}

/* The server's timer: unanswered asks, expired kept sockets, the report. */
void
server_recover_tick(u_int64_t now)
{
	struct recover_ask	*a;
	struct recover_rec	*rec;

	while ((a = TAILQ_FIRST(&recover_asks)) != NULL && a->deadline <= now)
		recover_ask_done(a, NULL);

	while ((rec = TAILQ_FIRST(&recover_recs)) != NULL &&
	    rec->lost + sio_conf.recovery_ms <= now) {
		recover_forget(rec);
		free(rec);
	}

	if (now - recover_reported >= RECOVER_REPORT_MS)
		recover_report(now);
}

/* Once a minute at most, what the bounds cost. */
static void
recover_report(u_int64_t now)
{
	recover_reported = now;

	if (recover_dropped > 0) {
		sio_log(LOG_NOTICE, NULL, "sio: recovery: %llu lost sockets "
		    "dropped before their time (more than %zu kept on this "
		    "worker)",
		    (unsigned long long)recover_dropped,
		    sio_conf.recovery_max_sessions);
	}
	if (recover_late > 0) {
		sio_log(LOG_NOTICE, NULL, "sio: recovery: %llu clients came "
		    "back after the last %zu broadcasts kept here (at most %zu "
		    "bytes) and started new sessions",
		    (unsigned long long)recover_late,
		    sio_conf.recovery_max_events, sio_conf.recovery_max_bytes);
	}
	recover_dropped = recover_late = 0;
}

/* The reasons of a lost connection, after which a socket is kept. */
static int
recover_reason(const char *reason)
{
	return (reason != NULL && (!strcmp(reason, "transport close") ||
	    !strcmp(reason, "transport error") ||
	    !strcmp(reason, "ping timeout")));
}

/* The kept socket pid of namespace nsp, taken out; NULL if none. */
static struct recover_rec *
recover_take(const char *pid, u_int8_t nsp)
{
	struct recover_rec	*rec;

	if ((rec = hmap_get(&recover_kept, pid, SIO_SID_LEN)) == NULL ||
	    rec->nsp != nsp)
		return (NULL);

	recover_forget(rec);
	if (rec->lost + sio_conf.recovery_ms <= kore_time_ms()) {
		free(rec);
		return (NULL);
	}

	return (rec);
}

/* Keep rec, the oldest going first past the bound. */
static void
recover_put(struct recover_rec *rec)
{
	struct recover_rec	*at;

	if ((at = hmap_get(&recover_kept, rec->pid, SIO_SID_LEN)) != NULL) {
		recover_forget(at);
		free(at);
	}

	while (recover_kept.count > 0 &&
	    recover_kept.count >= sio_conf.recovery_max_sessions) {
		at = TAILQ_FIRST(&recover_recs);
		recover_forget(at);
		free(at);
		recover_dropped++;
	}
	if (sio_conf.recovery_max_sessions == 0) {
		free(rec);
		recover_dropped++;
		return;
	}

	/* In the order they were lost (one kept again may be older). */
	TAILQ_FOREACH_REVERSE(at, &recover_recs, recover_rec_list, list) {
		if (at->lost <= rec->lost)
			break;
	}
	if (at == NULL)
		TAILQ_INSERT_HEAD(&recover_recs, rec, list);
	else
		TAILQ_INSERT_AFTER(&recover_recs, at, rec, list);
	hmap_put(&recover_kept, rec->pid, SIO_SID_LEN, rec);
}

/* rec is no longer kept (the caller frees it or hands it on). */
static void
recover_forget(struct recover_rec *rec)
{
	TAILQ_REMOVE(&recover_recs, rec, list);
	(void)hmap_del(&recover_kept, rec->pid, SIO_SID_LEN);
}

/* so takes rec over: its id now, what was saved for the app. */
static void
recover_attach(struct sio_socket *so, struct recover_rec *rec,
    u_int64_t offset)
{
	struct server_recovery	*r;
	struct recover_rd	rd;
	const u_int8_t		*js;
	u_int32_t		i, n;

	r = sbuf_xcalloc(1, sizeof(*r));
	r->rec = rec;
	r->offset = offset;
	memcpy(r->fresh, so->id, sizeof(r->fresh));

	rd.p = rec->blob;
	rd.left = rec->len;
	memcpy(so->id, recover_rd_bytes(&rd, SIO_SID_LEN), SIO_SID_LEN);
	n = recover_rd_u32(&rd);
	for (i = 0; i < n; i++)
		(void)recover_rd_bytes(&rd, recover_rd_u32(&rd));
	n = recover_rd_u32(&rd);
	js = recover_rd_bytes(&rd, n);
	if (n == 0 || (r->saved = json_loadb((const char *)js, n,
	    JSON_DECODE_ANY, NULL)) == NULL)
		r->saved = json_null();

	so->recovery = r;
}

/*
 * A kept socket: its pid, namespace and time, and the blob: its id, its
 * rooms, the JSON the save callback returned (none: length 0).
 */
static struct recover_rec *
recover_rec_new(struct sio_socket *so)
{
	struct recover_rec	*rec;
	struct sbuf		b;
	json_t			*saved;
	char			*js;
	u_int32_t		u32;

	sbuf_init(&b);
	sbuf_append(&b, so->id, SIO_SID_LEN);
	u32 = (u_int32_t)so->member.count;
	sbuf_append(&b, &u32, sizeof(u32));
	rooms_member_foreach_room(&so->member, recover_rec_room, &b);

	js = NULL;
	if (so->nsp->on_save != NULL &&
	    (saved = so->nsp->on_save(so)) != NULL) {
		js = json_dumps(saved, JSON_COMPACT | JSON_ENCODE_ANY);
		json_decref(saved);
	}
	u32 = js != NULL ? (u_int32_t)strlen(js) : 0;
	sbuf_append(&b, &u32, sizeof(u32));
	if (js != NULL)
		sbuf_append(&b, js, u32);
	free(js);

	rec = sbuf_xmalloc(sizeof(*rec) + b.len);
	memcpy(rec->pid, so->pid, sizeof(rec->pid));
	rec->nsp = so->nsp->index;
	rec->lost = kore_time_ms();
	rec->len = b.len;
	memcpy(rec->blob, b.data, b.len);
	sbuf_free(&b);

	return (rec);
}

static void
recover_rec_room(const char *room, void *arg)
{
	struct sbuf	*b = arg;
	u_int32_t	len;

	len = (u_int32_t)strlen(room);
	sbuf_append(b, &len, sizeof(len));
	sbuf_append(b, room, len);
}

/* so joins the rooms its kept socket was in. */
static void
recover_rooms(struct sio_socket *so, struct recover_rec *rec)
{
	struct recover_rd	rd;
	const u_int8_t		*p;
	char			*room;
	u_int32_t		i, n, len;

	rd.p = rec->blob;
	rd.left = rec->len;
	(void)recover_rd_bytes(&rd, SIO_SID_LEN);
	n = recover_rd_u32(&rd);
	for (i = 0; i < n; i++) {
		len = recover_rd_u32(&rd);
		p = recover_rd_bytes(&rd, len);
		room = sbuf_xstrndup((const char *)p, len);
		(void)sio_join(so, room);
		free(room);
	}
}

/* Every logged message above offset, for so alone. */
static size_t
recover_replay(struct sio_socket *so, u_int64_t offset)
{
	const struct replay_entry	*e;
	size_t				n;

	n = 0;
	TAILQ_FOREACH(e, &recover_log.entries, list) {
		if (so->state != SOCK_CONNECTED)
			break;
		if (e->seq <= offset)
			continue;
		server_order_fanout(e->seq, e->type, e->data, e->len, so);
		n++;
	}

	return (n);
}

/* Ask every other worker for kept socket pid; so waits, referenced. */
static void
recover_ask_send(struct sio_socket *so, json_t *auth, const char *pid,
    u_int64_t offset)
{
	struct recover_ask	*a;
	struct recover_msg	m;

	a = sbuf_xcalloc(1, sizeof(*a));
	a->id = ++recover_ask_next;
	a->so = so;
	sio_socket_ref(so);
	a->auth = json_incref(auth);
	a->offset = offset;
	a->left = bus_worker_count() - 1;
	a->deadline = kore_time_ms() + RECOVER_ASK_MS;
	TAILQ_INSERT_TAIL(&recover_asks, a, list);

	memset(&m, 0, sizeof(m));
	m.id = a->id;
	m.kind = RECOVER_ASK;
	m.nsp = so->nsp->index;
	memcpy(m.pid, pid, SIO_SID_LEN);
	bus_send_others(SIO_MSG_RECOVER, &m, sizeof(m));
}

/*
 * The answer to an ask: rec, or none from anyone (or not in time). The
 * socket goes on to its connect handler, if it is still there; if it is
 * not, what it was taking over is kept here.
 */
static void
recover_ask_done(struct recover_ask *a, struct recover_rec *rec)
{
	struct sio_socket	*so = a->so;

	TAILQ_REMOVE(&recover_asks, a, list);

	if (so->state == SOCK_CONNECTING) {
		if (rec != NULL && !replay_log_covers(&recover_log, a->offset)) {
			recover_late++;
			free(rec);
			rec = NULL;
		}
		if (rec != NULL)
			recover_attach(so, rec, a->offset);
		server_socket_handshake(so, a->auth);
	} else if (rec != NULL) {
		recover_put(rec);
	}

	json_decref(a->auth);
	sio_socket_unref(so);
	free(a);
}

static void
recover_recv(u_int16_t src, const u_int8_t *d, size_t len)
{
	struct recover_msg	m;
	struct recover_ask	*a;
	struct recover_rec	*rec;
	char			pid[SIO_SID_LEN + 1];

	if (len < sizeof(m))
		fatal("sio: short recovery message");
	memcpy(&m, d, sizeof(m));
	memcpy(pid, m.pid, SIO_SID_LEN);
	pid[SIO_SID_LEN] = '\0';

	if (m.kind == RECOVER_ASK) {
		rec = recover_take(pid, m.nsp);
		m.kind = RECOVER_REPLY;
		m.found = rec != NULL;
		m.lost = rec != NULL ? rec->lost : 0;
		bus_send(src, SIO_MSG_RECOVER, &m, sizeof(m),
		    rec != NULL ? rec->blob : NULL, rec != NULL ? rec->len : 0,
		    NULL, 0);
		free(rec);
		return;
	}

	TAILQ_FOREACH(a, &recover_asks, list) {
		if (a->id == m.id)
			break;
	}

	rec = NULL;
	if (m.found) {
		rec = sbuf_xmalloc(sizeof(*rec) + len - sizeof(m));
		memcpy(rec->pid, pid, sizeof(rec->pid));
		rec->nsp = m.nsp;
		rec->lost = m.lost;
		rec->len = len - sizeof(m);
		memcpy(rec->blob, d + sizeof(m), rec->len);
	}

	/* Too late: the client went on as a new session. */
	if (a == NULL) {
		free(rec);
		return;
	}

	if (rec != NULL || --a->left == 0)
		recover_ask_done(a, rec);
}

static u_int32_t
recover_rd_u32(struct recover_rd *rd)
{
	u_int32_t	v;

	memcpy(&v, recover_rd_bytes(rd, sizeof(v)), sizeof(v));
	return (v);
}

static const u_int8_t *
recover_rd_bytes(struct recover_rd *rd, size_t len)
{
	const u_int8_t	*p;

	if (len > rd->left)
		fatal("sio: bad kept socket");
	p = rd->p;
	rd->p += len;
	rd->left -= len;

	return (p);
}
