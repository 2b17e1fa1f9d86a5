/*
 * test_limit.c: unit tests for src/app/realtime/limit.c, the event budget
 * of a client connection (a token bucket per session id).
 */

#include <sys/types.h>

#include <string.h>

#include "realtime/limit.h"
#include "test_help.h"

static int	take_n(const char *, u_int64_t, int);

static int	test_burst(void);
static int	test_refill_cap(void);
static int	test_refill_rate(void);
static int	test_notice(void);
static int	test_abuse(void);
static int	test_keys(void);
static int	test_sweep(void);

static const struct limit_conf	conf = { 20, 40, 200 };

int
main(void)
{
	limit_init(&conf);

	TEST_RUN(test_burst);
	TEST_RUN(test_refill_cap);
	TEST_RUN(test_refill_rate);
	TEST_RUN(test_notice);
	TEST_RUN(test_abuse);
	TEST_RUN(test_keys);
	TEST_RUN(test_sweep);

	limit_clear();
	return (TEST_REPORT("test_limit"));
}

/* How many of n events at now are within the budget. */
static int
take_n(const char *key, u_int64_t now, int n)
{
	int	i, ok;

	for (i = ok = 0; i < n; i++) {
		if (limit_take(key, now) == LIMIT_OK)
			ok++;
	}

	return (ok);
}

static int
test_burst(void)
{
	limit_clear();
	TEST_ASSERT(take_n("a", 1000, 100) == 40);
	TEST_ASSERT(limit_count() == 1);

	return (0);
}

/* Idle for a minute, still no more than the burst. */
static int
test_refill_cap(void)
{
	limit_clear();
	TEST_ASSERT(take_n("a", 1000, 10) == 10);
	TEST_ASSERT(take_n("a", 61000, 100) == 40);

	return (0);
}

static int
test_refill_rate(void)
{
	limit_clear();
	TEST_ASSERT(take_n("a", 1000, 40) == 40);
	TEST_ASSERT(take_n("a", 1000, 1) == 0);
	/* 20 a second: 10 in half a second. */
	TEST_ASSERT(take_n("a", 1500, 100) == 10);
	TEST_ASSERT(take_n("a", 1550, 100) == 1);

	return (0);
}

/* The first drop says so; then once a second at most. */
static int
test_notice(void)
{
	limit_clear();
	TEST_ASSERT(take_n("a", 1000, 40) == 40);
	TEST_ASSERT(limit_take("a", 1000) == LIMIT_NOTICE);
	TEST_ASSERT(limit_take("a", 1000) == LIMIT_DROP);
	TEST_ASSERT(limit_take("a", 1010) == LIMIT_DROP);
	/* One token at 1050: taken, then drops until a second has passed. */
	TEST_ASSERT(limit_take("a", 1050) == LIMIT_OK);
	TEST_ASSERT(limit_take("a", 1050) == LIMIT_DROP);
	TEST_ASSERT(take_n("a", 2000, 100) == 19);
	TEST_ASSERT(limit_take("a", 2000) == LIMIT_DROP);
	TEST_ASSERT(limit_take("a", 2001) == LIMIT_DROP);
	limit_clear();
	TEST_ASSERT(take_n("b", 5000, 40) == 40);
	TEST_ASSERT(limit_take("b", 5000) == LIMIT_NOTICE);
	TEST_ASSERT(take_n("b", 6000, 20) == 20);
	TEST_ASSERT(limit_take("b", 6000) == LIMIT_NOTICE);

	return (0);
}

/* conf.abuse drops with the bucket never back to half: disconnect. */
static int
test_abuse(void)
{
	int	i, r;

	limit_clear();
	TEST_ASSERT(take_n("a", 1000, 40) == 40);
	for (i = 0; i < 200; i++) {
		r = limit_take("a", 1000);
		TEST_ASSERT(r == LIMIT_DROP || r == LIMIT_NOTICE);
	}
	TEST_ASSERT(limit_take("a", 1000) == LIMIT_ABUSE);

	/* Back over half the burst, the drops are forgiven. */
	limit_clear();
	TEST_ASSERT(take_n("b", 1000, 40) == 40);
	for (i = 0; i < 150; i++)
		(void)limit_take("b", 1000);
	TEST_ASSERT(limit_take("b", 3000) == LIMIT_OK);
	for (i = 0; i < 39; i++)
		TEST_ASSERT(limit_take("b", 3000) == LIMIT_OK);
	for (i = 0; i < 200; i++)
		TEST_ASSERT(limit_take("b", 3000) != LIMIT_ABUSE);

	return (0);
}

/* Each connection has its own bucket. */
static int
test_keys(void)
{
	char	key[64];

	limit_clear();
	TEST_ASSERT(take_n("a", 1000, 100) == 40);
	TEST_ASSERT(take_n("b", 1000, 100) == 40);
	TEST_ASSERT(limit_count() == 2);

	/* Keys past LIMIT_KEY_MAX are cut, not overrun. */
	memset(key, 'x', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	TEST_ASSERT(take_n(key, 1000, 100) == 40);
	key[40] = 'y';
	TEST_ASSERT(take_n(key, 1000, 1) == 0);

	return (0);
}

/* A bucket full again is forgotten; one still spent is kept. */
static int
test_sweep(void)
{
	limit_clear();
	TEST_ASSERT(take_n("spent", 1000, 40) == 40);
	TEST_ASSERT(take_n("idle", 1000, 1) == 1);
	limit_sweep(1010);
	TEST_ASSERT(limit_count() == 2);
	limit_sweep(1100);
	TEST_ASSERT(limit_count() == 1);
	limit_sweep(2100);
	TEST_ASSERT(limit_count() == 1);
	/* Forgotten or not, the budget is the same. */
	TEST_ASSERT(take_n("idle", 2100, 100) == 40);
	TEST_ASSERT(limit_count() == 2);
	limit_sweep(10000);
	TEST_ASSERT(limit_count() == 0);

	return (0);
}
