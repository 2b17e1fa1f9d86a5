/*
 * korio: password hashes as passport-local-mongoose stores them
 * (password.c), so users created by a Terreno server can log in here.
 *
 * salt = 32 random bytes as lowercase hex text (64 characters).
 * hash = lowercase hex of PBKDF2-HMAC-SHA256(password, the salt hex TEXT,
 *        25000 iterations, 512-byte key) (1024 characters).
 *
 * Pure module (libcrypto only). Reentrant: no global state, so task
 * threads and worker threads may call it at once. Each call costs
 * 25000 * 16 HMAC-SHA256 blocks, about 110 ms of CPU here (Node: 100 ms):
 * call it from a pool thread, never from a worker's event loop.
 */

#ifndef KORIO_PASSWORD_H
#define KORIO_PASSWORD_H

#include <stddef.h>

#define PASSWORD_SALT_BYTES	32
#define PASSWORD_SALT_HEX_LEN	(PASSWORD_SALT_BYTES * 2)
#define PASSWORD_KEY_BYTES	512
#define PASSWORD_HASH_HEX_LEN	(PASSWORD_KEY_BYTES * 2)
#define PASSWORD_ITERATIONS	25000

/* Longest password accepted, in bytes: bounds the work per request. */
#define PASSWORD_MAX_LEN	1024

/* Longest stored salt password_verify() accepts, in characters. */
#define PASSWORD_SALT_MAX_LEN	256

/*
 * password_hash(password, len, salt_hex, hash_hex): a fresh salt and the
 *   hash of the len bytes of password (UTF-8, as JSON delivered them).
 *   Returns 1, or 0 (outputs set to "") when len is 0 or above
 *   PASSWORD_MAX_LEN, the password holds a NUL byte, or the RNG or
 *   PBKDF2 failed.
 *
 * password_verify(password, len, salt_hex, hash_hex): 1 when the password
 *   matches the stored salt and hash, else 0. 0 as well for a password
 *   password_hash() would refuse, a stored salt that is empty, longer
 *   than PASSWORD_SALT_MAX_LEN or not printable ASCII, and a stored hash
 *   that is not exactly 1024 hex digits (either case, as Node's
 *   Buffer.from(hash, "hex") would read it). The comparison is constant
 *   time (CRYPTO_memcmp).
 *
 * The length is explicit so that a password with an embedded NUL (JSON
 * "\u0000") is refused rather than silently truncated: pass the length
 * jansson reports (json_string_length()), not strlen().
 */

/* password.c */
int	password_hash(const char *, size_t,
	    char [PASSWORD_SALT_HEX_LEN + 1], char [PASSWORD_HASH_HEX_LEN + 1]);
int	password_verify(const char *, size_t, const char *, const char *);

#endif
