/*
 * replay.h: what connection-state recovery replays (pure: libc only): a
 * bounded log of the numbered messages a worker fanned out, and the
 * offsets the broadcasts carry on the wire. See the comment atop
 * replay.c.
 */

#ifndef SIO_REPLAY_H
#define SIO_REPLAY_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"

/* The longest offset on the wire: a uint64_t in decimal. */
#define REPLAY_OFFSET_MAX	20

/* One numbered message as it was fanned out: its type and its bytes. */
struct replay_entry {
	TAILQ_ENTRY(replay_entry)	 list;
	uint64_t			 seq;
	uint8_t				 type;
	size_t				 len;
	uint8_t				 data[];
};

TAILQ_HEAD(replay_list, replay_entry);

/*
 * The log, oldest first. Every message numbered from floor on that this
 * worker fanned out is in it; next is one past the highest number it
 * fanned out (or the first it will, before any).
 */
struct replay_log {
	struct replay_list	 entries;
	size_t			 count;
	size_t			 bytes;
	size_t			 max_count;
	size_t			 max_bytes;
	uint64_t		 floor;
	uint64_t		 next;
	uint64_t		 evicted;
};

/* replay.c */
void	replay_log_init(struct replay_log *, size_t, size_t, uint64_t);
void	replay_log_free(struct replay_log *);
void	replay_log_add(struct replay_log *, uint64_t, uint8_t, const void *,
	    size_t);
int	replay_log_covers(const struct replay_log *, uint64_t);
size_t	replay_entry_size(size_t);
int	replay_offset_parse(const char *, uint64_t *);
int	replay_offset_append(struct sbuf *, const uint8_t *, size_t,
	    uint64_t);

#endif /* !SIO_REPLAY_H */
