/*
 * GET /admin-ui/: the Socket.IO Admin UI's page (the built ui/dist of
 * the npm package @socket.io/admin-ui, made into a table of files by
 * conf/admin-ui.sh), when the Admin UI is on (ADMIN_UI_USERNAME and
 * ADMIN_UI_PASSWORD); a 404, as for any unknown path, when it is off. The
 * page asks for the server's URL and credentials itself and connects to
 * the "/admin" namespace (realtime/admin.c).
 *
 * The table is a weak symbol: a build without it (kodev builds the tree
 * without the Makefile's generated files) links, and answers 404.
 * /admin-ui is sent to /admin-ui/ (the page's paths are relative). The
 * files with a hash in their name are cached for good, the others are
 * checked each time (ETag, 304); none may be framed by another site.
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <string.h>

#include "app.h"
#include "http/http.h"

#define ADMIN_UI_PREFIX		"/admin-ui/"

struct admin_ui_file {
	const char		*path;
	const u_int8_t		*data;
	u_int32_t		len;
	const char		*etag;
	const char		*mime;
};

extern const struct admin_ui_file	admin_ui_files[]
					    __attribute__((weak));

static const struct admin_ui_file	*admin_ui_lookup(const char *);

int
page_admin_ui(struct http_request *req)
{
	const struct admin_ui_file	*f;
	const char			*rel;

	if (!korio.admin_ui || admin_ui_files == NULL) {
		http_response(req, 404, NULL, 0);
		return (KORE_RESULT_OK);
	}

	if (req->method != HTTP_METHOD_GET &&
	    req->method != HTTP_METHOD_HEAD) {
		http_response_header(req, "allow", "GET, HEAD");
		http_response(req, 405, NULL, 0);
		return (KORE_RESULT_OK);
	}

	if (!strcmp(req->path, "/admin-ui")) {
		http_response_header(req, "location", ADMIN_UI_PREFIX);
		http_response(req, 301, NULL, 0);
		return (KORE_RESULT_OK);
	}

	rel = req->path + strlen(ADMIN_UI_PREFIX);
	if ((f = admin_ui_lookup(*rel == '\0' ? "index.html" : rel)) == NULL) {
		http_response(req, 404, NULL, 0);
		return (KORE_RESULT_OK);
	}

	http_response_header(req, "x-content-type-options", "nosniff");
	http_response_header(req, "x-frame-options", "DENY");
	http_response_header(req, "referrer-policy", "no-referrer");
	if (strchr(rel, '/') != NULL)
		http_response_header(req, "cache-control",
		    "public, max-age=31536000, immutable");
	else
		http_response_header(req, "cache-control", "no-cache");

	http_serveable(req, f->data, f->len, f->etag, f->mime);

	return (KORE_RESULT_OK);
}

static const struct admin_ui_file *
admin_ui_lookup(const char *path)
{
	const struct admin_ui_file	*f;

	for (f = admin_ui_files; f->path != NULL; f++) {
		if (!strcmp(f->path, path))
			return (f);
	}

	return (NULL);
}
