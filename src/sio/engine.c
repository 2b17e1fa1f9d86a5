/*
 * Engine.IO v4 server for Kore: sessions, the HTTP long-polling and
 * WebSocket transports, the upgrade from one to the other, heartbeats.
 *
 * Ownership across workers. Kore hands out TCP connections, not sessions,
 * to its workers, so the polling GETs, the POSTs and the upgrade WebSocket
 * of one session may each land on a different worker. A session lives on
 * the worker that handled its handshake (its owner, whose id is the first
 * two hex digits of the session id) for its whole life; everything above
 * Engine.IO (Socket.IO sockets, rooms, handlers) runs there too. A request
 * or WebSocket that lands elsewhere is a thin relay: a polling request is
 * forwarded to the owner over Kore's message bus and put to sleep until the
 * owner answers; a WebSocket's frames are forwarded to the owner and the
 * owner's frames come back the same way (bus.c). No sticky sessions needed.
 *
 * What is implemented: the handshake on either transport (open packet with
 * sid, upgrades, pingInterval, pingTimeout, maxPayload), server pings and
 * the pong timeout, message packets text and binary (polling payloads
 * joined by 0x1e, binary as "b" + base64), noop, close, the probe/upgrade
 * dance, CORS on polling responses and the HTTP errors engine.io gives
 * ({"code":N,"message":"..."}). What is rejected: Engine.IO v3 (EIO=3),
 * JSONP, client pings (engine.io 6 closes on "invalid heartbeat
 * direction"), WebTransport.
 *
 * Limits: maxPayload per WebSocket frame and per POST body (413, and the
 * session is closed); at most max_buffer bytes waiting per session, on a
 * polling queue or in a WebSocket's send queue (a client that stops
 * reading is disconnected).
 */

#include <sys/types.h>
#include <sys/random.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sio_internal.h"
#include "eio.h"
#include "hmap.h"

#define SESS_OPEN		1
#define SESS_CLOSED		2

#define T_POLLING		1
#define T_WEBSOCKET		2

#define HB_NONE			0
#define HB_PING			1
#define HB_PONG			2

#define FROM_ACTIVE		1
#define FROM_UPGRADE		2

#define PREQ_GET		1
#define PREQ_POST		2
#define PREQ_WS			3

#define CT_JSON			0
#define CT_TEXT			1
#define CT_HTML			2

#define EIO_ERR_TRANSPORT	0
#define EIO_ERR_SID		1
#define EIO_ERR_METHOD		2
#define EIO_ERR_BAD_REQUEST	3
#define EIO_ERR_VERSION		5

#define ATTACH_OK		200
#define ATTACH_CLOSE		409

struct eio_endpoint {
	char			*path;
	size_t			pathlen;
	struct eio_handlers	h;
};

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
	void			*udata;
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
	struct sbuf		body;
};

struct sio_config		sio_conf;

static struct eio_endpoint	endpoints[SIO_ENDPOINT_MAX];
static int			nendpoints;
static struct hmap		sessions;
static struct hmap		remote_ws;
static struct hmap		remote_preq;
static struct eio_session_list	hb_ping;
static struct eio_session_list	hb_pong;
static struct eio_session_list	graveyard;
static struct eio_session_list	upgrades;
static u_int64_t		next_id = 1;
static u_int64_t		engine_tick_ms;
static struct sio_frame		*frame_ping;
static struct sio_frame		*frame_noop;

static int	engine_http_start(struct http_request *);
static int	engine_http_finish(struct http_request *, struct eio_preq *);
static int	engine_http_error(struct http_request *, int, int,
		    const char *);
static int	engine_http_options(struct http_request *);
static int	engine_endpoint_find(const char *);
static int	engine_query(struct http_request *, const char *, char *,
		    size_t);
static int	engine_is_upgrade(struct http_request *);
static const u_int8_t *engine_body(struct http_request *, size_t *);
static int	engine_sid_owner(const char *);
static void	engine_sid_new(char *);
static void	engine_cors(struct http_request *);
static void	engine_tick(void *, u_int64_t);

static struct eio_preq	*preq_new(struct http_request *, int, int,
			    const char *, u_int16_t);
static void		 preq_free(struct http_request *);
static void		 preq_reply(struct eio_preq *, int, int, const void *,
			    size_t);

static struct eio_session *session_new(int, int);
static struct eio_session *session_lookup(int, const char *);
static void	session_close(struct eio_session *, const char *, int);
static void	session_open_packet(struct eio_session *, struct sbuf *);
static void	session_enqueue(struct eio_session *, struct sio_frame *);
static void	session_flush_poll(struct eio_session *);
static void	session_reply_get(struct eio_session *, int, int,
		    const void *, size_t);
static void	session_send_peer(struct eio_session *, struct eio_peer *,
		    struct sio_frame *);
static void	session_close_peer(struct eio_peer *);
static void	session_up_done(struct eio_session *, int);
static void	post_reply(int, struct sbuf *, int *);
static void	session_packet(struct eio_session *, int,
		    const struct eio_packet *);
static void	session_upgrade_packet(struct eio_session *,
		    const struct eio_packet *);
static void	session_hb_set(struct eio_session *, int, u_int64_t);
static void	session_pong(struct eio_session *);
static int	session_poll_get(struct eio_session *, struct eio_peer *);
static int	session_poll_post(struct eio_session *, const u_int8_t *,
		    size_t);
static int	session_ws_attach(struct eio_session *, struct eio_peer *);
static void	session_ws_frame(struct eio_session *, u_int16_t, u_int64_t,
		    struct eio_ws *, const u_int8_t *, size_t, int);
static void	session_ws_gone(struct eio_session *, u_int16_t, u_int64_t,
		    struct eio_ws *);
static int	peer_is(const struct eio_peer *, u_int16_t, u_int64_t,
		    struct eio_ws *);

static void	ws_start(struct http_request *, struct eio_ws *);

void	eio_ws_connect(struct connection *);
void	eio_ws_message(struct connection *, u_int8_t, const void *, size_t);
void	eio_ws_disconnect(struct connection *);

