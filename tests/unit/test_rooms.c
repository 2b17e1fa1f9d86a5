/*
 * test_rooms.c: unit tests for src/sio/rooms.c (the two-way room
 * membership index and the union fan-out).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/rooms.h"
#include "test_help.h"

#define NMEMBERS	10000

struct sock {
	int			id;
	int			hits;
	struct rooms_member	member;
};

struct names {
	char			buf[256];
	size_t			len;
};

static void	visit(struct rooms_member *, void *);
static void	collect(const char *, void *);
static void	hits_reset(struct sock *, size_t);

static int	test_join_leave(void);
static int	test_free_empty(void);
static int	test_foreach_union(void);
static int	test_foreach_except(void);
static int	test_member_rooms(void);
static int	test_leave_all(void);
static int	test_rooms_free(void);
static int	test_names(void);
static int	test_model(void);
static int	test_stress(void);
static int	test_many_rooms(void);

/* Count visits on the owning socket; arg counts callbacks. */
static void
visit(struct rooms_member *m, void *arg)
{
	struct sock	*s;

	s = m->owner;
	s->hits++;
	(*(size_t *)arg)++;
}

static void
collect(const char *name, void *arg)
{
	struct names	*n;
	size_t		 len;

	n = arg;
	len = strlen(name);
	if (n->len + len + 2 > sizeof(n->buf))
		return;
	memcpy(n->buf + n->len, name, len);
	n->len += len;
	n->buf[n->len++] = ';';
	n->buf[n->len] = '\0';
}

static void
hits_reset(struct sock *s, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		s[i].hits = 0;
}

static int
test_join_leave(void)
{
	struct rooms	r;
	struct sock	a, b;

	rooms_init(&r);
	rooms_member_init(&a.member, &a);
	rooms_member_init(&b.member, &b);
	TEST_ASSERT(rooms_total(&r) == 0 && rooms_count(&r, "x") == 0);
	TEST_ASSERT(!rooms_has(&r, &a.member, "x"));
	TEST_ASSERT(rooms_leave(&r, &a.member, "x") == 0);

	TEST_ASSERT(rooms_join(&r, &a.member, "x") == 1);
	TEST_ASSERT(rooms_join(&r, &a.member, "x") == 0);
	TEST_ASSERT(rooms_has(&r, &a.member, "x"));
	TEST_ASSERT(!rooms_has(&r, &b.member, "x"));
	TEST_ASSERT(rooms_count(&r, "x") == 1 && rooms_total(&r) == 1);
	TEST_ASSERT(a.member.count == 1);

	TEST_ASSERT(rooms_join(&r, &b.member, "x") == 1);
	TEST_ASSERT(rooms_join(&r, &b.member, "y") == 1);
	TEST_ASSERT(rooms_count(&r, "x") == 2 && rooms_total(&r) == 2);
	TEST_ASSERT(b.member.count == 2);

	/* Leaving a room one is not in changes nothing. */
	TEST_ASSERT(rooms_leave(&r, &a.member, "y") == 0);
	TEST_ASSERT(rooms_count(&r, "y") == 1);

	TEST_ASSERT(rooms_leave(&r, &a.member, "x") == 1);
	TEST_ASSERT(rooms_leave(&r, &a.member, "x") == 0);
	TEST_ASSERT(!rooms_has(&r, &a.member, "x"));
	TEST_ASSERT(rooms_has(&r, &b.member, "x"));
	TEST_ASSERT(rooms_count(&r, "x") == 1 && a.member.count == 0);

	/* Rejoin after leaving. */
	TEST_ASSERT(rooms_join(&r, &a.member, "x") == 1);
	TEST_ASSERT(rooms_count(&r, "x") == 2);

	rooms_free(&r);
	TEST_ASSERT(rooms_total(&r) == 0);

	return (0);
}

static int
test_free_empty(void)
{
	struct rooms	r;
	struct sock	a, b;

	rooms_init(&r);
	rooms_member_init(&a.member, &a);
	rooms_member_init(&b.member, &b);

	TEST_ASSERT(rooms_join(&r, &a.member, "room"));
	TEST_ASSERT(rooms_join(&r, &b.member, "room"));
	TEST_ASSERT(rooms_leave(&r, &a.member, "room"));
	TEST_ASSERT(rooms_total(&r) == 1);
	TEST_ASSERT(rooms_leave(&r, &b.member, "room"));
	TEST_ASSERT(rooms_total(&r) == 0);
	TEST_ASSERT(rooms_count(&r, "room") == 0);
	TEST_ASSERT(!rooms_has(&r, &a.member, "room"));

	/* The room comes back on the next join. */
	TEST_ASSERT(rooms_join(&r, &b.member, "room"));
	TEST_ASSERT(rooms_total(&r) == 1 && rooms_count(&r, "room") == 1);
	rooms_free(&r);

	return (0);
}

