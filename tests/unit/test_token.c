/*
 * test_token.c: unit tests for src/app/auth/token*.c: durations, session ids,
 * minting, verification (tampering, algorithm confusion, times, issuer,
 * subject, malformed input), bearer extraction, and tokens minted by
 * Node's crypto the way jsonwebtoken mints them.
 *
 * Hostile tokens are built here by hand (base64url + HMAC-SHA256 from
 * libcrypto) so that each rule is tested on its own.
 */

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/token.h"
#include "test_help.h"

/* TEST_ASSERT on a result code, printing both codes on failure. */
#define TEST_ASSERT_RC(x, e)	TEST_ASSERT(rc_is((x), (e)))

#define NOW		INT64_C(1700000000)
#define SECRET		"test-access-secret"
#define RSECRET		"test-refresh-secret"
#define ISSUER		"korio.test"
#define USER		"65a1b2c3d4e5f60718293a4b"
#define SID		"0f8b2c4e-1a3d-4b5c-9d6e-7f8091a2b3c4"
#define HS256_HDR	"{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define PL_OK		"{\"id\":\"" USER "\",\"exp\":1800000000}"

/*
 * Minted with Node 20's crypto exactly as jsonwebtoken does it:
 * base64url(JSON header) "." base64url(JSON payload) "." base64url(
 * HMAC-SHA256(secret, both)). Payloads:
 * {id, sid, iat: 1700000000, exp: 4102444800, iss: "terreno.example"}
 * and {id, iat: 1700000000, exp: 4102444800}.
 */
#define NODE_SECRET	"node-shared-secret"
#define NODE_TOKEN_ISS							\
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."				\
	"eyJpZCI6IjY1YTFiMmMzZDRlNWY2MDcxODI5M2E0YiIsInNpZCI6IjBm"	\
	"OGIyYzRlLTFhM2QtNGI1Yy05ZDZlLTdmODA5MWEyYjNjNCIsImlhdCI6"	\
	"MTcwMDAwMDAwMCwiZXhwIjo0MTAyNDQ0ODAwLCJpc3MiOiJ0ZXJyZW5v"	\
	"LmV4YW1wbGUifQ."						\
	"ypdYyqjhBCNu2g6iZyY-0O2Lzu0XX5zqEOWmzt1IHBY"
#define NODE_TOKEN_PLAIN						\
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."				\
	"eyJpZCI6IjY1YTFiMmMzZDRlNWY2MDcxODI5M2E0YiIsImlhdCI6MTcw"	\
	"MDAwMDAwMCwiZXhwIjo0MTAyNDQ0ODAwfQ."				\
	"QHVfSLaOlHj7IlNTqwpkNVU7pPGbgJNZVie4fXg-mAY"

static int	rc_is(int, int);
static void	b64url(const void *, size_t, char *);
static void	resign(char *, size_t, const char *);
static void	hand_token(const char *, const char *, const char *, char *,
		    size_t);
static int	verify_hand(const char *, const char *, const char *,
		    int64_t, struct token_claims *);
static json_t	*decode_part(const char *, int);
static void	claims_init(struct token_claims *);
static int	test_duration_valid(void);
static int	test_duration_invalid(void);
static int	test_sid_new(void);
static int	test_mint_access(void);
static int	test_mint_refresh(void);
static int	test_mint_secret_length(void);
static int	test_mint_refuses(void);
static int	test_tamper_payload(void);
static int	test_tamper_signature(void);
static int	test_alg_none(void);
static int	test_alg_other(void);
static int	test_header_garbled(void);
static int	test_exp(void);
static int	test_iat_nbf(void);
static int	test_issuer(void);
static int	test_subject_terreno(void);
static int	test_subject_rules(void);
static int	test_sid_claim(void);
static int	test_malformed_shape(void);
static int	test_malformed_base64(void);
static int	test_huge(void);
static int	test_too_long(void);
static int	test_bad_args(void);
static int	test_node_tokens(void);
static int	test_bearer_ok(void);
static int	test_bearer_none(void);
static int	test_bearer_malformed(void);
static int	test_result_str(void);
static void	*thread_main(void *);
static int	test_threads(void);

static int
rc_is(int got, int want)
{
	if (got == want)
		return (1);
	printf("got %d (%s), want %d (%s)\n", got, token_result_str(got),
	    want, token_result_str(want));
	return (0);
}

static void
b64url(const void *data, size_t len, char *out)
{
	static const char	tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char	*p = data;
	uint32_t		acc = 0;
	size_t			i, o = 0;
	int			bits = 0;

	for (i = 0; i < len; i++) {
		acc = (acc << 8) | p[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = tab[(acc >> bits) & 0x3f];
		}
	}
	if (bits > 0)
		out[o++] = tab[(acc << (6 - bits)) & 0x3f];
	out[o] = '\0';
}

/* Replace what follows the last dot of tok with HMAC-SHA256(secret). */
static void
resign(char *tok, size_t toksz, const char *secret)
{
	unsigned char	mac[EVP_MAX_MD_SIZE];
	unsigned int	maclen;
	char		*dot;

	if ((dot = strrchr(tok, '.')) == NULL ||
	    (size_t)(dot - tok) + 1 + 44 > toksz)
		abort();
	HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (unsigned char *)tok, dot - tok, mac, &maclen);
	b64url(mac, maclen, dot + 1);
}

/* header.payload.HMAC-SHA256(secret); a NULL secret leaves it unsigned. */
static void
hand_token(const char *header, const char *payload, const char *secret,
    char *out, size_t outlen)
{
	char		*h, *p;

	h = malloc(strlen(header) * 2 + 4);
	p = malloc(strlen(payload) * 2 + 4);
	if (h == NULL || p == NULL)
		abort();
	b64url(header, strlen(header), h);
	b64url(payload, strlen(payload), p);
	if ((size_t)snprintf(out, outlen, "%s.%s.", h, p) >= outlen)
		abort();
	free(h);
	free(p);

	if (secret != NULL)
		resign(out, outlen, secret);
}

static int
verify_hand(const char *header, const char *payload, const char *issuer,
    int64_t now, struct token_claims *claims)
{
	char		tok[4096];

	hand_token(header, payload, SECRET, tok, sizeof(tok));
	return (token_verify(tok, SECRET, strlen(SECRET), issuer, now,
	    claims));
}

/* Decode the part-th (0 or 1) part of a token as JSON. */
static json_t *
decode_part(const char *tok, int part)
{
	static const char	tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char		buf[4096];
	uint32_t		acc = 0;
	size_t			o = 0;
	int			bits = 0;
	const char		*c, *p;

	p = tok;
	if (part == 1 && (p = strchr(tok, '.')) != NULL)
		p++;
	if (p == NULL)
		return (NULL);

	for (; *p != '.' && *p != '\0' && o < sizeof(buf); p++) {
		if ((c = strchr(tab, *p)) == NULL)
			return (NULL);
		acc = (acc << 6) | (uint32_t)(c - tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (acc >> bits) & 0xff;
		}
	}
	return (json_loadb((const char *)buf, o, 0, NULL));
}