void
sio_config_defaults(struct sio_config *cf)
{
	memset(cf, 0, sizeof(*cf));
	cf->path = "/socket.io/";
	cf->ping_interval = 25000;
	cf->ping_timeout = 20000;
	cf->connect_timeout = 45000;
	cf->upgrade_timeout = 10000;
	cf->max_payload = 1000000;
	cf->max_buffer = 4 * 1024 * 1024;
	cf->max_attachment_bytes = 1000000;
	cf->cors_origin = "*";
	cf->debug = 0;
}

/*
 * Set up the plugin in this worker: call from kore_worker_configure(), in
 * every worker, before creating raw endpoints, with the same configuration
 * everywhere. The Socket.IO endpoint is endpoint 0.
 */
void
sio_init(const struct sio_config *cf)
{
	struct eio_handlers	h;
	u_int64_t		tick;

	sio_conf = *cf;
	hmap_init(&sessions);
	hmap_init(&remote_ws);
	hmap_init(&remote_preq);
	TAILQ_INIT(&hb_ping);
	TAILQ_INIT(&hb_pong);
	TAILQ_INIT(&graveyard);
	TAILQ_INIT(&upgrades);

	frame_ping = frame_new_text(EIO_PACKET_PING, NULL, 0);
	frame_noop = frame_new_text(EIO_PACKET_NOOP, NULL, 0);

	bus_init();
	server_init();

	h.open = server_open;
	h.message = server_message;
	h.close = server_close;
	eio_endpoint_create(cf->path, &h);

	tick = MIN(cf->ping_interval, cf->ping_timeout) / 40;
	tick = MAX(5, MIN(tick, 100));
	engine_tick_ms = tick;
	(void)kore_timer_add(engine_tick, tick, NULL, 0);
}

void
eio_endpoint_create(const char *path, const struct eio_handlers *h)
{
	struct eio_endpoint	*ep;

	if (nendpoints == SIO_ENDPOINT_MAX)
		fatal("eio_endpoint_create: too many endpoints");

	ep = &endpoints[nendpoints++];
	ep->path = sbuf_xstrdup(path);
	ep->pathlen = strlen(path);
	ep->h = *h;
}

uint16_t
eio_worker_id(void)
{
	return (worker->id);
}

size_t
eio_session_count(void)
{
	return (sessions.count);
}

const char *
eio_session_id(struct eio_session *s)
{
	return (s->sid);
}

void *
eio_session_udata(struct eio_session *s)
{
	return (s->udata);
}

void
eio_session_set_udata(struct eio_session *s, void *udata)
{
	s->udata = udata;
}

int
engine_endpoint_index(struct eio_session *s)
{
	return (s->ep);
}

/* Send one message packet (text or binary) on a raw Engine.IO session. */
void
eio_send(struct eio_session *s, const void *data, size_t len, int binary)
{
	struct sio_frame	*f;

	if (binary)
		f = frame_new(data, len, 1);
	else
		f = frame_new_text(EIO_PACKET_MESSAGE, data, len);

	engine_send_frames(s, &f, 1);
	frame_unref(f);
}

void
eio_close(struct eio_session *s, const char *reason)
{
	session_close(s, reason, 0);
}

/*
 * Queue frames for a session, in order, on whatever transport it uses now.
 * The caller keeps its references.
 */
void
engine_send_frames(struct eio_session *s, struct sio_frame **f, size_t n)
{
	size_t		i;

	for (i = 0; i < n && s->state == SESS_OPEN; i++) {
		if (s->transport == T_WEBSOCKET)
			session_send_peer(s, &s->ws, f[i]);
		else
			session_enqueue(s, f[i]);
	}

	if (s->state == SESS_OPEN && s->transport == T_POLLING && s->has_get &&
	    !s->upgrading)
		session_flush_poll(s);
}

/* The route handler for every Engine.IO path (kore.conf). */
int
eio_http(struct http_request *req)
{
	struct eio_preq		**pp, *p;

	if (!http_state_exists(req))
		return (engine_http_start(req));

	pp = http_state_get(req);
	p = *pp;
	if (p->status == 0) {
		http_request_sleep(req);
		return (KORE_RESULT_RETRY);
	}

	return (engine_http_finish(req, p));
}

