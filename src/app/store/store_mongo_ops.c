/*
 * The MongoDB backend's operations (see store_mongo.c): ping, insert,
 * list, update, delete_where and the project cascade, each one or two
 * libmongoc calls on the handle's collections, with documents and filters
 * converted by store_mongo_bson.c. Inserts and updates first retry the
 * indexes if the server could not be reached before
 * (store_mongo_indexes_retry).
 * Duplicate key errors (11000, 11001, 12582) are STORE_DUPLICATE; a
 * server that can't be reached (server selection, network, shutdown and
 * not-primary errors) is STORE_UNAVAILABLE, and so is every operation of
 * a handle that must not try the server (mc->down: its index try just
 * found none, or the server is down and another handle is probing it;
 * see store_mongo_acquire), so a request pays one server selection
 * timeout at most, and only one request at a time pays it.
 */

#include <string.h>

#include "store/store.h"
#include "store/store_mongo.h"

static enum store_result	 store_mongo_delete(struct store_mongo_conn *,
				    enum store_coll, const bson_t *, int,
				    size_t *);

enum store_result
store_mongo_ping(struct store_conn *c)
{
	struct store_mongo_conn	*mc = (struct store_mongo_conn *)c;
	bson_error_t		 err;
	bson_t			*cmd;
	bool			 ok;

	if (mc->down)
		return (STORE_UNAVAILABLE);

	cmd = BCON_NEW("ping", BCON_INT32(1));
	ok = mongoc_client_command_simple(mc->client, "admin", cmd, NULL,
	    NULL, &err);
	bson_destroy(cmd);

	return (ok ? STORE_OK : store_mongo_error(mc, &err, "ping"));
}

enum store_result
store_mongo_insert(struct store_conn *c, enum store_coll coll, json_t *doc)
{
	struct store_mongo_conn	*mc = (struct store_mongo_conn *)c;
	mongoc_collection_t	*mcoll;
	bson_error_t		 err;
	bson_t			 b;
	enum store_result	 r;

	if ((mcoll = store_mongo_coll(mc, coll)) == NULL)
		return (STORE_ERROR);

	store_mongo_indexes_retry(mc);
	if (mc->down)
		return (STORE_UNAVAILABLE);

	bson_init(&b);
	r = STORE_ERROR;

	if (!store_mongo_append_doc(&b, coll, doc))
		goto cleanup;

	if (mongoc_collection_insert_one(mcoll, &b, NULL, NULL, &err))
		r = STORE_OK;
	else
		r = store_mongo_error(mc, &err, "insert");

cleanup:
	bson_destroy(&b);
	return (r);
}

enum store_result
store_mongo_list(struct store_conn *c, enum store_coll coll,
    const struct store_query *q, json_t *docs, size_t *total)
{
	struct store_mongo_conn	*mc = (struct store_mongo_conn *)c;
	mongoc_collection_t	*mcoll;
	mongoc_cursor_t		*cur;
	const bson_t		*res;
	bson_error_t		 err;
	bson_t			 filter, opts, sort;
	json_t			*doc;
	int64_t			 n;
	int			 dir;
	enum store_result	 r;

	if ((mcoll = store_mongo_coll(mc, coll)) == NULL)
		return (STORE_ERROR);
	if (mc->down)
		return (STORE_UNAVAILABLE);

	bson_init(&filter);
	bson_init(&opts);
	cur = NULL;
	r = STORE_ERROR;
	dir = q->desc ? -1 : 1;

	if (!store_mongo_filter(&filter, coll, q->filters, q->nfilters))
		goto cleanup;

	(void)bson_append_document_begin(&opts, "sort", -1, &sort);
	if (q->sort != NULL && strcmp(q->sort, "_id") != 0)
		(void)bson_append_int32(&sort, q->sort, -1, dir);
	(void)bson_append_int32(&sort, "_id", -1, dir);
	(void)bson_append_document_end(&opts, &sort);
	if (q->skip > 0)
		(void)bson_append_int64(&opts, "skip", -1, (int64_t)q->skip);
	if (q->limit > 0)
		(void)bson_append_int64(&opts, "limit", -1, (int64_t)q->limit);

	cur = mongoc_collection_find_with_opts(mcoll, &filter, &opts, NULL);
	while (mongoc_cursor_next(cur, &res)) {
		if ((doc = store_mongo_doc(res)) == NULL ||
		    json_array_append_new(docs, doc) == -1)
			goto cleanup;
	}
	if (mongoc_cursor_error(cur, &err)) {
		r = store_mongo_error(mc, &err, "find");
		goto cleanup;
	}

	r = STORE_OK;
	if (total != NULL) {
		n = mongoc_collection_count_documents(mcoll, &filter, NULL,
		    NULL, NULL, &err);
		if (n < 0)
			r = store_mongo_error(mc, &err, "count");
		else
			*total = (size_t)n;
	}

cleanup:
	if (cur != NULL)
		mongoc_cursor_destroy(cur);
	bson_destroy(&filter);
	bson_destroy(&opts);
	return (r);
}

