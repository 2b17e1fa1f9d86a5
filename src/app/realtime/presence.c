/*
 * Presence: which users have at least one connected socket anywhere in the
 * process, across workers.
 *
 * Each worker counts its own sockets per user. When a user's count on a
 * worker goes from 0 to 1 (or back), that worker tells every worker,
 * itself included, which keeps for each user a bit per worker that has
 * sockets of that user. A user is present while any bit is set. When that
 * changes, each worker sends "presence:update" with the sorted list of
 * present users to its own sockets, so that every socket gets exactly one
 * copy. Changes within PRESENCE_COALESCE_MS go out as one update, and a
 * worker sends at most one update each PRESENCE_MIN_MS however many
 * clients come and go: no socket gets more than 4 a second. A new socket
 * gets the current list (its own user in it) at once, whoever else of
 * its user is connected already.
 *
 * A worker that starts (for the first time, or again after a crash) tells
 * the others to forget it (its sockets died with it) and asks them for
 * their users, so every copy of the map converges.
 *
 * The messages go over the plugin's bus (sio_bus_send()), which drops the
 * copies Kore's parent may deliver twice to a restarted worker. The map is
 * a tsearch(3) tree ordered by user id, so the list comes out sorted.
 *
 * In cluster mode (REDIS_URL) the list is the cluster's: every worker
 * hands the process's changes (a user present in it, or no longer) to the
 * plugin (sio_cluster_presence_set(), redis-adapter.md section 10), which
 * gives each worker the users present on any node, sorted, when that
 * changes (presence_cluster()); the same coalescing applies.
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "sio.h"
#include "store/store.h"
#include "realtime/realtime.h"

#define PRESENCE_COALESCE_MS	50
#define PRESENCE_MIN_MS		250

#define PRESENCE_ADD		1
#define PRESENCE_DEL		2
#define PRESENCE_RESET		3
#define PRESENCE_SYNC		4

struct presence_msg {
	u_int8_t	op;
	u_int16_t	worker;
	char		user[STORE_OID_LEN];
};

struct presence_user {
	char		id[STORE_OID_LEN + 1];
	u_int32_t	local;
	u_int64_t	workers;
};

/* The users of the tree, collected in id order by twalk_r(). */
struct presence_walk {
	struct presence_user	**all;
	size_t			 n;
};

static struct sio_nsp	*presence_nsp;
static void		*presence_users;	/* tsearch(3) root */
static size_t		 presence_count;
static int		 presence_dirty;
static u_int64_t	 presence_last;	/* when the last update went out */
static int		 presence_clustered;
static char		**presence_cids;	/* cluster mode: the union */
static size_t		 presence_ncids;

static void	presence_recv(u_int16_t, const u_int8_t *, size_t);
static void	presence_cluster(const char *const *, size_t);
static void	presence_apply(const char *, u_int16_t, int);
static void	presence_send(u_int16_t, u_int8_t, const char *);
static void	presence_schedule(void);
static void	presence_flush(void *, u_int64_t);
static json_t	*presence_list(const char *);
static void	presence_collect(struct presence_user *, void *);
static void	presence_reset(struct presence_user *, void *);
static void	presence_sync(struct presence_user *, void *);
static void	presence_foreach(void (*)(struct presence_user *, void *),
		    void *);
static void	presence_visit(const void *, VISIT, void *);
static int	presence_cmp(const void *, const void *);
static struct presence_user *presence_get(const char *, int);
static void	presence_forget(struct presence_user *);

void
presence_init(struct sio_nsp *nsp)
{
	presence_nsp = nsp;
	sio_bus_register(RT_MSG_PRESENCE, presence_recv);
	if (korio.redis_url != NULL) {
		presence_clustered = 1;
		sio_cluster_presence_watch(presence_cluster);
	}

	presence_send(SIO_BUS_ALL, PRESENCE_RESET, NULL);
	presence_send(SIO_BUS_ALL, PRESENCE_SYNC, NULL);
}

