/*
 * test_hmap.c: unit tests for src/sio/codec/hmap.c (the chained hash map
 * from byte-string keys to pointers): put, get, delete, replacing a
 * value, keys that share a bucket, growth past many doublings, foreach,
 * binary keys with NUL bytes, the count, and reuse after hmap_free().
 *
 * Values are pointers into an array of slots, so every check compares
 * the exact pointer a key must map to, not just non-NULL.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/hmap.h"
#include "test_help.h"

#define MANY		5000
#define CHAIN		200
#define NONE		(-1)	/* a key that must be absent */

/* A key (klen bytes, NULs allowed) and the slot it maps to, or NONE. */
struct kv {
	const char	*key;
	size_t		 klen;
	int		 slot;
};

/* What one hmap_foreach() saw. */
struct visit {
	int		seen[MANY];	/* times each slot was visited */
	size_t		calls;
	int		stray;		/* a value outside the slots */
};

static int	slots[MANY];

static size_t	key_of(char *, size_t, size_t);
static uint64_t	fnv1a(const char *, size_t);
static void	nkey_put(struct hmap *, size_t, int *);
static int	*nkey_get(const struct hmap *, size_t);
static int	*nkey_del(struct hmap *, size_t);
static void	kv_put(struct hmap *, const struct kv *, size_t);
static int	kv_check(const struct hmap *, const struct kv *, size_t);
static void	visit_cb(void *, void *);
static void	walk(struct hmap *, struct visit *);
static int	test_empty(void);
static int	test_put_get_del(void);
static int	test_replace(void);
static int	test_binary_keys(void);
static int	test_many(void);
static int	test_one_bucket(void);
static int	test_foreach(void);
static int	test_delete_after_foreach(void);
static int	test_reuse(void);

/* The key numbered i: "key-<i>" (without its NUL in the map). */
static size_t
key_of(char *buf, size_t size, size_t i)
{
	return ((size_t)snprintf(buf, size, "key-%zu", i));
}

/* FNV-1a, as the map hashes, to build keys that share a bucket. */
static uint64_t
fnv1a(const char *p, size_t len)
{
	uint64_t	h = 14695981039346656037ULL;

	while (len-- > 0)
		h = (h ^ (uint8_t)*p++) * 1099511628211ULL;
	return (h);
}

static void
nkey_put(struct hmap *m, size_t i, int *value)
{
	char		key[32];

	hmap_put(m, key, key_of(key, sizeof(key), i), value);
}

static int *
nkey_get(const struct hmap *m, size_t i)
{
	char		key[32];

	return (hmap_get(m, key, key_of(key, sizeof(key), i)));
}

static int *
nkey_del(struct hmap *m, size_t i)
{
	char		key[32];

	return (hmap_del(m, key, key_of(key, sizeof(key), i)));
}

static void
kv_put(struct hmap *m, const struct kv *kv, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		hmap_put(m, kv[i].key, kv[i].klen, &slots[kv[i].slot]);
}

/* Does every key of kv map to its slot (or to nothing, for NONE)? */
static int
kv_check(const struct hmap *m, const struct kv *kv, size_t n)
{
	size_t		i;
	void		*want;

	for (i = 0; i < n; i++) {
		want = kv[i].slot == NONE ? NULL : &slots[kv[i].slot];
		if (hmap_get(m, kv[i].key, kv[i].klen) != want) {
			printf("kv_check: entry %zu\n", i);
			return (0);
		}
	}

	return (1);
}

static void
visit_cb(void *value, void *arg)
{
	struct visit	*v = arg;
	int		*p = value;

	v->calls++;
	if (p < slots || p >= slots + MANY) {
		v->stray = 1;
		return;
	}
	v->seen[p - slots]++;
}

static void
walk(struct hmap *m, struct visit *v)
{
	memset(v, 0, sizeof(*v));
	hmap_foreach(m, visit_cb, v);
}

