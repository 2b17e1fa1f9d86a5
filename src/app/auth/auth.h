/*
 * auth/auth.h: the one access-token check of the REST routes, /healthz
 * and the Socket.IO handshake, on top of the pure token code (token.h)
 * and the secrets in the runtime settings.
 */

#ifndef KORIO_AUTH_H
#define KORIO_AUTH_H

#include "auth/token.h"

/* auth.c */
int	auth_access(const char *, int, struct token_claims *);

#endif /* !KORIO_AUTH_H */
