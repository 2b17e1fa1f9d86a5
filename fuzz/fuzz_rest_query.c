/*
 * fuzz_rest_query.c: libFuzzer target for the REST list-query parser
 * (rest_query_parse() in src/app/http/rest_query.c, what
 * rest_list_parse() runs for GET /todos and GET /projects). The input
 * is a query string as Kore hands it over (without the "?", up to its
 * first NUL), parsed for a model that has every field type and flag.
 * fuzz/rest_stubs.c stands in for the few calls outside rest_query.c.
 *
 * Whatever the input, the parse must leave: a limit from 1 to
 * REST_MAX_LIMIT, a page of at most 9 digits, a sort that is a sortable
 * field or created/updated, a filter object, and either a pending 400 or
 * filters that are all query fields with values of their type, and the
 * skip of the page.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "http/http.h"

#define FUZZ_CHECK(x)	do { if (!(x)) abort(); } while (0)

int		LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static void	fuzz_list(const struct rest_call *);
static void	fuzz_filters(const struct rest_call *);
static void	fuzz_error(const json_t *);

/* The todos' and the projects' fields together: every type and flag. */
static const struct rest_field	fuzz_fields[] = {
	{ .name = "projectId", .type = REST_T_OID,
	    .flags = REST_F_QUERY | REST_F_SORT | REST_F_NULL },
	{ .name = "name", .type = REST_T_STRING,
	    .flags = REST_F_REQUIRED | REST_F_SORT, .min = 1, .max = 200 },
	{ .name = "completed", .type = REST_T_BOOL,
	    .flags = REST_F_QUERY | REST_F_SORT },
	{ .name = "members", .type = REST_T_OID_ARRAY },
	{ .name = "title", .type = REST_T_STRING,
	    .flags = REST_F_REQUIRED | REST_F_SORT, .min = 1, .max = 500 },
	{ .name = "ownerId", .type = REST_T_OID,
	    .flags = REST_F_SERVER | REST_F_SORT },
	{ .name = NULL }
};

static const struct rest_model	fuzz_model = {
	.name = "Fuzz", .coll = STORE_TODOS, .fields = fuzz_fields
};

static const struct rest_op	fuzz_op = {
	.flags = REST_AUTH | REST_LIST, .model = &fuzz_model
};

static void
fuzz_list(const struct rest_call *call)
{
	const struct rest_list	*l = &call->list;
	const struct rest_field	*f;
	size_t			 len, page;

	FUZZ_CHECK(json_is_object(l->filters));
	FUZZ_CHECK(l->limit >= 1 && l->limit <= REST_MAX_LIMIT);

	len = strnlen(l->page, sizeof(l->page));
	FUZZ_CHECK(len <= 9 && strspn(l->page, "0123456789") == len);
	page = len > 0 ? strtoul(l->page, NULL, 10) : 0;
	FUZZ_CHECK(len == 0 || page >= 1);
	if (call->in_error == NULL)
		FUZZ_CHECK(l->skip == (page > 0 ? (page - 1) * l->limit : 0));

	FUZZ_CHECK(strnlen(l->sort, sizeof(l->sort)) < sizeof(l->sort));
	if (l->sort[0] != '\0' && strcmp(l->sort, "created") != 0 &&
	    strcmp(l->sort, "updated") != 0) {
		f = rest_input_field(&fuzz_model, l->sort);
		FUZZ_CHECK(f != NULL && (f->flags & REST_F_SORT));
	}
	if (call->in_error == NULL && l->desc)
		FUZZ_CHECK(l->sort[0] != '\0');
}

static void
fuzz_filters(const struct rest_call *call)
{
	const struct rest_field	*f;
	const char		*key, *s;
	json_t			*v;

	json_object_foreach(call->list.filters, key, v) {
		f = rest_input_field(&fuzz_model, key);
		FUZZ_CHECK(f != NULL && (f->flags & REST_F_QUERY));
		if (f->type == REST_T_BOOL) {
			FUZZ_CHECK(json_is_boolean(v));
			continue;
		}
		FUZZ_CHECK(f->type == REST_T_OID && json_is_string(v));
		s = json_string_value(v);
		FUZZ_CHECK(strlen(s) == STORE_OID_LEN &&
		    strspn(s, "0123456789abcdef") == STORE_OID_LEN);
	}
}

static void
fuzz_error(const json_t *err)
{
	const char	*title;

	FUZZ_CHECK(json_is_object(err));
	FUZZ_CHECK(json_integer_value(json_object_get(err, "status")) == 400);
	title = json_string_value(json_object_get(err, "title"));
	FUZZ_CHECK(title != NULL && title[0] != '\0');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rest_call	 call;
	char			*qs;

	if ((qs = malloc(size + 1)) == NULL)
		return (0);
	memcpy(qs, data, size);
	qs[size] = '\0';

	/* The defaults rest_start() sets before the parse. */
	memset(&call, 0, sizeof(call));
	call.op = &fuzz_op;
	call.list.limit = REST_DEFAULT_LIMIT;

	FUZZ_CHECK(rest_query_parse(&call, qs) == 1);
	fuzz_list(&call);
	if (call.in_error != NULL)
		fuzz_error(call.in_error);
	else
		fuzz_filters(&call);

	json_decref(call.list.filters);
	json_decref(call.in_error);
	free(qs);

	return (0);
}