static void
claims_init(struct token_claims *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->user_id, sizeof(c->user_id), "%s", USER);
	snprintf(c->sid, sizeof(c->sid), "%s", SID);
	c->iat = NOW;
	c->exp = NOW + 900;
}

static int
test_duration_valid(void)
{
	int64_t		s;

	TEST_ASSERT(token_duration_parse("15m", &s) == 1 && s == 900);
	TEST_ASSERT(token_duration_parse("30d", &s) == 1 && s == 2592000);
	TEST_ASSERT(token_duration_parse("900", &s) == 1 && s == 900);
	TEST_ASSERT(token_duration_parse("900s", &s) == 1 && s == 900);
	TEST_ASSERT(token_duration_parse("2h", &s) == 1 && s == 7200);
	TEST_ASSERT(token_duration_parse("1w", &s) == 1 && s == 604800);
	TEST_ASSERT(token_duration_parse("1y", &s) == 1 && s == 31557600);
	TEST_ASSERT(token_duration_parse("1", &s) == 1 && s == 1);
	TEST_ASSERT(token_duration_parse("15M", &s) == 1 && s == 900);
	TEST_ASSERT(token_duration_parse("15 m", &s) == 1 && s == 900);
	TEST_ASSERT(token_duration_parse("2 hours", &s) == 1 && s == 7200);
	TEST_ASSERT(token_duration_parse("3Days", &s) == 1 && s == 259200);
	TEST_ASSERT(token_duration_parse("10mins", &s) == 1 && s == 600);
	TEST_ASSERT(token_duration_parse("1000y", &s) == 1 &&
	    s == TOKEN_DURATION_MAX);
	TEST_ASSERT(token_duration_parse("31557600000", &s) == 1 &&
	    s == TOKEN_DURATION_MAX);
	return (0);
}

static int
test_duration_invalid(void)
{
	const char	*bad[] = {
		"", "abc", "m", "-5", "+5", "0", "0s", "000", "15x", "15mm",
		"900ms", "1.5h", ".5h", " 15m", "15m ", "15 ", "15\tm",
		"15m\n", "1001y", "31557600001", "9223372036854775807",
		"99999999999999999999d", "99999999999999999999", "0x10",
		NULL
	};
	int64_t		s;
	size_t		i;

	s = 42;
	for (i = 0; bad[i] != NULL; i++) {
		if (token_duration_parse(bad[i], &s) != 0)
			printf("accepted \"%s\"\n", bad[i]);
		TEST_ASSERT(token_duration_parse(bad[i], &s) == 0);
	}
	TEST_ASSERT(token_duration_parse(NULL, &s) == 0);
	TEST_ASSERT(token_duration_parse("15m", NULL) == 0);
	TEST_ASSERT(s == 42);
	return (0);
}

static int
test_sid_new(void)
{
	char		a[TOKEN_SID_LEN], b[TOKEN_SID_LEN];
	size_t		i;

	TEST_ASSERT(token_sid_new(a) == 1);
	TEST_ASSERT(token_sid_new(b) == 1);
	TEST_ASSERT(strlen(a) == 36);
	TEST_ASSERT(strcmp(a, b) != 0);
	TEST_ASSERT(a[8] == '-' && a[13] == '-' && a[18] == '-' &&
	    a[23] == '-');
	TEST_ASSERT(a[14] == '4');
	TEST_ASSERT(strchr("89ab", a[19]) != NULL);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			continue;
		TEST_ASSERT(a[i] != '\0' &&
		    strchr("0123456789abcdef", a[i]) != NULL);
	}
	return (0);
}

static int
test_mint_access(void)
{
	struct token_claims	in, out;
	char			tok[TOKEN_MAX_LEN + 1];
	json_t			*hdr, *pl;
	jwt_t			*jwt;
	int			ok;

	claims_init(&in);
	TEST_ASSERT(token_sid_new(in.sid) == 1);
	TEST_ASSERT(token_mint(&in, ISSUER, SECRET, strlen(SECRET), tok,
	    sizeof(tok)) == 1);
	TEST_ASSERT_RC(token_verify(tok, SECRET, strlen(SECRET), ISSUER, NOW,
	    &out), TOKEN_OK);
	TEST_ASSERT(strcmp(out.user_id, USER) == 0);
	TEST_ASSERT(strcmp(out.sid, in.sid) == 0);
	TEST_ASSERT(out.iat == NOW && out.exp == NOW + 900);

	/* Unconfigured issuer: iss is ignored. */
	TEST_ASSERT_RC(token_verify(tok, SECRET, strlen(SECRET), NULL, NOW,
	    &out), TOKEN_OK);
	TEST_ASSERT_RC(token_verify(tok, SECRET, strlen(SECRET), "", NOW,
	    &out), TOKEN_OK);
	TEST_ASSERT_RC(token_verify(tok, RSECRET, strlen(RSECRET), ISSUER,
	    NOW, &out), TOKEN_BAD_SIGNATURE);

	/* Header and payload are what Terreno clients expect. */
	hdr = decode_part(tok, 0);
	pl = decode_part(tok, 1);
	ok = hdr != NULL && pl != NULL &&
	    json_object_size(hdr) == 2 && json_object_size(pl) == 6 &&
	    strcmp(json_string_value(json_object_get(hdr, "alg")),
	    "HS256") == 0 &&
	    strcmp(json_string_value(json_object_get(hdr, "typ")),
	    "JWT") == 0 &&
	    strcmp(json_string_value(json_object_get(pl, "id")), USER) == 0 &&
	    strcmp(json_string_value(json_object_get(pl, "sub")), USER) == 0 &&
	    strcmp(json_string_value(json_object_get(pl, "sid")),
	    in.sid) == 0 &&
	    strcmp(json_string_value(json_object_get(pl, "iss")),
	    ISSUER) == 0 &&
	    json_integer_value(json_object_get(pl, "iat")) == NOW &&
	    json_integer_value(json_object_get(pl, "exp")) == NOW + 900;
	json_decref(hdr);
	json_decref(pl);
	TEST_ASSERT(ok);

	/* libjwt itself accepts what we mint. */
	jwt = NULL;
	ok = jwt_decode(&jwt, tok, (const unsigned char *)SECRET,
	    (int)strlen(SECRET)) == 0;
	if (jwt != NULL)
		jwt_free(jwt);
	TEST_ASSERT(ok);
	return (0);
}

