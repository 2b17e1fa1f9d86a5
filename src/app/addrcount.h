/*
 * addrcount.h: connections counted per client address, in a table that
 * lives in memory the caller provides (shared by all workers) and that
 * keeps each worker's share apart, so a restarted worker can take back
 * what its predecessor counted. Pure C: the caller does the locking, and
 * the table is unit-tested alone.
 */

#ifndef KORIO_ADDRCOUNT_H
#define KORIO_ADDRCOUNT_H

#include <sys/types.h>

#include "netaddr.h"

#define ADDRCOUNT_FULL		(-1)	/* addrcount_add(): no room */

/* A view of the table; each process has its own copy, the memory is one. */
struct addrcount {
	struct addrcount_head	*head;
	u_int8_t		*rows;
	size_t			stride;
	u_int32_t		slots;
	u_int32_t		workers;
	u_int64_t		key[2];
};

/* addrcount.c */
size_t		addrcount_size(u_int32_t, u_int32_t);
void		addrcount_init(struct addrcount *, void *, u_int32_t,
		    u_int32_t, const u_int64_t [2]);
int		addrcount_add(struct addrcount *, const struct netaddr *,
		    u_int32_t, u_int32_t);
void		addrcount_del(struct addrcount *, const struct netaddr *,
		    u_int32_t);
void		addrcount_clear_worker(struct addrcount *, u_int32_t);
u_int32_t	addrcount_get(const struct addrcount *,
		    const struct netaddr *);
u_int32_t	addrcount_used(const struct addrcount *);

#endif /* !KORIO_ADDRCOUNT_H */