/*
 * A socket of user was accepted on this worker: it gets the current list
 * at once (an update follows for the others if user was not present).
 */
void
presence_socket_added(const char *user, struct sio_socket *so)
{
	struct presence_user	*u;

	(void)sio_emit(so, "presence:update", json_pack("[o]",
	    presence_list(user)));

	u = presence_get(user, 1);
	if (u->local++ == 0)
		presence_send(SIO_BUS_ALL, PRESENCE_ADD, user);
}

void
presence_socket_removed(const char *user)
{
	struct presence_user	*u;

	if ((u = presence_get(user, 0)) == NULL || u->local == 0)
		return;
	if (--u->local > 0)
		return;

	presence_send(SIO_BUS_ALL, PRESENCE_DEL, user);
}

static void
presence_send(u_int16_t dst, u_int8_t op, const char *user)
{
	struct presence_msg	m;

	memset(&m, 0, sizeof(m));
	m.op = op;
	m.worker = eio_worker_id();
	if (user != NULL)
		memcpy(m.user, user, STORE_OID_LEN);

	sio_bus_send(dst, RT_MSG_PRESENCE, &m, sizeof(m));
}

static void
presence_recv(u_int16_t src, const u_int8_t *data, size_t len)
{
	struct presence_msg	m;
	char			user[STORE_OID_LEN + 1];

	(void)src;
	if (len != sizeof(m))
		return;
	memcpy(&m, data, sizeof(m));
	memcpy(user, m.user, STORE_OID_LEN);
	user[STORE_OID_LEN] = '\0';

	switch (m.op) {
	case PRESENCE_ADD:
		presence_apply(user, m.worker, 1);
		break;
	case PRESENCE_DEL:
		presence_apply(user, m.worker, 0);
		break;
	case PRESENCE_RESET:
		if (m.worker != eio_worker_id())
			presence_foreach(presence_reset, &m.worker);
		break;
	case PRESENCE_SYNC:
		if (m.worker != eio_worker_id())
			presence_foreach(presence_sync, &m.worker);
		break;
	default:
		break;
	}
}

static void
presence_apply(const char *user, u_int16_t wid, int add)
{
	struct presence_user	*u;
	u_int64_t		bit, before;

	if (wid == 0 || wid > 64 || (u = presence_get(user, add)) == NULL)
		return;

	bit = (u_int64_t)1 << (wid - 1);
	before = u->workers;
	if (add)
		u->workers |= bit;
	else
		u->workers &= ~bit;

	if ((before == 0) != (u->workers == 0)) {
		if (presence_clustered)
			sio_cluster_presence_set(u->id, u->workers != 0);
		else
			presence_schedule();
	}

	if (u->workers == 0 && u->local == 0)
		presence_forget(u);
}

/* Cluster mode: the users present on any node, sorted. */
static void
presence_cluster(const char *const *ids, size_t n)
{
	size_t		i;

	for (i = 0; i < presence_ncids; i++)
		free(presence_cids[i]);
	free(presence_cids);
	presence_cids = mem_calloc(n + 1, sizeof(*presence_cids));
	for (i = 0; i < n; i++)
		presence_cids[i] = mem_strdup(ids[i]);
	presence_ncids = n;
	presence_schedule();
}

/* A worker (re)started: whatever it had is gone. */
static void
presence_reset(struct presence_user *u, void *arg)
{
	u_int16_t		wid = *(u_int16_t *)arg;

	if (u->workers & ((u_int64_t)1 << (wid - 1)))
		presence_apply(u->id, wid, 0);
}

/* A worker asks for our users. */
static void
presence_sync(struct presence_user *u, void *arg)
{
	u_int16_t		wid = *(u_int16_t *)arg;

	if (u->local > 0)
		presence_send(wid, PRESENCE_ADD, u->id);
}