static int
test_empty(void)
{
	static struct visit	v;
	struct hmap		m;

	hmap_init(&m);
	TEST_ASSERT(m.count == 0 && m.nbuckets > 0);
	TEST_ASSERT((m.nbuckets & (m.nbuckets - 1)) == 0);
	TEST_ASSERT(hmap_get(&m, "a", 1) == NULL);
	TEST_ASSERT(hmap_get(&m, "", 0) == NULL);
	TEST_ASSERT(hmap_del(&m, "a", 1) == NULL);
	TEST_ASSERT(m.count == 0);

	walk(&m, &v);
	TEST_ASSERT(v.calls == 0);

	hmap_free(&m);
	TEST_ASSERT(m.buckets == NULL && m.count == 0);
	return (0);
}

static int
test_put_get_del(void)
{
	static const struct kv	put[] = {
		{ "alpha", 5, 0 }, { "beta", 4, 1 }, { "", 0, 2 }
	};
	/* Prefixes, extensions and other cases are other keys. */
	static const struct kv	other[] = {
		{ "alph", 4, NONE }, { "alphab", 6, NONE },
		{ "ALPHA", 5, NONE }, { "zzzzz", 5, NONE }
	};
	static const struct kv	after[] = {
		{ "alpha", 5, 0 }, { "beta", 4, NONE }, { "", 0, 2 },
		{ "gamma", 5, 3 }
	};
	struct hmap		m;
	char			buf[8];

	hmap_init(&m);
	kv_put(&m, put, 3);
	TEST_ASSERT(m.count == 3);
	TEST_ASSERT(kv_check(&m, put, 3));
	TEST_ASSERT(kv_check(&m, other, 4));

	/* Keys are copied: the caller's buffer may change. */
	memcpy(buf, "gamma", 5);
	hmap_put(&m, buf, 5, &slots[3]);
	memcpy(buf, "zzzzz", 5);
	TEST_ASSERT(m.count == 4);

	TEST_ASSERT(hmap_del(&m, "beta", 4) == &slots[1]);
	TEST_ASSERT(hmap_del(&m, "beta", 4) == NULL);
	TEST_ASSERT(m.count == 3);
	TEST_ASSERT(kv_check(&m, after, 4));
	TEST_ASSERT(kv_check(&m, other, 4));

	TEST_ASSERT(hmap_del(&m, "", 0) == &slots[2]);
	TEST_ASSERT(hmap_del(&m, "alpha", 5) == &slots[0]);
	TEST_ASSERT(hmap_del(&m, "gamma", 5) == &slots[3]);
	TEST_ASSERT(m.count == 0);

	/* A deleted key can come back. */
	hmap_put(&m, "beta", 4, &slots[4]);
	TEST_ASSERT(hmap_get(&m, "beta", 4) == &slots[4]);
	TEST_ASSERT(m.count == 1);

	hmap_free(&m);
	return (0);
}

static int
test_replace(void)
{
	struct hmap	m;

	hmap_init(&m);
	hmap_put(&m, "k", 1, &slots[0]);
	hmap_put(&m, "other", 5, &slots[1]);
	hmap_put(&m, "k", 1, &slots[2]);
	TEST_ASSERT(m.count == 2);
	TEST_ASSERT(hmap_get(&m, "k", 1) == &slots[2]);
	TEST_ASSERT(hmap_get(&m, "other", 5) == &slots[1]);

	/* Replacing with the same value changes nothing. */
	hmap_put(&m, "k", 1, &slots[2]);
	TEST_ASSERT(m.count == 2);

	/* NULL is a value like any other (get cannot tell it from none). */
	hmap_put(&m, "k", 1, NULL);
	TEST_ASSERT(m.count == 2);
	TEST_ASSERT(hmap_get(&m, "k", 1) == NULL);
	TEST_ASSERT(hmap_del(&m, "k", 1) == NULL);
	TEST_ASSERT(m.count == 1);

	TEST_ASSERT(hmap_del(&m, "other", 5) == &slots[1]);
	TEST_ASSERT(m.count == 0);

	hmap_free(&m);
	return (0);
}

