/*
 * REDIS_URL: redis://[[user]:password@]host[:port][/db], as the redis npm
 * client and redis-cli take it. The host is a name or an IPv4 address
 * (hiredis 0.14 resolves it); the port defaults to 6379, the database to
 * 0; a password alone is AUTH <password>, a user and a password AUTH
 * <user> <password> (Redis 6 ACLs). Nothing else (no query, no TLS).
 */

#include <stdlib.h>
#include <string.h>

#include "codec/sbuf.h"
#include "cluster_url.h"

/*
 * redis://[[user]:password@]host[:port][/db]; 1 if url is one. The
 * parts go to the out arguments that are not NULL (malloc'd).
 */
int
cluster_url_parse(const char *url, char **host, int *port, char **user,
    char **pass, int *db)
{
	const char	*p, *at, *hp, *end, *colon;
	char		*e;
	long		n;
	int		prt, d;

	if (strncmp(url, "redis://", 8))
		return (0);
	/* A password may hold '@' or '/': the host follows the last '@'. */
	p = url + 8;
	at = strrchr(p, '@');
	hp = at != NULL ? at + 1 : p;
	end = hp + strcspn(hp, "/");
	if ((colon = memchr(hp, ':', end - hp)) == NULL)
		colon = end;
	if (colon == hp || strcspn(hp, " \t") < (size_t)(colon - hp))
		return (0);
	prt = 6379;
	if (colon < end) {
		n = strtol(colon + 1, &e, 10);
		if (e != end || n < 1 || n > 65535)
			return (0);
		prt = (int)n;
	}
	d = 0;
	if (*end == '/' && end[1] != '\0') {
		n = strtol(end + 1, &e, 10);
		if (*e != '\0' || n < 0 || n > 1000)
			return (0);
		d = (int)n;
	}

	if (host != NULL)
		*host = sbuf_xstrndup(hp, colon - hp);
	if (port != NULL)
		*port = prt;
	if (db != NULL)
		*db = d;
	if (user != NULL)
		*user = NULL;
	if (pass != NULL)
		*pass = NULL;
	if (at != NULL && (colon = memchr(p, ':', at - p)) != NULL) {
		if (user != NULL && colon > p)
			*user = sbuf_xstrndup(p, colon - p);
		if (pass != NULL)
			*pass = sbuf_xstrndup(colon + 1, at - colon - 1);
	} else if (at != NULL && pass != NULL) {
		*pass = sbuf_xstrndup(p, at - p);
	}

	return (1);
}
