/*
 * engine/engine.h: what the Engine.IO layer offers the layers above it
 * (server/ and sio.c): shared outgoing frames, sending them to a session,
 * and the engine's set-up. The engine calls up only through the struct
 * eio_handlers of an endpoint (sio.h). What the engine's own files share is
 * in engine_int.h.
 */

#ifndef SIO_ENGINE_H
#define SIO_ENGINE_H

#include <sys/types.h>

#include "sio_internal.h"

#define SIO_SID_LEN		20
#define SIO_FRAME_HDR_MAX	10
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

/* frame.c */
struct sio_frame	*frame_new(const void *, size_t, int);
struct sio_frame	*frame_new_text(int, const void *, size_t);
void			 frame_ref(struct sio_frame *);
void			 frame_unref(struct sio_frame *);

/* engine.c */
void		 engine_parent_init(void);
void		 engine_init(void);
u_int64_t	 engine_tick_interval(void);
void		 engine_send_frames(struct eio_session *, struct sio_frame **,
		    size_t);

/*
 * engine_remote.c: the relay between korio nodes (cluster/ carries it).
 * An engine_publish_fn publishes len bytes for the node whose tag (its
 * RELAY_TAG_LEN chars) is given; if nobody gets them it tells
 * engine_remote_nobody() the message's type and id.
 */
typedef void	(*engine_publish_fn)(const char *, const u_int8_t *, size_t,
		    u_int8_t, u_int64_t);

void		 engine_remote_enable(const char *, engine_publish_fn);
int		 engine_remote_in(const u_int8_t *, size_t);
void		 engine_remote_nobody(u_int8_t, u_int64_t);

/* engine_ws.c */
void		 engine_send_batch_begin(void);
void		 engine_send_batch_end(void);

#endif /* !SIO_ENGINE_H */