static int
test_binary_keys(void)
{
	/* As C strings the first two are both "a": here they are 3 bytes. */
	static const struct kv	put[] = {
		{ "a\0b", 3, 1 }, { "a\0c", 3, 2 }, { "\0", 1, 3 },
		{ "\0\0", 2, 4 }, { "\xff\0\x80x", 4, 5 }, { "a", 1, 6 },
		{ "", 0, 7 }
	};
	static const struct kv	other[] = {
		{ "a\0", 2, NONE }, { "a\0b\0", 4, NONE }, { "\0\0\0", 3, NONE }
	};
	static const struct kv	after[] = {
		{ "a\0b", 3, NONE }, { "a\0c", 3, 2 }, { "\0", 1, NONE },
		{ "\0\0", 2, 4 }, { "\xff\0\x80x", 4, 5 }, { "a", 1, 6 },
		{ "", 0, 7 }
	};
	struct hmap		m;

	hmap_init(&m);
	kv_put(&m, put, 7);
	TEST_ASSERT(m.count == 7);
	TEST_ASSERT(kv_check(&m, put, 7));
	TEST_ASSERT(kv_check(&m, other, 3));

	TEST_ASSERT(hmap_del(&m, "a\0b", 3) == &slots[1]);
	TEST_ASSERT(hmap_del(&m, "\0", 1) == &slots[3]);
	TEST_ASSERT(m.count == 5);
	TEST_ASSERT(kv_check(&m, after, 7));

	hmap_free(&m);
	return (0);
}

/* Many keys: the table doubles several times and loses nothing. */
static int
test_many(void)
{
	struct hmap	m;
	size_t		i, nb;

	hmap_init(&m);
	nb = m.nbuckets;
	for (i = 0; i < MANY; i++) {
		nkey_put(&m, i, &slots[i]);
		TEST_ASSERT(m.count == i + 1);
		/* A load of at most 1, a power of two. */
		TEST_ASSERT(m.count <= m.nbuckets);
		TEST_ASSERT((m.nbuckets & (m.nbuckets - 1)) == 0);
	}
	TEST_ASSERT(m.nbuckets >= nb * 64);
	for (i = 0; i < MANY; i++)
		TEST_ASSERT(nkey_get(&m, i) == &slots[i]);

	/* Delete the odd ones; the even ones stay, the odd ones are gone. */
	for (i = 1; i < MANY; i += 2)
		TEST_ASSERT(nkey_del(&m, i) == &slots[i]);
	TEST_ASSERT(m.count == MANY / 2);
	for (i = 0; i < MANY; i++)
		TEST_ASSERT(nkey_get(&m, i) == (i % 2 ? NULL : &slots[i]));

	/* Put the odd ones back with other values. */
	for (i = 1; i < MANY; i += 2)
		nkey_put(&m, i, &slots[i - 1]);
	TEST_ASSERT(m.count == MANY);
	for (i = 0; i < MANY; i++)
		TEST_ASSERT(nkey_get(&m, i) == &slots[i - i % 2]);

	hmap_free(&m);
	return (0);
}

/*
 * CHAIN keys whose hashes agree in their low 12 bits: one bucket (one
 * chain) until the table passes 4096 buckets, through two doublings.
 * The bucket checks test the test's own premise. Deleting from the
 * head, the middle and the tail of the chain must keep the rest.
 */
static int
test_one_bucket(void)
{
	struct hmap	m;
	size_t		idx[CHAIN], i, n, cand, b;
	uint64_t	want;
	char		key[32];
	int		*expect;

	want = fnv1a("key-0", 5) & 0xfff;
	for (n = 0, cand = 0; n < CHAIN; cand++) {
		if ((fnv1a(key, key_of(key, sizeof(key), cand)) & 0xfff) ==
		    want)
			idx[n++] = cand;
	}

	hmap_init(&m);
	for (i = 0; i < CHAIN; i++)
		nkey_put(&m, idx[i], &slots[i]);
	TEST_ASSERT(m.count == CHAIN);
	TEST_ASSERT(m.nbuckets >= CHAIN && m.nbuckets <= 4096);
	for (b = 0; b < m.nbuckets; b++) {
		TEST_ASSERT((m.buckets[b] != NULL) ==
		    (b == (want & (m.nbuckets - 1))));
	}
	for (i = 0; i < CHAIN; i++)
		TEST_ASSERT(nkey_get(&m, idx[i]) == &slots[i]);

	/* The last put is the head of the chain, the first its tail. */
	TEST_ASSERT(nkey_del(&m, idx[CHAIN - 1]) == &slots[CHAIN - 1]);
	TEST_ASSERT(nkey_del(&m, idx[0]) == &slots[0]);
	TEST_ASSERT(nkey_del(&m, idx[CHAIN / 2]) == &slots[CHAIN / 2]);
	TEST_ASSERT(m.count == CHAIN - 3);
	for (i = 0; i < CHAIN; i++) {
		expect = (i == 0 || i == CHAIN / 2 || i == CHAIN - 1) ?
		    NULL : &slots[i];
		TEST_ASSERT(nkey_get(&m, idx[i]) == expect);
	}

	hmap_free(&m);
	return (0);
}

