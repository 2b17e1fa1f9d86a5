/*
 * List queries (REST_LIST): GET /todos and GET /projects, as Terreno's
 * modelRouter reads them.
 *
 * rest_list_parse() runs on the worker, before the job starts: limit
 * (default 100, capped at 500), page (1-based), sort ("field" or "-field",
 * by a sortable field or created/updated) and equality filters on the
 * model's query fields, typed by the schema (true/false, ObjectIds
 * lowercased). Keys and values are percent-decoded; a repeated key, a
 * bracket (a qs operator such as completed[$ne]) or junk is kept as a
 * pending 400, which rest_input() reports after the auth, 404 and 403
 * checks.
 *
 * rest_list_run() runs on the pool thread: the route's own filters plus
 * the query's, one more document than the limit to learn "more", and the
 * total count. The answer is 200 {"data","limit","more"[,"page"],"total"}.
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "http/http.h"

#define REST_KEY_MAX		128
#define REST_VAL_MAX		256
#define REST_NUM_DIGITS		9

static int	rest_list_pending(struct rest_call *, const char *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static int	rest_list_pair(struct rest_call *, const char *,
		    const char *, int *);
static int	rest_list_num(const char *, size_t *);
static int	rest_list_sort(struct rest_call *, const char *);
static int	rest_list_filter(struct rest_call *, const char *,
		    const char *);

/*
 * limit (default 100, capped at 500), page (1-based), sort ("field" or
 * "-field") and filters on the model's query fields. Keys and values are
 * percent-decoded; a repeated key, a bracket (qs operator) or junk is a
 * pending 400.
 */
void
rest_list_parse(struct rest_call *call, const char *qs)
{
	const char	*p, *end, *eq;
	char		 key[REST_KEY_MAX], val[REST_VAL_MAX];
	size_t		 page;
	int		 seen;

	if ((call->list.filters = json_object()) == NULL)
		fatal("rest_list_parse: json_object");

	seen = 0;
	for (p = qs; p != NULL && *p != '\0'; p = (*end == '&') ?
	    end + 1 : end) {
		if ((end = strchr(p, '&')) == NULL)
			end = p + strlen(p);
		if (end == p)
			continue;
		if ((eq = memchr(p, '=', (size_t)(end - p))) == NULL)
			eq = end;

		if (http_util_pct_decode(p, (size_t)(eq - p), key,
		    sizeof(key)) == -1 || http_util_pct_decode(eq == end ?
		    eq : eq + 1, eq == end ? 0 : (size_t)(end - eq - 1), val,
		    sizeof(val)) == -1) {
			rest_list_pending(call, "Malformed query string", NULL);
			return;
		}
		if (!rest_list_pair(call, key, val, &seen))
			return;
	}

	if (call->list.page[0] != '\0') {
		(void)rest_list_num(call->list.page, &page);
		call->list.skip = (page - 1) * call->list.limit;
	}
}

/*
 * Runs a list query: the n filters in f (an array of STORE_FILTER_MAX)
 * plus the query's own, with its sort, page and limit. Sets the
 * 200 {"data","limit","more"[,"page"],"total"} response; returns 1, or 0
 * with an error set.
 */
int
rest_list_run(struct rest_call *call, struct store_filter *f, size_t n)
{
	struct store_query	 q;
	const char		*key;
	json_t			*val, *docs, *v;
	size_t			 total, i;
	int			 more;
	enum store_result	 r;

	json_object_foreach(call->list.filters, key, val) {
		if (n >= STORE_FILTER_MAX)
			return (rest_error(call, 500, "Internal server error",
			    NULL));
		f[n].field = key;
		f[n].op = STORE_EQ;
		f[n].value = val;
		n++;
	}

	memset(&q, 0, sizeof(q));
	q.filters = f;
	q.nfilters = n;
	/* By default in creation order, as MongoDB's natural order is. */
	q.sort = call->list.sort[0] != '\0' ? call->list.sort : "created";
	q.desc = call->list.desc;
	q.limit = call->list.limit + 1;
	q.skip = call->list.skip;

	r = store_list(call->sc, call->op->model->coll, &q, &docs, &total);
	if (r != STORE_OK)
		return (rest_store_error(call, r, "list"));

	more = json_array_size(docs) > call->list.limit;
	if (more)
		json_array_remove(docs, call->list.limit);
	json_array_foreach(docs, i, v)
		rest_doc(v);

	json_decref(call->out);
	call->out = json_pack("{s:o,s:I,s:b}", "data", docs,
	    "limit", (json_int_t)call->list.limit, "more", more);
	if (call->list.page[0] != '\0')
		json_object_set_new(call->out, "page",
		    json_string(call->list.page));
	json_object_set_new(call->out, "total", json_integer(total));
	call->status = 200;

	return (1);
}