static int
test_mint_refresh(void)
{
	struct token_claims	in, out;
	char			tok[TOKEN_MAX_LEN + 1];
	json_t			*pl;
	int			ok;

	/* Other secret, no iss, the sid is carried over. */
	claims_init(&in);
	TEST_ASSERT(token_mint(&in, NULL, RSECRET, strlen(RSECRET), tok,
	    sizeof(tok)) == 1);
	TEST_ASSERT_RC(token_verify(tok, RSECRET, strlen(RSECRET), NULL, NOW,
	    &out), TOKEN_OK);
	TEST_ASSERT(strcmp(out.sid, SID) == 0);
	TEST_ASSERT_RC(token_verify(tok, SECRET, strlen(SECRET), NULL, NOW,
	    &out), TOKEN_BAD_SIGNATURE);
	TEST_ASSERT_RC(token_verify(tok, RSECRET, strlen(RSECRET), ISSUER,
	    NOW, &out), TOKEN_BAD_ISSUER);

	pl = decode_part(tok, 1);
	ok = pl != NULL && json_object_size(pl) == 5 &&
	    json_object_get(pl, "iss") == NULL;
	json_decref(pl);
	TEST_ASSERT(ok);

	/* An empty issuer means none. */
	TEST_ASSERT(token_mint(&in, "", RSECRET, strlen(RSECRET), tok,
	    sizeof(tok)) == 1);
	pl = decode_part(tok, 1);
	ok = pl != NULL && json_object_get(pl, "iss") == NULL;
	json_decref(pl);
	TEST_ASSERT(ok);
	return (0);
}

static int
test_mint_secret_length(void)
{
	struct token_claims	in, out;
	char			tok[TOKEN_MAX_LEN + 1];

	/* The secret length is honoured, not strlen(). */
	claims_init(&in);
	TEST_ASSERT(token_mint(&in, NULL, SECRET "xyz", strlen(SECRET), tok,
	    sizeof(tok)) == 1);
	TEST_ASSERT_RC(token_verify(tok, SECRET, strlen(SECRET), NULL, NOW,
	    &out), TOKEN_OK);
	TEST_ASSERT_RC(token_verify(tok, SECRET "x", strlen(SECRET), NULL, NOW,
	    &out), TOKEN_OK);
	TEST_ASSERT_RC(token_verify(tok, SECRET, strlen(SECRET) - 1, NULL,
	    NOW, &out), TOKEN_BAD_SIGNATURE);
	TEST_ASSERT_RC(token_verify(tok, SECRET "x", strlen(SECRET) + 1, NULL,
	    NOW, &out), TOKEN_BAD_SIGNATURE);
	return (0);
}

static int
test_mint_refuses(void)
{
	struct token_claims	in;
	char			tok[TOKEN_MAX_LEN + 1];

	claims_init(&in);
	TEST_ASSERT(token_mint(&in, NULL, SECRET, strlen(SECRET), tok,
	    10) == 0);
	TEST_ASSERT(tok[0] == '\0');
	TEST_ASSERT(token_mint(&in, NULL, SECRET, 0, tok, sizeof(tok)) == 0);
	TEST_ASSERT(token_mint(&in, NULL, NULL, 5, tok, sizeof(tok)) == 0);
	TEST_ASSERT(token_mint(NULL, NULL, SECRET, strlen(SECRET), tok,
	    sizeof(tok)) == 0);
	TEST_ASSERT(token_mint(&in, NULL, SECRET, strlen(SECRET), NULL,
	    0) == 0);

	in.exp = NOW;
	TEST_ASSERT(token_mint(&in, NULL, SECRET, strlen(SECRET), tok,
	    sizeof(tok)) == 0);
	claims_init(&in);
	in.iat = -1;
	TEST_ASSERT(token_mint(&in, NULL, SECRET, strlen(SECRET), tok,
	    sizeof(tok)) == 0);
	claims_init(&in);
	in.sid[0] = '\0';
	TEST_ASSERT(token_mint(&in, NULL, SECRET, strlen(SECRET), tok,
	    sizeof(tok)) == 0);
	claims_init(&in);
	in.user_id[0] = '\0';
	TEST_ASSERT(token_mint(&in, NULL, SECRET, strlen(SECRET), tok,
	    sizeof(tok)) == 0);
	memset(in.user_id, 'a', sizeof(in.user_id));
	TEST_ASSERT(token_mint(&in, NULL, SECRET, strlen(SECRET), tok,
	    sizeof(tok)) == 0);
	claims_init(&in);
	memcpy(in.user_id, "\xff\xfe", 3);
	TEST_ASSERT(token_mint(&in, NULL, SECRET, strlen(SECRET), tok,
	    sizeof(tok)) == 0);
	TEST_ASSERT(tok[0] == '\0');

	claims_init(&in);
	TEST_ASSERT(token_mint(&in, NULL, SECRET, strlen(SECRET), tok,
	    sizeof(tok)) == 1);
	return (0);
}

static int
test_tamper_payload(void)
{
	struct token_claims	in, out;
	char			tok[TOKEN_MAX_LEN + 1];
	char			evil[TOKEN_MAX_LEN + 1];
	char			other[4096];
	size_t			i;

	claims_init(&in);
	TEST_ASSERT(token_mint(&in, NULL, SECRET, strlen(SECRET), tok,
	    sizeof(tok)) == 1);

	/* One changed character anywhere in the payload. */
	for (i = strchr(tok, '.') - tok + 1; tok[i] != '.'; i++) {
		memcpy(evil, tok, sizeof(tok));
		evil[i] = evil[i] == 'A' ? 'B' : 'A';
		TEST_ASSERT_RC(token_verify(evil, SECRET, strlen(SECRET), NULL,
		    NOW, &out), TOKEN_BAD_SIGNATURE);
	}
	TEST_ASSERT(out.user_id[0] == '\0' && out.exp == 0);

	/* Another user's payload under our signature. */
	hand_token(HS256_HDR, "{\"id\":\"000000000000000000000001\","
	    "\"exp\":1800000000}", "attacker", other, sizeof(other));
	TEST_ASSERT_RC(token_verify(other, SECRET, strlen(SECRET), NULL, NOW,
	    &out), TOKEN_BAD_SIGNATURE);
	snprintf(evil, sizeof(evil), "%.*s%s",
	    (int)(strrchr(other, '.') - other + 1), other,
	    strrchr(tok, '.') + 1);
	TEST_ASSERT_RC(token_verify(evil, SECRET, strlen(SECRET), NULL, NOW,
	    &out), TOKEN_BAD_SIGNATURE);
	return (0);
}

