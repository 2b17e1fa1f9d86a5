/*
 * The encodings of a JWT's parts: strict unpadded base64url (RFC 4648
 * section 5) both ways, and a part decoded to the JSON object it must
 * hold. No key, no claim rule: token_verify.c decides what a decoded
 * part means, token_bearer.c which bytes a token may hold.
 *
 * Decoded bytes may be secret claims: every buffer made here is wiped
 * with explicit_bzero() before it is freed.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth/token_int.h"

static int	token_b64url_value(int);

static const char	token_b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Is c one of the 64 letters of base64url? */
int
token_b64url_char(int c)
{
	return (token_b64url_value(c) != -1);
}

/*
 * Strict unpadded base64url: only the 64 letters, a length that is not
 * 1 modulo 4, and zero bits after the last byte. The result is a
 * malloc()ed buffer the caller must wipe and free.
 */
int
token_b64url_decode(const char *in, size_t inlen, unsigned char **out,
    size_t *outlen)
{
	unsigned char	*buf;
	uint32_t	acc;
	size_t		i, o;
	int		bits, v;

	*out = NULL;
	*outlen = 0;

	if (inlen == 0 || inlen % 4 == 1)
		return (0);

	if ((buf = malloc(inlen / 4 * 3 + 3)) == NULL)
		return (0);

	acc = 0;
	bits = 0;
	for (i = 0, o = 0; i < inlen; i++) {
		if ((v = token_b64url_value((unsigned char)in[i])) == -1)
			goto fail;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (acc >> bits) & 0xff;
		}
	}

	if ((acc & ((1U << bits) - 1)) != 0)
		goto fail;

	*out = buf;
	*outlen = o;
	return (1);

fail:
	explicit_bzero(buf, inlen / 4 * 3 + 3);
	free(buf);
	return (0);
}

/*
 * Unpadded base64url of in, NUL-terminated, into out: room for
 * (inlen * 4 + 2) / 3 + 1 bytes.
 */
void
token_b64url_encode(const unsigned char *in, size_t inlen, char *out)
{
	uint32_t	acc;
	size_t		i, o;
	int		bits;

	acc = 0;
	bits = 0;
	for (i = 0, o = 0; i < inlen; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = token_b64url_chars[(acc >> bits) & 0x3f];
		}
	}
	if (bits > 0)
		out[o++] = token_b64url_chars[(acc << (6 - bits)) & 0x3f];
	out[o] = '\0';
}

/*
 * The JSON object a header or payload part of len bytes encodes, without
 * duplicate keys; NULL for bad base64url, bad JSON or another JSON type.
 */
json_t *
token_b64url_json(const char *part, size_t len)
{
	unsigned char	*buf;
	size_t		buflen;
	json_t		*json;
	json_error_t	err;

	if (!token_b64url_decode(part, len, &buf, &buflen))
		return (NULL);

	json = json_loadb((const char *)buf, buflen,
	    JSON_REJECT_DUPLICATES, &err);

	explicit_bzero(buf, buflen);
	free(buf);

	if (json != NULL && !json_is_object(json)) {
		json_decref(json);
		json = NULL;
	}

	return (json);
}

static int
token_b64url_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (c - '0' + 52);
	if (c == '-')
		return (62);
	if (c == '_')
		return (63);
	return (-1);
}
