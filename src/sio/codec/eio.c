/*
 * eio.c: Engine.IO v4 packet and payload codec (engine.io-parser 5.x
 * semantics, as used by engine.io 6.6 and engine.io-client 6.6).
 *
 * A packet is one ASCII digit, the type (0 open, 1 close, 2 ping,
 * 3 pong, 4 message, 5 upgrade, 6 noop), followed by its data.
 *
 * Implemented:
 * - WebSocket: one packet per frame. A text frame is digit + UTF-8
 *   data; a binary frame is a message packet of raw bytes with no type
 *   byte. eio_decode_frame() / eio_encode_frame().
 * - Long-polling: packets joined by 0x1e; a binary message is "b" +
 *   base64 of its bytes ("4hello\x1ebAQIDBA=="). eio_payload_init()
 *   and eio_payload_next() iterate a payload; eio_payload_append()
 *   builds one.
 * - The open packet: eio_open_packet() writes
 *   0{"sid":..,"upgrades":[..],"pingInterval":N,"pingTimeout":N,
 *   "maxPayload":N} with exactly these keys in this order.
 *
 * Rejected (the caller closes the session, or answers 400 on polling):
 * - an empty text frame or record, a first byte that is not 0-6
 *   ("abc"), a payload with an empty record ("4a\x1e", "");
 * - text that is not well-formed UTF-8 (Node would substitute U+FFFD
 *   on polling and the ws library closes with 1007 on WebSocket);
 * - "b" records whose base64 is not canonical (see sbuf.c);
 * - a "b" prefix on a WebSocket text frame: engine.io-parser would
 *   accept it, but no client sends it (binary goes in binary frames);
 * - a polling payload longer than the caller's maxPayload.
 *
 * Not here: the HTTP and WebSocket transports, heartbeats, upgrades,
 * sessions; those are Kore glue. Engine.IO v3 (EIO=3) is not spoken.
 */

#include <string.h>

#include "eio.h"

#define EIO_TYPE_VALID(t)	((t) >= EIO_PACKET_OPEN && (t) <= EIO_PACKET_NOOP)

static int	eio_decode_record(struct eio_payload *, struct eio_packet *,
		    const uint8_t *, size_t);
static int	eio_decode_text(struct eio_packet *, const uint8_t *, size_t);

/* Decode digit + data; the caller has checked UTF-8. */
static int
eio_decode_text(struct eio_packet *pkt, const uint8_t *buf, size_t len)
{
	if (len == 0 || buf[0] < '0' || buf[0] > '0' + EIO_PACKET_NOOP)
		return (0);

	pkt->type = buf[0] - '0';
	pkt->binary = 0;
	pkt->data = buf + 1;
	pkt->len = len - 1;

	return (1);
}

/*
 * Decode one WebSocket frame, text (binary == 0) or binary. pkt->data
 * points into buf. Returns 1 on success, 0 on a malformed packet.
 */
int
eio_decode_frame(struct eio_packet *pkt, const uint8_t *buf, size_t len,
    int binary)
{
	if (binary) {
		pkt->type = EIO_PACKET_MESSAGE;
		pkt->binary = 1;
		pkt->data = buf;
		pkt->len = len;
		return (1);
	}

	if (!sbuf_utf8_valid(buf, len))
		return (0);

	return (eio_decode_text(pkt, buf, len));
}

/*
 * Append one packet for a WebSocket text frame: "4hello", "2", "3probe".
 * (Binary messages go out as the raw bytes in a binary frame.)
 * Returns 0 if type is not a packet type.
 */
int
eio_encode_frame(struct sbuf *out, int type, const void *data, size_t len)
{
	if (!EIO_TYPE_VALID(type))
		return (0);

	sbuf_reserve(out, len + 1);
	sbuf_append_byte(out, (uint8_t)('0' + type));
	sbuf_append(out, data, len);

	return (1);
}

/*
 * Start iterating the long-polling payload buf[0..len). The payload is
 * borrowed and must outlive the iteration. Returns 0 (the iterator is
 * then still safe to clean up) if len exceeds max or the payload is
 * not UTF-8; the glue answers 413 resp. 400 for those (check len
 * against max first if it needs to tell them apart).
 *
 * Usage:
 *	if (!eio_payload_init(&it, body, len, max))
 *		goto fail;
 *	while ((r = eio_payload_next(&it, &pkt)) == EIO_NEXT_PACKET)
 *		handle(&pkt);
 *	eio_payload_cleanup(&it);
 *	if (r == EIO_NEXT_ERROR)
 *		goto fail;
 */
