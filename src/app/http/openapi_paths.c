/*
 * The paths of /openapi.json (openapi.c): one operation per op of each
 * route of rest_routes[], described from the op's flags, its model and
 * its struct rest_op_doc; the schemas they refer to are
 * openapi_schema.c's.
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "http/http.h"

#define OPENAPI_STATUS_MAX	16

static json_t		*openapi_path(const struct rest_route *);
static json_t		*openapi_op(const struct rest_route *, const char *,
			    const struct rest_op *);
static void		 openapi_op_id(const char *, const char *, char *,
			    size_t);
static void		 openapi_summary(const char *, const struct rest_op *,
			    char *, size_t);
static json_t		*openapi_params(const struct rest_route *,
			    const struct rest_op *);
static json_t		*openapi_sort(const struct rest_model *);
static json_t		*openapi_body(const struct rest_op *, int);
static json_t		*openapi_responses(const struct rest_route *,
			    const char *, const struct rest_op *);
static json_t		*openapi_success(const char *,
			    const struct rest_op *, int *);
static json_t		*openapi_error(const struct rest_op *, int);
static const char	*openapi_status_text(const struct rest_op *, int);
static void		 openapi_status_add(int *, size_t *, int);
static int		 openapi_op_error(const struct rest_op *, int);

/* The document's paths: rest_routes[], in their order. */
json_t *
openapi_paths(void)
{
	const struct rest_route *const	*rt;
	json_t				*paths;

	paths = json_object();
	for (rt = rest_routes; *rt != NULL; rt++)
		json_object_set_new(paths, (*rt)->path, openapi_path(*rt));
	openapi_need(paths, "the paths");

	return (paths);
}

/* A path item: the route's operations, in the order of its methods. */
static json_t *
openapi_path(const struct rest_route *rt)
{
	json_t		*item;

	item = json_object();
	if (rt->get != NULL)
		json_object_set_new(item, "get",
		    openapi_op(rt, "get", rt->get));
	if (rt->post != NULL)
		json_object_set_new(item, "post",
		    openapi_op(rt, "post", rt->post));
	if (rt->patch != NULL)
		json_object_set_new(item, "patch",
		    openapi_op(rt, "patch", rt->patch));
	if (rt->delete != NULL)
		json_object_set_new(item, "delete",
		    openapi_op(rt, "delete", rt->delete));
	openapi_need(item, rt->path);

	return (item);
}

static json_t *
openapi_op(const struct rest_route *rt, const char *verb,
    const struct rest_op *op)
{
	json_t		*o, *params, *body;
	char		 id[OPENAPI_NAME_MAX], summary[OPENAPI_NAME_MAX];

	openapi_op_id(verb, rt->path, id, sizeof(id));
	openapi_summary(verb, op, summary, sizeof(summary));

	o = json_pack("{s:s,s:s,s:[s]}", "operationId", id,
	    "summary", summary, "tags", rt->tag);
	openapi_need(o, id);

	params = openapi_params(rt, op);
	if (json_array_size(params) > 0)
		json_object_set_new(o, "parameters", params);
	else
		json_decref(params);

	if ((op->flags & REST_BODY) &&
	    (body = openapi_body(op, !strcmp(verb, "post"))) != NULL)
		json_object_set_new(o, "requestBody", body);

	json_object_set_new(o, "responses", openapi_responses(rt, verb, op));
	json_object_set_new(o, "security", (op->flags & REST_AUTH) ?
	    json_pack("[{s:[]}]", "bearerAuth") : json_array());

	return (o);
}

/*
 * The operationId @rtk-query/codegen-openapi (oazapfts'
 * getOperationName()) derives from the method and the path: the first
 * "{x}" read as "by x", a second as "and x", then lodash's camelCase of
 * the words (runs of letters and digits; the paths here are lowercase).
 */
