/*
 * The REST routes, all in one list: each struct rest_route (http.h) holds
 * its path in OpenAPI's form ("/todos/{id}"), the handler kore.conf names
 * for it and its ops by method, and is defined next to its ops in
 * routes_*.c. The list is what /openapi.json documents (openapi.c), in
 * its order.
 *
 * kore.conf maps regular expressions to handlers; nothing in Kore ties
 * them to these paths. rest_routes_check(), run by every worker at
 * start-up, does: each path, its "{id}" made an ObjectId, must reach the
 * route's own handler through kore.conf's routes, taken in order as Kore
 * takes them (kore_module_handler_find()), or korio stops (fatalx()). So
 * a route moved or renamed in kore.conf, or a path changed here, can't
 * leave the document naming a path that is served by something else.
 * The other way round (a REST route in kore.conf that is not here) is
 * the integration test's to find (tests/integ/44-openapi.test.mjs).
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "http/http.h"

#define REST_ROUTES_PATH_MAX	128

static void	rest_routes_check_one(const struct rest_route *);
static void	rest_routes_sample(const char *, char *, size_t);
static struct kore_module_handle	*rest_routes_find(struct kore_domain *,
					    const char *);

const struct rest_route *const	rest_routes[] = {
	&routes_login_signup,
	&routes_login_login,
	&routes_auth_refresh,
	&routes_auth_me,
	&routes_todos_all,
	&routes_todos_one,
	&routes_projects_all,
	&routes_projects_one,
	NULL
};

void
rest_routes_check(void)
{
	const struct rest_route *const	*rt;

	for (rt = rest_routes; *rt != NULL; rt++)
		rest_routes_check_one(*rt);
}

/* The handler every domain routes rt's path to must be rt's own. */
static void
rest_routes_check_one(const struct rest_route *rt)
{
	struct kore_server		*srv;
	struct kore_domain		*dom;
	struct kore_module_handle	*h;
	char				 path[REST_ROUTES_PATH_MAX];

	rest_routes_sample(rt->path, path, sizeof(path));

	LIST_FOREACH(srv, &kore_servers, list) {
		/* HTTP_REDIRECT_PORT's server only redirects (init.c). */
		if (!strcmp(srv->name, "redirect"))
			continue;
		TAILQ_FOREACH(dom, &srv->domains, list) {
			h = rest_routes_find(dom, path);
			if (h != NULL && h->rcall != NULL &&
			    h->rcall->addr == (void *)rt->page)
				continue;
			fatalx("kore.conf: %s (domain %s) is routed to %s, "
			    "not to the handler of %s", path, dom->domain,
			    h != NULL ? h->func : "nothing", rt->path);
		}
	}
}

/* A request path for template: "{id}" becomes an ObjectId. */
static void
rest_routes_sample(const char *template, char *out, size_t len)
{
	const char	*p;
	int		 n;

	if ((p = strstr(template, "{id}")) == NULL)
		n = snprintf(out, len, "%s", template);
	else
		n = snprintf(out, len, "%.*s%0*d%s", (int)(p - template),
		    template, STORE_OID_LEN, 0, p + 4);

	if (n < 0 || (size_t)n >= len)
		fatalx("rest_routes: path %s too long", template);
}

/* The handler Kore picks for path in dom: its first route that matches. */
static struct kore_module_handle *
rest_routes_find(struct kore_domain *dom, const char *path)
{
	struct kore_module_handle	*h;

	TAILQ_FOREACH(h, &dom->handlers, list) {
		if (h->type == HANDLER_TYPE_STATIC) {
			if (!strcmp(h->path, path))
				return (h);
		} else if (!regexec(&h->rctx, path, 0, NULL, 0)) {
			return (h);
		}
	}

	return (NULL);
}
