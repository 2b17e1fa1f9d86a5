/*
 * Cluster mode: korio joins a Socket.IO cluster of @socket.io/redis-adapter
 * 8.x (classic createAdapter) nodes and @socket.io/redis-emitter 5.x
 * emitters as an equal (shared/docs/redis-adapter.md). On when the
 * application sets sio_config.redis_url.
 *
 * What crosses nodes:
 *   - every sio_broadcast() of any worker: PUBLISHed once, by the worker
 *     that made it, as [uid, {type:2, data, nsp}, {rooms, except, flags}]
 *     msgpack on <prefix>#<nsp># (or #<nsp>#<room># for exactly one
 *     room); its echo comes back to the subscriber and is dropped by uid;
 *   - sio_sockets_leave(): a type 3 request (applied here at once, the
 *     echo dropped by uid);
 *   - what other nodes and emitters publish: broadcasts into every
 *     worker's broadcast path, in the order of server_order.c, once
 *     (cluster_recv.c); requests answered for the whole process
 *     (cluster_answer.c).
 *   - sio_broadcast_filter(): to korio nodes only, on a channel of their
 *     own, <prefix>-korio#<nsp># (a filter runs per socket on the node
 *     that owns it; Node nodes have no such thing).
 * What does not: sio_broadcast_local() (state each node keeps itself),
 * emits to one socket of this node. Presence crosses nodes through
 * sio_cluster_presence_set() and its own keys (cluster_presence.c).
 *
 * The uid of each namespace (uid2(6) style, as the adapter's) is drawn
 * once in the parent, so that every worker, and a restarted one, shares
 * it: broadcasts published by any worker come back with the uid the
 * subscriber drops.
 *
 * In cluster mode every socket is in the room of its own id, as in
 * Socket.IO: io.to(socketId) and a RemoteSocket's emit from another node
 * reach it.
 */

#include <sys/types.h>
#include <sys/random.h>

#include <kore/kore.h>

#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "cluster_codec.h"
#include "server/server.h"
#include "engine/engine.h"

#define CLUSTER_BAD_LOG_MS	10000

static void	cluster_start(void *, u_int64_t);

int			 cluster_on = 0;

static char		 cluster_uids[SIO_NSP_MAX][CLUSTER_UID_LEN + 1];
static u_int64_t	 cluster_bad_logged;
static u_int64_t	 cluster_bad_since;

/* In the parent: the uids every worker will share. */
void
cluster_parent_init(void)
{
	size_t		i;

	for (i = 0; i < SIO_NSP_MAX; i++)
		cluster_random_chars(cluster_uids[i], CLUSTER_UID_LEN);
	cluster_presence_parent_init();
	cluster_relay_parent_init();
}

/* n random chars of [A-Za-z0-9_-] into s (start-up: fatal on failure). */
void
cluster_random_chars(char *s, size_t n)
{
	static const char	chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	u_int8_t		rnd[16];
	size_t			i;

	if (n > sizeof(rnd))
		fatal("sio: %zu random chars asked for", n);
	if (getrandom(rnd, n, 0) != (ssize_t)n)
		fatal("sio: getrandom: %s", errno_s);
	for (i = 0; i < n; i++)
		s[i] = chars[rnd[i] & 63];
}

/*
 * From sio_init(), in each worker: connect once the application has made
 * its namespaces (the subscriber subscribes for each).
 */
void
cluster_init(void)
{
	if (!sio_cluster_url_valid(sio_conf.redis_url))
		fatal("sio: bad redis_url");
	cluster_on = 1;
	/* A restarted owner starts from "down", whatever its forebear said. */
	if (cluster_owner())
		SIO_STAT_SET(redis_connected, 0);
	cluster_answer_init();
	cluster_relay_init();
	(void)kore_timer_add(cluster_start, 1, NULL, KORE_TIMER_ONESHOT);
}

static void
cluster_start(void *arg, u_int64_t now)
{
	(void)arg;
	(void)now;
	credis_init(sio_conf.redis_url, cluster_owner());
}

int
sio_cluster_url_valid(const char *url)
{
	char	*host, *user, *pass;
	int	 port, db;

	if (url == NULL || !cluster_url_parse(url, &host, &port, &user, &pass,
	    &db))
		return (0);
	free(host);
	free(user);
	if (pass != NULL) {
		explicit_bzero(pass, strlen(pass));
		free(pass);
	}
	return (1);
}

const char *
cluster_uid(const struct sio_nsp *n)
{
	return (cluster_uids[n->index]);
}

const char *
cluster_prefix(void)
{
	return (sio_conf.redis_prefix);
}

/* Whether this worker holds the process's subscriber. */
int
cluster_owner(void)
{
	return (worker->id == CLUSTER_OWNER);
}

/*
 * <prefix><kind>#<nsp>#[<room>#] into b, NUL-terminated (not counted in
 * b->len): kind "" (broadcasts), "-request" or "-response".
 */
