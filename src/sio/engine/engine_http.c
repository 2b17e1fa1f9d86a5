/*
 * The Engine.IO route handler (eio_http, routed in kore.conf): query
 * parsing, the HTTP errors engine.io gives, CORS and OPTIONS, the
 * handshake, polling GETs and POSTs and WebSocket upgrade requests. A
 * request keeps its state (struct eio_preq) in Kore's request state; one
 * for a session owned by another worker is forwarded there and sleeps
 * until the owner answers (engine_relay.c).
 */

#include <sys/types.h>

#include <arpa/inet.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine_int.h"

#define PREQ_GET		1
#define PREQ_POST		2
#define PREQ_WS			3

/* Requests here whose session lives on another worker, by id. */
struct hmap			engine_http_remote;

static u_int64_t		next_id = 1;
/* Of those, requests for another node's session, and the last expiry. */
static size_t			remote_waiting;
static u_int64_t		remote_expired;

/* How often and after how long a request for another node expires. */
#define REMOTE_EXPIRE_EVERY	1000
#define REMOTE_GRACE_MS		5000

static int	engine_http_start(struct http_request *);
static int	engine_http_upgrade(struct http_request *, int, const char *,
		    int);
static int	engine_http_poll(struct http_request *, int, const char *, int);
static int	engine_http_handshake(struct http_request *, int, int);
static int	engine_http_finish(struct http_request *, struct eio_preq *);
static int	engine_http_error(struct http_request *, int, int,
		    const char *);
static int	engine_http_options(struct http_request *);
static int	engine_query(struct http_request *, const char *, char *,
		    size_t);
static int	engine_is_upgrade(struct http_request *);
static const u_int8_t *engine_body(struct http_request *, size_t *);
static void	engine_cors(struct http_request *);
static json_t	*engine_handshake(struct http_request *);
static json_t	*engine_handshake_query(const char *);
static char	*engine_unescape(const char *, size_t);

static struct eio_preq	*preq_new(struct http_request *, int, int,
			    const char *, u_int16_t);
static void		 preq_free(struct http_request *);
static void		 preq_lost(void *, void *);
static void		 preq_expire(void *, void *);

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

/* A new request: errors, an upgrade, a polling request or a handshake. */
static int
engine_http_start(struct http_request *req)
{
	int		ep, owner, websocket;
	char		transport[16], sid[SIO_SID_LEN + 2];

	if ((ep = engine_endpoint_find(req->path)) == -1)
		return (engine_http_error(req, 404, EIO_ERR_BAD_REQUEST,
		    "Bad request"));
	if (req->method == HTTP_METHOD_OPTIONS)
		return (engine_http_options(req));

	if (!engine_query(req, "transport", transport, sizeof(transport)) ||
	    (strcmp(transport, "polling") && strcmp(transport, "websocket")))
		return (engine_http_error(req, 400, EIO_ERR_TRANSPORT,
		    "Transport unknown"));
	websocket = !strcmp(transport, "websocket");

	if (!engine_query(req, "sid", sid, sizeof(sid)))
		return (engine_http_handshake(req, ep, websocket));

	if ((owner = engine_sid_owner(sid)) == -1)
		return (engine_http_error(req, 400, EIO_ERR_SID,
		    "Session ID unknown"));

	if (websocket)
		return (engine_http_upgrade(req, ep, sid, owner));

	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_POST)
		return (engine_http_error(req, 500, EIO_ERR_BAD_REQUEST,
		    "Bad request"));

	return (engine_http_poll(req, ep, sid, owner));
}

/* A WebSocket that wants to take over session sid (owned by owner). */
static int
engine_http_upgrade(struct http_request *req, int ep, const char *sid,
    int owner)
{
	struct eio_session	*s;
	struct eio_preq		*p;
	struct eio_peer		peer;

	if (!engine_is_upgrade(req))
		return (engine_http_error(req, 400, EIO_ERR_BAD_REQUEST,
		    "Bad request"));

	p = preq_new(req, ep, PREQ_WS, sid, owner);
	if (owner != worker->id) {
		SIO_STAT_ADD(relayed_requests, 1);
		engine_msg_send(owner, SIO_MSG_WS_ATTACH,
		    &(struct sio_msg){ .ep = ep, .id = p->id },
		    sid, SIO_SID_LEN, NULL, 0);
		/* Another node's that could not be reached has its answer. */
		if (p->status != 0)
			return (engine_http_finish(req, p));
		http_request_sleep(req);
		return (KORE_RESULT_RETRY);
	}

	s = engine_session_lookup(ep, sid);
	peer = (struct eio_peer){ .worker = worker->id, .id = p->id };
	p->status = s == NULL ? ATTACH_UNKNOWN : engine_ws_attach(s, &peer);

	return (engine_http_finish(req, p));
}

