/*
 * HTTP_REDIRECT_PORT: with TLS on, a plain HTTP listener on that port
 * answers every request with 308 to the same host, path and query over
 * https on PORT (init.c creates the server "redirect" and its domain).
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <stdio.h>
#include <string.h>

#include "app.h"
#include "http/http.h"

int	page_https_redirect(struct http_request *);

int
page_https_redirect(struct http_request *req)
{
	const char	*h, *end;
	size_t		len, i;
	char		url[HTTP_URI_LEN + 512];
	int		n;

	/* The host without its port: a name, IPv4 or [IPv6]. */
	h = req->host != NULL ? req->host : "";
	if (h[0] == '[')
		end = strchr(h, ']') != NULL ? strchr(h, ']') + 1 : NULL;
	else
		end = h + strcspn(h, ":");
	len = end != NULL ? (size_t)(end - h) : 0;
	for (i = 0; i < len; i++) {
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789.-:[]", h[i]) == NULL)
			len = 0;
	}
	if (len == 0 || len > 255) {
		http_response(req, HTTP_STATUS_BAD_REQUEST, NULL, 0);
		return (KORE_RESULT_OK);
	}

	if (!strcmp(korio.port, "443"))
		n = snprintf(url, sizeof(url), "https://%.*s%s%s%s", (int)len,
		    h, req->path, req->query_string != NULL ? "?" : "",
		    req->query_string != NULL ? req->query_string : "");
	else
		n = snprintf(url, sizeof(url), "https://%.*s:%s%s%s%s",
		    (int)len, h, korio.port, req->path,
		    req->query_string != NULL ? "?" : "",
		    req->query_string != NULL ? req->query_string : "");
	if (n < 0 || (size_t)n >= sizeof(url)) {
		http_response(req, HTTP_STATUS_REQUEST_URI_TOO_LARGE, NULL, 0);
		return (KORE_RESULT_OK);
	}

	http_response_header(req, "location", url);
	http_response(req, 308, NULL, 0);
	return (KORE_RESULT_OK);
}
