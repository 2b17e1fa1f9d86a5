/*
 * Opening the store in each worker. SQLite (the default) keeps one file,
 * DATA_DIR/korio.db; MONGODB_URI switches to MongoDB through a libmongoc
 * pool owned by the worker. Both are opened after fork, in
 * kore_worker_configure(): neither SQLite handles nor mongoc pools survive
 * a fork. A worker that drained (drain.c) closes the store with
 * db_close(): no pool thread is inside it any more. Otherwise it is never
 * closed: a stopping worker's pool threads may still be inside it, and
 * the process is about to exit anyway (SQLite's WAL holds every committed
 * write; the kernel closes MongoDB's sockets).
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "metrics/metrics.h"
#include "store/db.h"

static void	db_log(int, const char *);

void
db_init(void)
{
	struct store_config	cf;
	char			path[PATH_MAX];
	int			len;
	enum store_result	r;

	len = snprintf(path, sizeof(path), "%s/korio.db", korio.data_dir);
	if (len < 0 || (size_t)len >= sizeof(path))
		fatal("DATA_DIR is too long");

	memset(&cf, 0, sizeof(cf));
	cf.mongodb_uri = korio.mongodb_uri;
	cf.sqlite_path = path;
	cf.sqlite_full_sync = korio.sqlite_full_sync;
	cf.log = db_log;
	if (korio.metrics != METRICS_OFF)
		cf.timed = metrics_store_timed;

	/* An unreachable MongoDB is not fatal: /healthz reports it. */
	if ((r = store_global_init(&cf)) != STORE_OK)
		fatal("store (%s): cannot open: %s", korio.mongodb_uri ?
		    "mongodb" : path, store_result_str(r));
}

int
db_ping(void)
{
	struct store_conn	*sc;
	enum store_result	r;

	if ((sc = store_acquire()) == NULL)
		return (0);
	r = store_ping(sc);
	store_release(sc);

	return (r == STORE_OK);
}

static void
db_log(int prio, const char *msg)
{
	kore_log(prio, "store: %s", msg);
}

/* Flush and close the store: every store job of this worker has ended. */
void
db_close(void)
{
	store_global_cleanup();
}
