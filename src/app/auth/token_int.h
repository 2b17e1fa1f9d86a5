/*
 * korio: what the token_*.c files share and nobody else needs: the
 * base64url and JSON part decoding of token_b64url.c, used by
 * token_verify.c and token_bearer.c, and the time bound that minting and
 * verifying both apply. The public API is token.h.
 */

#ifndef KORIO_TOKEN_INT_H
#define KORIO_TOKEN_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Times beyond this cannot be JavaScript numbers without rounding. */
#define TOKEN_TIME_MAX		INT64_C(9007199254740991)

/* token_b64url.c */
int		token_b64url_char(int);
int		token_b64url_decode(const char *, size_t, unsigned char **,
		    size_t *);
void		token_b64url_encode(const unsigned char *, size_t, char *);
json_t		*token_b64url_json(const char *, size_t);

#endif /* !KORIO_TOKEN_INT_H */