static int
test_foreach_union(void)
{
	static const char *const ab[] = { "a", "b" };
	static const char *const dup[] = { "a", "a", "nope", "b", "a" };
	struct rooms	r;
	struct sock	s[4];
	size_t		i, n;

	rooms_init(&r);
	for (i = 0; i < 4; i++) {
		s[i].id = (int)i;
		rooms_member_init(&s[i].member, &s[i]);
	}
	/* a: 0 1 2, b: 1 2 3 */
	for (i = 0; i < 3; i++)
		TEST_ASSERT(rooms_join(&r, &s[i].member, "a"));
	for (i = 1; i < 4; i++)
		TEST_ASSERT(rooms_join(&r, &s[i].member, "b"));

	n = 0;
	hits_reset(s, 4);
	rooms_foreach(&r, ab, 2, NULL, 0, visit, &n);
	TEST_ASSERT(n == 4);
	for (i = 0; i < 4; i++)
		TEST_ASSERT(s[i].hits == 1);

	n = 0;
	hits_reset(s, 4);
	rooms_foreach(&r, dup, 5, NULL, 0, visit, &n);
	TEST_ASSERT(n == 4);
	for (i = 0; i < 4; i++)
		TEST_ASSERT(s[i].hits == 1);

	/* A second call visits everyone again (new generation). */
	n = 0;
	rooms_foreach(&r, ab, 1, NULL, 0, visit, &n);
	TEST_ASSERT(n == 3 && s[0].hits == 2 && s[3].hits == 1);

	n = 0;
	rooms_foreach(&r, NULL, 0, NULL, 0, visit, &n);
	TEST_ASSERT(n == 0);
	rooms_foreach(&r, dup + 2, 1, NULL, 0, visit, &n);
	TEST_ASSERT(n == 0);

	rooms_free(&r);

	return (0);
}

static int
test_foreach_except(void)
{
	static const char *const all[] = { "all" };
	static const char *const ex1[] = { "odd" };
	static const char *const ex2[] = { "odd", "x3", "nope" };
	struct rooms	r;
	struct sock	s[6];
	char		name[8];
	size_t		i, n;

	rooms_init(&r);
	for (i = 0; i < 6; i++) {
		rooms_member_init(&s[i].member, &s[i]);
		TEST_ASSERT(rooms_join(&r, &s[i].member, "all"));
		if (i % 2)
			TEST_ASSERT(rooms_join(&r, &s[i].member, "odd"));
		snprintf(name, sizeof(name), "x%zu", i);
		TEST_ASSERT(rooms_join(&r, &s[i].member, name));
	}

	n = 0;
	hits_reset(s, 6);
	rooms_foreach(&r, all, 1, ex1, 1, visit, &n);
	TEST_ASSERT(n == 3);
	for (i = 0; i < 6; i++)
		TEST_ASSERT(s[i].hits == (i % 2 ? 0 : 1));

	n = 0;
	hits_reset(s, 6);
	rooms_foreach(&r, all, 1, ex2, 3, visit, &n);
	TEST_ASSERT(n == 3 && s[3].hits == 0 && s[0].hits == 1);

	/* Excepting the target room itself leaves nobody. */
	n = 0;
	rooms_foreach(&r, ex1, 1, ex1, 1, visit, &n);
	TEST_ASSERT(n == 0);

	/* The except list does not need any target. */
	n = 0;
	rooms_foreach(&r, NULL, 0, ex1, 1, visit, &n);
	TEST_ASSERT(n == 0);

	rooms_free(&r);

	return (0);
}

