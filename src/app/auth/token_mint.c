/*
 * Making tokens, as Terreno (jsonwebtoken) mints them: the lifetimes
 * (TOKEN_EXPIRES_IN style durations), the session ids, and the tokens.
 *
 * Minting goes through libjwt: an HS256 token whose header is
 * {"alg":"HS256","typ":"JWT"} and whose payload holds id, sub, sid, iat,
 * exp and, for access tokens, iss. Checking a token does not (see
 * token_verify.c).
 *
 * Secrets are never logged; libjwt's output and the random bytes of a
 * session id are wiped with explicit_bzero(). Nothing here keeps state.
 */

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jwt.h>
#include <openssl/rand.h>

#include "auth/token.h"
#include "auth/token_int.h"

/* libjwt 1.10.2 takes integer claims as long. */
_Static_assert(sizeof(long) >= sizeof(int64_t), "long must hold int64_t");

struct token_unit {
	const char	*name;
	int64_t		seconds;
};

static int	token_is_digit(int);
static const struct token_unit	*token_unit_lookup(const char *);
static int	token_mint_check(const struct token_claims *, const char *,
		    size_t);

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

static int
token_is_digit(int c)
{
	return (c >= '0' && c <= '9');
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
