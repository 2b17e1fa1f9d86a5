/*
 * netaddr.h: client addresses as the per-address limits see them, and
 * lists of addresses or CIDR ranges (TRUSTED_PROXIES). Pure C: no Kore,
 * so it is unit-tested and fuzzed alone.
 */

#ifndef KORIO_NETADDR_H
#define KORIO_NETADDR_H

#include <sys/types.h>

#include <netinet/in.h>

#define NETADDR_LIST_MAX	32
#define NETADDR_STRLEN		46	/* INET6_ADDRSTRLEN */

/* One address (prefix == all its bits) or range, IPv4 or IPv6. */
struct netaddr {
	int		family;		/* AF_INET or AF_INET6 */
	u_int8_t	bytes[16];
	int		prefix;		/* bits that must match */
};

/* The longest netaddr_key(): the family, then up to 16 bytes. */
#define NETADDR_KEYLEN		17

struct netaddr_list {
	struct netaddr	item[NETADDR_LIST_MAX];
	size_t		n;
};

/* netaddr.c */
void	netaddr_from(struct netaddr *, int, const void *);
int	netaddr_parse(const char *, size_t, struct netaddr *);
int	netaddr_list_parse(const char *, struct netaddr_list *);
int	netaddr_list_match(const struct netaddr_list *,
	    const struct netaddr *);
int	netaddr_forwarded(const char *, const struct netaddr_list *,
	    struct netaddr *);
void	netaddr_str(const struct netaddr *, char [NETADDR_STRLEN]);
size_t	netaddr_key(const struct netaddr *, u_int8_t [NETADDR_KEYLEN]);

#endif /* !KORIO_NETADDR_H */