static int
engine_http_start(struct http_request *req)
{
	struct eio_session	*s;
	struct eio_preq		*p;
	struct eio_peer		peer;
	const u_int8_t		*body;
	size_t			bodylen;
	int			ep, owner, upgrade;
	char			eio[8], transport[16], sid[SIO_SID_LEN + 2];

	if ((ep = engine_endpoint_find(req->path)) == -1)
		return (engine_http_error(req, 404, EIO_ERR_BAD_REQUEST,
		    "Bad request"));
	if (req->method == HTTP_METHOD_OPTIONS)
		return (engine_http_options(req));

	if (!engine_query(req, "transport", transport, sizeof(transport)) ||
	    (strcmp(transport, "polling") && strcmp(transport, "websocket")))
		return (engine_http_error(req, 400, EIO_ERR_TRANSPORT,
		    "Transport unknown"));

	upgrade = engine_is_upgrade(req);

	if (engine_query(req, "sid", sid, sizeof(sid))) {
		if ((owner = engine_sid_owner(sid)) == -1)
			return (engine_http_error(req, 400, EIO_ERR_SID,
			    "Session ID unknown"));

		if (!strcmp(transport, "websocket")) {
			if (!upgrade)
				return (engine_http_error(req, 400,
				    EIO_ERR_BAD_REQUEST, "Bad request"));
			p = preq_new(req, ep, PREQ_WS, sid, owner);
			if (owner != worker->id) {
				bus_send(owner, SIO_MSG_WS_ATTACH,
				    &(struct sio_msg){ .ep = ep, .id = p->id },
				    sid, SIO_SID_LEN, NULL, 0);
				http_request_sleep(req);
				return (KORE_RESULT_RETRY);
			}
			s = session_lookup(ep, sid);
			peer = (struct eio_peer){ .worker = worker->id,
			    .id = p->id };
			p->status = s == NULL ? EIO_ERR_SID + 400 :
			    session_ws_attach(s, &peer);
			return (engine_http_finish(req, p));
		}

		if (req->method != HTTP_METHOD_GET &&
		    req->method != HTTP_METHOD_POST)
			return (engine_http_error(req, 500, EIO_ERR_BAD_REQUEST,
			    "Bad request"));

		p = preq_new(req, ep, req->method == HTTP_METHOD_GET ?
		    PREQ_GET : PREQ_POST, sid, owner);

		if (owner != worker->id) {
			if (p->kind == PREQ_GET) {
				bus_send(owner, SIO_MSG_POLL_GET,
				    &(struct sio_msg){ .ep = ep, .id = p->id },
				    sid, SIO_SID_LEN, NULL, 0);
			} else {
				body = engine_body(req, &bodylen);
				bus_send(owner, SIO_MSG_POLL_POST,
				    &(struct sio_msg){ .ep = ep, .id = p->id },
				    sid, SIO_SID_LEN, body, bodylen);
			}
			http_request_sleep(req);
			return (KORE_RESULT_RETRY);
		}

		s = session_lookup(ep, sid);
		if (s == NULL) {
			preq_reply(p, 400, CT_JSON, NULL, 0);
			return (engine_http_finish(req, p));
		}

		if (p->kind == PREQ_POST) {
			body = engine_body(req, &bodylen);
			p->status = session_poll_post(s, body, bodylen);
			post_reply(p->status, &p->body, &p->ctype);
			return (engine_http_finish(req, p));
		}

		peer = (struct eio_peer){ .worker = worker->id, .preq = p };
		p->s = s;
		if (!session_poll_get(s, &peer))
			p->s = NULL;
		if (p->status != 0)
			return (engine_http_finish(req, p));
		http_request_sleep(req);
		return (KORE_RESULT_RETRY);
	}

	/* A handshake. */
	if (req->method != HTTP_METHOD_GET)
		return (engine_http_error(req, 400, EIO_ERR_METHOD,
		    "Bad handshake method"));
	if (!strcmp(transport, "websocket") && !upgrade)
		return (engine_http_error(req, 400, EIO_ERR_BAD_REQUEST,
		    "Bad request"));
	if (!engine_query(req, "EIO", eio, sizeof(eio)) || strcmp(eio, "4"))
		return (engine_http_error(req, 400, EIO_ERR_VERSION,
		    "Unsupported protocol version"));

	if (!strcmp(transport, "websocket")) {
		s = session_new(ep, T_WEBSOCKET);
		p = preq_new(req, ep, PREQ_WS, s->sid, worker->id);
		p->s = s;
		p->status = 101;
		return (engine_http_finish(req, p));
	}

	s = session_new(ep, T_POLLING);
	p = preq_new(req, ep, PREQ_GET, s->sid, worker->id);
	p->s = s;
	peer = (struct eio_peer){ .worker = worker->id, .preq = p };
	if (!session_poll_get(s, &peer))
		p->s = NULL;
	if (s->state == SESS_OPEN && endpoints[ep].h.open != NULL)
		endpoints[ep].h.open(s);
	if (p->status == 0)
		session_flush_poll(s);

	return (engine_http_finish(req, p));
}

static int
engine_http_finish(struct http_request *req, struct eio_preq *p)
{
	struct eio_ws		*w;
	struct eio_session	*s;
	static const char *ctypes[] = {
		"application/json", "text/plain; charset=UTF-8", "text/html"
	};

	if (p->kind == PREQ_WS) {
		if (p->status == ATTACH_CLOSE || p->status == 101 ||
		    p->status == ATTACH_OK) {
			w = sbuf_xcalloc(1, sizeof(*w));
			w->id = p->id;
			w->ep = p->ep;
			w->owner = p->owner;
			memcpy(w->sid, p->sid, sizeof(w->sid));
			if (p->owner == worker->id) {
				s = session_lookup(p->ep, p->sid);
				w->s = p->status == ATTACH_CLOSE ? NULL : s;
			}
			if (p->owner != worker->id && p->status != ATTACH_CLOSE) {
				hmap_put(&remote_ws, &w->id, sizeof(w->id), w);
				w->registered = 1;
			}
			ws_start(req, w);
			if (p->status == ATTACH_CLOSE) {
				frame_send_close(req->owner);
				kore_connection_disconnect(req->owner);
			}
			return (KORE_RESULT_OK);
		}
		if (p->status == 400 + EIO_ERR_SID)
			return (engine_http_error(req, 400, EIO_ERR_SID,
			    "Session ID unknown"));
		return (engine_http_error(req, 400, EIO_ERR_BAD_REQUEST,
		    "Bad request"));
	}

	if (p->status == 400 && p->body.len == 0) {
		return (engine_http_error(req, 400, EIO_ERR_SID,
		    "Session ID unknown"));
	}

	engine_cors(req);
	http_response_header(req, "content-type", ctypes[p->ctype]);
	http_response(req, p->status, p->body.data, p->body.len);

	return (KORE_RESULT_OK);
}

static void
ws_start(struct http_request *req, struct eio_ws *w)
{
	struct connection	*c = req->owner;

	w->c = c;
	c->hdlr_extra = w;
	kore_websocket_handshake(req, "eio_ws_connect", "eio_ws_message",
	    "eio_ws_disconnect");
}

static int
engine_http_error(struct http_request *req, int status, int code,
    const char *message)
{
	struct sbuf	b;

	sbuf_init(&b);
	sbuf_appendf(&b, "{\"code\":%d,\"message\":\"%s\"}", code, message);
	engine_cors(req);
	http_response_header(req, "content-type", "application/json");
	http_response(req, status, b.data, b.len);
	sbuf_free(&b);

	return (KORE_RESULT_OK);
}

static int
engine_http_options(struct http_request *req)
{
	const char	*hdrs;

	engine_cors(req);
	http_response_header(req, "access-control-allow-methods",
	    "GET,HEAD,PUT,PATCH,POST,DELETE");
	if (http_request_header(req, "access-control-request-headers", &hdrs))
		http_response_header(req, "access-control-allow-headers", hdrs);
	http_response_header(req, "vary", "Access-Control-Request-Headers");
	http_response(req, 204, NULL, 0);

	return (KORE_RESULT_OK);
}

