/*
 * Counters of attempts shared by the processes of one korio
 * (throttle.h): a set-associative table of fixed size in a shared
 * anonymous mapping, under a process-shared robust mutex.
 *
 * Why a table of fixed size and not one that grows: every key an
 * attacker makes up (an address, an email) would take memory. Here it
 * takes an entry, and when its set is full it takes the entry whose
 * window ends first. Only attempts that were let through make entries,
 * each of which costs its sender a PBKDF2 on the server (a few dozen a
 * second), so pushing a live counter out of a set of THROTTLE_WAYS takes
 * far more attempts than a window lets through, unless the table is made
 * very small.
 */

#include <sys/types.h>
#include <sys/mman.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "auth/throttle.h"

#define THROTTLE_SECRET		32

struct throttle_entry {
	u_int64_t	key;
	int64_t		expires;	/* the window's end; <= now: free */
	u_int32_t	count;
};

struct throttle {
	pthread_mutex_t		lock;
	size_t			size;		/* bytes mapped */
	size_t			sets;
	u_int8_t		secret[THROTTLE_SECRET];
	struct throttle_entry	entry[];
};

static void			 throttle_lock(struct throttle *);
static struct throttle_entry	*throttle_find(struct throttle *, u_int64_t,
				    int64_t);
static struct throttle_entry	*throttle_slot(struct throttle *,
				    const struct throttle_rule *, int64_t);

struct throttle *
throttle_create(size_t n)
{
	struct throttle		*t;
	pthread_mutexattr_t	 attr;
	size_t			 sets, size;
	void			*p;

	sets = n / THROTTLE_WAYS + (n % THROTTLE_WAYS != 0);
	if (sets == 0)
		sets = 1;
	size = sizeof(*t) + sets * THROTTLE_WAYS * sizeof(t->entry[0]);

	/* Zero-filled: every entry starts free. */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return (NULL);
	t = p;
	t->size = size;
	t->sets = sets;

	if (getentropy(t->secret, sizeof(t->secret)) == -1 ||
	    pthread_mutexattr_init(&attr) != 0)
		goto fail;
	if (pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) != 0 ||
	    pthread_mutex_init(&t->lock, &attr) != 0) {
		(void)pthread_mutexattr_destroy(&attr);
		goto fail;
	}
	(void)pthread_mutexattr_destroy(&attr);

	return (t);

fail:
	(void)munmap(p, size);
	return (NULL);
}

void
throttle_destroy(struct throttle *t)
{
	if (t == NULL)
		return;
	(void)pthread_mutex_destroy(&t->lock);
	(void)munmap(t, t->size);
}

/*
 * The key of the len bytes at data of kind (an address, an email):
 * SHA-256 of the table's secret, the kind and the bytes, cut to 64 bits.
 * 0 if libcrypto fails (out of memory): those attempts share a counter.
 */
u_int64_t
throttle_key(const struct throttle *t, int kind, const void *data,
    size_t len)
{
	EVP_MD_CTX	*ctx;
	u_int8_t	 md[EVP_MAX_MD_SIZE], k;
	u_int64_t	 key;
	unsigned int	 mdlen;

	key = 0;
	k = (u_int8_t)kind;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return (0);

	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, t->secret, sizeof(t->secret)) == 1 &&
	    EVP_DigestUpdate(ctx, &k, 1) == 1 &&
	    EVP_DigestUpdate(ctx, data, len) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen >= sizeof(key))
		memcpy(&key, md, sizeof(key));

	EVP_MD_CTX_free(ctx);

	return (key);
}

int64_t
throttle_take(struct throttle *t, const struct throttle_rule *rules,
    size_t n, int64_t now)
{
	struct throttle_entry	*e;
	int64_t			 wait;
	size_t			 i;

	wait = 0;
	throttle_lock(t);

	for (i = 0; i < n; i++) {
		if (rules[i].max == 0)
			continue;
		e = throttle_find(t, rules[i].key, now);
		if (e != NULL && e->count >= rules[i].max &&
		    e->expires - now > wait)
			wait = e->expires - now;
	}

	for (i = 0; wait == 0 && i < n; i++) {
		if (rules[i].max != 0)
			throttle_slot(t, &rules[i], now)->count++;
	}

	(void)pthread_mutex_unlock(&t->lock);

	return (wait);
}

void
throttle_give(struct throttle *t, u_int64_t key, int64_t now)
{
	struct throttle_entry	*e;

	throttle_lock(t);
	if ((e = throttle_find(t, key, now)) != NULL && e->count > 0 &&
	    --e->count == 0)
		e->expires = 0;
	(void)pthread_mutex_unlock(&t->lock);
}

void
throttle_clear(struct throttle *t, u_int64_t key, int64_t now)
{
	struct throttle_entry	*e;

	throttle_lock(t);
	if ((e = throttle_find(t, key, now)) != NULL) {
		e->count = 0;
		e->expires = 0;
	}
	(void)pthread_mutex_unlock(&t->lock);
}

int64_t
throttle_now(void)
{
	struct timespec		ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);

	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* A worker that died holding the lock left at most one entry half-set. */
static void
throttle_lock(struct throttle *t)
{
	if (pthread_mutex_lock(&t->lock) == EOWNERDEAD)
		(void)pthread_mutex_consistent(&t->lock);
}

/* Under the lock: key's entry while its window lasts, else NULL. */
static struct throttle_entry *
throttle_find(struct throttle *t, u_int64_t key, int64_t now)
{
	struct throttle_entry	*set;
	size_t			 i;

	set = &t->entry[(key % t->sets) * THROTTLE_WAYS];
	for (i = 0; i < THROTTLE_WAYS; i++) {
		if (set[i].key == key && set[i].expires > now)
			return (&set[i]);
	}

	return (NULL);
}

/*
 * Under the lock: the entry of rule's key, made if need be (its window
 * opening now) in a free or expired entry of its set, else in place of
 * the one whose window ends first.
 */
static struct throttle_entry *
throttle_slot(struct throttle *t, const struct throttle_rule *rule,
    int64_t now)
{
	struct throttle_entry	*set, *e;
	size_t			 i;

	if ((e = throttle_find(t, rule->key, now)) != NULL)
		return (e);

	set = &t->entry[(rule->key % t->sets) * THROTTLE_WAYS];
	e = &set[0];
	for (i = 0; i < THROTTLE_WAYS && e->expires > now; i++) {
		if (set[i].expires < e->expires)
			e = &set[i];
	}

	e->key = rule->key;
	e->count = 0;
	e->expires = now + rule->window;

	return (e);
}
