/*
 * Connections counted per client address, for a cap on them that holds
 * across all workers (MAX_CONNECTIONS_PER_ADDRESS, http/connlimit.c).
 *
 * The table is open addressing with linear probing over a fixed number
 * of rows (a power of two) in memory the caller provides: mapped shared
 * by the parent before the workers fork, so every worker sees every
 * count. A row holds one address, its total, and each worker's share of
 * it, so that a worker that died (its connections gone with it) can be
 * taken out of every total by its successor (addrcount_clear_worker()).
 * A row is freed when its total drops to zero (backward-shift deletion:
 * no tombstones, probes stay short). New addresses stop being taken at
 * three quarters full: addrcount_add() then says ADDRCOUNT_FULL and the
 * caller decides (korio lets the connection in, uncounted).
 *
 * The hash is keyed with random bits from the caller, so that no client
 * can choose addresses that land on one run of rows.
 *
 * Pure C: no locking here (the caller holds its lock around every call),
 * no Kore; unit-tested alone (tests/unit/test_addrcount.c).
 */

#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "addrcount.h"

struct addrcount_head {
	u_int32_t	used;
	u_int32_t	slots;
};

struct addrcount_row {
	u_int8_t	used;
	u_int8_t	family;
	u_int8_t	pad[2];
	u_int32_t	total;
	u_int8_t	addr[16];
	u_int16_t	count[];	/* each worker's share */
};

#define ADDRCOUNT_ROW(t, i)	\
	((struct addrcount_row *)((t)->rows + (size_t)(i) * (t)->stride))

static size_t	addrcount_stride(u_int32_t);
static u_int64_t addrcount_mix(u_int64_t);
static u_int32_t addrcount_hash(const struct addrcount *, int,
		    const u_int8_t *);
static struct addrcount_row *addrcount_find(const struct addrcount *,
		    const struct netaddr *, u_int32_t *);
static void	addrcount_remove(struct addrcount *, u_int32_t);

/* Bytes of memory a table of slots rows (a power of two) needs. */
size_t
addrcount_size(u_int32_t slots, u_int32_t workers)
{
	return (sizeof(struct addrcount_head) +
	    (size_t)slots * addrcount_stride(workers));
}

/*
 * A new, empty table in mem: addrcount_size() bytes, 8-byte aligned, all
 * zero (a fresh anonymous mapping: its pages stay untouched until used).
 */
void
addrcount_init(struct addrcount *t, void *mem, u_int32_t slots,
    u_int32_t workers, const u_int64_t key[2])
{
	t->head = mem;
	t->head->slots = slots;
	t->rows = (u_int8_t *)mem + sizeof(struct addrcount_head);
	t->stride = addrcount_stride(workers);
	t->slots = slots;
	t->workers = workers;
	t->key[0] = key[0];
	t->key[1] = key[1];
}

/*
 * Count one more connection of a for worker (0-based), if a has fewer
 * than cap. Returns 1 if counted, 0 if a is at its cap, ADDRCOUNT_FULL if
 * a is new and the table has no room for it.
 */
int
addrcount_add(struct addrcount *t, const struct netaddr *a,
    u_int32_t worker, u_int32_t cap)
{
	struct addrcount_row	*r;
	u_int32_t		idx;

	if ((r = addrcount_find(t, a, &idx)) == NULL)
		return (ADDRCOUNT_FULL);

	if (!r->used) {
		if (t->head->used >= t->slots / 4 * 3)
			return (ADDRCOUNT_FULL);
		r->used = 1;
		r->family = (u_int8_t)a->family;
		memcpy(r->addr, a->bytes, sizeof(r->addr));
		r->total = 0;
		memset(r->count, 0, t->workers * sizeof(r->count[0]));
		t->head->used++;
	}

	if (r->total >= cap || r->count[worker] == UINT16_MAX) {
		if (r->total == 0)
			addrcount_remove(t, idx);
		return (0);
	}

	r->total++;
	r->count[worker]++;

	return (1);
}

