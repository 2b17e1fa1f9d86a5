/*
 * Graceful drain on SIGTERM (patches/12-worker-drain.patch). Each worker,
 * on the SIGTERM the parent passes on, has closed its listening sockets
 * (so has the parent: a new korio may bind the port at once) and calls
 * drain_start(), which:
 *
 *   - makes GET /readyz answer 503 {"status":"draining"} (drain_active());
 *   - answers every REST request from now on with "Connection: close"
 *     (http/http_util.c), so a client's next request opens a new
 *     connection, to the next process; requests in flight, and the store
 *     work they wait for (job.c), finish;
 *   - drains the Socket.IO sessions over DRAIN_SECONDS (sio_drain():
 *     spread evenly, each client told by its transport closing, so it
 *     reconnects by itself, to the next process);
 *   - checks every DRAIN_TICK_MS whether the worker holds nothing any
 *     more (no session, no request, no store work): then it stops, and
 *     kore_worker_teardown() closes the store (drain_teardown()).
 *
 * DRAIN_SECONDS + DRAIN_GRACE_MS after the start the worker stops however
 * far it got; a second SIGTERM (or SIGINT, SIGQUIT) stops it at once.
 * Either way every write answered 2xx is in the store already. Each phase
 * is one log line.
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <unistd.h>

#include "app.h"
#include "drain.h"
#include "job.h"
#include "store/db.h"
#include "sio.h"

#define DRAIN_TICK_MS		50
#define DRAIN_GRACE_MS		5000

#define DRAIN_NONE		0
#define DRAIN_RUNNING		1	/* sockets, requests, store work */
#define DRAIN_DONE		2	/* nothing left: stopping */
#define DRAIN_TIMEOUT		3	/* stopped at the deadline */

static void	drain_start(void);
static void	drain_tick(void *, u_int64_t);
static double	drain_elapsed(void);

static int		drain_state = DRAIN_NONE;
static int		drain_sockets_done;
static u_int64_t	drain_began;

/* In kore_parent_configure(): before the fork, so the parent knows too. */
void
drain_parent_init(void)
{
	kore_worker_drain_hook = drain_start;
}

/* Whether this worker is draining (or stopping). */
int
drain_active(void)
{
	return (drain_state != DRAIN_NONE);
}

/*
 * From kore_worker_teardown(): 1 when the drain ended with nothing left,
 * the store then flushed and closed; 0 when there was no drain. A drain
 * cut short (a second SIGTERM, the deadline) ends the process here.
 */
int
drain_teardown(void)
{
	if (drain_state == DRAIN_NONE)
		return (0);

	if (drain_state == DRAIN_DONE && job_drain(1000)) {
		db_close();
		return (1);
	}

	if (drain_state == DRAIN_RUNNING) {
		kore_log(LOG_WARNING, "drain: cut short by a signal "
		    "after %.1f s, %zu sockets and %u requests left",
		    drain_elapsed(), eio_session_count(), http_request_count);
	}
	_exit(0);
}

static void
drain_start(void)
{
	drain_state = DRAIN_RUNNING;
	drain_began = kore_time_ms();

	kore_log(LOG_NOTICE, "drain: started, %zu sockets, %u requests in "
	    "flight; sockets closed over %u s, stop within %u s",
	    eio_session_count(), http_request_count, korio.drain_seconds,
	    korio.drain_seconds + DRAIN_GRACE_MS / 1000);

	sio_drain(korio.drain_seconds);
	(void)kore_timer_add(drain_tick, DRAIN_TICK_MS, NULL, 0);
}

static void
drain_tick(void *arg, u_int64_t now)
{
	(void)arg;

	if (drain_state != DRAIN_RUNNING)
		return;

	if (!drain_sockets_done && sio_drained()) {
		drain_sockets_done = 1;
		kore_log(LOG_NOTICE, "drain: sockets closed in %.1f s, %u "
		    "requests in flight", drain_elapsed(), http_request_count);
	}

	if (drain_sockets_done && http_request_count == 0 && job_drain(0)) {
		kore_log(LOG_NOTICE, "drain: done in %.1f s", drain_elapsed());
		drain_state = DRAIN_DONE;
		kore_worker_drained();
		return;
	}

	if (now - drain_began >= (u_int64_t)korio.drain_seconds * 1000 +
	    DRAIN_GRACE_MS) {
		kore_log(LOG_WARNING, "drain: timed out after %.1f s, %zu "
		    "sockets and %u requests left", drain_elapsed(),
		    eio_session_count(), http_request_count);
		drain_state = DRAIN_TIMEOUT;
		kore_worker_drained();
	}
}

static double
drain_elapsed(void)
{
	return ((double)(kore_time_ms() - drain_began) / 1000.0);
}
