/*
 * What the subscriber (on the owner worker) gets, and what it subscribes
 * to, for each namespace:
 *
 *   PSUBSCRIBE <prefix>#<nsp>#*        broadcasts of other nodes and
 *                                      emitters (bare or one room)
 *   SUBSCRIBE  <prefix>-request#<nsp>#  their requests: what makes NUMSUB
 *                                      (serverCount) count this process
 *   SUBSCRIBE  <prefix>-korio#<nsp>#    filtered broadcasts of korio nodes
 *
 * and once, <prefix>-presence#changed (cluster_presence.c) and
 * <prefix>-korio-relay#<tag># (cluster_relay.c).
 *
 * korio makes no requests of its own, so it needs no response channel.
 *
 * A broadcast is decoded (cluster_codec.c); this node's own echo (its
 * uid) and a packet for another namespace are dropped; the rest becomes
 * the frames korio itself would have encoded for it and goes into the
 * broadcast path of every worker (server_broadcast_frames(): the other
 * workers over the bus, all of them in the order of server_order.c), so
 * each local socket gets it once. flags.volatile and compress change
 * nothing here: korio queues every packet. Anything malformed is dropped
 * and counted (cluster_bad()), never fatal.
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "cluster_codec.h"
#include "server/server.h"

#define RECV_APP_MAX		16

/* An application's own channel (sio_cluster_subscribe()). */
struct recv_app {
	char			*channel;
	sio_cluster_msg_fn	 fn;
};

static struct recv_app	 recv_apps[RECV_APP_MAX];
static size_t		 recv_napps;

static struct sio_nsp	*recv_nsp(const char *, size_t, const char **);
static void		 recv_broadcast(struct sio_nsp *, const u_int8_t *,
			    size_t);
static void		 recv_filtered(struct sio_nsp *, const u_int8_t *,
			    size_t);

/* sio.h: an application's channel, on the owner's subscriber. */
void
sio_cluster_subscribe(const char *channel, sio_cluster_msg_fn fn)
{
	if (recv_napps == RECV_APP_MAX)
		fatal("sio_cluster_subscribe: too many channels");
	recv_apps[recv_napps].channel = sbuf_xstrdup(channel);
	recv_apps[recv_napps].fn = fn;
	recv_napps++;
	if (cluster_on && cluster_owner())
		credis_sub_add(channel);
}

/* fn(channel, pattern, arg) for each subscription. */
void
cluster_subscriptions(void (*fn)(const char *, int, void *), void *arg)
{
	struct sbuf	b;
	size_t		i;

	for (i = 0; i < recv_napps; i++)
		fn(recv_apps[i].channel, 0, arg);

	for (i = 0; i < server_nnsps; i++) {
		sbuf_init(&b);
		cluster_channel(&b, "", server_nsps[i], NULL);
		sbuf_append_byte(&b, '*');
		fn(sbuf_cstr(&b), 1, arg);
		sbuf_free(&b);

		sbuf_init(&b);
		cluster_channel(&b, "-request", server_nsps[i], NULL);
		fn(sbuf_cstr(&b), 0, arg);
		sbuf_free(&b);

		sbuf_init(&b);
		cluster_channel(&b, "-korio", server_nsps[i], NULL);
		fn(sbuf_cstr(&b), 0, arg);
		sbuf_free(&b);
	}

	sbuf_init(&b);
	cluster_presence_channel(&b);
	fn(sbuf_cstr(&b), 0, arg);
	sbuf_free(&b);

	sbuf_init(&b);
	cluster_relay_channel(&b);
	fn(sbuf_cstr(&b), 0, arg);
	sbuf_free(&b);
}

