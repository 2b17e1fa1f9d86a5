/*
 * The HTTP long-polling transport of an Engine.IO session, on the worker
 * that owns it: the queue of frames waiting for a GET, its flush as one
 * payload, the GET that waits (on this worker or relayed from another)
 * and the POSTs whose payloads it decodes. The HTTP side of the requests
 * themselves is engine_http.c.
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <string.h>

#include "engine_int.h"

/* Keep f (a new reference) for the next GET; too much waiting closes s. */
void
engine_poll_enqueue(struct eio_session *s, struct sio_frame *f)
{
	if (s->qlen == s->qcap) {
		s->qcap = s->qcap ? s->qcap * 2 : 8;
		s->q = sbuf_xreallocarray(s->q, s->qcap, sizeof(*s->q));
	}

	frame_ref(f);
	s->q[s->qlen++] = f;
	s->qbytes += f->len;

	if (sio_conf.max_buffer > 0 && s->qbytes > sio_conf.max_buffer) {
		sio_log(LOG_NOTICE, s->sid, "eio: session %s: more than %zu "
		    "bytes waiting for a poll, closing", s->sid,
		    sio_conf.max_buffer);
		engine_session_close(s, "transport error", 0);
	}
}

/*
 * Hand what is queued to the waiting GET, as one payload of at most
 * max_poll_packets packets (python-socketio drops a session whose payload
 * has more than 16); the rest waits, in order, for the next GET.
 */
void
engine_poll_flush(struct eio_session *s)
{
	struct sbuf		b;
	struct sio_frame	*f;
	size_t			i, n;
	int			type;

	if (!s->has_get || s->qlen == 0)
		return;

	n = s->qlen;
	if (sio_conf.max_poll_packets > 0 && n > sio_conf.max_poll_packets)
		n = sio_conf.max_poll_packets;

	sbuf_init(&b);
	for (i = 0; i < n; i++) {
		f = s->q[i];
		if (f->binary) {
			(void)eio_payload_append(&b, EIO_PACKET_MESSAGE, 1,
			    SIO_FRAME_DATA(f), f->len);
		} else {
			type = SIO_FRAME_DATA(f)[0] - '0';
			(void)eio_payload_append(&b, type, 0,
			    SIO_FRAME_DATA(f) + 1, f->len - 1);
		}
		s->qbytes -= f->len;
		frame_unref(f);
	}
	s->qlen -= n;
	memmove(s->q, s->q + n, s->qlen * sizeof(*s->q));

	engine_poll_reply(s, 200, CT_TEXT, b.data, b.len);
	sbuf_free(&b);
}

/* Answer the GET waiting on s, here or on the worker it landed on. */
void
engine_poll_reply(struct eio_session *s, int status, int ctype,
    const void *body, size_t len)
{
	struct eio_peer		*g = &s->get;

	if (!s->has_get)
		return;
	s->has_get = 0;

	if (g->worker == worker->id) {
		engine_http_reply(g->preq, status, ctype, body, len);
		return;
	}

	engine_msg_send(g->worker, SIO_MSG_POLL_REPLY,
	    &(struct sio_msg){ .id = g->id, .status = status, .binary = ctype },
	    NULL, 0, body, len);
}

/*
 * A polling GET for s. Returns 1 if it is now waiting on the session (or
 * was answered at once), 0 if it was refused (its reply is set).
 */
int
engine_poll_get(struct eio_session *s, struct eio_peer *peer)
{
	struct eio_peer		refused;

	if (s->transport != T_POLLING) {
		refused = *peer;
		s = NULL;
		goto bad;
	}

	if (s->has_get) {
		/* engine.io: "overlap from client"; both requests fail. */
		refused = *peer;
		engine_session_close(s, "transport error", 0);
		goto bad;
	}

	s->get = *peer;
	s->has_get = 1;

	if (s->upgrading && s->qlen == 0)
		s->get_hold = kore_time_ms() + ENGINE_UPGRADE_GRACE_MS;
	else
		engine_poll_flush(s);

	return (1);

bad:
	if (refused.worker == worker->id) {
		engine_http_reply(refused.preq, 400, CT_JSON,
		    ENGINE_BAD_REQUEST, strlen(ENGINE_BAD_REQUEST));
	} else {
		engine_msg_send(refused.worker, SIO_MSG_POLL_REPLY,
		    &(struct sio_msg){ .id = refused.id, .status = 400 },
		    NULL, 0, ENGINE_BAD_REQUEST, strlen(ENGINE_BAD_REQUEST));
	}

	return (0);
}

/* A polling POST body for s; returns the HTTP status to answer. */
int
engine_poll_post(struct eio_session *s, const u_int8_t *body, size_t len)
{
	struct eio_payload	pl;
	struct eio_packet	pkt;
	int			r;

	if (s->transport != T_POLLING)
		return (400);

	if (len > sio_conf.max_payload) {
		engine_session_close(s, "transport error", 0);
		return (413);
	}

	if (!eio_payload_init(&pl, body, len, sio_conf.max_payload)) {
		engine_session_close(s, "parse error", 0);
		return (400);
	}

	while ((r = eio_payload_next(&pl, &pkt)) == EIO_NEXT_PACKET) {
		engine_session_packet(s, FROM_ACTIVE, &pkt);
		if (s->state != SESS_OPEN)
			break;
	}
	eio_payload_cleanup(&pl);

	if (r == EIO_NEXT_ERROR) {
		engine_session_close(s, "parse error", 0);
		return (400);
	}

	return (200);
}

/* The body of a POST answer for a known session. */
void
engine_poll_post_reply(int status, struct sbuf *b, int *ctype)
{
	sbuf_reset(b);
	*ctype = CT_JSON;

	if (status == 200) {
		*ctype = CT_HTML;
		sbuf_append(b, "ok", 2);
	} else if (status == 400) {
		sbuf_append_str(b, ENGINE_BAD_REQUEST);
	} else {
		sbuf_append_str(b, "{\"code\":1,\"message\":"
		    "\"Payload too large\"}");
	}
}
