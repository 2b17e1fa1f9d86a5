/*
 * Cluster-wide presence (shared/docs/redis-adapter.md section 10, the
 * convention every node of a korio cluster speaks, bench/peer/presence.js
 * its Node side). The plugin knows no users: the application tells it
 * which ids are present in this process (sio_cluster_presence_set()) and
 * is told the union over the cluster (the function of
 * sio_cluster_presence_watch()), sorted, whenever it changes.
 *
 * Keys, with P = <REDIS_PREFIX>-presence ("socket.io-presence" by
 * default) and N = this process's node id (16 random hex digits, drawn in
 * the parent so that a restarted worker keeps it):
 *   P#N#        hash: "alive" -> the last heartbeat (ms since the epoch),
 *               <id> -> "1" for each id present here (the process knows
 *               that an id is present, not how many sockets its workers
 *               hold; readers use the field names only). Expires
 *               CPRES_TTL_MS after the last heartbeat.
 *   P#nodes     set: every node id that may have a hash.
 *   P#changed   channel: a node's id, after its ids changed.
 *
 * Everything runs on the owner worker (CLUSTER_OWNER), on the Redis
 * connections of cluster_redis.c: commands on its publisher (MULTI/EXEC
 * blocks, whose replies come back to a callback: never blocking),
 * P#changed on its subscriber. The other workers ignore their calls of
 * sio_cluster_presence_set() (the application makes the same calls on
 * every worker) and get the union over the bus (SIO_MSG_CLUSTER_PRESENCE);
 * a worker that starts asks the owner for it.
 *
 *   heartbeat, every CPRES_HEARTBEAT_MS and when the publisher is up
 *     again: MULTI SADD P#nodes N, HSET P#N# alive <now>, PEXPIRE, EXEC.
 *     If the HSET made "alive" anew (the hash was lost: Redis restarted,
 *     or the node stalled past the TTL), or a change could not be
 *     written, the whole hash again (MULTI SADD, DEL, HSET alive and every
 *     id, PEXPIRE, EXEC), then PUBLISH P#changed N.
 *   a change: MULTI SADD, HSET P#N# <id> 1 (or HDEL), PEXPIRE, EXEC,
 *     PUBLISH P#changed N.
 *   the union: this process's ids (from memory) and the fields but
 *     "alive" of every other member of P#nodes (SMEMBERS, then HKEYS
 *     each); a member whose hash is gone is SREMed. Recomputed on each
 *     message on P#changed from another node, after own changes and every
 *     CPRES_RECOMPUTE_MS; for CPRES_GRACE_MS after Redis came back it only
 *     grows (the other nodes write their hashes again within a heartbeat:
 *     their ids must not flicker out and back meanwhile).
 *   announcing: when the union differs from what the workers got last,
 *     to every worker, CPRES_RELAY_MS later (a burst of changes is one
 *     message); the application coalesces further (presence.c: at most 4
 *     updates a second).
 *
 * Redis down: commands are not sent (nothing queues: the heartbeat writes
 * the whole hash again when Redis is back), the union keeps this
 * process's ids current and the other nodes' as last read.
 */

#include <sys/types.h>
#include <sys/random.h>

#include <kore/kore.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"
#include "cluster_ids.h"
#include "bus.h"

#define CPRES_HEARTBEAT_MS	2000
#define CPRES_TTL_MS		8000
#define CPRES_RECOMPUTE_MS	1000
#define CPRES_GRACE_MS		(CPRES_HEARTBEAT_MS + 1000)
#define CPRES_RELAY_MS		50

/* SIO_MSG_CLUSTER_PRESENCE: a worker asks, the owner tells (ids, NULs). */
#define CPRES_ASK		1
#define CPRES_LIST		2

/* One recomputation of the union: the replies it waits for. */
struct cpres_calc {
	size_t			pending;
	int			failed;
	struct cluster_ids	ids;		/* unsorted until the end */
	struct cluster_ids	dead;
};

/* An HKEYS of one member of the node set. */
#define CPRES_NODE_MAX		64
struct cpres_ask {
	struct cpres_calc	*calc;
	char			node[CPRES_NODE_MAX + 1];
};