enum store_result
store_mongo_update(struct store_conn *c, enum store_coll coll,
    const char *id, json_t *set, json_t **doc)
{
	struct store_mongo_conn		*mc = (struct store_mongo_conn *)c;
	mongoc_collection_t		*mcoll;
	mongoc_find_and_modify_opts_t	*fam;
	bson_error_t			 err;
	bson_t				 query, update, reply;
	bson_oid_t			 oid;
	bson_iter_t			 it;
	enum store_result		 r;

	*doc = NULL;
	if ((mcoll = store_mongo_coll(mc, coll)) == NULL)
		return (STORE_ERROR);

	store_mongo_indexes_retry(mc);
	if (mc->down)
		return (STORE_UNAVAILABLE);

	bson_init(&query);
	bson_init(&update);
	bson_oid_init_from_string(&oid, id);
	(void)bson_append_oid(&query, "_id", -1, &oid);
	fam = NULL;
	r = STORE_ERROR;

	if (!store_mongo_update_doc(&update, coll, set))
		goto cleanup;

	fam = mongoc_find_and_modify_opts_new();
	(void)mongoc_find_and_modify_opts_set_update(fam, &update);
	(void)mongoc_find_and_modify_opts_set_flags(fam,
	    MONGOC_FIND_AND_MODIFY_RETURN_NEW);

	/* reply is initialized by the call, whatever the outcome. */
	if (!mongoc_collection_find_and_modify_with_opts(mcoll, &query, fam,
	    &reply, &err)) {
		r = store_mongo_error(mc, &err, "update");
	} else if (bson_iter_init_find(&it, &reply, "value") &&
	    BSON_ITER_HOLDS_DOCUMENT(&it)) {
		*doc = store_mongo_object(&it);
		r = (*doc != NULL) ? STORE_OK : STORE_ERROR;
	} else {
		r = STORE_NOTFOUND;
	}
	bson_destroy(&reply);

cleanup:
	if (fam != NULL)
		mongoc_find_and_modify_opts_destroy(fam);
	bson_destroy(&query);
	bson_destroy(&update);
	return (r);
}

enum store_result
store_mongo_delete_where(struct store_conn *c, enum store_coll coll,
    const char *field, json_t *value, size_t *n)
{
	struct store_mongo_conn	*mc = (struct store_mongo_conn *)c;
	struct store_filter	 f;
	bson_t			 filter;
	enum store_result	 r;

	f.field = field;
	f.op = STORE_EQ;
	f.value = value;

	bson_init(&filter);
	if (store_mongo_filter(&filter, coll, &f, 1))
		r = store_mongo_delete(mc, coll, &filter, 1, n);
	else
		r = STORE_ERROR;
	bson_destroy(&filter);

	return (r);
}

