/*
 * Requests of other nodes (socket.io-request#<nsp>#), answered for every
 * worker of this process: the adapter's types (redis-adapter.md section 4)
 *
 *   1 allRooms, 5 fetchSockets    every worker's part, gathered, one reply
 *   2 socketsJoin, 3 socketsLeave,
 *   4 disconnectSockets           applied by every worker, no reply
 *   6 serverSideEmit[WithAck]     the owner runs sio_cluster_on()'s
 *                                 function, replies on the common channel
 *   7 emitWithAck                 every worker emits with an ack to its
 *                                 sockets; the owner replies type 8 with the
 *                                 sum of the counts, each worker type 9 per
 *                                 client ack, from its own publisher
 *
 * The owner (the subscriber's worker) sends the request as it came to
 * every worker, itself included (SIO_MSG_CLUSTER_REQ, with a token); each
 * does its part and answers the owner (SIO_MSG_CLUSTER_PART) with it as
 * JSON: an array of rooms, an array of sockets, a count. The owner
 * replies once every worker has, or after CLUSTER_GATHER_MS with what it
 * has (a worker that died). Requests with this node's uid are its own
 * echo (a socketsLeave it applied itself): dropped. Unknown types and
 * malformed requests are dropped and counted (cluster_bad()).
 *
 * A socket's handshake in a fetchSockets reply has no "auth" and no
 * authorization or cookie header: those are secrets. Its "data" is {}.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <kore/kore.h>

#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "cluster_codec.h"
#include "server/server.h"
#include "codec/sio_packet.h"

#define REQ_ALL_ROOMS		1
#define REQ_JOIN		2
#define REQ_LEAVE		3
#define REQ_DISCONNECT		4
#define REQ_FETCH		5
#define REQ_SERVER_EMIT		6
#define REQ_BROADCAST_ACK	7

#define REQ_HANDLERS_MAX	32

/* A request, decoded (JSON or msgpack): what every part needs. */
struct req {
	int		type;
	char		uid[64];
	char		reqid[64];
	struct cc_req	cr;
	json_t		*data;		/* type 7: [event, ...args], owned */
};

/* An answer the owner waits for, from every worker. */
struct gather {
	TAILQ_ENTRY(gather)	list;
	u_int32_t		token;
	int			type;
	struct sio_nsp		*nsp;
	char			uid[64];
	char			reqid[64];
	u_int16_t		want;
	u_int16_t		got;
	json_t			*acc;
	u_int64_t		deadline;
};

/* What an ack of a type 7 emit needs to reply. */
struct ack_ctx {
	struct sio_nsp		*nsp;
	char			uid[64];
	char			reqid[64];
};

struct handler {
	struct sio_nsp		*nsp;
	char			*event;
	sio_cluster_fn		fn;
};

static int	answer_decode(struct req *, const u_int8_t *, size_t);
static void	answer_clear(struct req *);
static void	answer_recv(u_int16_t, const u_int8_t *, size_t);
static void	answer_part_recv(u_int16_t, const u_int8_t *, size_t);
static json_t	*answer_local(struct sio_nsp *, struct req *);
static int	answer_match(struct sio_nsp *, struct sio_socket *, struct req *);
static json_t	*answer_sockets(struct sio_nsp *, struct req *);
static json_t	*answer_socket(struct sio_socket *);
static json_t	*answer_rooms(struct sio_nsp *);
static void	answer_rooms_add(const char *, void *);
static struct sio_socket **answer_collect(struct sio_nsp *, struct req *,
		    size_t *);
static void	answer_apply(struct sio_nsp *, struct req *);
static json_t	*answer_emit_ack(struct sio_nsp *, struct req *);
static void	answer_ack(struct sio_socket *, json_t *, void *);
static void	answer_server_emit(struct sio_nsp *, struct req *);
static void	answer_gather(struct sio_nsp *, struct req *, u_int32_t);
static void	answer_gather_add(struct gather *, json_t *);
static void	answer_gather_done(struct gather *);
static void	answer_tick(void *, u_int64_t);
static void	answer_reply(struct sio_nsp *, const char *, json_t *);

static TAILQ_HEAD(, gather)	answer_gathers = TAILQ_HEAD_INITIALIZER(answer_gathers);
static u_int32_t		answer_token;
static struct handler		answer_handlers[REQ_HANDLERS_MAX];
static size_t			answer_nhandlers;

