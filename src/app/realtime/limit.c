/*
 * The event budget of a client connection, keyed by its Engine.IO session
 * id: client events, and the CONNECTs and DISCONNECTs of namespaces, all
 * take from one bucket, so that a client looping connect/disconnect on one
 * session is held to the same rate as one sending events. The bucket
 * refills at conf.rate tokens a second and never holds more than
 * conf.burst (a client that sat idle still gets no more than the burst).
 *
 * Over the budget an event is dropped; the first drop in a second asks
 * the caller to tell the client (LIMIT_NOTICE), and conf.abuse drops with
 * the bucket never back to half full ask it to disconnect (LIMIT_ABUSE).
 *
 * A bucket that would be full again is the same as none: limit_sweep()
 * forgets those, so the table holds only the sessions that spent lately
 * and needs no end-of-session call. Pure C: a tsearch(3) tree of buckets.
 */

#include <sys/types.h>

#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "realtime/limit.h"

struct limit_bucket {
	char		key[LIMIT_KEY_MAX + 1];
	double		tokens;
	u_int64_t	refill;
	u_int64_t	last_notice;
	u_int32_t	drops;
	int		noticed;
};

struct limit_walk {
	struct limit_bucket	**all;
	size_t			 n;
};

static struct limit_conf	limit_conf = { 20, 40, 200 };
static void			*limit_root;
static size_t			 limit_n;

static int	limit_cmp(const void *, const void *);
static struct limit_bucket *limit_get(const char *, u_int64_t);
static void	limit_refill(struct limit_bucket *, u_int64_t);
static int	limit_collect(struct limit_walk *);
static void	limit_visit(const void *, VISIT, void *);
static void	limit_forget(struct limit_bucket *);

void
limit_init(const struct limit_conf *conf)
{
	limit_conf = *conf;
}

/* One event (or CONNECT, DISCONNECT) of the connection key, at now (ms). */
int
limit_take(const char *key, u_int64_t now)
{
	struct limit_bucket	*b;

	if ((b = limit_get(key, now)) == NULL)
		return (LIMIT_DROP);

	limit_refill(b, now);
	if (b->tokens >= 1) {
		b->tokens -= 1;
		if (b->tokens >= limit_conf.burst / 2)
			b->drops = 0;
		return (LIMIT_OK);
	}

	if (++b->drops > limit_conf.abuse)
		return (LIMIT_ABUSE);

	if (!b->noticed || now - b->last_notice >= LIMIT_NOTICE_MS) {
		b->noticed = 1;
		b->last_notice = now;
		return (LIMIT_NOTICE);
	}

	return (LIMIT_DROP);
}

/* Forget the buckets that are full again (and their drops forgiven). */
void
limit_sweep(u_int64_t now)
{
	struct limit_walk	w;
	size_t			i;

	if (!limit_collect(&w))
		return;

	for (i = 0; i < w.n; i++) {
		limit_refill(w.all[i], now);
		if (w.all[i]->tokens >= limit_conf.burst &&
		    now - w.all[i]->last_notice >= LIMIT_NOTICE_MS)
			limit_forget(w.all[i]);
	}
	free(w.all);
}

size_t
limit_count(void)
{
	return (limit_n);
}

/* Forget every bucket (tests, teardown). */
void
limit_clear(void)
{
	struct limit_walk	w;
	size_t			i;

	if (!limit_collect(&w))
		return;
	for (i = 0; i < w.n; i++)
		limit_forget(w.all[i]);
	free(w.all);
}

static void
limit_refill(struct limit_bucket *b, u_int64_t now)
{
	if (now > b->refill) {
		b->tokens += (double)(now - b->refill) * limit_conf.rate /
		    1000.0;
		if (b->tokens > limit_conf.burst)
			b->tokens = limit_conf.burst;
	}
	b->refill = now;
}

/* The bucket of key, a full new one if it has none; NULL: no memory. */
static struct limit_bucket *
limit_get(const char *key, u_int64_t now)
{
	struct limit_bucket	k, *b, **found;

	(void)strncpy(k.key, key, LIMIT_KEY_MAX);
	k.key[LIMIT_KEY_MAX] = '\0';
	if ((found = tfind(&k, &limit_root, limit_cmp)) != NULL)
		return (*found);

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return (NULL);
	memcpy(b->key, k.key, sizeof(b->key));
	b->tokens = limit_conf.burst;
	b->refill = now;
	if (tsearch(b, &limit_root, limit_cmp) == NULL) {
		free(b);
		return (NULL);
	}
	limit_n++;

	return (b);
}

/*
 * Every bucket, in a list the caller frees (the tree may not change during
 * twalk_r()); 0 when there are none or no memory.
 */
static int
limit_collect(struct limit_walk *w)
{
	if (limit_n == 0 ||
	    (w->all = calloc(limit_n, sizeof(*w->all))) == NULL)
		return (0);
	w->n = 0;
	twalk_r(limit_root, limit_visit, w);

	return (1);
}

static void
limit_visit(const void *node, VISIT which, void *arg)
{
	struct limit_walk	*w = arg;

	if (which == postorder || which == leaf)
		w->all[w->n++] = *(struct limit_bucket *const *)node;
}

static void
limit_forget(struct limit_bucket *b)
{
	(void)tdelete(b, &limit_root, limit_cmp);
	limit_n--;
	free(b);
}

static int
limit_cmp(const void *a, const void *b)
{
	const struct limit_bucket	*x = a, *y = b;

	return (strcmp(x->key, y->key));
}
