/*
 * test_order.c: unit tests for src/sio/server/server_order.c, the one
 * order of broadcasts on every worker. Its Kore calls, the bus and the
 * fan-outs are stubbed at link time (stubs_order.c); the tests drive
 * numbers through it as broadcasts made here (server_order_put_local())
 * and as messages from the bus, and check what is fanned out, and when.
 *
 * server_order.c keeps its state in statics, so the tests run in one
 * sequence, each taking fresh numbers with server_order_take().
 *
 * Each broadcast's fan-out time reaches the function given to
 * sio_stats_attach() (stats.c, linked as it is), from the time its head
 * carries: test_fanout_time().
 */

#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "server/server.h"
#include "stubs_order.h"
#include "test_help.h"

static struct server_bcast *local(const char *);
static void	put_local(u_int64_t, const char *);
static void	put_bus(u_int8_t, u_int64_t, const char *);
static void	put_bus_at(u_int8_t, u_int64_t, u_int64_t, const char *);
static void	fanout_record(uint64_t);
static int	logged(size_t, u_int8_t, int, const char *);

static int	test_shared_counter(void);
static int	test_in_order(void);
static int	test_out_of_order(void);
static int	test_defer(void);
static int	test_gap(void);
static int	test_bus(void);
static int	test_mixed(void);
static int	test_reentrant(void);
static int	test_fanout_time(void);
static void	reentrant_put(void);

static u_int64_t	reentrant_seq;
static size_t		reentrant_seen;
static uint64_t		fanout_ns[8];
static size_t		fanout_n;

int
main(void)
{
	TEST_RUN(test_shared_counter);
	TEST_RUN(test_in_order);
	TEST_RUN(test_out_of_order);
	TEST_RUN(test_defer);
	TEST_RUN(test_gap);
	TEST_RUN(test_bus);
	TEST_RUN(test_mixed);
	TEST_RUN(test_reentrant);
	TEST_RUN(test_fanout_time);

	return (TEST_REPORT("test_order"));
}

/* A broadcast of this worker's, named by its one room. */
static struct server_bcast *
local(const char *name)
{
	struct server_bcast	*b;

	if ((b = calloc(1, sizeof(*b) + sizeof(char *))) == NULL)
		abort();
	b->names = (const char **)(b + 1);
	b->names[0] = name;
	b->nrooms = 1;

	return (b);
}

static void
put_local(u_int64_t seq, const char *name)
{
	server_order_put_local(seq, local(name));
}

/* A numbered message as another worker's bus message brings it. */
static void
put_bus(u_int8_t type, u_int64_t seq, const char *payload)
{
	put_bus_at(type, seq, sio_stats_now(), payload);
}

/* The same, made at made (sio_stats_now()'s clock). */
static void
put_bus_at(u_int8_t type, u_int64_t seq, u_int64_t made, const char *payload)
{
	u_int8_t	buf[64];
	size_t		len;

	len = strlen(payload);
	memcpy(buf, &seq, sizeof(seq));
	memcpy(buf + sizeof(seq), &made, sizeof(made));
	memcpy(buf + SERVER_ORDER_HEAD, payload, len);
	stub_bus[type](2, buf, SERVER_ORDER_HEAD + len);
}

static void
fanout_record(uint64_t ns)
{
	if (fanout_n < sizeof(fanout_ns) / sizeof(fanout_ns[0]))
		fanout_ns[fanout_n++] = ns;
}

/* Delivery i was of type, local or not, with these bytes. */
static int
logged(size_t i, u_int8_t type, int is_local, const char *data)
{
	return (i < stub_nlog && stub_log[i].type == type &&
	    stub_log[i].local == is_local &&
	    TEST_MEMEQ(stub_log[i].data, stub_log[i].len, data));
}

/* The parent's counter: numbers taken before a worker starts are past. */
static int
test_shared_counter(void)
{
	server_order_parent_init();
	TEST_ASSERT(server_order_take() == 0);
	TEST_ASSERT(server_order_take() == 1);
	TEST_ASSERT(server_order_take() == 2);

	server_order_init();
	TEST_ASSERT(stub_bus[SIO_MSG_BROADCAST] != NULL);
	TEST_ASSERT(stub_bus[SIO_MSG_SOCKETS_LEAVE] != NULL);

	/* Due now is 3: it goes out at once. */
	stub_nlog = 0;
	put_local(server_order_take(), "a");
	TEST_ASSERT(stub_nlog == 1 && logged(0, SIO_MSG_BROADCAST, 1, "a"));

	/* A number lower than due (given up on, then come) goes at once. */
	put_local(1, "late");
	TEST_ASSERT(stub_nlog == 2 && logged(1, SIO_MSG_BROADCAST, 1, "late"));

	return (0);
}

