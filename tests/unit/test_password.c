/*
 * test_password.c: unit tests for src/app/password.c. Known answers were
 * computed independently with Node's
 *   crypto.pbkdf2Sync(password, KAT_SALT, 25000, 512, "sha256")
 *       .toString("hex")
 * (what passport-local-mongoose stores: the salt's hex TEXT is the
 * PBKDF2 salt). Also round trips, and refusal of malformed stored values
 * and of passwords outside the accepted bounds.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/password.h"
#include "test_help.h"

#define KAT_SALT							\
	"5f1c0a9e3b7d2468ace013579bdf02468ace13579bdf0123456789abcdef0011"
/* "p\u00e4ssw\u00f6rd \U0001F600" in UTF-8. */
#define KAT_UTF8	"p\xc3\xa4ssw\xc3\xb6rd \xf0\x9f\x98\x80"
#define KAT_HASH_SECRET							\
	"20b89d2c9c0fdeed929dcc8b3f17173952c69bf4882e9924427d611e"	\
	"7dd28b0dcb6c26cf35bdcb5dd016fbbacf7c7adaf49f5cf2f86b014e"	\
	"9b5b2e150cf591a2f1710506d977b815e63912f85a45b99756a26aca"	\
	"16d4995f76a8cb60b7516c5dec02a612401c14f19287073656f0527c"	\
	"68509a5ceaccbac6d00a80d851354f8eca1cc9795e86561196fc99bd"	\
	"0b890c18dfe5f2a9555f84b219ef027e2d01252829ae179d9d7b33f0"	\
	"4b42c069917f1c8319828cd9813ddfb72bc765c81c1c751668342120"	\
	"bd9551c962cc82ad348d0c23082d483e0ce8b7f459b8fc4b5279e6f0"	\
	"20410c20999b4e48857133283be76a49662bc00105865a5208bf0480"	\
	"68180b57eca5a167782fa745f1c6e9ef5059b2f65e6fe01567b52cda"	\
	"8d9832e299a9d9bd498e14d7ccb64c035e6e0911cab70eb922241662"	\
	"bd0b944f9a3e87334b18c5982f4c0e10bb7335528a151fce643d5aff"	\
	"e5a8cf5411ed616a43473a1e527327296771197134e2d1ee5968694b"	\
	"c2f3f9cb315a87f805965ec87920ae82ff339e5a2864066feedc4f08"	\
	"d46320bfcba6a26f37421fdd26783fe3d2366cd869c587e13b6c446d"	\
	"83eefffdd50603e2e3165c58542f4941f5e1b10855643f6a164c3b1f"	\
	"87729840b72cf59c980d0b5948e4f58573f7fefc2c18d094ec230c22"	\
	"a0c6ae8e61a2b7269529c5ee0c43cc206fb9d465772468b219007a82"	\
	"90073e6baa00fd74"
#define KAT_HASH_UTF8							\
	"5ca295e1d6d9decc419bd206dc12a89fae774747a55a58998884ac9e"	\
	"54686f30f196a3fa97ac2c3c9d1666b25c7ba2f9c1e7f14ccc8ad949"	\
	"112062115a2ac0325ac0fa6ac76ef690a4f5ed6dacb617bf0551632b"	\
	"0a6e53184307ea7fcfc4dd676559af5a09f3ca496b510b09066879e0"	\
	"e8a483de2b768d3593f0fbbcd59f9e5a577d58748210c7cdf6b90350"	\
	"a37648017abb0dcd6a46ddfd7b8c0e6fca36c29c779dfd38172e8e1e"	\
	"99b634dc680881ade360e998f6ce385ca865e16e0bd6cf7a0bed1a05"	\
	"301033523212b2c68bdcfb3c202ff8e3c1bde0c15c70a81d99d89134"	\
	"9356050b2fb3d3be4a9358b147b8307377fa60343ab3af2d28677c11"	\
	"d0d737a18f19bf46ca96ef806dec45dac9089195ee3d5877ac6749be"	\
	"8ac69564bb5c1f57182f82c3f6b5cfca979bd0cc64bbb2ad4b048dbd"	\
	"0b186e29acc47ed82ee56f4872d4357cdd70d99dc4df22f65801b2dc"	\
	"7fa8fd6092fb4d46da4a79a94bec7391b782161c7c0ead1cbb2308b7"	\
	"eb2b8eb179e1142b5ca7a3267a300ca12dd17e3148016f4315b5db73"	\
	"415be8f7cf966e44d9f3fc3471609371f3ddc8289dd511041941033f"	\
	"85ec8066b021886f16a4d8be561dbf53c955a0e0c2d679663acab77a"	\
	"721b1e99b413bde4813836c89a914871df46098354eb4c714673f6a2"	\
	"08133e3ed71452faca56fabb0f23e308ff41c6ccc3a2d491862fb726"	\
	"143919d7452506f2"

