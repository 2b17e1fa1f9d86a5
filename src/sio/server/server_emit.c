/*
 * What the Socket.IO layer sends. A packet is encoded once into shared
 * frames (encode_frames()): for one socket (emits, acks, the CONNECT
 * replies) they go to its session; for a broadcast they are sent once to
 * every other worker, which fans the same bytes out to its own members
 * (server_msg_broadcast()), and kept as they are for this worker's members
 * of the rooms (struct server_bcast, server_bcast_deliver(): each socket
 * once, whatever the number of rooms it is in), both in the order of
 * server_order.c. socketsLeave goes to every worker the same way.
 *
 * With connection-state recovery on (server_recover.c), a broadcast
 * carries its number as its last argument, and this worker fans it out
 * from the bytes the bus carries, as the others do, so that it is logged
 * as it was fanned out; a logged message is fanned out again to one
 * recovered socket through the same path (the `only` arguments).
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "cluster/cluster.h"

struct fanout {
	struct sio_socket	**sockets;
	size_t			n;
	size_t			cap;
	const char *const	*except;
	size_t			nexcept;
	struct sio_nsp		*nsp;
};

static size_t	encode_frames(struct sio_frame **, const char *, int, int64_t,
		    json_t *, const struct sio_attachment *, size_t);
static void	broadcast_encode(struct sbuf *, struct sio_nsp *,
		    const char *const *, size_t, const char *const *, size_t,
		    struct sio_frame **, size_t);
static json_t	*event_array(const char *, json_t *);
static struct server_bcast *bcast_new(struct sio_nsp *, const char *const *,
		    size_t, const char *const *, size_t, struct sio_frame **,
		    size_t);
static void	fanout_local(struct sio_nsp *, const char *const *, size_t,
		    const char *const *, size_t, struct sio_frame **, size_t,
		    struct sio_socket *);
static int	fanout_in(struct sio_nsp *, struct sio_socket *,
		    const char *const *, size_t);
static void	fanout_member(struct rooms_member *, void *);

/* args (stolen, may be NULL): the arguments after the event name. */
int
sio_emit(struct sio_socket *so, const char *event, json_t *args)
{
	return (sio_emit_bin(so, event, args, NULL, 0));
}

int
sio_emit_bin(struct sio_socket *so, const char *event, json_t *args,
    const struct sio_attachment *att, size_t natt)
{
	json_t		*data;

	data = event_array(event, args);
	if (server_monitor != NULL && server_monitor->event_out != NULL &&
	    so->state == SOCK_CONNECTED)
		server_monitor->event_out(so, data);

	return (server_emit_packet(so, SIO_PACKET_EVENT, -1, data, att, natt));
}

int
sio_emit_ack(struct sio_socket *so, const char *event, json_t *args,
    sio_ack_fn fn, void *arg)
{
	struct sio_pending_ack	*pa;
	json_t			*data;
	int64_t			id;

	if (so->state != SOCK_CONNECTED) {
		json_decref(args);
		return (0);
	}

	id = so->next_ack++;
	data = event_array(event, args);
	if (server_monitor != NULL && server_monitor->event_out != NULL)
		server_monitor->event_out(so, data);
	if (!server_emit_packet(so, SIO_PACKET_EVENT, id, data, NULL, 0))
		return (0);

	pa = sbuf_xcalloc(1, sizeof(*pa));
	pa->id = id;
	pa->fn = fn;
	pa->arg = arg;
	TAILQ_INSERT_TAIL(&so->acks, pa, list);

	return (1);
}

/* args (stolen, may be NULL for []): the acknowledgement's arguments. */
void
sio_ack(struct sio_socket *so, int64_t id, json_t *args)
{
	sio_ack_bin(so, id, args, NULL, 0);
}

void
sio_ack_bin(struct sio_socket *so, int64_t id, json_t *args,
    const struct sio_attachment *att, size_t natt)
{
	if (id < 0) {
		json_decref(args);
		return;
	}
	if (args == NULL)
		args = json_array();
	(void)server_emit_packet(so, SIO_PACKET_ACK, id, args, att, natt);
}