static void	cpres_recv(u_int16_t, const u_int8_t *, size_t);
static void	cpres_heartbeat(void *, u_int64_t);
static void	cpres_tick(void *, u_int64_t);
static int	cpres_multi(int, const char **, int, credis_reply_fn);
static void	cpres_publish_changed(void);
static void	cpres_beat(void);
static void	cpres_beat_reply(redisAsyncContext *, void *, void *);
static void	cpres_write_reply(redisAsyncContext *, void *, void *);
static void	cpres_rewrite(void);
static void	cpres_recompute(void);
static void	cpres_members_reply(redisAsyncContext *, void *, void *);
static void	cpres_fields_reply(redisAsyncContext *, void *, void *);
static void	cpres_calc_done(struct cpres_calc *);
static void	cpres_announce(void);
static void	cpres_relay(void *, u_int64_t);
static void	cpres_send(u_int16_t);
static void	cpres_union(struct cluster_ids *);
static void	cpres_now(char *, size_t);
static void	cpres_key(struct sbuf *, const char *);
static void	cpres_nodes(struct sbuf *);

static char			cpres_node[17];
static int			cpres_on;	/* watched, cluster on */
static sio_cluster_presence_fn	cpres_fn;

/* The owner's state. */
static struct cluster_ids	cpres_local;	/* this process's ids */
static struct cluster_ids	cpres_remote;	/* the other nodes', last read */
static struct cluster_ids	cpres_sent;	/* the union the workers have */
static int		cpres_sent_ever;
static int		cpres_dirty;	/* a change did not reach Redis */
static int		cpres_computing;
static int		cpres_again;
static int		cpres_relaying;
static u_int64_t	cpres_grace_until;
static int		cpres_ready_ever;

/* In the parent: the node id every worker shares. */
void
cluster_presence_parent_init(void)
{
	static const char	hex[] = "0123456789abcdef";
	u_int8_t		rnd[8];
	size_t			i;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		fatal("sio: getrandom: %s", errno_s);
	for (i = 0; i < sizeof(rnd); i++) {
		cpres_node[2 * i] = hex[rnd[i] >> 4];
		cpres_node[2 * i + 1] = hex[rnd[i] & 15];
	}
	cpres_node[16] = '\0';
}

const char *
sio_cluster_node_id(void)
{
	return (cpres_node);
}

/*
 * In every worker, after sio_init(): fn gets the union. Nothing happens
 * without cluster mode.
 */
void
sio_cluster_presence_watch(sio_cluster_presence_fn fn)
{
	u_int8_t	op = CPRES_ASK;

	if (!cluster_on || cpres_on)
		return;
	cpres_on = 1;
	cpres_fn = fn;
	bus_register(SIO_MSG_CLUSTER_PRESENCE, cpres_recv);
	if (!cluster_owner()) {
		bus_send(CLUSTER_OWNER, SIO_MSG_CLUSTER_PRESENCE, &op,
		    sizeof(op), NULL, 0, NULL, 0);
		return;
	}
	/* A restarted owner writes the hash whole: it may hold the past. */
	cpres_dirty = 1;
	(void)kore_timer_add(cpres_heartbeat, CPRES_HEARTBEAT_MS, NULL, 0);
	(void)kore_timer_add(cpres_tick, CPRES_RECOMPUTE_MS, NULL, 0);
}

/* id is present in this process (present 1), or no longer (0). */
void
sio_cluster_presence_set(const char *id, int present)
{
	const char	*argv[4];
	struct sbuf	 key;

	/* "alive" is the heartbeat's field, never an id. */
	if (!cpres_on || !cluster_owner() || *id == '\0' ||
	    !strcmp(id, "alive"))
		return;
	if (present ? !cluster_ids_add(&cpres_local, id, strlen(id)) :
	    !cluster_ids_del(&cpres_local, id))
		return;

	sbuf_init(&key);
	cpres_key(&key, cpres_node);
	argv[0] = present ? "HSET" : "HDEL";
	argv[1] = (const char *)key.data;
	argv[2] = id;
	argv[3] = "1";
	if (!cpres_multi(0, argv, present ? 4 : 3, cpres_write_reply))
		cpres_dirty = 1;
	else
		cpres_publish_changed();
	sbuf_free(&key);

	cpres_announce();
	cpres_recompute();
}

/* A message on P#changed (cluster_recv.c): another node's id. */
void
cluster_presence_changed(const u_int8_t *d, size_t len)
{
	if (!cpres_on || (len == 16 && !memcmp(d, cpres_node, 16)))
		return;
	cpres_recompute();
}

