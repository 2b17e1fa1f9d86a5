/*
 * Every request's id, as Terreno's server gives one: taken from the
 * client's X-Request-ID, X-Correlation-ID or traceparent when valid
 * (log/log_reqid.c), else made (a random UUID), and echoed in the answer's
 * X-Request-ID, whatever the route and the status (404s from the
 * catch-all route too: page_not_found()).
 *
 * Kore calls http_reqid_hook() (kore_http_request_hook, patches/09) right
 * before each run of a handler, and with NULL right after it. The first
 * run of a request makes the id and adds the X-Request-ID response
 * header, which then keeps it for the request's life; every run makes it
 * the id of the worker's log lines (log_req_set()) until the handler
 * returns, and job.c hands it on to the pool threads of the request's
 * jobs.
 *
 * Answers Kore gives before a request reaches a route (a malformed or
 * oversized head, a framing error, a header timeout) have no request and
 * no id.
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <openssl/rand.h>

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "http/http.h"
#include "log/log.h"

#define HTTP_REQID_HEADER	"x-request-id"

static void		 http_reqid_hook(struct http_request *);
static const char	*http_reqid_find(struct http_request *);
static void		 http_reqid_make(char [LOG_REQID_MAX + 1]);

/* In each worker. */
void
http_reqid_init(void)
{
	kore_http_request_hook = http_reqid_hook;
}

/* The request's id (made on the first call), as long as req lives. */
const char *
http_reqid(struct http_request *req)
{
	const char	*xrid, *xcid, *tp, *have;
	char		 id[LOG_REQID_MAX + 1];

	if ((have = http_reqid_find(req)) != NULL)
		return (have);

	if (!http_request_header(req, "x-request-id", &xrid))
		xrid = NULL;
	if (!http_request_header(req, "x-correlation-id", &xcid))
		xcid = NULL;
	if (!http_request_header(req, "traceparent", &tp))
		tp = NULL;
	if (!log_reqid_pick(xrid, xcid, tp, id))
		http_reqid_make(id);

	http_response_header(req, HTTP_REQID_HEADER, id);

	return (http_reqid_find(req));
}

/* Any path no route takes: 404, with the REST error body. */
int
page_not_found(struct http_request *req)
{
	http_util_json(req, 404, "{\"status\":404,\"title\":\"Not Found\"}");
	return (KORE_RESULT_OK);
}

static void
http_reqid_hook(struct http_request *req)
{
	log_req_set(req != NULL ? http_reqid(req) : NULL);
}

/* The X-Request-ID response header's value, NULL before it is made. */
static const char *
http_reqid_find(struct http_request *req)
{
	struct http_header	*hdr;

	TAILQ_FOREACH(hdr, &req->resp_headers, list) {
		if (!strcmp(hdr->header, HTTP_REQID_HEADER))
			return (hdr->value);
	}

	return (NULL);
}

static void
http_reqid_make(char id[LOG_REQID_MAX + 1])
{
	static u_int64_t	n;
	u_int8_t		rnd[16];
	u_int64_t		t;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		/* Unique still: this process, the time, a count. */
		t = (u_int64_t)time(NULL) ^ ((u_int64_t)getpid() << 40);
		n++;
		memcpy(rnd, &t, sizeof(t));
		memcpy(rnd + sizeof(t), &n, sizeof(n));
	}

	log_reqid_uuid(rnd, id);
}