static void
engine_cors(struct http_request *req)
{
	http_response_header(req, "access-control-allow-origin",
	    sio_conf.cors_origin);
	if (strcmp(sio_conf.cors_origin, "*"))
		http_response_header(req, "vary", "Origin");
}

static int
engine_endpoint_find(const char *path)
{
	int		i;
	size_t		len;

	len = strlen(path);
	for (i = 0; i < nendpoints; i++) {
		if (len == endpoints[i].pathlen &&
		    !memcmp(path, endpoints[i].path, len))
			return (i);
		if (len + 1 == endpoints[i].pathlen &&
		    !memcmp(path, endpoints[i].path, len))
			return (i);
	}

	return (-1);
}

/* Find key=value in the query string; values here never need decoding. */
static int
engine_query(struct http_request *req, const char *key, char *out,
    size_t outlen)
{
	const char	*p, *v, *end;
	size_t		klen, vlen;

	if ((p = req->query_string) == NULL)
		return (0);

	klen = strlen(key);
	while (*p != '\0') {
		end = strchr(p, '&');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) > klen && !strncmp(p, key, klen) &&
		    p[klen] == '=') {
			v = p + klen + 1;
			vlen = end - v;
			if (vlen == 0 || vlen >= outlen)
				return (0);
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return (1);
		}
		p = *end == '&' ? end + 1 : end;
	}

	return (0);
}

/* The request body as Kore buffered it (never offloaded to disk here). */
static const u_int8_t *
engine_body(struct http_request *req, size_t *len)
{
	if (req->http_body == NULL || req->http_body_fd != -1) {
		*len = 0;
		return (NULL);
	}

	*len = req->content_length;
	return (req->http_body->data);
}

static int
engine_is_upgrade(struct http_request *req)
{
	const char	*v;

	if (!http_request_header(req, "upgrade", &v))
		return (0);

	return (!strcasecmp(v, "websocket"));
}

/* A session id: two hex digits naming the owner worker, 18 random chars. */
static void
engine_sid_new(char *sid)
{
	static const char	b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	static const char	hex[] = "0123456789abcdef";
	u_int8_t		rnd[SIO_SID_LEN];
	size_t			i;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		fatal("getrandom: %s", errno_s);

	sid[0] = hex[(worker->id >> 4) & 0xf];
	sid[1] = hex[worker->id & 0xf];
	for (i = 2; i < SIO_SID_LEN; i++)
		sid[i] = b64[rnd[i] & 63];
	sid[SIO_SID_LEN] = '\0';
}

static int
engine_sid_owner(const char *sid)
{
	size_t		i;
	int		owner;
	char		hex[3];

	if (strlen(sid) != SIO_SID_LEN)
		return (-1);
	for (i = 0; i < SIO_SID_LEN; i++) {
		if (!isalnum((unsigned char)sid[i]) && sid[i] != '-' &&
		    sid[i] != '_')
			return (-1);
	}
	if (!isxdigit((unsigned char)sid[0]) ||
	    !isxdigit((unsigned char)sid[1]))
		return (-1);

	hex[0] = sid[0];
	hex[1] = sid[1];
	hex[2] = '\0';
	owner = (int)strtol(hex, NULL, 16);
	if (owner < 1 || owner > bus_worker_count())
		return (-1);

	return (owner);
}

static void
engine_tick(void *arg, u_int64_t now)
{
	struct eio_session	*s;
	u_int64_t		due;

	(void)arg;

	/*
	 * The pong is due pingTimeout after the ping was due, not after the
	 * tick that noticed it, unless the worker was held up for more than
	 * a couple of ticks: then pingTimeout counts from the late ping, as
	 * engine.io arms its timer when it sends.
	 */
	while ((s = TAILQ_FIRST(&hb_ping)) != NULL && s->deadline <= now) {
		due = s->deadline;
		if (now - due > 2 * engine_tick_ms)
			due = now;
		engine_send_frames(s, &frame_ping, 1);
		if (s->state == SESS_OPEN)
			session_hb_set(s, HB_PONG, due + sio_conf.ping_timeout);
	}

	while ((s = TAILQ_FIRST(&hb_pong)) != NULL && s->deadline <= now)
		session_close(s, "ping timeout", 0);

	while ((s = TAILQ_FIRST(&upgrades)) != NULL && s->up_deadline <= now)
		session_up_done(s, 1);

	server_tick(now);

	while ((s = TAILQ_FIRST(&graveyard)) != NULL) {
		TAILQ_REMOVE(&graveyard, s, grave);
		free(s);
	}
}

static struct eio_preq *
preq_new(struct http_request *req, int ep, int kind, const char *sid,
    u_int16_t owner)
{
	struct eio_preq		**pp, *p;

	p = sbuf_xcalloc(1, sizeof(*p));
	p->req = req;
	p->ep = ep;
	p->kind = kind;
	p->owner = owner;
	p->id = next_id++;
	(void)snprintf(p->sid, sizeof(p->sid), "%s", sid);
	sbuf_init(&p->body);

	pp = http_state_create(req, sizeof(*pp), preq_free);
	*pp = p;

	if (owner != worker->id) {
		hmap_put(&remote_preq, &p->id, sizeof(p->id), p);
		p->registered = 1;
	}

	return (p);
}

/*
 * The request is gone (answered, or the client went away). A GET that was
 * still waiting for data ends its session, as in engine.io ("poll
 * connection closed prematurely").
 */
static void
preq_free(struct http_request *req)
{
	struct eio_preq		**pp, *p;
	struct eio_session	*s;

	pp = http_state_get(req);
	if ((p = *pp) == NULL)
		return;
	*pp = NULL;

	if (p->registered)
		(void)hmap_del(&remote_preq, &p->id, sizeof(p->id));

	if (p->status == 0 && p->kind == PREQ_GET) {
		if ((s = p->s) != NULL) {
			s->has_get = 0;
			session_close(s, "transport error", 0);
		} else if (p->owner != worker->id) {
			bus_send(p->owner, SIO_MSG_POLL_CANCEL,
			    &(struct sio_msg){ .ep = p->ep, .id = p->id },
			    p->sid, SIO_SID_LEN, NULL, 0);
		}
	}

	sbuf_free(&p->body);
	free(p);
}

