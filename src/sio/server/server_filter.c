/*
 * Broadcasts whose recipients, and what each gets, are decided per socket
 * at delivery (sio_broadcast_filter()): the application registers a filter
 * under a small id in every worker (sio_filter_register()); a broadcast
 * names the filter, its rooms, its event and a JSON value (the change).
 * Each worker, in the order of server_order.c like any broadcast, decodes
 * the change once, collects its own members of the rooms (each once) and
 * asks the filter, socket by socket, for the arguments to send.
 *
 * Sockets that get the same arguments (the same array) share one encoded
 * packet: the filter builds each variant once and hands it out again.
 *
 * On the bus, after the head (server_order.c): the namespace index, the
 * filter id, the number of rooms (u16), each room (u16 length, bytes),
 * the event (u16 length, bytes), then the change as JSON text up to the
 * end.
 *
 * With connection-state recovery on, each packet carries the broadcast's
 * number as its last argument, as any broadcast does, and a socket that
 * comes back has the logged message delivered again to it alone, its
 * filter asked again (server_recover.c).
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "cluster/cluster.h"

/* Distinct argument arrays one delivery keeps encoded. */
#define FILTER_VARIANTS		8

struct filter_variant {
	json_t			*args;
	struct sio_frame	*frames[SIO_FRAMES_MAX];
	size_t			nf;
};

struct filter_msg {
	u_int64_t		seq;
	struct sio_nsp		*nsp;
	sio_filter_fn		fn;
	const char		*names[512];
	size_t			nrooms;
	char			*event;
	json_t			*change;
	char			*copy;
};

static sio_filter_fn	filters[SIO_FILTER_MAX];

static int	filter_decode(struct filter_msg *, const u_int8_t *, size_t,
		    int);
static void	filter_send(struct filter_msg *, struct sio_socket *,
		    struct filter_variant *, size_t *);
static void	filter_append_str(struct sbuf *, const char *);

void
sio_filter_register(uint8_t id, sio_filter_fn fn)
{
	if (id >= SIO_FILTER_MAX)
		fatal("sio_filter_register: id %u out of range", id);
	filters[id] = fn;
}

/*
 * Send event to the sockets of n in any of rooms that filter id picks,
 * on every worker. change is stolen.
 */