/* foreach visits each entry once, whatever the table size. */
static int
test_foreach(void)
{
	static struct visit	v;
	struct hmap		m;
	size_t			i;
	int			want;

	hmap_init(&m);
	for (i = 0; i < MANY; i++)
		nkey_put(&m, i, &slots[i]);
	/* A replaced value is visited once, with its new value. */
	nkey_put(&m, 7, &slots[8]);
	TEST_ASSERT(nkey_del(&m, 9) == &slots[9]);

	walk(&m, &v);
	TEST_ASSERT(v.stray == 0);
	TEST_ASSERT(v.calls == MANY - 1 && v.calls == m.count);
	for (i = 0; i < MANY; i++) {
		want = (i == 7 || i == 9) ? 0 : (i == 8 ? 2 : 1);
		TEST_ASSERT(v.seen[i] == want);
	}

	hmap_free(&m);
	return (0);
}

/*
 * The foreach callback may not change the map: the way to delete what a
 * walk finds is to collect it, then delete after the walk.
 */
static int
test_delete_after_foreach(void)
{
	static struct visit	v;
	struct hmap		m;
	size_t			i;

	hmap_init(&m);
	for (i = 0; i < 1000; i++)
		nkey_put(&m, i, &slots[i]);

	walk(&m, &v);
	TEST_ASSERT(v.calls == 1000 && v.stray == 0);

	/* Delete every visited slot divisible by 3, by its key. */
	for (i = 0; i < 1000; i++) {
		TEST_ASSERT(v.seen[i] == 1);
		if (i % 3 == 0)
			TEST_ASSERT(nkey_del(&m, i) == &slots[i]);
	}
	TEST_ASSERT(m.count == 1000 - 334);

	walk(&m, &v);
	TEST_ASSERT(v.calls == m.count && v.stray == 0);
	for (i = 0; i < 1000; i++)
		TEST_ASSERT(v.seen[i] == (i % 3 == 0 ? 0 : 1));

	hmap_free(&m);
	return (0);
}

/* After hmap_free() the map is empty and hmap_init() makes it usable. */
static int
test_reuse(void)
{
	struct hmap	m;
	size_t		i;

	hmap_init(&m);
	for (i = 0; i < 300; i++)
		nkey_put(&m, i, &slots[i]);
	hmap_free(&m);
	TEST_ASSERT(m.buckets == NULL && m.nbuckets == 0 && m.count == 0);

	hmap_init(&m);
	TEST_ASSERT(nkey_get(&m, 1) == NULL);
	nkey_put(&m, 1, &slots[42]);
	TEST_ASSERT(nkey_get(&m, 1) == &slots[42]);
	TEST_ASSERT(m.count == 1);
	hmap_free(&m);

	return (0);
}

int
main(void)
{
	TEST_RUN(test_empty);
	TEST_RUN(test_put_get_del);
	TEST_RUN(test_replace);
	TEST_RUN(test_binary_keys);
	TEST_RUN(test_many);
	TEST_RUN(test_one_bucket);
	TEST_RUN(test_foreach);
	TEST_RUN(test_delete_after_foreach);
	TEST_RUN(test_reuse);

	return (TEST_REPORT("test_hmap"));
}
