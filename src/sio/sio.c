/*
 * The plugin's set-up: its configuration and the one place that wires its
 * layers together.
 *
 * Layers, each calling only the ones below it:
 *
 *   server/   Socket.IO: namespaces, sockets, emits, acks, rooms, the one
 *             order of broadcasts on every worker.
 *   engine/   Engine.IO: sessions, polling, WebSockets, the upgrade,
 *             relays of requests and frames between workers, frames.
 *   cluster/  cluster mode (REDIS_URL): Socket.IO's Redis adapter, its
 *             wire format, hiredis on Kore's loop.
 *   bus.c     messages between workers, a handler table.
 *   codec/    pure C: packet codecs, JSON as JavaScript writes it, the
 *             room index, a hash map, growable buffers.
 *
 * The engine knows nothing of Socket.IO: it calls the struct eio_handlers
 * of an endpoint, and sio_init() hands it the server's as endpoint 0.
 *
 * Where does a broadcast reach a WebSocket held by another worker?
 * sio_broadcast() (server/server_emit.c) encodes the frames once and sends
 * them to every other worker on the bus in the shared order
 * (server/server_order.c); each worker fans them out to the members of
 * the rooms it owns sessions of (engine_send_frames(), engine/engine.c).
 * A session whose WebSocket landed on yet another worker has its frames
 * relayed there (SIO_MSG_WS_OUT, engine/engine_ws.c), batched per worker.
 *
 * Where does a socket lost with its connection come back (connection-state
 * recovery, server/server_recover.c)? On whatever worker its new session
 * lands: the worker it lived on kept it and hands it over when asked, and
 * every worker logged the broadcasts it fanned out, in the same order, so
 * any of them replays what the socket missed.
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sio_internal.h"
#include "bus.h"
#include "cluster/cluster.h"
#include "engine/engine.h"
#include "server/server.h"

struct sio_config	sio_conf;

void
sio_config_defaults(struct sio_config *cf)
{
	memset(cf, 0, sizeof(*cf));
	cf->path = "/socket.io/";
	cf->ping_interval = 25000;
	cf->ping_timeout = 20000;
	cf->connect_timeout = 45000;
	cf->upgrade_timeout = 10000;
	cf->max_payload = 1000000;
	cf->max_buffer = 4 * 1024 * 1024;
	cf->max_poll_packets = 16;
	cf->max_attachment_bytes = 1000000;
	cf->cors_origin = "*";
	cf->debug = 0;
	cf->recovery_ms = 0;
	cf->recovery_max_events = 10000;
	cf->recovery_max_bytes = 2 * 1024 * 1024;
	cf->recovery_max_sessions = 10000;
	cf->redis_url = NULL;
	cf->redis_prefix = "socket.io";
	cf->redis_queue_max = 1000;
	cf->redis_queue_bytes = 8 * 1024 * 1024;
	cf->log = NULL;
}

/* In kore_parent_configure(): state the workers will share. */
void
sio_parent_init(void)
{
	engine_parent_init();
	server_order_parent_init();
	cluster_parent_init();
}

/*
 * Set up the plugin in this worker: call from kore_worker_configure(), in
 * every worker, before creating raw endpoints, with the same configuration
 * everywhere. The Socket.IO endpoint is endpoint 0.
 */
void
sio_init(const struct sio_config *cf)
{
	sio_conf = *cf;

	bus_init();
	engine_init();
	server_init();
	eio_endpoint_create(cf->path, &server_handlers);
	if (cf->redis_url != NULL)
		cluster_init();
	bus_start();
}

/*
 * Every layer's log line about one session or socket (sid): to the
 * application's sio_conf.log when it set one, else to kore_log().
 */
void
sio_log(int prio, const char *sid, const char *fmt, ...)
{
	va_list		args;
	char		msg[1024];

	va_start(args, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);

	if (sio_conf.log != NULL)
		sio_conf.log(prio, sid, msg);
	else
		kore_log(prio, "%s", msg);
}
