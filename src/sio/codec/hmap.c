/*
 * A chained hash map from byte-string keys to pointers (FNV-1a hashing,
 * power-of-two table doubling at a load of 1). Keys are copied into the
 * entry; values belong to the caller. Deleting returns the value.
 */

#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "sbuf.h"

#define HMAP_MIN_BUCKETS	64

struct hmap_entry {
	struct hmap_entry	*next;
	uint64_t		hash;
	void			*value;
	size_t			klen;
	uint8_t			key[];
};

static uint64_t	hmap_hash(const void *, size_t);
static void	hmap_grow(struct hmap *);

void
hmap_init(struct hmap *m)
{
	m->nbuckets = HMAP_MIN_BUCKETS;
	m->count = 0;
	m->buckets = sbuf_xcalloc(m->nbuckets, sizeof(*m->buckets));
}

void
hmap_free(struct hmap *m)
{
	size_t			i;
	struct hmap_entry	*e, *next;

	for (i = 0; i < m->nbuckets; i++) {
		for (e = m->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(m->buckets);
	m->buckets = NULL;
	m->nbuckets = 0;
	m->count = 0;
}

void *
hmap_get(const struct hmap *m, const void *key, size_t klen)
{
	uint64_t		h;
	struct hmap_entry	*e;

	h = hmap_hash(key, klen);
	for (e = m->buckets[h & (m->nbuckets - 1)]; e != NULL; e = e->next) {
		if (e->hash == h && e->klen == klen &&
		    memcmp(e->key, key, klen) == 0)
			return (e->value);
	}

	return (NULL);
}

void
hmap_put(struct hmap *m, const void *key, size_t klen, void *value)
{
	uint64_t		h;
	struct hmap_entry	*e, **head;

	h = hmap_hash(key, klen);
	head = &m->buckets[h & (m->nbuckets - 1)];
	for (e = *head; e != NULL; e = e->next) {
		if (e->hash == h && e->klen == klen &&
		    memcmp(e->key, key, klen) == 0) {
			e->value = value;
			return;
		}
	}

	e = sbuf_xmalloc(sizeof(*e) + klen);
	e->hash = h;
	e->value = value;
	e->klen = klen;
	memcpy(e->key, key, klen);
	e->next = *head;
	*head = e;

	if (++m->count > m->nbuckets)
		hmap_grow(m);
}

void *
hmap_del(struct hmap *m, const void *key, size_t klen)
{
	uint64_t		h;
	void			*value;
	struct hmap_entry	*e, **pp;

	h = hmap_hash(key, klen);
	pp = &m->buckets[h & (m->nbuckets - 1)];
	for (e = *pp; e != NULL; pp = &e->next, e = e->next) {
		if (e->hash == h && e->klen == klen &&
		    memcmp(e->key, key, klen) == 0) {
			*pp = e->next;
			value = e->value;
			free(e);
			m->count--;
			return (value);
		}
	}

	return (NULL);
}

/* The callback may not change the map. */
void
hmap_foreach(struct hmap *m, void (*cb)(void *, void *), void *arg)
{
	size_t			i;
	struct hmap_entry	*e, *next;

	for (i = 0; i < m->nbuckets; i++) {
		for (e = m->buckets[i]; e != NULL; e = next) {
			next = e->next;
			cb(e->value, arg);
		}
	}
}

static uint64_t
hmap_hash(const void *key, size_t klen)
{
	const uint8_t	*p = key;
	uint64_t	h = 14695981039346656037ULL;
	size_t		i;

	for (i = 0; i < klen; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}

	return (h);
}

static void
hmap_grow(struct hmap *m)
{
	size_t			i, n;
	struct hmap_entry	**nb, *e, *next;

	n = m->nbuckets * 2;
	nb = sbuf_xcalloc(n, sizeof(*nb));
	for (i = 0; i < m->nbuckets; i++) {
		for (e = m->buckets[i]; e != NULL; e = next) {
			next = e->next;
			e->next = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	}

	free(m->buckets);
	m->buckets = nb;
	m->nbuckets = n;
}