/* Encode one packet for a socket and queue it on its session. */
int
server_emit_packet(struct sio_socket *so, int type, int64_t ack, json_t *data,
    const struct sio_attachment *att, size_t natt)
{
	struct sio_frame	*frames[SIO_FRAMES_MAX];
	size_t			i, nf;

	if (so->client == NULL) {
		json_decref(data);
		return (0);
	}
	server_order_run();

	if ((nf = encode_frames(frames, so->nsp->name, type, ack, data, att,
	    natt)) == 0)
		return (0);

	engine_send_frames(so->client->s, frames, nf);
	for (i = 0; i < nf; i++)
		frame_unref(frames[i]);
	if (type == SIO_PACKET_EVENT || type == SIO_PACKET_BINARY_EVENT)
		SIO_STAT_ADD(events_sent, 1);

	return (1);
}

/*
 * Emit event(args) to the sockets of namespace n in any of rooms (all of
 * them when nrooms is 0) and in none of except, on every worker. args is
 * stolen. The packet is encoded once; each worker, this one included,
 * fans it out in the order of server_order.c, this one from the frames it
 * encoded.
 */
void
sio_broadcast(struct sio_nsp *n, const char *const *rooms, size_t nrooms,
    const char *const *except, size_t nexcept, const char *event, json_t *args)
{
	struct sio_frame	*frames[SIO_FRAMES_MAX];
	size_t			i, nf;

	nf = encode_frames(frames, n->name, SIO_PACKET_EVENT, -1,
	    event_array(event, args), NULL, 0);
	if (nf == 0)
		return;

	/* Cluster mode: to the other nodes, once, by this worker. */
	if (cluster_on)
		cluster_publish_broadcast(n, rooms, nrooms, except, nexcept,
		    frames, nf);
	SIO_STAT_ADD(broadcasts, 1);
	server_broadcast_frames(n, rooms, nrooms, except, nexcept, frames, nf);
	for (i = 0; i < nf; i++)
		frame_unref(frames[i]);
}

/*
 * A broadcast's encoded frames (borrowed; frames[0] may be swapped for
 * one with recovery's offset) to every worker of this process, this one
 * included, in the order of server_order.c: sio_broadcast()'s, or one
 * from another node (cluster/cluster_recv.c).
 */
void
server_broadcast_frames(struct sio_nsp *n, const char *const *rooms,
    size_t nrooms, const char *const *except, size_t nexcept,
    struct sio_frame **frames, size_t nf)
{
	struct sbuf		b;
	u_int64_t		seq;

	seq = server_order_take();
	server_recover_offset(&frames[0], seq);

	/* Other workers first: they fan out while this one does. */
	if (bus_worker_count() > 1 || sio_conf.recovery_ms > 0) {
		sbuf_init(&b);
		server_order_head(&b, seq);
		broadcast_encode(&b, n, rooms, nrooms, except, nexcept,
		    frames, nf);
		if (bus_worker_count() > 1)
			bus_send_others(SIO_MSG_BROADCAST, b.data, b.len);
		/* Recovery logs the bytes as fanned out: see above. */
		if (sio_conf.recovery_ms > 0) {
			server_order_put(seq, SIO_MSG_BROADCAST,
			    b.data + SERVER_ORDER_HEAD,
			    b.len - SERVER_ORDER_HEAD);
		}
		sbuf_free(&b);
	}

	if (sio_conf.recovery_ms == 0) {
		server_order_put_local(seq, bcast_new(n, rooms, nrooms,
		    except, nexcept, frames, nf));
	}
}

/* A broadcast of this worker's, with a reference to each frame. */
static struct server_bcast *
bcast_new(struct sio_nsp *n, const char *const *rooms, size_t nrooms,
    const char *const *except, size_t nexcept, struct sio_frame **frames,
    size_t nf)
{
	struct server_bcast	*b;
	size_t			i, len;
	char			*p;

	len = 0;
	for (i = 0; i < nrooms + nexcept; i++)
		len += strlen(i < nrooms ? rooms[i] : except[i - nrooms]) + 1;

	/* One block: the struct, the name pointers, then the names. */
	b = sbuf_xmalloc(sizeof(*b) + (nrooms + nexcept) * sizeof(char *) +
	    len);
	b->nsp = n;
	b->names = (const char **)(b + 1);
	b->nrooms = nrooms;
	b->nexcept = nexcept;
	p = (char *)(b->names + nrooms + nexcept);
	for (i = 0; i < nrooms + nexcept; i++) {
		len = strlen(i < nrooms ? rooms[i] : except[i - nrooms]) + 1;
		memcpy(p, i < nrooms ? rooms[i] : except[i - nrooms], len);
		b->names[i] = p;
		p += len;
	}
	b->nf = nf;
	for (i = 0; i < nf; i++) {
		frame_ref(frames[i]);
		b->frames[i] = frames[i];
	}

	return (b);
}