static int
test_member_rooms(void)
{
	struct rooms	r;
	struct sock	a;
	struct names	n;

	rooms_init(&r);
	rooms_member_init(&a.member, &a);
	TEST_ASSERT(rooms_join(&r, &a.member, "user:1"));
	TEST_ASSERT(rooms_join(&r, &a.member, "project:7"));
	TEST_ASSERT(rooms_join(&r, &a.member, "todos"));
	TEST_ASSERT(rooms_join(&r, &a.member, "project:7") == 0);

	memset(&n, 0, sizeof(n));
	rooms_member_foreach_room(&a.member, collect, &n);
	TEST_ASSERT(strcmp(n.buf, "user:1;project:7;todos;") == 0);

	TEST_ASSERT(rooms_leave(&r, &a.member, "project:7"));
	memset(&n, 0, sizeof(n));
	rooms_member_foreach_room(&a.member, collect, &n);
	TEST_ASSERT(strcmp(n.buf, "user:1;todos;") == 0);
	TEST_ASSERT(a.member.count == 2);

	rooms_free(&r);

	return (0);
}

static int
test_leave_all(void)
{
	struct rooms	r;
	struct sock	a, b;
	struct names	n;

	rooms_init(&r);
	rooms_member_init(&a.member, &a);
	rooms_member_init(&b.member, &b);
	TEST_ASSERT(rooms_leave_all(&r, &a.member) == 0);

	TEST_ASSERT(rooms_join(&r, &a.member, "shared"));
	TEST_ASSERT(rooms_join(&r, &a.member, "mine1"));
	TEST_ASSERT(rooms_join(&r, &a.member, "mine2"));
	TEST_ASSERT(rooms_join(&r, &b.member, "shared"));
	TEST_ASSERT(rooms_total(&r) == 3);

	TEST_ASSERT(rooms_leave_all(&r, &a.member) == 3);
	TEST_ASSERT(a.member.count == 0 && TAILQ_EMPTY(&a.member.links));
	TEST_ASSERT(rooms_total(&r) == 1);
	TEST_ASSERT(rooms_count(&r, "shared") == 1);
	TEST_ASSERT(rooms_has(&r, &b.member, "shared"));
	TEST_ASSERT(!rooms_has(&r, &a.member, "shared"));

	memset(&n, 0, sizeof(n));
	rooms_member_foreach_room(&a.member, collect, &n);
	TEST_ASSERT(n.len == 0);

	TEST_ASSERT(rooms_leave_all(&r, &b.member) == 1);
	TEST_ASSERT(rooms_total(&r) == 0);
	rooms_free(&r);

	return (0);
}

static int
test_rooms_free(void)
{
	struct rooms	*r;
	struct sock	 a, b;

	r = malloc(sizeof(*r));
	TEST_ASSERT(r != NULL);
	rooms_init(r);
	rooms_member_init(&a.member, &a);
	rooms_member_init(&b.member, &b);
	TEST_ASSERT(rooms_join(r, &a.member, "x"));
	TEST_ASSERT(rooms_join(r, &a.member, "y"));
	TEST_ASSERT(rooms_join(r, &b.member, "y"));

	/* Members still joined are emptied, not left dangling. */
	rooms_free(r);
	TEST_ASSERT(a.member.count == 0 && TAILQ_EMPTY(&a.member.links));
	TEST_ASSERT(b.member.count == 0 && TAILQ_EMPTY(&b.member.links));
	TEST_ASSERT(rooms_total(r) == 0);

	/* Reusable after free. */
	TEST_ASSERT(rooms_join(r, &a.member, "z"));
	rooms_free(r);
	free(r);

	return (0);
}

static int
test_names(void)
{
	struct rooms	 r;
	struct sock	 a;
	char		*longname;

	rooms_init(&r);
	rooms_member_init(&a.member, &a);

	TEST_ASSERT(rooms_join(&r, &a.member, ""));
	TEST_ASSERT(rooms_has(&r, &a.member, ""));
	TEST_ASSERT(rooms_join(&r, &a.member, "\xc3\xa9t\xc3\xa9"));
	TEST_ASSERT(rooms_join(&r, &a.member, "\xff\x01"));
	TEST_ASSERT(rooms_join(&r, &a.member, "a"));
	TEST_ASSERT(rooms_join(&r, &a.member, "A"));
	TEST_ASSERT(rooms_join(&r, &a.member, "a ") == 1);
	TEST_ASSERT(rooms_total(&r) == 6);

	longname = malloc(100001);
	TEST_ASSERT(longname != NULL);
	memset(longname, 'n', 100000);
	longname[100000] = '\0';
	TEST_ASSERT(rooms_join(&r, &a.member, longname));
	TEST_ASSERT(rooms_join(&r, &a.member, longname) == 0);
	longname[99999] = 'm';
	TEST_ASSERT(!rooms_has(&r, &a.member, longname));
	free(longname);

	rooms_free(&r);

	return (0);
}