static void
openapi_op_id(const char *verb, const char *path, char *out, size_t len)
{
	char		 words[OPENAPI_NAME_MAX];
	const char	*p;
	size_t		 n, o;
	int		 params, first, start;

	n = (size_t)snprintf(words, sizeof(words), "%s ", verb);
	params = 0;
	for (p = path; *p != '\0' && n + 6 < sizeof(words); p++) {
		if (*p == '{') {
			n += (size_t)snprintf(words + n, sizeof(words) - n,
			    " %s ", params++ == 0 ? "by" : "and");
		} else if (*p != '}') {
			words[n++] = *p;
		}
	}
	if (*p != '\0')
		fatalx("openapi: path %s too long", path);
	words[n] = '\0';

	o = 0;
	first = 1;
	start = 1;
	for (p = words; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p)) {
			if (o > 0)
				first = 0;
			start = 1;
			continue;
		}
		if (o + 1 >= len)
			fatalx("openapi: operationId of %s too long", path);
		out[o++] = (char)(start && !first ?
		    toupper((unsigned char)*p) : tolower((unsigned char)*p));
		start = 0;
	}
	out[o] = '\0';
}

static void
openapi_summary(const char *verb, const struct rest_op *op, char *out,
    size_t len)
{
	const char	*name;

	if (op->doc != NULL && op->doc->summary != NULL) {
		(void)snprintf(out, len, "%s", op->doc->summary);
		return;
	}

	name = op->model != NULL ? op->model->name : "document";
	if (op->flags & REST_LIST)
		(void)snprintf(out, len, "List %s documents", name);
	else if (!strcmp(verb, "get"))
		(void)snprintf(out, len, "Read a %s", name);
	else if (!strcmp(verb, "post"))
		(void)snprintf(out, len, "Create a %s", name);
	else if (!strcmp(verb, "patch"))
		(void)snprintf(out, len, "Update a %s", name);
	else
		(void)snprintf(out, len, "Delete a %s", name);
}

/* The path's id, and a list's query: filters, page, sort, limit. */
static json_t *
openapi_params(const struct rest_route *rt, const struct rest_op *op)
{
	const struct rest_field	*f;
	json_t			*a;
	char			 desc[OPENAPI_NAME_MAX];

	a = json_array();
	if (strstr(rt->path, "{id}") != NULL)
		json_array_append_new(a, json_pack("{s:s,s:s,s:b,s:s,s:{s:s}}",
		    "in", "path", "name", "id", "required", 1,
		    "description", "The document's ObjectId (24 hex digits); "
		    "any other id is 404",
		    "schema", "type", "string"));

	if (!(op->flags & REST_LIST) || op->model == NULL)
		return (a);

	for (f = op->model->fields; f->name != NULL; f++) {
		if (f->flags & REST_F_QUERY)
			json_array_append_new(a, json_pack("{s:s,s:s,s:o}",
			    "in", "query", "name", f->name,
			    "schema", openapi_field(f, OPENAPI_QUERY)));
	}

	json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:{s:s,s:i}}",
	    "in", "query", "name", "page",
	    "description", "1-based; echoed in the answer as sent",
	    "schema", "type", "integer", "minimum", 1));
	json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:o}",
	    "in", "query", "name", "sort",
	    "description", "A field, or -field for descending; by default "
	    "in creation order",
	    "schema", openapi_sort(op->model)));
	(void)snprintf(desc, sizeof(desc), "Documents per page, %d by "
	    "default; more than %d is %d", REST_DEFAULT_LIMIT, REST_MAX_LIMIT,
	    REST_MAX_LIMIT);
	json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:{s:s,s:i,s:i}}",
	    "in", "query", "name", "limit", "description", desc,
	    "schema", "type", "integer", "minimum", 1,
	    "default", REST_DEFAULT_LIMIT));
	openapi_need(a, "the list parameters");

	return (a);
}