void
cluster_channel(struct sbuf *b, const char *kind, const struct sio_nsp *n,
    const char *room)
{
	sbuf_append_str(b, sio_conf.redis_prefix);
	sbuf_append_str(b, kind);
	sbuf_append_byte(b, '#');
	sbuf_append_str(b, n->name);
	sbuf_append_byte(b, '#');
	if (room != NULL) {
		sbuf_append_str(b, room);
		sbuf_append_byte(b, '#');
	}
	(void)sbuf_cstr(b);
}

/*
 * A broadcast made on this worker (sio_broadcast(), its frames before
 * recovery's offset): to the other nodes, once.
 */
void
cluster_publish_broadcast(struct sio_nsp *n, const char *const *rooms,
    size_t nrooms, const char *const *except, size_t nexcept,
    struct sio_frame **frames, size_t nf)
{
	struct cc_bcast	 bc;
	struct cc_bin	 att[SIO_FRAMES_MAX];
	struct sbuf	 b, chan;
	size_t		 i;

	/* frames[0] is "4" and the Socket.IO packet; then attachments. */
	cc_bcast_init(&bc);
	bc.uid = cluster_uid(n);
	bc.nsp = n->name;
	bc.packet = SIO_FRAME_DATA(frames[0]) + 1;
	bc.packet_len = frames[0]->len - 1;
	for (i = 1; i < nf; i++) {
		att[i - 1].data = SIO_FRAME_DATA(frames[i]);
		att[i - 1].len = frames[i]->len;
	}
	bc.att = att;
	bc.natt = nf - 1;
	bc.rooms = rooms;
	bc.nrooms = nrooms;
	bc.except = except;
	bc.nexcept = nexcept;
	bc.flags.compress = -1;
	bc.flags.timeout = -1;

	sbuf_init(&b);
	if (cc_bcast_encode(&b, &bc) != 0) {
		/* Never publish what might not be valid: Node would crash. */
		sbuf_free(&b);
		cc_bcast_free(&bc);
		cluster_bad("broadcast", "not encodable");
		return;
	}
	sbuf_init(&chan);
	cluster_channel(&chan, "", n, nrooms == 1 ? rooms[0] : NULL);
	credis_publish((const char *)chan.data, chan.len, b.data, b.len);
	sbuf_free(&chan);
	sbuf_free(&b);
	cc_bcast_free(&bc);
}

/*
 * sio_broadcast_filter(): korio nodes only, on <prefix>-korio#<nsp>#: the
 * uid, then the message as the bus carries it after its head (a filter
 * runs per socket on the node that owns it; Node nodes have none).
 */
void
cluster_publish_filtered(struct sio_nsp *n, const u_int8_t *d, size_t len)
{
	struct sbuf	 b, chan;

	sbuf_init(&b);
	sbuf_append(&b, cluster_uid(n), CLUSTER_UID_LEN);
	sbuf_append(&b, d, len);
	sbuf_init(&chan);
	cluster_channel(&chan, "-korio", n, NULL);
	credis_publish((const char *)chan.data, chan.len, b.data, b.len);
	sbuf_free(&chan);
	sbuf_free(&b);
}

/* sio_sockets_leave(): a socketsLeave request, type 3. */
void
cluster_publish_leave(struct sio_nsp *n, const char *in, const char *room)
{
	struct sbuf	 chan;
	json_t		*req;
	char		*text;

	req = json_pack("{s:s,s:i,s:{s:[s],s:[]},s:[s]}", "uid",
	    cluster_uid(n), "type", 3, "opts", "rooms", in, "except",
	    "rooms", room);
	if (req == NULL)
		return;
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (text == NULL)
		return;
	sbuf_init(&chan);
	cluster_channel(&chan, "-request", n, NULL);
	credis_publish((const char *)chan.data, chan.len, text, strlen(text));
	sbuf_free(&chan);
	free(text);
}

/* A socket is connected: it is in the room of its own id. */
void
cluster_socket_accepted(struct sio_socket *so)
{
	(void)sio_join(so, so->id);
}

/*
 * Something malformed from Redis (or not encodable for it) is dropped,
 * counted, and logged at most once every CLUSTER_BAD_LOG_MS.
 */
void
cluster_bad(const char *what, const char *why)
{
	u_int64_t	now;

	SIO_STAT_ADD(redis_bad, 1);
	cluster_bad_since++;
	now = kore_time_ms();
	if (cluster_bad_logged != 0 &&
	    now - cluster_bad_logged < CLUSTER_BAD_LOG_MS)
		return;
	kore_log(LOG_WARNING, "redis: dropped a %s (%s); %llu dropped since "
	    "the last such line", what, why,
	    (unsigned long long)cluster_bad_since);
	cluster_bad_logged = now;
	cluster_bad_since = 0;
}
