/*
 * engine_int.h: what the Engine.IO layer's own files share (engine.c,
 * engine_poll.c, engine_ws.c, engine_http.c, engine_relay.c, frame.c):
 * sessions, WebSockets and requests, the relay messages, and the functions
 * one file calls in another. Nothing outside engine/ includes it; the
 * layers above see engine.h.
 */

#ifndef SIO_ENGINE_INT_H
#define SIO_ENGINE_INT_H

#include <sys/types.h>
#include <sys/queue.h>

#include "engine.h"
#include "bus.h"
#include "codec/eio.h"
#include "codec/hmap.h"
#include "codec/sbuf.h"

#define SIO_ENDPOINT_MAX	4

/* Where one transport of a session lives: this worker or another one. */
struct eio_peer {
	u_int16_t		worker;
	u_int64_t		id;
	struct eio_ws		*ws;
	struct eio_preq		*preq;
};

/*
 * The fixed head of every relay message; a payload may follow. For
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

/* A relay message: its head, then an optional middle part and payload. */
static inline void
engine_msg_send(u_int16_t dst, u_int8_t type, const struct sio_msg *head,
    const void *mid, size_t midlen, const void *payload, size_t len)
{
	bus_send(dst, type, head, sizeof(*head), mid, midlen, payload, len);
}

#define SESS_OPEN		1
#define SESS_CLOSED		2

#define T_POLLING		1
#define T_WEBSOCKET		2

#define FROM_ACTIVE		1
#define FROM_UPGRADE		2

#define CT_JSON			0
#define CT_TEXT			1
#define CT_HTML			2

#define EIO_ERR_TRANSPORT	0
#define EIO_ERR_SID		1
#define EIO_ERR_METHOD		2
#define EIO_ERR_BAD_REQUEST	3
#define EIO_ERR_VERSION		5

/* What an upgrade WebSocket's attach to its session comes to. */
#define ATTACH_OK		1	/* the session takes it */
#define ATTACH_CLOSE		2	/* open it, then close it */
#define ATTACH_UNKNOWN		3	/* no such session: 400 */

/*
 * A GET that comes once the probe has succeeded waits this long before it
 * gets its noop: the upgrade packet may be on its way through another
 * worker, and a GET after it must fail (engine.io ignores polling after an
 * upgrade).
 */
#define ENGINE_UPGRADE_GRACE_MS	50

/* The body of engine.io's 400 "Bad request". */
#define ENGINE_BAD_REQUEST	"{\"code\":3,\"message\":\"Bad request\"}"

/* A path eio_http serves and its callbacks; endpoint 0 is Socket.IO. */
struct eio_endpoint {
	char			*path;
	size_t			pathlen;
	struct eio_handlers	h;
};

/* An Engine.IO session, on the worker that owns it. */
struct eio_session {
	char			sid[SIO_SID_LEN + 1];
	int			ep;
	int			state;
	int			transport;
	int			upgrading;
	int			has_ws;
	int			has_up;
	int			has_get;
	struct eio_peer		ws;
	struct eio_peer		up;
	struct eio_peer		get;
	struct sio_frame	**q;
	size_t			qlen;
	size_t			qcap;
	size_t			qbytes;
	int			hb;
	u_int64_t		deadline;
	u_int64_t		up_deadline;
	u_int64_t		get_hold;
	void			*udata;
	json_t			*handshake;	/* sio_conf.keep_handshake */
	TAILQ_ENTRY(eio_session) hbl;
	TAILQ_ENTRY(eio_session) grave;
	TAILQ_ENTRY(eio_session) upl;
	int			in_upl;
};

TAILQ_HEAD(eio_session_list, eio_session);

/* A WebSocket on this worker; c->hdlr_extra while it is open. */
struct eio_ws {
	struct connection	*c;
	u_int64_t		id;
	int			ep;
	char			sid[SIO_SID_LEN + 1];
	u_int16_t		owner;
	struct eio_session	*s;
	int			registered;
};

/* A polling request or a pending upgrade, kept in the request's state. */
struct eio_preq {
	struct http_request	*req;
	u_int64_t		id;
	int			ep;
	int			kind;
	char			sid[SIO_SID_LEN + 1];
	u_int16_t		owner;
	struct eio_session	*s;
	int			status;
	int			ctype;
	int			registered;
	u_int64_t		deadline;	/* another node's session */
	struct sbuf		body;
};

/* engine.c */
extern struct eio_endpoint	engine_endpoints[SIO_ENDPOINT_MAX];
extern struct sio_frame		*engine_frame_noop;
extern struct eio_stats		engine_stats;
extern size_t			engine_npolling;

int		 engine_endpoint_find(const char *);
int		 engine_sid_owner(const char *);
int		 engine_sid_worker(const char *);
struct eio_session *engine_session_new(int, int);
struct eio_session *engine_session_lookup(int, const char *);
void		 engine_session_close(struct eio_session *, const char *, int);
int		 engine_closed_take(int, const char *);
void		 engine_sessions_foreach(void (*)(void *, void *), void *);
struct eio_session *engine_session_find(const char *);
void		 engine_session_packet(struct eio_session *, int,
		    const struct eio_packet *);
void		 engine_stats_transport(int, int);
size_t		 engine_sessions_lost(u_int16_t);

/* engine_poll.c */
void		 engine_poll_enqueue(struct eio_session *, struct sio_frame *);
void		 engine_poll_flush(struct eio_session *);
void		 engine_poll_reply(struct eio_session *, int, int,
		    const void *, size_t);
int		 engine_poll_get(struct eio_session *, struct eio_peer *);
int		 engine_poll_post(struct eio_session *, const u_int8_t *,
		    size_t);
void		 engine_poll_post_reply(int, struct sbuf *, int *);

/* engine_ws.c */
extern struct hmap		engine_ws_remote;
extern struct eio_session_list	engine_ws_upgrades;

/* The relayed WebSockets gauge (stats.c), after engine_ws_remote changed. */
#define ENGINE_STATS_RELAYED()	\
	SIO_STAT_SET(relayed_websockets, engine_ws_remote.count)

void		 engine_ws_start(struct http_request *, struct eio_ws *);
int		 engine_ws_attach(struct eio_session *, struct eio_peer *);
void		 engine_ws_send(struct eio_session *, struct eio_peer *,
		    struct sio_frame *);
void		 engine_ws_close(struct eio_peer *);
void		 engine_ws_up_done(struct eio_session *, int);
void		 engine_ws_upgrade(struct eio_session *,
		    const struct eio_packet *);
void		 engine_ws_frame(struct eio_session *, u_int16_t, u_int64_t,
		    struct eio_ws *, const u_int8_t *, size_t, int);
void		 engine_ws_gone(struct eio_session *, u_int16_t, u_int64_t,
		    struct eio_ws *);

/* engine_drain.c */
extern int	 engine_draining;

void		 engine_drain_init(void);

/* engine_relay.c */
void		 engine_relay_init(void);
void		 engine_relay_ws_end(struct eio_ws *);

/* engine_remote.c */
extern char	 engine_node_tag[];

int		 engine_remote_owner(const char *);

/* frame.c */
int		 frame_send_ws(struct connection *, struct sio_frame *,
		    size_t);
void		 frame_send_close(struct connection *);

/* engine_http.c */
extern struct hmap		engine_http_remote;

void		 engine_http_reply(struct eio_preq *, int, int, const void *,
		    size_t);
size_t		 engine_http_lost(u_int16_t);
void		 engine_http_unanswered(struct eio_preq *);
void		 engine_http_expire(void);

#endif /* !SIO_ENGINE_INT_H */
