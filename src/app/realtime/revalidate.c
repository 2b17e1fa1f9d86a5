/*
 * Session re-validation: every REALTIME_REVALIDATE_MS (default 60000, 0
 * turns it off) each connected socket of this worker is checked again, as
 * Terreno's RealtimeApp does, for both protocols:
 *
 *   - its access token's exp has passed: reason "expired";
 *   - its user is gone from the store: reason "invalid-session".
 *
 * A failing socket gets "sync:auth-expired" {reason}, then the Socket.IO
 * DISCONNECT (the client sees "io server disconnect" and does not
 * reconnect by itself). The expiry is checked on the worker; the users are
 * looked up in one job on a pool thread, at most one at a time, and the
 * sockets are looked at again when it is done (some may have gone). A
 * store error spares everyone: only a user the store says is gone counts.
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "job.h"
#include "log/log.h"
#include "realtime/realtime.h"
#include "sio.h"
#include "store/store.h"

struct reval_job {
	struct job	job;
	json_t		*users;		/* id -> true: to look up */
	json_t		*gone;		/* id -> true: the store says gone */
};

static int		reval_busy;

static void	reval_tick(void *, u_int64_t);
static void	reval_check(struct sio_socket *, void *);
static void	reval_work(struct job *);
static void	reval_done(struct job *);
static void	reval_cleanup(struct job *);
static void	reval_gone(struct sio_socket *, void *);
static void	reval_expire(struct sio_socket *, const char *);

void
revalidate_init(u_int64_t interval)
{
	if (interval > 0)
		(void)kore_timer_add(reval_tick, interval, NULL, 0);
}

static void
reval_tick(void *arg, u_int64_t now)
{
	struct reval_job	*j;

	(void)arg;
	(void)now;

	if (reval_busy)
		return;

	j = (struct reval_job *)job_callback_new(sizeof(*j), reval_work,
	    reval_done, reval_cleanup);
	j->users = json_object();
	j->gone = json_object();
	sio_nsp_foreach(rt_nsp, reval_check, j);

	reval_busy = 1;
	job_start(&j->job);
}

/* Expired tokens now; the socket's user to look up. */
static void
reval_check(struct sio_socket *so, void *arg)
{
	struct reval_job	*j = arg;
	struct rt_sock		*rs;

	if ((rs = sio_socket_udata(so)) == NULL)
		return;

	if (rs->exp <= (int64_t)time(NULL)) {
		reval_expire(so, "expired");
		return;
	}
	(void)json_object_set_new(j->users, rs->user, json_true());
}

/* Pool thread. */
static void
reval_work(struct job *job)
{
	struct reval_job	*j = (struct reval_job *)job;
	struct store_conn	*sc;
	const char		*id;
	json_t			*v, *doc;

	if ((sc = store_acquire()) == NULL)
		return;

	json_object_foreach(j->users, id, v) {
		doc = NULL;
		if (store_get(sc, STORE_USERS, id, &doc) == STORE_NOTFOUND)
			(void)json_object_set_new(j->gone, id, json_true());
		json_decref(doc);
	}

	store_release(sc);
}

static void
reval_done(struct job *job)
{
	struct reval_job	*j = (struct reval_job *)job;

	if (json_object_size(j->gone) > 0)
		sio_nsp_foreach(rt_nsp, reval_gone, j->gone);
}

static void
reval_cleanup(struct job *job)
{
	struct reval_job	*j = (struct reval_job *)job;

	json_decref(j->users);
	json_decref(j->gone);
	reval_busy = 0;
}

static void
reval_gone(struct sio_socket *so, void *arg)
{
	struct rt_sock	*rs;

	if ((rs = sio_socket_udata(so)) != NULL &&
	    json_object_get(arg, rs->user) != NULL)
		reval_expire(so, "invalid-session");
}

static void
reval_expire(struct sio_socket *so, const char *reason)
{
	struct rt_sock	*rs = sio_socket_udata(so);

	if (korio.ws_debug)
		log_sid(LOG_INFO, sio_socket_id(so), "realtime: socket %s of "
		    "user %s: session no longer valid (%s)", sio_socket_id(so),
		    rs->user, reason);

	(void)sio_emit(so, "sync:auth-expired",
	    json_pack("[{s:s}]", "reason", reason));
	sio_disconnect(so);
}