/* The same for "secret" with the salt text "5f1c 0a9e" (not hex). */
#define KAT_HASH_SPACED_SALT						\
	"1e73ff2b7f6b89a1dddd9956594c89a217409e0163f40cd0627c0797"	\
	"cedab6fa0f24d4d8b14ad79364bc7b314f94b374dac914304a84d0e4"	\
	"701caa58f9970fffd4fa8245ac663f52b55571d16cfff5bf847852df"	\
	"f2de419e64bd0e8a2c97f4c77d4b2628b79819f26b8050574aa02c42"	\
	"33a0bfb924bc935bc1cdd8f74cfa7487c0d0240721b3c667e9da7820"	\
	"3aa02fe78c072435f81139b56771ac85aa1af238d66be22ff64d5046"	\
	"f4484329119cd63501f6ba98f1d144b1d5737c5efd6ecd277b47a2b6"	\
	"9102aa13a18e49101fc94fbb625005fb1eab44f8051c450cc8693d73"	\
	"813e2bcc4241e8e9e3be0a11c2e468bf7f5f55aff1e0dfa5471b9158"	\
	"f009693d230f6da149752739f1e5ece277f6e4f58086ced54bee3aa1"	\
	"6c58dc6c4f0b6a0a91a6e2b7ced2ea4231980898777268fc9c67d2d0"	\
	"6f004c9c020165775e3a051446669fd171589bcde8e569aa6aa74f54"	\
	"0209a84014ec3c52bb2048f57ccc3f4f99a27dde88ee6d18d6d4778f"	\
	"cca9d5cfae46417b80506ed48ec797e7d3424dee145bd9f6d8d9252d"	\
	"ffba12c8e17218aa89bd692088c6141b0384c45da4d3023e81bf4bdf"	\
	"32780fbf203ebe028a6e03addaa4feb9d40de8393b52333eff58b712"	\
	"a1c646960a1ef64ff5042078774dca6f878530fa1a2c22dd9bc8a809"	\
	"e659e67c607662c8989c1eda288c164d459c007946cb430c6e326e4f"	\
	"fa36627fde3d96be"

static int	is_lower_hex(const char *, size_t);
static int	test_kat_secret(void);
static int	test_kat_utf8(void);
static int	test_kat_salt_is_text(void);
static int	test_kat_hash_case(void);
static int	test_kat_bit_flips(void);
static int	test_roundtrip(void);
static int	test_fresh_salt(void);
static int	test_max_len(void);
static int	test_bad_salt(void);
static int	test_bad_hash(void);
static int	test_empty_and_null(void);
static int	test_embedded_nul(void);
static int	test_too_long(void);

static int
is_lower_hex(const char *s, size_t len)
{
	size_t		i;

	if (strlen(s) != len)
		return (0);
	for (i = 0; i < len; i++) {
		if (s[i] == '\0' || strchr("0123456789abcdef", s[i]) == NULL)
			return (0);
	}
	return (1);
}