/* Its turn (server_order.c): fan b out here, then free it. */
void
server_bcast_deliver(struct server_bcast *b)
{
	size_t		i;

	fanout_local(b->nsp, b->names, b->nrooms, b->names + b->nrooms,
	    b->nexcept, b->frames, b->nf, NULL);
	for (i = 0; i < b->nf; i++)
		frame_unref(b->frames[i]);
	free(b);
}

/* A broadcast as the bus carries it: see server_msg_broadcast(). */
static void
broadcast_encode(struct sbuf *b, struct sio_nsp *n, const char *const *rooms,
    size_t nrooms, const char *const *except, size_t nexcept,
    struct sio_frame **frames, size_t nf)
{
	size_t		i, len;
	u_int16_t	u16;
	u_int32_t	u32;

	sbuf_append_byte(b, n->index);
	sbuf_append_byte(b, (u_int8_t)nf);
	u16 = (u_int16_t)nrooms;
	sbuf_append(b, &u16, sizeof(u16));
	u16 = (u_int16_t)nexcept;
	sbuf_append(b, &u16, sizeof(u16));
	for (i = 0; i < nrooms + nexcept; i++) {
		len = strlen(i < nrooms ? rooms[i] : except[i - nrooms]);
		u16 = (u_int16_t)len;
		sbuf_append(b, &u16, sizeof(u16));
		sbuf_append(b, i < nrooms ? rooms[i] : except[i - nrooms], len);
	}
	for (i = 0; i < nf; i++) {
		sbuf_append_byte(b, frames[i]->binary);
		u32 = (u_int32_t)frames[i]->len;
		sbuf_append(b, &u32, sizeof(u32));
		sbuf_append(b, SIO_FRAME_DATA(frames[i]), frames[i]->len);
	}
}

/*
 * Like sio_broadcast(), to this worker's sockets only (for state every
 * worker keeps a copy of, such as presence). args is stolen.
 */
void
sio_broadcast_local(struct sio_nsp *n, const char *const *rooms,
    size_t nrooms, const char *event, json_t *args)
{
	struct sio_frame	*frames[SIO_FRAMES_MAX];
	size_t			i, nf;

	server_order_run();
	nf = encode_frames(frames, n->name, SIO_PACKET_EVENT, -1,
	    event_array(event, args), NULL, 0);
	fanout_local(n, rooms, nrooms, NULL, 0, frames, nf, NULL);
	for (i = 0; i < nf; i++)
		frame_unref(frames[i]);
}

/*
 * Every socket of namespace n in room `in`, on every worker, leaves room
 * `room` (socket.io's io.in(x).socketsLeave(y)).
 */
void
sio_sockets_leave(struct sio_nsp *n, const char *in, const char *room)
{
	struct sbuf	b;
	u_int64_t	seq;

	seq = server_order_take();
	sbuf_init(&b);
	server_order_head(&b, seq);
	sbuf_append_byte(&b, n->index);
	sbuf_append(&b, in, strlen(in) + 1);
	sbuf_append(&b, room, strlen(room) + 1);
	if (cluster_on)
		cluster_publish_leave(n, in, room);
	if (bus_worker_count() > 1)
		bus_send_others(SIO_MSG_SOCKETS_LEAVE, b.data, b.len);
	server_order_put(seq, SIO_MSG_SOCKETS_LEAVE, b.data + SERVER_ORDER_HEAD,
	    b.len - SERVER_ORDER_HEAD);
	sbuf_free(&b);
}

/* Only: that socket alone (it is replayed), if it is in `in`. */
void
server_msg_sockets_leave(const u_int8_t *d, size_t len,
    struct sio_socket *only)
{
	struct fanout		fo;
	struct sio_nsp		*n;
	const char		*in, *room;
	size_t			i;