int
eio_payload_init(struct eio_payload *it, const uint8_t *buf, size_t len,
    size_t max)
{
	it->buf = buf;
	it->len = len;
	it->off = 0;
	it->done = 0;
	sbuf_init(&it->scratch);

	if (len > max || !sbuf_utf8_valid(buf, len)) {
		it->done = -1;
		return (0);
	}

	return (1);
}

/* Decode one record (no separator inside). */
static int
eio_decode_record(struct eio_payload *it, struct eio_packet *pkt,
    const uint8_t *rec, size_t len)
{
	if (len == 0 || rec[0] != 'b')
		return (eio_decode_text(pkt, rec, len));

	sbuf_reset(&it->scratch);
	if (!sbuf_b64_decode(&it->scratch, rec + 1, len - 1))
		return (0);

	pkt->type = EIO_PACKET_MESSAGE;
	pkt->binary = 1;
	pkt->data = it->scratch.data;
	pkt->len = it->scratch.len;

	return (1);
}

/*
 * Fetch the next packet. Returns EIO_NEXT_PACKET (pkt filled; for a
 * binary record pkt->data lives in the iterator until the next call),
 * EIO_NEXT_END after the last packet, or EIO_NEXT_ERROR on a malformed
 * record; an error is sticky. Packets before a bad record have already
 * been returned; engine.io handles those too and then closes.
 */
int
eio_payload_next(struct eio_payload *it, struct eio_packet *pkt)
{
	const uint8_t	*rec, *sep;
	size_t		 len;

	if (it->done == -1)
		return (EIO_NEXT_ERROR);
	if (it->done)
		return (EIO_NEXT_END);
	if (it->len == 0) {
		/* An empty payload is one empty record. */
		it->done = -1;
		return (EIO_NEXT_ERROR);
	}

	rec = it->buf + it->off;
	len = it->len - it->off;
	sep = len > 0 ? memchr(rec, EIO_PAYLOAD_SEP, len) : NULL;
	if (sep != NULL) {
		len = (size_t)(sep - rec);
		it->off += len + 1;
	} else
		it->done = 1;

	if (!eio_decode_record(it, pkt, rec, len)) {
		it->done = -1;
		return (EIO_NEXT_ERROR);
	}

	return (EIO_NEXT_PACKET);
}

void
eio_payload_cleanup(struct eio_payload *it)
{
	sbuf_free(&it->scratch);
}

/*
 * Append one packet to a long-polling payload being built in out,
 * preceded by 0x1e unless out is empty (so out must hold nothing but
 * the payload). A binary packet (binary != 0, always a message) is
 * written as "b" + base64. Returns 0 for a bad type, a binary packet
 * that is not a message, or text data containing 0x1e, which cannot
 * be framed (Socket.IO JSON never contains it raw).
 */
int
eio_payload_append(struct sbuf *out, int type, int binary, const void *data,
    size_t len)
{
	if (!EIO_TYPE_VALID(type))
		return (0);
	if (binary && type != EIO_PACKET_MESSAGE)
		return (0);
	if (!binary && len > 0 && memchr(data, EIO_PAYLOAD_SEP, len) != NULL)
		return (0);

	if (out->len > 0)
		sbuf_append_byte(out, EIO_PAYLOAD_SEP);

	if (binary) {
		sbuf_append_byte(out, 'b');
		sbuf_b64_encode(out, data, len);
		return (1);
	}

	return (eio_encode_frame(out, type, data, len));
}

/*
 * Append the open packet. upgrades lists transport names
 * ("websocket" on a polling handshake, nothing on a WebSocket one).
 */
void
eio_open_packet(struct sbuf *out, const char *sid,
    const char *const *upgrades, size_t nupgrades, uint32_t ping_interval,
    uint32_t ping_timeout, uint64_t max_payload)
{
	size_t		i;

	sbuf_append_str(out, "0{\"sid\":");
	sbuf_append_jstr(out, sid, strlen(sid));
	sbuf_append_str(out, ",\"upgrades\":[");
	for (i = 0; i < nupgrades; i++) {
		if (i > 0)
			sbuf_append_byte(out, ',');
		sbuf_append_jstr(out, upgrades[i], strlen(upgrades[i]));
	}
	sbuf_appendf(out, "],\"pingInterval\":%lu,\"pingTimeout\":%lu,"
	    "\"maxPayload\":%llu}", (unsigned long)ping_interval,
	    (unsigned long)ping_timeout, (unsigned long long)max_payload);
}