/* Random operations checked against a plain membership matrix. */
#define MODEL_M		64
#define MODEL_R		24

static int
test_model(void)
{
	static const char *names[MODEL_R];
	static char	   namebuf[MODEL_R][8];
	struct rooms	   r;
	struct sock	   s[MODEL_M];
	uint8_t		   in[MODEL_M][MODEL_R];
	const char	  *targets[3], *except[2];
	uint32_t	   x;
	size_t		   i, j, k, n, want, cnt, total;
	int		   op, expect;

	for (j = 0; j < MODEL_R; j++) {
		snprintf(namebuf[j], sizeof(namebuf[j]), "r%zu", j);
		names[j] = namebuf[j];
	}
	rooms_init(&r);
	memset(in, 0, sizeof(in));
	for (i = 0; i < MODEL_M; i++)
		rooms_member_init(&s[i].member, &s[i]);

	x = 2463534242U;
	for (k = 0; k < 200000; k++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		i = x % MODEL_M;
		j = (x >> 8) % MODEL_R;
		op = (int)((x >> 16) % 16);

		if (op < 7) {
			expect = !in[i][j];
			TEST_ASSERT(rooms_join(&r, &s[i].member, names[j]) ==
			    expect);
			in[i][j] = 1;
		} else if (op < 13) {
			expect = in[i][j];
			TEST_ASSERT(rooms_leave(&r, &s[i].member, names[j]) ==
			    expect);
			in[i][j] = 0;
		} else if (op == 13) {
			for (n = 0, j = 0; j < MODEL_R; j++) {
				n += in[i][j];
				in[i][j] = 0;
			}
			TEST_ASSERT(rooms_leave_all(&r, &s[i].member) == n);
		} else if (op == 14) {
			TEST_ASSERT(rooms_has(&r, &s[i].member, names[j]) ==
			    in[i][j]);
		} else {
			targets[0] = names[j];
			targets[1] = names[(j + 5) % MODEL_R];
			targets[2] = names[(j + 7) % MODEL_R];
			except[0] = names[(j + 1) % MODEL_R];
			except[1] = names[(j + 5) % MODEL_R];
			want = 0;
			for (i = 0; i < MODEL_M; i++) {
				s[i].hits = 0;
				if ((in[i][j] || in[i][(j + 7) % MODEL_R]) &&
				    !in[i][(j + 1) % MODEL_R] &&
				    !in[i][(j + 5) % MODEL_R])
					want++;
			}
			n = 0;
			rooms_foreach(&r, targets, 3, except, 2, visit, &n);
			TEST_ASSERT(n == want);
			for (i = 0; i < MODEL_M; i++)
				TEST_ASSERT(s[i].hits <= 1);
		}

		if (k % 1000 == 0) {
			for (total = 0, j = 0; j < MODEL_R; j++) {
				for (cnt = 0, i = 0; i < MODEL_M; i++)
					cnt += in[i][j];
				TEST_ASSERT(rooms_count(&r, names[j]) == cnt);
				total += cnt > 0;
			}
			TEST_ASSERT(rooms_total(&r) == total);
		}
	}

	rooms_free(&r);

	return (0);
}