static int
test_tamper_signature(void)
{
	struct token_claims	in, out;
	char			tok[TOKEN_MAX_LEN + 1];
	char			evil[TOKEN_MAX_LEN + 2];
	char			*sig, *p;
	size_t			len;

	claims_init(&in);
	TEST_ASSERT(token_mint(&in, NULL, SECRET, strlen(SECRET), tok,
	    sizeof(tok)) == 1);
	len = strlen(tok);
	sig = strrchr(tok, '.') + 1;
	TEST_ASSERT(strlen(sig) == 43);

	/* First and last characters changed. */
	memcpy(evil, tok, len + 1);
	evil[len - 1] = evil[len - 1] == 'A' ? 'B' : 'A';
	TEST_ASSERT_RC(token_verify(evil, SECRET, strlen(SECRET), NULL, NOW,
	    &out), TOKEN_BAD_SIGNATURE);
	memcpy(evil, tok, len + 1);
	evil[sig - tok] = evil[sig - tok] == 'A' ? 'B' : 'A';
	TEST_ASSERT_RC(token_verify(evil, SECRET, strlen(SECRET), NULL, NOW,
	    &out), TOKEN_BAD_SIGNATURE);

	/* Shortened, lengthened, padded, emptied. */
	memcpy(evil, tok, len);
	evil[len - 1] = '\0';
	TEST_ASSERT_RC(token_verify(evil, SECRET, strlen(SECRET), NULL, NOW,
	    &out), TOKEN_BAD_SIGNATURE);
	snprintf(evil, sizeof(evil), "%sA", tok);
	TEST_ASSERT_RC(token_verify(evil, SECRET, strlen(SECRET), NULL, NOW,
	    &out), TOKEN_BAD_SIGNATURE);
	snprintf(evil, sizeof(evil), "%s=", tok);
	TEST_ASSERT_RC(token_verify(evil, SECRET, strlen(SECRET), NULL, NOW,
	    &out), TOKEN_BAD_SIGNATURE);
	snprintf(evil, sizeof(evil), "%.*s", (int)(sig - tok), tok);
	TEST_ASSERT_RC(token_verify(evil, SECRET, strlen(SECRET), NULL, NOW,
	    &out), TOKEN_BAD_SIGNATURE);

	/* Standard base64 instead of base64url, when it differs. */
	memcpy(evil, tok, len + 1);
	for (p = evil + (sig - tok); *p != '\0'; p++) {
		if (*p == '-')
			*p = '+';
		else if (*p == '_')
			*p = '/';
	}
	if (strcmp(evil, tok) != 0) {
		TEST_ASSERT_RC(token_verify(evil, SECRET, strlen(SECRET), NULL,
		    NOW, &out), TOKEN_BAD_SIGNATURE);
	}

	TEST_ASSERT_RC(token_verify(tok, SECRET, strlen(SECRET), NULL, NOW,
	    &out), TOKEN_OK);
	return (0);
}

static int
test_alg_none(void)
{
	struct token_claims	out;
	char			tok[4096];

	/* Unsigned, as an attacker sends it. */
	hand_token("{\"alg\":\"none\",\"typ\":\"JWT\"}", PL_OK, NULL, tok,
	    sizeof(tok));
	TEST_ASSERT(tok[strlen(tok) - 1] == '.');
	TEST_ASSERT_RC(token_verify(tok, SECRET, strlen(SECRET), NULL, NOW,
	    &out), TOKEN_BAD_ALG);
	TEST_ASSERT(out.user_id[0] == '\0');

	/* Even with a valid HMAC over it. */
	TEST_ASSERT_RC(verify_hand("{\"alg\":\"none\",\"typ\":\"JWT\"}", PL_OK,
	    NULL, NOW, &out), TOKEN_BAD_ALG);
	TEST_ASSERT_RC(verify_hand("{\"alg\":\"None\"}", PL_OK, NULL, NOW,
	    &out), TOKEN_BAD_ALG);
	TEST_ASSERT_RC(verify_hand("{\"alg\":\"NONE\"}", PL_OK, NULL, NOW,
	    &out), TOKEN_BAD_ALG);
	TEST_ASSERT_RC(verify_hand("{\"alg\":\"\"}", PL_OK, NULL, NOW, &out),
	    TOKEN_BAD_ALG);
	return (0);
}

static int
test_alg_other(void)
{
	struct token_claims	out;
	const char		*hdrs[] = {
		"{\"alg\":\"HS384\",\"typ\":\"JWT\"}",
		"{\"alg\":\"HS512\"}",
		"{\"alg\":\"RS256\",\"typ\":\"JWT\"}",
		"{\"alg\":\"ES256\"}",
		"{\"alg\":\"PS256\"}",
		"{\"alg\":\"hs256\"}",
		"{\"alg\":\"HS256 \"}",
		"{\"alg\":\" HS256\"}",
		"{\"typ\":\"JWT\"}",
		"{\"alg\":256}",
		"{\"alg\":null}",
		"{\"alg\":true}",
		"{\"alg\":[\"HS256\"]}",
		"{\"alg\":{\"HS256\":1}}",
		"{\"ALG\":\"HS256\"}",
		"{}",
		NULL
	};
	size_t			i;

	for (i = 0; hdrs[i] != NULL; i++) {
		TEST_ASSERT_RC(verify_hand(hdrs[i], PL_OK, NULL, NOW, &out),
		    TOKEN_BAD_ALG);
	}

	/* Extra header members are fine. */
	TEST_ASSERT_RC(verify_hand("{\"alg\":\"HS256\",\"kid\":\"1\"}", PL_OK,
	    NULL, NOW, &out), TOKEN_OK);
	TEST_ASSERT_RC(verify_hand("{\"typ\":\"at+jwt\",\"alg\":\"HS256\"}",
	    PL_OK, NULL, NOW, &out), TOKEN_OK);
	TEST_ASSERT_RC(verify_hand("{\"alg\":\"HS256\"}", PL_OK, NULL, NOW,
	    &out), TOKEN_OK);
	return (0);
}

static int
test_header_garbled(void)
{
	struct token_claims	out;
	const char		*hdrs[] = {
		"[\"HS256\"]",
		"\"HS256\"",
		"{\"alg\":\"HS256\"",
		"{\"alg\":\"HS256\"} x",
		"{\"alg\":\"HS256\",\"alg\":\"none\"}",
		"{\"alg\":\"none\",\"alg\":\"HS256\"}",
		"{\"alg\":\"HS256\\u0000x\"}",
		"{\"alg\":\"HS256\",\"crit\":[\"b64\"],\"b64\":false}",
		"{\"alg\":\"HS256\",\"crit\":[]}",
		"",
		NULL
	};
	size_t			i;

	for (i = 0; hdrs[i] != NULL; i++) {
		TEST_ASSERT_RC(verify_hand(hdrs[i], PL_OK, NULL, NOW, &out),
		    TOKEN_MALFORMED);
	}
	return (0);
}

