/*
 * sio_internal.h: what every layer of the plugin shares (sio.c, bus.c,
 * engine/, server/): the configuration sio_init() was given. Nothing
 * outside src/sio includes it.
 */

#ifndef SIO_INTERNAL_H
#define SIO_INTERNAL_H

#include "sio.h"

/* sio.c */
extern struct sio_config	sio_conf;

void	sio_log(int, const char *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

/* stats.c: the block of sio_stats_attach(), or one nobody reads. */
extern struct sio_stats		*sio_stats;

#define SIO_STAT_ADD(f, n)	\
	((void)__atomic_fetch_add(&sio_stats->f, (n), __ATOMIC_RELAXED))
#define SIO_STAT_SUB(f, n)	\
	((void)__atomic_fetch_sub(&sio_stats->f, (n), __ATOMIC_RELAXED))
#define SIO_STAT_SET(f, v)	\
	__atomic_store_n(&sio_stats->f, (v), __ATOMIC_RELAXED)

uint64_t	sio_stats_now(void);
void		sio_stats_fanout_done(uint64_t);

#endif /* !SIO_INTERNAL_H */
