/*
 * test_addrcount.c: unit tests for src/app/addrcount.c (connections per
 * client address, each worker's share kept apart), including a long
 * random run checked against a plain model of the same counts.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include "addrcount.h"
#include "test_help.h"

#define SLOTS		64
#define WORKERS		3

static void	addr4(struct netaddr *, u_int32_t);
static void	addr6(struct netaddr *, u_int32_t);
static void	*table_new(struct addrcount *, u_int32_t, u_int32_t);
static void	*table_two(struct addrcount *, struct netaddr *,
		    struct netaddr *);

static int	test_cap(void);
static int	test_workers(void);
static int	test_families(void);
static int	test_full(void);
static int	test_random(void);

static const u_int64_t	key[2] = { 0x0123456789abcdefULL, 42 };

int
main(void)
{
	TEST_RUN(test_cap);
	TEST_RUN(test_workers);
	TEST_RUN(test_families);
	TEST_RUN(test_full);
	TEST_RUN(test_random);

	return (TEST_REPORT("test_addrcount"));
}

static void
addr4(struct netaddr *a, u_int32_t n)
{
	u_int8_t	b[4];

	b[0] = 10;
	b[1] = (u_int8_t)(n >> 16);
	b[2] = (u_int8_t)(n >> 8);
	b[3] = (u_int8_t)n;
	netaddr_from(a, AF_INET, b);
}

static void
addr6(struct netaddr *a, u_int32_t n)
{
	u_int8_t	b[16];

	memset(b, 0, sizeof(b));
	b[0] = 0x20;
	b[1] = 0x01;
	b[15] = (u_int8_t)n;
	b[14] = (u_int8_t)(n >> 8);
	netaddr_from(a, AF_INET6, b);
}

static void *
table_new(struct addrcount *t, u_int32_t slots, u_int32_t workers)
{
	void	*mem;

	if ((mem = calloc(1, addrcount_size(slots, workers))) == NULL)
		abort();
	addrcount_init(t, mem, slots, workers, key);
	return (mem);
}

/* A table of SLOTS rows for WORKERS workers, and two addresses. */
static void *
table_two(struct addrcount *t, struct netaddr *a, struct netaddr *b)
{
	addr4(a, 1);
	addr4(b, 2);
	return (table_new(t, SLOTS, WORKERS));
}

static int
test_cap(void)
{
	struct addrcount	t;
	struct netaddr		a, b;
	void			*mem;
	int			i;

	mem = table_two(&t, &a, &b);

	for (i = 0; i < 3; i++)
		TEST_ASSERT(addrcount_add(&t, &a, 0, 3) == 1);
	TEST_ASSERT(addrcount_add(&t, &a, 1, 3) == 0);
	TEST_ASSERT(addrcount_get(&t, &a) == 3);
	/* Another address has its own count. */
	TEST_ASSERT(addrcount_add(&t, &b, 1, 3) == 1);
	TEST_ASSERT(addrcount_used(&t) == 2);

	addrcount_del(&t, &a, 0);
	TEST_ASSERT(addrcount_get(&t, &a) == 2);
	TEST_ASSERT(addrcount_add(&t, &a, 2, 3) == 1);

	/* A worker's delete of what it never counted changes nothing. */
	addrcount_del(&t, &b, 0);
	TEST_ASSERT(addrcount_get(&t, &b) == 1);

	addrcount_del(&t, &b, 1);
	TEST_ASSERT(addrcount_get(&t, &b) == 0);
	TEST_ASSERT(addrcount_used(&t) == 1);

	free(mem);
	return (0);
}

static int
test_workers(void)
{
	struct addrcount	t;
	struct netaddr		a, b;
	void			*mem;
	int			i;

	mem = table_two(&t, &a, &b);

	for (i = 0; i < 4; i++)
		TEST_ASSERT(addrcount_add(&t, &a, (u_int32_t)i % 2, 100) == 1);
	TEST_ASSERT(addrcount_add(&t, &b, 1, 100) == 1);
	TEST_ASSERT(addrcount_add(&t, &b, 2, 100) == 1);

	/* Worker 1 died: what it counted goes, the others' stays. */
	addrcount_clear_worker(&t, 1);
	TEST_ASSERT(addrcount_get(&t, &a) == 2);
	TEST_ASSERT(addrcount_get(&t, &b) == 1);

	addrcount_clear_worker(&t, 2);
	TEST_ASSERT(addrcount_get(&t, &b) == 0);
	TEST_ASSERT(addrcount_used(&t) == 1);

	addrcount_clear_worker(&t, 0);
	TEST_ASSERT(addrcount_used(&t) == 0);

	free(mem);
	return (0);
}

