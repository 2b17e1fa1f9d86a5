/*
 * How the SQLite backend writes (see store_sqlite.c for the layout).
 *
 * All connections of all workers share one database file, and SQLite lets
 * one of them write at a time. Left to itself, a connection that finds the
 * write lock taken sleeps in SQLite's default busy handler, 1, 2, 5, 10 ms
 * and longer, while the lock may be free again after 50 us: that was most
 * of the p99 of POST /todos under load. So:
 *  - inside a process, writers queue on a mutex (store_sqlite_write_begin/
 *    end) and take the SQLite lock one after the other without sleeping;
 *  - between processes, the busy handler waits in short steps (50 us, then
 *    200 us, then 1 ms), giving up after about STORE_SQLITE_BUSY_MS;
 *  - the WAL is checkpointed by a thread of each process that wrote, every
 *    STORE_SQLITE_CKPT_MS, not by whichever request happened to cross the
 *    auto-checkpoint mark (which then paid for copying pages back and two
 *    fdatasync calls), so a page written many times in that time is copied
 *    once. The auto-checkpoint stays, far out, as a backstop.
 * (Mapping the file, mmap_size, cost more than it saved: every write that
 * grows the file makes the other connections map it anew.)
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_sqlite.h"

#define STORE_SQLITE_CKPT_MS		200
#define STORE_SQLITE_RESTART_WAIT_MS	50
#define STORE_SQLITE_AUTOCKPT		65536		/* pages, backstop */
#define STORE_SQLITE_WAL_LIMIT		(64 * 1024 * 1024)

static void	*store_sqlite_ckpt_main(void *);
static int	 store_sqlite_busy(void *, int);
static int	 store_sqlite_ckpt_busy(void *, int);
static int64_t	 store_sqlite_ms(void);
static void	 store_sqlite_ckpt_run(sqlite3 **);

static pthread_mutex_t	store_sqlite_wlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t	store_sqlite_clock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	store_sqlite_cwake = PTHREAD_COND_INITIALIZER;
static pthread_t	store_sqlite_cthread;
static int		store_sqlite_crunning = 0;
static int		store_sqlite_cstop = 0;
static int		store_sqlite_dirty = 0;
static char		*store_sqlite_cpath = NULL;
static int64_t		 store_sqlite_cstart;

