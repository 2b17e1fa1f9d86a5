/*
 * rooms.c: Socket.IO rooms as a two-way membership index, the shape of
 * Redis pub/sub (channel -> clients, client -> channels) with
 * mosquitto's membership node linking both sides.
 *
 * Semantics (those of socket.io-adapter's in-memory adapter, per
 * namespace): a room is any NUL-terminated name (the caller bounds its
 * length); it exists while it has members and is freed when the last
 * one leaves; joining twice or leaving a room one is not in changes
 * nothing and returns 0. Broadcasting to several rooms reaches every
 * member of their union exactly once, minus the members of the
 * "except" rooms. Broadcasting to no room reaches nobody here: the
 * glue handles "everyone in the namespace" from its own socket list.
 *
 * Layout:
 * - a hash table name -> struct rooms_room (FNV-1a, chained, power of
 *   two buckets, doubled above a 3/4 load), each room holding a TAILQ
 *   of links and its member count;
 * - the caller embeds a struct rooms_member in its socket; the member
 *   holds a TAILQ of its links;
 * - a struct rooms_link sits in both lists and in a second hash table
 *   keyed by (room, member), so join/leave/has are O(1) expected and
 *   leave_all is O(rooms of the member).
 * - rooms_foreach() marks visited members with a per-call generation
 *   number instead of building a set: O(total members listed), no
 *   allocation.
 *
 * Single-threaded: one struct rooms per worker (per namespace).
 */

#include <stdlib.h>
#include <string.h>

#include "rooms.h"
#include "sbuf.h"

#define ROOMS_MIN_SIZE		16

struct rooms_link {
	TAILQ_ENTRY(rooms_link)	 room_entry;
	TAILQ_ENTRY(rooms_link)	 member_entry;
	struct rooms_link	*hnext;
	struct rooms_room	*room;
	struct rooms_member	*member;
};

struct rooms_room {
	struct rooms_room	*hnext;
	uint64_t		 hash;
	struct rooms_linkq	 links;
	size_t			 count;
	size_t			 namelen;
	char			 name[];
};

static uint64_t		 rooms_hash_name(const char *, size_t);
static uint64_t		 rooms_hash_link(const struct rooms_room *,
			    const struct rooms_member *);
static struct rooms_room *rooms_lookup(const struct rooms *, const char *);
static struct rooms_room *rooms_room_create(struct rooms *, const char *);
static void		 rooms_room_destroy(struct rooms *,
			    struct rooms_room *);
static void		 rooms_room_rehash(struct rooms *);
static struct rooms_link *rooms_link_find(const struct rooms *,
			    const struct rooms_room *,
			    const struct rooms_member *);
static void		 rooms_link_rehash(struct rooms *);
static void		 rooms_link_remove(struct rooms *, struct rooms_link *);

void
rooms_init(struct rooms *r)
{
	memset(r, 0, sizeof(*r));
}

/*
 * Free every room and link. Members still joined are emptied (their
 * lists stay valid), so rooms_free() may run before or after the
 * sockets go. The struct itself is the caller's.
 */
void
rooms_free(struct rooms *r)
{
	struct rooms_room	*room, *next;
	struct rooms_link	*link;
	size_t			 i;

	for (i = 0; i < r->rsize; i++) {
		for (room = r->rtab[i]; room != NULL; room = next) {
			next = room->hnext;
			while ((link = TAILQ_FIRST(&room->links)) != NULL) {
				TAILQ_REMOVE(&room->links, link, room_entry);
				TAILQ_REMOVE(&link->member->links, link,
				    member_entry);
				link->member->count--;
				free(link);
			}
			free(room);
		}
	}

	free(r->rtab);
	free(r->ltab);
	rooms_init(r);
}

void
rooms_member_init(struct rooms_member *m, void *owner)
{
	TAILQ_INIT(&m->links);
	m->owner = owner;
	m->mark = 0;
	m->count = 0;
}

/* FNV-1a, 64 bit. */
static uint64_t
rooms_hash_name(const char *name, size_t len)
{
	uint64_t	h;
	size_t		i;

	h = 0xcbf29ce484222325ULL;
	for (i = 0; i < len; i++) {
		h ^= (uint8_t)name[i];
		h *= 0x100000001b3ULL;
	}

	return (h);
}

