/*
 * sio_packet.c: Socket.IO v5 packet codec and binary reassembly.
 *
 * A packet is the data of one Engine.IO message (the leading Engine.IO
 * "4" is not part of it; the glue strips and adds it):
 *
 *	<type>[<n attachments>-][<nsp>,][<ack id>][<JSON>]
 *
 * Types: 0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR,
 * 5 BINARY_EVENT, 6 BINARY_ACK. The decoder follows socket.io-parser
 * 4.2.7 (Decoder.decodeString and isPayloadValid):
 * - type: one digit 0-6;
 * - attachments, types 5 and 6 only: decimal digits then '-', from 1
 *   to SIO_PACKET_MAX_ATTACHMENTS;
 * - nsp: if the next byte is '/', everything up to ',' or the end
 *   ("40/custom" and "40/custom," are the same); otherwise "/";
 * - ack id: the maximal run of digits that follows ("42abc[..]" leaves
 *   "abc[..]" as JSON, which then fails);
 * - payload: the rest, parsed as one JSON value with nothing after it
 *   but whitespace, valid per type: CONNECT an object or absent;
 *   DISCONNECT absent; CONNECT_ERROR an object or a string;
 *   EVENT/BINARY_EVENT a non-empty array whose first element is a
 *   number or a string other than the reserved event names (connect,
 *   connect_error, disconnect, disconnecting, newListener,
 *   removeListener); ACK/BINARY_ACK an array, possibly empty.
 *
 * Stricter than socket.io-parser, on purpose (all of these are inputs
 * no socket.io-client produces):
 * - JavaScript Number() quirks: an empty packet (parsed as CONNECT by
 *   JS), and whitespace where the ack id may start, which JS reads as
 *   the digit 0 ("2 [..]" asks for ack 0 there): refused, not guessed;
 * - an absent payload for EVENT, ACK, CONNECT_ERROR and their binary
 *   forms (JS lets it through to the application as no arguments);
 * - an ack id longer than SIO_PACKET_MAX_ACK_DIGITS digits (JS would
 *   round it), a NUL byte in the namespace;
 * - JSON jansson refuses: "\u0000" in strings, lone surrogates, and
 *   numbers that overflow a double (JS reads those as Infinity);
 * - a placeholder whose "num" is not an integer in [0, n) (JS only
 *   rejects negative or too large numbers, and substitutes undefined
 *   for fractions).
 *
 * Numbers: integers are jansson integers (json_int_t) and fractions
 * reals, except that a payload holding an integer beyond int64 (JS
 * writes 1e19 as 10000000000000000000) is parsed again with every
 * number as a real, which is all JS has anyway. So read numbers with
 * json_number_value() unless an integer is required.
 *
 * Encoding writes the same grammar ("/" and ack id -1 are omitted) and
 * serialises JSON exactly like JSON.stringify() (sio_packet_json(), in
 * sio_json.c), so decoding our own output gives it back unchanged.
 *
 * Binary packets: each binary argument is replaced by
 * {"_placeholder":true,"num":k} and the n attachments follow as binary
 * Engine.IO messages, with no other Socket.IO packet in between.
 * sio_packet_reasm_*() collects them; for emitting, the caller builds
 * the placeholders (sio_placeholder_new()) and sends its attachment
 * list after the packet text.
 */

#include <stdlib.h>
#include <string.h>

#include "sio_packet.h"

#define SIO_PACKET_IS_BINARY(t)	\
	((t) == SIO_PACKET_BINARY_EVENT || (t) == SIO_PACKET_BINARY_ACK)

static int	 sio_packet_decode_attachments(struct sio_packet *,
		    const uint8_t **, const uint8_t *);
static int	 sio_packet_decode_nsp(struct sio_packet *, const uint8_t **,
		    const uint8_t *);
static int	 sio_packet_decode_ack(struct sio_packet *, const uint8_t **,
		    const uint8_t *);
static int	 sio_packet_reserved(const json_t *);
static int	 sio_packet_payload_valid(int, const json_t *);
static int	 sio_packet_placeholder_num(const json_t *, size_t);

static const char *const sio_packet_reserved_names[] = {
	"connect",
	"connect_error",
	"disconnect",
	"disconnecting",
	"newListener",
	"removeListener",
	NULL
};

void
sio_packet_init(struct sio_packet *pkt)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->ack_id = -1;
}