/* The settings every connection gets when it opens. */
int
store_sqlite_tune(sqlite3 *db)
{
	char	sql[128];

	(void)sqlite3_busy_handler(db, store_sqlite_busy, NULL);
	(void)snprintf(sql, sizeof(sql), "PRAGMA wal_autocheckpoint = %d; "
	    "PRAGMA journal_size_limit = %d", STORE_SQLITE_AUTOCKPT,
	    STORE_SQLITE_WAL_LIMIT);

	return (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
}

void
store_sqlite_write_begin(void)
{
	pthread_mutex_lock(&store_sqlite_wlock);
}

void
store_sqlite_write_end(void)
{
	__atomic_store_n(&store_sqlite_dirty, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&store_sqlite_wlock);
}

/* Starts this process's checkpoint thread for the file at path. */
int
store_sqlite_ckpt_start(const char *path)
{
	int	rc;

	if (store_sqlite_crunning)
		return (1);

	if ((store_sqlite_cpath = strdup(path)) == NULL)
		return (0);

	store_sqlite_cstop = 0;
	if ((rc = pthread_create(&store_sqlite_cthread, NULL,
	    store_sqlite_ckpt_main, NULL)) != 0) {
		store_log(STORE_LOG_ERR, "sqlite: checkpoint thread: %s",
		    strerror(rc));
		free(store_sqlite_cpath);
		store_sqlite_cpath = NULL;
		return (0);
	}
	store_sqlite_crunning = 1;

	return (1);
}

/* Stops the thread after a last checkpoint. */
void
store_sqlite_ckpt_stop(void)
{
	if (!store_sqlite_crunning)
		return;

	pthread_mutex_lock(&store_sqlite_clock);
	store_sqlite_cstop = 1;
	pthread_cond_signal(&store_sqlite_cwake);
	pthread_mutex_unlock(&store_sqlite_clock);

	(void)pthread_join(store_sqlite_cthread, NULL);
	store_sqlite_crunning = 0;
	free(store_sqlite_cpath);
	store_sqlite_cpath = NULL;
}

static void *
store_sqlite_ckpt_main(void *arg)
{
	struct timespec		ts;
	sqlite3			*db;
	int			stop;

	(void)arg;
	db = NULL;
	stop = 0;

	while (!stop) {
		(void)clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += STORE_SQLITE_CKPT_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;

		pthread_mutex_lock(&store_sqlite_clock);
		if (!store_sqlite_cstop) {
			(void)pthread_cond_timedwait(&store_sqlite_cwake,
			    &store_sqlite_clock, &ts);
		}
		stop = store_sqlite_cstop;
		pthread_mutex_unlock(&store_sqlite_clock);

		if (__atomic_exchange_n(&store_sqlite_dirty, 0,
		    __ATOMIC_RELAXED))
			store_sqlite_ckpt_run(&db);
	}

	(void)sqlite3_close(db);

	return (NULL);
}

/*
 * A PASSIVE checkpoint copies back what no reader still needs, holding no
 * writer back. But the WAL only starts over from its beginning once all of
 * it was copied while no reader was inside it, which steady traffic puts
 * off for ever (PASSIVE alone: past 1 GB in a minute of POST /todos). So a
 * RESTART follows: it holds new writers back, copies the little PASSIVE
 * left, waits (at most STORE_SQLITE_RESTART_WAIT_MS) for the readers of
 * the moment and makes the next writer start the WAL over, and
 * journal_size_limit cuts the file back. Measured under wrk POST: RESTART
 * alone every round, with the 5 s busy handler of the other connections,
 * gave a p99 of 40-55 ms and, in stretches where it came back BUSY round
 * after round, a WAL of 1.6 GB; PASSIVE then RESTART with short waits,
 * 29-32 ms and 64-90 MB. The
 * other process's thread may hold the checkpoint lock: BUSY, next round.
 */
static void
store_sqlite_ckpt_run(sqlite3 **db)
{
	int	rc, nlog, nckpt;

	store_sqlite_cstart = store_sqlite_ms();
	if (*db == NULL) {
		rc = sqlite3_open_v2(store_sqlite_cpath, db,
		    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
		if (rc == SQLITE_OK && !store_sqlite_tune(*db))
			rc = SQLITE_ERROR;
		/* A connection that has read nothing knows of no WAL yet. */
		if (rc == SQLITE_OK) {
			(void)sqlite3_busy_handler(*db,
			    store_sqlite_ckpt_busy, NULL);
			rc = sqlite3_exec(*db, "SELECT 1 FROM sqlite_master "
			    "LIMIT 1", NULL, NULL, NULL);
		}
		if (rc != SQLITE_OK) {
			store_log(STORE_LOG_ERR, "sqlite: checkpoint: open "
			    "%s: %s", store_sqlite_cpath, sqlite3_errmsg(*db));
			(void)sqlite3_close(*db);
			*db = NULL;
			return;
		}
	}

	rc = sqlite3_wal_checkpoint_v2(*db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    &nlog, &nckpt);
	if (rc == SQLITE_OK && nlog > 0) {
		store_sqlite_cstart = store_sqlite_ms();
		rc = sqlite3_wal_checkpoint_v2(*db, NULL,
		    SQLITE_CHECKPOINT_RESTART, &nlog, &nckpt);
	}
	if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY &&
	    (rc & 0xff) != SQLITE_LOCKED) {
		store_log(STORE_LOG_ERR, "sqlite: checkpoint %s: %s",
		    store_sqlite_cpath, sqlite3_errmsg(*db));
	}
}

/*
 * n is how many times this lock attempt already waited. 20 x 50 us, then
 * 80 x 200 us, then 1 ms steps up to STORE_SQLITE_BUSY_MS in all.
 */
static int
store_sqlite_busy(void *arg, int n)
{
	struct timespec		ts;
	long			us, waited_ms;

	(void)arg;
	if (n < 20) {
		us = 50;
		waited_ms = 0;
	} else if (n < 100) {
		us = 200;
		waited_ms = 1 + (n - 20) / 5;
	} else {
		us = 1000;
		waited_ms = 17 + (n - 100);
	}
	if (waited_ms >= STORE_SQLITE_BUSY_MS)
		return (0);

	ts.tv_sec = 0;
	ts.tv_nsec = us * 1000;
	(void)nanosleep(&ts, NULL);

	return (1);
}

/* The checkpoint's waits: short steps, STORE_SQLITE_RESTART_WAIT_MS in all. */
static int
store_sqlite_ckpt_busy(void *arg, int n)
{
	struct timespec		ts = { 0, 100 * 1000 };

	(void)arg;
	(void)n;
	if (store_sqlite_ms() - store_sqlite_cstart >=
	    STORE_SQLITE_RESTART_WAIT_MS)
		return (0);
	(void)nanosleep(&ts, NULL);

	return (1);
}

static int64_t
store_sqlite_ms(void)
{
	struct timespec		ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);

	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}
