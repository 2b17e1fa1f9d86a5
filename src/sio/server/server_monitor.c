/*
 * What an observer of the server sees (an admin or metrics module, in the
 * application): the monitor's hooks, called from the files that make the
 * changes (server.c, server_socket.c, server_emit.c), and the accessors it
 * needs to describe sockets as socket.io does: every namespace, a socket's
 * rooms, its transport and the request that opened its session. Also
 * socket.io's socket.disconnect(true), which ends a whole client.
 *
 * No monitor is set by default: each hook is then one test of a pointer.
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <string.h>

#include "server.h"

const struct sio_monitor	*server_monitor;

/* mon (kept, not copied) sees every socket of this worker from now on. */
void
sio_monitor_set(const struct sio_monitor *mon)
{
	server_monitor = mon;
}

/* Up to max namespaces into out, in the order they were created. */
size_t
sio_nsp_list(struct sio_nsp **out, size_t max)
{
	size_t		i;

	for (i = 0; i < server_nnsps && i < max; i++)
		out[i] = server_nsps[i];

	return (i);
}

const char *
sio_nsp_name(struct sio_nsp *n)
{
	return (n->name);
}

/* cb(room, arg) for each room so is in; cb must not join or leave. */
void
sio_socket_rooms(struct sio_socket *so, void (*cb)(const char *, void *),
    void *arg)
{
	rooms_member_foreach_room(&so->member, cb, arg);
}

/* "polling" or "websocket"; NULL once so has ended. */
const char *
sio_socket_transport(struct sio_socket *so)
{
	if (so->client == NULL)
		return (NULL);

	return (eio_session_transport(so->client->s));
}

/*
 * The request that opened so's session (eio_session_handshake()), when
 * the configuration keeps it; borrowed. NULL otherwise.
 */
json_t *
sio_socket_handshake(struct sio_socket *so)
{
	if (so->client == NULL)
		return (NULL);

	return (eio_session_handshake(so->client->s));
}

/*
 * socket.io's socket.disconnect(true): every socket of so's client gets
 * its DISCONNECT ("io server disconnect": no reconnection), then the
 * connection closes. so is gone when it returns.
 */
void
sio_disconnect_close(struct sio_socket *so)
{
	struct eio_session	*s;
	struct sio_client	*c;
	struct sio_socket	*other;

	if (so->client == NULL)
		return;

	/* A send may close the session, which frees the client: ask again. */
	s = so->client->s;
	while ((c = eio_session_udata(s)) != NULL &&
	    (other = TAILQ_FIRST(&c->sockets)) != NULL) {
		if (other->state == SOCK_CONNECTED)
			sio_disconnect(other);
		else
			server_socket_close(other, NULL);
	}
	eio_close(s, "forced server close");
}

/* The engine's upgrade callback: each socket of the client is told. */
void
server_upgrade(struct eio_session *s)
{
	struct sio_client	*c;
	struct sio_socket	*so;

	if (server_monitor == NULL || server_monitor->upgraded == NULL ||
	    (c = eio_session_udata(s)) == NULL)
		return;

	TAILQ_FOREACH(so, &c->sockets, clist) {
		if (so->state == SOCK_CONNECTED)
			server_monitor->upgraded(so);
	}
}

/* For server_socket_close(): the left hook for one of its rooms. */
void
server_monitor_left(const char *room, void *arg)
{
	server_monitor->left(arg, room);
}