/* The sort keys of m: its REST_F_SORT fields and the stamps, +/-. */
static json_t *
openapi_sort(const struct rest_model *m)
{
	const struct rest_field	*f;
	json_t			*keys;
	char			 desc[OPENAPI_NAME_MAX];
	size_t			 i;

	keys = json_array();
	for (f = m->fields; f->name != NULL; f++) {
		if (!(f->flags & REST_F_SORT))
			continue;
		(void)snprintf(desc, sizeof(desc), "-%s", f->name);
		json_array_append_new(keys, json_string(f->name));
		json_array_append_new(keys, json_string(desc));
	}
	for (i = 0; rest_query_stamps[i] != NULL; i++) {
		(void)snprintf(desc, sizeof(desc), "-%s", rest_query_stamps[i]);
		json_array_append_new(keys, json_string(rest_query_stamps[i]));
		json_array_append_new(keys, json_string(desc));
	}

	return (json_pack("{s:s,s:o}", "type", "string", "enum", keys));
}

/*
 * The request body: the op's own fields (the token routes) or its
 * model's, less those the server sets. NULL when there are none.
 */
static json_t *
openapi_body(const struct rest_op *op, int create)
{
	const struct rest_field	*f, *fields;
	json_t			*props, *req, *schema;

	if (op->doc != NULL && op->doc->body != NULL)
		fields = op->doc->body;
	else if (op->model != NULL)
		fields = op->model->fields;
	else
		return (NULL);

	props = json_object();
	req = json_array();
	for (f = fields; f->name != NULL; f++) {
		if (f->flags & REST_F_SERVER)
			continue;
		json_object_set_new(props, f->name,
		    openapi_field(f, OPENAPI_BODY));
		if (create && (f->flags & REST_F_REQUIRED))
			json_array_append_new(req, json_string(f->name));
	}

	schema = json_pack("{s:s,s:o}", "type", "object", "properties", props);
	openapi_need(schema, "a body");
	if (json_array_size(req) > 0)
		json_object_set_new(schema, "required", req);
	else
		json_decref(req);

	return (json_pack("{s:b,s:o}", "required", 1,
	    "content", openapi_json_content(schema)));
}

/* The success answer, then the errors the op may answer, by status. */
static json_t *
openapi_responses(const struct rest_route *rt, const char *verb,
    const struct rest_op *op)
{
	json_t		*r, *ok;
	int		 st[OPENAPI_STATUS_MAX], status;
	size_t		 n, i;
	const int	*e;
	char		 code[8];

	r = json_object();
	ok = openapi_success(verb, op, &status);
	(void)snprintf(code, sizeof(code), "%d", status);
	json_object_set_new(r, code, ok);

	n = 0;
	if (op->flags & (REST_BODY | REST_LIST))
		openapi_status_add(st, &n, 400);
	if (op->flags & REST_AUTH)
		openapi_status_add(st, &n, 401);
	if (strstr(rt->path, "{id}") != NULL) {
		openapi_status_add(st, &n, 403);
		openapi_status_add(st, &n, 404);
	}
	if (op->flags & REST_CONFLICT)
		openapi_status_add(st, &n, 409);
	if (op->flags & REST_BODY)
		openapi_status_add(st, &n, 413);
	for (e = op->doc != NULL ? op->doc->errors : NULL; e != NULL && *e;
	    e++)
		openapi_status_add(st, &n, *e);
	openapi_status_add(st, &n, 500);
	openapi_status_add(st, &n, 503);
	if (strcmp(verb, "get") != 0)
		openapi_status_add(st, &n, 507);

	for (i = 0; i < n; i++) {
		(void)snprintf(code, sizeof(code), "%d", st[i]);
		json_object_set_new(r, code, openapi_error(op, st[i]));
	}

	return (r);
}

/* 1 if op's own list of errors has status. */
static int
openapi_op_error(const struct rest_op *op, int status)
{
	const int	*e;

	for (e = op->doc != NULL ? op->doc->errors : NULL; e != NULL && *e;
	    e++) {
		if (*e == status)
			return (1);
	}

	return (0);
}

