/*
 * The schemas of /openapi.json (openapi.c): a field's, a model's document
 * (as rest_doc() answers it) and list envelope (as rest_list_run() sends
 * it), and the bodies every route may send whatever its model:
 * rest_error()'s APIError, rest_message()'s AuthMessage,
 * routes_auth_tokens()' AuthTokens and rest_input_conflict()'s Conflict.
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <stdio.h>

#include "app.h"
#include "http/http.h"

static json_t	*openapi_model(const struct rest_model *);
static json_t	*openapi_list(const struct rest_model *);
static void	 openapi_models(json_t *);

/* A field's schema in a document, a request body or a list query. */
json_t *
openapi_field(const struct rest_field *f, int use)
{
	json_t		*s;

	switch (f->type) {
	case REST_T_STRING:
		s = json_pack("{s:s}", "type", "string");
		if (f->flags & REST_F_EMAIL)
			json_object_set_new(s, "format", json_string("email"));
		if (f->min > 0)
			json_object_set_new(s, "minLength",
			    json_integer((json_int_t)f->min));
		if (f->max > 0)
			json_object_set_new(s, "maxLength",
			    json_integer((json_int_t)f->max));
		break;
	case REST_T_BOOL:
		s = json_pack("{s:s}", "type", "boolean");
		break;
	case REST_T_OID:
		s = openapi_oid();
		break;
	case REST_T_OID_ARRAY:
	default:
		s = json_pack("{s:s,s:o}", "type", "array",
		    "items", openapi_oid());
		break;
	}
	openapi_need(s, f->name);

	if (use == OPENAPI_DOC && (f->flags & REST_F_SERVER))
		json_object_set_new(s, "readOnly", json_true());
	if (use == OPENAPI_BODY && (f->flags & REST_F_NULL))
		json_object_set_new(s, "nullable", json_true());

	return (s);
}

json_t *
openapi_oid(void)
{
	return (json_pack("{s:s,s:s}", "type", "string",
	    "pattern", "^[0-9a-fA-F]{24}$"));
}

/*
 * A model's document as the routes answer it (rest_doc()): _id and id,
 * its fields, the stamps. Required: those always there (the required
 * fields and those the server sets).
 */
static json_t *
openapi_model(const struct rest_model *m)
{
	const struct rest_field	*f;
	json_t			*props, *req, *s;
	size_t			 i;

	props = json_pack("{s:o,s:o}", "_id", openapi_oid(),
	    "id", openapi_oid());
	req = json_pack("[s,s]", "_id", "id");
	openapi_need(props, m->name);
	openapi_need(req, m->name);

	for (f = m->fields; f->name != NULL; f++) {
		json_object_set_new(props, f->name,
		    openapi_field(f, OPENAPI_DOC));
		if (f->flags & (REST_F_REQUIRED | REST_F_SERVER))
			json_array_append_new(req, json_string(f->name));
	}
	for (i = 0; rest_query_stamps[i] != NULL; i++) {
		json_object_set_new(props, rest_query_stamps[i],
		    json_pack("{s:s,s:s}", "type", "string",
		    "format", "date-time"));
		json_array_append_new(req, json_string(rest_query_stamps[i]));
	}

	s = json_pack("{s:s,s:o,s:o}", "type", "object", "required", req,
	    "properties", props);
	openapi_need(s, m->name);

	return (s);
}

/* A list's envelope, as rest_list_run() sends it. */
static json_t *
openapi_list(const struct rest_model *m)
{
	json_t		*s;

	s = json_pack("{s:s,s:[s,s,s,s],s:{s:{s:s,s:o},s:{s:s},s:{s:s},"
	    "s:{s:s,s:s},s:{s:s}}}",
	    "type", "object",
	    "required", "data", "limit", "more", "total",
	    "properties",
	    "data", "type", "array", "items", openapi_ref(m->name),
	    "limit", "type", "integer",
	    "more", "type", "boolean",
	    "page", "type", "string", "description",
	    "The page query parameter as it was sent; only when sent",
	    "total", "type", "integer");
	openapi_need(s, m->name);

	return (s);
}

