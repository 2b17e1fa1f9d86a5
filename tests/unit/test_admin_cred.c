/*
 * test_admin_cred.c: unit tests for src/app/auth/admin_cred.c, the Admin
 * UI's credentials and session ids. The bcrypt hash is @socket.io/admin-ui
 * README's example (of "changeit"), with the "$2a$" prefix bcryptjs
 * writes and with the "$2b$" one: libcrypt must take both.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/admin_cred.h"
#include "test_help.h"

#define HASH_2A	"$2a$10$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7ZOS"
#define HASH_2B	"$2b$10$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7ZOS"
#define NOW	((int64_t)1700000000)

static int	check(const char *, const char *);
static int	init(const char *, const char *);

static int
check(const char *user, const char *pass)
{
	return (admin_cred_check(user, strlen(user), pass, strlen(pass)));
}

static int
init(const char *user, const char *pass)
{
	char	buf[2048];

	(void)snprintf(buf, sizeof(buf), "%s", pass);
	return (admin_cred_init(user, buf));
}

static int
test_bcrypt_format(void)
{
	TEST_ASSERT(admin_cred_is_bcrypt_hash(HASH_2A));
	TEST_ASSERT(admin_cred_is_bcrypt_hash(HASH_2B));
	TEST_ASSERT(admin_cred_is_bcrypt_hash(
	    "$2y$04$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7ZOS"));
	TEST_ASSERT(!admin_cred_is_bcrypt_hash(
	    "$2x$10$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7ZOS"));
	TEST_ASSERT(!admin_cred_is_bcrypt_hash(
	    "$2b$03$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7ZOS"));
	TEST_ASSERT(!admin_cred_is_bcrypt_hash(
	    "$2b$32$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7ZOS"));
	TEST_ASSERT(!admin_cred_is_bcrypt_hash(
	    "$2b$10$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7ZO"));
	TEST_ASSERT(!admin_cred_is_bcrypt_hash(
	    "$2b$10$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7Z!S"));
	TEST_ASSERT(!admin_cred_is_bcrypt_hash("changeit"));
	TEST_ASSERT(!admin_cred_is_bcrypt_hash(""));
	return (0);
}

static int
test_init_bounds(void)
{
	char	big[1100];

	TEST_ASSERT(!init("", "long enough password"));
	TEST_ASSERT(!init("ops", "7 chars"));
	TEST_ASSERT(init("ops", "8 chars!"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	TEST_ASSERT(!init(big, "long enough password"));
	TEST_ASSERT(!init("ops", big));
	return (0);
}

static int
test_plain(void)
{
	char	pass[] = "correct horse battery";

	TEST_ASSERT(admin_cred_init("ops", pass));
	/* A plain password is kept only as its keyed hash. */
	TEST_ASSERT(pass[0] == '\0' && pass[sizeof(pass) - 2] == '\0');
	TEST_ASSERT(!admin_cred_bcrypt());

	TEST_ASSERT(check("ops", "correct horse battery"));
	TEST_ASSERT(!check("ops", "correct horse batter"));
	TEST_ASSERT(!check("ops", "correct horse battery "));
	TEST_ASSERT(!check("Ops", "correct horse battery"));
	TEST_ASSERT(!check("ops ", "correct horse battery"));
	TEST_ASSERT(!check("", ""));
	/* A NUL within the given length is never a match. */
	TEST_ASSERT(!admin_cred_check("ops", 3, "correct horse battery\0x",
	    23));
	TEST_ASSERT(!admin_cred_check("ops\0", 4, "correct horse battery",
	    21));
	return (0);
}

static int
test_bcrypt(void)
{
	TEST_ASSERT(init("ops", HASH_2A));
	TEST_ASSERT(admin_cred_bcrypt());
	TEST_ASSERT(check("ops", "changeit"));
	TEST_ASSERT(!check("ops", "changeiT"));
	TEST_ASSERT(!check("ops", HASH_2A));
	TEST_ASSERT(!check("root", "changeit"));

	TEST_ASSERT(init("ops", HASH_2B));
	TEST_ASSERT(check("ops", "changeit"));

	/* Back to a plain password: bcrypt is off again. */
	TEST_ASSERT(init("ops", "changeit-but-longer"));
	TEST_ASSERT(!admin_cred_bcrypt());
	TEST_ASSERT(!check("ops", "changeit"));
	return (0);
}

static int
test_sessions(void)
{
	char	id[ADMIN_SESSION_LEN + 1], bad[ADMIN_SESSION_LEN + 1];

	TEST_ASSERT(init("ops", "correct horse battery"));
	admin_cred_session_new(id, NOW);
	TEST_ASSERT(strlen(id) == ADMIN_SESSION_LEN && id[16] == '.');
	TEST_ASSERT(admin_cred_session_ok(id, strlen(id), NOW));
	TEST_ASSERT(admin_cred_session_ok(id, strlen(id),
	    NOW + ADMIN_SESSION_SECONDS - 1));
	TEST_ASSERT(!admin_cred_session_ok(id, strlen(id),
	    NOW + ADMIN_SESSION_SECONDS));
	TEST_ASSERT(!admin_cred_session_ok(id, strlen(id) - 1, NOW));

	/* Any change: the MAC, or a later expiry. */
	memcpy(bad, id, sizeof(bad));
	bad[ADMIN_SESSION_LEN - 1] = bad[ADMIN_SESSION_LEN - 1] == 'a' ?
	    'b' : 'a';
	TEST_ASSERT(!admin_cred_session_ok(bad, strlen(bad), NOW));
	memcpy(bad, id, sizeof(bad));
	bad[0] = 'f';
	TEST_ASSERT(!admin_cred_session_ok(bad, strlen(bad), NOW));
	memcpy(bad, id, sizeof(bad));
	bad[3] = 'x';
	TEST_ASSERT(!admin_cred_session_ok(bad, strlen(bad), NOW));
	memcpy(bad, id, sizeof(bad));
	bad[16] = ':';
	TEST_ASSERT(!admin_cred_session_ok(bad, strlen(bad), NOW));

	/* Another process (another key): not ours. */
	TEST_ASSERT(init("ops", "correct horse battery"));
	TEST_ASSERT(!admin_cred_session_ok(id, strlen(id), NOW));
	return (0);
}

int
main(void)
{
	TEST_RUN(test_bcrypt_format);
	TEST_RUN(test_init_bounds);
	TEST_RUN(test_plain);
	TEST_RUN(test_bcrypt);
	TEST_RUN(test_sessions);
	return (TEST_REPORT("test_admin_cred"));
}
