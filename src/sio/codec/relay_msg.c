/*
 * The Engine.IO relay's messages between korio nodes (relay_msg.h has
 * the layout). Everything is checked on decode: a message from Redis is
 * bytes anybody with the server's Redis could have written.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "relay_msg.h"

static void	put16(struct sbuf *, uint16_t);
static void	put32(struct sbuf *, uint32_t);
static void	put64(struct sbuf *, uint64_t);
static uint64_t	get(const uint8_t *, size_t);

/* Whether tag is RELAY_TAG_LEN chars of a session id's alphabet. */
int
relay_tag_valid(const char *tag)
{
	size_t		i;
	char		c;

	for (i = 0; i < RELAY_TAG_LEN; i++) {
		c = tag[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return (0);
	}
	return (1);
}

/* m's head (m->ids and m->rest are not read), ids[m->count], rest. */
void
relay_msg_encode(struct sbuf *b, const struct relay_msg *m,
    const uint64_t *ids, const void *rest, size_t restlen)
{
	uint32_t	i;

	sbuf_reserve(b, RELAY_HEAD_LEN + (size_t)m->count * 8 + restlen);
	sbuf_append_byte(b, 'K');
	sbuf_append_byte(b, RELAY_MSG_VERSION);
	sbuf_append_byte(b, m->type);
	sbuf_append(b, m->tag, RELAY_TAG_LEN);
	put16(b, m->src);
	put16(b, m->dst);
	sbuf_append_byte(b, m->ep);
	sbuf_append_byte(b, m->binary);
	put16(b, m->status);
	put32(b, m->count);
	put64(b, m->id);
	for (i = 0; i < m->count; i++)
		put64(b, ids[i]);
	if (restlen > 0)
		sbuf_append(b, rest, restlen);
}

/* 0 and m filled (pointing into d), or -1 for anything malformed. */
int
relay_msg_decode(const uint8_t *d, size_t len, struct relay_msg *m)
{
	if (len < RELAY_HEAD_LEN || d[0] != 'K' || d[1] != RELAY_MSG_VERSION)
		return (-1);

	m->type = d[2];
	memcpy(m->tag, d + 3, RELAY_TAG_LEN);
	m->src = (uint16_t)get(d + 7, 2);
	m->dst = (uint16_t)get(d + 9, 2);
	m->ep = d[11];
	m->binary = d[12];
	m->status = (uint16_t)get(d + 13, 2);
	m->count = (uint32_t)get(d + 15, 4);
	m->id = get(d + 19, 8);

	if (!relay_tag_valid(m->tag) || m->src < 1 || m->src > 255 ||
	    m->dst < 1 || m->dst > 255 || m->count > RELAY_IDS_MAX ||
	    (size_t)m->count * 8 > len - RELAY_HEAD_LEN)
		return (-1);

	m->ids = d + RELAY_HEAD_LEN;
	m->rest = m->ids + (size_t)m->count * 8;
	m->restlen = len - RELAY_HEAD_LEN - (size_t)m->count * 8;

	return (0);
}

/* The i-th id of a decoded message (i < m->count). */
uint64_t
relay_msg_id(const struct relay_msg *m, uint32_t i)
{
	return (get(m->ids + (size_t)i * 8, 8));
}

static void
put16(struct sbuf *b, uint16_t v)
{
	sbuf_append_byte(b, (uint8_t)(v >> 8));
	sbuf_append_byte(b, (uint8_t)v);
}

static void
put32(struct sbuf *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b, (uint16_t)v);
}

static void
put64(struct sbuf *b, uint64_t v)
{
	put32(b, (uint32_t)(v >> 32));
	put32(b, (uint32_t)v);
}

/* n bytes at p, big-endian. */
static uint64_t
get(const uint8_t *p, size_t n)
{
	uint64_t	v;
	size_t		i;

	v = 0;
	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return (v);
}
