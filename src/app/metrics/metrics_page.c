/*
 * GET /metrics: every worker's counts, summed, as Prometheus text
 * (metrics.c, metrics_render.c). Who may read it:
 *
 *   METRICS off (the default)	nobody: 404, as for a path no route takes
 *   METRICS=public		anyone
 *   METRICS_TOKEN=<secret>	"Authorization: Bearer <secret>"; anything
 *				else is 401 with WWW-Authenticate
 *
 * The token is compared in constant time, as SHA-256 digests (config.c
 * keeps only the secret's), so neither its bytes nor its length show in
 * the answer's timing. Neither the secret nor the header is ever logged.
 * GET and HEAD only (405 otherwise, once metrics are on).
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "metrics/metrics.h"

static int	metrics_page_authorized(struct http_request *);
static void	metrics_page_status(struct http_request *, int, const char *);

int
page_metrics(struct http_request *req)
{
	struct prom_buf		b;

	if (korio.metrics == METRICS_OFF) {
		http_response(req, 404, NULL, 0);
		return (KORE_RESULT_OK);
	}

	if (req->method != HTTP_METHOD_GET &&
	    req->method != HTTP_METHOD_HEAD) {
		http_response_header(req, "allow", "GET, HEAD");
		metrics_page_status(req, 405, "Method Not Allowed");
		return (KORE_RESULT_OK);
	}

	if (korio.metrics == METRICS_TOKEN && !metrics_page_authorized(req)) {
		http_response_header(req, "www-authenticate",
		    "Bearer realm=\"metrics\"");
		metrics_page_status(req, 401, "Unauthorized");
		return (KORE_RESULT_OK);
	}

	prom_buf_init(&b);
	if (!metrics_write(&b)) {
		prom_buf_free(&b);
		metrics_page_status(req, 500, "Internal server error");
		return (KORE_RESULT_OK);
	}

	http_response_header(req, "content-type", PROM_CONTENT_TYPE);
	http_response_header(req, "cache-control", "no-store");
	/* http_response() copies the bytes into the send queue. */
	http_response(req, 200, b.data, b.len);
	prom_buf_free(&b);

	return (KORE_RESULT_OK);
}

/* "Bearer <METRICS_TOKEN>", the scheme in any case. */
static int
metrics_page_authorized(struct http_request *req)
{
	const char	*hdr, *p;
	u_int8_t	 digest[SHA256_DIGEST_LENGTH];
	int		 ok;

	if (!http_request_header(req, "authorization", &hdr))
		return (0);
	if (strncasecmp(hdr, "bearer", 6) != 0 ||
	    (hdr[6] != ' ' && hdr[6] != '\t'))
		return (0);
	for (p = hdr + 6; *p == ' ' || *p == '\t'; p++)
		;

	(void)SHA256((const unsigned char *)p, strlen(p), digest);
	ok = CRYPTO_memcmp(digest, korio.metrics_token, sizeof(digest)) == 0;
	explicit_bzero(digest, sizeof(digest));

	return (ok);
}

static void
metrics_page_status(struct http_request *req, int status, const char *title)
{
	char	body[96];
	int	len;

	len = snprintf(body, sizeof(body), "{\"status\":%d,\"title\":\"%s\"}",
	    status, title);
	http_response_header(req, "content-type", "application/json");
	http_response(req, status, body, (size_t)len);
}
