/*
 * cluster/cluster_url.h: REDIS_URL's form, parsed (pure: libc and
 * codec/sbuf.c only, unit-tested alone in tests/unit/test_cluster_url.c).
 */

#ifndef SIO_CLUSTER_URL_H
#define SIO_CLUSTER_URL_H

/* cluster_url.c */
int	cluster_url_parse(const char *, char **, int *, char **, char **,
	    int *);

#endif /* !SIO_CLUSTER_URL_H */
