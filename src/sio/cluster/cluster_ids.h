/*
 * cluster/cluster_ids.h: a sorted set of ids (strcmp order, each id
 * once, each its own allocation), for cluster presence. An all-zero
 * struct is an empty set. Pure: libc and codec/sbuf.c only.
 */

#ifndef SIO_CLUSTER_IDS_H
#define SIO_CLUSTER_IDS_H

#include <stddef.h>

struct cluster_ids {
	char		**v;
	size_t		 n;
	size_t		 cap;
};

/* cluster_ids.c */
int	cluster_ids_find(const struct cluster_ids *, const char *, size_t *);
int	cluster_ids_add(struct cluster_ids *, const char *, size_t);
int	cluster_ids_del(struct cluster_ids *, const char *);
void	cluster_ids_push(struct cluster_ids *, const char *, size_t);
void	cluster_ids_sort(struct cluster_ids *);
void	cluster_ids_merge(struct cluster_ids *, const struct cluster_ids *,
	    const struct cluster_ids *);
int	cluster_ids_equal(const struct cluster_ids *,
	    const struct cluster_ids *);
void	cluster_ids_clear(struct cluster_ids *);

#endif /* !SIO_CLUSTER_IDS_H */
