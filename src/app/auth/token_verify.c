/*
 * Checking a token, as jsonwebtoken checks the ones Terreno mints.
 *
 * Verification does not go through libjwt, although minting does
 * (token_mint.c): libjwt 1.10's jwt_decode() parses the payload before it
 * checks the signature, so a forged token gets its body parsed; it loads
 * both parts without JSON_REJECT_DUPLICATES, so a second "sub" or "exp"
 * silently wins; it checks neither exp nor nbf; and its
 * jwt_get_grant_int() reads a claim of another type ("exp":"never") as 0
 * without an error. So the checks are done here, in this order:
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
 * (the MAC, decoded parts) are wiped with explicit_bzero(). Nothing here
 * keeps state, so every function may run in several threads at once
 * (OpenSSL 3 and jansson are thread-safe for separate objects).
 */

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/token.h"
#include "auth/token_int.h"

#define TOKEN_MAC_LEN		32
#define TOKEN_MAC_B64LEN	43

static int	token_split(const char *, size_t, const char **,
		    const char **);
static int	token_check_header(json_t *);
static int	token_check_signature(const char *, size_t, size_t,
		    const char *, size_t);
static int	token_check_claims(json_t *, const char *, int64_t,
		    struct token_claims *);
static int	token_check_times(json_t *, int64_t, struct token_claims *);
static int	token_claim_time(json_t *, const char *, int64_t *);
static int	token_check_issuer(json_t *, const char *);
static int	token_json_copy(json_t *, char *, size_t);

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

	if ((header = token_b64url_json(token, dot1 - token)) == NULL) {
		ret = TOKEN_MALFORMED;
		goto cleanup;
	}

	if ((ret = token_check_header(header)) != TOKEN_OK)
		goto cleanup;

	ret = token_check_signature(token, dot2 - token, len,
	    secret, secretlen);
	if (ret != TOKEN_OK)
		goto cleanup;

	payload = token_b64url_json(dot1 + 1, dot2 - dot1 - 1);
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