/* Fill a local request's reply and wake it up. */
static void
preq_reply(struct eio_preq *p, int status, int ctype, const void *body,
    size_t len)
{
	p->status = status;
	p->ctype = ctype;
	p->s = NULL;
	sbuf_reset(&p->body);
	if (len > 0)
		sbuf_append(&p->body, body, len);
	http_request_wakeup(p->req);
}

static struct eio_session *
session_new(int ep, int transport)
{
	struct eio_session	*s;
	struct sbuf		b;

	s = sbuf_xcalloc(1, sizeof(*s));
	do {
		engine_sid_new(s->sid);
	} while (hmap_get(&sessions, s->sid, SIO_SID_LEN) != NULL);

	s->ep = ep;
	s->state = SESS_OPEN;
	s->transport = transport;
	hmap_put(&sessions, s->sid, SIO_SID_LEN, s);
	session_hb_set(s, HB_PING, kore_time_ms() + sio_conf.ping_interval);

	sbuf_init(&b);
	session_open_packet(s, &b);
	s->q = sbuf_xcalloc(4, sizeof(*s->q));
	s->qcap = 4;
	s->q[s->qlen++] = frame_new(b.data, b.len, 0);
	s->qbytes = b.len;
	sbuf_free(&b);

	if (sio_conf.debug) {
		kore_log(LOG_INFO, "eio: session %s open (%s)", s->sid,
		    transport == T_POLLING ? "polling" : "websocket");
	}

	return (s);
}

static void
session_open_packet(struct eio_session *s, struct sbuf *b)
{
	static const char *const	up[] = { "websocket" };

	eio_open_packet(b, s->sid, up, s->transport == T_POLLING ? 1 : 0,
	    sio_conf.ping_interval, sio_conf.ping_timeout,
	    sio_conf.max_payload);
}

static struct eio_session *
session_lookup(int ep, const char *sid)
{
	struct eio_session	*s;

	if ((s = hmap_get(&sessions, sid, SIO_SID_LEN)) == NULL)
		return (NULL);
	if (s->ep != ep || s->state != SESS_OPEN)
		return (NULL);

	/* A pong overdue by the time a request comes: the tick is late. */
	if (s->hb == HB_PONG && s->deadline <= kore_time_ms()) {
		session_close(s, "ping timeout", 0);
		return (NULL);
	}

	return (s);
}

/*
 * Close a session. client is set when the client asked (a close packet on
 * polling): a waiting GET then gets a noop, otherwise a close packet. The
 * memory is freed at the next tick, so callers up the stack may still look
 * at s->state.
 */
static void
session_close(struct eio_session *s, const char *reason, int client)
{
	size_t		i;
	u_int8_t	pkt;

	if (s->state != SESS_OPEN)
		return;

	s->state = SESS_CLOSED;
	(void)hmap_del(&sessions, s->sid, SIO_SID_LEN);
	session_hb_set(s, HB_NONE, 0);

	if (sio_conf.debug)
		kore_log(LOG_INFO, "eio: session %s closed: %s", s->sid, reason);

	if (endpoints[s->ep].h.close != NULL)
		endpoints[s->ep].h.close(s, reason);

	if (s->has_get) {
		pkt = client ? '6' : '1';
		session_reply_get(s, 200, CT_TEXT, &pkt, 1);
	}
	if (s->has_ws) {
		session_close_peer(&s->ws);
		s->has_ws = 0;
	}
	session_up_done(s, 1);

	for (i = 0; i < s->qlen; i++)
		frame_unref(s->q[i]);
	free(s->q);
	s->q = NULL;
	s->qlen = s->qcap = s->qbytes = 0;

	TAILQ_INSERT_TAIL(&graveyard, s, grave);
}

static void
session_hb_set(struct eio_session *s, int which, u_int64_t deadline)
{
	if (s->hb == HB_PING)
		TAILQ_REMOVE(&hb_ping, s, hbl);
	else if (s->hb == HB_PONG)
		TAILQ_REMOVE(&hb_pong, s, hbl);

	s->hb = which;
	s->deadline = deadline;

	if (which == HB_PING)
		TAILQ_INSERT_TAIL(&hb_ping, s, hbl);
	else if (which == HB_PONG)
		TAILQ_INSERT_TAIL(&hb_pong, s, hbl);
}

static void
session_pong(struct eio_session *s)
{
	if (s->hb != HB_PONG)
		return;
	session_hb_set(s, HB_PING, kore_time_ms() + sio_conf.ping_interval);
}

static void
session_enqueue(struct eio_session *s, struct sio_frame *f)
{
	if (s->qlen == s->qcap) {
		s->qcap = s->qcap ? s->qcap * 2 : 8;
		s->q = sbuf_xreallocarray(s->q, s->qcap, sizeof(*s->q));
	}

	frame_ref(f);
	s->q[s->qlen++] = f;
	s->qbytes += f->len;

	if (sio_conf.max_buffer > 0 && s->qbytes > sio_conf.max_buffer) {
		kore_log(LOG_NOTICE, "eio: session %s: more than %zu bytes "
		    "waiting for a poll, closing", s->sid, sio_conf.max_buffer);
		session_close(s, "transport error", 0);
	}
}

/* Hand everything queued to the waiting GET, as one payload. */
static void
session_flush_poll(struct eio_session *s)
{
	struct sbuf		b;
	struct sio_frame	*f;
	size_t			i;
	int			type;

	if (!s->has_get || s->qlen == 0)
		return;

	sbuf_init(&b);
	for (i = 0; i < s->qlen; i++) {
		f = s->q[i];
		if (f->binary) {
			(void)eio_payload_append(&b, EIO_PACKET_MESSAGE, 1,
			    SIO_FRAME_DATA(f), f->len);
		} else {
			type = SIO_FRAME_DATA(f)[0] - '0';
			(void)eio_payload_append(&b, type, 0,
			    SIO_FRAME_DATA(f) + 1, f->len - 1);
		}
		frame_unref(f);
	}
	s->qlen = 0;
	s->qbytes = 0;

	session_reply_get(s, 200, CT_TEXT, b.data, b.len);
	sbuf_free(&b);
}

