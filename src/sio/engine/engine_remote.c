/*
 * The Engine.IO relay between korio nodes (cluster mode): a polling
 * request or a WebSocket for a session owned by another node goes there
 * over Redis, so that no balancer needs sticky sessions.
 *
 * A session id names its owner: two hex digits for the worker, then the
 * node's tag (RELAY_TAG_LEN chars, drawn at start-up, the same in every
 * worker). Within a node, engine_relay.c relays over Kore's bus; across
 * nodes the same messages go through here, as bytes of
 * codec/relay_msg.h on the channel <prefix>-korio-relay#<tag># of the
 * owner node (cluster/ publishes and subscribes):
 *
 *   - the side with the client (the request or WebSocket is here, the
 *     session is not) sends to BUS_REMOTE_SID: the message carries the
 *     session id, which says where it goes;
 *   - the owner answers the peer the message came from, which is given a
 *     peer id of its own (BUS_REMOTE_FIRST on) for as long as the node
 *     runs: the engine keeps it in a session like a worker id, and
 *     bus_send() to it comes back here.
 *
 * The owner node's subscriber worker gets every message and hands it to
 * the worker it is for (SIO_MSG_RELAY_IN). A message nobody subscribes
 * to (the node is gone, or the id names no korio node) ends its request
 * at once: 400 "Session ID unknown", as for any session that ended. A
 * request whose answer never comes (a message lost to a Redis restart)
 * gets the same after the ping interval and timeout (engine_http.c).
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "codec/relay_msg.h"

/* Peers of other nodes this worker has heard from; then reused. */
#define REMOTE_PEERS_MAX	4096

struct remote_peer {
	char		tag[RELAY_TAG_LEN];
	u_int16_t	worker;
};

char			 engine_node_tag[RELAY_TAG_LEN + 1];

static struct remote_peer remote_peers[REMOTE_PEERS_MAX];
static size_t		 remote_npeers;
static size_t		 remote_next;
static engine_publish_fn remote_publish;

static void	remote_send(u_int16_t, u_int8_t, const void *, size_t,
		    const void *, size_t, const void *, size_t);
static void	remote_msg_in(u_int16_t, const u_int8_t *, size_t);
static void	remote_deliver(const struct relay_msg *);
static int	remote_valid(const struct relay_msg *);
static u_int16_t remote_peer_id(const char *, u_int16_t);

/* Cluster mode, in each worker: this node's tag, how to publish. */
void
engine_remote_enable(const char *tag, engine_publish_fn fn)
{
	if (strlen(tag) != RELAY_TAG_LEN || !relay_tag_valid(tag))
		fatal("engine: bad node tag");
	memcpy(engine_node_tag, tag, RELAY_TAG_LEN + 1);
	remote_publish = fn;
	bus_set_remote(remote_send);
	bus_register(SIO_MSG_RELAY_IN, remote_msg_in);
}

/*
 * The worker a session id of another node names (1 to 255), or -1 if
 * the id is this node's (or cluster mode is off).
 */
int
engine_remote_owner(const char *sid)
{
	if (engine_node_tag[0] == '\0' ||
	    !memcmp(sid + 2, engine_node_tag, RELAY_TAG_LEN))
		return (-1);
	return (engine_sid_worker(sid));
}

/*
 * bus_send() to a peer of another node: the message as relay_msg bytes,
 * published for that node. head is a struct sio_msg; with count ids,
 * mid holds them (u_int64_t each), else mid and payload follow the head.
 */
static void
remote_send(u_int16_t dst, u_int8_t type, const void *head, size_t headlen,
    const void *mid, size_t midlen, const void *payload, size_t len)
{
	struct sio_msg		h;
	struct relay_msg	m;
	struct sbuf		b;
	const char		*sid;
	int			w;

	if (headlen != sizeof(h) || remote_publish == NULL)
		fatal("engine: bad remote message %u", type);
	memcpy(&h, head, sizeof(h));

	memset(&m, 0, sizeof(m));
	if (dst == BUS_REMOTE_SID) {
		if (midlen < SIO_SID_LEN)
			fatal("engine: remote message %u without sid", type);
		sid = mid;
		if ((w = engine_sid_worker(sid)) == -1)
			return;
		memcpy(m.tag, sid + 2, RELAY_TAG_LEN);
		m.dst = (u_int16_t)w;
	} else {
		if ((size_t)(dst - BUS_REMOTE_FIRST) >= remote_npeers)
			return;
		memcpy(m.tag, remote_peers[dst - BUS_REMOTE_FIRST].tag,
		    RELAY_TAG_LEN);
		m.dst = remote_peers[dst - BUS_REMOTE_FIRST].worker;
	}
	if (h.count > 0 && midlen != (size_t)h.count * sizeof(u_int64_t))
		fatal("engine: remote message %u: bad ids", type);

	m.type = type;
	m.src = worker->id;
	m.ep = h.ep;
	m.binary = h.binary;
	m.status = h.status;
	m.count = h.count;
	m.id = h.id;

	/* The tag of the destination, then the message with ours. */
	sbuf_init(&b);
	sbuf_append(&b, m.tag, RELAY_TAG_LEN);
	memcpy(m.tag, engine_node_tag, RELAY_TAG_LEN);
	if (h.count > 0) {
		relay_msg_encode(&b, &m, mid, payload, len);
	} else {
		relay_msg_encode(&b, &m, NULL, mid, midlen);
		if (len > 0)
			sbuf_append(&b, payload, len);
	}
	SIO_STAT_ADD(remote_relayed, 1);
	remote_publish((const char *)b.data, b.data + RELAY_TAG_LEN,
	    b.len - RELAY_TAG_LEN, type, h.id);
	sbuf_free(&b);
}