	if (len < 3 || d[0] >= server_nnsps || d[len - 1] != '\0')
		fatal("sio: bad sockets-leave message");
	n = server_nsps[d[0]];
	in = (const char *)d + 1;
	room = in + strlen(in) + 1;
	if ((const u_int8_t *)room >= d + len)
		fatal("sio: bad sockets-leave message");

	memset(&fo, 0, sizeof(fo));
	fo.nsp = n;
	if (only == NULL)
		rooms_foreach(&n->rooms, &in, 1, NULL, 0, fanout_member, &fo);
	else if (only->nsp == n && rooms_has(&n->rooms, &only->member, in))
		fanout_member(&only->member, &fo);
	for (i = 0; i < fo.n; i++) {
		(void)sio_leave(fo.sockets[i], room);
		sio_socket_unref(fo.sockets[i]);
	}
	free(fo.sockets);
}

/*
 * A broadcast from the bus: the same frames to our members, or only to
 * socket `only` if it is one (it is replayed).
 */
void
server_msg_broadcast(const u_int8_t *d, size_t len, struct sio_socket *only)
{
	struct sio_frame	*frames[SIO_FRAMES_MAX];
	const char		*names[512];
	char			*copy, *p;
	size_t			off, i, nr, ne, nf, l;
	u_int16_t		u16;
	u_int32_t		u32;

	if (len < 6 || d[0] >= server_nnsps || d[1] == 0 ||
	    d[1] > SIO_FRAMES_MAX)
		fatal("sio: bad broadcast message");
	nf = d[1];
	memcpy(&u16, d + 2, 2);
	nr = u16;
	memcpy(&u16, d + 4, 2);
	ne = u16;
	if (nr + ne > 512)
		fatal("sio: broadcast to too many rooms");

	/* Room names are copied out so that each is NUL-terminated. */
	p = copy = sbuf_xmalloc(len + nr + ne + 1);
	off = 6;
	for (i = 0; i < nr + ne; i++) {
		if (off + 2 > len)
			fatal("sio: bad broadcast rooms");
		memcpy(&u16, d + off, 2);
		l = u16;
		off += 2;
		if (off + l > len)
			fatal("sio: bad broadcast rooms");
		memcpy(p, d + off, l);
		p[l] = '\0';
		names[i] = p;
		p += l + 1;
		off += l;
	}

	for (i = 0; i < nf; i++) {
		if (off + 5 > len)
			fatal("sio: bad broadcast frames");
		memcpy(&u32, d + off + 1, 4);
		if (off + 5 + u32 > len)
			fatal("sio: bad broadcast frames");
		frames[i] = frame_new(d + off + 5, u32, d[off]);
		off += 5 + u32;
	}

	fanout_local(server_nsps[d[0]], names, nr, names + nr, ne, frames, nf,
	    only);

	for (i = 0; i < nf; i++)
		frame_unref(frames[i]);
	free(copy);
}

/*
 * Sending may close a session (a client that stopped reading), which
 * leaves rooms: that must not happen inside rooms_foreach(), so the
 * recipients are collected first (each holding a reference), then sent to.
 */
static void
fanout_local(struct sio_nsp *n, const char *const *rooms, size_t nrooms,
    const char *const *except, size_t nexcept, struct sio_frame **frames,
    size_t nf, struct sio_socket *only)
{
	struct fanout		fo;
	struct sio_socket	*so;
	size_t			i;

	memset(&fo, 0, sizeof(fo));
	fo.nsp = n;

	/* rooms_foreach() skips the except rooms itself; the walk does not. */
	if (only != NULL) {
		fo.except = except;
		fo.nexcept = nexcept;
		if (only->nsp == n && fanout_in(n, only, rooms, nrooms))
			fanout_member(&only->member, &fo);
	} else if (nrooms > 0) {
		rooms_foreach(&n->rooms, rooms, nrooms, except, nexcept,
		    fanout_member, &fo);
	} else {
		fo.except = except;
		fo.nexcept = nexcept;
		TAILQ_FOREACH(so, &n->sockets, nlist)
			fanout_member(&so->member, &fo);
	}

	engine_send_batch_begin();
	for (i = 0; i < fo.n; i++) {
		so = fo.sockets[i];
		if (so->state == SOCK_CONNECTED && nf > 0) {
			engine_send_frames(so->client->s, frames, nf);
			SIO_STAT_ADD(events_sent, 1);
		}
		sio_socket_unref(so);
	}
	engine_send_batch_end();
	free(fo.sockets);
}