struct sio_packet *
sio_packet_new(void)
{
	struct sio_packet	*pkt;

	pkt = sbuf_xmalloc(sizeof(*pkt));
	sio_packet_init(pkt);

	return (pkt);
}

/* Release everything the packet owns and re-initialise it. */
void
sio_packet_clear(struct sio_packet *pkt)
{
	size_t		i;

	free(pkt->nsp);
	if (pkt->data != NULL)
		json_decref(pkt->data);
	for (i = 0; i < pkt->natt; i++)
		free(pkt->att[i].data);
	free(pkt->att);
	sio_packet_init(pkt);
}

void
sio_packet_free(struct sio_packet *pkt)
{
	if (pkt == NULL)
		return;

	sio_packet_clear(pkt);
	free(pkt);
}

static int
sio_packet_decode_attachments(struct sio_packet *pkt, const uint8_t **pp,
    const uint8_t *end)
{
	const uint8_t	*p;
	size_t		 n;

	n = 0;
	for (p = *pp; p < end && *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (size_t)(*p - '0');
		if (n > SIO_PACKET_MAX_ATTACHMENTS)
			return (0);
	}

	if (p == *pp || p == end || *p != '-' || n == 0)
		return (0);

	pkt->attachments = n;
	*pp = p + 1;

	return (1);
}

static int
sio_packet_decode_nsp(struct sio_packet *pkt, const uint8_t **pp,
    const uint8_t *end)
{
	const uint8_t	*p, *comma;
	size_t		 len;

	p = *pp;
	if (p == end || *p != '/') {
		pkt->nsp = sbuf_xstrdup("/");
		return (1);
	}

	comma = memchr(p, ',', (size_t)(end - p));
	len = (size_t)((comma != NULL ? comma : end) - p);
	if (memchr(p, '\0', len) != NULL)
		return (0);

	pkt->nsp = sbuf_xstrndup((const char *)p, len);
	*pp = comma != NULL ? comma + 1 : end;

	return (1);
}

static int
sio_packet_decode_ack(struct sio_packet *pkt, const uint8_t **pp,
    const uint8_t *end)
{
	const uint8_t	*p;
	int64_t		 id;

	id = 0;
	for (p = *pp; p < end && *p >= '0' && *p <= '9'; p++) {
		if (p - *pp == SIO_PACKET_MAX_ACK_DIGITS)
			return (0);
		id = id * 10 + (*p - '0');
	}

	if (p != *pp)
		pkt->ack_id = id;
	*pp = p;

	return (1);
}

/* 1 if json is a string naming a reserved event. */
static int
sio_packet_reserved(const json_t *json)
{
	const char	*s;
	size_t		 i, len;

	s = json_string_value(json);
	len = json_string_length(json);
	for (i = 0; sio_packet_reserved_names[i] != NULL; i++) {
		if (strlen(sio_packet_reserved_names[i]) == len &&
		    memcmp(sio_packet_reserved_names[i], s, len) == 0)
			return (1);
	}

	return (0);
}

/* socket.io-parser's isPayloadValid(); data NULL means absent. */
static int
sio_packet_payload_valid(int type, const json_t *data)
{
	const json_t	*first;

	switch (type) {
	case SIO_PACKET_CONNECT:
		return (data == NULL || json_is_object(data));
	case SIO_PACKET_DISCONNECT:
		return (data == NULL);
	case SIO_PACKET_CONNECT_ERROR:
		return (json_is_object(data) || json_is_string(data));
	case SIO_PACKET_EVENT:
	case SIO_PACKET_BINARY_EVENT:
		if (!json_is_array(data) ||
		    (first = json_array_get(data, 0)) == NULL)
			return (0);
		if (json_is_number(first))
			return (1);
		return (json_is_string(first) && !sio_packet_reserved(first));
	case SIO_PACKET_ACK:
	case SIO_PACKET_BINARY_ACK:
		return (json_is_array(data));
	}

	return (0);
}

/*
 * Parse one JSON value filling buf[0..len) (trailing whitespace
 * allowed, nothing else). Strings may hold NUL ("\u0000"), as in JS. Integers too big for json_int_t make the
 * whole value parse again with all numbers as doubles.
 */
json_t *
sio_packet_parse_json(const uint8_t *buf, size_t len)
{
	json_t		*json;
	json_error_t	 err;

	json = json_loadb((const char *)buf, len, JSON_DECODE_ANY |
	    JSON_ALLOW_NUL, &err);
	if (json == NULL && json_error_code(&err) == json_error_numeric_overflow)
		json = json_loadb((const char *)buf, len, JSON_DECODE_ANY |
		    JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &err);

	return (json);
}

