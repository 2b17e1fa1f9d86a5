/*
 * Socket.IO for Kore: the plugin's application API.
 *
 * An application (korio's app part, or the conformance fixture) calls
 * sio_parent_init() from kore_parent_configure() and sio_init() from
 * kore_worker_configure() in every worker, routes the
 * Engine.IO path to eio_http in its kore.conf, declares namespaces with
 * sio_nsp_create(), and registers handlers. Everything here runs on the
 * worker that owns the Engine.IO session, whatever worker the HTTP or
 * WebSocket connections of that session landed on: see engine/engine.c.
 * sio.c says how the plugin's layers fit together.
 *
 * Prototypes are grouped by the file that defines them.
 */

#ifndef SIO_SIO_H
#define SIO_SIO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct http_request;
struct connection;
struct eio_session;
struct sio_socket;
struct sio_nsp;

/* Message ids this plugin takes from Kore's application range. */
#define SIO_MSG_BASE		200
#define SIO_MSG_COUNT		20
/* Applications may use ids from here up to 255 (sio_bus_register()). */
#define SIO_MSG_APP_FIRST	(SIO_MSG_BASE + SIO_MSG_COUNT)
/* sio_bus_send() to every worker, the sending one included. */
#define SIO_BUS_ALL		1001	/* KORE_MSG_WORKER_ALL */
/* Namespaces an application may create (sio_nsp_create()). */
#define SIO_NSP_MAX		16

struct sio_config {
	const char	*path;			/* "/socket.io/" */
	uint32_t	ping_interval;		/* ms */
	uint32_t	ping_timeout;		/* ms */
	uint32_t	connect_timeout;	/* ms */
	uint32_t	upgrade_timeout;	/* ms */
	size_t		max_payload;		/* bytes */
	size_t		max_buffer;		/* bytes queued per session */
	size_t		max_poll_packets;	/* per polling response, 0: any */
	size_t		max_attachment_bytes;
	const char	*cors_origin;
	int		debug;			/* log handshakes, closes */
	/*
	 * The plugin's log lines about one Engine.IO session or Socket.IO
	 * socket, with its id (sid, NULL for none): NULL logs them with
	 * kore_log() (msg as it is), else the application does.
	 */
	void		(*log)(int prio, const char *sid, const char *msg);
	int		keep_handshake;		/* sio_socket_handshake() */
	/*
	 * Connection-state recovery (server/server_recover.c): how long a
	 * socket lost with its connection is kept (0: off, the default:
	 * no "pid" in CONNECT replies, no offsets on broadcasts), and the
	 * bounds, per worker, of the broadcasts kept for replay and of
	 * the sockets kept.
	 */
	uint32_t	recovery_ms;
	size_t		recovery_max_events;
	size_t		recovery_max_bytes;
	size_t		recovery_max_sessions;
	/*
	 * Cluster mode (cluster/): Socket.IO's Redis adapter (classic
	 * createAdapter of @socket.io/redis-adapter 8, and its emitter),
	 * on when redis_url is set: redis://[[user]:password@]host[:port]
	 * [/db]. redis_prefix is the adapter's "key" ("socket.io").
	 * What waits to be published, per worker, is bounded by
	 * redis_queue_max messages and redis_queue_bytes bytes.
	 */
	const char	*redis_url;
	const char	*redis_prefix;
	size_t		redis_queue_max;
	size_t		redis_queue_bytes;
};

/* Callbacks of a raw Engine.IO endpoint (no Socket.IO layer). */
struct eio_handlers {
	void	(*open)(struct eio_session *);
	void	(*message)(struct eio_session *, const uint8_t *, size_t,
		    int);
	void	(*close)(struct eio_session *, const char *);
	void	(*upgrade)(struct eio_session *);	/* now on WebSocket */
};

/*
 * Message packets and their payload bytes through this worker's sessions
 * since the last eio_stats_take() (pings, pongs and noops carry no data
 * and are not counted, as engine.io's "packet" events with data).
 */
struct eio_stats {
	uint64_t	packets_in;
	uint64_t	packets_out;
	uint64_t	bytes_in;
	uint64_t	bytes_out;
};

/* One binary attachment: len bytes at data. */
#ifndef SIO_ATTACHMENT_DEFINED
#define SIO_ATTACHMENT_DEFINED
struct sio_attachment {
	uint8_t		*data;
	size_t		 len;
};
#endif