static void
session_reply_get(struct eio_session *s, int status, int ctype,
    const void *body, size_t len)
{
	struct eio_peer		*g = &s->get;

	if (!s->has_get)
		return;
	s->has_get = 0;

	if (g->worker == worker->id) {
		preq_reply(g->preq, status, ctype, body, len);
		return;
	}

	bus_send(g->worker, SIO_MSG_POLL_REPLY,
	    &(struct sio_msg){ .id = g->id, .status = status, .binary = ctype },
	    NULL, 0, body, len);
}

static void
session_send_peer(struct eio_session *s, struct eio_peer *p,
    struct sio_frame *f)
{
	if (p->worker != worker->id) {
		bus_send(p->worker, SIO_MSG_WS_OUT,
		    &(struct sio_msg){ .count = 1, .binary = f->binary },
		    &p->id, sizeof(p->id), SIO_FRAME_DATA(f), f->len);
		return;
	}

	if (p->ws == NULL)
		return;

	if (!frame_send_ws(p->ws->c, f, sio_conf.max_buffer)) {
		kore_log(LOG_NOTICE, "eio: session %s: client is not reading "
		    "(more than %zu bytes queued), closing", s->sid,
		    sio_conf.max_buffer);
		session_close(s, "transport error", 0);
	}
}

static void
session_close_peer(struct eio_peer *p)
{
	struct eio_ws	*w;

	if (p->worker != worker->id) {
		bus_send(p->worker, SIO_MSG_WS_CLOSE,
		    &(struct sio_msg){ .id = p->id }, NULL, 0, NULL, 0);
		return;
	}

	if ((w = p->ws) == NULL)
		return;

	w->s = NULL;
	p->ws = NULL;
	frame_send_close(w->c);
	kore_connection_disconnect(w->c);
}

/* The upgrade WebSocket is finished with: taken over, failed or timed out. */
static void
session_up_done(struct eio_session *s, int close_it)
{
	if (s->in_upl) {
		TAILQ_REMOVE(&upgrades, s, upl);
		s->in_upl = 0;
	}
	if (close_it && s->has_up)
		session_close_peer(&s->up);
	s->has_up = 0;
	s->upgrading = 0;
}

static int
peer_is(const struct eio_peer *p, u_int16_t wid, u_int64_t id,
    struct eio_ws *w)
{
	if (wid == worker->id)
		return (p->worker == wid && p->ws == w);

	return (p->worker == wid && p->id == id);
}

/*
 * A polling GET for s. Returns 1 if it is now waiting on the session (or
 * was answered at once), 0 if it was refused (its reply is set).
 */
static int
session_poll_get(struct eio_session *s, struct eio_peer *peer)
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
		session_close(s, "transport error", 0);
		goto bad;
	}

	s->get = *peer;
	s->has_get = 1;

	if (s->upgrading) {
		if (s->qlen == 0)
			engine_send_frames(s, &frame_noop, 1);
		session_flush_poll(s);
	} else {
		session_flush_poll(s);
	}

	return (1);

bad:
	if (refused.worker == worker->id) {
		preq_reply(refused.preq, 400, CT_JSON, "{\"code\":3,"
		    "\"message\":\"Bad request\"}", 35);
	} else {
		bus_send(refused.worker, SIO_MSG_POLL_REPLY,
		    &(struct sio_msg){ .id = refused.id, .status = 400 },
		    NULL, 0, "{\"code\":3,\"message\":\"Bad request\"}", 35);
	}

	return (0);
}

/* A polling POST body for s; returns the HTTP status to answer. */
static int
session_poll_post(struct eio_session *s, const u_int8_t *body, size_t len)
{
	struct eio_payload	pl;
	struct eio_packet	pkt;
	int			r;

	if (s->transport != T_POLLING)
		return (400);

	if (len > sio_conf.max_payload) {
		session_close(s, "transport error", 0);
		return (413);
	}

	if (!eio_payload_init(&pl, body, len, sio_conf.max_payload)) {
		session_close(s, "parse error", 0);
		return (400);
	}

	while ((r = eio_payload_next(&pl, &pkt)) == EIO_NEXT_PACKET) {
		session_packet(s, FROM_ACTIVE, &pkt);
		if (s->state != SESS_OPEN)
			break;
	}
	eio_payload_cleanup(&pl);

	if (r == EIO_NEXT_ERROR) {
		session_close(s, "parse error", 0);
		return (400);
	}

	return (200);
}

/* A WebSocket wants to take over s; returns the attach status. */
static int
session_ws_attach(struct eio_session *s, struct eio_peer *peer)
{
	if (s->transport != T_POLLING || s->has_up)
		return (ATTACH_CLOSE);

	s->up = *peer;
	s->has_up = 1;
	s->upgrading = 0;
	s->up_deadline = kore_time_ms() + sio_conf.upgrade_timeout;
	s->in_upl = 1;
	TAILQ_INSERT_TAIL(&upgrades, s, upl);

	return (ATTACH_OK);
}

static void
session_packet(struct eio_session *s, int from, const struct eio_packet *pkt)
{
	if (from == FROM_UPGRADE) {
		session_upgrade_packet(s, pkt);
		return;
	}

	switch (pkt->type) {
	case EIO_PACKET_PONG:
		session_pong(s);
		break;
	case EIO_PACKET_MESSAGE:
		if (endpoints[s->ep].h.message != NULL) {
			endpoints[s->ep].h.message(s, pkt->data, pkt->len,
			    pkt->binary);
		}
		break;
	case EIO_PACKET_CLOSE:
		session_close(s, "transport close", 1);
		break;
	case EIO_PACKET_PING:
		session_close(s, "parse error", 0);
		break;
	default:
		break;
	}
}