/*
 * Decode buf[0..len), the data of one Engine.IO text message, into pkt
 * (which must own nothing yet). Returns 1 on success; the caller then
 * owns what pkt holds and releases it with sio_packet_clear(). Returns
 * 0 on a malformed packet, with pkt cleared. Attachments are not
 * collected here; see sio_packet_reasm_text().
 */
int
sio_packet_decode(struct sio_packet *pkt, const uint8_t *buf, size_t len)
{
	const uint8_t	*p, *end;

	sio_packet_init(pkt);
	if (len == 0 || buf[0] < '0' || buf[0] > '0' + SIO_PACKET_BINARY_ACK)
		return (0);

	pkt->type = buf[0] - '0';
	p = buf + 1;
	end = buf + len;

	if (SIO_PACKET_IS_BINARY(pkt->type) &&
	    !sio_packet_decode_attachments(pkt, &p, end))
		goto fail;
	if (!sio_packet_decode_nsp(pkt, &p, end))
		goto fail;
	if (!sio_packet_decode_ack(pkt, &p, end))
		goto fail;

	if (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		goto fail;
	if (p < end &&
	    (pkt->data = sio_packet_parse_json(p, (size_t)(end - p))) == NULL)
		goto fail;

	if (!sio_packet_payload_valid(pkt->type, pkt->data))
		goto fail;

	return (1);

fail:
	sio_packet_clear(pkt);
	return (0);
}

/*
 * Append one packet to out (which may already hold e.g. the Engine.IO
 * "4"): `2["ev",1]`, `51-/admin,12[...]`. nsp NULL means "/". ack_id
 * -1 means none. attachments is written for BINARY_EVENT/BINARY_ACK
 * (1 to SIO_PACKET_MAX_ATTACHMENTS) and must be 0 for other types. data may be NULL (absent) and is
 * borrowed. Returns 0, leaving out untouched, if the packet would not
 * pass the decoder's rules (the client would drop the connection):
 * bad type, too many attachments, an nsp not starting with '/' or
 * containing ',', a negative ack id other than -1, an invalid payload
 * for the type (e.g. an event named "disconnect").
 */
int
sio_packet_encode(struct sbuf *out, int type, const char *nsp, int64_t ack_id,
    size_t attachments, const json_t *data)
{
	if (type < SIO_PACKET_CONNECT || type > SIO_PACKET_BINARY_ACK)
		return (0);
	if (SIO_PACKET_IS_BINARY(type) ? attachments == 0 ||
	    attachments > SIO_PACKET_MAX_ATTACHMENTS : attachments != 0)
		return (0);
	if (nsp == NULL)
		nsp = "/";
	if (nsp[0] != '/' || strchr(nsp, ',') != NULL || ack_id < -1)
		return (0);
	if (!sio_packet_payload_valid(type, data))
		return (0);

	sbuf_append_byte(out, (uint8_t)('0' + type));
	if (SIO_PACKET_IS_BINARY(type)) {
		sio_json_int(out, (int64_t)attachments);
		sbuf_append_byte(out, '-');
	}
	if (strcmp(nsp, "/") != 0) {
		sbuf_append_str(out, nsp);
		sbuf_append_byte(out, ',');
	}
	if (ack_id >= 0)
		sio_json_int(out, ack_id);
	if (data != NULL)
		sio_packet_json(out, data);

	return (1);
}

/*
 * Encode a packet struct; for binary types the attachment count is
 * pkt->natt (the caller then sends pkt->att[0..natt) in order).
 */
int
sio_packet_encode_pkt(struct sbuf *out, const struct sio_packet *pkt)
{
	size_t		n;

	n = SIO_PACKET_IS_BINARY(pkt->type) ? pkt->natt : 0;

	return (sio_packet_encode(out, pkt->type, pkt->nsp, pkt->ack_id, n,
	    pkt->data));
}

/* A new reference to {"_placeholder":true,"num":k}. */
json_t *
sio_placeholder_new(size_t k)
{
	json_t		*obj, *num;

	if ((obj = json_object()) == NULL)
		sbuf_oom();
	if ((num = json_integer((json_int_t)k)) == NULL)
		sbuf_oom();
	if (json_object_set_new(obj, "_placeholder", json_true()) == -1 ||
	    json_object_set_new(obj, "num", num) == -1)
		sbuf_oom();

	return (obj);
}

/* 1 if num is an integer (or an integral real) in [0, n). */
static int
sio_packet_placeholder_num(const json_t *num, size_t n)
{
	json_int_t	iv;
	double		rv;

	if (json_is_integer(num)) {
		iv = json_integer_value(num);
		return (iv >= 0 && (uint64_t)iv < (uint64_t)n);
	}
	if (json_is_real(num)) {
		rv = json_real_value(num);
		if (!(rv >= 0 && rv < (double)n))
			return (0);
		return (rv == (double)(uint64_t)rv);
	}

	return (0);
}

/*
 * 1 if every placeholder in json, at any depth, has a valid num for n
 * attachments. A placeholder is an object whose "_placeholder" is
 * true; its other members are not looked into (as in JS).
 */
int
sio_placeholder_check(const json_t *json, size_t n)
{
	json_t		*obj, *value;
	const char	*key;
	size_t		 i;

	if (json_is_array(json)) {
		for (i = 0; i < json_array_size(json); i++) {
			if (!sio_placeholder_check(json_array_get(json, i), n))
				return (0);
		}
		return (1);
	}
	if (!json_is_object(json))
		return (1);

	if (json_is_true(json_object_get(json, "_placeholder")))
		return (sio_packet_placeholder_num(
		    json_object_get(json, "num"), n));

	obj = sio_json_unconst(json);
	json_object_foreach(obj, key, value) {
		if (!sio_placeholder_check(value, n))
			return (0);
	}

	return (1);
}

/*
 * Reassembly: feed every Engine.IO message of a session, text through
 * sio_packet_reasm_text() and binary through sio_packet_reasm_binary().
 * Both return SIO_REASM_PACKET when *out holds a complete packet (the
 * caller owns it: sio_packet_clear() it when done), SIO_REASM_MORE when
 * attachments are awaited, SIO_REASM_ERROR on a protocol error, after
 * which the state is reset (the glue closes the connection). out is
 * overwritten and must own nothing. max_bytes bounds the total size
 * of the attachments of one packet.
 */
void
sio_packet_reasm_init(struct sio_packet_reasm *r, size_t max_bytes)
{
	sio_packet_init(&r->pkt);
	r->max_bytes = max_bytes;
	r->bytes = 0;
	r->pending = 0;
}

int
sio_packet_reasm_text(struct sio_packet_reasm *r, struct sio_packet *out,
    const uint8_t *buf, size_t len)
{
	sio_packet_init(out);

	/* "got plaintext data when reconstructing a packet" */
	if (r->pending) {
		sio_packet_reasm_clear(r);
		return (SIO_REASM_ERROR);
	}

	if (!sio_packet_decode(out, buf, len))
		return (SIO_REASM_ERROR);
	if (!SIO_PACKET_IS_BINARY(out->type))
		return (SIO_REASM_PACKET);

	if (!sio_placeholder_check(out->data, out->attachments)) {
		sio_packet_clear(out);
		return (SIO_REASM_ERROR);
	}

	out->att = sbuf_xcalloc(out->attachments, sizeof(*out->att));
	r->pkt = *out;
	r->pending = 1;
	r->bytes = 0;
	sio_packet_init(out);

	return (SIO_REASM_MORE);
}

int
sio_packet_reasm_binary(struct sio_packet_reasm *r, struct sio_packet *out,
    const uint8_t *buf, size_t len)
{
	struct sio_attachment	*att;

	sio_packet_init(out);

	/* "got binary data when not reconstructing a packet" */
	if (!r->pending)
		return (SIO_REASM_ERROR);
	if (len > r->max_bytes - r->bytes) {
		sio_packet_reasm_clear(r);
		return (SIO_REASM_ERROR);
	}

	att = &r->pkt.att[r->pkt.natt++];
	att->data = sbuf_xmemdup(buf, len);
	att->len = len;
	r->bytes += len;

	if (r->pkt.natt < r->pkt.attachments)
		return (SIO_REASM_MORE);

	*out = r->pkt;
	sio_packet_init(&r->pkt);
	r->pending = 0;
	r->bytes = 0;

	return (SIO_REASM_PACKET);
}

int
sio_packet_reasm_pending(const struct sio_packet_reasm *r)
{
	return (r->pending);
}

/* Drop a half-received packet; the state can be reused. */
void
sio_packet_reasm_clear(struct sio_packet_reasm *r)
{
	sio_packet_clear(&r->pkt);
	r->pending = 0;
	r->bytes = 0;
}