static int
test_families(void)
{
	struct addrcount	t;
	struct netaddr		a4, a6, m;
	u_int8_t		mapped[16];
	void			*mem;

	mem = table_new(&t, SLOTS, WORKERS);
	addr4(&a4, 0x0203);
	addr6(&a6, 0x0203);

	TEST_ASSERT(addrcount_add(&t, &a4, 0, 1) == 1);
	TEST_ASSERT(addrcount_add(&t, &a6, 0, 1) == 1);

	/* ::ffff:10.0.2.3 is 10.0.2.3. */
	memset(mapped, 0, sizeof(mapped));
	mapped[10] = 0xff;
	mapped[11] = 0xff;
	mapped[12] = 10;
	mapped[14] = 2;
	mapped[15] = 3;
	netaddr_from(&m, AF_INET6, mapped);
	TEST_ASSERT(addrcount_add(&t, &m, 1, 1) == 0);

	free(mem);
	return (0);
}

static int
test_full(void)
{
	struct addrcount	t;
	struct netaddr		a;
	void			*mem;
	u_int32_t		i;

	mem = table_new(&t, 16, 1);

	/* New addresses stop at three quarters; known ones still count. */
	for (i = 0; i < 12; i++) {
		addr4(&a, i);
		TEST_ASSERT(addrcount_add(&t, &a, 0, 2) == 1);
	}
	addr4(&a, 12);
	TEST_ASSERT(addrcount_add(&t, &a, 0, 2) == ADDRCOUNT_FULL);
	addr4(&a, 0);
	TEST_ASSERT(addrcount_add(&t, &a, 0, 2) == 1);

	addrcount_del(&t, &a, 0);
	addrcount_del(&t, &a, 0);
	addr4(&a, 12);
	TEST_ASSERT(addrcount_add(&t, &a, 0, 2) == 1);

	free(mem);
	return (0);
}

/*
 * Random adds, deletes and worker clears on a small table (long probe
 * runs, wrap-around, backward shifts), checked at every step against a
 * plain array of the same counts.
 */
static int
test_random(void)
{
	struct addrcount	t;
	struct netaddr		a;
	void			*mem;
	u_int32_t		model[40][WORKERS], sum, used, i, w, n;
	int			step, r;

	mem = table_new(&t, 64, WORKERS);
	memset(model, 0, sizeof(model));
	srandom(7);

	for (step = 0; step < 200000; step++) {
		n = (u_int32_t)random() % 40;
		w = (u_int32_t)random() % WORKERS;
		if (n < 20)
			addr4(&a, n * 7919);
		else
			addr6(&a, n);
		sum = model[n][0] + model[n][1] + model[n][2];

		switch (random() % 7) {
		case 0:
		case 1:
		case 2:
			r = addrcount_add(&t, &a, w, 5);
			TEST_ASSERT(r == (sum < 5 ? 1 : 0));
			if (r == 1)
				model[n][w]++;
			break;
		case 3:
		case 4:
		case 5:
			addrcount_del(&t, &a, w);
			if (model[n][w] > 0)
				model[n][w]--;
			break;
		default:
			if (random() % 50 != 0)
				break;
			addrcount_clear_worker(&t, w);
			for (i = 0; i < 40; i++)
				model[i][w] = 0;
			break;
		}

		used = 0;
		for (i = 0; i < 40; i++) {
			if (i < 20)
				addr4(&a, i * 7919);
			else
				addr6(&a, i);
			sum = model[i][0] + model[i][1] + model[i][2];
			TEST_ASSERT(addrcount_get(&t, &a) == sum);
			if (sum > 0)
				used++;
		}
		TEST_ASSERT(addrcount_used(&t) == used);
	}

	free(mem);
	return (0);
}
