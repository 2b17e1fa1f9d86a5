/*
 * test_cluster_ids.c: cluster presence's sorted id sets
 * (src/sio/cluster/cluster_ids.c), linked alone.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_help.h"

#include "cluster/cluster_ids.h"

/* Whether s is exactly the ids of want (NULL-terminated), in order. */
static int
is(const struct cluster_ids *s, const char *const *want)
{
	size_t		i;

	for (i = 0; want[i] != NULL; i++) {
		if (i >= s->n || strcmp(s->v[i], want[i]))
			return (0);
	}
	return (i == s->n);
}

static int
test_add_del(void)
{
	struct cluster_ids	s = { 0 };
	const char		*abc[] = { "a", "b", "c", NULL };
	const char		*ac[] = { "a", "c", NULL };
	const char		*none[] = { NULL };
	size_t			at;

	TEST_ASSERT(is(&s, none));
	TEST_ASSERT(!cluster_ids_find(&s, "a", &at) && at == 0);
	TEST_ASSERT(cluster_ids_add(&s, "c", 1));
	TEST_ASSERT(cluster_ids_add(&s, "axyz", 1));
	TEST_ASSERT(cluster_ids_add(&s, "b", 1));
	TEST_ASSERT(!cluster_ids_add(&s, "b", 1));
	TEST_ASSERT(is(&s, abc));
	TEST_ASSERT(cluster_ids_find(&s, "c", &at) && at == 2);
	TEST_ASSERT(!cluster_ids_find(&s, "bb", &at) && at == 2);
	TEST_ASSERT(cluster_ids_del(&s, "b"));
	TEST_ASSERT(!cluster_ids_del(&s, "b"));
	TEST_ASSERT(is(&s, ac));
	TEST_ASSERT(cluster_ids_del(&s, "a") && cluster_ids_del(&s, "c"));
	TEST_ASSERT(is(&s, none));
	cluster_ids_clear(&s);
	return (0);
}

static int
test_many(void)
{
	struct cluster_ids	s = { 0 }, t = { 0 };
	char			id[16];
	size_t			i, at;

	/* Added in one order, pushed in another: the same set. */
	for (i = 0; i < 1000; i++) {
		(void)snprintf(id, sizeof(id), "%04zu", (i * 7919) % 1000);
		TEST_ASSERT(cluster_ids_add(&s, id, strlen(id)));
		(void)snprintf(id, sizeof(id), "%04zu", 999 - i);
		cluster_ids_push(&t, id, strlen(id));
		cluster_ids_push(&t, id, strlen(id));
	}
	TEST_ASSERT(t.n == 2000);
	cluster_ids_sort(&t);
	TEST_ASSERT(t.n == 1000);
	TEST_ASSERT(cluster_ids_equal(&s, &t));
	for (i = 1; i < s.n; i++)
		TEST_ASSERT(strcmp(s.v[i - 1], s.v[i]) < 0);
	TEST_ASSERT(cluster_ids_find(&s, "0500", &at) && at == 500);
	TEST_ASSERT(cluster_ids_del(&t, "0500"));
	TEST_ASSERT(!cluster_ids_equal(&s, &t));
	cluster_ids_clear(&s);
	cluster_ids_clear(&t);
	TEST_ASSERT(s.n == 0 && s.v == NULL);
	return (0);
}

static int
test_merge(void)
{
	struct cluster_ids	a = { 0 }, b = { 0 }, u;
	const char		*want[] = { "alice", "bob", "carol", "dave",
				    NULL };
	const char		*none[] = { NULL };

	cluster_ids_merge(&u, &a, &b);
	TEST_ASSERT(is(&u, none));
	cluster_ids_clear(&u);

	(void)cluster_ids_add(&a, "carol", 5);
	(void)cluster_ids_add(&a, "alice", 5);
	(void)cluster_ids_add(&b, "dave", 4);
	(void)cluster_ids_add(&b, "alice", 5);
	(void)cluster_ids_add(&b, "bob", 3);
	cluster_ids_merge(&u, &a, &b);
	TEST_ASSERT(is(&u, want));
	cluster_ids_clear(&u);
	cluster_ids_merge(&u, &b, &a);
	TEST_ASSERT(is(&u, want));
	cluster_ids_clear(&u);
	cluster_ids_clear(&a);
	cluster_ids_clear(&b);
	return (0);
}

int
main(void)
{
	TEST_RUN(test_add_del);
	TEST_RUN(test_many);
	TEST_RUN(test_merge);
	return (TEST_REPORT("test_cluster_ids"));
}
