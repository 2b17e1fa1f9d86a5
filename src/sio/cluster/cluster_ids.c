/*
 * A sorted set of ids (strcmp order), each its own allocation: what
 * cluster presence (cluster_presence.c) keeps and compares. Pure: libc
 * and codec/sbuf.c only, unit-tested alone in tests/unit/test_cluster_ids.c.
 */

#include <stdlib.h>
#include <string.h>

#include "codec/sbuf.h"
#include "cluster_ids.h"

static int	ids_cmp(const void *, const void *);

/* Whether s holds id; *at: where it is, or would go. */
int
cluster_ids_find(const struct cluster_ids *s, const char *id, size_t *at)
{
	size_t		lo, hi, mid;
	int		c;

	lo = 0;
	hi = s->n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(s->v[mid], id)) == 0) {
			*at = mid;
			return (1);
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return (0);
}

/* id (len bytes) into s; 1 if it was not there. */
int
cluster_ids_add(struct cluster_ids *s, const char *id, size_t len)
{
	char		*copy;
	size_t		 at;

	copy = sbuf_xstrndup(id, len);
	if (cluster_ids_find(s, copy, &at)) {
		free(copy);
		return (0);
	}
	if (s->n == s->cap) {
		s->cap = s->cap == 0 ? 16 : s->cap * 2;
		s->v = sbuf_xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	memmove(s->v + at + 1, s->v + at, (s->n - at) * sizeof(*s->v));
	s->v[at] = copy;
	s->n++;
	return (1);
}

/* id (len bytes) at the end of s: unsorted until cluster_ids_sort(). */
void
cluster_ids_push(struct cluster_ids *s, const char *id, size_t len)
{
	if (s->n == s->cap) {
		s->cap = s->cap == 0 ? 16 : s->cap * 2;
		s->v = sbuf_xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	s->v[s->n++] = sbuf_xstrndup(id, len);
}

/* s in order, each id once. */
void
cluster_ids_sort(struct cluster_ids *s)
{
	size_t		i, n;

	if (s->n == 0)
		return;
	qsort(s->v, s->n, sizeof(*s->v), ids_cmp);
	for (n = 1, i = 1; i < s->n; i++) {
		if (strcmp(s->v[i], s->v[n - 1]))
			s->v[n++] = s->v[i];
		else
			free(s->v[i]);
	}
	s->n = n;
}

static int
ids_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* id out of s; 1 if it was there. */
int
cluster_ids_del(struct cluster_ids *s, const char *id)
{
	size_t		at;

	if (!cluster_ids_find(s, id, &at))
		return (0);
	free(s->v[at]);
	memmove(s->v + at, s->v + at + 1, (s->n - at - 1) * sizeof(*s->v));
	s->n--;
	return (1);
}

void
cluster_ids_clear(struct cluster_ids *s)
{
	size_t		i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

int
cluster_ids_equal(const struct cluster_ids *a, const struct cluster_ids *b)
{
	size_t		i;

	if (a->n != b->n)
		return (0);
	for (i = 0; i < a->n; i++) {
		if (strcmp(a->v[i], b->v[i]))
			return (0);
	}
	return (1);
}

/* a and b into u (empty), in order, each id once. */
void
cluster_ids_merge(struct cluster_ids *u, const struct cluster_ids *a,
    const struct cluster_ids *b)
{
	size_t		 i, j;
	int		 c;
	const char	*next;

	memset(u, 0, sizeof(*u));
	i = j = 0;
	while (i < a->n || j < b->n) {
		if (i == a->n)
			c = 1;
		else if (j == b->n)
			c = -1;
		else
			c = strcmp(a->v[i], b->v[j]);
		next = c <= 0 ? a->v[i] : b->v[j];
		cluster_ids_push(u, next, strlen(next));
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
}
