/*
 * JSON Web Tokens, as Terreno (jsonwebtoken) mints and checks them.
 *
 * Minting goes through libjwt: an HS256 token whose header is
 * {"alg":"HS256","typ":"JWT"} and whose payload holds id, sub, sid, iat,
 * exp and, for access tokens, iss.
 *
 * Verification does not go through libjwt. libjwt 1.10.2 takes the
 * algorithm from the token's own header (case-insensitively) and reads
 * claims through accessors that cannot tell a missing claim from a
 * mistyped one. So the checks are done here, in this order:
 *
 *   1. The token is at most TOKEN_MAX_LEN bytes and has exactly three
 *      dot-separated parts, the first two non-empty.
 *   2. The header decodes (strict base64url: no padding, no stray
 *      characters, no stray bits) to a JSON object without duplicate
 *      keys whose "alg" is the string "HS256", byte for byte, and that
 *      has no "crit" member. Anything else, "none" included, is
 *      TOKEN_BAD_ALG (or TOKEN_MALFORMED for a garbled header).
 *   3. HMAC-SHA256 over "header.payload" with the secret, encoded as
 *      base64url, equals the third part: same length and CRYPTO_memcmp()
 *      (constant time). Only then is the payload parsed.
 *   4. The payload is a JSON object without duplicate keys. "exp" must be
 *      present and a number, and now < exp (jsonwebtoken's rule with its
 *      default clockTolerance of 0: no leeway). "nbf", if present, must
 *      be a number not after now. "iat", if present, must be a number.
 *      Fractional times are rounded up.
 *   5. With an issuer configured, "iss" must be a string equal to it;
 *      without one, "iss" is ignored (refresh tokens carry none).
 *   6. The user is "sub" when that is a string, else "id" (Terreno mints
 *      only "id"); it must be a non-empty string shorter than
 *      TOKEN_ID_MAX. "sid" is optional (Terreno 0.3 has none) but, when
 *      present, must be such a string too.
 *
 * Secrets and tokens are never logged and the local copies made here
 * (MAC, decoded parts, libjwt's output) are wiped with explicit_bzero().
 * Nothing here keeps state, so every function may run in several threads
 * at once (OpenSSL 3, jansson and libjwt are thread-safe for separate
 * objects).
 */

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <jwt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "auth/token.h"

/* libjwt 1.10.2 takes integer claims as long. */
_Static_assert(sizeof(long) >= sizeof(int64_t), "long must hold int64_t");

#define TOKEN_MAC_LEN		32
#define TOKEN_MAC_B64LEN	43

/* Times beyond this cannot be JavaScript numbers without rounding. */
#define TOKEN_TIME_MAX		INT64_C(9007199254740991)

struct token_unit {
	const char	*name;
	int64_t		seconds;
};

static int	token_is_digit(int);
static int	token_is_space(int);
static int	token_is_b64url(int);
static int	token_b64url_value(int);
static const struct token_unit	*token_unit_lookup(const char *);
static int	token_mint_check(const struct token_claims *, const char *,
		    size_t);
static int	token_split(const char *, size_t, const char **,
		    const char **);
static int	token_b64url_decode(const char *, size_t, unsigned char **,
		    size_t *);
static void	token_b64url_encode(const unsigned char *, size_t, char *);
static json_t	*token_json_decode(const char *, size_t);
static int	token_check_header(json_t *);
static int	token_check_signature(const char *, size_t, size_t,
		    const char *, size_t);
static int	token_check_claims(json_t *, const char *, int64_t,
		    struct token_claims *);
static int	token_check_times(json_t *, int64_t, struct token_claims *);
static int	token_claim_time(json_t *, const char *, int64_t *);
static int	token_check_issuer(json_t *, const char *);
static int	token_json_copy(json_t *, char *, size_t);
static int	token_scheme(const char *, const char *, const char *);

