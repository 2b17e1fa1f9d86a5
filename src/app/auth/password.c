/*
 * Password hashing compatible with passport-local-mongoose 9 (the
 * strategy Terreno uses): pbkdf2(password, salt, 25000, 512, "sha256")
 * where the salt handed to PBKDF2 is the hex TEXT of 32 random bytes,
 * not the bytes themselves, and both salt and hash are stored as hex.
 *
 * Passwords are bounded (PASSWORD_MAX_LEN bytes, no NUL) so a request
 * cannot buy unbounded PBKDF2 work; stored values are validated before
 * use so a damaged user record fails closed. Derived keys and random
 * bytes are wiped with explicit_bzero() before returning. No global
 * state: safe to call from several threads at once.
 */

#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth/password.h"

static int	password_acceptable(const char *, size_t);
static int	password_salt_valid(const char *, size_t *);
static int	password_derive(const char *, size_t, const char *, size_t,
		    unsigned char [PASSWORD_KEY_BYTES]);
static void	password_hex_encode(const unsigned char *, size_t, char *);
static int	password_hex_decode(const char *, size_t, unsigned char *);
static int	password_hex_value(int);

int
password_hash(const char *password, size_t len,
    char salt_hex[PASSWORD_SALT_HEX_LEN + 1],
    char hash_hex[PASSWORD_HASH_HEX_LEN + 1])
{
	unsigned char	salt[PASSWORD_SALT_BYTES];
	unsigned char	key[PASSWORD_KEY_BYTES];
	int		ret;

	ret = 0;
	salt_hex[0] = '\0';
	hash_hex[0] = '\0';

	if (!password_acceptable(password, len))
		return (0);

	if (RAND_bytes(salt, sizeof(salt)) != 1)
		goto cleanup;

	password_hex_encode(salt, sizeof(salt), salt_hex);

	if (!password_derive(password, len, salt_hex, PASSWORD_SALT_HEX_LEN,
	    key))
		goto cleanup;

	password_hex_encode(key, sizeof(key), hash_hex);
	ret = 1;

cleanup:
	explicit_bzero(salt, sizeof(salt));
	explicit_bzero(key, sizeof(key));

	if (!ret) {
		salt_hex[0] = '\0';
		hash_hex[0] = '\0';
	}

	return (ret);
}

int
password_verify(const char *password, size_t len, const char *salt_hex,
    const char *hash_hex)
{
	unsigned char	stored[PASSWORD_KEY_BYTES];
	unsigned char	key[PASSWORD_KEY_BYTES];
	size_t		saltlen;
	int		ret;

	ret = 0;

	if (!password_acceptable(password, len) || hash_hex == NULL ||
	    !password_salt_valid(salt_hex, &saltlen))
		return (0);

	if (strnlen(hash_hex, PASSWORD_HASH_HEX_LEN + 1) !=
	    PASSWORD_HASH_HEX_LEN ||
	    !password_hex_decode(hash_hex, PASSWORD_HASH_HEX_LEN, stored))
		goto cleanup;

	if (!password_derive(password, len, salt_hex, saltlen, key))
		goto cleanup;

	ret = (CRYPTO_memcmp(key, stored, sizeof(key)) == 0);

cleanup:
	explicit_bzero(stored, sizeof(stored));
	explicit_bzero(key, sizeof(key));

	return (ret);
}

/* Non-empty, at most PASSWORD_MAX_LEN bytes, no NUL inside. */
static int
password_acceptable(const char *password, size_t len)
{
	if (password == NULL || len == 0 || len > PASSWORD_MAX_LEN)
		return (0);

	return (memchr(password, '\0', len) == NULL);
}

/*
 * The salt is used as text, so any printable ASCII would do for PBKDF2;
 * passport-local-mongoose writes 64 lowercase hex digits.
 */
static int
password_salt_valid(const char *salt, size_t *len)
{
	size_t		i;

	if (salt == NULL)
		return (0);

	*len = strnlen(salt, PASSWORD_SALT_MAX_LEN + 1);
	if (*len == 0 || *len > PASSWORD_SALT_MAX_LEN)
		return (0);

	for (i = 0; i < *len; i++) {
		if (salt[i] < 0x21 || salt[i] > 0x7e)
			return (0);
	}

	return (1);
}

static int
password_derive(const char *password, size_t len, const char *salt,
    size_t saltlen, unsigned char key[PASSWORD_KEY_BYTES])
{
	return (PKCS5_PBKDF2_HMAC(password, (int)len,
	    (const unsigned char *)salt, (int)saltlen, PASSWORD_ITERATIONS,
	    EVP_sha256(), PASSWORD_KEY_BYTES, key) == 1);
}

static void
password_hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < len; i++) {
		out[i * 2] = hex[in[i] >> 4];
		out[i * 2 + 1] = hex[in[i] & 0x0f];
	}
	out[len * 2] = '\0';
}

/* Decode exactly len hex digits (len even) into len / 2 bytes. */
static int
password_hex_decode(const char *in, size_t len, unsigned char *out)
{
	size_t		i;
	int		hi, lo;

	for (i = 0; i < len; i += 2) {
		hi = password_hex_value((unsigned char)in[i]);
		lo = password_hex_value((unsigned char)in[i + 1]);
		if (hi == -1 || lo == -1)
			return (0);
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}

	return (1);
}

static int
password_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}
