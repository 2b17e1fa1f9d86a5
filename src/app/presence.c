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
 * copy. Changes within PRESENCE_COALESCE_MS go out as one update.
 *
 * A worker that starts (for the first time, or again after a crash) tells
 * the others to forget it (its sockets died with it) and asks them for
 * their users, so every copy of the map converges.
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <stdlib.h>
#include <string.h>

#include "sio.h"
#include "hmap.h"
#include "sbuf.h"
#include "store.h"
#include "realtime.h"

#define PRESENCE_COALESCE_MS	50

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

static struct sio_nsp	*presence_nsp;
static struct hmap	presence_users;
static int		presence_dirty;

static void	presence_recv(struct kore_msg *, const void *);
static void	presence_apply(const char *, u_int16_t, int);
static void	presence_send(u_int16_t, u_int8_t, const char *);
static void	presence_schedule(void);
static void	presence_flush(void *, u_int64_t);
static json_t	*presence_list(void);
static void	presence_collect(void *, void *);
static void	presence_reset(void *, void *);
static void	presence_sync(void *, void *);
static int	presence_cmp(const void *, const void *);
static struct presence_user *presence_get(const char *, int);

void
presence_init(struct sio_nsp *nsp)
{
	presence_nsp = nsp;
	hmap_init(&presence_users);

	if (!kore_msg_register(RT_MSG_PRESENCE, presence_recv))
		fatal("presence: message id taken");

	presence_send(KORE_MSG_WORKER_ALL, PRESENCE_RESET, NULL);
	presence_send(KORE_MSG_WORKER_ALL, PRESENCE_SYNC, NULL);
}

/* A socket of user was accepted on this worker. */
void
presence_socket_added(const char *user, struct sio_socket *so)
{
	struct presence_user	*u;

	u = presence_get(user, 1);
	if (u->local++ > 0)
		return;

	/*
	 * This worker's first socket of the user. If the user is present
	 * already (another worker), no update will follow: the new socket
	 * gets the current list on its own.
	 */
	if (u->workers != 0)
		(void)sio_emit(so, "presence:update",
		    json_pack("[o]", presence_list()));

	presence_send(KORE_MSG_WORKER_ALL, PRESENCE_ADD, user);
}

void
presence_socket_removed(const char *user)
{
	struct presence_user	*u;

	if ((u = presence_get(user, 0)) == NULL || u->local == 0)
		return;
	if (--u->local > 0)
		return;

	presence_send(KORE_MSG_WORKER_ALL, PRESENCE_DEL, user);
}

static void
presence_send(u_int16_t dst, u_int8_t op, const char *user)
{
	struct presence_msg	m;

	memset(&m, 0, sizeof(m));
	m.op = op;
	m.worker = worker->id;
	if (user != NULL)
		memcpy(m.user, user, STORE_OID_LEN);

	kore_msg_send(dst, RT_MSG_PRESENCE, &m, sizeof(m));
}

static void
presence_recv(struct kore_msg *msg, const void *data)
{
	struct presence_msg	m;
	char			user[STORE_OID_LEN + 1];

	if (data == NULL || msg->length != sizeof(m))
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
		if (m.worker != worker->id)
			hmap_foreach(&presence_users, presence_reset, &m.worker);
		break;
	case PRESENCE_SYNC:
		if (m.worker != worker->id)
			hmap_foreach(&presence_users, presence_sync, &m.worker);
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

	if ((before == 0) != (u->workers == 0))
		presence_schedule();

	if (u->workers == 0 && u->local == 0)
		free(hmap_del(&presence_users, u->id, STORE_OID_LEN));
}

/* A worker (re)started: whatever it had is gone. */
static void
presence_reset(void *value, void *arg)
{
	struct presence_user	*u = value;
	u_int16_t		wid = *(u_int16_t *)arg;

	if (u->workers & ((u_int64_t)1 << (wid - 1)))
		presence_apply(u->id, wid, 0);
}

/* A worker asks for our users. */
static void
presence_sync(void *value, void *arg)
{
	struct presence_user	*u = value;
	u_int16_t		wid = *(u_int16_t *)arg;

	if (u->local > 0)
		presence_send(wid, PRESENCE_ADD, u->id);
}

static void
presence_schedule(void)
{
	if (presence_dirty)
		return;
	presence_dirty = 1;
	(void)kore_timer_add(presence_flush, PRESENCE_COALESCE_MS, NULL,
	    KORE_TIMER_ONESHOT);
}

static void
presence_flush(void *arg, u_int64_t now)
{
	(void)arg;
	(void)now;

	presence_dirty = 0;
	sio_broadcast_local(presence_nsp, NULL, 0, "presence:update",
	    json_pack("[o]", presence_list()));
}

struct presence_ids {
	const char	**ids;
	size_t		n;
};

static json_t *
presence_list(void)
{
	struct presence_ids	c;
	json_t			*list;
	size_t			i;

	c.ids = sbuf_xcalloc(presence_users.count + 1, sizeof(*c.ids));
	c.n = 0;
	hmap_foreach(&presence_users, presence_collect, &c);
	qsort(c.ids, c.n, sizeof(*c.ids), presence_cmp);

	list = json_array();
	for (i = 0; i < c.n; i++)
		(void)json_array_append_new(list, json_string(c.ids[i]));
	free(c.ids);

	return (list);
}

static void
presence_collect(void *value, void *arg)
{
	struct presence_user	*u = value;
	struct presence_ids	*c = arg;

	if (u->workers != 0)
		c->ids[c->n++] = u->id;
}

static int
presence_cmp(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

static struct presence_user *
presence_get(const char *user, int create)
{
	struct presence_user	*u;

	if ((u = hmap_get(&presence_users, user, STORE_OID_LEN)) != NULL ||
	    !create)
		return (u);

	u = sbuf_xcalloc(1, sizeof(*u));
	memcpy(u->id, user, STORE_OID_LEN);
	hmap_put(&presence_users, u->id, STORE_OID_LEN, u);

	return (u);
}