/*
 * The data a handler sees for one EVENT (or ACK) from a client. args is the
 * JSON array of arguments after the event name; binary arguments are
 * placeholders {"_placeholder":true,"num":k} whose bytes are att[k].
 * ack_id is -1 when the client did not ask for an acknowledgement.
 */
struct sio_event {
	const char			*name;
	json_t				*args;
	const struct sio_attachment	*att;
	size_t				natt;
	int64_t				ack_id;
};

typedef void	(*sio_connect_fn)(struct sio_socket *, json_t *);
typedef void	(*sio_socket_fn)(struct sio_socket *);
typedef void	(*sio_event_fn)(struct sio_socket *, const struct sio_event *);
typedef void	(*sio_disconnect_fn)(struct sio_socket *, const char *);
typedef void	(*sio_ack_fn)(struct sio_socket *, json_t *, void *);
/*
 * A filter of sio_broadcast_filter(), run for each socket of its rooms
 * on the worker that owns the socket: the arguments to send it (a new
 * reference to an array), or NULL to send it nothing. change is the
 * broadcast's JSON, decoded once per worker; the filter may keep what it
 * builds in it, and returning the same array for several sockets encodes
 * the packet once for all of them.
 */
typedef json_t	*(*sio_filter_fn)(struct sio_socket *, json_t *);
/* What to keep of a socket lost with its connection (a new reference). */
typedef json_t	*(*sio_save_fn)(struct sio_socket *);
/* A bus message from worker src (sio_bus_register()). */
typedef void	(*sio_bus_fn)(uint16_t, const uint8_t *, size_t);

/*
 * What the plugin counts on one worker, for an application's metrics
 * (sio_stats_attach()). The plugin writes it from the worker's own thread
 * with relaxed atomic operations, so it may live in memory that other
 * processes read while it changes. Gauges are this worker's present
 * values; counters only grow.
 */
struct sio_stats {
	/* Gauges. */
	uint64_t	sessions_polling;	/* open sessions owned here, */
	uint64_t	sessions_websocket;	/* by their transport now */
	uint64_t	relayed_websockets;	/* here, of another's session */
	uint64_t	rooms;			/* with members here, all nsps */
	/* Counters. */
	uint64_t	relayed_requests;	/* polls, upgrades to the owner */
	uint64_t	events_received;	/* EVENTs to a connected socket */
	uint64_t	events_sent;		/* EVENTs, once per recipient */
	uint64_t	broadcasts;		/* made here (not _local) */
	/* Cluster mode: 1 on the worker holding the subscriber while */
	uint64_t	redis_connected;	/* all its Redis links are up */
	uint64_t	redis_published;	/* PUBLISHes sent */
	uint64_t	redis_received;		/* messages from Redis */
	uint64_t	redis_dropped;		/* past REDIS_QUEUE_* */
	uint64_t	redis_bad;		/* malformed, dropped */
	uint64_t	remote_relayed;		/* relay messages to nodes */
};

/*
 * A broadcast's fan-out on this worker is done: nanoseconds since it was
 * made, on whichever worker made it (CLOCK_MONOTONIC).
 */
typedef void	(*sio_fanout_fn)(uint64_t);

/*
 * An observer of the server, for an admin or metrics module
 * (sio_monitor_set()): what happens to every socket of every namespace,
 * on the worker that owns it, as it happens. Any member may be NULL.
 * connected runs once the CONNECT reply is queued, before the
 * namespace's own connection handler; disconnected runs while the socket
 * still has its rooms, then left for each of them. event_in runs before
 * the handler of an event from a client, event_out for an event emitted
 * to one socket (sio_emit*(): [name, args...], borrowed; broadcasts are
 * not seen, as socket.io's onAnyOutgoing). session_opened and
 * session_closed follow the Engine.IO sessions of the Socket.IO
 * endpoint, upgraded each socket whose session moved to a WebSocket.
 * The observer may emit, join and leave; it must not end the socket it
 * is called for.
 */
struct sio_monitor {
	void	(*connected)(struct sio_socket *);
	void	(*disconnected)(struct sio_socket *, const char *);
	void	(*joined)(struct sio_socket *, const char *);
	void	(*left)(struct sio_socket *, const char *);
	void	(*event_in)(struct sio_socket *, const struct sio_event *);
	void	(*event_out)(struct sio_socket *, json_t *);
	void	(*upgraded)(struct sio_socket *);
	void	(*session_opened)(struct eio_session *);
	void	(*session_closed)(struct eio_session *, const char *);
};

