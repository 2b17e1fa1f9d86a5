/*
 * Finding the token in what a client sends: the value of an
 * Authorization header ("Bearer <jwt>") or a Socket.IO CONNECT auth
 * token, where the "Bearer " prefix is optional. Terreno's clients send
 * "Bearer null" and "Bearer undefined" when signed out, and "Secret ..."
 * for another scheme: those count as no token. Only the bytes a JWT can
 * hold are copied out; token_verify.c checks the rest.
 */

#include <string.h>
#include <strings.h>

#include "auth/token.h"
#include "auth/token_int.h"

static int	token_is_space(int);
static int	token_scheme(const char *, const char *, const char *);

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
		if (p[i] != '.' && !token_b64url_char(p[i]))
			return (TOKEN_MALFORMED);
	}

	memcpy(out, p, len);
	out[len] = '\0';

	return (TOKEN_OK);
}

static int
token_is_space(int c)
{
	return (c == ' ' || c == '\t');
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
