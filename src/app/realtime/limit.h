/*
 * realtime/limit.h: the event budget of a client connection (one
 * Engine.IO session, whatever the sockets it opens and closes on it): a
 * token bucket, RATE_LIMIT_RATE tokens a second up to RATE_LIMIT_BURST.
 * Pure C (no Kore): the caller passes the time.
 */

#ifndef KORIO_LIMIT_H
#define KORIO_LIMIT_H

#include <sys/types.h>

#define LIMIT_KEY_MAX		32
#define LIMIT_NOTICE_MS		1000	/* one "Rate limit exceeded" a second */

/* What limit_take() says about one event, CONNECT or DISCONNECT. */
#define LIMIT_OK		0	/* within the budget */
#define LIMIT_DROP		1	/* over it: drop, say nothing */
#define LIMIT_NOTICE		2	/* over it: drop and tell the client */
#define LIMIT_ABUSE		3	/* over it for too long: disconnect */

struct limit_conf {
	double		rate;		/* tokens a second */
	double		burst;		/* the bucket's size */
	u_int32_t	abuse;		/* drops in a row that disconnect */
};

/* limit.c */
void	limit_init(const struct limit_conf *);
int	limit_take(const char *, u_int64_t);
void	limit_sweep(u_int64_t);
size_t	limit_count(void);
void	limit_clear(void);

#endif /* !KORIO_LIMIT_H */
