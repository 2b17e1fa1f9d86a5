/*
 * cluster_codec.h: the wire format of Socket.IO's classic Redis adapter
 * (@socket.io/redis-adapter 8.x, @socket.io/redis-emitter 5.x; see
 * ../shared/docs/redis-adapter.md, sections 3 and 4) to and from
 * korio's own forms: a broadcast's Socket.IO text packet with its
 * binary attachments, NUL-terminated room names, flags.
 *
 * Pure: libc + jansson + codec/ (sbuf, the JSON writer); no Kore, no
 * libm. Broadcasts are cluster_codec.c, requests cluster_req.c; the
 * msgpack reader and writer are hand-written (cluster_mp.c, notepack.io's
 * formats; cluster_mpjs.c, what the values are to JavaScript): bounded,
 * no allocation per value once the struct's buffers have grown, easy to
 * fuzz.
 *
 * Decoded structs are reusable: cc_*_init() once, then any number of
 * cc_*_decode() calls (each one forgets the last result and reuses its
 * memory; after a failed one the struct holds nothing), then
 * cc_*_free(). After a decode, attachments point into the input (keep
 * it while they are used); every string is NUL-terminated and owned by
 * the struct.
 *
 * Packet texts are Socket.IO packets without the Engine.IO "4": a
 * frame's SIO_FRAME_DATA(f) + 1, f->len - 1 to encode, and
 * frame_new_text(EIO_PACKET_MESSAGE, packet, packet_len) for a decoded
 * one. A broadcast encoded while connection-state recovery is on must be
 * taken before server_recover_offset() adds its offset argument.
 */

#ifndef SIO_CLUSTER_CODEC_H
#define SIO_CLUSTER_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "codec/sbuf.h"

/* Deepest nesting of arrays and maps decoded (msgpack); deeper is -1. */
#define CC_MAX_DEPTH			32

/* The request/response types of the classic adapter (section 4). */
#define CC_REQ_NONE			-1	/* a reply without "type" */
#define CC_REQ_SOCKETS			0
#define CC_REQ_ALL_ROOMS		1
#define CC_REQ_REMOTE_JOIN		2
#define CC_REQ_REMOTE_LEAVE		3
#define CC_REQ_REMOTE_DISCONNECT	4
#define CC_REQ_REMOTE_FETCH		5
#define CC_REQ_SERVER_SIDE_EMIT		6
#define CC_REQ_BROADCAST		7
#define CC_REQ_BROADCAST_CLIENT_COUNT	8
#define CC_REQ_BROADCAST_ACK		9

/* A binary attachment: after a decode, it points into the input. */
struct cc_bin {
	const uint8_t	*data;
	size_t		 len;
};

/* opts.flags of a broadcast. Others (local, binary...) are ignored. */
struct cc_flags {
	int		 volatile_;	/* 1: "volatile": true */
	int		 compress;	/* -1 absent, 0 false, 1 true */
	int64_t		 timeout;	/* ms; -1 absent */
	int		 expect_single;	/* 1: "expectSingleResponse": true */
};

/* Private storage of a decoded struct, reused by the next decode. */
struct cc_mem {
	struct sbuf	 text;		/* the packet text */
	struct sbuf	 names;		/* NUL-terminated strings */
	struct sbuf	 ptrs;		/* offsets, then char pointers */
	struct sbuf	 att;		/* struct cc_bin[] */
	struct sbuf	 nodes;		/* the msgpack tree */
	struct sbuf	 keys;		/* map keys being written */
	struct sbuf	 ents;		/* map entries being written */
};

