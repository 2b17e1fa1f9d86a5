/*
 * bus.h: the plugin's messages between the workers of one process, over
 * Kore's message bus, with a handler table. Each layer registers the
 * handlers of its own message ids (bus_register()); bus.c knows none of
 * them. Applications reach the same bus through sio_bus_register() and
 * sio_bus_send() (sio.h), with ids from SIO_MSG_APP_FIRST on.
 */

#ifndef SIO_BUS_H
#define SIO_BUS_H

#include <sys/types.h>

#include "sio.h"

/* The engine's relays (engine/engine_relay.c). */
#define SIO_MSG_POLL_GET	(SIO_MSG_BASE + 0)
#define SIO_MSG_POLL_POST	(SIO_MSG_BASE + 1)
#define SIO_MSG_POLL_REPLY	(SIO_MSG_BASE + 2)
#define SIO_MSG_POLL_CANCEL	(SIO_MSG_BASE + 3)
#define SIO_MSG_WS_ATTACH	(SIO_MSG_BASE + 4)
#define SIO_MSG_WS_ATTACH_REPLY	(SIO_MSG_BASE + 5)
#define SIO_MSG_WS_IN		(SIO_MSG_BASE + 6)
#define SIO_MSG_WS_GONE		(SIO_MSG_BASE + 7)
#define SIO_MSG_WS_OUT		(SIO_MSG_BASE + 8)
#define SIO_MSG_WS_CLOSE	(SIO_MSG_BASE + 9)
/* The server's numbered messages (server/server_order.c). */
#define SIO_MSG_BROADCAST	(SIO_MSG_BASE + 10)
#define SIO_MSG_SOCKETS_LEAVE	(SIO_MSG_BASE + 11)
#define SIO_MSG_FILTERED	(SIO_MSG_BASE + 12)
/* Kept sessions asked for and handed over (server/server_recover.c). */
#define SIO_MSG_RECOVER		(SIO_MSG_BASE + 13)
/* A worker's first word to the others (bus.c). */
#define SIO_MSG_HELLO		(SIO_MSG_BASE + 14)

/* Told that worker id started again: what it held died with it. */
typedef void	(*bus_restart_fn)(u_int16_t);
/* Cluster mode: a request from Redis to every worker, their answers. */
#define SIO_MSG_CLUSTER_REQ	(SIO_MSG_BASE + 15)
#define SIO_MSG_CLUSTER_PART	(SIO_MSG_BASE + 16)
/* Drain every worker (engine/engine_drain.c). */
#define SIO_MSG_DRAIN		(SIO_MSG_BASE + 17)
/* Cluster presence: a worker asks the owner, the owner tells the union. */
#define SIO_MSG_CLUSTER_PRESENCE (SIO_MSG_BASE + 18)
/* A relay message from another node, to the worker it is for. */
#define SIO_MSG_RELAY_IN	(SIO_MSG_BASE + 19)

/*
 * Peers on other korio nodes (engine/engine_remote.c) have ids of their
 * own, never a worker's: bus_send() to one goes to the remote hook.
 * BUS_REMOTE_SID: the owner of the session id the message carries.
 */
#define BUS_REMOTE_FIRST	0x8000
#define BUS_REMOTE_SID		0xffff

typedef void	(*bus_remote_fn)(u_int16_t, u_int8_t, const void *, size_t,
		    const void *, size_t, const void *, size_t);

/* bus.c */
void		 bus_init(void);
void		 bus_start(void);
void		 bus_register(u_int8_t, sio_bus_fn);
void		 bus_send(u_int16_t, u_int8_t, const void *, size_t,
		    const void *, size_t, const void *, size_t);
void		 bus_send_others(u_int8_t, const void *, size_t);
void		 bus_on_restart(bus_restart_fn);
void		 bus_set_remote(bus_remote_fn);
void		 bus_deliver(u_int8_t, u_int16_t, const u_int8_t *, size_t);
u_int16_t	 bus_worker_count(void);

#endif /* !SIO_BUS_H */
