/*
 * korio: the credentials of the Socket.IO Admin UI (admin_cred.c): the
 * one username and password korio is configured with
 * (ADMIN_UI_USERNAME, ADMIN_UI_PASSWORD) and the session ids handed to a
 * UI that logged in, which it sends back instead of the password when it
 * connects again (as @socket.io/admin-ui's "session" event does).
 *
 * The password setting is either the password itself or, as Node's
 * instrument() takes it, a bcrypt hash ("$2a$", "$2b$" or "$2y$", cost,
 * 53 characters): a hash is checked with crypt_r(3) of libcrypt
 * (libxcrypt), about 2^cost rounds of work, so on a pool thread; a plain
 * password is kept only as a keyed hash and compared in constant time,
 * as the username always is (HMAC-SHA256 under a random key, then
 * CRYPTO_memcmp).
 *
 * A session id is "<expiry, 16 hex digits>.<HMAC-SHA256 of it, 64 hex
 * digits>" under a random key: any worker checks it without shared
 * state, it lasts ADMIN_SESSION_SECONDS and dies with the process (the
 * key is made in the parent before the workers fork and kept nowhere
 * else), as the sessions of admin-ui's InMemoryStore do.
 *
 * admin_cred_init(user, pass): in the parent; 0 when pass is too short
 *   (a plain one under ADMIN_PASSWORD_MIN bytes) or too long. pass is
 *   wiped (explicit_bzero) when it is a plain password.
 * admin_cred_bcrypt(): 1 when the password is a bcrypt hash.
 * admin_cred_check(user, ulen, pass, plen): 1 when both match (a bcrypt
 *   password: the hash is computed here, call it from a pool thread).
 * admin_cred_session_new(out, now): a session id valid until now +
 *   ADMIN_SESSION_SECONDS (epoch seconds).
 * admin_cred_session_ok(id, len, now): 1 for an id of ours that has not
 *   expired.
 *
 * Pure module (libcrypto, libcrypt); reentrant once initialised.
 */

#ifndef KORIO_ADMIN_CRED_H
#define KORIO_ADMIN_CRED_H

#include <stddef.h>
#include <stdint.h>

#define ADMIN_PASSWORD_MIN	8
#define ADMIN_CRED_MAX		1024
#define ADMIN_SESSION_SECONDS	86400
#define ADMIN_SESSION_LEN	(16 + 1 + 64)

/* admin_cred.c */
int	admin_cred_init(const char *, char *);
int	admin_cred_is_bcrypt_hash(const char *);
int	admin_cred_bcrypt(void);
int	admin_cred_check(const char *, size_t, const char *, size_t);
void	admin_cred_session_new(char [ADMIN_SESSION_LEN + 1], int64_t);
int	admin_cred_session_ok(const char *, size_t, int64_t);

#endif