void
cluster_answer_init(void)
{
	bus_register(SIO_MSG_CLUSTER_REQ, answer_recv);
	bus_register(SIO_MSG_CLUSTER_PART, answer_part_recv);
	if (cluster_owner())
		(void)kore_timer_add(answer_tick, 250, NULL, 0);
}

/* fn answers server-side event `event` of namespace n (sio.h). */
void
sio_cluster_on(struct sio_nsp *n, const char *event, sio_cluster_fn fn)
{
	if (answer_nhandlers == REQ_HANDLERS_MAX)
		fatal("sio_cluster_on: too many handlers");
	answer_handlers[answer_nhandlers].nsp = n;
	answer_handlers[answer_nhandlers].event = sbuf_xstrdup(event);
	answer_handlers[answer_nhandlers].fn = fn;
	answer_nhandlers++;
}

/* On the owner: a request from Redis for namespace n. */
void
cluster_answer(struct sio_nsp *n, const u_int8_t *d, size_t len)
{
	struct req	r;
	struct sbuf	b;
	u_int32_t	token;

	if (!answer_decode(&r, d, len)) {
		cluster_bad("request", "malformed");
		return;
	}
	if (!strcmp(r.uid, cluster_uid(n))) {
		answer_clear(&r);
		return;
	}

	switch (r.type) {
	case REQ_SERVER_EMIT:
		answer_server_emit(n, &r);
		break;
	case REQ_ALL_ROOMS:
	case REQ_FETCH:
	case REQ_BROADCAST_ACK:
	case REQ_JOIN:
	case REQ_LEAVE:
	case REQ_DISCONNECT:
		token = ++answer_token;
		if (r.type == REQ_ALL_ROOMS || r.type == REQ_FETCH ||
		    r.type == REQ_BROADCAST_ACK)
			answer_gather(n, &r, token);
		sbuf_init(&b);
		sbuf_append(&b, &token, sizeof(token));
		sbuf_append_byte(&b, n->index);
		sbuf_append(&b, d, len);
		bus_send(SIO_BUS_ALL, SIO_MSG_CLUSTER_REQ, b.data, b.len,
		    NULL, 0, NULL, 0);
		sbuf_free(&b);
		break;
	default:
		/* 0 (legacy), 8 and 9 (responses): not for us here. */
		break;
	}
	answer_clear(&r);
}

/* JSON (first byte '{') or msgpack (type 7). 1 if it is a request. */
static int
answer_decode(struct req *r, const u_int8_t *d, size_t len)
{
	struct sio_packet	pkt;

	memset(r, 0, sizeof(*r));
	cc_req_init(&r->cr);
	if (cc_req_decode(d, len, &r->cr) != 0)
		goto bad;
	r->type = r->cr.type;
	if (r->cr.uid != NULL)
		(void)snprintf(r->uid, sizeof(r->uid), "%s", r->cr.uid);
	if (r->cr.request_id != NULL)
		(void)snprintf(r->reqid, sizeof(r->reqid), "%s",
		    r->cr.request_id);

	/* Type 7: the event and its arguments, for sio_emit_ack(). */
	if (r->type == REQ_BROADCAST_ACK) {
		sio_packet_init(&pkt);
		if (r->cr.packet == NULL || sio_packet_decode(&pkt,
		    r->cr.packet, r->cr.packet_len) != 1 ||
		    !json_is_array(pkt.data) ||
		    !json_is_string(json_array_get(pkt.data, 0))) {
			sio_packet_clear(&pkt);
			goto bad;
		}
		r->data = json_incref(pkt.data);
		sio_packet_clear(&pkt);
	}
	return (1);

bad:
	answer_clear(r);
	return (0);
}

static void
answer_clear(struct req *r)
{
	cc_req_free(&r->cr);
	json_decref(r->data);
	memset(r, 0, sizeof(*r));
}

