/*
 * Small helpers shared by the REST handlers: JSON responses with the CORS
 * headers of the contract (origin FRONTEND_URL, default *).
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <string.h>

#include "app.h"

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
	http_response(req, status, body, strlen(body));
}
