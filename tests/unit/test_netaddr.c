/*
 * test_netaddr.c: unit tests for src/app/netaddr.c (addresses, ranges,
 * TRUSTED_PROXIES lists, the client X-Forwarded-For names, the keys of
 * per-address counters).
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <string.h>

#include "netaddr.h"
#include "test_help.h"

static int	str_is(const struct netaddr *, const char *);

static int	test_parse(void);
static int	test_list(void);
static int	test_match(void);
static int	test_forwarded(void);
static int	test_key(void);

int
main(void)
{
	TEST_RUN(test_parse);
	TEST_RUN(test_list);
	TEST_RUN(test_match);
	TEST_RUN(test_forwarded);
	TEST_RUN(test_key);

	return (TEST_REPORT("test_netaddr"));
}

static int
str_is(const struct netaddr *a, const char *want)
{
	char	buf[NETADDR_STRLEN];

	netaddr_str(a, buf);
	return (!strcmp(buf, want));
}

static int
test_parse(void)
{
	struct netaddr	a;

	TEST_ASSERT(netaddr_parse("127.0.0.1", 9, &a));
	TEST_ASSERT(a.family == AF_INET && a.prefix == 32);
	TEST_ASSERT(str_is(&a, "127.0.0.1"));
	TEST_ASSERT(netaddr_parse("  10.1.2.3 ", 11, &a) && str_is(&a, "10.1.2.3"));
	TEST_ASSERT(netaddr_parse("::1", 3, &a) && a.family == AF_INET6);
	TEST_ASSERT(netaddr_parse("10.0.0.0/8", 10, &a) && a.prefix == 8);
	TEST_ASSERT(netaddr_parse("fd00::/8", 8, &a) && a.prefix == 8);
	/* Mapped IPv6 is the IPv4 address. */
	TEST_ASSERT(netaddr_parse("::ffff:1.2.3.4", 14, &a));
	TEST_ASSERT(a.family == AF_INET && str_is(&a, "1.2.3.4"));

	TEST_ASSERT(!netaddr_parse("", 0, &a));
	TEST_ASSERT(!netaddr_parse("localhost", 9, &a));
	TEST_ASSERT(!netaddr_parse("1.2.3.4/33", 10, &a));
	TEST_ASSERT(!netaddr_parse("1.2.3.4/", 8, &a));
	TEST_ASSERT(!netaddr_parse("1.2.3.4/-1", 10, &a));
	TEST_ASSERT(!netaddr_parse("1.2.3", 5, &a));
	TEST_ASSERT(!netaddr_parse("1.2.3.4\0x", 9, &a));

	return (0);
}

static int
test_list(void)
{
	struct netaddr_list	l;
	char			big[1024];
	size_t			i;

	TEST_ASSERT(netaddr_list_parse("127.0.0.1", &l) && l.n == 1);
	TEST_ASSERT(netaddr_list_parse("127.0.0.1, 10.0.0.0/8 ::1", &l));
	TEST_ASSERT(l.n == 3);
	TEST_ASSERT(netaddr_list_parse("", &l) && l.n == 0);
	TEST_ASSERT(!netaddr_list_parse("127.0.0.1, nope", &l));

	big[0] = '\0';
	for (i = 0; i < NETADDR_LIST_MAX + 1; i++)
		strcat(big, "1.1.1.1,");
	TEST_ASSERT(!netaddr_list_parse(big, &l));

	return (0);
}

static int
test_match(void)
{
	struct netaddr_list	l;
	struct netaddr		a;

	TEST_ASSERT(netaddr_list_parse("10.0.0.0/8, 192.168.1.0/25, ::1", &l));
	TEST_ASSERT(netaddr_parse("10.200.3.4", 10, &a) && netaddr_list_match(&l, &a));
	TEST_ASSERT(netaddr_parse("11.0.0.1", 8, &a) && !netaddr_list_match(&l, &a));
	TEST_ASSERT(netaddr_parse("192.168.1.127", 13, &a) && netaddr_list_match(&l, &a));
	TEST_ASSERT(netaddr_parse("192.168.1.128", 13, &a) && !netaddr_list_match(&l, &a));
	TEST_ASSERT(netaddr_parse("::1", 3, &a) && netaddr_list_match(&l, &a));
	TEST_ASSERT(netaddr_parse("::2", 3, &a) && !netaddr_list_match(&l, &a));

	netaddr_from(&a, AF_INET, "\x7f\x00\x00\x01");
	TEST_ASSERT(str_is(&a, "127.0.0.1"));
	netaddr_from(&a, AF_INET6,
	    "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\x01\x02\x03");
	TEST_ASSERT(a.family == AF_INET && netaddr_list_match(&l, &a));

	return (0);
}

static int
test_forwarded(void)
{
	struct netaddr_list	t;
	struct netaddr		a;

	TEST_ASSERT(netaddr_list_parse("127.0.0.1, 10.0.0.0/8", &t));

	TEST_ASSERT(netaddr_forwarded("203.0.113.9", &t, &a));
	TEST_ASSERT(str_is(&a, "203.0.113.9"));
	/* Right-most untrusted: the forged left part is skipped. */
	TEST_ASSERT(netaddr_forwarded("6.6.6.6, 203.0.113.9, 10.0.0.5", &t, &a));
	TEST_ASSERT(str_is(&a, "203.0.113.9"));
	TEST_ASSERT(netaddr_forwarded("2001:db8::7", &t, &a));
	TEST_ASSERT(str_is(&a, "2001:db8::7"));

	/* Nothing usable: the caller keeps the peer. */
	TEST_ASSERT(!netaddr_forwarded("", &t, &a));
	TEST_ASSERT(!netaddr_forwarded("10.0.0.1, 127.0.0.1", &t, &a));
	TEST_ASSERT(!netaddr_forwarded("1.2.3.4, garbage", &t, &a));
	TEST_ASSERT(!netaddr_forwarded("1.2.3.0/24", &t, &a));

	return (0);
}

/* An IPv4 address keys whole; IPv6 addresses of one /64 share a key. */
static int
test_key(void)
{
	struct netaddr	a, b;
	u_int8_t	ka[NETADDR_KEYLEN], kb[NETADDR_KEYLEN];
	size_t		la, lb;

	TEST_ASSERT(netaddr_parse("192.0.2.7", 9, &a));
	TEST_ASSERT(netaddr_parse("192.0.2.8", 9, &b));
	la = netaddr_key(&a, ka);
	lb = netaddr_key(&b, kb);
	TEST_ASSERT(la == 5 && lb == 5);
	TEST_ASSERT(ka[0] == AF_INET && memcmp(ka + 1, a.bytes, 4) == 0);
	TEST_ASSERT(memcmp(ka, kb, la) != 0);

	TEST_ASSERT(netaddr_parse("2001:db8:1:2::1", 15, &a));
	TEST_ASSERT(netaddr_parse("2001:db8:1:2:ffff::9", 20, &b));
	la = netaddr_key(&a, ka);
	lb = netaddr_key(&b, kb);
	TEST_ASSERT(la == 17 && lb == 17);
	TEST_ASSERT(ka[0] == AF_INET6 && memcmp(ka, kb, la) == 0);
	/* The address itself is left as it was. */
	TEST_ASSERT(str_is(&b, "2001:db8:1:2:ffff::9"));

	TEST_ASSERT(netaddr_parse("2001:db8:1:3::1", 15, &b));
	(void)netaddr_key(&b, kb);
	TEST_ASSERT(memcmp(ka, kb, la) != 0);

	return (0);
}
