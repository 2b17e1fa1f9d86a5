/*
 * server.h: what the Socket.IO layer's files share (server.c,
 * server_socket.c, server_emit.c): namespaces, clients, sockets, pending
 * acks, and the functions one file calls in another. Nothing outside
 * server*.c includes it; the rest of the plugin sees sio_internal.h.
 */

#ifndef SIO_SERVER_H
#define SIO_SERVER_H

#include <sys/types.h>
#include <sys/queue.h>

#include "sio_internal.h"
#include "eio.h"
#include "hmap.h"
#include "rooms.h"
#include "sio_packet.h"

#define SOCK_CONNECTING		1
#define SOCK_CONNECTED		2
#define SOCK_CLOSED		3

#define NSP_MAX			16

struct sio_nsp {
	char			*name;
	u_int8_t		index;
	sio_connect_fn		on_connect;
	sio_socket_fn		on_connection;
	sio_disconnect_fn	on_disconnect;
	sio_event_fn		on_unknown;
	struct hmap		handlers;
	struct rooms		rooms;
	TAILQ_HEAD(, sio_socket) sockets;
	size_t			count;
};

struct sio_pending_ack {
	int64_t				id;
	sio_ack_fn			fn;
	void				*arg;
	TAILQ_ENTRY(sio_pending_ack)	list;
};

struct sio_client {
	struct eio_session		*s;
	struct sio_packet_reasm		reasm;
	TAILQ_HEAD(, sio_socket)	sockets;
	int				got_connect;
	u_int64_t			deadline;
	int				in_ctq;
	TAILQ_ENTRY(sio_client)		ctl;
};

struct sio_socket {
	char				id[SIO_SID_LEN + 1];
	struct sio_nsp			*nsp;
	struct sio_client		*client;
	int				state;
	u_int32_t			refs;
	void				*udata;
	int64_t				next_ack;
	TAILQ_HEAD(, sio_pending_ack)	acks;
	struct rooms_member		member;
	TAILQ_ENTRY(sio_socket)		clist;
	TAILQ_ENTRY(sio_socket)		nlist;
};

/* server.c */
extern struct sio_nsp		*server_nsps[NSP_MAX];
extern size_t			 server_nnsps;

struct sio_socket *server_find(struct sio_client *, const char *);
void		 server_ctq_remove(struct sio_client *);

/* server_socket.c */
void		 server_socket_connect(struct sio_client *,
		    struct sio_packet *);
void		 server_socket_close(struct sio_socket *, const char *);

/* server_emit.c */
int		 server_emit_packet(struct sio_socket *, int, int64_t, json_t *,
		    const struct sio_attachment *, size_t);

#endif /* !SIO_SERVER_H */
