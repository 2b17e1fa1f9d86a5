/*
 * The Admin UI's credentials and session ids: see admin_cred.h.
 *
 * State: two random keys and the configured username and password in
 * the forms the checks need, set once by admin_cred_init() in the parent
 * and only read after, by worker threads and pool threads alike.
 */

#include <sys/random.h>

#include <crypt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/admin_cred.h"

#define CRED_KEY_BYTES		32
#define CRED_MAC_BYTES		32
#define CRED_BCRYPT_LEN		60

static int	cred_mac(const unsigned char *, const void *, size_t,
		    unsigned char [CRED_MAC_BYTES]);
static int	cred_equal(const unsigned char [CRED_MAC_BYTES],
		    const void *, size_t);
static int	cred_bcrypt_ok(const char *, size_t);
static void	cred_hex(const unsigned char *, size_t, char *);

static unsigned char	cred_key[CRED_KEY_BYTES];	/* comparisons */
static unsigned char	cred_session_key[CRED_KEY_BYTES];
static unsigned char	cred_user[CRED_MAC_BYTES];	/* MAC of it */
static unsigned char	cred_pass[CRED_MAC_BYTES];	/* plain: MAC */
static char		cred_hash[CRED_BCRYPT_LEN + 1];	/* bcrypt */
static int		cred_is_bcrypt;

int
admin_cred_init(const char *user, char *pass)
{
	size_t		len;

	cred_is_bcrypt = 0;
	if (getrandom(cred_key, sizeof(cred_key), 0) != sizeof(cred_key) ||
	    getrandom(cred_session_key, sizeof(cred_session_key), 0) !=
	    sizeof(cred_session_key))
		return (0);

	len = strlen(pass);
	if (strlen(user) == 0 || strlen(user) > ADMIN_CRED_MAX ||
	    len > ADMIN_CRED_MAX)
		return (0);
	if (!cred_mac(cred_key, user, strlen(user), cred_user))
		return (0);

	if (admin_cred_is_bcrypt_hash(pass)) {
		memcpy(cred_hash, pass, CRED_BCRYPT_LEN + 1);
		cred_is_bcrypt = 1;
		return (1);
	}

	if (len < ADMIN_PASSWORD_MIN || !cred_mac(cred_key, pass, len,
	    cred_pass))
		return (0);
	explicit_bzero(pass, len);

	return (1);
}

/* "$2a$", "$2b$" or "$2y$", a cost of 04 to 31, "$", 53 of [./A-Za-z0-9]. */
int
admin_cred_is_bcrypt_hash(const char *s)
{
	size_t		i;
	int		cost;

	if (strlen(s) != CRED_BCRYPT_LEN || s[0] != '$' || s[1] != '2' ||
	    (s[2] != 'a' && s[2] != 'b' && s[2] != 'y') || s[3] != '$' ||
	    s[4] < '0' || s[4] > '3' || s[5] < '0' || s[5] > '9' ||
	    s[6] != '$')
		return (0);

	cost = (s[4] - '0') * 10 + (s[5] - '0');
	if (cost < 4 || cost > 31)
		return (0);

	for (i = 7; i < CRED_BCRYPT_LEN; i++) {
		if (s[i] != '.' && s[i] != '/' &&
		    !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= '0' && s[i] <= '9'))
			return (0);
	}

	return (1);
}

int
admin_cred_bcrypt(void)
{
	return (cred_is_bcrypt);
}

/*
 * Both parts are always checked, so that the time taken does not tell
 * whether the username was right.
 */
int
admin_cred_check(const char *user, size_t ulen, const char *pass,
    size_t plen)
{
	int		ok_user, ok_pass;

	if (ulen > ADMIN_CRED_MAX || plen > ADMIN_CRED_MAX)
		return (0);
	if (memchr(user, '\0', ulen) != NULL ||
	    memchr(pass, '\0', plen) != NULL)
		return (0);

	ok_user = cred_equal(cred_user, user, ulen);
	if (cred_is_bcrypt)
		ok_pass = cred_bcrypt_ok(pass, plen);
	else
		ok_pass = cred_equal(cred_pass, pass, plen);

	return (ok_user & ok_pass);
}