/* The owner's publisher is up (again). */
void
cluster_presence_ready(void)
{
	if (!cpres_on)
		return;
	if (cpres_ready_ever)
		cpres_grace_until = kore_time_ms() + CPRES_GRACE_MS;
	cpres_ready_ever = 1;
	cpres_beat();
	cpres_recompute();
}

/* P#changed, NUL-terminated, into b. */
void
cluster_presence_channel(struct sbuf *b)
{
	sbuf_append_str(b, sio_conf.redis_prefix);
	sbuf_append_str(b, "-presence#changed");
	(void)sbuf_cstr(b);
}

static void
cpres_heartbeat(void *arg, u_int64_t now)
{
	(void)arg;
	(void)now;
	cpres_beat();
}

static void
cpres_tick(void *arg, u_int64_t now)
{
	(void)arg;
	(void)now;
	cpres_recompute();
}


/*
 * MULTI, SADD P#nodes N, [DEL P#N#,] the command of argv (C strings),
 * PEXPIRE P#N#, EXEC, whose reply goes to fn; 1 if all of it was sent.
 */
static int
cpres_multi(int del, const char **argv, int argc, credis_reply_fn fn)
{
	struct sbuf	 nodes, key;
	const char	*a[3];
	char		 ttl[16];
	int		 ok;

	if (!credis_command_ok())
		return (0);
	sbuf_init(&nodes);
	cpres_nodes(&nodes);
	sbuf_init(&key);
	cpres_key(&key, cpres_node);
	(void)snprintf(ttl, sizeof(ttl), "%d", CPRES_TTL_MS);

	a[0] = "MULTI";
	ok = credis_command(NULL, NULL, 1, a);
	a[0] = "SADD";
	a[1] = (const char *)nodes.data;
	a[2] = cpres_node;
	ok = ok && credis_command(NULL, NULL, 3, a);
	a[0] = "DEL";
	a[1] = (const char *)key.data;
	ok = ok && (!del || credis_command(NULL, NULL, 2, a));
	ok = ok && credis_command(NULL, NULL, argc, argv);
	a[0] = "PEXPIRE";
	a[2] = ttl;
	ok = ok && credis_command(NULL, NULL, 3, a);
	a[0] = "EXEC";
	ok = ok && credis_command(fn, NULL, 1, a);

	sbuf_free(&key);
	sbuf_free(&nodes);
	return (ok);
}

static void
cpres_publish_changed(void)
{
	struct sbuf	 chan;
	const char	*a[3];

	sbuf_init(&chan);
	cluster_presence_channel(&chan);
	a[0] = "PUBLISH";
	a[1] = (const char *)chan.data;
	a[2] = cpres_node;
	(void)credis_command(NULL, NULL, 3, a);
	sbuf_free(&chan);
}

static void
cpres_beat(void)
{
	const char	*argv[4];
	struct sbuf	 key;
	char		 now[32];

	sbuf_init(&key);
	cpres_key(&key, cpres_node);
	cpres_now(now, sizeof(now));
	argv[0] = "HSET";
	argv[1] = (const char *)key.data;
	argv[2] = "alive";
	argv[3] = now;
	(void)cpres_multi(0, argv, 4, cpres_beat_reply);
	sbuf_free(&key);
}

/* EXEC of a heartbeat: [SADD, HSET alive, PEXPIRE]. */
static void
cpres_beat_reply(redisAsyncContext *ac, void *r, void *arg)
{
	redisReply	*reply = r;

	(void)ac;
	(void)arg;
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 3)
		return;
	/* "alive" is new: the hash was lost. */
	if (reply->element[1]->type == REDIS_REPLY_INTEGER &&
	    reply->element[1]->integer == 1)
		cpres_dirty = 1;
	if (cpres_dirty)
		cpres_rewrite();
}

static void
cpres_write_reply(redisAsyncContext *ac, void *r, void *arg)
{
	redisReply	*reply = r;

	(void)ac;
	(void)arg;
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
		cpres_dirty = 1;
}