/*
 * A broadcast [uid, {type:2, data, nsp}, {rooms, except, flags}].
 *
 * Decoded: uid ("" if not a string), nsp ("/" when absent), packet:
 * the Socket.IO text packet korio sends for it (no Engine.IO "4"):
 * "2[...]" or "2/admin,[...]", or with binary data "5<n>-[...]" with
 * {"_placeholder":true,"num":i} in place of att[i] (n = natt), exactly
 * what a Node node's socket.io-parser writes for it (natt may pass
 * korio's SIO_PACKET_MAX_ATTACHMENTS: the caller decides). Room names
 * that are numbers become their JS decimal string.
 *
 * Encoded (cc_bcast_encode): uid, packet/packet_len (the Socket.IO text
 * packet korio built, an EVENT or BINARY_EVENT without ack id; its nsp
 * is the one published; nsp is ignored), att/natt, rooms, except, flags.
 */
struct cc_bcast {
	const char		 *uid;
	const char		 *nsp;
	const uint8_t		 *packet;
	size_t			  packet_len;
	const struct cc_bin	 *att;
	size_t			  natt;
	const char *const	 *rooms;
	size_t			  nrooms;
	const char *const	 *except;
	size_t			  nexcept;
	struct cc_flags		  flags;
	struct cc_mem		  mem;
};

/*
 * A request or response of the request/response channels: JSON (first
 * byte '{') or msgpack (types 7 and 9). Absent fields are NULL, 0 or -1.
 *
 *   type		CC_REQ_*; CC_REQ_NONE for the typeless replies
 *			{requestId, rooms} and {requestId, sockets}
 *   uid, request_id	"uid", "requestId" (strings only)
 *   rooms, except,	"opts" of types 0, 2, 3, 4, 5, 7
 *   flags
 *   targets		the top-level "rooms": rooms to join (2) or leave
 *			(3), type 0's rooms, a type 1 reply's rooms
 *   close		type 4's "close"
 *   client_count	type 8's "clientCount" (-1 absent)
 *   packet, att	type 7: "packet" as a broadcast's packet above;
 *			type 9: "packet" (the first ack argument) as JSON
 *			text with placeholders for att
 *   json		the whole message as JSON (a msgpack one converted,
 *			bins as placeholders): for "data" (type 6) and
 *			"sockets" (type 5 reply); owned by the struct
 */
struct cc_req {
	int			  type;
	const char		 *uid;
	const char		 *request_id;
	const char *const	 *rooms;
	size_t			  nrooms;
	const char *const	 *except;
	size_t			  nexcept;
	struct cc_flags		  flags;
	const char *const	 *targets;
	size_t			  ntargets;
	int			  close;
	int64_t			  client_count;
	const uint8_t		 *packet;
	size_t			  packet_len;
	const struct cc_bin	 *att;
	size_t			  natt;
	json_t			 *json;
	struct cc_mem		  mem;
};

/* cluster_codec.c: broadcasts; 0 ok, -1 bad input (nothing written). */
void	cc_bcast_init(struct cc_bcast *);
int	cc_bcast_decode(const uint8_t *, size_t, struct cc_bcast *);
void	cc_bcast_free(struct cc_bcast *);
int	cc_bcast_encode(struct sbuf *, const struct cc_bcast *);

/* cluster_req.c: requests and responses. */
void	cc_req_init(struct cc_req *);
int	cc_req_decode(const uint8_t *, size_t, struct cc_req *);
void	cc_req_free(struct cc_req *);
/* msgpack type 7: b's broadcast, with ack (b->flags.timeout). */
int	cc_req_encode_bcast(struct sbuf *, const char *, const struct cc_bcast *);
/* msgpack type 9: JSON text of the first ack argument + attachments. */
int	cc_req_encode_ack(struct sbuf *, const char *, const uint8_t *, size_t,
	    const struct cc_bin *, size_t);
/* JSON replies: type 8, type 1 (rooms), type 5 (sockets), type 6. */
int	cc_req_encode_count(struct sbuf *, const char *, uint64_t);
int	cc_req_encode_rooms(struct sbuf *, const char *, const char *const *,
	    size_t);
int	cc_req_encode_sockets(struct sbuf *, const char *, const json_t *);
int	cc_req_encode_emit_ack(struct sbuf *, const char *, const json_t *);

#endif /* !SIO_CLUSTER_CODEC_H */