static int
test_exp(void)
{
	struct token_claims	out;
	const char		*bad[] = {
		"{\"id\":\"u\"}",
		"{\"id\":\"u\",\"exp\":\"1800000000\"}",
		"{\"id\":\"u\",\"exp\":null}",
		"{\"id\":\"u\",\"exp\":true}",
		"{\"id\":\"u\",\"exp\":[1800000000]}",
		"{\"id\":\"u\",\"exp\":1e300}",
		"{\"id\":\"u\",\"exp\":9223372036854775807}",
		NULL
	};
	size_t			i;

	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":\"u\",\"exp\":1699999999}", NULL, NOW, &out),
	    TOKEN_EXPIRED);
	TEST_ASSERT(out.exp == 0 && out.user_id[0] == '\0');
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":\"u\",\"exp\":1700000000}", NULL, NOW, &out),
	    TOKEN_EXPIRED);
	TEST_ASSERT_RC(verify_hand(HS256_HDR, "{\"id\":\"u\",\"exp\":-1}",
	    NULL, NOW, &out), TOKEN_EXPIRED);
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":\"u\",\"exp\":1700000001}", NULL, NOW, &out), TOKEN_OK);
	TEST_ASSERT(out.exp == NOW + 1 && out.iat == 0 && out.sid[0] == '\0');
	TEST_ASSERT(strcmp(out.user_id, "u") == 0);

	/* Fractions: jsonwebtoken compares numbers, we round up. */
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":\"u\",\"exp\":1700000000.5}", NULL, NOW, &out), TOKEN_OK);
	TEST_ASSERT(out.exp == NOW + 1);
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":\"u\",\"exp\":1700000000.5}", NULL, NOW + 1, &out),
	    TOKEN_EXPIRED);
	TEST_ASSERT_RC(verify_hand(HS256_HDR, "{\"id\":\"u\",\"exp\":1.8e9}",
	    NULL, NOW, &out), TOKEN_OK);

	/* exp is required and must be a number. */
	for (i = 0; bad[i] != NULL; i++) {
		TEST_ASSERT_RC(verify_hand(HS256_HDR, bad[i], NULL, NOW, &out),
		    TOKEN_MALFORMED);
	}
	return (0);
}

static int
test_iat_nbf(void)
{
	struct token_claims	out;

	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":\"u\",\"iat\":1690000000,\"exp\":1800000000}", NULL, NOW,
	    &out), TOKEN_OK);
	TEST_ASSERT(out.iat == 1690000000);
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":\"u\",\"iat\":\"x\",\"exp\":1800000000}", NULL, NOW,
	    &out), TOKEN_MALFORMED);
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":\"u\",\"iat\":null,\"exp\":1800000000}", NULL, NOW,
	    &out), TOKEN_MALFORMED);
	/* jsonwebtoken does not check iat against the clock either. */
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":\"u\",\"iat\":1900000000,\"exp\":1800000000}", NULL, NOW,
	    &out), TOKEN_OK);

	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":\"u\",\"nbf\":1700000001,\"exp\":1800000000}", NULL, NOW,
	    &out), TOKEN_NOT_YET_VALID);
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":\"u\",\"nbf\":1700000000,\"exp\":1800000000}", NULL, NOW,
	    &out), TOKEN_OK);
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":\"u\",\"nbf\":{},\"exp\":1800000000}", NULL, NOW,
	    &out), TOKEN_MALFORMED);
	return (0);
}

static int
test_issuer(void)
{
	struct token_claims	out;
	const char		*pl;

	pl = "{\"id\":\"u\",\"iss\":\"korio.test\",\"exp\":1800000000}";
	TEST_ASSERT_RC(verify_hand(HS256_HDR, pl, ISSUER, NOW, &out),
	    TOKEN_OK);
	TEST_ASSERT_RC(verify_hand(HS256_HDR, pl, NULL, NOW, &out), TOKEN_OK);
	TEST_ASSERT_RC(verify_hand(HS256_HDR, pl, "", NOW, &out), TOKEN_OK);
	TEST_ASSERT_RC(verify_hand(HS256_HDR, pl, "other", NOW, &out),
	    TOKEN_BAD_ISSUER);
	TEST_ASSERT(out.user_id[0] == '\0');
	TEST_ASSERT_RC(verify_hand(HS256_HDR, pl, "korio.tes", NOW, &out),
	    TOKEN_BAD_ISSUER);
	TEST_ASSERT_RC(verify_hand(HS256_HDR, pl, "korio.test2", NOW, &out),
	    TOKEN_BAD_ISSUER);
	TEST_ASSERT_RC(verify_hand(HS256_HDR, pl, "KORIO.TEST", NOW, &out),
	    TOKEN_BAD_ISSUER);
	TEST_ASSERT_RC(verify_hand(HS256_HDR, PL_OK, ISSUER, NOW, &out),
	    TOKEN_BAD_ISSUER);
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":\"u\",\"iss\":42,\"exp\":1800000000}", ISSUER, NOW, &out),
	    TOKEN_BAD_ISSUER);
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":\"u\",\"iss\":[\"korio.test\"],\"exp\":1800000000}",
	    ISSUER, NOW, &out), TOKEN_BAD_ISSUER);
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":\"u\",\"iss\":\"\",\"exp\":1800000000}", ISSUER, NOW,
	    &out), TOKEN_BAD_ISSUER);
	return (0);
}

static int
test_subject_terreno(void)
{
	struct token_claims	out;
	char			tok[4096];

	/* Terreno mints {id, sid, iat, exp[, iss]}: no sub. */
	hand_token(HS256_HDR, "{\"id\":\"" USER "\",\"sid\":\"" SID "\","
	    "\"iat\":1700000000,\"exp\":1800000000,\"iss\":\"korio.test\"}",
	    SECRET, tok, sizeof(tok));
	TEST_ASSERT_RC(token_verify(tok, SECRET, strlen(SECRET), ISSUER, NOW,
	    &out), TOKEN_OK);
	TEST_ASSERT(strcmp(out.user_id, USER) == 0);
	TEST_ASSERT(strcmp(out.sid, SID) == 0);
	TEST_ASSERT(out.iat == 1700000000 && out.exp == 1800000000);

	/* Terreno 0.3 has no sid either. */
	TEST_ASSERT_RC(verify_hand(HS256_HDR, PL_OK, NULL, NOW, &out),
	    TOKEN_OK);
	TEST_ASSERT(strcmp(out.user_id, USER) == 0 && out.sid[0] == '\0');
	return (0);
}

