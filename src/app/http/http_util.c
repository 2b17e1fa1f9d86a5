/*
 * Small helpers shared by the REST handlers: JSON responses with the CORS
 * headers of the contract (origin FRONTEND_URL, default *), CORS
 * preflights and the dates of conditional request headers. Query strings
 * are decoded by rest_query.c. While the worker drains (drain.c) every
 * answer closes its connection, so the client's next request goes to a
 * new connection, to the next process.
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "drain.h"
#include "http/http.h"

#define HTTP_UTIL_PREFLIGHT_METHODS	"GET,HEAD,PUT,PATCH,POST,DELETE"
#define HTTP_UTIL_PREFLIGHT_HEADERS	"Authorization, Content-Type"

static void	http_util_close(struct http_request *);

void
http_util_cors(struct http_request *req)
{
	http_response_header(req, "access-control-allow-origin",
	    korio.frontend_url);
	if (strcmp(korio.frontend_url, "*"))
		http_response_header(req, "vary", "Origin");
}

void
http_util_json(struct http_request *req, int status, const char *body)
{
	http_util_cors(req);
	http_response_header(req, "content-type", "application/json");
	http_util_close(req);
	http_response(req, status, body, strlen(body));
}

/* Sends body (borrowed) as compact JSON; NULL sends no body at all. */
void
http_util_json_t(struct http_request *req, int status, json_t *body)
{
	char		*s;

	if (body == NULL) {
		http_util_empty(req, status);
		return;
	}

	if ((s = json_dumps(body, JSON_COMPACT)) == NULL) {
		http_util_json(req, 500,
		    "{\"status\":500,\"title\":\"Internal server error\"}");
		return;
	}

	http_util_json(req, status, s);
	free(s);
}

void
http_util_empty(struct http_request *req, int status)
{
	http_util_cors(req);
	http_util_close(req);
	http_response(req, status, NULL, 0);
}

/*
 * A CORS preflight (OPTIONS) is answered 204 before any auth check, the
 * way the npm cors package does it: the methods it allows, and the request
 * headers the browser asked for reflected back.
 */
void
http_util_preflight(struct http_request *req)
{
	const char	*hdrs;

	http_util_cors(req);
	http_response_header(req, "access-control-allow-methods",
	    HTTP_UTIL_PREFLIGHT_METHODS);
	if (http_request_header(req, "access-control-request-headers",
	    &hdrs) && hdrs[0] != '\0') {
		http_response_header(req, "access-control-allow-headers",
		    hdrs);
		http_response_header(req, "vary",
		    "Access-Control-Request-Headers");
	} else {
		http_response_header(req, "access-control-allow-headers",
		    HTTP_UTIL_PREFLIGHT_HEADERS);
	}
	http_response_header(req, "access-control-max-age", "600");
	http_util_close(req);
	http_response(req, 204, NULL, 0);
}

/*
 * Draining: Kore answers "Connection: close" and closes the connection
 * once the answer is sent. Set only as the answer is made: a connection
 * so marked closes whenever its send queue is empty.
 */
static void
http_util_close(struct http_request *req)
{
	if (drain_active())
		req->owner->flags |= CONN_CLOSE_EMPTY;
}

/*
 * The date of an If-Unmodified-Since style header, in milliseconds since
 * the epoch: an ISO 8601 date (what JavaScript's new Date() reads, as
 * Terreno does) or an HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT", one
 * second precision: *sec is set to 1). Returns 1, or 0 if unparseable.
 */
int
http_util_date(const char *s, int64_t *ms, int *sec)
{
	static const char	*months[] = { "Jan", "Feb", "Mar", "Apr",
				    "May", "Jun", "Jul", "Aug", "Sep", "Oct",
				    "Nov", "Dec" };
	char			 wday[4], mon[4], iso[32];
	int			 d, y, h, mi, se, m, end;

	*sec = 0;
	if (store_iso_parse(s, ms))
		return (1);

	end = 0;
	if (sscanf(s, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n",
	    wday, &d, mon, &y, &h, &mi, &se, &end) != 7 || end == 0 ||
	    s[end] != '\0')
		return (0);

	for (m = 0; m < 12; m++) {
		if (!strcmp(mon, months[m]))
			break;
	}
	if (m == 12)
		return (0);

	(void)snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:%02dZ",
	    y, m + 1, d, h, mi, se);
	if (!store_iso_parse(iso, ms))
		return (0);

	*sec = 1;
	return (1);
}

/* The address a connection comes from. */
void
http_util_peer(struct connection *c, struct netaddr *a)
{
	if (c->family == AF_INET6)
		netaddr_from(a, AF_INET6, &c->addr.ipv6.sin6_addr);
	else
		netaddr_from(a, AF_INET, &c->addr.ipv4.sin_addr);
}

/*
 * The client of req for the per-address limits: the peer, or what
 * X-Forwarded-For names when the peer is a trusted proxy (netaddr.c).
 */
void
http_util_client(struct http_request *req, struct netaddr *a)
{
	const char	*xff;
	struct netaddr	fwd;

	http_util_peer(req->owner, a);
	if (!netaddr_list_match(&korio.trusted_proxies, a))
		return;
	if (http_request_header(req, "x-forwarded-for", &xff) &&
	    netaddr_forwarded(xff, &korio.trusted_proxies, &fwd))
		*a = fwd;
}