static const struct token_unit	token_units[] = {
	{ "s",		1 },
	{ "sec",	1 },
	{ "secs",	1 },
	{ "second",	1 },
	{ "seconds",	1 },
	{ "m",		60 },
	{ "min",	60 },
	{ "mins",	60 },
	{ "minute",	60 },
	{ "minutes",	60 },
	{ "h",		3600 },
	{ "hr",		3600 },
	{ "hrs",	3600 },
	{ "hour",	3600 },
	{ "hours",	3600 },
	{ "d",		86400 },
	{ "day",	86400 },
	{ "days",	86400 },
	{ "w",		604800 },
	{ "week",	604800 },
	{ "weeks",	604800 },
	{ "y",		31557600 },
	{ "yr",		31557600 },
	{ "yrs",	31557600 },
	{ "year",	31557600 },
	{ "years",	31557600 },
	{ NULL,		0 }
};

static const char	token_b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
token_duration_parse(const char *s, int64_t *seconds)
{
	const struct token_unit	*unit;
	const char		*p, *q;
	int64_t			n, mult;

	if (s == NULL || seconds == NULL || !token_is_digit(*s))
		return (0);

	n = 0;
	for (p = s; token_is_digit(*p); p++) {
		n = n * 10 + (*p - '0');
		if (n > TOKEN_DURATION_MAX)
			return (0);
	}

	for (q = p; *q == ' '; q++)
		;
	if (*q == '\0' && q != p)
		return (0);

	mult = 1;
	if (*q != '\0') {
		if ((unit = token_unit_lookup(q)) == NULL)
			return (0);
		mult = unit->seconds;
	}

	if (n == 0 || n > TOKEN_DURATION_MAX / mult)
		return (0);

	*seconds = n * mult;
	return (1);
}

int
token_sid_new(char out[TOKEN_SID_LEN])
{
	static const char	hex[] = "0123456789abcdef";
	unsigned char		rnd[16];
	size_t			i, o;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return (0);

	/* RFC 9562: version 4, variant 10. */
	rnd[6] = (rnd[6] & 0x0f) | 0x40;
	rnd[8] = (rnd[8] & 0x3f) | 0x80;

	for (i = 0, o = 0; i < sizeof(rnd); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[rnd[i] >> 4];
		out[o++] = hex[rnd[i] & 0x0f];
	}
	out[o] = '\0';

	explicit_bzero(rnd, sizeof(rnd));
	return (1);
}

int
token_mint(const struct token_claims *claims, const char *issuer,
    const char *secret, size_t secretlen, char *out, size_t outlen)
{
	jwt_t		*jwt;
	char		*str;
	size_t		len;
	int		ret;

	ret = 0;
	jwt = NULL;
	str = NULL;

	if (out == NULL || outlen == 0)
		return (0);
	out[0] = '\0';

	if (!token_mint_check(claims, secret, secretlen))
		return (0);

	if (jwt_new(&jwt) != 0) {
		jwt = NULL;
		goto cleanup;
	}

	if (jwt_add_grant(jwt, "id", claims->user_id) != 0 ||
	    jwt_add_grant(jwt, "sub", claims->user_id) != 0 ||
	    jwt_add_grant(jwt, "sid", claims->sid) != 0 ||
	    jwt_add_grant_int(jwt, "iat", (long)claims->iat) != 0 ||
	    jwt_add_grant_int(jwt, "exp", (long)claims->exp) != 0)
		goto cleanup;

	if (issuer != NULL && *issuer != '\0' &&
	    jwt_add_grant(jwt, "iss", issuer) != 0)
		goto cleanup;

	/* libjwt keeps its own copy of the key and wipes it in jwt_free(). */
	if (jwt_set_alg(jwt, JWT_ALG_HS256,
	    (const unsigned char *)secret, (int)secretlen) != 0)
		goto cleanup;

	if ((str = jwt_encode_str(jwt)) == NULL)
		goto cleanup;

	len = strlen(str);
	if (len > TOKEN_MAX_LEN || len >= outlen)
		goto cleanup;

	memcpy(out, str, len + 1);
	ret = 1;

cleanup:
	if (str != NULL) {
		explicit_bzero(str, strlen(str));
		free(str);
	}
	if (jwt != NULL)
		jwt_free(jwt);

	return (ret);
}

