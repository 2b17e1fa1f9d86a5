/*
 * Draining this worker's Engine.IO sessions (sio_drain()), for a server
 * about to stop: from now on a handshake is refused (503, its connection
 * closed, so the client's next try opens a new one, to whatever server
 * listens then), and the sessions open now are closed one after another,
 * spread evenly over the window, so their clients do not all come back
 * to the next server in the same instant.
 *
 * A session is closed as a server going away closes it: its transport
 * ends (a WebSocket gets a close frame and its connection is closed, a
 * waiting polling GET gets the close packet, a session between two GETs
 * is unknown at the next one), never with a Socket.IO DISCONNECT packet.
 * socket.io-client takes the first for "transport close" (or "transport
 * error") and reconnects by itself; a DISCONNECT would make it stop. The
 * Socket.IO layer sees the reason "server shutting down", as socket.io's
 * io.close() gives it.
 *
 * Every worker drains the sessions it owns: sio_drain() tells the others
 * (SIO_MSG_DRAIN, with the window's end on the shared monotonic clock),
 * so one call drains them all and they end together; a worker that was
 * told already ignores the next call. sio_drained() says when this
 * worker holds no session and relays no WebSocket any more.
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

/* How often the next sessions are closed (ms). */
#define DRAIN_TICK_MS		10

static void	drain_begin(u_int64_t);
static void	drain_collect(void *, void *);
static void	drain_tick(void *, u_int64_t);
static void	drain_recv(u_int16_t, const u_int8_t *, size_t);

int			engine_draining;

static char		(*drain_sids)[SIO_SID_LEN];
static size_t		drain_count;
static size_t		drain_next;
static u_int64_t	drain_start;
static u_int64_t	drain_end;

/* From engine_init(). */
void
engine_drain_init(void)
{
	bus_register(SIO_MSG_DRAIN, drain_recv);
}

/*
 * Drain every worker over seconds (0: close every session at once). The
 * caller's worker begins at once, the others when the bus brings it.
 */
void
sio_drain(u_int32_t seconds)
{
	u_int64_t	end;

	end = kore_time_ms() + (u_int64_t)seconds * 1000;
	drain_begin(end);
	bus_send_others(SIO_MSG_DRAIN, &end, sizeof(end));
}

/* Whether this worker has drained: no session, no relayed WebSocket. */
int
sio_drained(void)
{
	return (engine_draining && eio_session_count() == 0 &&
	    engine_ws_remote.count == 0);
}

static void
drain_recv(u_int16_t src, const u_int8_t *data, size_t len)
{
	u_int64_t	end;

	(void)src;
	if (len != sizeof(end))
		return;
	memcpy(&end, data, sizeof(end));
	drain_begin(end);
}

/* Take the list of sessions open now and close the first of them. */
static void
drain_begin(u_int64_t end)
{
	if (engine_draining)
		return;
	engine_draining = 1;

	drain_start = kore_time_ms();
	drain_end = end > drain_start ? end : drain_start;
	drain_count = drain_next = 0;
	drain_sids = sbuf_xcalloc(eio_session_count() + 1,
	    sizeof(*drain_sids));
	engine_sessions_foreach(drain_collect, NULL);

	if (sio_conf.debug) {
		sio_log(LOG_INFO, NULL, "eio: draining %zu sessions over "
		    "%llu ms", drain_count,
		    (unsigned long long)(drain_end - drain_start));
	}

	drain_tick(NULL, drain_start);
}

static void
drain_collect(void *value, void *arg)
{
	struct eio_session	*s = value;

	(void)arg;
	memcpy(drain_sids[drain_count++], s->sid, SIO_SID_LEN);
}

/*
 * Close the sessions due by now: the i-th of n at start + i * window / n,
 * so the first goes at once and the last a little before the end. A
 * session that ended by itself meanwhile is skipped.
 */
static void
drain_tick(void *arg, u_int64_t now)
{
	struct eio_session	*s;
	u_int64_t		window, due;

	(void)arg;

	window = drain_end - drain_start;
	if (window == 0 || now >= drain_end)
		due = drain_count;
	else
		due = drain_count * (now - drain_start) / window + 1;
	if (due > drain_count)
		due = drain_count;

	engine_send_batch_begin();
	for (; drain_next < due; drain_next++) {
		s = engine_session_find(drain_sids[drain_next]);
		if (s != NULL)
			engine_session_close(s, "server shutting down", 0);
	}
	engine_send_batch_end();

	/* A one-shot timer each time: Kore's may not be removed in its run. */
	if (drain_next < drain_count) {
		(void)kore_timer_add(drain_tick, DRAIN_TICK_MS, NULL,
		    KORE_TIMER_ONESHOT);
		return;
	}

	free(drain_sids);
	drain_sids = NULL;
}