/* sio.c */
void		 sio_parent_init(void);
void		 sio_init(const struct sio_config *);
void		 sio_config_defaults(struct sio_config *);

/* stats.c: the plugin's counts, for an application's metrics */
void		 sio_stats_attach(struct sio_stats *, sio_fanout_fn);

/* bus.c: messages between the workers, duplicates dropped */
void		 sio_bus_register(uint8_t, sio_bus_fn);
void		 sio_bus_send(uint16_t, uint8_t, const void *, size_t);
uint16_t	 sio_worker_count(void);

/* engine/engine.c, engine/engine_http.c (eio_http) */
int		 eio_http(struct http_request *);
void		 eio_endpoint_create(const char *, const struct eio_handlers *);
void		 eio_send(struct eio_session *, const void *, size_t, int);
void		 eio_close(struct eio_session *, const char *);
const char	*eio_session_id(struct eio_session *);
void		*eio_session_udata(struct eio_session *);
void		 eio_session_set_udata(struct eio_session *, void *);
uint16_t	 eio_worker_id(void);
size_t		 eio_session_count(void);
size_t		 eio_session_count_all(void);
const char	*eio_session_transport(struct eio_session *);
json_t		*eio_session_handshake(struct eio_session *);
size_t		 eio_polling_count(void);
void		 eio_stats_take(struct eio_stats *);

/*
 * engine/engine_drain.c: a server about to stop. sio_drain(seconds), on
 * any worker, drains every worker: no new Engine.IO session (a handshake
 * gets 503 and its connection closes), and the open ones closed spread
 * evenly over seconds (0: all at once) by closing their transport, never
 * with a Socket.IO DISCONNECT, so clients reconnect by themselves, to the
 * next server. sio_drained(): this worker has no session left.
 */
void		 sio_drain(uint32_t);
int		 sio_drained(void);

/* server/server.c, server/server_socket.c, server/server_emit.c */
struct sio_nsp	*sio_nsp_create(const char *);
struct sio_nsp	*sio_nsp_lookup(const char *);
void		 sio_nsp_on_connect(struct sio_nsp *, sio_connect_fn);
void		 sio_nsp_on_connection(struct sio_nsp *, sio_socket_fn);
void		 sio_nsp_on_disconnect(struct sio_nsp *, sio_disconnect_fn);
void		 sio_nsp_on(struct sio_nsp *, const char *, sio_event_fn);
void		 sio_nsp_on_unknown(struct sio_nsp *, sio_event_fn);

void		 sio_accept(struct sio_socket *);
void		 sio_reject(struct sio_socket *, const char *, json_t *);
void		 sio_disconnect(struct sio_socket *);

const char	*sio_socket_id(struct sio_socket *);
const char	*sio_socket_sid(struct sio_socket *);
void		 sio_socket_close_session(struct sio_socket *, const char *);
struct sio_nsp	*sio_socket_nsp(struct sio_socket *);
int		 sio_socket_connected(struct sio_socket *);
void		*sio_socket_udata(struct sio_socket *);
void		 sio_socket_set_udata(struct sio_socket *, void *);
void		 sio_socket_ref(struct sio_socket *);
void		 sio_socket_unref(struct sio_socket *);

int		 sio_emit(struct sio_socket *, const char *, json_t *);
int		 sio_emit_bin(struct sio_socket *, const char *, json_t *,
		    const struct sio_attachment *, size_t);
int		 sio_emit_ack(struct sio_socket *, const char *, json_t *,
		    sio_ack_fn, void *);
void		 sio_ack(struct sio_socket *, int64_t, json_t *);
void		 sio_ack_bin(struct sio_socket *, int64_t, json_t *,
		    const struct sio_attachment *, size_t);

int		 sio_join(struct sio_socket *, const char *);
int		 sio_leave(struct sio_socket *, const char *);
int		 sio_in_room(struct sio_socket *, const char *);
void		 sio_broadcast(struct sio_nsp *, const char *const *, size_t,
		    const char *const *, size_t, const char *, json_t *);
void		 sio_broadcast_local(struct sio_nsp *, const char *const *,
		    size_t, const char *, json_t *);
void		 sio_sockets_leave(struct sio_nsp *, const char *, const char *);

/* server/server_filter.c: broadcasts whose recipients a filter picks */
#define SIO_FILTER_MAX		8
void		 sio_filter_register(uint8_t, sio_filter_fn);
void		 sio_broadcast_filter(struct sio_nsp *, const char *const *,
		    size_t, const char *, uint8_t, json_t *);