static int
test_kat_secret(void)
{
	TEST_ASSERT(strlen(KAT_HASH_SECRET) == PASSWORD_HASH_HEX_LEN);
	TEST_ASSERT(password_verify("secret", 6, KAT_SALT,
	    KAT_HASH_SECRET) == 1);
	TEST_ASSERT(password_verify("secreT", 6, KAT_SALT,
	    KAT_HASH_SECRET) == 0);
	TEST_ASSERT(password_verify("secret ", 7, KAT_SALT,
	    KAT_HASH_SECRET) == 0);
	TEST_ASSERT(password_verify("secre", 5, KAT_SALT,
	    KAT_HASH_SECRET) == 0);
	/* The length is what counts, not the NUL. */
	TEST_ASSERT(password_verify("secrets", 6, KAT_SALT,
	    KAT_HASH_SECRET) == 1);
	return (0);
}

static int
test_kat_utf8(void)
{
	TEST_ASSERT(password_verify(KAT_UTF8, strlen(KAT_UTF8), KAT_SALT,
	    KAT_HASH_UTF8) == 1);
	TEST_ASSERT(password_verify(KAT_UTF8, strlen(KAT_UTF8), KAT_SALT,
	    KAT_HASH_SECRET) == 0);
	TEST_ASSERT(password_verify(KAT_UTF8, strlen(KAT_UTF8) - 1, KAT_SALT,
	    KAT_HASH_UTF8) == 0);
	return (0);
}

static int
test_kat_salt_is_text(void)
{
	/* Same salt bytes, other text: another hash. */
	TEST_ASSERT(password_verify("secret", 6,
	    "5F1C0A9E3B7D2468ACE013579BDF02468ACE13579BDF0123456789ABCDEF0011",
	    KAT_HASH_SECRET) == 0);
	TEST_ASSERT(password_verify("secret", 6,
	    "5f1c0a9e3b7d2468ace013579bdf02468ace13579bdf0123456789abcdef001",
	    KAT_HASH_SECRET) == 0);
	return (0);
}

static int
test_kat_hash_case(void)
{
	char		upper[PASSWORD_HASH_HEX_LEN + 1];
	size_t		i;

	/* Node reads the stored hash with Buffer.from(hex): any case. */
	for (i = 0; i <= PASSWORD_HASH_HEX_LEN; i++) {
		upper[i] = KAT_HASH_SECRET[i];
		if (upper[i] >= 'a' && upper[i] <= 'f')
			upper[i] -= 'a' - 'A';
	}
	TEST_ASSERT(strcmp(upper, KAT_HASH_SECRET) != 0);
	TEST_ASSERT(password_verify("secret", 6, KAT_SALT, upper) == 1);
	return (0);
}

static int
test_kat_bit_flips(void)
{
	char		hash[PASSWORD_HASH_HEX_LEN + 1];
	size_t		pos[] = {
		0, 1, 511, 512, PASSWORD_HASH_HEX_LEN - 1
	};
	size_t		i;

	for (i = 0; i < sizeof(pos) / sizeof(pos[0]); i++) {
		memcpy(hash, KAT_HASH_SECRET, sizeof(hash));
		hash[pos[i]] = hash[pos[i]] == '0' ? '1' : '0';
		TEST_ASSERT(password_verify("secret", 6, KAT_SALT, hash) == 0);
	}
	return (0);
}

static int
test_roundtrip(void)
{
	char		salt[PASSWORD_SALT_HEX_LEN + 1];
	char		hash[PASSWORD_HASH_HEX_LEN + 1];

	TEST_ASSERT(password_hash("hunter2", 7, salt, hash) == 1);
	TEST_ASSERT(is_lower_hex(salt, PASSWORD_SALT_HEX_LEN));
	TEST_ASSERT(is_lower_hex(hash, PASSWORD_HASH_HEX_LEN));
	TEST_ASSERT(password_verify("hunter2", 7, salt, hash) == 1);
	TEST_ASSERT(password_verify("hunter3", 7, salt, hash) == 0);
	TEST_ASSERT(password_verify("hunter", 6, salt, hash) == 0);

	TEST_ASSERT(password_hash(KAT_UTF8, strlen(KAT_UTF8), salt,
	    hash) == 1);
	TEST_ASSERT(password_verify(KAT_UTF8, strlen(KAT_UTF8), salt,
	    hash) == 1);
	return (0);
}

