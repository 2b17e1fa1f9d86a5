/*
 * The one access-token check of korio, shared by the REST routes,
 * /healthz and the Socket.IO handshake: a bearer value (an Authorization
 * header, or the CONNECT payload's token, where "Bearer " is optional)
 * verified against TOKEN_SECRET and, when set, TOKEN_ISSUER. The token is
 * copied only into a local buffer, wiped before returning.
 */

#include <string.h>
#include <time.h>

#include "app.h"
#include "auth/auth.h"

int
auth_access(const char *value, int bare_ok, struct token_claims *cl)
{
	char	buf[TOKEN_MAX_LEN + 1];
	int	r;

	r = token_bearer_extract(value, bare_ok, buf, sizeof(buf));
	if (r == TOKEN_OK) {
		r = token_verify(buf, korio.token_secret,
		    strlen(korio.token_secret), korio.token_issuer,
		    (int64_t)time(NULL), cl);
	}
	explicit_bzero(buf, sizeof(buf));

	return (r);
}