/* A polling GET or POST for session sid, here or relayed to its owner. */
static int
engine_http_poll(struct http_request *req, int ep, const char *sid,
    int owner)
{
	struct eio_session	*s;
	struct eio_preq		*p;
	struct eio_peer		peer;
	const u_int8_t		*body;
	size_t			bodylen;

	p = preq_new(req, ep, req->method == HTTP_METHOD_GET ?
	    PREQ_GET : PREQ_POST, sid, owner);
	body = engine_body(req, &bodylen);

	if (owner != worker->id) {
		SIO_STAT_ADD(relayed_requests, 1);
		engine_msg_send(owner, p->kind == PREQ_GET ? SIO_MSG_POLL_GET :
		    SIO_MSG_POLL_POST, &(struct sio_msg){ .ep = ep,
		    .id = p->id }, sid, SIO_SID_LEN,
		    p->kind == PREQ_POST ? body : NULL,
		    p->kind == PREQ_POST ? bodylen : 0);
		if (p->status != 0)
			return (engine_http_finish(req, p));
		http_request_sleep(req);
		return (KORE_RESULT_RETRY);
	}

	if ((s = engine_session_lookup(ep, sid)) == NULL) {
		if (p->kind == PREQ_GET && engine_closed_take(ep, sid))
			engine_http_reply(p, 200, CT_TEXT, "6", 1);
		else
			engine_http_reply(p, 400, CT_JSON, NULL, 0);
		return (engine_http_finish(req, p));
	}

	if (p->kind == PREQ_POST) {
		p->status = engine_poll_post(s, body, bodylen);
		engine_poll_post_reply(p->status, &p->body, &p->ctype);
		return (engine_http_finish(req, p));
	}

	peer = (struct eio_peer){ .worker = worker->id, .preq = p };
	p->s = s;
	if (!engine_poll_get(s, &peer))
		p->s = NULL;
	if (p->status != 0)
		return (engine_http_finish(req, p));

	http_request_sleep(req);
	return (KORE_RESULT_RETRY);
}

/* A request without sid: a new session on either transport. */
static int
engine_http_handshake(struct http_request *req, int ep, int websocket)
{
	struct eio_session	*s;
	struct eio_preq		*p;
	struct eio_peer		peer;
	char			eio[8];

	if (engine_draining) {
		/* Its connection closes: the next try finds the next server. */
		req->owner->flags |= CONN_CLOSE_EMPTY;
		return (engine_http_error(req, 503, EIO_ERR_BAD_REQUEST,
		    "Server shutting down"));
	}
	if (req->method != HTTP_METHOD_GET)
		return (engine_http_error(req, 400, EIO_ERR_METHOD,
		    "Bad handshake method"));
	if (websocket && !engine_is_upgrade(req))
		return (engine_http_error(req, 400, EIO_ERR_BAD_REQUEST,
		    "Bad request"));
	if (!engine_query(req, "EIO", eio, sizeof(eio)) || strcmp(eio, "4"))
		return (engine_http_error(req, 400, EIO_ERR_VERSION,
		    "Unsupported protocol version"));

	if (websocket) {
		s = engine_session_new(ep, T_WEBSOCKET);
		if (sio_conf.keep_handshake)
			s->handshake = engine_handshake(req);
		p = preq_new(req, ep, PREQ_WS, s->sid, worker->id);
		p->s = s;
		p->status = 101;
		return (engine_http_finish(req, p));
	}

	s = engine_session_new(ep, T_POLLING);
	if (sio_conf.keep_handshake)
		s->handshake = engine_handshake(req);
	p = preq_new(req, ep, PREQ_GET, s->sid, worker->id);
	p->s = s;
	peer = (struct eio_peer){ .worker = worker->id, .preq = p };
	if (!engine_poll_get(s, &peer))
		p->s = NULL;
	if (s->state == SESS_OPEN && engine_endpoints[ep].h.open != NULL)
		engine_endpoints[ep].h.open(s);
	if (p->status == 0)
		engine_poll_flush(s);

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
				s = engine_session_lookup(p->ep, p->sid);
				w->s = p->status == ATTACH_CLOSE ? NULL : s;
			}
			if (p->owner != worker->id && p->status != ATTACH_CLOSE) {
				hmap_put(&engine_ws_remote, &w->id,
				    sizeof(w->id), w);
				ENGINE_STATS_RELAYED();
				w->registered = 1;
			}
			engine_ws_start(req, w);
			if (p->status == ATTACH_CLOSE) {
				frame_send_close(req->owner);
				kore_connection_disconnect(req->owner);
			}
			return (KORE_RESULT_OK);
		}
		if (p->status == ATTACH_UNKNOWN)
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

