/*
 * Socket.IO sockets, one per namespace a client connected: the CONNECT
 * of a namespace, the namespace's connect middleware accepting or
 * refusing it, a disconnect from either side, accessors and references
 * (a socket is freed when its last reference goes), rooms, and a
 * socket's end, which leaves its rooms and fails its pending acks.
 * A socket that takes over a kept session (connection-state recovery)
 * gets its rooms and missed messages back in sio_accept(), through
 * server_recover.c.
 */

#include <sys/types.h>
#include <sys/random.h>

#include <kore/kore.h>

#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "cluster/cluster.h"

static void	socket_free(struct sio_socket *);
static void	socket_stats_rooms(void);

/* A CONNECT: a new socket, handed to its namespace's connect middleware. */
void
server_socket_connect(struct sio_client *c, struct sio_packet *pkt)
{
	struct sio_nsp		*n;
	struct sio_socket	*so;
	json_t			*auth;

	c->got_connect = 1;

	if ((n = sio_nsp_lookup(pkt->nsp)) == NULL) {
		so = &(struct sio_socket){ .client = c };
		so->nsp = &(struct sio_nsp){ .name = pkt->nsp };
		(void)server_emit_packet(so, SIO_PACKET_CONNECT_ERROR, -1,
		    json_pack("{s:s}", "message", "Invalid namespace"),
		    NULL, 0);
		return;
	}

	if (server_find(c, n->name) != NULL)
		return;

	so = sbuf_xcalloc(1, sizeof(*so));
	server_socket_id_new(so->id);
	so->nsp = n;
	so->client = c;
	so->state = SOCK_CONNECTING;
	so->refs = 1;
	TAILQ_INIT(&so->acks);
	rooms_member_init(&so->member, so);
	TAILQ_INSERT_TAIL(&c->sockets, so, clist);

	auth = pkt->data != NULL ? json_incref(pkt->data) : json_object();
	if (!server_recover_connect(so, auth))
		server_socket_handshake(so, auth);
	json_decref(auth);
}

/* Hand a connecting socket to its namespace's connect middleware. */
void
server_socket_handshake(struct sio_socket *so, json_t *auth)
{
	if (so->nsp->on_connect != NULL)
		so->nsp->on_connect(so, auth);
	else
		sio_accept(so);
}

/*
 * Accept a socket that is waiting in its namespace's connect middleware.
 * One that takes over a kept session gets its rooms back and the messages
 * it missed here, right after the CONNECT reply (which may end it).
 */
void
sio_accept(struct sio_socket *so)
{
	struct sio_nsp	*n = so->nsp;
	json_t		*reply;

	if (so->state != SOCK_CONNECTING)
		return;

	sio_socket_ref(so);
	so->state = SOCK_CONNECTED;
	TAILQ_INSERT_TAIL(&n->sockets, so, nlist);
	n->count++;
	server_ctq_remove(so->client);

	reply = json_pack("{s:s}", "sid", so->id);
	server_recover_accept(so, reply);
	(void)server_emit_packet(so, SIO_PACKET_CONNECT, -1, reply, NULL, 0);

	if (sio_conf.debug && so->client != NULL) {
		sio_log(LOG_INFO, so->id, "sio: %s: socket %s connected to %s",
		    eio_session_id(so->client->s), so->id, n->name);
	}

	if (so->state == SOCK_CONNECTED && server_monitor != NULL &&
	    server_monitor->connected != NULL)
		server_monitor->connected(so);
	/* Cluster mode: in the room of its own id, as in Socket.IO. */
	if (cluster_on && so->state == SOCK_CONNECTED)
		cluster_socket_accepted(so);
	if (so->state == SOCK_CONNECTED)
		server_recover_restore(so);
	if (so->state == SOCK_CONNECTED && n->on_connection != NULL)
		n->on_connection(so);
	server_recover_end(so, NULL);
	sio_socket_unref(so);
}

/* Refuse a connecting socket: CONNECT_ERROR {message, data}. */
void
sio_reject(struct sio_socket *so, const char *message, json_t *data)
{
	json_t		*err;

	if (so->state != SOCK_CONNECTING) {
		json_decref(data);
		return;
	}

	err = json_pack("{s:s}", "message", message);
	if (data != NULL)
		(void)json_object_set_new(err, "data", data);
	(void)server_emit_packet(so, SIO_PACKET_CONNECT_ERROR, -1, err,
	    NULL, 0);

	if (sio_conf.debug) {
		sio_log(LOG_INFO, eio_session_id(so->client->s),
		    "sio: %s: connect to %s refused: %s",
		    eio_session_id(so->client->s), so->nsp->name, message);
	}

	server_socket_close(so, NULL);
}

void
sio_disconnect(struct sio_socket *so)
{
	if (so->state == SOCK_CLOSED)
		return;

	(void)server_emit_packet(so, SIO_PACKET_DISCONNECT, -1, NULL, NULL, 0);
	server_socket_close(so, "server namespace disconnect");
}

