/*
 * What the plugin counts for an application's metrics (struct sio_stats
 * in sio.h). The application hands each worker's block over with
 * sio_stats_attach() before sio_init(); until then, and in an application
 * that never does (the fixture), the counts go to a block nobody reads.
 * Everything is written from the worker's own thread, with relaxed
 * atomic operations (SIO_STAT_ADD() and friends, sio_internal.h): a block
 * in memory shared with other processes may be read while it changes.
 *
 * A broadcast's fan-out time runs from its making (sio_stats_now(), on
 * the worker that made it, carried with its number: server_order.c) to
 * the end of its fan-out on each worker; the application's function
 * gets it once per broadcast and worker.
 */

#include <stddef.h>
#include <time.h>

#include "sio_internal.h"

static struct sio_stats	 stats_none;
static sio_fanout_fn	 stats_fanout;

struct sio_stats	*sio_stats = &stats_none;

/*
 * In kore_worker_configure(), before sio_init(): count into st from now
 * on (NULL: nowhere), its gauges set to this worker's (nothing open
 * yet); fn, if not NULL, is told each fan-out time. A restarted worker
 * keeps counting into its predecessor's counters.
 */
void
sio_stats_attach(struct sio_stats *st, sio_fanout_fn fn)
{
	if (st == NULL)
		st = &stats_none;

	__atomic_store_n(&st->sessions_polling, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&st->sessions_websocket, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&st->relayed_websockets, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&st->rooms, 0, __ATOMIC_RELAXED);

	sio_stats = st;
	stats_fanout = fn;
}

/* Nanoseconds on the clock all processes of the machine share. */
uint64_t
sio_stats_now(void)
{
	struct timespec		ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec);
}

/* A broadcast made at made (0: unknown) is fanned out here. */
void
sio_stats_fanout_done(uint64_t made)
{
	uint64_t	now;

	if (stats_fanout == NULL || made == 0)
		return;

	now = sio_stats_now();
	stats_fanout(now > made ? now - made : 0);
}