/* Mix two pointers (splitmix64 finaliser). */
static uint64_t
rooms_hash_link(const struct rooms_room *room, const struct rooms_member *m)
{
	uint64_t	x;

	x = (uint64_t)(uintptr_t)room * 0x9e3779b97f4a7c15ULL;
	x ^= (uint64_t)(uintptr_t)m;
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;

	return (x);
}

static struct rooms_room *
rooms_lookup(const struct rooms *r, const char *name)
{
	struct rooms_room	*room;
	size_t			 len;
	uint64_t		 h;

	if (r->nrooms == 0)
		return (NULL);

	len = strlen(name);
	h = rooms_hash_name(name, len);
	for (room = r->rtab[h & (r->rsize - 1)]; room != NULL;
	    room = room->hnext) {
		if (room->hash == h && room->namelen == len &&
		    memcmp(room->name, name, len) == 0)
			return (room);
	}

	return (NULL);
}

static void
rooms_room_rehash(struct rooms *r)
{
	struct rooms_room	**tab, *room, *next;
	size_t			  size, i, slot;

	size = r->rsize == 0 ? ROOMS_MIN_SIZE : r->rsize * 2;
	tab = sbuf_xcalloc(size, sizeof(*tab));

	for (i = 0; i < r->rsize; i++) {
		for (room = r->rtab[i]; room != NULL; room = next) {
			next = room->hnext;
			slot = room->hash & (size - 1);
			room->hnext = tab[slot];
			tab[slot] = room;
		}
	}

	free(r->rtab);
	r->rtab = tab;
	r->rsize = size;
}

static struct rooms_room *
rooms_room_create(struct rooms *r, const char *name)
{
	struct rooms_room	*room;
	size_t			 len, slot;

	if (r->nrooms + 1 > r->rsize / 4 * 3)
		rooms_room_rehash(r);

	len = strlen(name);
	if (len > SIZE_MAX - sizeof(*room) - 1)
		sbuf_oom();
	room = sbuf_xmalloc(sizeof(*room) + len + 1);
	memcpy(room->name, name, len + 1);
	room->namelen = len;
	room->hash = rooms_hash_name(name, len);
	room->count = 0;
	TAILQ_INIT(&room->links);

	slot = room->hash & (r->rsize - 1);
	room->hnext = r->rtab[slot];
	r->rtab[slot] = room;
	r->nrooms++;

	return (room);
}

static void
rooms_room_destroy(struct rooms *r, struct rooms_room *room)
{
	struct rooms_room	**pp;

	pp = &r->rtab[room->hash & (r->rsize - 1)];
	while (*pp != room)
		pp = &(*pp)->hnext;
	*pp = room->hnext;

	r->nrooms--;
	free(room);
}

static struct rooms_link *
rooms_link_find(const struct rooms *r, const struct rooms_room *room,
    const struct rooms_member *m)
{
	struct rooms_link	*link;

	if (r->nlinks == 0)
		return (NULL);

	link = r->ltab[rooms_hash_link(room, m) & (r->lsize - 1)];
	for (; link != NULL; link = link->hnext) {
		if (link->room == room && link->member == m)
			return (link);
	}

	return (NULL);
}

static void
rooms_link_rehash(struct rooms *r)
{
	struct rooms_link	**tab, *link, *next;
	size_t			  size, i, slot;

	size = r->lsize == 0 ? ROOMS_MIN_SIZE : r->lsize * 2;
	tab = sbuf_xcalloc(size, sizeof(*tab));

	for (i = 0; i < r->lsize; i++) {
		for (link = r->ltab[i]; link != NULL; link = next) {
			next = link->hnext;
			slot = rooms_hash_link(link->room, link->member) &
			    (size - 1);
			link->hnext = tab[slot];
			tab[slot] = link;
		}
	}

	free(r->ltab);
	r->ltab = tab;
	r->lsize = size;
}

/* Unlink from both sides and the table; free the room if now empty. */
static void
rooms_link_remove(struct rooms *r, struct rooms_link *link)
{
	struct rooms_link	**pp;
	struct rooms_room	 *room;

	pp = &r->ltab[rooms_hash_link(link->room, link->member) &
	    (r->lsize - 1)];
	while (*pp != link)
		pp = &(*pp)->hnext;
	*pp = link->hnext;
	r->nlinks--;

	room = link->room;
	TAILQ_REMOVE(&room->links, link, room_entry);
	TAILQ_REMOVE(&link->member->links, link, member_entry);
	link->member->count--;
	free(link);

	if (--room->count == 0)
		rooms_room_destroy(r, room);
}