static int
test_in_order(void)
{
	stub_nlog = 0;
	put_local(server_order_take(), "one");
	put_local(server_order_take(), "two");
	put_local(server_order_take(), "three");

	TEST_ASSERT(stub_nlog == 3);
	TEST_ASSERT(logged(0, SIO_MSG_BROADCAST, 1, "one"));
	TEST_ASSERT(logged(1, SIO_MSG_BROADCAST, 1, "two"));
	TEST_ASSERT(logged(2, SIO_MSG_BROADCAST, 1, "three"));

	return (0);
}

/* One that comes early waits for those before it. */
static int
test_out_of_order(void)
{
	u_int64_t	a, b, c;

	a = server_order_take();
	b = server_order_take();
	c = server_order_take();

	stub_nlog = 0;
	put_local(c, "c");
	put_bus(SIO_MSG_BROADCAST, b, "b");
	TEST_ASSERT(stub_nlog == 0);

	put_local(a, "a");
	TEST_ASSERT(stub_nlog == 3);
	TEST_ASSERT(logged(0, SIO_MSG_BROADCAST, 1, "a"));
	TEST_ASSERT(logged(1, SIO_MSG_BROADCAST, 0, "b"));
	TEST_ASSERT(logged(2, SIO_MSG_BROADCAST, 1, "c"));

	return (0);
}

/* Nothing is fanned out here between sio_defer_begin() and _end(). */
static int
test_defer(void)
{
	stub_nlog = 0;
	sio_defer_begin();
	put_local(server_order_take(), "x");
	sio_defer_begin();
	put_bus(SIO_MSG_BROADCAST, server_order_take(), "y");
	sio_defer_end();
	TEST_ASSERT(stub_nlog == 0);

	sio_defer_end();
	TEST_ASSERT(stub_nlog == 2);
	TEST_ASSERT(logged(0, SIO_MSG_BROADCAST, 1, "x"));
	TEST_ASSERT(logged(1, SIO_MSG_BROADCAST, 0, "y"));

	return (0);
}

/* A number that never comes is given up on after 100 ms, with a log. */
static int
test_gap(void)
{
	u_int64_t	lost, next;
	int		warned;

	lost = server_order_take();
	next = server_order_take();
	warned = stub_warnings;

	stub_nlog = 0;
	put_local(next, "next");
	server_order_tick(stub_now + 99);
	TEST_ASSERT(stub_nlog == 0 && stub_warnings == warned);

	stub_now += 100;
	server_order_tick(stub_now);
	TEST_ASSERT(stub_warnings == warned + 1);
	TEST_ASSERT(stub_nlog == 1 && logged(0, SIO_MSG_BROADCAST, 1, "next"));

	/* The lost one after all: out at once, the order goes on. */
	put_bus(SIO_MSG_BROADCAST, lost, "lost");
	put_local(server_order_take(), "after");
	TEST_ASSERT(stub_nlog == 3);
	TEST_ASSERT(logged(1, SIO_MSG_BROADCAST, 0, "lost"));
	TEST_ASSERT(logged(2, SIO_MSG_BROADCAST, 1, "after"));

	/* Nothing waiting: a tick does nothing. */
	server_order_tick(stub_now + 1000);
	TEST_ASSERT(stub_nlog == 3 && stub_warnings == warned + 1);

	return (0);
}

/*
 * Both message types from the bus, their number taken off, each logged
 * for recovery as it is fanned out (local broadcasts are not: with
 * recovery on, server_emit.c puts them as bytes too).
 */
