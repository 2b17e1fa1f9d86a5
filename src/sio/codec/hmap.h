/*
 * A small chained hash map from byte-string keys to pointers, used by the
 * plugin's glue for session ids, WebSocket ids and forwarded request ids.
 * Pure: libc only. Keys are copied; values are the caller's.
 */

#ifndef SIO_HMAP_H
#define SIO_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap_entry;

struct hmap {
	struct hmap_entry	**buckets;
	size_t			nbuckets;
	size_t			count;
};

void	 hmap_init(struct hmap *);
void	 hmap_free(struct hmap *);
void	*hmap_get(const struct hmap *, const void *, size_t);
void	 hmap_put(struct hmap *, const void *, size_t, void *);
void	*hmap_del(struct hmap *, const void *, size_t);
void	 hmap_foreach(struct hmap *, void (*)(void *, void *), void *);

#endif