/* Put m in room name. Returns 1 if it joined, 0 if already there. */
int
rooms_join(struct rooms *r, struct rooms_member *m, const char *name)
{
	struct rooms_room	*room;
	struct rooms_link	*link;
	size_t			 slot;

	if ((room = rooms_lookup(r, name)) == NULL)
		room = rooms_room_create(r, name);
	else if (rooms_link_find(r, room, m) != NULL)
		return (0);

	if (r->nlinks + 1 > r->lsize / 4 * 3)
		rooms_link_rehash(r);

	link = sbuf_xmalloc(sizeof(*link));
	link->room = room;
	link->member = m;
	slot = rooms_hash_link(room, m) & (r->lsize - 1);
	link->hnext = r->ltab[slot];
	r->ltab[slot] = link;
	r->nlinks++;

	TAILQ_INSERT_TAIL(&room->links, link, room_entry);
	TAILQ_INSERT_TAIL(&m->links, link, member_entry);
	room->count++;
	m->count++;

	return (1);
}

/* Take m out of room name. Returns 1 if it left, 0 if it was not in. */
int
rooms_leave(struct rooms *r, struct rooms_member *m, const char *name)
{
	struct rooms_room	*room;
	struct rooms_link	*link;

	if ((room = rooms_lookup(r, name)) == NULL)
		return (0);
	if ((link = rooms_link_find(r, room, m)) == NULL)
		return (0);

	rooms_link_remove(r, link);

	return (1);
}

/* Take m out of every room (on disconnect). Returns how many. */
size_t
rooms_leave_all(struct rooms *r, struct rooms_member *m)
{
	struct rooms_link	*link;
	size_t			 n;

	n = 0;
	while ((link = TAILQ_FIRST(&m->links)) != NULL) {
		rooms_link_remove(r, link);
		n++;
	}

	return (n);
}

int
rooms_has(const struct rooms *r, const struct rooms_member *m,
    const char *name)
{
	struct rooms_room	*room;

	if ((room = rooms_lookup(r, name)) == NULL)
		return (0);

	return (rooms_link_find(r, room, m) != NULL);
}

/* Number of members of room name, 0 if it does not exist. */
size_t
rooms_count(const struct rooms *r, const char *name)
{
	struct rooms_room	*room;

	if ((room = rooms_lookup(r, name)) == NULL)
		return (0);

	return (room->count);
}

/* Number of rooms that exist (have at least one member). */
size_t
rooms_total(const struct rooms *r)
{
	return (r->nrooms);
}

/*
 * Call cb(member, arg) once for every member of the union of the n
 * rooms in names (duplicates and unknown names are fine), skipping the
 * members of any of the nexcept rooms in except. Members are visited
 * room by room in join order. cb must not join or leave anything (nor
 * call rooms_foreach()): collect first if membership has to change.
 */
void
rooms_foreach(struct rooms *r, const char *const *names, size_t n,
    const char *const *except, size_t nexcept,
    void (*cb)(struct rooms_member *, void *), void *arg)
{
	struct rooms_room	*room;
	struct rooms_link	*link;
	struct rooms_member	*m;
	uint64_t		 gen;
	size_t			 i;

	gen = ++r->gen;

	for (i = 0; i < nexcept; i++) {
		if ((room = rooms_lookup(r, except[i])) == NULL)
			continue;
		TAILQ_FOREACH(link, &room->links, room_entry)
			link->member->mark = gen;
	}

	for (i = 0; i < n; i++) {
		if ((room = rooms_lookup(r, names[i])) == NULL)
			continue;
		TAILQ_FOREACH(link, &room->links, room_entry) {
			m = link->member;
			if (m->mark == gen)
				continue;
			m->mark = gen;
			cb(m, arg);
		}
	}
}

/*
 * Call cb(room name, arg) for each room m is in, in join order. cb
 * must not change m's membership.
 */
void
rooms_member_foreach_room(const struct rooms_member *m,
    void (*cb)(const char *, void *), void *arg)
{
	const struct rooms_link	*link;

	TAILQ_FOREACH(link, &m->links, member_entry)
		cb(link->room->name, arg);
}
