/*
 * relay_msg.h: the Engine.IO relay between korio nodes, as bytes on
 * Redis (engine/engine_remote.c sends and reads them, cluster/ carries
 * them on <prefix>-korio-relay#<tag>#). A relay message is what one
 * worker sends another over Kore's bus (engine/engine_relay.c), plus
 * who sends it and to which worker of the node it goes:
 *
 *   0      'K'                 magic
 *   1      RELAY_MSG_VERSION
 *   2      type                the bus message id (SIO_MSG_POLL_GET...)
 *   3..6   source node tag     RELAY_TAG_LEN chars of [A-Za-z0-9_-]
 *   7..8   source worker       big-endian, 1..255
 *   9..10  destination worker  big-endian, 1..255
 *   11     ep                  endpoint index
 *   12     binary              a content type or a binary flag
 *   13..14 status              big-endian
 *   15..18 count               big-endian: ids that follow the head
 *   19..26 id                  big-endian: the request or WebSocket id
 *   27..   count ids, 8 bytes each, big-endian; then the rest, opaque
 *          (a session id and a body, or frames).
 *
 * Pure: no Kore, so it is unit-tested and fuzzed alone.
 */

#ifndef SIO_RELAY_MSG_H
#define SIO_RELAY_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"

#define RELAY_MSG_VERSION	1
#define RELAY_TAG_LEN		4
#define RELAY_HEAD_LEN		27
/* More ids than any batch of WebSocket frames carries is malformed. */
#define RELAY_IDS_MAX		65536

struct relay_msg {
	uint8_t		 type;
	char		 tag[RELAY_TAG_LEN];
	uint16_t	 src;
	uint16_t	 dst;
	uint8_t		 ep;
	uint8_t		 binary;
	uint16_t	 status;
	uint32_t	 count;
	uint64_t	 id;
	const uint8_t	*ids;		/* count big-endian u64s */
	const uint8_t	*rest;
	size_t		 restlen;
};

int		 relay_tag_valid(const char *);
void		 relay_msg_encode(struct sbuf *, const struct relay_msg *,
		    const uint64_t *, const void *, size_t);
int		 relay_msg_decode(const uint8_t *, size_t, struct relay_msg *);
uint64_t	 relay_msg_id(const struct relay_msg *, uint32_t);

#endif /* !SIO_RELAY_MSG_H */