/* An update soon: in PRESENCE_COALESCE_MS, PRESENCE_MIN_MS after the last. */
static void
presence_schedule(void)
{
	u_int64_t	now, at;

	if (presence_dirty)
		return;
	presence_dirty = 1;

	now = kore_time_ms();
	at = now + PRESENCE_COALESCE_MS;
	if (presence_last != 0 && at < presence_last + PRESENCE_MIN_MS)
		at = presence_last + PRESENCE_MIN_MS;
	(void)kore_timer_add(presence_flush, at - now, NULL,
	    KORE_TIMER_ONESHOT);
}

static void
presence_flush(void *arg, u_int64_t now)
{
	(void)arg;

	presence_dirty = 0;
	presence_last = now;
	sio_broadcast_local(presence_nsp, NULL, 0, "presence:update",
	    json_pack("[o]", presence_list(NULL)));
}

struct presence_ids {
	const char	**ids;
	size_t		n;
};

/*
 * The present users, sorted (the tree's order); with also, if it is not
 * NULL, in its place whether present yet or not.
 */
static json_t *
presence_list(const char *also)
{
	struct presence_ids	c;
	json_t			*list;
	size_t			i;
	int			added;

	if (presence_clustered) {
		c.ids = mem_calloc(presence_ncids + 1, sizeof(*c.ids));
		for (c.n = 0; c.n < presence_ncids; c.n++)
			c.ids[c.n] = presence_cids[c.n];
	} else {
		c.ids = mem_calloc(presence_count + 1, sizeof(*c.ids));
		c.n = 0;
		presence_foreach(presence_collect, &c);
	}

	list = json_array();
	added = (also == NULL);
	for (i = 0; i < c.n; i++) {
		if (!added && strcmp(also, c.ids[i]) <= 0) {
			if (strcmp(also, c.ids[i]) != 0)
				(void)json_array_append_new(list,
				    json_string(also));
			added = 1;
		}
		(void)json_array_append_new(list, json_string(c.ids[i]));
	}
	if (!added)
		(void)json_array_append_new(list, json_string(also));
	free(c.ids);

	return (list);
}

static void
presence_collect(struct presence_user *u, void *arg)
{
	struct presence_ids	*c = arg;

	if (u->workers != 0)
		c->ids[c->n++] = u->id;
}

/*
 * fn for every user, in id order. A callback may forget the user it is
 * given (presence_reset()): the tree is walked over a copy of the list.
 */
static void
presence_foreach(void (*fn)(struct presence_user *, void *), void *arg)
{
	struct presence_walk	w;
	size_t			i;

	w.all = mem_calloc(presence_count + 1, sizeof(*w.all));
	w.n = 0;
	twalk_r(presence_users, presence_visit, &w);
	for (i = 0; i < w.n; i++)
		fn(w.all[i], arg);
	free(w.all);
}

static void
presence_visit(const void *node, VISIT which, void *arg)
{
	struct presence_walk	*w = arg;

	if (which == postorder || which == leaf)
		w->all[w->n++] = *(struct presence_user *const *)node;
}

static int
presence_cmp(const void *a, const void *b)
{
	const struct presence_user	*ua = a, *ub = b;

	return (strcmp(ua->id, ub->id));
}

static struct presence_user *
presence_get(const char *user, int create)
{
	struct presence_user	key, *u, **found;

	memcpy(key.id, user, STORE_OID_LEN);
	key.id[STORE_OID_LEN] = '\0';
	if ((found = tfind(&key, &presence_users, presence_cmp)) != NULL)
		return (*found);
	if (!create)
		return (NULL);

	u = mem_calloc(1, sizeof(*u));
	memcpy(u->id, key.id, sizeof(u->id));
	if (tsearch(u, &presence_users, presence_cmp) == NULL)
		fatal("presence: tsearch: out of memory");
	presence_count++;

	return (u);
}

static void
presence_forget(struct presence_user *u)
{
	(void)tdelete(u, &presence_users, presence_cmp);
	presence_count--;
	free(u);
}