/* A bad list query, reported by rest_input() after the auth check. */
static int
rest_list_pending(struct rest_call *call, const char *title, const char *fmt,
    ...)
{
	va_list		ap;

	if (call->in_error != NULL)
		return (0);

	va_start(ap, fmt);
	call->in_error = rest_error_body(400, title, fmt, ap);
	va_end(ap);

	return (0);
}

static int
rest_list_pair(struct rest_call *call, const char *key, const char *val,
    int *seen)
{
	size_t		n;

	if (!strcmp(key, "limit")) {
		if ((*seen & 1) || !rest_list_num(val, &n) || n == 0)
			return (rest_list_pending(call, "Invalid limit",
			    "limit must be a positive integer, given once"));
		*seen |= 1;
		call->list.limit = n > REST_MAX_LIMIT ? REST_MAX_LIMIT : n;
		return (1);
	}

	if (!strcmp(key, "page")) {
		if ((*seen & 2) || !rest_list_num(val, &n) || n == 0)
			return (rest_list_pending(call, "Invalid page",
			    "page must be a positive integer, given once"));
		*seen |= 2;
		/* rest_list_num() allowed REST_NUM_DIGITS digits. */
		memcpy(call->list.page, val, strlen(val) + 1);
		return (1);
	}

	if (!strcmp(key, "sort")) {
		if (*seen & 4)
			return (rest_list_pending(call, "Invalid sort",
			    "sort given twice"));
		*seen |= 4;
		return (rest_list_sort(call, val));
	}

	return (rest_list_filter(call, key, val));
}

/* Decimal digits only, at most REST_NUM_DIGITS of them. */
static int
rest_list_num(const char *s, size_t *n)
{
	size_t		i;

	*n = 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i == REST_NUM_DIGITS || !isdigit((unsigned char)s[i]))
			return (0);
		*n = *n * 10 + (size_t)(s[i] - '0');
	}

	return (i > 0);
}

static int
rest_list_sort(struct rest_call *call, const char *val)
{
	const struct rest_field	*f;
	const char		*name;

	name = val;
	if (*name == '-') {
		call->list.desc = 1;
		name++;
	}

	if (strcmp(name, "created") && strcmp(name, "updated") &&
	    ((f = rest_input_field(call->op->model, name)) == NULL ||
	    !(f->flags & REST_F_SORT)))
		return (rest_list_pending(call, "Invalid sort",
		    "%.64s is not a sortable field of %s", name,
		    call->op->model->name));

	/* A field name from a schema table: shorter than STORE_FIELD_MAX. */
	memcpy(call->list.sort, name, strlen(name) + 1);

	return (1);
}

static int
rest_list_filter(struct rest_call *call, const char *key, const char *val)
{
	const struct rest_field	*f;
	char			 base[REST_KEY_MAX], title[REST_DETAIL_MAX];
	json_t			*v;

	(void)snprintf(base, sizeof(base), "%s", key);
	base[strcspn(base, "[")] = '\0';

	f = rest_input_field(call->op->model, base);
	if (f == NULL || !(f->flags & REST_F_QUERY)) {
		(void)snprintf(title, sizeof(title),
		    "%.64s is not allowed as a query param.", base);
		return (rest_list_pending(call, title, NULL));
	}

	if (strcmp(base, key))
		return (rest_list_pending(call, "Invalid query",
		    "query operators are not supported (%.64s)", key));
	if (json_object_get(call->list.filters, f->name) != NULL)
		return (rest_list_pending(call, "Invalid query",
		    "%s given twice", f->name));

	v = NULL;
	if (f->type == REST_T_BOOL && !strcmp(val, "true"))
		v = json_true();
	else if (f->type == REST_T_BOOL && !strcmp(val, "false"))
		v = json_false();
	else if (f->type == REST_T_OID && store_oid_valid(val))
		v = rest_input_oid(val);

	if (v == NULL)
		return (rest_list_pending(call, "Invalid query",
		    "%s must be %s", f->name, f->type == REST_T_BOOL ?
		    "true or false" : "an ObjectId"));

	json_object_set_new(call->list.filters, f->name, v);

	return (1);
}