static int
test_subject_rules(void)
{
	struct token_claims	out;
	char			pl[512];

	/* sub wins over id when it is a string. */
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"sub\":\"subject\",\"id\":\"ident\",\"exp\":1800000000}", NULL,
	    NOW, &out), TOKEN_OK);
	TEST_ASSERT(strcmp(out.user_id, "subject") == 0);
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"sub\":\"subject\",\"exp\":1800000000}", NULL, NOW, &out),
	    TOKEN_OK);
	TEST_ASSERT(strcmp(out.user_id, "subject") == 0);
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"sub\":12,\"id\":\"ident\",\"exp\":1800000000}", NULL, NOW,
	    &out), TOKEN_OK);
	TEST_ASSERT(strcmp(out.user_id, "ident") == 0);

	TEST_ASSERT_RC(verify_hand(HS256_HDR, "{\"exp\":1800000000}", NULL,
	    NOW, &out), TOKEN_NO_SUBJECT);
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":\"\",\"exp\":1800000000}", NULL, NOW, &out),
	    TOKEN_NO_SUBJECT);
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"sub\":\"\",\"id\":\"ident\",\"exp\":1800000000}", NULL, NOW,
	    &out), TOKEN_NO_SUBJECT);
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":42,\"exp\":1800000000}", NULL, NOW, &out),
	    TOKEN_NO_SUBJECT);
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":null,\"exp\":1800000000}", NULL, NOW, &out),
	    TOKEN_NO_SUBJECT);
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":{\"$oid\":\"x\"},\"exp\":1800000000}", NULL, NOW, &out),
	    TOKEN_NO_SUBJECT);

	/* A NUL inside a string never reaches the caller. */
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":\"a\\u0000b\",\"exp\":1800000000}", NULL, NOW, &out),
	    TOKEN_MALFORMED);

	snprintf(pl, sizeof(pl), "{\"id\":\"%0*d\",\"exp\":1800000000}",
	    TOKEN_ID_MAX - 1, 7);
	TEST_ASSERT_RC(verify_hand(HS256_HDR, pl, NULL, NOW, &out), TOKEN_OK);
	TEST_ASSERT(strlen(out.user_id) == TOKEN_ID_MAX - 1);
	snprintf(pl, sizeof(pl), "{\"id\":\"%0*d\",\"exp\":1800000000}",
	    TOKEN_ID_MAX, 7);
	TEST_ASSERT_RC(verify_hand(HS256_HDR, pl, NULL, NOW, &out),
	    TOKEN_NO_SUBJECT);
	return (0);
}

static int
test_sid_claim(void)
{
	struct token_claims	out;

	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":\"u\",\"sid\":5,\"exp\":1800000000}", NULL, NOW, &out),
	    TOKEN_MALFORMED);
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":\"u\",\"sid\":\"\",\"exp\":1800000000}", NULL, NOW,
	    &out), TOKEN_MALFORMED);
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":\"u\",\"sid\":null,\"exp\":1800000000}", NULL, NOW,
	    &out), TOKEN_MALFORMED);
	TEST_ASSERT(out.user_id[0] == '\0');
	return (0);
}

static int
test_malformed_shape(void)
{
	struct token_claims	out;
	const char		*bad[] = {
		"", ".", "..", "...", "a", "a.b", "a.b.c.d", "a..c", ".b.c",
		"a.b.c.", "....", "eyJhbGciOiJIUzI1NiJ9",
		"eyJhbGciOiJIUzI1NiJ9.eyJpZCI6InUifQ",
		"eyJhbGciOiJIUzI1NiJ9.eyJpZCI6InUifQ.x.y",
		"eyJhbGciOiJIUzI1NiJ9..x",
		NULL
	};
	size_t			i;

	for (i = 0; bad[i] != NULL; i++) {
		TEST_ASSERT_RC(token_verify(bad[i], SECRET, strlen(SECRET),
		    NULL, NOW, &out), TOKEN_MALFORMED);
	}

	/* Payload that is not a JSON object, or not JSON. */
	TEST_ASSERT_RC(verify_hand(HS256_HDR, "[1]", NULL, NOW, &out),
	    TOKEN_MALFORMED);
	TEST_ASSERT_RC(verify_hand(HS256_HDR, "\"x\"", NULL, NOW, &out),
	    TOKEN_MALFORMED);
	TEST_ASSERT_RC(verify_hand(HS256_HDR, "not json", NULL, NOW, &out),
	    TOKEN_MALFORMED);
	TEST_ASSERT_RC(verify_hand(HS256_HDR, PL_OK "x", NULL, NOW, &out),
	    TOKEN_MALFORMED);

	/* Duplicate claims are refused, not resolved. */
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":\"u\",\"id\":\"admin\",\"exp\":1800000000}", NULL, NOW,
	    &out), TOKEN_MALFORMED);
	TEST_ASSERT_RC(verify_hand(HS256_HDR,
	    "{\"id\":\"u\",\"exp\":1,\"exp\":1800000000}", NULL, NOW, &out),
	    TOKEN_MALFORMED);
	return (0);
}

static int
test_malformed_base64(void)
{
	struct token_claims	out;
	char			tok[4096], hdr[128];
	const char		*bad[] = {
		"eyJhbGciOiJIUzI1NiJ9=.eyJpZCI6InUifQ.x",
		"eyJhbGciOiJIUzI1NiJ9 .eyJpZCI6InUifQ.x",
		"eyJhbGci+iJIUzI1NiJ9.eyJpZCI6InUifQ.x",
		"eyJhbGci/iJIUzI1NiJ9.eyJpZCI6InUifQ.x",
		"eyJhbGciOiJIUzI1NiJ9A.eyJpZCI6InUifQ.x",
		"eyJhbGciOiJ\nIUzI1NiJ9.eyJpZCI6InUifQ.x",
		"!!!.???.###",
		NULL
	};
	size_t			i;

	for (i = 0; bad[i] != NULL; i++) {
		TEST_ASSERT_RC(token_verify(bad[i], SECRET, strlen(SECRET),
		    NULL, NOW, &out), TOKEN_MALFORMED);
	}

	/*
	 * Non-zero stray bits after the last byte of the header: a lenient
	 * decoder yields the same bytes, a strict one refuses. Signed, so
	 * only the encoding rule can reject it.
	 */
	hand_token("{\"alg\":\"HS256\" }", PL_OK, SECRET, tok, sizeof(tok));
	TEST_ASSERT_RC(token_verify(tok, SECRET, strlen(SECRET), NULL, NOW,
	    &out), TOKEN_OK);
	TEST_ASSERT(tok[21] == 'Q' && tok[22] == '.');
	tok[21] = 'R';
	resign(tok, sizeof(tok), SECRET);
	TEST_ASSERT_RC(token_verify(tok, SECRET, strlen(SECRET), NULL, NOW,
	    &out), TOKEN_MALFORMED);

	/* A correctly signed token whose payload is not base64url. */
	b64url(HS256_HDR, strlen(HS256_HDR), hdr);
	snprintf(tok, sizeof(tok), "%s.eyJp+ZCI6InUifQ.", hdr);
	resign(tok, sizeof(tok), SECRET);
	TEST_ASSERT_RC(token_verify(tok, SECRET, strlen(SECRET), NULL, NOW,
	    &out), TOKEN_MALFORMED);
	snprintf(tok, sizeof(tok), "%s.eyJpZCI6InUifQ==.", hdr);
	resign(tok, sizeof(tok), SECRET);
	TEST_ASSERT_RC(token_verify(tok, SECRET, strlen(SECRET), NULL, NOW,
	    &out), TOKEN_MALFORMED);
	return (0);
}

