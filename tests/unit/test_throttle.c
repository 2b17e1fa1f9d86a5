/*
 * test_throttle.c: unit tests for src/app/auth/throttle.c (the counters
 * of failed logins the workers share): windows, several rules at once,
 * taking attempts back, the fixed size and its eviction, keys, and the
 * table seen from a forked child.
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <string.h>
#include <unistd.h>

#include "auth/throttle.h"
#include "test_help.h"

static struct throttle_rule	rule(u_int64_t, u_int32_t, int64_t);

static int	test_window(void);
static int	test_rules(void);
static int	test_give_clear(void);
static int	test_no_limit(void);
static int	test_eviction(void);
static int	test_keys(void);
static int	test_fork(void);

int
main(void)
{
	TEST_RUN(test_window);
	TEST_RUN(test_rules);
	TEST_RUN(test_give_clear);
	TEST_RUN(test_no_limit);
	TEST_RUN(test_eviction);
	TEST_RUN(test_keys);
	TEST_RUN(test_fork);

	return (TEST_REPORT("test_throttle"));
}

static struct throttle_rule
rule(u_int64_t key, u_int32_t max, int64_t window)
{
	struct throttle_rule	r;

	r.key = key;
	r.max = max;
	r.window = window;

	return (r);
}

/* max attempts in a window that opens with the first; then a new one. */
static int
test_window(void)
{
	struct throttle		*t;
	struct throttle_rule	 r = rule(42, 3, 1000);

	TEST_ASSERT((t = throttle_create(64)) != NULL);
	TEST_ASSERT(throttle_take(t, &r, 1, 5000) == 0);
	TEST_ASSERT(throttle_take(t, &r, 1, 5100) == 0);
	TEST_ASSERT(throttle_take(t, &r, 1, 5200) == 0);
	/* Full: the wait is until the window's end, 6000. */
	TEST_ASSERT(throttle_take(t, &r, 1, 5300) == 700);
	TEST_ASSERT(throttle_take(t, &r, 1, 5999) == 1);
	/* Refused attempts don't count: the window ends as it would. */
	TEST_ASSERT(throttle_take(t, &r, 1, 6000) == 0);
	TEST_ASSERT(throttle_take(t, &r, 1, 6500) == 0);
	TEST_ASSERT(throttle_take(t, &r, 1, 6999) == 0);
	TEST_ASSERT(throttle_take(t, &r, 1, 6999) == 1);
	throttle_destroy(t);

	return (0);
}

/* Blocked when any rule is full; then nothing is counted for any. */
static int
test_rules(void)
{
	struct throttle		*t;
	struct throttle_rule	 rs[2];

	TEST_ASSERT((t = throttle_create(64)) != NULL);
	rs[0] = rule(1, 10, 60000);	/* an address */
	rs[1] = rule(2, 2, 900000);	/* an account */
	TEST_ASSERT(throttle_take(t, rs, 2, 1000) == 0);
	TEST_ASSERT(throttle_take(t, rs, 2, 1000) == 0);
	TEST_ASSERT(throttle_take(t, rs, 2, 2000) == 900000 - 1000);

	/* The address alone has room: 2 attempts were counted, not 3. */
	rs[1] = rule(3, 2, 900000);
	TEST_ASSERT(throttle_take(t, rs, 2, 2000) == 0);
	TEST_ASSERT(throttle_take(t, rs, 1, 2000) == 0);
	TEST_ASSERT(throttle_take(t, rs, 1, 2000) == 0);
	TEST_ASSERT(throttle_take(t, rs, 1, 2000) == 0);
	TEST_ASSERT(throttle_take(t, rs, 1, 2000) == 0);
	TEST_ASSERT(throttle_take(t, rs, 1, 2000) == 0);
	TEST_ASSERT(throttle_take(t, rs, 1, 2000) == 0);
	TEST_ASSERT(throttle_take(t, rs, 1, 2000) == 0);
	TEST_ASSERT(throttle_take(t, rs, 1, 2000) == 61000 - 2000);

	/* The longest wait of the full rules. */
	rs[1] = rule(2, 2, 900000);
	TEST_ASSERT(throttle_take(t, rs, 2, 3000) == 901000 - 3000);
	throttle_destroy(t);

	return (0);
}