void
sio_broadcast_filter(struct sio_nsp *n, const char *const *rooms,
    size_t nrooms, const char *event, uint8_t id, json_t *change)
{
	struct sbuf	b;
	char		*text;
	size_t		i;
	u_int64_t	seq;

	if (id >= SIO_FILTER_MAX || nrooms == 0 || nrooms > 512 ||
	    change == NULL) {
		json_decref(change);
		return;
	}
	text = json_dumps(change, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(change);
	if (text == NULL) {
		kore_log(LOG_WARNING, "sio: a filtered broadcast could not "
		    "be encoded");
		return;
	}

	seq = server_order_take();
	SIO_STAT_ADD(broadcasts, 1);
	sbuf_init(&b);
	server_order_head(&b, seq);
	sbuf_append_byte(&b, n->index);
	sbuf_append_byte(&b, id);
	sbuf_append(&b, &(u_int16_t){ (u_int16_t)nrooms }, sizeof(u_int16_t));
	for (i = 0; i < nrooms; i++)
		filter_append_str(&b, rooms[i]);
	filter_append_str(&b, event);
	sbuf_append(&b, text, strlen(text));
	free(text);

	/* Cluster mode: to the other korio nodes (cluster.c). */
	if (cluster_on)
		cluster_publish_filtered(n, b.data + SERVER_ORDER_HEAD,
		    b.len - SERVER_ORDER_HEAD);
	if (bus_worker_count() > 1)
		bus_send_others(SIO_MSG_FILTERED, b.data, b.len);
	server_order_put(seq, SIO_MSG_FILTERED, b.data + SERVER_ORDER_HEAD,
	    b.len - SERVER_ORDER_HEAD);
	sbuf_free(&b);
}

/*
 * A filtered broadcast of another korio node (cluster/cluster_recv.c),
 * as sio_broadcast_filter() makes it after the head, with namespace n:
 * checked (it came from Redis), then to every worker like ours. 1 if it
 * was one.
 */
int
server_filtered_inject(struct sio_nsp *n, u_int8_t *d, size_t len)
{
	struct filter_msg	m;
	struct sbuf		b;
	u_int64_t		seq;
	int			ok;

	if (len < 1)
		return (0);
	d[0] = n->index;
	memset(&m, 0, sizeof(m));
	ok = filter_decode(&m, d, len, 1);
	json_decref(m.change);
	free(m.copy);
	if (!ok)
		return (0);

	seq = server_order_take();
	sbuf_init(&b);
	server_order_head(&b, seq);
	sbuf_append(&b, d, len);
	if (bus_worker_count() > 1)
		bus_send_others(SIO_MSG_FILTERED, b.data, b.len);
	server_order_put(seq, SIO_MSG_FILTERED, d, len);
	sbuf_free(&b);
	return (1);
}

static void
filter_append_str(struct sbuf *b, const char *s)
{
	u_int16_t	len;

	len = (u_int16_t)strnlen(s, 65535);
	sbuf_append(b, &len, sizeof(len));
	sbuf_append(b, s, len);
}

/*
 * Its turn (server_order.c): deliver filtered broadcast seq here, or only
 * to socket `only` if it is one of its recipients (it is replayed).
 */
void
server_msg_filtered(const u_int8_t *d, size_t len, u_int64_t seq,
    struct sio_socket *only)
{
	struct filter_msg	m;
	struct filter_variant	v[FILTER_VARIANTS];
	struct sio_socket	**so;
	size_t			i, k, n, nv;

	memset(&m, 0, sizeof(m));
	m.seq = seq;
	if (!filter_decode(&m, d, len, 0))
		goto cleanup;

	so = server_members(m.nsp, m.names, m.nrooms, only, &n);
	nv = 0;
	engine_send_batch_begin();
	for (i = 0; i < n; i++) {
		if (so[i]->state == SOCK_CONNECTED)
			filter_send(&m, so[i], v, &nv);
		sio_socket_unref(so[i]);
	}
	engine_send_batch_end();
	free(so);

	for (i = 0; i < nv; i++) {
		json_decref(v[i].args);
		for (k = 0; k < v[i].nf; k++)
			frame_unref(v[i].frames[k]);
	}

cleanup:
	json_decref(m.change);
	free(m.copy);
}

/* What the filter gives socket so, encoded once per distinct array. */
static void
filter_send(struct filter_msg *m, struct sio_socket *so,
    struct filter_variant *v, size_t *nv)
{
	struct sio_frame	*frames[SIO_FRAMES_MAX];
	json_t			*args, *data;
	size_t			i, nf;

	if ((args = m->fn(so, m->change)) == NULL)
		return;

	for (i = 0; i < *nv; i++) {
		if (v[i].args == args) {
			json_decref(args);
			engine_send_frames(so->client->s, v[i].frames,
			    v[i].nf);
			SIO_STAT_ADD(events_sent, 1);
			return;
		}
	}

	data = json_array();
	(void)json_array_append_new(data, json_string(m->event));
	(void)json_array_extend(data, args);
	server_recover_offset_args(data, m->seq);
	if ((nf = server_encode_event(frames, m->nsp, data)) == 0) {
		json_decref(args);
		return;
	}
	engine_send_frames(so->client->s, frames, nf);
	SIO_STAT_ADD(events_sent, 1);

	if (*nv < FILTER_VARIANTS) {
		v[*nv].args = args;
		v[*nv].nf = nf;
		memcpy(v[*nv].frames, frames, nf * sizeof(frames[0]));
		(*nv)++;
		return;
	}
	json_decref(args);
	for (i = 0; i < nf; i++)
		frame_unref(frames[i]);
}

/* The message from the bus (ours, so well formed, or it is dropped). */
static int
filter_decode(struct filter_msg *m, const u_int8_t *d, size_t len, int quiet)
{
	size_t		off, i, l;
	u_int16_t	u16;
	char		*p;

	if (len < 4 || d[0] >= server_nnsps || d[1] >= SIO_FILTER_MAX ||
	    filters[d[1]] == NULL) {
		if (!quiet)
			kore_log(LOG_WARNING, "sio: dropping a filtered "
			    "broadcast this worker can't deliver");
		return (0);
	}
	m->nsp = server_nsps[d[0]];
	m->fn = filters[d[1]];
	memcpy(&u16, d + 2, 2);
	m->nrooms = u16;
	if (m->nrooms == 0 || m->nrooms > 512)
		goto bad;

	/* Rooms, then the event: copied out, NUL-terminated. */
	p = m->copy = sbuf_xmalloc(len + m->nrooms + 2);
	off = 4;
	for (i = 0; i <= m->nrooms; i++) {
		if (off + 2 > len)
			goto bad;
		memcpy(&u16, d + off, 2);
		l = u16;
		off += 2;
		if (off + l > len)
			goto bad;
		memcpy(p, d + off, l);
		p[l] = '\0';
		if (i < m->nrooms)
			m->names[i] = p;
		else
			m->event = p;
		p += l + 1;
		off += l;
	}

	m->change = json_loadb((const char *)d + off, len - off,
	    JSON_DECODE_ANY, NULL);
	if (m->change == NULL)
		goto bad;

	return (1);

bad:
	if (!quiet)
		kore_log(LOG_WARNING, "sio: dropping a malformed filtered "
		    "broadcast");
	return (0);
}
