/*
 * GET /openapi.json: the REST contract as an OpenAPI 3.0 document, in the
 * shape @terreno/api serves its own (its modelRouter's operations through
 * @wesleytodd/openapi), for @rtk-query/codegen-openapi to generate a
 * Terreno app's API slice from (@terreno/rtk's emptySplitApi with the
 * endpoints injected).
 *
 * It is made from the tables the routes run on, never written by hand:
 * rest_routes[] (rest_routes.c; each route's path, tag and ops by
 * method), each op's flags (REST_AUTH, REST_BODY, REST_LIST,
 * REST_CONFLICT) and model (struct rest_model: its fields, their types,
 * lengths and flags), and for the token routes the few words of their
 * struct rest_op_doc. What it says:
 *
 *   paths	"/todos/" and "/todos/{id}" (Terreno's form), one operation
 *		per method a route has an op for. The operationId is the
 *		name codegen derives from the method and the path (getTodos,
 *		postTodos, getTodosById, patchTodosById, deleteTodosById,
 *		postAuthRefreshToken...), so the hooks are named as in a
 *		Terreno app (useGetTodosQuery) with or without it.
 *   requestBody  the fields a client may set (not REST_F_SERVER), inline,
 *		as Terreno's (codegen then names the argument "body"); on
 *		create those with REST_F_REQUIRED are required; a REST_F_NULL
 *		field is nullable.
 *   parameters	the path's id; for a list the model's REST_F_QUERY
 *		fields, page, sort (the REST_F_SORT fields and the stamps, "-"
 *		for descending) and limit.
 *   responses	a document as @terreno/rtk's base query hands it to the
 *		app: sent as {"data": doc}, said by x-korio-envelope "data",
 *		described as the model's component (Todo, Project, User) or
 *		the op's (AuthTokens); a list as sent, the envelope TodoList
 *		{data, limit, more, page?, total}; delete 204 without a body.
 *		Errors: APIError {status, title, detail?}, the token routes'
 *		401 AuthMessage {message}, a PATCH's 409 Conflict.
 *   security	bearerAuth (an HS256 JWT) on each op that needs a caller,
 *		none on the token routes.
 *
 * Each worker builds it once, at start-up (openapi_init()). The answer
 * has an ETag, the first 16 hex digits of the SHA-256 of its bytes as
 * Terreno's has; If-None-Match with it gets a 304. No token is needed
 * and any is ignored; CORS as every route.
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <openssl/evp.h>

#include <stdio.h>
#include <string.h>

#include "app.h"
#include "http/http.h"

#define OPENAPI_ETAG_HEX	16

#define OPENAPI_INFO							\
	"korio's REST API (auth, todos, projects), described as "	\
	"@terreno/api describes its own and generated from the route "	\
	"tables korio runs on. An answer of one document is sent as "	\
	"{\"data\": <document>} (x-korio-envelope: data) and "		\
	"described as @terreno/rtk's base query hands it to the app; "	\
	"a list keeps its envelope; DELETE answers 204 without a body."

static json_t	*openapi_build(void);
static int	 openapi_match(const char *);

static char	*openapi_text;	/* the document, compact */
static char	 openapi_etag[OPENAPI_ETAG_HEX + 3];

/* Worker start-up: the document and its ETag. */
void
openapi_init(void)
{
	json_t		*doc;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen, i;

	doc = openapi_build();
	if ((openapi_text = json_dumps(doc, JSON_COMPACT)) == NULL)
		fatalx("openapi: cannot write the document");
	json_decref(doc);

	if (!EVP_Digest(openapi_text, strlen(openapi_text), md, &mdlen,
	    EVP_sha256(), NULL))
		fatalx("openapi: SHA-256 failed");

	openapi_etag[0] = '"';
	for (i = 0; i < OPENAPI_ETAG_HEX / 2; i++)
		(void)snprintf(openapi_etag + 1 + i * 2, 3, "%02x", md[i]);
	openapi_etag[OPENAPI_ETAG_HEX + 1] = '"';
	openapi_etag[OPENAPI_ETAG_HEX + 2] = '\0';
}

int
page_openapi(struct http_request *req)
{
	const char	*inm;

	switch (req->method) {
	case HTTP_METHOD_OPTIONS:
		http_util_preflight(req);
		return (KORE_RESULT_OK);
	case HTTP_METHOD_GET:
	case HTTP_METHOD_HEAD:
		break;
	default:
		http_response_header(req, "allow", "GET, HEAD, OPTIONS");
		http_util_json(req, 405,
		    "{\"status\":405,\"title\":\"Method not allowed\"}");
		return (KORE_RESULT_OK);
	}

	http_response_header(req, "etag", openapi_etag);
	http_response_header(req, "cache-control", "no-cache");
	if (http_request_header(req, "if-none-match", &inm) &&
	    openapi_match(inm)) {
		http_util_empty(req, 304);
		return (KORE_RESULT_OK);
	}

	http_util_json(req, 200, openapi_text);

	return (KORE_RESULT_OK);
}

/* If-None-Match: "*" or a list of tags, weak (W/"...") or not. */
static int
openapi_match(const char *v)
{
	size_t		n;

	while (*v != '\0') {
		v += strspn(v, " \t,");
		if (*v == '*')
			return (1);
		if (!strncmp(v, "W/", 2))
			v += 2;
		n = strcspn(v, " \t,");
		if (n == strlen(openapi_etag) && !strncmp(v, openapi_etag, n))
			return (1);
		v += n;
	}

	return (0);
}

static json_t *
openapi_build(void)
{
	json_t		*doc;

	doc = json_pack("{s:s,s:{s:s,s:s,s:s},s:o,s:o}",
	    "openapi", "3.0.0",
	    "info", "title", "korio", "version", KORIO_VERSION,
	    "description", OPENAPI_INFO,
	    "paths", openapi_paths(),
	    "components", openapi_components());
	openapi_need(doc, "the document");

	return (doc);
}