void
cluster_recv(const char *chan, size_t clen, const u_int8_t *d, size_t len)
{
	struct sio_nsp	*n;
	const char	*rest;
	size_t		 plen, i;

	SIO_STAT_ADD(redis_received, 1);
	for (i = 0; i < recv_napps; i++) {
		if (strlen(recv_apps[i].channel) == clen &&
		    !memcmp(recv_apps[i].channel, chan, clen)) {
			recv_apps[i].fn(d, len);
			return;
		}
	}
	plen = strlen(sio_conf.redis_prefix);
	if (clen < plen || memcmp(chan, sio_conf.redis_prefix, plen))
		return;
	chan += plen;
	clen -= plen;

	if (clen > 0 && chan[0] == '#') {
		if ((n = recv_nsp(chan + 1, clen - 1, &rest)) != NULL)
			recv_broadcast(n, d, len);
	} else if (clen > 9 && !memcmp(chan, "-request#", 9)) {
		if ((n = recv_nsp(chan + 9, clen - 9, &rest)) != NULL &&
		    *rest == '\0')
			cluster_answer(n, d, len);
	} else if (clen == 17 && !memcmp(chan, "-presence#changed", 17)) {
		cluster_presence_changed(d, len);
	} else if (clen > 13 && !memcmp(chan, "-korio-relay#", 13)) {
		/* Only this node's is subscribed to. */
		cluster_relay_recv(d, len);
	} else if (clen > 7 && !memcmp(chan, "-korio#", 7)) {
		if ((n = recv_nsp(chan + 7, clen - 7, &rest)) != NULL &&
		    *rest == '\0')
			recv_filtered(n, d, len);
	}
}

/* The namespace that "<name>#..." starts with; rest: after its '#'. */
static struct sio_nsp *
recv_nsp(const char *s, size_t len, const char **rest)
{
	size_t		i, l;

	for (i = 0; i < server_nnsps; i++) {
		l = strlen(server_nsps[i]->name);
		if (len > l && !memcmp(s, server_nsps[i]->name, l) &&
		    s[l] == '#') {
			/* hiredis NUL-terminates what it read. */
			*rest = s + l + 1;
			return (server_nsps[i]);
		}
	}
	return (NULL);
}

static void
recv_broadcast(struct sio_nsp *n, const u_int8_t *d, size_t len)
{
	struct cc_bcast		 bc;
	struct sio_frame	*frames[SIO_FRAMES_MAX];
	size_t			 nf, i;

	cc_bcast_init(&bc);
	if (cc_bcast_decode(d, len, &bc) != 0) {
		cc_bcast_free(&bc);
		cluster_bad("broadcast", "malformed");
		return;
	}
	/* Our own echo, or another namespace's packet: not for us. */
	if (!strcmp(bc.uid, cluster_uid(n)) || strcmp(bc.nsp, n->name)) {
		cc_bcast_free(&bc);
		return;
	}
	if (bc.natt > SIO_FRAMES_MAX - 1) {
		cc_bcast_free(&bc);
		cluster_bad("broadcast", "too many attachments");
		return;
	}

	frames[0] = frame_new_text(EIO_PACKET_MESSAGE, bc.packet,
	    bc.packet_len);
	for (i = 0; i < bc.natt; i++)
		frames[i + 1] = frame_new(bc.att[i].data, bc.att[i].len, 1);
	nf = bc.natt + 1;

	server_broadcast_frames(n, bc.rooms, bc.nrooms, bc.except,
	    bc.nexcept, frames, nf);
	for (i = 0; i < nf; i++)
		frame_unref(frames[i]);
	cc_bcast_free(&bc);
}

/* A filtered broadcast of another korio node: uid, then the message. */
static void
recv_filtered(struct sio_nsp *n, const u_int8_t *d, size_t len)
{
	u_int8_t	*copy;

	if (len < CLUSTER_UID_LEN ||
	    !memcmp(d, cluster_uid(n), CLUSTER_UID_LEN))
		return;
	copy = sbuf_xmemdup(d + CLUSTER_UID_LEN, len - CLUSTER_UID_LEN);
	if (!server_filtered_inject(n, copy, len - CLUSTER_UID_LEN))
		cluster_bad("filtered broadcast", "malformed");
	free(copy);
}
