/*
 * eio.h: Engine.IO v4 packets and long-polling payloads (pure: libc
 * only). See the comment atop eio.c for the protocol subset.
 */

#ifndef SIO_EIO_H
#define SIO_EIO_H

#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"

#define EIO_PACKET_OPEN		0
#define EIO_PACKET_CLOSE	1
#define EIO_PACKET_PING		2
#define EIO_PACKET_PONG		3
#define EIO_PACKET_MESSAGE	4
#define EIO_PACKET_UPGRADE	5
#define EIO_PACKET_NOOP		6

/* Record separator between packets of a long-polling payload. */
#define EIO_PAYLOAD_SEP		0x1e

/* eio_payload_next() results. */
#define EIO_NEXT_ERROR		0
#define EIO_NEXT_PACKET		1
#define EIO_NEXT_END		2

/*
 * One decoded packet. data points into the caller's input (text, or a
 * binary WebSocket frame) or, for a "b" record of a polling payload,
 * into the iterator's scratch buffer; either way it is borrowed and
 * valid only as long as that memory is. binary is 1 for binary
 * messages (type is then always EIO_PACKET_MESSAGE).
 */
struct eio_packet {
	int		 type;
	int		 binary;
	const uint8_t	*data;
	size_t		 len;
};

/* Iterator over a long-polling payload; see eio_payload_init(). */
struct eio_payload {
	const uint8_t	*buf;
	size_t		 len;
	size_t		 off;
	int		 done;
	struct sbuf	 scratch;
};

/* eio.c */
int	eio_decode_frame(struct eio_packet *, const uint8_t *, size_t, int);
int	eio_encode_frame(struct sbuf *, int, const void *, size_t);
int	eio_payload_init(struct eio_payload *, const uint8_t *, size_t,
	    size_t);
int	eio_payload_next(struct eio_payload *, struct eio_packet *);
void	eio_payload_cleanup(struct eio_payload *);
int	eio_payload_append(struct sbuf *, int, int, const void *, size_t);
void	eio_open_packet(struct sbuf *, const char *, const char *const *,
	    size_t, uint32_t, uint32_t, uint64_t);

#endif /* !SIO_EIO_H */