/* Adds status to the sorted set st of *n statuses. */
static void
openapi_status_add(int *st, size_t *n, int status)
{
	size_t		i;

	for (i = 0; i < *n && st[i] < status; i++)
		;
	if (i < *n && st[i] == status)
		return;
	if (*n == OPENAPI_STATUS_MAX)
		fatalx("openapi: too many statuses");

	memmove(st + i + 1, st + i, (*n - i) * sizeof(*st));
	st[i] = status;
	(*n)++;
}

static json_t *
openapi_success(const char *verb, const struct rest_op *op, int *status)
{
	const char	*schema, *what;
	json_t		*r;
	char		 list[OPENAPI_NAME_MAX];

	if (!strcmp(verb, "delete")) {
		*status = 204;
		return (json_pack("{s:s}", "description",
		    "Successful delete: no body"));
	}

	if (op->flags & REST_LIST) {
		*status = 200;
		(void)snprintf(list, sizeof(list), "%sList", op->model->name);
		return (json_pack("{s:s,s:o}", "description",
		    "Successful list: the envelope as sent",
		    "content", openapi_json_content(openapi_ref(list))));
	}

	if (op->doc != NULL && op->doc->schema != NULL)
		schema = op->doc->schema;
	else if (op->model != NULL)
		schema = op->model->name;
	else
		fatalx("openapi: an op answers no schema");

	*status = 200;
	if (!strcmp(verb, "get")) {
		what = "Successful read";
	} else if (!strcmp(verb, "patch")) {
		what = "Successful update";
	} else if (op->model != NULL) {
		*status = 201;
		what = "Successful create";
	} else {
		what = "Success";
	}

	r = json_pack("{s:s,s:o,s:s}", "description", what,
	    "content", openapi_json_content(openapi_ref(schema)),
	    "x-korio-envelope", "data");
	openapi_need(r, schema);

	return (r);
}

static json_t *
openapi_error(const struct rest_op *op, int status)
{
	const char	*schema;
	json_t		*r;

	if (status == 409)
		schema = "Conflict";
	else if (status == 401 && !(op->flags & REST_AUTH))
		schema = "AuthMessage";
	else
		schema = "APIError";

	r = json_pack("{s:s,s:o}", "description",
	    openapi_status_text(op, status),
	    "content", openapi_json_content(openapi_ref(schema)));
	openapi_need(r, schema);
	if (status == 429 || status == 503)
		json_object_set_new(r, "headers", json_pack("{s:{s:s,s:{s:s}}}",
		    "Retry-After", "description", "Seconds to wait",
		    "schema", "type", "integer"));

	return (r);
}

static const char *
openapi_status_text(const struct rest_op *op, int status)
{
	switch (status) {
	case 400:
		if (!(op->flags & REST_BODY))
			return ("Bad request: a bad list query (detail names "
			    "the parameter)");
		return ("Bad request: malformed JSON, a field that is unknown, "
		    "missing or of the wrong type or length (detail names it)");
	case 401:
		if (op->flags & REST_AUTH)
			return ("Unauthorized: no valid access token, or its "
			    "user is gone");
		return ("Missing or wrong credentials, or a bad refresh token "
		    "(the message says which)");
	case 403:
		return ("Forbidden: not for this caller (detail says why)");
	case 404:
		return ("Document not found (or a malformed id)");
	case 409:
		return ("Conflict: If-Unmodified-Since (or "
		    "X-Unmodified-Since-ISO, or a body _updatedAt) is older "
		    "than the document's updated; nothing is written");
	case 413:
		return ("Payload Too Large: the body is over BODY_LIMIT");
	case 429:
		return ("Too Many Requests: failed logins from this address "
		    "or for this account");
	case 503:
		if (openapi_op_error(op, 503))
			return ("Service Unavailable: the database is "
			    "unreachable, or too many logins and signups are "
			    "waiting to be hashed");
		return ("Service Unavailable: the database is unreachable; "
		    "try again after Retry-After");
	case 507:
		return ("Insufficient Storage: no disk space left for the "
		    "write (SQLite); reads go on");
	default:
		return ("Internal server error (its cause is logged only)");
	}
}
