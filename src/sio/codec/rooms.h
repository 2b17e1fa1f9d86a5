/*
 * rooms.h: the two-way room membership index (pure: libc only). See
 * the comment atop rooms.c.
 */

#ifndef SIO_ROOMS_H
#define SIO_ROOMS_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

struct rooms_link;
struct rooms_room;

TAILQ_HEAD(rooms_linkq, rooms_link);

/*
 * Embed one of these in each socket (one per namespace socket) and
 * initialise it with rooms_member_init() before the first join. owner
 * is for the caller (e.g. its socket struct); mark is private to
 * rooms_foreach(). count is the number of rooms the member is in.
 * A member belongs to rooms of a single struct rooms.
 */
struct rooms_member {
	struct rooms_linkq	 links;
	void			*owner;
	uint64_t		 mark;
	size_t			 count;
};

/* The index itself; heap or embedded, set up with rooms_init(). */
struct rooms {
	struct rooms_room	**rtab;
	size_t			 rsize;
	size_t			 nrooms;
	struct rooms_link	**ltab;
	size_t			 lsize;
	size_t			 nlinks;
	uint64_t		 gen;
};

/* rooms.c */
void	rooms_init(struct rooms *);
void	rooms_free(struct rooms *);
void	rooms_member_init(struct rooms_member *, void *);
int	rooms_join(struct rooms *, struct rooms_member *, const char *);
int	rooms_leave(struct rooms *, struct rooms_member *, const char *);
size_t	rooms_leave_all(struct rooms *, struct rooms_member *);
int	rooms_has(const struct rooms *, const struct rooms_member *,
	    const char *);
size_t	rooms_count(const struct rooms *, const char *);
size_t	rooms_total(const struct rooms *);
void	rooms_foreach(struct rooms *, const char *const *, size_t,
	    const char *const *, size_t,
	    void (*)(struct rooms_member *, void *), void *);
void	rooms_member_foreach_room(const struct rooms_member *,
	    void (*)(const char *, void *), void *);

#endif /* !SIO_ROOMS_H */