/* The probe/upgrade dance on the WebSocket that wants to take over. */
static void
session_upgrade_packet(struct eio_session *s, const struct eio_packet *pkt)
{
	struct sio_frame	*f;
	size_t			i;

	if (pkt->type == EIO_PACKET_PING && pkt->len == 5 &&
	    !memcmp(pkt->data, "probe", 5)) {
		f = frame_new_text(EIO_PACKET_PONG, "probe", 5);
		session_send_peer(s, &s->up, f);
		frame_unref(f);
		s->upgrading = 1;
		if (s->has_get) {
			if (s->qlen == 0)
				engine_send_frames(s, &frame_noop, 1);
			session_flush_poll(s);
		}
		return;
	}

	if (pkt->type != EIO_PACKET_UPGRADE || !s->upgrading) {
		session_up_done(s, 1);
		return;
	}

	/* Upgrade done: the WebSocket carries everything from now on. */
	if (s->has_get)
		session_reply_get(s, 200, CT_TEXT, "6", 1);
	s->transport = T_WEBSOCKET;
	s->ws = s->up;
	s->has_ws = 1;
	session_up_done(s, 0);

	if (sio_conf.debug)
		kore_log(LOG_INFO, "eio: session %s upgraded", s->sid);

	for (i = 0; i < s->qlen && s->state == SESS_OPEN; i++)
		session_send_peer(s, &s->ws, s->q[i]);
	for (i = 0; i < s->qlen; i++)
		frame_unref(s->q[i]);
	s->qlen = 0;
	s->qbytes = 0;
}

static void
session_ws_frame(struct eio_session *s, u_int16_t wid, u_int64_t id,
    struct eio_ws *w, const u_int8_t *data, size_t len, int binary)
{
	struct eio_packet	pkt;
	int			from;

	if (s->has_ws && peer_is(&s->ws, wid, id, w))
		from = FROM_ACTIVE;
	else if (s->has_up && peer_is(&s->up, wid, id, w))
		from = FROM_UPGRADE;
	else
		return;

	if (len > sio_conf.max_payload) {
		session_close(s, "transport error", 0);
		return;
	}

	if (!eio_decode_frame(&pkt, data, len, binary)) {
		if (from == FROM_ACTIVE)
			session_close(s, "parse error", 0);
		else
			session_up_done(s, 1);
		return;
	}

	session_packet(s, from, &pkt);
}

static void
session_ws_gone(struct eio_session *s, u_int16_t wid, u_int64_t id,
    struct eio_ws *w)
{
	if (s->has_ws && peer_is(&s->ws, wid, id, w)) {
		s->has_ws = 0;
		session_close(s, "transport close", 0);
	} else if (s->has_up && peer_is(&s->up, wid, id, w)) {
		session_up_done(s, 0);
	}
}

/* Kore WebSocket callbacks, found by name. */
void
eio_ws_connect(struct connection *c)
{
	struct eio_ws		*w = c->hdlr_extra;
	struct eio_session	*s;

	if (w == NULL || w->owner != worker->id || (s = w->s) == NULL)
		return;

	if (s->transport == T_WEBSOCKET && !s->has_ws) {
		/* A WebSocket-only session: the open packet goes first. */
		s->ws = (struct eio_peer){ .worker = worker->id, .ws = w };
		s->has_ws = 1;
		s->qlen = 0;
		session_send_peer(s, &s->ws, s->q[0]);
		frame_unref(s->q[0]);
		s->qbytes = 0;
		if (s->state == SESS_OPEN && endpoints[s->ep].h.open != NULL)
			endpoints[s->ep].h.open(s);
	} else if (s->has_up && s->up.worker == worker->id &&
	    s->up.ws == NULL) {
		s->up.ws = w;
	}
}

void
eio_ws_message(struct connection *c, u_int8_t op, const void *data,
    size_t len)
{
	struct eio_ws	*w = c->hdlr_extra;
	int		binary;

	if (w == NULL)
		return;

	binary = (op == WEBSOCKET_OP_BINARY);

	if (w->owner == worker->id) {
		if (w->s == NULL) {
			kore_connection_disconnect(c);
			return;
		}
		session_ws_frame(w->s, worker->id, w->id, w, data, len,
		    binary);
		return;
	}

	bus_send(w->owner, SIO_MSG_WS_IN,
	    &(struct sio_msg){ .ep = w->ep, .id = w->id, .binary = binary },
	    w->sid, SIO_SID_LEN, data, len);
}

void
eio_ws_disconnect(struct connection *c)
{
	struct eio_ws	*w = c->hdlr_extra;

	if (w == NULL)
		return;
	c->hdlr_extra = NULL;

	if (w->owner == worker->id) {
		if (w->s != NULL)
			session_ws_gone(w->s, worker->id, w->id, w);
	} else if (w->registered) {
		(void)hmap_del(&remote_ws, &w->id, sizeof(w->id));
		bus_send(w->owner, SIO_MSG_WS_GONE,
		    &(struct sio_msg){ .ep = w->ep, .id = w->id },
		    w->sid, SIO_SID_LEN, NULL, 0);
	}

	free(w);
}

/*
 * Messages from other workers. On the owner: requests and WebSocket frames
 * for its sessions. Elsewhere: replies, frames to write, closes.
 */
static struct eio_session *
engine_msg_session(const u_int8_t *data, size_t len, struct sio_msg *m,
    const u_int8_t **rest, size_t *restlen)
{
	char	sid[SIO_SID_LEN + 1];

	if (len < sizeof(*m) + SIO_SID_LEN)
		fatal("engine: short message");
	memcpy(m, data, sizeof(*m));
	memcpy(sid, data + sizeof(*m), SIO_SID_LEN);
	sid[SIO_SID_LEN] = '\0';
	*rest = data + sizeof(*m) + SIO_SID_LEN;
	*restlen = len - sizeof(*m) - SIO_SID_LEN;

	return (session_lookup(m->ep, sid));
}

void
engine_msg_poll_get(u_int16_t src, const u_int8_t *data, size_t len)
{
	struct eio_session	*s;
	struct sio_msg		m;
	struct eio_peer		peer;
	const u_int8_t		*rest;
	size_t			restlen;

	s = engine_msg_session(data, len, &m, &rest, &restlen);
	peer = (struct eio_peer){ .worker = src, .id = m.id };
	if (s == NULL) {
		bus_send(src, SIO_MSG_POLL_REPLY,
		    &(struct sio_msg){ .id = m.id, .status = 400 },
		    NULL, 0, NULL, 0);
		return;
	}

	(void)session_poll_get(s, &peer);
}