/* One connection of a that worker counted is gone. */
void
addrcount_del(struct addrcount *t, const struct netaddr *a,
    u_int32_t worker)
{
	struct addrcount_row	*r;
	u_int32_t		idx;

	r = addrcount_find(t, a, &idx);
	if (r == NULL || !r->used || r->count[worker] == 0)
		return;

	r->count[worker]--;
	if (--r->total == 0)
		addrcount_remove(t, idx);
}

/* Forget every connection worker counted (it died; this is its heir). */
void
addrcount_clear_worker(struct addrcount *t, u_int32_t worker)
{
	struct addrcount_row	*r;
	u_int32_t		i;

	for (i = 0; i < t->slots; i++) {
		r = ADDRCOUNT_ROW(t, i);
		if (!r->used || r->count[worker] == 0)
			continue;
		r->total -= r->count[worker];
		r->count[worker] = 0;
	}

	/* A removal may shift a later row into i: look at i again. */
	for (i = 0; i < t->slots; i++) {
		for (;;) {
			r = ADDRCOUNT_ROW(t, i);
			if (!r->used || r->total != 0)
				break;
			addrcount_remove(t, i);
		}
	}
}

/* The connections of a counted, over all workers. */
u_int32_t
addrcount_get(const struct addrcount *t, const struct netaddr *a)
{
	struct addrcount_row	*r;
	u_int32_t		idx;

	r = addrcount_find(t, a, &idx);
	if (r == NULL || !r->used)
		return (0);

	return (r->total);
}

/* Addresses in the table. */
u_int32_t
addrcount_used(const struct addrcount *t)
{
	return (t->head->used);
}

static size_t
addrcount_stride(u_int32_t workers)
{
	size_t		len;

	len = sizeof(struct addrcount_row) + workers * sizeof(u_int16_t);
	return ((len + 7) & ~(size_t)7);
}

/* MurmurHash3's 64-bit finalizer: every input bit moves every output bit. */
static u_int64_t
addrcount_mix(u_int64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;

	return (h);
}

static u_int32_t
addrcount_hash(const struct addrcount *t, int family, const u_int8_t *addr)
{
	u_int64_t	lo, hi, h;

	memcpy(&lo, addr, sizeof(lo));
	memcpy(&hi, addr + sizeof(lo), sizeof(hi));

	h = addrcount_mix(lo ^ t->key[0] ^ (u_int64_t)family);
	h = addrcount_mix(h ^ hi ^ t->key[1]);

	return ((u_int32_t)h & (t->slots - 1));
}

/*
 * The row of a, or the free row where it would go, its index in *idx;
 * NULL if neither (a full table).
 */
static struct addrcount_row *
addrcount_find(const struct addrcount *t, const struct netaddr *a,
    u_int32_t *idx)
{
	struct addrcount_row	*r;
	u_int32_t		i, n;

	i = addrcount_hash(t, a->family, a->bytes);
	for (n = 0; n < t->slots; n++) {
		r = ADDRCOUNT_ROW(t, i);
		if (!r->used || (r->family == a->family &&
		    !memcmp(r->addr, a->bytes, sizeof(r->addr)))) {
			*idx = i;
			return (r);
		}
		i = (i + 1) & (t->slots - 1);
	}

	return (NULL);
}

/*
 * Free row i, then move back each row of the run after it that may sit
 * at i (its home is not between i and where it is), so that every row
 * stays reachable from its home without tombstones.
 */
static void
addrcount_remove(struct addrcount *t, u_int32_t i)
{
	struct addrcount_row	*r;
	u_int32_t		j, home, mask;

	mask = t->slots - 1;
	ADDRCOUNT_ROW(t, i)->used = 0;
	t->head->used--;

	for (j = (i + 1) & mask;; j = (j + 1) & mask) {
		r = ADDRCOUNT_ROW(t, j);
		if (!r->used)
			return;

		home = addrcount_hash(t, r->family, r->addr);
		if (((j - home) & mask) < ((j - i) & mask))
			continue;

		memcpy(ADDRCOUNT_ROW(t, i), r, t->stride);
		r->used = 0;
		i = j;
	}
}