/* server/server.c */
size_t		 sio_nsp_local_count(struct sio_nsp *);
void		 sio_nsp_foreach(struct sio_nsp *, void (*)(struct sio_socket *,
		    void *), void *);

/* server/server_monitor.c: what an observer of the server sees */
void		 sio_monitor_set(const struct sio_monitor *);
size_t		 sio_nsp_list(struct sio_nsp **, size_t);
const char	*sio_nsp_name(struct sio_nsp *);
void		 sio_socket_rooms(struct sio_socket *,
		    void (*)(const char *, void *), void *);
const char	*sio_socket_transport(struct sio_socket *);
json_t		*sio_socket_handshake(struct sio_socket *);
void		 sio_disconnect_close(struct sio_socket *);

/*
 * cluster/: cluster mode. A server-side event (another node's
 * serverSideEmit(event, ...args), or serverSideEmitWithAck) runs its
 * function once per process, with the arguments (borrowed); what it
 * returns (a new reference, or NULL for nothing) is the ack's argument.
 */
typedef json_t	*(*sio_cluster_fn)(struct sio_nsp *, json_t *);

void		 sio_cluster_on(struct sio_nsp *, const char *,
		    sio_cluster_fn);
int		 sio_cluster_url_valid(const char *);

/*
 * Cluster mode, for an application's own use of Redis (presence, say).
 * sio_cluster_command() sends a command (binary-safe arguments) on this
 * worker's publisher connection: fn gets the reply as JSON (an integer,
 * a string, an array, null; an error reply as {"error":"..."}; borrowed),
 * or NULL if the connection ended first. It returns 0, and fn is never
 * called, when cluster mode is off or Redis is down now.
 * sio_cluster_subscribe() subscribes channel on the process's one
 * subscriber, held by worker 1: fn runs there (and only there) for each
 * message; the application relays to other workers if they need it.
 * Call it in every worker at start; it is kept across reconnects.
 * sio_cluster_up(): whether this worker's Redis connections are up.
 */
typedef void	(*sio_cluster_reply_fn)(json_t *, void *);
typedef void	(*sio_cluster_msg_fn)(const uint8_t *, size_t);

int		 sio_cluster_command(int, const char **, const size_t *,
		    sio_cluster_reply_fn, void *);
void		 sio_cluster_subscribe(const char *, sio_cluster_msg_fn);
int		 sio_cluster_up(void);

/*
 * cluster/cluster_presence.c: presence across the cluster (korio's
 * convention, shared/docs/redis-adapter.md section 10). The plugin knows
 * no users, only ids. sio_cluster_presence_set() says that id is present
 * in this process (present 1: its first socket, on any worker) or no
 * longer (0: its last one gone); the application makes the same calls on
 * every worker (the plugin acts on one, the worker holding the Redis
 * connections, and ignores the others'); repeating a state changes
 * nothing. The function of sio_cluster_presence_watch() (called on every
 * worker after sio_init()) gets, on each worker, the ids present anywhere
 * in the cluster, sorted (strcmp), borrowed for the call, whenever they
 * change, a worker that starts once at once. Both do nothing outside
 * cluster mode. sio_cluster_node_id() is this process's node id (16 hex
 * digits, stable for the process).
 */
typedef void	(*sio_cluster_presence_fn)(const char *const *, size_t);

void		 sio_cluster_presence_watch(sio_cluster_presence_fn);
void		 sio_cluster_presence_set(const char *, int);
const char	*sio_cluster_node_id(void);

/* server/server_order.c */
void		 sio_defer_begin(void);
void		 sio_defer_end(void);

/*
 * server/server_recover.c: connection-state recovery (recovery_ms > 0).
 * The save callback runs as a socket lost with its connection ends,
 * before the disconnect handler; what it returns is kept with the socket.
 * A CONNECT that takes a kept socket over runs the connect handler as any
 * other: sio_socket_recovered() is what was saved (json null without a
 * save callback; NULL when nothing is taken over), until sio_accept()
 * returns; sio_socket_recover_cancel() makes it a new session instead.
 * sio_accept() gives the rooms back and replays what the socket missed
 * right after the CONNECT reply, before the connection handler.
 */
void		 sio_nsp_on_save(struct sio_nsp *, sio_save_fn);
json_t		*sio_socket_recovered(struct sio_socket *);
void		 sio_socket_recover_cancel(struct sio_socket *);

#endif
