/*
 * korio: counters of attempts that the worker processes of one korio
 * share (throttle.c), for the failed-login limits: one table of fixed
 * size in memory the parent maps shared before the workers fork, so that
 * a limit holds on whichever worker an attempt lands, and so that no one
 * can make it grow.
 *
 * A counter belongs to a 64-bit key (throttle_key(): a keyed hash of a
 * kind and some bytes, an address or an email) and counts the attempts
 * of a window that opens with its first attempt and lasts the window of
 * its rule; once the window is over the count starts again from zero.
 * The table is made of sets of THROTTLE_WAYS entries. A key lives in the
 * set its hash picks, and the hash is keyed with random bytes, so no one
 * can aim keys at one set; a new key takes a free or expired entry of its
 * set, else the one whose window ends first (the oldest): its count is
 * lost.
 *
 * Pure module (libcrypto for the hash; no Kore). Any thread of any
 * process sharing the table may call it: a process-shared robust mutex
 * guards it, so a worker that dies holding it stops no one. Times are
 * milliseconds of the one clock all processes share (throttle_now(),
 * CLOCK_MONOTONIC).
 *
 * throttle_create(n): a table of about n entries (at least one set),
 *   mapped shared and anonymous: a child forked after it shares it.
 *   NULL if it can't be made.
 * throttle_take(t, rules, n, now): one attempt of each of the n rules,
 *   if none is at its max in its window: returns 0. Otherwise it counts
 *   nothing and returns the milliseconds until every full window is over
 *   (> 0). A rule with max 0 has no limit and counts nothing.
 * throttle_give(t, key, now): one attempt of key less (an attempt taken
 *   that turned out not to count: a successful login).
 * throttle_clear(t, key, now): key's count back to zero.
 */

#ifndef KORIO_THROTTLE_H
#define KORIO_THROTTLE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define THROTTLE_WAYS		8

struct throttle;

struct throttle_rule {
	u_int64_t	key;
	u_int32_t	max;		/* attempts in a window; 0: no limit */
	int64_t		window;		/* milliseconds */
};

/* throttle.c */
struct throttle	*throttle_create(size_t);
void		 throttle_destroy(struct throttle *);
u_int64_t	 throttle_key(const struct throttle *, int, const void *,
		    size_t);
int64_t		 throttle_take(struct throttle *,
		    const struct throttle_rule *, size_t, int64_t);
void		 throttle_give(struct throttle *, u_int64_t, int64_t);
void		 throttle_clear(struct throttle *, u_int64_t, int64_t);
int64_t		 throttle_now(void);

#endif /* !KORIO_THROTTLE_H */
