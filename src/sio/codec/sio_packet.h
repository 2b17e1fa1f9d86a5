/*
 * sio_packet.h: Socket.IO v5 packet codec and binary reassembly, and
 * its JSON writer (pure: libc + jansson). See the comments atop
 * sio_packet.c for the rules and sio_json.c for the JSON.
 */

#ifndef SIO_SIO_PACKET_H
#define SIO_SIO_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sbuf.h"

#define SIO_PACKET_CONNECT		0
#define SIO_PACKET_DISCONNECT		1
#define SIO_PACKET_EVENT		2
#define SIO_PACKET_ACK			3
#define SIO_PACKET_CONNECT_ERROR	4
#define SIO_PACKET_BINARY_EVENT		5
#define SIO_PACKET_BINARY_ACK		6

/* socket.io-parser's maxAttachments. */
#ifndef SIO_PACKET_MAX_ATTACHMENTS
#define SIO_PACKET_MAX_ATTACHMENTS	10
#endif

/* Longest ack id accepted, in digits (keeps it exact in a JS number). */
#define SIO_PACKET_MAX_ACK_DIGITS	15

/* sio_packet_reasm_*() results. */
#define SIO_REASM_ERROR			0
#define SIO_REASM_PACKET		1
#define SIO_REASM_MORE			2

/* One binary attachment; data is malloc'd (never NULL, even if len 0). */
/* Also in sio.h, the plugin's public API; the two must stay the same. */
#ifndef SIO_ATTACHMENT_DEFINED
#define SIO_ATTACHMENT_DEFINED
struct sio_attachment {
	uint8_t		*data;
	size_t		 len;
};
#endif

/*
 * A decoded (or to-be-encoded) packet. The packet owns nsp (malloc'd,
 * "/" by default), one reference to data (NULL when absent) and att.
 * att has room for `attachments` entries of which natt are filled; a
 * packet returned by the reassembler has natt == attachments.
 */
struct sio_packet {
	int			 type;
	size_t			 attachments;
	char			*nsp;
	int64_t			 ack_id;
	json_t			*data;
	struct sio_attachment	*att;
	size_t			 natt;
};

/* Binary reassembly state; one per Engine.IO session. */
struct sio_packet_reasm {
	struct sio_packet	 pkt;
	size_t			 max_bytes;
	size_t			 bytes;
	int			 pending;
};

/* sio_packet.c */
void		 sio_packet_init(struct sio_packet *);
struct sio_packet *sio_packet_new(void);
void		 sio_packet_clear(struct sio_packet *);
void		 sio_packet_free(struct sio_packet *);
int		 sio_packet_decode(struct sio_packet *, const uint8_t *,
		    size_t);
int		 sio_packet_encode(struct sbuf *, int, const char *, int64_t,
		    size_t, const json_t *);
int		 sio_packet_encode_pkt(struct sbuf *, const struct sio_packet *);
json_t		*sio_placeholder_new(size_t);
int		 sio_placeholder_check(const json_t *, size_t);
void		 sio_packet_reasm_init(struct sio_packet_reasm *, size_t);
int		 sio_packet_reasm_text(struct sio_packet_reasm *,
		    struct sio_packet *, const uint8_t *, size_t);
int		 sio_packet_reasm_binary(struct sio_packet_reasm *,
		    struct sio_packet *, const uint8_t *, size_t);
int		 sio_packet_reasm_pending(const struct sio_packet_reasm *);
void		 sio_packet_reasm_clear(struct sio_packet_reasm *);
json_t		*sio_packet_parse_json(const uint8_t *, size_t);

/* sio_json.c */
void		 sio_packet_json(struct sbuf *, const json_t *);
void		 sio_json_int(struct sbuf *, int64_t);
void		 sio_json_real(struct sbuf *, double);
json_t		*sio_json_unconst(const json_t *);

#endif /* !SIO_SIO_PACKET_H */