int
token_verify(const char *token, const char *secret, size_t secretlen,
    const char *issuer, int64_t now, struct token_claims *out)
{
	json_t		*header, *payload;
	const char	*dot1, *dot2;
	size_t		len;
	int		ret;

	header = NULL;
	payload = NULL;

	if (out == NULL)
		return (TOKEN_ERROR);
	memset(out, 0, sizeof(*out));

	if (token == NULL || secret == NULL || secretlen == 0 ||
	    secretlen > INT_MAX)
		return (TOKEN_ERROR);

	len = strnlen(token, TOKEN_MAX_LEN + 1);
	if (len > TOKEN_MAX_LEN || !token_split(token, len, &dot1, &dot2))
		return (TOKEN_MALFORMED);

	if ((header = token_json_decode(token, dot1 - token)) == NULL) {
		ret = TOKEN_MALFORMED;
		goto cleanup;
	}

	if ((ret = token_check_header(header)) != TOKEN_OK)
		goto cleanup;

	ret = token_check_signature(token, dot2 - token, len,
	    secret, secretlen);
	if (ret != TOKEN_OK)
		goto cleanup;

	payload = token_json_decode(dot1 + 1, dot2 - dot1 - 1);
	if (payload == NULL) {
		ret = TOKEN_MALFORMED;
		goto cleanup;
	}

	ret = token_check_claims(payload, issuer, now, out);

cleanup:
	json_decref(header);
	json_decref(payload);

	if (ret != TOKEN_OK)
		memset(out, 0, sizeof(*out));

	return (ret);
}

int
token_bearer_extract(const char *value, int bare_ok, char *out,
    size_t outlen)
{
	const char	*p, *end;
	size_t		len, i;
	int		bearer;

	if (out == NULL || outlen == 0)
		return (TOKEN_ERROR);
	out[0] = '\0';

	if (value == NULL)
		return (TOKEN_NONE);

	for (p = value; token_is_space(*p); p++)
		;
	end = p + strlen(p);
	while (end > p && token_is_space(end[-1]))
		end--;

	bearer = token_scheme(p, end, "bearer");
	if (bearer) {
		for (p += 6; p < end && token_is_space(*p); p++)
			;
	} else if (token_scheme(p, end, "secret")) {
		return (TOKEN_NONE);
	}

	len = end - p;
	if (len == 0 || (len == 4 && memcmp(p, "null", 4) == 0) ||
	    (len == 9 && memcmp(p, "undefined", 9) == 0))
		return (TOKEN_NONE);

	if (!bearer && !bare_ok)
		return (TOKEN_MALFORMED);

	if (len > TOKEN_MAX_LEN || len >= outlen)
		return (TOKEN_MALFORMED);

	for (i = 0; i < len; i++) {
		if (p[i] != '.' && !token_is_b64url(p[i]))
			return (TOKEN_MALFORMED);
	}

	memcpy(out, p, len);
	out[len] = '\0';

	return (TOKEN_OK);
}

const char *
token_result_str(int result)
{
	switch (result) {
	case TOKEN_OK:
		return ("ok");
	case TOKEN_NONE:
		return ("no token");
	case TOKEN_MALFORMED:
		return ("malformed token");
	case TOKEN_BAD_ALG:
		return ("unsupported algorithm");
	case TOKEN_BAD_SIGNATURE:
		return ("invalid signature");
	case TOKEN_EXPIRED:
		return ("token expired");
	case TOKEN_NOT_YET_VALID:
		return ("token not yet valid");
	case TOKEN_BAD_ISSUER:
		return ("invalid issuer");
	case TOKEN_NO_SUBJECT:
		return ("no user in token");
	case TOKEN_ERROR:
		return ("internal error");
	default:
		return ("unknown result");
	}
}