static int
test_fresh_salt(void)
{
	char		salt1[PASSWORD_SALT_HEX_LEN + 1];
	char		hash1[PASSWORD_HASH_HEX_LEN + 1];
	char		salt2[PASSWORD_SALT_HEX_LEN + 1];
	char		hash2[PASSWORD_HASH_HEX_LEN + 1];

	TEST_ASSERT(password_hash("hunter2", 7, salt1, hash1) == 1);
	TEST_ASSERT(password_hash("hunter2", 7, salt2, hash2) == 1);
	TEST_ASSERT(strcmp(salt1, salt2) != 0);
	TEST_ASSERT(strcmp(hash1, hash2) != 0);
	TEST_ASSERT(password_verify("hunter2", 7, salt2, hash1) == 0);
	TEST_ASSERT(password_verify("hunter2", 7, salt1, hash2) == 0);
	return (0);
}

static int
test_max_len(void)
{
	char		salt[PASSWORD_SALT_HEX_LEN + 1];
	char		hash[PASSWORD_HASH_HEX_LEN + 1];
	char		*pw;
	int		h, v1, v2;

	if ((pw = malloc(PASSWORD_MAX_LEN)) == NULL)
		abort();
	memset(pw, 'x', PASSWORD_MAX_LEN);
	h = password_hash(pw, PASSWORD_MAX_LEN, salt, hash);
	v1 = password_verify(pw, PASSWORD_MAX_LEN, salt, hash);
	v2 = password_verify(pw, PASSWORD_MAX_LEN - 1, salt, hash);
	free(pw);

	TEST_ASSERT(h == 1 && v1 == 1 && v2 == 0);
	return (0);
}

static int
test_bad_salt(void)
{
	char		salt[PASSWORD_SALT_MAX_LEN + 2];
	const char	*bad[] = {
		"", "5f1c 0a9e", "5f1c\n", "\t5f1c", "5f\xc3\xa4", "5f\x7f",
		NULL
	};
	size_t		i;

	for (i = 0; bad[i] != NULL; i++) {
		TEST_ASSERT(password_verify("secret", 6, bad[i],
		    KAT_HASH_SECRET) == 0);
	}
	TEST_ASSERT(password_verify("secret", 6, NULL, KAT_HASH_SECRET) == 0);

	/* Refused even though Node would accept this pair. */
	TEST_ASSERT(password_verify("secret", 6, "5f1c 0a9e",
	    KAT_HASH_SPACED_SALT) == 0);

	memset(salt, 'a', PASSWORD_SALT_MAX_LEN + 1);
	salt[PASSWORD_SALT_MAX_LEN + 1] = '\0';
	TEST_ASSERT(password_verify("secret", 6, salt, KAT_HASH_SECRET) == 0);
	return (0);
}

