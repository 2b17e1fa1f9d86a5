/*
 * Shared outgoing frames.
 *
 * A frame holds one Engine.IO packet (text: type digit plus data; binary:
 * the raw bytes of a message packet), reference counted. A packet sent to a
 * room is encoded into frames once; each WebSocket recipient gets the same
 * bytes queued with net_send_stream() (no copy) and drops its reference
 * when Kore is done with the netbuf, each polling recipient keeps a
 * reference in its queue until a GET takes it.
 *
 * The WebSocket frame header (server frames are never masked) is written
 * once, in front of the packet bytes, the first time the frame goes out on
 * a WebSocket.
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

static int	frame_sent(struct netbuf *);

struct sio_frame *
frame_new(const void *data, size_t len, int binary)
{
	struct sio_frame	*f;

	f = sbuf_xmalloc(sizeof(*f) + SIO_FRAME_HDR_MAX + len + 1);
	f->refs = 1;
	f->binary = binary ? 1 : 0;
	f->hdrlen = 0;
	f->len = len;
	if (data != NULL && len > 0)
		memcpy(SIO_FRAME_DATA(f), data, len);
	SIO_FRAME_DATA(f)[len] = '\0';

	return (f);
}

/* A text packet: the Engine.IO type digit followed by data. */
struct sio_frame *
frame_new_text(int type, const void *data, size_t len)
{
	struct sio_frame	*f;

	f = frame_new(NULL, len + 1, 0);
	SIO_FRAME_DATA(f)[0] = (u_int8_t)('0' + type);
	if (data != NULL && len > 0)
		memcpy(SIO_FRAME_DATA(f) + 1, data, len);
	SIO_FRAME_DATA(f)[len + 1] = '\0';

	return (f);
}

void
frame_ref(struct sio_frame *f)
{
	f->refs++;
}

void
frame_unref(struct sio_frame *f)
{
	if (f == NULL)
		return;
	if (--f->refs == 0)
		free(f);
}

/*
 * Queue the frame on a WebSocket connection and try to write it. Returns
 * KORE_RESULT_ERROR when more than maxq bytes are waiting in the
 * connection's send queue (a client that stopped reading; Kore counts
 * them, PONGs included): the caller closes the session.
 */
int
frame_send_ws(struct connection *c, struct sio_frame *f, size_t maxq)
{
	struct netbuf	*nb;
	u_int8_t	*h;
	size_t		len;

	len = f->len;
	if (f->hdrlen == 0) {
		if (len < 126)
			f->hdrlen = 2;
		else if (len <= 0xffff)
			f->hdrlen = 4;
		else
			f->hdrlen = 10;
		h = SIO_FRAME_DATA(f) - f->hdrlen;
		h[0] = 0x80 | (f->binary ? WEBSOCKET_OP_BINARY :
		    WEBSOCKET_OP_TEXT);
		if (f->hdrlen == 2) {
			h[1] = (u_int8_t)len;
		} else if (f->hdrlen == 4) {
			h[1] = 126;
			h[2] = (u_int8_t)(len >> 8);
			h[3] = (u_int8_t)len;
		} else {
			h[1] = 127;
			net_write64(&h[2], (u_int64_t)len);
		}
	}

	/* net_send_stream() points at the frame; frame_sent() unrefs it. */
	frame_ref(f);
	net_send_stream(c, SIO_FRAME_DATA(f) - f->hdrlen, f->hdrlen + len,
	    frame_sent, &nb);
	nb->extra = f;

	if (!net_send_flush(c))
		return (KORE_RESULT_ERROR);

	if (maxq != 0 && c->send_queued > maxq)
		return (KORE_RESULT_ERROR);

	return (KORE_RESULT_OK);
}

void
frame_send_close(struct connection *c)
{
	if (c->flags & CONN_WS_CLOSE_SENT)
		return;
	c->flags |= CONN_WS_CLOSE_SENT;
	kore_websocket_send(c, WEBSOCKET_OP_CLOSE, NULL, 0);
}

static int
frame_sent(struct netbuf *nb)
{
	frame_unref(nb->extra);
	nb->extra = NULL;

	return (KORE_RESULT_OK);
}