/* Whether so is in any of rooms (all of them: nrooms 0). */
static int
fanout_in(struct sio_nsp *n, struct sio_socket *so, const char *const *rooms,
    size_t nrooms)
{
	size_t		i;

	if (nrooms == 0)
		return (1);

	for (i = 0; i < nrooms; i++) {
		if (rooms_has(&n->rooms, &so->member, rooms[i]))
			return (1);
	}

	return (0);
}

static void
fanout_member(struct rooms_member *m, void *arg)
{
	struct fanout		*fo = arg;
	struct sio_socket	*so = m->owner;
	size_t			i;

	if (so->state != SOCK_CONNECTED)
		return;

	for (i = 0; i < fo->nexcept; i++) {
		if (rooms_has(&fo->nsp->rooms, m, fo->except[i]))
			return;
	}

	if (fo->n == fo->cap) {
		fo->cap = fo->cap ? fo->cap * 2 : 64;
		fo->sockets = sbuf_xreallocarray(fo->sockets, fo->cap,
		    sizeof(*fo->sockets));
	}
	sio_socket_ref(so);
	fo->sockets[fo->n++] = so;
}

/*
 * For server_filter.c: the connected sockets of n in any of rooms, each
 * once and holding a reference (sio_socket_unref() each, free() the
 * array), or only socket `only` if it is one (it is replayed); and an
 * EVENT packet [event, ...] (data, stolen) in frames.
 */
struct sio_socket **
server_members(struct sio_nsp *n, const char *const *rooms, size_t nrooms,
    struct sio_socket *only, size_t *count)
{
	struct fanout		fo;

	memset(&fo, 0, sizeof(fo));
	fo.nsp = n;
	if (only != NULL) {
		if (only->nsp == n && nrooms > 0 &&
		    fanout_in(n, only, rooms, nrooms))
			fanout_member(&only->member, &fo);
	} else if (nrooms > 0) {
		rooms_foreach(&n->rooms, rooms, nrooms, NULL, 0,
		    fanout_member, &fo);
	}
	*count = fo.n;

	return (fo.sockets);
}

size_t
server_encode_event(struct sio_frame **frames, struct sio_nsp *n,
    json_t *data)
{
	return (encode_frames(frames, n->name, SIO_PACKET_EVENT, -1, data,
	    NULL, 0));
}

/* data is stolen. Returns the number of frames (0: not encodable). */
static size_t
encode_frames(struct sio_frame **frames, const char *nsp, int type,
    int64_t ack, json_t *data, const struct sio_attachment *att, size_t natt)
{
	struct sbuf	b;
	size_t		i;

	if (natt > SIO_FRAMES_MAX - 1) {
		json_decref(data);
		return (0);
	}

	if (natt > 0) {
		if (type == SIO_PACKET_EVENT)
			type = SIO_PACKET_BINARY_EVENT;
		else if (type == SIO_PACKET_ACK)
			type = SIO_PACKET_BINARY_ACK;
	}

	sbuf_init(&b);
	sbuf_append_byte(&b, '0' + EIO_PACKET_MESSAGE);
	if (!sio_packet_encode(&b, type, nsp, ack, natt, data)) {
		kore_log(LOG_WARNING, "sio: refusing to send an invalid packet "
		    "(type %d)", type);
		sbuf_free(&b);
		json_decref(data);
		return (0);
	}
	json_decref(data);

	frames[0] = frame_new(b.data, b.len, 0);
	sbuf_free(&b);
	for (i = 0; i < natt; i++)
		frames[i + 1] = frame_new(att[i].data, att[i].len, 1);

	return (natt + 1);
}

/* [event, ...args]; args is stolen. */
static json_t *
event_array(const char *event, json_t *args)
{
	json_t		*a;

	a = json_array();
	(void)json_array_append_new(a, json_string(event));
	if (args != NULL) {
		if (json_is_array(args))
			(void)json_array_extend(a, args);
		else
			(void)json_array_append(a, args);
		json_decref(args);
	}

	return (a);
}