void
engine_msg_poll_post(u_int16_t src, const u_int8_t *data, size_t len)
{
	struct eio_session	*s;
	struct sio_msg		m;
	struct sbuf		b;
	const u_int8_t		*rest;
	size_t			restlen;
	int			status, ctype;

	s = engine_msg_session(data, len, &m, &rest, &restlen);
	status = s == NULL ? 400 : session_poll_post(s, rest, restlen);

	sbuf_init(&b);
	if (s != NULL)
		post_reply(status, &b, &ctype);
	else
		ctype = CT_JSON;

	bus_send(src, SIO_MSG_POLL_REPLY, &(struct sio_msg){ .id = m.id,
	    .status = status, .binary = ctype }, NULL, 0, b.data, b.len);
	sbuf_free(&b);
}

/* The body of a POST answer for a known session. */
static void
post_reply(int status, struct sbuf *b, int *ctype)
{
	sbuf_reset(b);
	*ctype = CT_JSON;

	if (status == 200) {
		*ctype = CT_HTML;
		sbuf_append(b, "ok", 2);
	} else if (status == 400) {
		sbuf_append_str(b, "{\"code\":3,\"message\":\"Bad request\"}");
	} else {
		sbuf_append_str(b, "{\"code\":1,\"message\":"
		    "\"Payload too large\"}");
	}
}

void
engine_msg_poll_reply(const u_int8_t *data, size_t len)
{
	struct sio_msg		m;
	struct eio_preq		*p;

	if (len < sizeof(m))
		fatal("engine: short poll reply");
	memcpy(&m, data, sizeof(m));

	if ((p = hmap_get(&remote_preq, &m.id, sizeof(m.id))) == NULL)
		return;

	preq_reply(p, m.status, m.binary, data + sizeof(m), len - sizeof(m));
}

void
engine_msg_poll_cancel(u_int16_t src, const u_int8_t *data, size_t len)
{
	struct eio_session	*s;
	struct sio_msg		m;
	const u_int8_t		*rest;
	size_t			restlen;

	s = engine_msg_session(data, len, &m, &rest, &restlen);
	if (s == NULL || !s->has_get || s->get.worker != src ||
	    s->get.id != m.id)
		return;

	s->has_get = 0;
	session_close(s, "transport error", 0);
}

void
engine_msg_ws_attach(u_int16_t src, const u_int8_t *data, size_t len)
{
	struct eio_session	*s;
	struct sio_msg		m;
	struct eio_peer		peer;
	const u_int8_t		*rest;
	size_t			restlen;
	int			status;

	s = engine_msg_session(data, len, &m, &rest, &restlen);
	peer = (struct eio_peer){ .worker = src, .id = m.id };
	status = s == NULL ? 400 + EIO_ERR_SID : session_ws_attach(s, &peer);

	bus_send(src, SIO_MSG_WS_ATTACH_REPLY,
	    &(struct sio_msg){ .id = m.id, .status = status },
	    NULL, 0, NULL, 0);
}

void
engine_msg_ws_attach_reply(const u_int8_t *data, size_t len)
{
	struct sio_msg		m;
	struct eio_preq		*p;

	if (len < sizeof(m))
		fatal("engine: short attach reply");
	memcpy(&m, data, sizeof(m));

	if ((p = hmap_get(&remote_preq, &m.id, sizeof(m.id))) == NULL) {
		/* The upgrade request is gone: tell the owner. */
		return;
	}

	p->status = m.status;
	http_request_wakeup(p->req);
}

void
engine_msg_ws_in(u_int16_t src, const u_int8_t *data, size_t len)
{
	struct eio_session	*s;
	struct sio_msg		m;
	const u_int8_t		*rest;
	size_t			restlen;

	s = engine_msg_session(data, len, &m, &rest, &restlen);
	if (s == NULL) {
		bus_send(src, SIO_MSG_WS_CLOSE,
		    &(struct sio_msg){ .id = m.id }, NULL, 0, NULL, 0);
		return;
	}

	session_ws_frame(s, src, m.id, NULL, rest, restlen, m.binary);
}

void
engine_msg_ws_gone(u_int16_t src, const u_int8_t *data, size_t len)
{
	struct eio_session	*s;
	struct sio_msg		m;
	const u_int8_t		*rest;
	size_t			restlen;

	s = engine_msg_session(data, len, &m, &rest, &restlen);
	if (s != NULL)
		session_ws_gone(s, src, m.id, NULL);
}

void
engine_msg_ws_out(const u_int8_t *data, size_t len)
{
	struct sio_msg		m;
	struct sio_frame	*f;
	struct eio_ws		*w;
	u_int64_t		id;
	size_t			i, off;

	if (len < sizeof(m))
		fatal("engine: short ws out");
	memcpy(&m, data, sizeof(m));
	off = sizeof(m) + (size_t)m.count * sizeof(id);
	if (off > len)
		fatal("engine: bad ws out");

	f = frame_new(data + off, len - off, m.binary);
	for (i = 0; i < m.count; i++) {
		memcpy(&id, data + sizeof(m) + i * sizeof(id), sizeof(id));
		if ((w = hmap_get(&remote_ws, &id, sizeof(id))) == NULL)
			continue;
		if (!frame_send_ws(w->c, f, sio_conf.max_buffer)) {
			kore_log(LOG_NOTICE, "eio: relayed session %s: client "
			    "is not reading, closing", w->sid);
			kore_connection_disconnect(w->c);
		}
	}
	frame_unref(f);
}

void
engine_msg_ws_close(const u_int8_t *data, size_t len)
{
	struct sio_msg		m;
	struct eio_ws		*w;

	if (len < sizeof(m))
		fatal("engine: short ws close");
	memcpy(&m, data, sizeof(m));

	if ((w = hmap_del(&remote_ws, &m.id, sizeof(m.id))) == NULL)
		return;
	w->registered = 0;
	frame_send_close(w->c);
	kore_connection_disconnect(w->c);
}