static int
test_huge(void)
{
	struct token_claims	out;
	char			*huge;
	int			rc1, rc2, rc3;
	size_t			n;

	/* Rejected on length alone, before any decoding. */
	n = 1 << 20;
	if ((huge = malloc(n)) == NULL)
		abort();
	memset(huge, 'A', n - 1);
	huge[n - 1] = '\0';
	huge[100] = '.';
	huge[200] = '.';
	rc1 = token_verify(huge, SECRET, strlen(SECRET), NULL, NOW, &out);
	huge[TOKEN_MAX_LEN + 1] = '\0';
	rc2 = token_verify(huge, SECRET, strlen(SECRET), NULL, NOW, &out);

	/* At the limit it gets as far as the signature. */
	huge[TOKEN_MAX_LEN] = '\0';
	rc3 = token_verify(huge, SECRET, strlen(SECRET), NULL, NOW, &out);
	free(huge);

	TEST_ASSERT_RC(rc1, TOKEN_MALFORMED);
	TEST_ASSERT_RC(rc2, TOKEN_MALFORMED);
	TEST_ASSERT_RC(rc3, TOKEN_MALFORMED);
	return (0);
}

/* Well-formed, validly signed, but over TOKEN_MAX_LEN: refused. */
static int
test_too_long(void)
{
	struct token_claims	out;
	char			*pl, *tok;
	size_t			padlen, toklen;
	int			rc;

	if ((pl = malloc(TOKEN_MAX_LEN)) == NULL ||
	    (tok = malloc(TOKEN_MAX_LEN * 2)) == NULL)
		abort();

	/* Find the largest padding that still fits, then one more. */
	for (padlen = 5000; ; padlen++) {
		snprintf(pl, TOKEN_MAX_LEN, "{\"id\":\"u\",\"exp\":1800000000,"
		    "\"pad\":\"%0*d\"}", (int)padlen, 0);
		hand_token(HS256_HDR, pl, SECRET, tok, TOKEN_MAX_LEN * 2);
		toklen = strlen(tok);
		if (toklen > TOKEN_MAX_LEN)
			break;
		rc = token_verify(tok, SECRET, strlen(SECRET), NULL, NOW,
		    &out);
		if (rc != TOKEN_OK)
			break;
	}
	free(pl);
	if (toklen > TOKEN_MAX_LEN)
		rc = token_verify(tok, SECRET, strlen(SECRET), NULL, NOW, &out);
	free(tok);

	TEST_ASSERT(toklen == TOKEN_MAX_LEN + 1 ||
	    toklen == TOKEN_MAX_LEN + 2 || toklen == TOKEN_MAX_LEN + 3);
	TEST_ASSERT_RC(rc, TOKEN_MALFORMED);
	return (0);
}

static int
test_bad_args(void)
{
	struct token_claims	out;

	TEST_ASSERT_RC(token_verify(NULL, SECRET, strlen(SECRET), NULL, NOW,
	    &out), TOKEN_ERROR);
	TEST_ASSERT_RC(token_verify(NODE_TOKEN_PLAIN, NULL, 3, NULL, NOW,
	    &out), TOKEN_ERROR);
	TEST_ASSERT_RC(token_verify(NODE_TOKEN_PLAIN, "", 0, NULL, NOW, &out),
	    TOKEN_ERROR);
	TEST_ASSERT_RC(token_verify(NODE_TOKEN_PLAIN, NODE_SECRET,
	    strlen(NODE_SECRET), NULL, NOW, NULL), TOKEN_ERROR);
	return (0);
}

static int
test_node_tokens(void)
{
	struct token_claims	out;

	TEST_ASSERT_RC(token_verify(NODE_TOKEN_ISS, NODE_SECRET,
	    strlen(NODE_SECRET), "terreno.example", NOW, &out), TOKEN_OK);
	TEST_ASSERT(strcmp(out.user_id, USER) == 0);
	TEST_ASSERT(strcmp(out.sid, SID) == 0);
	TEST_ASSERT(out.iat == 1700000000 && out.exp == 4102444800);
	TEST_ASSERT_RC(token_verify(NODE_TOKEN_ISS, NODE_SECRET,
	    strlen(NODE_SECRET), NULL, NOW, &out), TOKEN_OK);
	TEST_ASSERT_RC(token_verify(NODE_TOKEN_ISS, NODE_SECRET,
	    strlen(NODE_SECRET), ISSUER, NOW, &out), TOKEN_BAD_ISSUER);
	TEST_ASSERT_RC(token_verify(NODE_TOKEN_ISS, SECRET, strlen(SECRET),
	    "terreno.example", NOW, &out), TOKEN_BAD_SIGNATURE);

	TEST_ASSERT_RC(token_verify(NODE_TOKEN_PLAIN, NODE_SECRET,
	    strlen(NODE_SECRET), NULL, NOW, &out), TOKEN_OK);
	TEST_ASSERT(strcmp(out.user_id, USER) == 0 && out.sid[0] == '\0');
	TEST_ASSERT_RC(token_verify(NODE_TOKEN_PLAIN, NODE_SECRET,
	    strlen(NODE_SECRET), NULL, 4102444800, &out), TOKEN_EXPIRED);
	return (0);
}

static int
test_bearer_ok(void)
{
	char		out[TOKEN_MAX_LEN + 1], small[8];
	char		*huge;
	int		rc;

	TEST_ASSERT_RC(token_bearer_extract("Bearer a.b.c", 0, out,
	    sizeof(out)), TOKEN_OK);
	TEST_ASSERT(strcmp(out, "a.b.c") == 0);
	TEST_ASSERT_RC(token_bearer_extract("bearer a.b.c", 0, out,
	    sizeof(out)), TOKEN_OK);
	TEST_ASSERT_RC(token_bearer_extract("BEARER a.b.c", 0, out,
	    sizeof(out)), TOKEN_OK);
	TEST_ASSERT_RC(token_bearer_extract("  Bearer \t a-_.b.c9 \t", 0, out,
	    sizeof(out)), TOKEN_OK);
	TEST_ASSERT(strcmp(out, "a-_.b.c9") == 0);

	/* Socket.IO auth: the prefix is optional. */
	TEST_ASSERT_RC(token_bearer_extract(NODE_TOKEN_ISS, 1, out,
	    sizeof(out)), TOKEN_OK);
	TEST_ASSERT(strcmp(out, NODE_TOKEN_ISS) == 0);
	TEST_ASSERT_RC(token_bearer_extract("Bearer a.b.c", 1, out,
	    sizeof(out)), TOKEN_OK);
	TEST_ASSERT(strcmp(out, "a.b.c") == 0);

	TEST_ASSERT_RC(token_bearer_extract("Bearer a.b.cd", 0, small,
	    sizeof(small)), TOKEN_OK);
	TEST_ASSERT(strcmp(small, "a.b.cd") == 0);

	/* Exactly TOKEN_MAX_LEN characters. */
	if ((huge = malloc(TOKEN_MAX_LEN + 8)) == NULL)
		abort();
	memcpy(huge, "Bearer ", 7);
	memset(huge + 7, 'a', TOKEN_MAX_LEN);
	huge[TOKEN_MAX_LEN + 7] = '\0';
	rc = token_bearer_extract(huge, 0, out, sizeof(out));
	free(huge);
	TEST_ASSERT_RC(rc, TOKEN_OK);
	TEST_ASSERT(strlen(out) == TOKEN_MAX_LEN);
	return (0);
}