/* The schemas of the models the routes use, and of their lists. */
static void
openapi_models(json_t *schemas)
{
	const struct rest_route *const	*rt;
	const struct rest_op		*ops[4];
	const struct rest_model		*m;
	char				 list[OPENAPI_NAME_MAX];
	size_t				 i;

	for (rt = rest_routes; *rt != NULL; rt++) {
		ops[0] = (*rt)->get;
		ops[1] = (*rt)->post;
		ops[2] = (*rt)->patch;
		ops[3] = (*rt)->delete;
		for (i = 0; i < 4; i++) {
			if (ops[i] == NULL || (m = ops[i]->model) == NULL)
				continue;
			if (json_object_get(schemas, m->name) == NULL)
				json_object_set_new(schemas, m->name,
				    openapi_model(m));
			(void)snprintf(list, sizeof(list), "%sList", m->name);
			if ((ops[i]->flags & REST_LIST) &&
			    json_object_get(schemas, list) == NULL)
				json_object_set_new(schemas, list,
				    openapi_list(m));
		}
	}
}

/*
 * The models' schemas, then the bodies the REST layer sends whatever
 * the model: rest_error()'s, rest_message()'s, routes_auth_tokens()'
 * and rest_input_conflict()'s.
 */
json_t *
openapi_components(void)
{
	json_t		*schemas, *c;

	schemas = json_object();
	openapi_models(schemas);

	json_object_set_new(schemas, "APIError", json_pack(
	    "{s:s,s:[s,s],s:{s:{s:s,s:s},s:{s:s,s:s},s:{s:s,s:s}}}",
	    "type", "object", "required", "status", "title",
	    "properties",
	    "status", "type", "integer", "description",
	    "The HTTP status code",
	    "title", "type", "string", "description", "The error message",
	    "detail", "type", "string", "description",
	    "What was wrong, naming the field or parameter"));
	json_object_set_new(schemas, "AuthMessage", json_pack(
	    "{s:s,s:[s],s:{s:{s:s}}}",
	    "type", "object", "required", "message",
	    "properties", "message", "type", "string"));
	json_object_set_new(schemas, ROUTES_AUTH_TOKENS, json_pack(
	    "{s:s,s:[s,s],s:{s:{s:s,s:s},s:{s:s,s:s},s:o}}",
	    "type", "object", "required", "token", "refreshToken",
	    "properties",
	    "token", "type", "string", "description",
	    "The access token (an HS256 JWT) for the Authorization header",
	    "refreshToken", "type", "string", "description",
	    "The refresh token (a JWT), for POST /auth/refresh_token",
	    "userId", openapi_oid()));
	json_object_set_new(schemas, "Conflict", json_pack(
	    "{s:s,s:[s,s,s],s:{s:{s:s,s:s},s:{s:s,s:[s]},s:{s:s}}}",
	    "type", "object", "required", "data", "error", "message",
	    "properties",
	    "data", "type", "object", "description",
	    "The document as it is now",
	    "error", "type", "string", "enum", "Conflict",
	    "message", "type", "string"));

	c = json_pack("{s:o,s:{s:{s:s,s:s,s:s,s:s}}}", "schemas", schemas,
	    "securitySchemes", "bearerAuth", "type", "http",
	    "scheme", "bearer", "bearerFormat", "JWT",
	    "description", "An access token from /auth/signup, /auth/login "
	    "or /auth/refresh_token; Bearer null counts as none");
	openapi_need(c, "components");

	return (c);
}

json_t *
openapi_ref(const char *schema)
{
	char		ref[OPENAPI_NAME_MAX * 2];

	(void)snprintf(ref, sizeof(ref), "#/components/schemas/%s", schema);

	return (json_pack("{s:s}", "$ref", ref));
}

/* {"application/json": {"schema": schema}}; takes schema's reference. */
json_t *
openapi_json_content(json_t *schema)
{
	return (json_pack("{s:{s:o}}", "application/json", "schema", schema));
}

/* jansson's builders fail only for want of memory, or a bug here. */
void
openapi_need(json_t *v, const char *what)
{
	if (v == NULL)
		fatalx("openapi: cannot build %s", what);
}