static int
test_bad_hash(void)
{
	char		hash[PASSWORD_HASH_HEX_LEN + 2];

	TEST_ASSERT(password_verify("secret", 6, KAT_SALT, NULL) == 0);
	TEST_ASSERT(password_verify("secret", 6, KAT_SALT, "") == 0);
	TEST_ASSERT(password_verify("secret", 6, KAT_SALT, "20b89d2c") == 0);

	/* One digit short, one digit long. */
	memcpy(hash, KAT_HASH_SECRET, PASSWORD_HASH_HEX_LEN + 1);
	hash[PASSWORD_HASH_HEX_LEN - 1] = '\0';
	TEST_ASSERT(password_verify("secret", 6, KAT_SALT, hash) == 0);
	memcpy(hash, KAT_HASH_SECRET, PASSWORD_HASH_HEX_LEN + 1);
	hash[PASSWORD_HASH_HEX_LEN] = '0';
	hash[PASSWORD_HASH_HEX_LEN + 1] = '\0';
	TEST_ASSERT(password_verify("secret", 6, KAT_SALT, hash) == 0);

	/* Right length, not hex. */
	memcpy(hash, KAT_HASH_SECRET, PASSWORD_HASH_HEX_LEN + 1);
	hash[10] = 'g';
	TEST_ASSERT(password_verify("secret", 6, KAT_SALT, hash) == 0);
	hash[10] = ' ';
	TEST_ASSERT(password_verify("secret", 6, KAT_SALT, hash) == 0);
	hash[10] = '\xff';
	TEST_ASSERT(password_verify("secret", 6, KAT_SALT, hash) == 0);
	return (0);
}

static int
test_empty_and_null(void)
{
	char		salt[PASSWORD_SALT_HEX_LEN + 1];
	char		hash[PASSWORD_HASH_HEX_LEN + 1];

	memset(salt, 'z', sizeof(salt));
	memset(hash, 'z', sizeof(hash));
	TEST_ASSERT(password_hash("", 0, salt, hash) == 0);
	TEST_ASSERT(salt[0] == '\0' && hash[0] == '\0');
	TEST_ASSERT(password_hash(NULL, 3, salt, hash) == 0);
	TEST_ASSERT(password_verify("", 0, KAT_SALT, KAT_HASH_SECRET) == 0);
	TEST_ASSERT(password_verify(NULL, 6, KAT_SALT, KAT_HASH_SECRET) == 0);
	return (0);
}

static int
test_embedded_nul(void)
{
	char		salt[PASSWORD_SALT_HEX_LEN + 1];
	char		hash[PASSWORD_HASH_HEX_LEN + 1];

	/* Refused, never truncated to the part before the NUL. */
	TEST_ASSERT(password_hash("a\0b", 3, salt, hash) == 0);
	TEST_ASSERT(password_verify("secret\0x", 8, KAT_SALT,
	    KAT_HASH_SECRET) == 0);
	TEST_ASSERT(password_hash("a", 1, salt, hash) == 1);
	TEST_ASSERT(password_verify("a\0b", 3, salt, hash) == 0);
	TEST_ASSERT(password_verify("a", 1, salt, hash) == 1);
	return (0);
}

static int
test_too_long(void)
{
	char		salt[PASSWORD_SALT_HEX_LEN + 1];
	char		hash[PASSWORD_HASH_HEX_LEN + 1];
	char		*pw;
	int		h, v;

	if ((pw = malloc(PASSWORD_MAX_LEN + 1)) == NULL)
		abort();
	memset(pw, 'x', PASSWORD_MAX_LEN + 1);
	h = password_hash(pw, PASSWORD_MAX_LEN + 1, salt, hash);
	v = password_verify(pw, PASSWORD_MAX_LEN + 1, KAT_SALT,
	    KAT_HASH_SECRET);
	free(pw);

	TEST_ASSERT(h == 0 && salt[0] == '\0' && hash[0] == '\0');
	TEST_ASSERT(v == 0);
	return (0);
}

int
main(void)
{
	TEST_RUN(test_kat_secret);
	TEST_RUN(test_kat_utf8);
	TEST_RUN(test_kat_salt_is_text);
	TEST_RUN(test_kat_hash_case);
	TEST_RUN(test_kat_bit_flips);
	TEST_RUN(test_roundtrip);
	TEST_RUN(test_fresh_salt);
	TEST_RUN(test_max_len);
	TEST_RUN(test_bad_salt);
	TEST_RUN(test_bad_hash);
	TEST_RUN(test_empty_and_null);
	TEST_RUN(test_embedded_nul);
	TEST_RUN(test_too_long);

	return (TEST_REPORT("test_password"));
}