/* The whole hash again, alive and every id of this process; announced. */
static void
cpres_rewrite(void)
{
	const char	**argv;
	size_t		 i, argc;
	struct sbuf	 key;
	char		 now[32];

	sbuf_init(&key);
	cpres_key(&key, cpres_node);
	cpres_now(now, sizeof(now));
	argv = sbuf_xcalloc(4 + 2 * cpres_local.n, sizeof(*argv));
	argc = 0;
	argv[argc++] = "HSET";
	argv[argc++] = (const char *)key.data;
	argv[argc++] = "alive";
	argv[argc++] = now;
	for (i = 0; i < cpres_local.n; i++) {
		argv[argc++] = cpres_local.v[i];
		argv[argc++] = "1";
	}

	if (cpres_multi(1, argv, (int)argc, cpres_write_reply)) {
		cpres_dirty = 0;
		cpres_publish_changed();
	}
	free(argv);
	sbuf_free(&key);
}

/* SMEMBERS P#nodes, then HKEYS of each other member. */
static void
cpres_recompute(void)
{
	struct cpres_calc	*calc;
	struct sbuf		 nodes;
	const char		*a[2];

	if (!cpres_on || !credis_command_ok())
		return;
	if (cpres_computing) {
		cpres_again = 1;
		return;
	}
	cpres_again = 0;

	calc = sbuf_xcalloc(1, sizeof(*calc));
	sbuf_init(&nodes);
	cpres_nodes(&nodes);
	a[0] = "SMEMBERS";
	a[1] = (const char *)nodes.data;
	if (credis_command(cpres_members_reply, calc, 2, a)) {
		cpres_computing = 1;
		calc->pending = 1;
	} else {
		free(calc);
	}
	sbuf_free(&nodes);
}

static void
cpres_members_reply(redisAsyncContext *ac, void *r, void *arg)
{
	struct cpres_calc	*calc = arg;
	struct cpres_ask	*ask;
	redisReply		*reply = r, *e;
	struct sbuf		 key;
	const char		*a[2];
	size_t			 i;

	(void)ac;
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
		calc->failed = 1;
	for (i = 0; !calc->failed && i < reply->elements; i++) {
		e = reply->element[i];
		if (e->type != REDIS_REPLY_STRING || e->len == 0 ||
		    e->len > CPRES_NODE_MAX || strlen(e->str) != e->len ||
		    !strcmp(e->str, cpres_node))
			continue;
		ask = sbuf_xcalloc(1, sizeof(*ask));
		ask->calc = calc;
		memcpy(ask->node, e->str, e->len);
		sbuf_init(&key);
		cpres_key(&key, ask->node);
		a[0] = "HKEYS";
		a[1] = (const char *)key.data;
		if (credis_command(cpres_fields_reply, ask, 2, a)) {
			calc->pending++;
		} else {
			calc->failed = 1;
			free(ask);
		}
		sbuf_free(&key);
	}
	cpres_calc_done(calc);
}

/* The fields of one member's hash: its ids, or none: it is dead. */
static void
cpres_fields_reply(redisAsyncContext *ac, void *r, void *arg)
{
	struct cpres_ask	*ask = arg;
	struct cpres_calc	*calc = ask->calc;
	redisReply		*reply = r, *e;
	size_t			 i;

	(void)ac;
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
		calc->failed = 1;
	} else if (reply->elements == 0) {
		(void)cluster_ids_add(&calc->dead, ask->node, strlen(ask->node));
	} else {
		for (i = 0; i < reply->elements; i++) {
			e = reply->element[i];
			if (e->type != REDIS_REPLY_STRING || e->len == 0 ||
			    strlen(e->str) != e->len ||
			    !strcmp(e->str, "alive"))
				continue;
			cluster_ids_push(&calc->ids, e->str, e->len);
		}
	}
	free(ask);
	cpres_calc_done(calc);
}

/*
 * One reply less to wait for; at the last, the other nodes' ids are
 * known (unless a reply failed), the dead members are taken off the set
 * and the union announced.
 */
