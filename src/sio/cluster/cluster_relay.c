/*
 * Redis's part of the Engine.IO relay between korio nodes
 * (engine/engine_remote.c has the rest): each node draws a tag at
 * start-up, which its session ids carry, and its subscriber takes
 * <prefix>-korio-relay#<tag>#, where other nodes publish the requests,
 * frames and answers for it. A PUBLISH that reaches no subscriber
 * (the node is gone, or the tag names none) is told to the engine,
 * which ends the request at once.
 *
 * A tag is 4 chars of 64 (24 bits), drawn in the parent so that every
 * worker has it: two nodes of one cluster drawing the same tag is a one
 * in 16 million chance per pair, and would show as "Session ID unknown"
 * for some relayed requests (their clients make a new session).
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "codec/relay_msg.h"
#include "engine/engine.h"

static char	relay_tag[RELAY_TAG_LEN + 1];

static void	relay_publish(const char *, const u_int8_t *, size_t,
		    u_int8_t, u_int64_t);
static void	relay_channel_of(struct sbuf *, const char *);

/* In the parent: this node's tag. */
void
cluster_relay_parent_init(void)
{
	cluster_random_chars(relay_tag, RELAY_TAG_LEN);
	relay_tag[RELAY_TAG_LEN] = '\0';
}

/* In each worker: the engine's session ids carry the tag from now on. */
void
cluster_relay_init(void)
{
	engine_remote_enable(relay_tag, relay_publish);
}

/* This node's relay channel, NUL-terminated, into b. */
void
cluster_relay_channel(struct sbuf *b)
{
	relay_channel_of(b, relay_tag);
}

static void
relay_channel_of(struct sbuf *b, const char *tag)
{
	sbuf_append_str(b, sio_conf.redis_prefix);
	sbuf_append_str(b, "-korio-relay#");
	sbuf_append(b, tag, RELAY_TAG_LEN);
	sbuf_append_byte(b, '#');
	(void)sbuf_cstr(b);
}

/* What came on this node's relay channel (owner worker). */
void
cluster_relay_recv(const u_int8_t *d, size_t len)
{
	if (engine_remote_in(d, len) == -1)
		cluster_bad("relay", "malformed");
}

static void
relay_publish(const char *tag, const u_int8_t *d, size_t len, u_int8_t type,
    u_int64_t id)
{
	struct sbuf	chan;

	sbuf_init(&chan);
	relay_channel_of(&chan, tag);
	credis_publish_to(chan.data, chan.len, d, len, engine_remote_nobody,
	    type, id);
	sbuf_free(&chan);
}