void
admin_cred_session_new(char out[ADMIN_SESSION_LEN + 1], int64_t now)
{
	unsigned char	mac[CRED_MAC_BYTES];

	(void)snprintf(out, 17, "%016" PRIx64,
	    (uint64_t)(now + ADMIN_SESSION_SECONDS));
	if (!cred_mac(cred_session_key, out, 16, mac)) {
		/* No id then: one that never checks. */
		memset(out, 0, ADMIN_SESSION_LEN + 1);
		return;
	}
	out[16] = '.';
	cred_hex(mac, sizeof(mac), out + 17);
	out[ADMIN_SESSION_LEN] = '\0';
	explicit_bzero(mac, sizeof(mac));
}

int
admin_cred_session_ok(const char *id, size_t len, int64_t now)
{
	unsigned char	mac[CRED_MAC_BYTES];
	char		hex[CRED_MAC_BYTES * 2 + 1], *end;
	char		exp[17];
	uint64_t	until;
	int		ok;

	if (len != ADMIN_SESSION_LEN || id[16] != '.')
		return (0);

	memcpy(exp, id, 16);
	exp[16] = '\0';
	until = strtoull(exp, &end, 16);
	if (*end != '\0' || exp[0] == '-' || exp[0] == '+')
		return (0);

	if (!cred_mac(cred_session_key, id, 16, mac))
		return (0);
	cred_hex(mac, sizeof(mac), hex);
	ok = CRYPTO_memcmp(hex, id + 17, sizeof(hex) - 1) == 0;
	explicit_bzero(mac, sizeof(mac));
	explicit_bzero(hex, sizeof(hex));

	return (ok && now >= 0 && until > (uint64_t)now);
}

static int
cred_mac(const unsigned char *key, const void *data, size_t len,
    unsigned char out[CRED_MAC_BYTES])
{
	unsigned int	olen;

	olen = CRED_MAC_BYTES;
	if (HMAC(EVP_sha256(), key, CRED_KEY_BYTES, data, len, out,
	    &olen) == NULL || olen != CRED_MAC_BYTES)
		return (0);

	return (1);
}

/* Whether data's MAC is want, in constant time. */
static int
cred_equal(const unsigned char want[CRED_MAC_BYTES], const void *data,
    size_t len)
{
	unsigned char	mac[CRED_MAC_BYTES];
	int		ok;

	if (!cred_mac(cred_key, data, len, mac))
		return (0);
	ok = CRYPTO_memcmp(mac, want, CRED_MAC_BYTES) == 0;
	explicit_bzero(mac, sizeof(mac));

	return (ok);
}

static int
cred_bcrypt_ok(const char *pass, size_t len)
{
	struct crypt_data	*cd;
	const char		*out;
	char			*copy;
	int			ok;

	copy = malloc(len + 1);
	cd = calloc(1, sizeof(*cd));
	if (copy == NULL || cd == NULL) {
		free(copy);
		free(cd);
		return (0);
	}
	memcpy(copy, pass, len);
	copy[len] = '\0';

	out = crypt_r(copy, cred_hash, cd);
	ok = out != NULL && strlen(out) == CRED_BCRYPT_LEN &&
	    CRYPTO_memcmp(out, cred_hash, CRED_BCRYPT_LEN) == 0;

	explicit_bzero(copy, len);
	explicit_bzero(cd, sizeof(*cd));
	free(copy);
	free(cd);

	return (ok);
}

static void
cred_hex(const unsigned char *in, size_t len, char *out)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < len; i++) {
		out[i * 2] = digits[in[i] >> 4];
		out[i * 2 + 1] = digits[in[i] & 0xf];
	}
	out[len * 2] = '\0';
}