const char *
sio_socket_id(struct sio_socket *so)
{
	return (so->id);
}

/*
 * The Engine.IO session id of so's connection (the same for every socket
 * of one client connection); NULL once so has ended.
 */
const char *
sio_socket_sid(struct sio_socket *so)
{
	if (so->client == NULL)
		return (NULL);

	return (eio_session_id(so->client->s));
}

/*
 * End so's whole connection, every namespace of it (a client that abuses
 * it). May be called from a handler of so; so is gone when it returns.
 */
void
sio_socket_close_session(struct sio_socket *so, const char *reason)
{
	if (so->client != NULL)
		eio_close(so->client->s, reason);
}

struct sio_nsp *
sio_socket_nsp(struct sio_socket *so)
{
	return (so->nsp);
}

int
sio_socket_connected(struct sio_socket *so)
{
	return (so->state == SOCK_CONNECTED);
}

void *
sio_socket_udata(struct sio_socket *so)
{
	return (so->udata);
}

void
sio_socket_set_udata(struct sio_socket *so, void *udata)
{
	so->udata = udata;
}

void
sio_socket_ref(struct sio_socket *so)
{
	so->refs++;
}

void
sio_socket_unref(struct sio_socket *so)
{
	if (--so->refs == 0)
		socket_free(so);
}

int
sio_join(struct sio_socket *so, const char *room)
{
	if (so->state != SOCK_CONNECTED)
		return (0);
	server_order_run();
	if (!rooms_join(&so->nsp->rooms, &so->member, room))
		return (0);
	socket_stats_rooms();
	if (server_monitor != NULL && server_monitor->joined != NULL)
		server_monitor->joined(so, room);
	return (1);
}

int
sio_leave(struct sio_socket *so, const char *room)
{
	if (so->state != SOCK_CONNECTED)
		return (0);
	server_order_run();
	if (!rooms_leave(&so->nsp->rooms, &so->member, room))
		return (0);
	socket_stats_rooms();
	if (server_monitor != NULL && server_monitor->left != NULL)
		server_monitor->left(so, room);
	return (1);
}

/* The rooms gauge (stats.c): rooms with members here, every namespace. */
static void
socket_stats_rooms(void)
{
	size_t		i, n;

	for (i = n = 0; i < server_nnsps; i++)
		n += rooms_total(&server_nsps[i]->rooms);
	SIO_STAT_SET(rooms, n);
}

int
sio_in_room(struct sio_socket *so, const char *room)
{
	return (rooms_has(&so->nsp->rooms, &so->member, room));
}

/*
 * A socket's end: leave its rooms, run the disconnect handler (for sockets
 * that were connected; reason NULL for a refused one), drop pending acks.
 */
void
server_socket_close(struct sio_socket *so, const char *reason)
{
	struct sio_pending_ack	*pa;
	struct sio_client	*c = so->client;
	int			was;

	if (so->state == SOCK_CLOSED)
		return;

	was = so->state;
	so->state = SOCK_CLOSED;
	TAILQ_REMOVE(&c->sockets, so, clist);

	if (was == SOCK_CONNECTED) {
		server_recover_keep(so, reason);
		TAILQ_REMOVE(&so->nsp->sockets, so, nlist);
		so->nsp->count--;
		if (server_monitor != NULL &&
		    server_monitor->disconnected != NULL)
			server_monitor->disconnected(so, reason);
		if (server_monitor != NULL && server_monitor->left != NULL)
			rooms_member_foreach_room(&so->member,
			    server_monitor_left, so);
		if (rooms_leave_all(&so->nsp->rooms, &so->member) > 0)
			socket_stats_rooms();
		if (sio_conf.debug && reason != NULL) {
			sio_log(LOG_INFO, so->id, "sio: socket %s "
			    "disconnected: %s", so->id, reason);
		}
		if (so->nsp->on_disconnect != NULL && reason != NULL)
			so->nsp->on_disconnect(so, reason);
	}

	while ((pa = TAILQ_FIRST(&so->acks)) != NULL) {
		TAILQ_REMOVE(&so->acks, pa, list);
		pa->fn(so, NULL, pa->arg);
		free(pa);
	}

	server_recover_end(so, reason);
	so->client = NULL;
	sio_socket_unref(so);
}

static void
socket_free(struct sio_socket *so)
{
	free(so);
}

/* A random id of SIO_SID_LEN characters (socket ids, recovery's pids). */
void
server_socket_id_new(char *id)
{
	static const char	b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	u_int8_t		rnd[SIO_SID_LEN];
	size_t			i;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		fatal("getrandom: %s", errno_s);

	for (i = 0; i < SIO_SID_LEN; i++)
		id[i] = b64[rnd[i] & 63];
	id[SIO_SID_LEN] = '\0';
}