static int
token_is_digit(int c)
{
	return (c >= '0' && c <= '9');
}

static int
token_is_space(int c)
{
	return (c == ' ' || c == '\t');
}

static int
token_is_b64url(int c)
{
	return (token_b64url_value(c) != -1);
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

static const struct token_unit *
token_unit_lookup(const char *name)
{
	const struct token_unit	*unit;

	for (unit = token_units; unit->name != NULL; unit++) {
		if (strcasecmp(unit->name, name) == 0)
			return (unit);
	}

	return (NULL);
}

static int
token_mint_check(const struct token_claims *claims, const char *secret,
    size_t secretlen)
{
	size_t		len;

	if (claims == NULL || secret == NULL || secretlen == 0 ||
	    secretlen > INT_MAX)
		return (0);

	len = strnlen(claims->user_id, sizeof(claims->user_id));
	if (len == 0 || len == sizeof(claims->user_id))
		return (0);

	len = strnlen(claims->sid, sizeof(claims->sid));
	if (len == 0 || len == sizeof(claims->sid))
		return (0);

	if (claims->iat < 0 || claims->exp <= claims->iat ||
	    claims->exp > TOKEN_TIME_MAX)
		return (0);

	return (1);
}

/*
 * Find the two dots of "header.payload.signature": exactly two, with a
 * non-empty header and payload. The signature is checked later.
 */
static int
token_split(const char *token, size_t len, const char **dot1,
    const char **dot2)
{
	const char	*p, *end;

	end = token + len;
	if ((p = memchr(token, '.', len)) == NULL || p == token)
		return (0);
	*dot1 = p;

	p++;
	if ((p = memchr(p, '.', end - p)) == NULL || p == *dot1 + 1)
		return (0);
	*dot2 = p;

	if (memchr(p + 1, '.', end - p - 1) != NULL)
		return (0);

	return (1);
}

/*
 * Strict unpadded base64url (RFC 4648 section 5): only the 64 letters, a
 * length that is not 1 modulo 4, and zero bits after the last byte. The
 * result is a malloc()ed buffer the caller must wipe and free.
 */
static int
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

static void
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

static json_t *
token_json_decode(const char *part, size_t len)
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
token_check_header(json_t *header)
{
	json_t		*alg;

	alg = json_object_get(header, "alg");
	if (!json_is_string(alg) || json_string_length(alg) != 5 ||
	    strcmp(json_string_value(alg), "HS256") != 0)
		return (TOKEN_BAD_ALG);

	/* We understand no extension, so a critical one is fatal. */
	if (json_object_get(header, "crit") != NULL)
		return (TOKEN_MALFORMED);

	return (TOKEN_OK);
}

/* The signature is the part after offset dot2 up to len. */
static int
token_check_signature(const char *token, size_t dot2, size_t len,
    const char *secret, size_t secretlen)
{
	unsigned char	mac[EVP_MAX_MD_SIZE];
	char		expect[TOKEN_MAC_B64LEN + 1];
	unsigned int	maclen;
	int		ret;

	ret = TOKEN_BAD_SIGNATURE;
	maclen = 0;

	if (HMAC(EVP_sha256(), secret, (int)secretlen,
	    (const unsigned char *)token, dot2, mac, &maclen) == NULL ||
	    maclen != TOKEN_MAC_LEN) {
		ret = TOKEN_ERROR;
		goto cleanup;
	}

	token_b64url_encode(mac, maclen, expect);

	if (len - dot2 - 1 == TOKEN_MAC_B64LEN &&
	    CRYPTO_memcmp(expect, token + dot2 + 1, TOKEN_MAC_B64LEN) == 0)
		ret = TOKEN_OK;

cleanup:
	explicit_bzero(mac, sizeof(mac));
	explicit_bzero(expect, sizeof(expect));

	return (ret);
}

static int
token_check_claims(json_t *payload, const char *issuer, int64_t now,
    struct token_claims *out)
{
	json_t		*user, *sid;
	int		ret;

	if ((ret = token_check_times(payload, now, out)) != TOKEN_OK)
		return (ret);

	if (issuer != NULL && *issuer != '\0' &&
	    (ret = token_check_issuer(payload, issuer)) != TOKEN_OK)
		return (ret);

	user = json_object_get(payload, "sub");
	if (!json_is_string(user))
		user = json_object_get(payload, "id");
	if (!token_json_copy(user, out->user_id, sizeof(out->user_id)))
		return (TOKEN_NO_SUBJECT);

	sid = json_object_get(payload, "sid");
	if (sid != NULL && !token_json_copy(sid, out->sid, sizeof(out->sid)))
		return (TOKEN_MALFORMED);

	return (TOKEN_OK);
}

static int
token_check_times(json_t *payload, int64_t now, struct token_claims *out)
{
	int64_t		nbf;
	int		rc;

	if (token_claim_time(payload, "exp", &out->exp) != 1)
		return (TOKEN_MALFORMED);

	if ((rc = token_claim_time(payload, "iat", &out->iat)) == 0)
		return (TOKEN_MALFORMED);
	if (rc == -1)
		out->iat = 0;

	if ((rc = token_claim_time(payload, "nbf", &nbf)) == 0)
		return (TOKEN_MALFORMED);

	if (now >= out->exp)
		return (TOKEN_EXPIRED);
	if (rc == 1 && nbf > now)
		return (TOKEN_NOT_YET_VALID);

	return (TOKEN_OK);
}

/*
 * A NumericDate claim: 1 with *v set, -1 when absent, 0 when it is not a
 * number or is out of range. Fractions are rounded up, which keeps
 * "now >= exp" and "nbf > now" exact for an integer now.
 */
static int
token_claim_time(json_t *payload, const char *name, int64_t *v)
{
	json_t		*claim;
	double		d;
	int64_t		t;

	if ((claim = json_object_get(payload, name)) == NULL)
		return (-1);

	if (json_is_integer(claim)) {
		t = json_integer_value(claim);
		if (t < -TOKEN_TIME_MAX || t > TOKEN_TIME_MAX)
			return (0);
		*v = t;
		return (1);
	}

	if (!json_is_real(claim))
		return (0);

	d = json_real_value(claim);
	if (!(d >= -(double)TOKEN_TIME_MAX && d <= (double)TOKEN_TIME_MAX))
		return (0);

	t = (int64_t)d;
	if ((double)t < d)
		t++;
	*v = t;

	return (1);
}

static int
token_check_issuer(json_t *payload, const char *issuer)
{
	json_t		*iss;
	size_t		len;

	len = strlen(issuer);
	iss = json_object_get(payload, "iss");

	if (!json_is_string(iss) || json_string_length(iss) != len ||
	    memcmp(json_string_value(iss), issuer, len) != 0)
		return (TOKEN_BAD_ISSUER);

	return (TOKEN_OK);
}

/* Copy a non-empty JSON string that fits in dst with its NUL. */
static int
token_json_copy(json_t *v, char *dst, size_t dstlen)
{
	size_t		len;

	if (!json_is_string(v))
		return (0);

	len = json_string_length(v);
	if (len == 0 || len >= dstlen ||
	    memchr(json_string_value(v), '\0', len) != NULL)
		return (0);

	memcpy(dst, json_string_value(v), len + 1);
	return (1);
}

/* Does [p, end) start with the word name, followed by a blank or end? */
static int
token_scheme(const char *p, const char *end, const char *name)
{
	size_t		len;

	len = strlen(name);
	if ((size_t)(end - p) < len || strncasecmp(p, name, len) != 0)
		return (0);

	return (p + len == end || token_is_space(p[len]));
}