/* Not atomic: the project goes first, so no new todo can join it. */
enum store_result
store_mongo_delete_project(struct store_conn *c, const char *id,
    size_t *ntodos)
{
	struct store_mongo_conn	*mc = (struct store_mongo_conn *)c;
	bson_t			 filter;
	bson_oid_t		 oid;
	size_t			 n;
	enum store_result	 r;

	bson_oid_init_from_string(&oid, id);

	bson_init(&filter);
	(void)bson_append_oid(&filter, "_id", -1, &oid);
	r = store_mongo_delete(mc, STORE_PROJECTS, &filter, 0, &n);
	bson_destroy(&filter);

	if (r != STORE_OK)
		return (r);
	if (n == 0)
		return (STORE_NOTFOUND);

	bson_init(&filter);
	(void)bson_append_oid(&filter, "projectId", -1, &oid);
	r = store_mongo_delete(mc, STORE_TODOS, &filter, 1, ntodos);
	bson_destroy(&filter);

	return (r);
}

enum store_result
store_mongo_error(struct store_mongo_conn *mc, const bson_error_t *err,
    const char *what)
{
	if (err->code == 11000 || err->code == 11001 || err->code == 12582)
		return (STORE_DUPLICATE);

	store_log(STORE_LOG_ERR, "mongo: %s: %s (domain %u, code %u)", what,
	    err->message, err->domain, err->code);

	if (store_mongo_unreachable(err)) {
		store_mongo_unreached(mc);
		return (STORE_UNAVAILABLE);
	}

	return (STORE_ERROR);
}

/*
 * 1 if err says the server could not be reached or is going away: server
 * selection and stream (network) errors, and the server's own shutdown,
 * network and not-primary codes.
 */
int
store_mongo_unreachable(const bson_error_t *err)
{
	if (err->domain == MONGOC_ERROR_SERVER_SELECTION ||
	    err->domain == MONGOC_ERROR_STREAM)
		return (1);
	if (err->domain != MONGOC_ERROR_SERVER &&
	    err->domain != MONGOC_ERROR_WRITE_CONCERN)
		return (0);

	switch (err->code) {
	case 6:		/* HostUnreachable */
	case 7:		/* HostNotFound */
	case 89:	/* NetworkTimeout */
	case 91:	/* ShutdownInProgress */
	case 189:	/* PrimarySteppedDown */
	case 10107:	/* NotWritablePrimary */
	case 11600:	/* InterruptedAtShutdown */
	case 11602:	/* InterruptedDueToReplStateChange */
	case 13435:	/* NotPrimaryNoSecondaryOk */
	case 13436:	/* NotPrimaryOrSecondary */
		return (1);
	default:
		return (0);
	}
}

static enum store_result
store_mongo_delete(struct store_mongo_conn *mc, enum store_coll coll,
    const bson_t *filter, int many, size_t *n)
{
	mongoc_collection_t	*mcoll;
	bson_error_t		 err;
	bson_iter_t		 it;
	bson_t			 reply;
	bool			 ok;
	enum store_result	 r;

	*n = 0;
	if ((mcoll = store_mongo_coll(mc, coll)) == NULL)
		return (STORE_ERROR);
	if (mc->down)
		return (STORE_UNAVAILABLE);

	if (many) {
		ok = mongoc_collection_delete_many(mcoll, filter, NULL, &reply,
		    &err);
	} else {
		ok = mongoc_collection_delete_one(mcoll, filter, NULL, &reply,
		    &err);
	}

	if (!ok) {
		r = store_mongo_error(mc, &err, "delete");
	} else {
		if (bson_iter_init_find(&it, &reply, "deletedCount") &&
		    BSON_ITER_HOLDS_NUMBER(&it))
			*n = (size_t)bson_iter_as_int64(&it);
		r = STORE_OK;
	}

	bson_destroy(&reply);
	return (r);
}
