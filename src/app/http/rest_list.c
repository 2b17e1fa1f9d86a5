/*
 * List queries (REST_LIST): GET /todos and GET /projects, as Terreno's
 * modelRouter answers them.
 *
 * rest_list_parse() runs on the worker, before the job starts: the query
 * string into call->list, by rest_query.c (limit, page, sort, filters; a
 * bad query is a pending 400).
 *
 * rest_list_run() runs on the pool thread: the route's own filters plus
 * the query's, one more document than the limit to learn "more", and the
 * total count. The answer is 200 {"data","limit","more"[,"page"],"total"}.
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <string.h>

#include "app.h"
#include "http/http.h"

/* The list query of the request; see rest_query.c. */
void
rest_list_parse(struct rest_call *call, const char *qs)
{
	if (!rest_query_parse(call, qs))
		fatal("rest_list_parse: json_object");
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