static int
test_bus(void)
{
	u_int64_t	a, b;
	size_t		was;

	a = server_order_take();
	b = server_order_take();

	stub_nlog = 0;
	was = stub_logged;
	put_bus(SIO_MSG_SOCKETS_LEAVE, b, "leave");
	TEST_ASSERT(stub_nlog == 0 && stub_logged == was);
	put_bus(SIO_MSG_BROADCAST, a, "hello");
	TEST_ASSERT(stub_nlog == 2 && stub_logged == was + 2);
	TEST_ASSERT(logged(0, SIO_MSG_BROADCAST, 0, "hello"));
	TEST_ASSERT(logged(1, SIO_MSG_SOCKETS_LEAVE, 0, "leave"));
	put_local(server_order_take(), "mine");
	TEST_ASSERT(stub_nlog == 3 && stub_logged == was + 2);

	return (0);
}

/* Many numbers in a shuffled order come out sorted. */
static int
test_mixed(void)
{
	u_int64_t	base, i;
	static const u_int64_t	perm[] = { 5, 2, 7, 0, 3, 6, 1, 4 };
	char		name[8];

	base = server_order_take();
	for (i = 1; i < 8; i++)
		(void)server_order_take();

	stub_nlog = 0;
	for (i = 0; i < 8; i++) {
		(void)snprintf(name, sizeof(name), "%llu",
		    (unsigned long long)perm[i]);
		if (perm[i] % 2)
			put_bus(SIO_MSG_BROADCAST, base + perm[i], name);
		else
			put_local(base + perm[i], perm[i] == 0 ? "0" :
			    perm[i] == 2 ? "2" : perm[i] == 4 ? "4" : "6");
	}

	TEST_ASSERT(stub_nlog == 8);
	for (i = 0; i < 8; i++) {
		(void)snprintf(name, sizeof(name), "%llu",
		    (unsigned long long)i);
		TEST_ASSERT(logged(i, SIO_MSG_BROADCAST, i % 2 == 0, name));
	}

	return (0);
}

static void
reentrant_put(void)
{
	stub_hook = NULL;
	put_local(reentrant_seq, "inner");
	reentrant_seen = stub_nlog;
}

/*
 * A fan-out whose handlers broadcast (a socket closed mid-send): the new
 * broadcast waits for the fan-out under way, then goes in its turn.
 */
static int
test_reentrant(void)
{
	u_int64_t	outer;

	outer = server_order_take();
	reentrant_seq = server_order_take();

	stub_nlog = 0;
	stub_hook = reentrant_put;
	put_local(outer, "outer");
	TEST_ASSERT(stub_hook == NULL);
	TEST_ASSERT(reentrant_seen == 1);	/* not inside the fan-out */
	TEST_ASSERT(stub_nlog == 2);
	TEST_ASSERT(logged(0, SIO_MSG_BROADCAST, 1, "outer"));
	TEST_ASSERT(logged(1, SIO_MSG_BROADCAST, 1, "inner"));

	return (0);
}

/*
 * Each broadcast, made here or on another worker, and each filtered one
 * tells its fan-out time once it is fanned out here, from the time in
 * its head (one made 5 ms ago took at least 5 ms); a socketsLeave is no
 * broadcast. A broadcast waiting for its turn is not done yet.
 */
static int
test_fanout_time(void)
{
	struct sio_stats	st;
	u_int64_t		a, b, c, d, now;

	memset(&st, 0xff, sizeof(st));
	sio_stats_attach(&st, fanout_record);
	TEST_ASSERT(st.sessions_polling == 0 && st.rooms == 0);

	a = server_order_take();
	b = server_order_take();
	c = server_order_take();
	d = server_order_take();
	now = sio_stats_now();

	stub_nlog = 0;
	put_bus_at(SIO_MSG_BROADCAST, b, now - 5000000, "b");
	TEST_ASSERT(fanout_n == 0);		/* waits for a */
	put_local(a, "a");
	TEST_ASSERT(stub_nlog == 2 && fanout_n == 2);
	TEST_ASSERT(fanout_ns[0] < 5000000);	/* a: made just now */
	TEST_ASSERT(fanout_ns[1] >= 5000000 && fanout_ns[1] < 5000000000ULL);

	put_bus_at(SIO_MSG_SOCKETS_LEAVE, c, now, "c");
	TEST_ASSERT(stub_nlog == 3 && fanout_n == 2);
	put_bus_at(SIO_MSG_FILTERED, d, now - 1000000, "d");
	TEST_ASSERT(stub_nlog == 4 && fanout_n == 3);
	TEST_ASSERT(fanout_ns[2] >= 1000000);

	sio_stats_attach(NULL, NULL);

	return (0);
}