/*
 * The handshake request as socket.io keeps it (socket.handshake):
 * headers (names in lowercase, repeated ones joined by ", "), the time
 * ("Date.toString()", in UTC) and "issued" (ms since the epoch), the
 * peer's address, "xdomain" (an Origin header came), "secure" (false:
 * Kore serves plain HTTP here), the URL and its decoded query.
 */
static json_t *
engine_handshake(struct http_request *req)
{
	struct http_header	*hdr;
	struct timespec		ts;
	struct tm		tm;
	json_t			*h, *headers, *old;
	char			name[128], when[96];
	char			addr[INET6_ADDRSTRLEN];
	const char		*path, *qs;
	size_t			i;

	headers = json_object();
	TAILQ_FOREACH(hdr, &req->req_headers, list) {
		for (i = 0; i < sizeof(name) - 1 && hdr->header[i] != '\0'; i++)
			name[i] = tolower((unsigned char)hdr->header[i]);
		name[i] = '\0';
		if ((old = json_object_get(headers, name)) != NULL) {
			(void)json_object_set_new(headers, name,
			    json_sprintf("%s, %s", json_string_value(old),
			    hdr->value));
		} else {
			(void)json_object_set_new(headers, name,
			    json_string(hdr->value));
		}
	}

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	(void)gmtime_r(&ts.tv_sec, &tm);
	(void)strftime(when, sizeof(when),
	    "%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)", &tm);

	addr[0] = '\0';
	if (req->owner->family == AF_INET6) {
		(void)inet_ntop(AF_INET6, &req->owner->addr.ipv6.sin6_addr,
		    addr, sizeof(addr));
	} else if (req->owner->family == AF_INET) {
		(void)inet_ntop(AF_INET, &req->owner->addr.ipv4.sin_addr,
		    addr, sizeof(addr));
	}

	path = req->path;
	qs = req->query_string;
	h = json_object();
	(void)json_object_set_new(h, "headers", headers);
	(void)json_object_set_new(h, "time", json_string(when));
	(void)json_object_set_new(h, "address", json_string(addr));
	(void)json_object_set_new(h, "xdomain",
	    json_boolean(json_object_get(headers, "origin") != NULL));
	(void)json_object_set_new(h, "secure", json_false());
	(void)json_object_set_new(h, "issued", json_integer(
	    (json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000));
	(void)json_object_set_new(h, "url", qs != NULL ?
	    json_sprintf("%s?%s", path, qs) : json_string(path));
	(void)json_object_set_new(h, "query", engine_handshake_query(qs));

	return (h);
}

/* key=value&... decoded as Node's querystring does (%XX, + for space). */
static json_t *
engine_handshake_query(const char *qs)
{
	json_t		*q;
	const char	*end, *eq;
	char		*k, *v;

	q = json_object();
	while (qs != NULL && *qs != '\0') {
		if ((end = strchr(qs, '&')) == NULL)
			end = qs + strlen(qs);
		if ((eq = memchr(qs, '=', end - qs)) == NULL)
			eq = end;
		if (eq > qs) {
			k = engine_unescape(qs, eq - qs);
			v = engine_unescape(eq < end ? eq + 1 : end,
			    eq < end ? (size_t)(end - eq - 1) : 0);
			if (json_object_get(q, k) == NULL)
				(void)json_object_set_new(q, k, json_string(v));
			free(k);
			free(v);
		}
		qs = *end == '&' ? end + 1 : end;
	}

	return (q);
}

/* len bytes of s with %XX and + decoded; invalid UTF-8 becomes '?'. */
static char *
engine_unescape(const char *s, size_t len)
{
	json_t		*check;
	char		*out, hex[3];
	size_t		i, n;

	out = sbuf_xmalloc(len + 1);
	for (i = n = 0; i < len; i++) {
		if (s[i] == '+') {
			out[n++] = ' ';
		} else if (s[i] == '%' && i + 2 < len &&
		    isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			hex[0] = s[i + 1];
			hex[1] = s[i + 2];
			hex[2] = '\0';
			out[n++] = (char)strtol(hex, NULL, 16);
			i += 2;
		} else {
			out[n++] = s[i];
		}
	}
	out[n] = '\0';

	/* jansson takes UTF-8 only. */
	if ((check = json_string(out)) != NULL) {
		json_decref(check);
	} else {
		for (i = 0; i < n; i++) {
			if ((unsigned char)out[i] >= 0x80)
				out[i] = '?';
		}
	}

	return (out);
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
		hmap_put(&engine_http_remote, &p->id, sizeof(p->id), p);
		p->registered = 1;
	}
	if (owner == BUS_REMOTE_SID) {
		remote_waiting++;
		p->deadline = kore_time_ms() + sio_conf.ping_interval +
		    sio_conf.ping_timeout + REMOTE_GRACE_MS;
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
		(void)hmap_del(&engine_http_remote, &p->id, sizeof(p->id));
	if (p->owner == BUS_REMOTE_SID)
		remote_waiting--;

	if (p->status == 0 && p->kind == PREQ_GET) {
		if ((s = p->s) != NULL) {
			s->has_get = 0;
			engine_session_close(s, "transport error", 0);
		} else if (p->owner != worker->id) {
			engine_msg_send(p->owner, SIO_MSG_POLL_CANCEL,
			    &(struct sio_msg){ .ep = p->ep, .id = p->id },
			    p->sid, SIO_SID_LEN, NULL, 0);
		}
	}

	sbuf_free(&p->body);
	free(p);
}

/* Requests waiting for a worker that started again (engine_http_lost()). */
struct preq_walk {
	u_int16_t	wid;
	size_t		lost;
};

static void
preq_lost(void *value, void *arg)
{
	struct eio_preq		*p = value;
	struct preq_walk	*walk = arg;

	if (p->owner != walk->wid || p->status != 0)
		return;

	engine_http_unanswered(p);
	walk->lost++;
}

/*
 * A relayed request that will get no answer: 400 "Session ID unknown",
 * as after any session's end, and the client starts a new one.
 */
void
engine_http_unanswered(struct eio_preq *p)
{
	if (p->status != 0)
		return;
	if (p->kind == PREQ_WS) {
		p->status = ATTACH_UNKNOWN;
		http_request_wakeup(p->req);
	} else {
		engine_http_reply(p, 400, CT_JSON, NULL, 0);
	}
}

/*
 * From the engine's tick: requests for another node's session whose
 * answer has not come in a ping interval and timeout (a message lost
 * while Redis restarted, a node that died holding them) end.
 */
void
engine_http_expire(void)
{
	u_int64_t	now;

	now = kore_time_ms();
	if (remote_waiting == 0 || now - remote_expired < REMOTE_EXPIRE_EVERY)
		return;
	remote_expired = now;
	hmap_foreach(&engine_http_remote, preq_expire, &now);
}

static void
preq_expire(void *value, void *arg)
{
	struct eio_preq		*p = value;
	u_int64_t		*now = arg;

	if (p->owner == BUS_REMOTE_SID && p->status == 0 &&
	    p->deadline <= *now) {
		sio_log(LOG_NOTICE, p->sid, "eio: session %s: its node did "
		    "not answer a relayed request, ending it", p->sid);
		engine_http_unanswered(p);
	}
}

/*
 * Worker wid started again (bus.c): requests here relayed to sessions it
 * owned will get no answer; they get 400 "Session ID unknown" now, as
 * after any session's end, and the client starts a new one. Returns how
 * many.
 */
size_t
engine_http_lost(u_int16_t wid)
{
	struct preq_walk	walk = { .wid = wid, .lost = 0 };

	hmap_foreach(&engine_http_remote, preq_lost, &walk);

	return (walk.lost);
}

/* Fill a local request's reply and wake it up. */
void
engine_http_reply(struct eio_preq *p, int status, int ctype, const void *body,
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
