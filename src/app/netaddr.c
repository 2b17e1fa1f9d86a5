/*
 * Client addresses for the per-address limits (connections, failed
 * logins). A peer in TRUSTED_PROXIES (default 127.0.0.1: a proxy on the
 * same host) is not the client: the client is the address X-Forwarded-For
 * names, read from the right, the first that is not a trusted proxy
 * itself (each proxy appends the address it got the request from, so
 * everything left of that is the client's to forge). From any other peer
 * X-Forwarded-For is ignored.
 *
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) counts as the IPv4
 * address. Lists are comma- or space-separated addresses and CIDR ranges
 * ("127.0.0.1, 10.0.0.0/8, ::1").
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"

static void	netaddr_unmap(struct netaddr *);

/* The address of family at bytes (a peer's, from its sockaddr). */
void
netaddr_from(struct netaddr *a, int family, const void *bytes)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	a->prefix = family == AF_INET ? 32 : 128;
	memcpy(a->bytes, bytes, family == AF_INET ? 4 : 16);
	netaddr_unmap(a);
}

/*
 * The address (or range, with "/bits") in the len bytes at s, spaces
 * around it allowed. Returns 1, or 0 when it is not one.
 */
int
netaddr_parse(const char *s, size_t len, struct netaddr *a)
{
	char		buf[64], *slash, *end;
	size_t		i;
	long		bits;

	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0 || len >= sizeof(buf))
		return (0);
	for (i = 0; i < len; i++) {
		if (s[i] == '\0')
			return (0);
	}
	memcpy(buf, s, len);
	buf[len] = '\0';

	memset(a, 0, sizeof(*a));
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';

	if (inet_pton(AF_INET, buf, a->bytes) == 1) {
		a->family = AF_INET;
		a->prefix = 32;
	} else if (inet_pton(AF_INET6, buf, a->bytes) == 1) {
		a->family = AF_INET6;
		a->prefix = 128;
	} else {
		return (0);
	}

	if (slash != NULL) {
		if (!isdigit((unsigned char)slash[1]))
			return (0);
		bits = strtol(slash + 1, &end, 10);
		if (*end != '\0' || bits < 0 || bits > a->prefix)
			return (0);
		a->prefix = (int)bits;
	}

	netaddr_unmap(a);
	return (1);
}

/* A whole list; 0 on any entry that is not an address or range. */
int
netaddr_list_parse(const char *s, struct netaddr_list *l)
{
	size_t		len;

	l->n = 0;
	while (*s != '\0') {
		len = strcspn(s, ", \t");
		if (len > 0) {
			if (l->n == NETADDR_LIST_MAX ||
			    !netaddr_parse(s, len, &l->item[l->n]))
				return (0);
			l->n++;
		}
		s += len;
		if (*s != '\0')
			s++;
	}

	return (1);
}

/* Whether a (an address) is in one of the list's ranges. */
int
netaddr_list_match(const struct netaddr_list *l, const struct netaddr *a)
{
	const struct netaddr	*r;
	size_t			i;
	int			full, rest;

	for (i = 0; i < l->n; i++) {
		r = &l->item[i];
		if (r->family != a->family)
			continue;
		full = r->prefix / 8;
		rest = r->prefix % 8;
		if (memcmp(r->bytes, a->bytes, full) != 0)
			continue;
		if (rest != 0 && ((r->bytes[full] ^ a->bytes[full]) &
		    (0xff << (8 - rest)) & 0xff) != 0)
			continue;
		return (1);
	}

	return (0);
}

/*
 * The client an X-Forwarded-For value names for a request from a trusted
 * proxy: its right-most entry that is not a trusted proxy. Returns 0 when
 * it names none that parses (the caller keeps the peer's address).
 */
int
netaddr_forwarded(const char *xff, const struct netaddr_list *trusted,
    struct netaddr *out)
{
	size_t		end, start;

	end = strlen(xff);
	while (end > 0) {
		start = end;
		while (start > 0 && xff[start - 1] != ',')
			start--;
		if (netaddr_parse(xff + start, end - start, out) &&
		    out->prefix == (out->family == AF_INET ? 32 : 128)) {
			if (!netaddr_list_match(trusted, out))
				return (1);
		} else {
			return (0);
		}
		end = start > 0 ? start - 1 : 0;
	}

	return (0);
}

/*
 * a as per-address counters key it (failed logins): its family, then an
 * IPv4 address whole or an IPv6 address's /64, so that one host's many
 * IPv6 addresses count as one. Returns the key's length.
 */
size_t
netaddr_key(const struct netaddr *a, u_int8_t key[NETADDR_KEYLEN])
{
	size_t		len;

	key[0] = (u_int8_t)a->family;
	len = a->family == AF_INET ? 4 : sizeof(a->bytes);
	memcpy(key + 1, a->bytes, len);
	if (a->family == AF_INET6)
		memset(key + 1 + 8, 0, 8);

	return (1 + len);
}

void
netaddr_str(const struct netaddr *a, char buf[NETADDR_STRLEN])
{
	if (inet_ntop(a->family, a->bytes, buf, NETADDR_STRLEN) == NULL)
		(void)snprintf(buf, NETADDR_STRLEN, "?");
}

/* ::ffff:a.b.c.d is a.b.c.d. */
static void
netaddr_unmap(struct netaddr *a)
{
	static const u_int8_t	mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	if (a->family != AF_INET6 || memcmp(a->bytes, mapped, 12) != 0)
		return;

	memmove(a->bytes, a->bytes + 12, 4);
	memset(a->bytes + 4, 0, 12);
	a->family = AF_INET;
	a->prefix = a->prefix >= 96 ? a->prefix - 96 : 0;
}