static int
test_give_clear(void)
{
	struct throttle		*t;
	struct throttle_rule	 r = rule(7, 2, 1000);

	TEST_ASSERT((t = throttle_create(64)) != NULL);
	TEST_ASSERT(throttle_take(t, &r, 1, 100) == 0);
	TEST_ASSERT(throttle_take(t, &r, 1, 100) == 0);
	TEST_ASSERT(throttle_take(t, &r, 1, 100) != 0);
	throttle_give(t, 7, 200);
	TEST_ASSERT(throttle_take(t, &r, 1, 200) == 0);
	TEST_ASSERT(throttle_take(t, &r, 1, 200) != 0);
	throttle_clear(t, 7, 300);
	TEST_ASSERT(throttle_take(t, &r, 1, 300) == 0);
	TEST_ASSERT(throttle_take(t, &r, 1, 300) == 0);
	TEST_ASSERT(throttle_take(t, &r, 1, 300) != 0);

	/* Giving back more than was taken, or an unknown key: no harm. */
	throttle_give(t, 7, 400);
	throttle_give(t, 7, 400);
	throttle_give(t, 7, 400);
	throttle_give(t, 8, 400);
	throttle_clear(t, 9, 400);
	TEST_ASSERT(throttle_take(t, &r, 1, 400) == 0);
	TEST_ASSERT(throttle_take(t, &r, 1, 400) == 0);
	TEST_ASSERT(throttle_take(t, &r, 1, 400) != 0);
	throttle_destroy(t);

	return (0);
}

static int
test_no_limit(void)
{
	struct throttle		*t;
	struct throttle_rule	 rs[2];
	int			 i;

	TEST_ASSERT((t = throttle_create(64)) != NULL);
	rs[0] = rule(1, 0, 1000);
	rs[1] = rule(2, 1, 1000);
	for (i = 0; i < 1000; i++)
		TEST_ASSERT(throttle_take(t, rs, 1, 10) == 0);
	TEST_ASSERT(throttle_take(t, rs, 2, 10) == 0);
	TEST_ASSERT(throttle_take(t, rs, 2, 10) == 990 + 10);
	throttle_destroy(t);

	return (0);
}

/*
 * One set of THROTTLE_WAYS entries: a new key takes a free or expired
 * entry, else the one whose window ends first; nothing grows.
 */
static int
test_eviction(void)
{
	struct throttle		*t;
	struct throttle_rule	 r;
	u_int64_t		 k;

	TEST_ASSERT((t = throttle_create(1)) != NULL);
	for (k = 1; k <= THROTTLE_WAYS; k++) {
		r = rule(k, 1, 1000);
		TEST_ASSERT(throttle_take(t, &r, 1, (int64_t)k) == 0);
	}
	for (k = 1; k <= THROTTLE_WAYS; k++) {
		r = rule(k, 1, 1000);
		TEST_ASSERT(throttle_take(t, &r, 1, 100) != 0);
	}

	/* Key 100 pushes out key 1, the oldest; the others stay. */
	r = rule(100, 1, 1000);
	TEST_ASSERT(throttle_take(t, &r, 1, 100) == 0);
	r = rule(1, 1, 1000);
	TEST_ASSERT(throttle_take(t, &r, 1, 100) == 0);	/* key 2 went */
	r = rule(3, 1, 1000);
	TEST_ASSERT(throttle_take(t, &r, 1, 100) != 0);

	/* Once windows end, their entries are free again. */
	r = rule(200, 1, 1000);
	TEST_ASSERT(throttle_take(t, &r, 1, 5000) == 0);
	r = rule(100, 1, 1000);
	TEST_ASSERT(throttle_take(t, &r, 1, 5000) == 0);
	throttle_destroy(t);

	return (0);
}

static int
test_keys(void)
{
	struct throttle		*a, *b;
	u_int64_t		 k;

	TEST_ASSERT((a = throttle_create(64)) != NULL);
	TEST_ASSERT((b = throttle_create(64)) != NULL);

	k = throttle_key(a, 'E', "bob@x.com", 9);
	TEST_ASSERT(k == throttle_key(a, 'E', "bob@x.com", 9));
	TEST_ASSERT(k != throttle_key(a, 'A', "bob@x.com", 9));
	TEST_ASSERT(k != throttle_key(a, 'E', "bob@x.co", 8));
	/* Each table has its own secret: no one can aim at a set. */
	TEST_ASSERT(k != throttle_key(b, 'E', "bob@x.com", 9));
	TEST_ASSERT(throttle_key(a, 'E', "", 0) != 0);

	throttle_destroy(a);
	throttle_destroy(b);

	return (0);
}

/* A child forked after throttle_create() counts in the same table. */
static int
test_fork(void)
{
	struct throttle		*t;
	struct throttle_rule	 r = rule(5, 4, 60000);
	pid_t			 pid;
	int			 status, i;

	TEST_ASSERT((t = throttle_create(64)) != NULL);
	TEST_ASSERT(throttle_take(t, &r, 1, 1000) == 0);

	if ((pid = fork()) == 0) {
		for (i = 0; i < 3; i++) {
			if (throttle_take(t, &r, 1, 1000) != 0)
				_exit(1);
		}
		_exit(throttle_take(t, &r, 1, 1000) == 0);
	}
	TEST_ASSERT(pid > 0);
	TEST_ASSERT(waitpid(pid, &status, 0) == pid);
	TEST_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	TEST_ASSERT(throttle_take(t, &r, 1, 1000) == 60000);
	throttle_destroy(t);

	return (0);
}