static void
cpres_calc_done(struct cpres_calc *calc)
{
	const char	**argv;
	struct sbuf	 nodes;
	size_t		 i;

	if (--calc->pending > 0)
		return;

	if (!calc->failed && calc->dead.n > 0 && credis_command_ok()) {
		sbuf_init(&nodes);
		cpres_nodes(&nodes);
		argv = sbuf_xcalloc(2 + calc->dead.n, sizeof(*argv));
		argv[0] = "SREM";
		argv[1] = (const char *)nodes.data;
		for (i = 0; i < calc->dead.n; i++)
			argv[2 + i] = calc->dead.v[i];
		(void)credis_command(NULL, NULL, (int)(2 + calc->dead.n),
		    argv);
		free(argv);
		sbuf_free(&nodes);
	}
	if (!calc->failed) {
		/* Just after Redis came back, the union only grows. */
		if (kore_time_ms() < cpres_grace_until) {
			for (i = 0; i < cpres_remote.n; i++)
				cluster_ids_push(&calc->ids, cpres_remote.v[i],
				    strlen(cpres_remote.v[i]));
		}
		cluster_ids_sort(&calc->ids);
		cluster_ids_clear(&cpres_remote);
		cpres_remote = calc->ids;
		memset(&calc->ids, 0, sizeof(calc->ids));
	}
	cluster_ids_clear(&calc->ids);
	cluster_ids_clear(&calc->dead);
	free(calc);

	cpres_computing = 0;
	cpres_announce();
	if (cpres_again)
		cpres_recompute();
}

/* The workers get the union, CPRES_RELAY_MS from now, if it changed. */
static void
cpres_announce(void)
{
	if (cpres_relaying)
		return;
	cpres_relaying = 1;
	(void)kore_timer_add(cpres_relay, CPRES_RELAY_MS, NULL,
	    KORE_TIMER_ONESHOT);
}

static void
cpres_relay(void *arg, u_int64_t now)
{
	struct cluster_ids	u;

	(void)arg;
	(void)now;
	cpres_relaying = 0;
	cpres_union(&u);
	if (cpres_sent_ever && cluster_ids_equal(&u, &cpres_sent)) {
		cluster_ids_clear(&u);
		return;
	}
	cluster_ids_clear(&cpres_sent);
	cpres_sent = u;
	cpres_sent_ever = 1;
	cpres_send(SIO_BUS_ALL);
}

/* What the workers have: op CPRES_LIST, then each id and a NUL. */
static void
cpres_send(u_int16_t dst)
{
	struct sbuf	b;
	size_t		i;

	sbuf_init(&b);
	sbuf_append_byte(&b, CPRES_LIST);
	for (i = 0; i < cpres_sent.n; i++) {
		sbuf_append_str(&b, cpres_sent.v[i]);
		sbuf_append_byte(&b, '\0');
	}
	bus_send(dst, SIO_MSG_CLUSTER_PRESENCE, b.data, b.len, NULL, 0,
	    NULL, 0);
	sbuf_free(&b);
}

static void
cpres_recv(u_int16_t src, const u_int8_t *d, size_t len)
{
	const char	**ids;
	size_t		 i, n;

	if (len == 0)
		return;
	if (d[0] == CPRES_ASK) {
		if (cluster_owner() && cpres_sent_ever)
			cpres_send(src);
		return;
	}
	if (d[0] != CPRES_LIST || (len > 1 && d[len - 1] != '\0'))
		return;

	for (n = 0, i = 1; i < len; i++)
		n += d[i] == '\0';
	ids = sbuf_xcalloc(n + 1, sizeof(*ids));
	for (n = 0, i = 1; i < len; i += strlen((const char *)d + i) + 1)
		ids[n++] = (const char *)d + i;
	cpres_fn(ids, n);
	free(ids);
}

/* This process's ids and the other nodes', sorted, into u (copies). */
static void
cpres_union(struct cluster_ids *u)
{
	cluster_ids_merge(u, &cpres_local, &cpres_remote);
}

/* Milliseconds since the epoch, in decimal (kore_time_ms() is not). */
static void
cpres_now(char *buf, size_t len)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	(void)snprintf(buf, len, "%llu",
	    (unsigned long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* <prefix>-presence#<node>#, NUL-terminated, into b. */
static void
cpres_key(struct sbuf *b, const char *node)
{
	sbuf_append_str(b, sio_conf.redis_prefix);
	sbuf_append_str(b, "-presence#");
	sbuf_append_str(b, node);
	sbuf_append_byte(b, '#');
	(void)sbuf_cstr(b);
}

/* <prefix>-presence#nodes, NUL-terminated, into b. */
static void
cpres_nodes(struct sbuf *b)
{
	sbuf_append_str(b, sio_conf.redis_prefix);
	sbuf_append_str(b, "-presence#nodes");
	(void)sbuf_cstr(b);
}
