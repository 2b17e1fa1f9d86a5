/*
 * Internals shared by the plugin's Kore glue: engine*.c (Engine.IO
 * sessions and transports; what only they share is in engine.h), frame.c
 * (shared outgoing frames), bus.c (messages between workers) and
 * server*.c (the Socket.IO layer).
 */

#ifndef SIO_INTERNAL_H
#define SIO_INTERNAL_H

#include <sys/types.h>
#include <sys/queue.h>

#include "sio.h"
#include "sbuf.h"

#define SIO_SID_LEN		20
#define SIO_FRAME_HDR_MAX	10
#define SIO_ENDPOINT_MAX	4
#define SIO_FRAMES_MAX		11	/* one text packet + 10 attachments */

/*
 * One outgoing Engine.IO packet, encoded once and shared by reference by
 * every recipient (WebSocket send queues, polling queues). The packet bytes
 * start SIO_FRAME_HDR_MAX bytes into buf, leaving room to put the
 * WebSocket frame header right in front of them once, so that a WebSocket
 * recipient gets a single contiguous write of the same bytes.
 */
struct sio_frame {
	u_int32_t	refs;
	u_int8_t	binary;
	u_int8_t	hdrlen;
	size_t		len;
	u_int8_t	buf[];
};

#define SIO_FRAME_DATA(f)	((f)->buf + SIO_FRAME_HDR_MAX)

/* Where one transport of a session lives: this worker or another one. */
struct eio_peer {
	u_int16_t		worker;
	u_int64_t		id;
	struct eio_ws		*ws;
	struct eio_preq		*preq;
};

/* frame.c */
struct sio_frame	*frame_new(const void *, size_t, int);
struct sio_frame	*frame_new_text(int, const void *, size_t);
void			 frame_ref(struct sio_frame *);
void			 frame_unref(struct sio_frame *);
int			 frame_send_ws(struct connection *, struct sio_frame *,
			    size_t);
void			 frame_send_close(struct connection *);

/* engine.c */
void		 engine_send_frames(struct eio_session *, struct sio_frame **,
		    size_t);

/* engine_ws.c */
void		 engine_send_batch_begin(void);
void		 engine_send_batch_end(void);

/* engine_relay.c */
void		 engine_msg_poll_get(u_int16_t, const u_int8_t *, size_t);
void		 engine_msg_poll_post(u_int16_t, const u_int8_t *, size_t);
void		 engine_msg_poll_reply(const u_int8_t *, size_t);
void		 engine_msg_poll_cancel(u_int16_t, const u_int8_t *, size_t);
void		 engine_msg_ws_attach(u_int16_t, const u_int8_t *, size_t);
void		 engine_msg_ws_attach_reply(const u_int8_t *, size_t);
void		 engine_msg_ws_in(u_int16_t, const u_int8_t *, size_t);
void		 engine_msg_ws_gone(u_int16_t, const u_int8_t *, size_t);
void		 engine_msg_ws_out(const u_int8_t *, size_t);
void		 engine_msg_ws_close(const u_int8_t *, size_t);

/* bus.c */
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
#define SIO_MSG_BROADCAST	(SIO_MSG_BASE + 10)
#define SIO_MSG_SOCKETS_LEAVE	(SIO_MSG_BASE + 11)

/*
 * The fixed head of every plugin message; a payload may follow. For
 * WS_OUT, count WebSocket ids (u_int64_t each) follow the head, then the
 * frames.
 */
struct sio_msg {
	u_int8_t	ep;
	u_int8_t	binary;
	u_int16_t	status;
	u_int32_t	count;
	u_int64_t	id;
	char		sid[SIO_SID_LEN];
};

void		 bus_init(void);
void		 bus_send(u_int16_t, u_int8_t, const struct sio_msg *,
		    const void *, size_t, const void *, size_t);
void		 bus_send_others(u_int8_t, const void *, size_t);
u_int16_t	 bus_worker_count(void);

/* server.c */
void		 server_init(void);
void		 server_open(struct eio_session *);
void		 server_message(struct eio_session *, const u_int8_t *, size_t,
		    int);
void		 server_close(struct eio_session *, const char *);
void		 server_tick(u_int64_t);

/* server_emit.c */
void		 server_msg_broadcast(const u_int8_t *, size_t);

/* server_order.c */
void		 server_order_init(void);
u_int64_t	 server_order_take(void);
void		 server_order_put(u_int64_t, u_int8_t, const u_int8_t *,
		    size_t);
void		 server_order_recv(u_int8_t, const u_int8_t *, size_t);
void		 server_order_run(void);
void		 server_order_tick(u_int64_t);
void		 server_msg_sockets_leave(const u_int8_t *, size_t);

extern struct sio_config	sio_conf;

#endif