static int
test_bearer_none(void)
{
	char		out[64];
	const char	*none[] = {
		"", "  \t ", "Bearer", "bearer", "Bearer   ", "Bearer null",
		"Bearer undefined", "BEARER null", " Bearer  null ",
		"Secret abc", "secret abc", "null", "undefined", NULL
	};
	size_t		i;

	for (i = 0; none[i] != NULL; i++) {
		TEST_ASSERT_RC(token_bearer_extract(none[i], 1, out,
		    sizeof(out)), TOKEN_NONE);
		TEST_ASSERT(out[0] == '\0');
		TEST_ASSERT_RC(token_bearer_extract(none[i], 0, out,
		    sizeof(out)), TOKEN_NONE);
	}
	TEST_ASSERT_RC(token_bearer_extract(NULL, 0, out, sizeof(out)),
	    TOKEN_NONE);
	return (0);
}

static int
test_bearer_malformed(void)
{
	char		out[TOKEN_MAX_LEN + 1], small[8];
	char		*huge;
	const char	*bad[] = {
		"Basic dXNlcjpwYXNz", "Bearer a b", "Bearer a.b.c\"",
		"Bearer a.b+/.c=", "Bearer a.b.c\r\n", "Bearer a,b",
		"Bearer Bearer a.b.c", "Token a.b.c", "Bearer nulls x",
		NULL
	};
	size_t		i;
	int		rc;

	for (i = 0; bad[i] != NULL; i++) {
		TEST_ASSERT_RC(token_bearer_extract(bad[i], 1, out,
		    sizeof(out)), TOKEN_MALFORMED);
		TEST_ASSERT(out[0] == '\0');
	}

	/* Without bare_ok (HTTP), the scheme is required. */
	TEST_ASSERT_RC(token_bearer_extract("a.b.c", 0, out, sizeof(out)),
	    TOKEN_MALFORMED);
	TEST_ASSERT_RC(token_bearer_extract("Bearera.b.c", 0, out,
	    sizeof(out)), TOKEN_MALFORMED);

	TEST_ASSERT_RC(token_bearer_extract("Bearer a.b.cdef", 0, small,
	    sizeof(small)), TOKEN_MALFORMED);
	TEST_ASSERT_RC(token_bearer_extract("Bearer a.b.c", 0, NULL, 0),
	    TOKEN_ERROR);
	TEST_ASSERT_RC(token_bearer_extract("Bearer a.b.c", 0, out, 0),
	    TOKEN_ERROR);

	if ((huge = malloc(TOKEN_MAX_LEN + 16)) == NULL)
		abort();
	memcpy(huge, "Bearer ", 7);
	memset(huge + 7, 'a', TOKEN_MAX_LEN + 1);
	huge[TOKEN_MAX_LEN + 8] = '\0';
	rc = token_bearer_extract(huge, 0, out, sizeof(out));
	free(huge);
	TEST_ASSERT_RC(rc, TOKEN_MALFORMED);
	return (0);
}

static int
test_result_str(void)
{
	int		i, j;

	TEST_ASSERT(TOKEN_OK == 0);
	for (i = TOKEN_OK; i <= TOKEN_ERROR; i++) {
		TEST_ASSERT(strcmp(token_result_str(i), "unknown result") != 0);
		for (j = i + 1; j <= TOKEN_ERROR; j++) {
			TEST_ASSERT(strcmp(token_result_str(i),
			    token_result_str(j)) != 0);
		}
	}
	TEST_ASSERT(strcmp(token_result_str(-1), "unknown result") == 0);
	return (0);
}

static void *
thread_main(void *arg)
{
	struct token_claims	in, out;
	char			tok[TOKEN_MAX_LEN + 1];
	int			i, *bad;

	bad = arg;
	claims_init(&in);
	for (i = 0; i < 200; i++) {
		in.iat = NOW + i;
		in.exp = NOW + i + 60;
		if (!token_sid_new(in.sid) ||
		    !token_mint(&in, ISSUER, SECRET, strlen(SECRET), tok,
		    sizeof(tok)) ||
		    token_verify(tok, SECRET, strlen(SECRET), ISSUER, NOW + i,
		    &out) != TOKEN_OK || strcmp(out.sid, in.sid) != 0)
			(*bad)++;
	}

	return (NULL);
}

/* Concurrent minting and verification, as task threads will do. */
static int
test_threads(void)
{
	pthread_t	t[4];
	int		bad[4], started, i, fail;

	fail = 0;
	for (started = 0; started < 4; started++) {
		bad[started] = 0;
		if (pthread_create(&t[started], NULL, thread_main,
		    &bad[started]) != 0) {
			fail = 1;
			break;
		}
	}
	for (i = 0; i < started; i++) {
		if (pthread_join(t[i], NULL) != 0 || bad[i] != 0)
			fail = 1;
	}
	TEST_ASSERT(fail == 0);
	return (0);
}

int
main(void)
{
	TEST_RUN(test_duration_valid);
	TEST_RUN(test_duration_invalid);
	TEST_RUN(test_sid_new);
	TEST_RUN(test_mint_access);
	TEST_RUN(test_mint_refresh);
	TEST_RUN(test_mint_secret_length);
	TEST_RUN(test_mint_refuses);
	TEST_RUN(test_tamper_payload);
	TEST_RUN(test_tamper_signature);
	TEST_RUN(test_alg_none);
	TEST_RUN(test_alg_other);
	TEST_RUN(test_header_garbled);
	TEST_RUN(test_exp);
	TEST_RUN(test_iat_nbf);
	TEST_RUN(test_issuer);
	TEST_RUN(test_subject_terreno);
	TEST_RUN(test_subject_rules);
	TEST_RUN(test_sid_claim);
	TEST_RUN(test_malformed_shape);
	TEST_RUN(test_malformed_base64);
	TEST_RUN(test_huge);
	TEST_RUN(test_too_long);
	TEST_RUN(test_bad_args);
	TEST_RUN(test_node_tokens);
	TEST_RUN(test_bearer_ok);
	TEST_RUN(test_bearer_none);
	TEST_RUN(test_bearer_malformed);
	TEST_RUN(test_result_str);
	TEST_RUN(test_threads);

	return (TEST_REPORT("test_token"));
}