/* On every worker: the owner's copy of a request. */
static void
answer_recv(u_int16_t src, const u_int8_t *d, size_t len)
{
	struct req	r;
	struct sbuf	b;
	json_t		*part;
	u_int32_t	token;
	char		*text;

	(void)src;
	if (len < sizeof(token) + 1 || d[sizeof(token)] >= server_nnsps)
		return;
	memcpy(&token, d, sizeof(token));
	if (!answer_decode(&r, d + sizeof(token) + 1, len - sizeof(token) - 1))
		return;

	part = answer_local(server_nsps[d[sizeof(token)]], &r);
	answer_clear(&r);
	if (part == NULL)
		return;

	text = json_dumps(part, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(part);
	if (text == NULL)
		return;
	sbuf_init(&b);
	sbuf_append(&b, &token, sizeof(token));
	sbuf_append(&b, text, strlen(text));
	free(text);
	bus_send(CLUSTER_OWNER, SIO_MSG_CLUSTER_PART, b.data, b.len,
	    NULL, 0, NULL, 0);
	sbuf_free(&b);
}

/* This worker's part of request r: the JSON to gather, or NULL. */
static json_t *
answer_local(struct sio_nsp *n, struct req *r)
{
	switch (r->type) {
	case REQ_ALL_ROOMS:
		return (answer_rooms(n));
	case REQ_FETCH:
		return (answer_sockets(n, r));
	case REQ_BROADCAST_ACK:
		return (answer_emit_ack(n, r));
	case REQ_JOIN:
	case REQ_LEAVE:
	case REQ_DISCONNECT:
		answer_apply(n, r);
		return (NULL);
	default:
		return (NULL);
	}
}

/* Whether so is in any of opts.rooms (all: none given), in no except. */
static int
answer_match(struct sio_nsp *n, struct sio_socket *so, struct req *r)
{
	size_t		i;
	int		in;

	(void)n;
	if (so->state != SOCK_CONNECTED)
		return (0);

	in = r->cr.nrooms == 0;
	for (i = 0; i < r->cr.nrooms && !in; i++)
		in = sio_in_room(so, r->cr.rooms[i]);
	if (!in)
		return (0);

	for (i = 0; i < r->cr.nexcept; i++) {
		if (sio_in_room(so, r->cr.except[i]))
			return (0);
	}
	return (1);
}

static json_t *
answer_sockets(struct sio_nsp *n, struct req *r)
{
	struct sio_socket	*so;
	json_t			*a;

	a = json_array();
	TAILQ_FOREACH(so, &n->sockets, nlist) {
		if (answer_match(n, so, r))
			(void)json_array_append_new(a, answer_socket(so));
	}
	return (a);
}

/* {id, handshake, rooms, data} as a RemoteSocket is made from. */
static json_t *
answer_socket(struct sio_socket *so)
{
	json_t		*hs, *h, *rooms;

	hs = sio_socket_handshake(so);
	h = hs != NULL ? json_deep_copy(hs) : json_object();
	(void)json_object_del(json_object_get(h, "headers"), "authorization");
	(void)json_object_del(json_object_get(h, "headers"), "cookie");
	if (json_object_get(h, "headers") == NULL)
		(void)json_object_set_new(h, "headers", json_object());
	(void)json_object_set_new(h, "auth", json_object());

	rooms = json_array();
	sio_socket_rooms(so, answer_rooms_add, rooms);

	return (json_pack("{s:s,s:o,s:o,s:{}}", "id", so->id, "handshake", h,
	    "rooms", rooms, "data"));
}

static void
answer_rooms_add(const char *room, void *arg)
{
	(void)json_array_append_new(arg, json_string(room));
}

/* Every room with a member here (sid rooms too), each once. */
static json_t *
answer_rooms(struct sio_nsp *n)
{
	struct sio_socket	*so;
	json_t			*set, *a, *v;
	const char		*k;
	size_t			 i;

	a = json_array();
	TAILQ_FOREACH(so, &n->sockets, nlist) {
		if (so->state == SOCK_CONNECTED)
			sio_socket_rooms(so, answer_rooms_add, a);
	}

	set = json_object();
	json_array_foreach(a, i, v)
		(void)json_object_set(set, json_string_value(v), json_null());
	json_array_clear(a);
	json_object_foreach(set, k, v)
		(void)json_array_append_new(a, json_string(k));
	json_decref(set);
	return (a);
}

/*
 * The sockets here the request selects, each referenced (the caller
 * unrefs them and frees the list): acting on one may change the list.
 */
static struct sio_socket **
answer_collect(struct sio_nsp *n, struct req *r, size_t *cnt)
{
	struct sio_socket	**list, *so;

	*cnt = 0;
	list = sbuf_xreallocarray(NULL, n->count + 1, sizeof(*list));
	TAILQ_FOREACH(so, &n->sockets, nlist) {
		if (*cnt < n->count && answer_match(n, so, r)) {
			sio_socket_ref(so);
			list[(*cnt)++] = so;
		}
	}

	return (list);
}

/* socketsJoin, socketsLeave, disconnectSockets on this worker. */
static void
answer_apply(struct sio_nsp *n, struct req *r)
{
	struct sio_socket	**list, *so;
	size_t			 i, j, cnt;

	list = answer_collect(n, r, &cnt);

	for (i = 0; i < cnt; i++) {
		so = list[i];
		if (r->type == REQ_DISCONNECT) {
			if (r->cr.close)
				sio_socket_close_session(so, "forced close");
			else
				sio_disconnect(so);
		} else {
			for (j = 0; j < r->cr.ntargets; j++) {
				if (r->type == REQ_JOIN)
					(void)sio_join(so, r->cr.targets[j]);
				else
					(void)sio_leave(so, r->cr.targets[j]);
			}
		}
		sio_socket_unref(so);
	}
	free(list);
}

/* Type 7: emit with an ack to each socket here; the count. */
static json_t *
answer_emit_ack(struct sio_nsp *n, struct req *r)
{
	struct sio_socket	**list, *so;
	struct ack_ctx		*ctx;
	const char		*event;
	json_t			*args;
	size_t			 i, cnt, sent;

	list = answer_collect(n, r, &cnt);

	event = json_string_value(json_array_get(r->data, 0));
	sent = 0;
	for (i = 0; i < cnt; i++) {
		so = list[i];
		ctx = sbuf_xcalloc(1, sizeof(*ctx));
		ctx->nsp = n;
		memcpy(ctx->uid, r->uid, sizeof(ctx->uid));
		memcpy(ctx->reqid, r->reqid, sizeof(ctx->reqid));
		args = json_array();
		(void)json_array_extend(args, r->data);
		(void)json_array_remove(args, 0);
		if (sio_emit_ack(so, event, args, answer_ack, ctx))
			sent++;
		else
			free(ctx);
		sio_socket_unref(so);
	}
	free(list);

	return (json_integer((json_int_t)sent));
}

/* A client's ack of a type 7 emit (args NULL: the socket ended). */
static void
answer_ack(struct sio_socket *so, json_t *args, void *arg)
{
	struct ack_ctx	*ctx = arg;
	struct sbuf	 b, chan;
	json_t		*first;
	char		*text;

	(void)so;
	first = json_array_get(args, 0);
	text = NULL;
	if (args != NULL)
		text = json_dumps(first != NULL ? first : json_null(),
		    JSON_COMPACT | JSON_ENCODE_ANY);
	if (text != NULL) {
		sbuf_init(&b);
		if (cc_req_encode_ack(&b, ctx->reqid, (u_int8_t *)text,
		    strlen(text), NULL, 0) == 0) {
			sbuf_init(&chan);
			cluster_channel(&chan, "-response", ctx->nsp, ctx->uid);
			credis_publish((const char *)chan.data, chan.len,
			    b.data, b.len);
			sbuf_free(&chan);
		}
		sbuf_free(&b);
		free(text);
	}
	free(ctx);
}

/* Type 6, on the owner: the function of sio_cluster_on(), if any. */
static void
answer_server_emit(struct sio_nsp *n, struct req *r)
{
	json_t		*data, *args, *ret;
	const char	*event;
	size_t		 i;

	data = json_object_get(r->cr.json, "data");
	if ((event = json_string_value(json_array_get(data, 0))) == NULL)
		return;

	for (i = 0; i < answer_nhandlers; i++) {
		if (answer_handlers[i].nsp == n &&
		    !strcmp(answer_handlers[i].event, event))
			break;
	}
	if (i == answer_nhandlers)
		return;

	args = json_array();
	(void)json_array_extend(args, data);
	(void)json_array_remove(args, 0);
	ret = answer_handlers[i].fn(n, args);
	json_decref(args);

	if (ret == NULL)
		return;
	if (r->reqid[0] != '\0') {
		/* Always the common channel (redis-adapter lib/index.ts). */
		answer_reply(n, NULL, json_pack("{s:i,s:s,s:o}", "type", 6,
		    "requestId", r->reqid, "data", ret));
	} else {
		json_decref(ret);
	}
}

static void
answer_gather(struct sio_nsp *n, struct req *r, u_int32_t token)
{
	struct gather	*g;

	g = sbuf_xcalloc(1, sizeof(*g));
	g->token = token;
	g->type = r->type;
	g->nsp = n;
	memcpy(g->uid, r->uid, sizeof(g->uid));
	memcpy(g->reqid, r->reqid, sizeof(g->reqid));
	g->want = bus_worker_count();
	g->deadline = kore_time_ms() + CLUSTER_GATHER_MS;
	g->acc = r->type == REQ_BROADCAST_ACK ? json_integer(0) : json_array();
	TAILQ_INSERT_TAIL(&answer_gathers, g, list);
}

static void
answer_part_recv(u_int16_t src, const u_int8_t *d, size_t len)
{
	struct gather	*g;
	u_int32_t	 token;
	json_t		*part;

	(void)src;
	if (len < sizeof(token))
		return;
	memcpy(&token, d, sizeof(token));
	TAILQ_FOREACH(g, &answer_gathers, list) {
		if (g->token == token)
			break;
	}
	if (g == NULL)
		return;

	part = json_loadb((const char *)d + sizeof(token),
	    len - sizeof(token), JSON_DECODE_ANY, NULL);
	if (part != NULL)
		answer_gather_add(g, part);
	json_decref(part);
	if (++g->got >= g->want)
		answer_gather_done(g);
}

static void
answer_gather_add(struct gather *g, json_t *part)
{
	json_t		*v;
	size_t		 i;

	if (g->type == REQ_BROADCAST_ACK) {
		if (json_is_integer(part))
			(void)json_integer_set(g->acc,
			    json_integer_value(g->acc) +
			    json_integer_value(part));
		return;
	}
	json_array_foreach(part, i, v) {
		/* Rooms: each once (a room may have members on two workers). */
		if (g->type == REQ_ALL_ROOMS) {
			size_t		 k;
			json_t		*w;
			int		 dup = 0;

			json_array_foreach(g->acc, k, w) {
				if (json_equal(v, w)) {
					dup = 1;
					break;
				}
			}
			if (dup)
				continue;
		}
		(void)json_array_append(g->acc, v);
	}
}

static void
answer_gather_done(struct gather *g)
{
	json_t		*reply;

	TAILQ_REMOVE(&answer_gathers, g, list);
	switch (g->type) {
	case REQ_ALL_ROOMS:
		reply = json_pack("{s:s,s:O}", "requestId", g->reqid,
		    "rooms", g->acc);
		break;
	case REQ_FETCH:
		reply = json_pack("{s:s,s:O}", "requestId", g->reqid,
		    "sockets", g->acc);
		break;
	default:
		/* Type 8, even with a count of 0: Node waits for it. */
		reply = json_pack("{s:i,s:s,s:O}", "type", 8, "requestId",
		    g->reqid, "clientCount", g->acc);
		break;
	}
	answer_reply(g->nsp, g->uid, reply);
	json_decref(g->acc);
	free(g);
}

/* Gathers some worker never answered: reply with what came. */
static void
answer_tick(void *arg, u_int64_t now)
{
	struct gather	*g, *next;

	(void)arg;
	for (g = TAILQ_FIRST(&answer_gathers); g != NULL; g = next) {
		next = TAILQ_NEXT(g, list);
		if (now >= g->deadline)
			answer_gather_done(g);
	}
}

/*
 * Publish JSON reply (stolen) on the response channel of requester uid,
 * or the common one (uid NULL or empty).
 */
static void
answer_reply(struct sio_nsp *n, const char *uid, json_t *reply)
{
	struct sbuf	chan;
	char		*text;

	if (reply == NULL)
		return;
	text = json_dumps(reply, JSON_COMPACT);
	json_decref(reply);
	if (text == NULL)
		return;

	sbuf_init(&chan);
	cluster_channel(&chan, "-response", n,
	    uid != NULL && *uid != '\0' ? uid : NULL);
	credis_publish((const char *)chan.data, chan.len, text, strlen(text));
	sbuf_free(&chan);
	free(text);
}
