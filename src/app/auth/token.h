/*
 * korio: JSON Web Tokens as Terreno mints and checks them: minting
 * (token_mint.c), verifying (token_verify.c), finding the token in a
 * header (token_bearer.c), on base64url helpers (token_b64url.c, with
 * token_int.h).
 *
 * Pure module: no Kore headers, links with libjwt, jansson and libcrypto
 * only, so the unit tests and fuzzers can use it on its own.
 *
 * Every function is reentrant: no global state, no static buffers, so it
 * may be called concurrently from the job pool's threads and a worker's main
 * thread. Secrets and tokens are never logged; callers should log only
 * token_result_str() of a failure.
 */

#ifndef KORIO_TOKEN_H
#define KORIO_TOKEN_H

#include <stddef.h>
#include <stdint.h>

/* Longest token we mint or accept, in bytes, without the NUL. */
#define TOKEN_MAX_LEN		8192

/* Buffer sizes for the identifiers carried in a token, with the NUL. */
#define TOKEN_ID_MAX		64
#define TOKEN_SID_LEN		37

/* Longest duration token_duration_parse() accepts: 1000 years. */
#define TOKEN_DURATION_MAX	INT64_C(31557600000)

/*
 * Results of token_verify() and token_bearer_extract(). TOKEN_OK is 0 on
 * purpose: compare against TOKEN_OK, never test the result as a boolean.
 */
enum token_result {
	TOKEN_OK = 0,
	TOKEN_NONE,		/* no token was sent (bearer extraction) */
	TOKEN_MALFORMED,	/* not a JWT, bad base64url/JSON, bad claims */
	TOKEN_BAD_ALG,		/* header alg is anything but "HS256" */
	TOKEN_BAD_SIGNATURE,	/* HMAC-SHA256 does not match */
	TOKEN_EXPIRED,		/* exp is not in the future */
	TOKEN_NOT_YET_VALID,	/* nbf present and in the future */
	TOKEN_BAD_ISSUER,	/* iss missing or different from ours */
	TOKEN_NO_SUBJECT,	/* neither sub nor id is a usable string */
	TOKEN_ERROR		/* bad arguments or an internal failure */
};

/*
 * The claims korio cares about. For token_mint() the caller fills in
 * all four fields; token_verify() fills them in from the token (sid is
 * empty when the token has none, iat is 0 when it has none).
 */
struct token_claims {
	char		user_id[TOKEN_ID_MAX];
	char		sid[TOKEN_ID_MAX];
	int64_t		iat;
	int64_t		exp;
};

/*
 * token_duration_parse(str, &seconds): a TOKEN_EXPIRES_IN style value.
 *   "<digits>[ ]*<unit>" with the units of the npm `ms` package, case
 *   insensitive: s sec secs second seconds, m min mins minute minutes,
 *   h hr hrs hour hours, d day days, w week weeks, y yr yrs year years
 *   (a year is 365.25 days). Bare digits mean seconds. No sign, no
 *   fraction, no "ms", no surrounding blanks; the result is 1 second to
 *   TOKEN_DURATION_MAX. Returns 1 and sets *seconds, or 0.
 *
 * token_sid_new(buf): a fresh random UUID v4 (lowercase, 36 chars and
 *   the NUL) for the sid claim. Returns 1, or 0 if the RNG failed.
 *
 * token_mint(claims, issuer, secret, secretlen, out, outlen): an HS256
 *   JWT {id, sub, sid, iat, exp[, iss]} where id = sub = claims->user_id,
 *   written NUL-terminated into out. iss is added only when issuer is
 *   neither NULL nor "". Access tokens: TOKEN_SECRET and the issuer;
 *   refresh tokens: REFRESH_TOKEN_SECRET and issuer NULL, with the sid of
 *   the token being refreshed. Needs non-empty user_id and sid,
 *   0 <= iat < exp, a non-empty secret and outlen > the token (a buffer
 *   of TOKEN_MAX_LEN + 1 always fits). Returns 1, or 0 with out = "".
 *
 * token_verify(token, secret, secretlen, issuer, now, &claims):
 *   TOKEN_OK and the claims, or the reason of the failure with the claims
 *   zeroed. See token_verify.c for the exact rules; in short: three base64url
 *   parts, header alg exactly "HS256", HMAC-SHA256 signature compared in
 *   constant time, exp required and now < exp (no leeway), nbf honoured
 *   if present, iss must equal issuer when issuer is neither NULL nor ""
 *   (ignored otherwise), user id = sub if it is a string, else id.
 *
 * token_bearer_extract(value, bare_ok, out, outlen): copies the JWT out
 *   of an Authorization header value ("Bearer <jwt>", the scheme in any
 *   case) or, with bare_ok, of a Socket.IO CONNECT auth token where the
 *   "Bearer " prefix is optional. TOKEN_NONE for NULL, blank, "Bearer",
 *   "null", "undefined" and "Secret ..." (Terreno skips those);
 *   TOKEN_MALFORMED for another scheme, a bare token without bare_ok,
 *   characters a JWT cannot hold or a token longer than TOKEN_MAX_LEN or
 *   outlen - 1. The caller should explicit_bzero() out after use.
 *
 * token_result_str(result): a constant lowercase description, for logs.
 */

/* token_mint.c */
int		token_duration_parse(const char *, int64_t *);
int		token_sid_new(char [TOKEN_SID_LEN]);
int		token_mint(const struct token_claims *, const char *,
		    const char *, size_t, char *, size_t);

/* token_verify.c */
int		token_verify(const char *, const char *, size_t,
		    const char *, int64_t, struct token_claims *);
const char	*token_result_str(int);

/* token_bearer.c */
int		token_bearer_extract(const char *, int, char *, size_t);

#endif