static int
test_stress(void)
{
	static const char *const all[] = { "all" };
	static const char *const except[] = { "g0", "g1" };
	const char	**groups;
	struct rooms	  r;
	struct sock	 *s;
	char		  name[32], (*gnames)[8];
	size_t		  i, n;
	clock_t		  t0;

	t0 = clock();
	s = calloc(NMEMBERS, sizeof(*s));
	groups = calloc(100, sizeof(*groups));
	gnames = calloc(100, sizeof(*gnames));
	TEST_ASSERT(s != NULL && groups != NULL && gnames != NULL);
	for (i = 0; i < 100; i++) {
		snprintf(gnames[i], sizeof(gnames[i]), "g%zu", i);
		groups[i] = gnames[i];
	}

	rooms_init(&r);
	for (i = 0; i < NMEMBERS; i++) {
		s[i].id = (int)i;
		rooms_member_init(&s[i].member, &s[i]);
		snprintf(name, sizeof(name), "sid:%zu", i);
		TEST_ASSERT(rooms_join(&r, &s[i].member, name));
		TEST_ASSERT(rooms_join(&r, &s[i].member, "all"));
		TEST_ASSERT(rooms_join(&r, &s[i].member, groups[i % 100]));
		TEST_ASSERT(rooms_join(&r, &s[i].member, "all") == 0);
	}
	TEST_ASSERT(rooms_total(&r) == 1 + NMEMBERS + 100);
	TEST_ASSERT(rooms_count(&r, "all") == NMEMBERS);
	TEST_ASSERT(rooms_count(&r, "g7") == NMEMBERS / 100);

	n = 0;
	rooms_foreach(&r, groups, 100, NULL, 0, visit, &n);
	TEST_ASSERT(n == NMEMBERS);
	n = 0;
	rooms_foreach(&r, all, 1, except, 2, visit, &n);
	TEST_ASSERT(n == NMEMBERS - 2 * NMEMBERS / 100);
	for (i = 0; i < NMEMBERS; i++)
		TEST_ASSERT(s[i].hits == (i % 100 < 2 ? 1 : 2));

	/* Half disconnect. */
	for (i = 0; i < NMEMBERS; i += 2)
		TEST_ASSERT(rooms_leave_all(&r, &s[i].member) == 3);
	TEST_ASSERT(rooms_count(&r, "all") == NMEMBERS / 2);
	TEST_ASSERT(rooms_total(&r) == 1 + NMEMBERS / 2 + 50);
	TEST_ASSERT(rooms_count(&r, "g0") == 0 && rooms_count(&r, "g1") > 0);

	for (i = 1; i < NMEMBERS; i += 2) {
		snprintf(name, sizeof(name), "sid:%zu", i);
		TEST_ASSERT(rooms_leave(&r, &s[i].member, name));
		TEST_ASSERT(rooms_leave(&r, &s[i].member, name) == 0);
	}
	TEST_ASSERT(rooms_total(&r) == 1 + 50);

	rooms_free(&r);
	free(s);
	free(groups);
	free(gnames);

	/* Generous: catches quadratic behaviour, not slow machines. */
	TEST_ASSERT((clock() - t0) / CLOCKS_PER_SEC < 10);

	return (0);
}

/* One member in many rooms, and many members in one room. */
static int
test_many_rooms(void)
{
	struct rooms	 r;
	struct sock	 a, *s;
	char		 name[32];
	size_t		 i, n;

	rooms_init(&r);
	rooms_member_init(&a.member, &a);
	for (i = 0; i < NMEMBERS; i++) {
		snprintf(name, sizeof(name), "room-%zu", i);
		TEST_ASSERT(rooms_join(&r, &a.member, name));
	}
	for (i = 0; i < NMEMBERS; i++) {
		snprintf(name, sizeof(name), "room-%zu", i);
		TEST_ASSERT(rooms_join(&r, &a.member, name) == 0);
		TEST_ASSERT(rooms_has(&r, &a.member, name));
	}
	TEST_ASSERT(rooms_total(&r) == NMEMBERS && a.member.count == NMEMBERS);

	s = calloc(NMEMBERS, sizeof(*s));
	TEST_ASSERT(s != NULL);
	for (i = 0; i < NMEMBERS; i++) {
		rooms_member_init(&s[i].member, &s[i]);
		TEST_ASSERT(rooms_join(&r, &s[i].member, "room-0"));
	}
	TEST_ASSERT(rooms_count(&r, "room-0") == NMEMBERS + 1);
	for (i = 0; i < NMEMBERS; i++)
		TEST_ASSERT(rooms_has(&r, &s[i].member, "room-0"));

	TEST_ASSERT(rooms_leave_all(&r, &a.member) == NMEMBERS);
	TEST_ASSERT(rooms_total(&r) == 1);
	TEST_ASSERT(rooms_count(&r, "room-0") == NMEMBERS);

	/* Leave in reverse order, from the middle of the list. */
	for (n = NMEMBERS; n > 0; n--)
		TEST_ASSERT(rooms_leave(&r, &s[n - 1].member, "room-0"));
	TEST_ASSERT(rooms_total(&r) == 0);

	rooms_free(&r);
	free(s);

	return (0);
}

int
main(void)
{
	TEST_RUN(test_join_leave);
	TEST_RUN(test_free_empty);
	TEST_RUN(test_foreach_union);
	TEST_RUN(test_foreach_except);
	TEST_RUN(test_member_rooms);
	TEST_RUN(test_leave_all);
	TEST_RUN(test_rooms_free);
	TEST_RUN(test_names);
	TEST_RUN(test_model);
	TEST_RUN(test_stress);
	TEST_RUN(test_many_rooms);

	return (TEST_REPORT("test_rooms"));
}
