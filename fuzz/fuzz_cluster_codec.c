/*
 * fuzz_cluster_codec.c: libFuzzer target for the Redis adapter's wire
 * codec (src/sio/cluster/): every input is decoded as a broadcast and as
 * a request or response (JSON when it starts with '{', else msgpack).
 * What decodes is encoded again, and that must decode to the same
 * thing: the same packet text, attachments, names and flags. Inputs
 * holding "_placeholder" are not compared (an object that looks like a
 * placeholder becomes one, for Node's clients as well), nor JSON
 * requests of types 7 and 9, which Node sends as msgpack only.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_codec.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	same_bins(const struct cc_bin *, size_t, const struct cc_bin *,
		    size_t);
static int	same_names(const char *const *, size_t, const char *const *,
		    size_t);
static void	check_bcast(const struct cc_bcast *);
static void	check_req(const struct cc_req *);

static int
same_bins(const struct cc_bin *a, size_t na, const struct cc_bin *b,
    size_t nb)
{
	size_t		i;

	if (na != nb)
		return (0);
	for (i = 0; i < na; i++) {
		if (a[i].len != b[i].len ||
		    (a[i].len > 0 && memcmp(a[i].data, b[i].data, a[i].len) != 0))
			return (0);
	}

	return (1);
}

static int
same_names(const char *const *a, size_t na, const char *const *b, size_t nb)
{
	size_t		i;

	if (na != nb)
		return (0);
	for (i = 0; i < na; i++) {
		if (strcmp(a[i], b[i]) != 0)
			return (0);
	}

	return (1);
}

static void
check_bcast(const struct cc_bcast *b)
{
	struct cc_bcast	 c;
	struct sbuf	 out;

	sbuf_init(&out);
	cc_bcast_init(&c);
	/* korio refuses some (more than 10 attachments, "connect"...). */
	if (cc_bcast_encode(&out, b) == 0) {
		if (cc_bcast_decode(out.data, out.len, &c) != 0)
			abort();
		if (strcmp(b->uid, c.uid) != 0 || strcmp(b->nsp, c.nsp) != 0 ||
		    b->packet_len != c.packet_len ||
		    memcmp(b->packet, c.packet, b->packet_len) != 0 ||
		    !same_bins(b->att, b->natt, c.att, c.natt) ||
		    !same_names(b->rooms, b->nrooms, c.rooms, c.nrooms) ||
		    !same_names(b->except, b->nexcept, c.except, c.nexcept) ||
		    memcmp(&b->flags, &c.flags, sizeof(b->flags)) != 0)
			abort();
	}
	cc_bcast_free(&c);
	sbuf_free(&out);
}

static void
check_req(const struct cc_req *q)
{
	struct cc_bcast	 b;
	struct cc_req	 r;
	struct sbuf	 out;
	int		 rc;

	if (q->packet == NULL || q->request_id == NULL)
		return;

	sbuf_init(&out);
	cc_req_init(&r);
	if (q->type == CC_REQ_BROADCAST_ACK)
		rc = cc_req_encode_ack(&out, q->request_id, q->packet,
		    q->packet_len, q->att, q->natt);
	else {
		cc_bcast_init(&b);
		b.uid = q->uid;
		b.packet = q->packet;
		b.packet_len = q->packet_len;
		b.att = q->att;
		b.natt = q->natt;
		b.rooms = q->rooms;
		b.nrooms = q->nrooms;
		b.except = q->except;
		b.nexcept = q->nexcept;
		b.flags = q->flags;
		rc = cc_req_encode_bcast(&out, q->request_id, &b);
	}
	if (rc == 0) {
		if (cc_req_decode(out.data, out.len, &r) != 0 ||
		    r.type != q->type ||
		    strcmp(r.request_id, q->request_id) != 0 ||
		    r.packet == NULL || r.packet_len != q->packet_len ||
		    memcmp(r.packet, q->packet, q->packet_len) != 0 ||
		    !same_bins(q->att, q->natt, r.att, r.natt))
			abort();
	}
	cc_req_free(&r);
	sbuf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cc_bcast	b;
	struct cc_req	q;
	int		compare;

	compare = memmem(data, size, "_placeholder", 12) == NULL;

	cc_bcast_init(&b);
	if (cc_bcast_decode(data, size, &b) == 0 && compare)
		check_bcast(&b);
	cc_bcast_free(&b);

	/* JSON types 7 and 9 (Node never sends them) keep jansson's order. */
	cc_req_init(&q);
	if (cc_req_decode(data, size, &q) == 0 && compare && data[0] != '{')
		check_req(&q);
	cc_req_free(&q);

	return (0);
}