/*
 * A message on this node's relay channel, on the subscriber's worker:
 * for it, or for the worker it names. -1 if it is malformed.
 */
int
engine_remote_in(const u_int8_t *d, size_t len)
{
	struct relay_msg	m;

	if (relay_msg_decode(d, len, &m) == -1 || !remote_valid(&m) ||
	    m.dst > bus_worker_count())
		return (-1);
	if (m.dst == worker->id)
		remote_deliver(&m);
	else
		bus_send(m.dst, SIO_MSG_RELAY_IN, d, len, NULL, 0, NULL, 0);
	return (0);
}

static void
remote_msg_in(u_int16_t src, const u_int8_t *d, size_t len)
{
	struct relay_msg	m;

	(void)src;
	if (relay_msg_decode(d, len, &m) == -1 || !remote_valid(&m))
		return;
	remote_deliver(&m);
}

/* What the engine's handlers take without question (engine_relay.c). */
static int
remote_valid(const struct relay_msg *m)
{
	if (m->ep >= SIO_ENDPOINT_MAX)
		return (0);

	switch (m->type) {
	case SIO_MSG_POLL_GET:
	case SIO_MSG_POLL_POST:
	case SIO_MSG_POLL_CANCEL:
	case SIO_MSG_WS_ATTACH:
	case SIO_MSG_WS_GONE:
		return (m->count == 0 && m->restlen >= SIO_SID_LEN);
	case SIO_MSG_WS_IN:
		return (m->count == 0 && m->restlen >= SIO_SID_LEN &&
		    m->binary <= 1);
	case SIO_MSG_POLL_REPLY:
		return (m->count == 0 && m->binary <= CT_HTML &&
		    m->status >= 100 && m->status <= 599);
	case SIO_MSG_WS_ATTACH_REPLY:
		return (m->count == 0 && (m->status == ATTACH_OK ||
		    m->status == ATTACH_CLOSE || m->status == ATTACH_UNKNOWN));
	case SIO_MSG_WS_OUT:
		return (m->count > 0 && m->binary <= 1);
	case SIO_MSG_WS_CLOSE:
		return (m->count == 0);
	default:
		return (0);
	}
}

/* A valid message to the engine's handler, as if from a worker. */
static void
remote_deliver(const struct relay_msg *m)
{
	struct sio_msg	h;
	u_int8_t	*buf;
	u_int64_t	id;
	size_t		len, off;
	u_int32_t	i;

	memset(&h, 0, sizeof(h));
	h.ep = m->ep;
	h.binary = m->binary;
	h.status = m->status;
	h.count = m->count;
	h.id = m->id;

	len = sizeof(h) + (size_t)m->count * sizeof(id) + m->restlen;
	buf = sbuf_xmalloc(len);
	memcpy(buf, &h, sizeof(h));
	off = sizeof(h);
	for (i = 0; i < m->count; i++) {
		id = relay_msg_id(m, i);
		memcpy(buf + off, &id, sizeof(id));
		off += sizeof(id);
	}
	if (m->restlen > 0)
		memcpy(buf + off, m->rest, m->restlen);

	bus_deliver(m->type, remote_peer_id(m->tag, m->src), buf, len);
	free(buf);
}

/* The peer id of worker w of the node with tag. */
static u_int16_t
remote_peer_id(const char *tag, u_int16_t w)
{
	size_t		i;

	for (i = 0; i < remote_npeers; i++) {
		if (remote_peers[i].worker == w &&
		    !memcmp(remote_peers[i].tag, tag, RELAY_TAG_LEN))
			return ((u_int16_t)(BUS_REMOTE_FIRST + i));
	}

	if (remote_npeers < REMOTE_PEERS_MAX) {
		i = remote_npeers++;
	} else {
		i = remote_next;
		remote_next = (remote_next + 1) % REMOTE_PEERS_MAX;
	}
	memcpy(remote_peers[i].tag, tag, RELAY_TAG_LEN);
	remote_peers[i].worker = w;

	return ((u_int16_t)(BUS_REMOTE_FIRST + i));
}

/*
 * Nobody subscribes to the relay channel a message of type went to: its
 * request (id) gets no answer, and ends now.
 */
void
engine_remote_nobody(u_int8_t type, u_int64_t id)
{
	struct eio_preq		*p;
	struct eio_ws		*w;

	switch (type) {
	case SIO_MSG_POLL_GET:
	case SIO_MSG_POLL_POST:
	case SIO_MSG_WS_ATTACH:
		if ((p = hmap_get(&engine_http_remote, &id, sizeof(id))) != NULL)
			engine_http_unanswered(p);
		break;
	case SIO_MSG_WS_IN:
		if ((w = hmap_get(&engine_ws_remote, &id, sizeof(id))) != NULL)
			engine_relay_ws_end(w);
		break;
	}
}
