/*
 * test_cluster_url.c: REDIS_URL's parser (src/sio/cluster/cluster_url.c),
 * linked alone.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_help.h"

#include "cluster/cluster_url.h"

static int
check(const char *url, const char *host, int port, const char *user,
    const char *pass, int db)
{
	char	*h, *u, *p;
	int	 pt, d, ok;

	if (!cluster_url_parse(url, &h, &pt, &u, &p, &d))
		return (0);
	ok = !strcmp(h, host) && pt == port && d == db &&
	    ((user == NULL && u == NULL) ||
	    (user != NULL && u != NULL && !strcmp(u, user))) &&
	    ((pass == NULL && p == NULL) ||
	    (pass != NULL && p != NULL && !strcmp(p, pass)));
	free(h);
	free(u);
	free(p);
	return (ok);
}

static int
test_good(void)
{
	TEST_ASSERT(check("redis://127.0.0.1:6390", "127.0.0.1", 6390, NULL,
	    NULL, 0));
	TEST_ASSERT(check("redis://localhost", "localhost", 6379, NULL, NULL,
	    0));
	TEST_ASSERT(check("redis://h:1/3", "h", 1, NULL, NULL, 3));
	TEST_ASSERT(check("redis://h/", "h", 6379, NULL, NULL, 0));
	TEST_ASSERT(check("redis://:pw@h:7000/2", "h", 7000, NULL, "pw", 2));
	TEST_ASSERT(check("redis://pw@h", "h", 6379, NULL, "pw", 0));
	TEST_ASSERT(check("redis://alice:s3@cr/t@h:6379", "h", 6379, "alice",
	    "s3@cr/t", 0));
	return (0);
}

static int
test_bad(void)
{
	const char	*bad[] = { "", "redis://", "http://h:1", "redis://:1",
	    "redis://h:0", "redis://h:65536", "redis://h:12x", "redis://h:",
	    "redis://h/x", "redis://h/-1", "redis://pw@", "redis://h o:1",
	    "rediss://h:1", NULL };
	size_t		i;

	for (i = 0; bad[i] != NULL; i++) {
		if (cluster_url_parse(bad[i], NULL, NULL, NULL, NULL, NULL)) {
			fprintf(stderr, "accepted %s\n", bad[i]);
			TEST_ASSERT(0);
		}
	}
	return (0);
}

int
main(void)
{
	TEST_RUN(test_good);
	TEST_RUN(test_bad);
	return (TEST_REPORT("test_cluster_url"));
}
