/*
 * server/server.h: what the Socket.IO layer's files share (server.c,
 * server_socket.c, server_emit.c, server_order.c, server_filter.c,
 * server_monitor.c, server_recover.c): namespaces, clients, sockets,
 * pending acks, and the functions one file calls in another.
 * Outside server/ only sio.c includes it, for server_init(),
 * server_handlers and server_order_parent_init().
 */

#ifndef SIO_SERVER_H
#define SIO_SERVER_H

#include <sys/types.h>
#include <sys/queue.h>

#include "sio_internal.h"
#include "bus.h"
#include "engine/engine.h"
#include "codec/eio.h"
#include "codec/hmap.h"
#include "codec/rooms.h"
#include "codec/sbuf.h"
#include "codec/sio_packet.h"

#define SOCK_CONNECTING		1
#define SOCK_CONNECTED		2
#define SOCK_CLOSED		3

#define NSP_MAX			SIO_NSP_MAX

struct sio_nsp {
	char			*name;
	u_int8_t		index;
	sio_connect_fn		on_connect;
	sio_socket_fn		on_connection;
	sio_disconnect_fn	on_disconnect;
	sio_event_fn		on_unknown;
	sio_save_fn		on_save;
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
	u_int16_t			recover_asked;	/* by nsp index */
	TAILQ_ENTRY(sio_client)		ctl;
};

struct server_recovery;

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
	char				pid[SIO_SID_LEN + 1];
	struct server_recovery		*recovery;
	TAILQ_ENTRY(sio_socket)		clist;
	TAILQ_ENTRY(sio_socket)		nlist;
};

/*
 * A broadcast made on this worker, waiting for its turn in the order of
 * server_order.c: the frames it encoded (a reference each) and its room
 * names, kept as they are so that the local fan-out decodes nothing.
 */
struct server_bcast {
	struct sio_nsp		*nsp;
	const char		**names;	/* rooms, then except */
	size_t			 nrooms;
	size_t			 nexcept;
	size_t			 nf;
	struct sio_frame	*frames[SIO_FRAMES_MAX];
};

/* server.c */
extern struct sio_nsp		*server_nsps[NSP_MAX];
extern size_t			 server_nnsps;
extern const struct eio_handlers server_handlers;

void		 server_init(void);

struct sio_socket *server_find(struct sio_client *, const char *);
void		 server_ctq_remove(struct sio_client *);

/* server_socket.c */
void		 server_socket_connect(struct sio_client *,
		    struct sio_packet *);
void		 server_socket_handshake(struct sio_socket *, json_t *);
void		 server_socket_close(struct sio_socket *, const char *);
void		 server_socket_id_new(char *);

/* server_emit.c */
int		 server_emit_packet(struct sio_socket *, int, int64_t, json_t *,
		    const struct sio_attachment *, size_t);
void		 server_msg_broadcast(const u_int8_t *, size_t,
		    struct sio_socket *);
void		 server_msg_sockets_leave(const u_int8_t *, size_t,
		    struct sio_socket *);
void		 server_bcast_deliver(struct server_bcast *);
void		 server_broadcast_frames(struct sio_nsp *, const char *const *,
		    size_t, const char *const *, size_t, struct sio_frame **,
		    size_t);
struct sio_socket **server_members(struct sio_nsp *, const char *const *,
		    size_t, struct sio_socket *, size_t *);
size_t		 server_encode_event(struct sio_frame **, struct sio_nsp *,
		    json_t *);

/* server_monitor.c */
extern const struct sio_monitor	*server_monitor;

void		 server_upgrade(struct eio_session *);
void		 server_monitor_left(const char *, void *);

/* server_filter.c */
void		 server_filter_init(void);
void		 server_msg_filtered(const u_int8_t *, size_t, u_int64_t,
		    struct sio_socket *);
int		 server_filtered_inject(struct sio_nsp *, u_int8_t *, size_t);

/* server_order.c: a numbered message's head, its number and time */
#define SERVER_ORDER_HEAD	(2 * sizeof(u_int64_t))

void		 server_order_parent_init(void);
void		 server_order_init(void);
u_int64_t	 server_order_take(void);
void		 server_order_head(struct sbuf *, u_int64_t);
void		 server_order_put(u_int64_t, u_int8_t, const u_int8_t *,
		    size_t);
void		 server_order_put_local(u_int64_t, struct server_bcast *);
void		 server_order_run(void);
void		 server_order_tick(u_int64_t);
u_int64_t	 server_order_next(void);
void		 server_order_fanout(u_int64_t, u_int8_t, const u_int8_t *,
		    size_t, struct sio_socket *);

/* server_recover.c */
void		 server_recover_init(void);
int		 server_recover_connect(struct sio_socket *, json_t *);
void		 server_recover_accept(struct sio_socket *, json_t *);
void		 server_recover_restore(struct sio_socket *);
void		 server_recover_keep(struct sio_socket *, const char *);
void		 server_recover_end(struct sio_socket *, const char *);
void		 server_recover_offset(struct sio_frame **, u_int64_t);
void		 server_recover_offset_args(json_t *, u_int64_t);
void		 server_recover_log(u_int64_t, u_int8_t, const u_int8_t *,
		    size_t);
void		 server_recover_tick(u_int64_t);

#endif /* !SIO_SERVER_H */
