/*
 * fuzz_token.c: libFuzzer target for the JWT parser (token_verify.c,
 * token_b64url.c) and bearer extraction (token_bearer.c). The input is
 * taken as a C string (up to its first NUL) and goes:
 *
 *   1. as a token to token_verify(), with the fixed secret, once with
 *      the issuer and once without;
 *   2. signed: the input as "header.payload" with the right HMAC of the
 *      fixed secret appended, so that mutated headers and payloads get
 *      past the signature to the claim checks; a bad signature is then
 *      impossible;
 *   3. as an Authorization value to token_bearer_extract(), with and
 *      without bare tokens allowed, and what it extracts to
 *      token_verify().
 *
 * Every result must be one token_verify() or token_bearer_extract() may
 * return, a failure must leave the claims zeroed, a success must carry a
 * usable user id and an exp after now. A verified token with a sid must
 * mint again (token_mint.c) into a token that verifies to the same
 * claims.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/token.h"
#include "auth/token_int.h"

#define FUZZ_CHECK(x)	do { if (!(x)) abort(); } while (0)

#define FUZZ_SECRET	"fuzz-token-secret"
#define FUZZ_ISSUER	"korio.fuzz"
#define FUZZ_NOW	INT64_C(1700000000)

/* "." and the 43 characters of an HMAC-SHA256 in base64url. */
#define FUZZ_SIG_LEN	44

int		LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static int	fuzz_verify(const char *, const char *);
static void	fuzz_claims(int, const struct token_claims *);
static void	fuzz_remint(const struct token_claims *);
static void	fuzz_signed(const char *, size_t);
static void	fuzz_bearer(const char *);

static const char	fuzz_secret[] = FUZZ_SECRET;

static int
fuzz_verify(const char *token, const char *issuer)
{
	struct token_claims	cl;
	int			rc;

	rc = token_verify(token, fuzz_secret, sizeof(fuzz_secret) - 1,
	    issuer, FUZZ_NOW, &cl);
	fuzz_claims(rc, &cl);
	if (rc == TOKEN_OK && cl.sid[0] != '\0')
		fuzz_remint(&cl);

	return (rc);
}

static void
fuzz_claims(int rc, const struct token_claims *cl)
{
	static const struct token_claims	zero;
	size_t					len;

	FUZZ_CHECK(rc == TOKEN_OK || rc == TOKEN_MALFORMED ||
	    rc == TOKEN_BAD_ALG || rc == TOKEN_BAD_SIGNATURE ||
	    rc == TOKEN_EXPIRED || rc == TOKEN_NOT_YET_VALID ||
	    rc == TOKEN_BAD_ISSUER || rc == TOKEN_NO_SUBJECT);
	FUZZ_CHECK(strcmp(token_result_str(rc), "unknown result") != 0);

	if (rc != TOKEN_OK) {
		FUZZ_CHECK(memcmp(cl, &zero, sizeof(zero)) == 0);
		return;
	}

	len = strnlen(cl->user_id, sizeof(cl->user_id));
	FUZZ_CHECK(len > 0 && len < sizeof(cl->user_id));
	FUZZ_CHECK(strnlen(cl->sid, sizeof(cl->sid)) < sizeof(cl->sid));
	FUZZ_CHECK(cl->exp > FUZZ_NOW);
}

/* The claims of a verified token, minted and verified again. */
static void
fuzz_remint(const struct token_claims *cl)
{
	struct token_claims	again;
	char			tok[TOKEN_MAX_LEN + 1];

	if (!token_mint(cl, FUZZ_ISSUER, fuzz_secret, sizeof(fuzz_secret) - 1,
	    tok, sizeof(tok)))
		return;

	FUZZ_CHECK(token_verify(tok, fuzz_secret, sizeof(fuzz_secret) - 1,
	    FUZZ_ISSUER, FUZZ_NOW, &again) == TOKEN_OK);
	FUZZ_CHECK(strcmp(again.user_id, cl->user_id) == 0);
	FUZZ_CHECK(strcmp(again.sid, cl->sid) == 0);
	FUZZ_CHECK(again.iat == cl->iat && again.exp == cl->exp);
}

/* s (len bytes) as "header.payload", signed with the fixed secret. */
static void
fuzz_signed(const char *s, size_t len)
{
	unsigned char	mac[EVP_MAX_MD_SIZE];
	unsigned int	maclen;
	char		*tok;
	int		rc;

	if ((tok = malloc(len + FUZZ_SIG_LEN + 1)) == NULL)
		return;

	FUZZ_CHECK(HMAC(EVP_sha256(), fuzz_secret, sizeof(fuzz_secret) - 1,
	    (const unsigned char *)s, len, mac, &maclen) != NULL);
	FUZZ_CHECK(maclen == 32);

	memcpy(tok, s, len);
	tok[len] = '.';
	token_b64url_encode(mac, maclen, tok + len + 1);
	FUZZ_CHECK(strlen(tok) == len + FUZZ_SIG_LEN);

	rc = fuzz_verify(tok, FUZZ_ISSUER);
	FUZZ_CHECK(rc != TOKEN_BAD_SIGNATURE);
	rc = fuzz_verify(tok, NULL);
	FUZZ_CHECK(rc != TOKEN_BAD_SIGNATURE && rc != TOKEN_BAD_ISSUER);

	free(tok);
}

static void
fuzz_bearer(const char *s)
{
	char		out[TOKEN_MAX_LEN + 1], bare[TOKEN_MAX_LEN + 1];
	size_t		i, len;
	int		rc, rc_bare;

	rc = token_bearer_extract(s, 0, out, sizeof(out));
	rc_bare = token_bearer_extract(s, 1, bare, sizeof(bare));

	FUZZ_CHECK(rc == TOKEN_OK || rc == TOKEN_NONE ||
	    rc == TOKEN_MALFORMED);
	FUZZ_CHECK(rc_bare == TOKEN_OK || rc_bare == TOKEN_NONE ||
	    rc_bare == TOKEN_MALFORMED);
	if (rc != TOKEN_OK) {
		FUZZ_CHECK(out[0] == '\0');
	} else {
		/* A "Bearer" token is one with bare tokens allowed too. */
		FUZZ_CHECK(rc_bare == TOKEN_OK && strcmp(out, bare) == 0);
	}
	if (rc_bare != TOKEN_OK) {
		FUZZ_CHECK(bare[0] == '\0');
		return;
	}

	len = strlen(bare);
	FUZZ_CHECK(len > 0 && len <= strlen(s) && len <= TOKEN_MAX_LEN);
	for (i = 0; i < len; i++)
		FUZZ_CHECK(bare[i] == '.' || token_b64url_char(bare[i]));

	(void)fuzz_verify(bare, FUZZ_ISSUER);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*s;
	size_t		len;

	if ((s = malloc(size + 1)) == NULL)
		return (0);
	memcpy(s, data, size);
	s[size] = '\0';
	len = strlen(s);

	(void)fuzz_verify(s, FUZZ_ISSUER);
	(void)fuzz_verify(s, NULL);
	fuzz_signed(s, len);
	fuzz_bearer(s);

	free(s);

	return (0);
}
