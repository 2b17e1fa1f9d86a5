/*
 * The MongoDB backend of the store (see store.h), through libmongoc; the
 * only file that includes mongoc.h and bson.h.
 *
 * Documents are stored the way Terreno's mongoose models store them, so
 * korio and an existing Terreno deployment can share a database: the
 * schema's ObjectId fields (_id, ownerId, projectId, members[]) as BSON
 * ObjectId, its date fields (created, updated) as BSON Date, integers as
 * int32 when they fit (int64 otherwise), reals as double. Reading converts
 * back to the REST shape: every ObjectId, wherever it is, becomes its hex
 * string, every Date an ISO string with milliseconds, integral doubles
 * become JSON integers (as JSON.stringify prints them), Decimal128 a
 * string; other BSON types (binary, regex, ...) read as null. Fields the
 * schema does not name pass through ("__v" stays an int32 because updates
 * only $set the fields they are given).
 *
 * Filters convert through the same schema, so projectId=P matches
 * ObjectId(P). Several filters on distinct fields make one flat filter
 * document, repeated fields go under $and.
 *
 * Threads: one mongoc_client_pool_t per process (created by init, after
 * fork); a handle is a client popped from it plus lazily opened collection
 * handles, all given back by release. The first acquire creates the
 * indexes (unique users.email, todos.ownerId, todos.projectId,
 * projects.members). A server that refuses one (e.g. duplicates already
 * there) gets a warning and is not asked again; a server that cannot be
 * reached gets a warning and a later write tries again. Duplicate key
 * errors (11000, 11001, 12582) are STORE_DUPLICATE. Unless the URI says
 * otherwise, serverSelectionTimeoutMS is 5000, so an unreachable server
 * fails an operation in 5 s rather than mongoc's default 30.
 */

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* libbson 1.23's bson-atomic.h casts away const in an inline function. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include <bson/bson.h>
#include <mongoc/mongoc.h>
#pragma GCC diagnostic pop

#include "store/store.h"

#define STORE_MONGO_DEFAULT_DB	"korio"
#define STORE_MONGO_SAFE_INT	9007199254740992.0	/* 2^53 */
#define STORE_MONGO_SELECT_MS	5000	/* default serverSelectionTimeoutMS */
#define STORE_MONGO_RETRY_SEC	5	/* between index creation tries */

struct store_mongo_conn {
	mongoc_client_t		*client;
	mongoc_collection_t	*colls[STORE_COLL_MAX];
};

struct store_mongo_index {
	enum store_coll		 coll;
	const char		*field;
	int			 unique;
};

static enum store_result	store_mongo_init(const struct store_config *);
static void			store_mongo_cleanup(void);
static struct store_conn	*store_mongo_acquire(void);
static void			store_mongo_release(struct store_conn *);
static enum store_result	store_mongo_ping(struct store_conn *);
static enum store_result	store_mongo_insert(struct store_conn *,
				    enum store_coll, json_t *);
static enum store_result	store_mongo_list(struct store_conn *,
				    enum store_coll, const struct store_query *,
				    json_t *, size_t *);
static enum store_result	store_mongo_update(struct store_conn *,
				    enum store_coll, const char *, json_t *,
				    json_t **);
static enum store_result	store_mongo_delete_where(struct store_conn *,
				    enum store_coll, const char *, json_t *,
				    size_t *);
static enum store_result	store_mongo_delete_project(struct store_conn *,
				    const char *, size_t *);

static void			 store_mongo_log(mongoc_log_level_t,
				    const char *, const char *, void *);
static void			 store_mongo_indexes(struct store_mongo_conn *,
				    int);
static int			 store_mongo_index(struct store_mongo_conn *,
				    const struct store_mongo_index *);
static mongoc_collection_t	*store_mongo_coll(struct store_mongo_conn *,
				    enum store_coll);
static int			 store_mongo_append(bson_t *, const char *,
				    enum store_kind, json_t *);
static int			 store_mongo_append_doc(bson_t *,
				    enum store_coll, json_t *);
static int			 store_mongo_update_doc(bson_t *,
				    enum store_coll, json_t *);
static int			 store_mongo_filter(bson_t *, enum store_coll,
				    const struct store_filter *, size_t);
static json_t			*store_mongo_value(bson_iter_t *);
static json_t			*store_mongo_object(bson_iter_t *);
static json_t			*store_mongo_array(bson_iter_t *);
static json_t			*store_mongo_doc(const bson_t *);
static enum store_result	 store_mongo_error(const bson_error_t *,
				    const char *);
static enum store_result	 store_mongo_delete(struct store_mongo_conn *,
				    enum store_coll, const bson_t *, int,
				    size_t *);

const struct store_backend	store_mongo_backend = {
	.name = "mongodb",
	.init = store_mongo_init,
	.cleanup = store_mongo_cleanup,
	.acquire = store_mongo_acquire,
	.release = store_mongo_release,
	.ping = store_mongo_ping,
	.insert = store_mongo_insert,
	.list = store_mongo_list,
	.update = store_mongo_update,
	.delete_where = store_mongo_delete_where,
	.delete_project = store_mongo_delete_project,
};

static const struct store_mongo_index	store_mongo_index_list[] = {
	{ STORE_USERS,		"email",	1 },
	{ STORE_TODOS,		"ownerId",	0 },
	{ STORE_TODOS,		"projectId",	0 },
	{ STORE_PROJECTS,	"members",	0 },
};

static mongoc_uri_t		*store_mongo_uri = NULL;
static mongoc_client_pool_t	*store_mongo_pool = NULL;
static char			*store_mongo_db = NULL;
static pthread_mutex_t		 store_mongo_index_lock =
				    PTHREAD_MUTEX_INITIALIZER;
static atomic_int		 store_mongo_indexed;
static size_t			 store_mongo_index_next;
static time_t			 store_mongo_index_tried;

static enum store_result
store_mongo_init(const struct store_config *cfg)
{
	bson_error_t	 err;
	const char	*db;

	mongoc_init();
	mongoc_log_set_handler(store_mongo_log, NULL);

	if ((store_mongo_uri = mongoc_uri_new_with_error(cfg->mongodb_uri,
	    &err)) == NULL) {
		store_log(STORE_LOG_ERR, "mongo: bad MONGODB_URI: %s",
		    err.message);
		goto fail;
	}

	/* Fail within seconds, not mongoc's 30, when the server is down. */
	if (!mongoc_uri_has_option(store_mongo_uri,
	    MONGOC_URI_SERVERSELECTIONTIMEOUTMS))
		(void)mongoc_uri_set_option_as_int32(store_mongo_uri,
		    MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
		    STORE_MONGO_SELECT_MS);

	if ((db = mongoc_uri_get_database(store_mongo_uri)) == NULL)
		db = STORE_MONGO_DEFAULT_DB;
	if ((store_mongo_db = strdup(db)) == NULL)
		goto fail;

	if ((store_mongo_pool = mongoc_client_pool_new(store_mongo_uri)) ==
	    NULL) {
		store_log(STORE_LOG_ERR, "mongo: cannot create client pool");
		goto fail;
	}
	(void)mongoc_client_pool_set_error_api(store_mongo_pool,
	    MONGOC_ERROR_API_VERSION_2);
	(void)mongoc_client_pool_set_appname(store_mongo_pool, "korio");

	atomic_store(&store_mongo_indexed, 0);
	store_mongo_index_next = 0;
	store_mongo_index_tried = 0;

	return (STORE_OK);

fail:
	store_mongo_cleanup();
	return (STORE_ERROR);
}

/* Every handle must be released first. Ends with mongoc_cleanup(). */
static void
store_mongo_cleanup(void)
{
	if (store_mongo_pool != NULL)
		mongoc_client_pool_destroy(store_mongo_pool);
	if (store_mongo_uri != NULL)
		mongoc_uri_destroy(store_mongo_uri);
	free(store_mongo_db);

	store_mongo_pool = NULL;
	store_mongo_uri = NULL;
	store_mongo_db = NULL;

	mongoc_log_set_handler(mongoc_log_default_handler, NULL);
	mongoc_cleanup();
}

static struct store_conn *
store_mongo_acquire(void)
{
	struct store_mongo_conn	*mc;

	if ((mc = calloc(1, sizeof(*mc))) == NULL)
		return (NULL);

	if ((mc->client = mongoc_client_pool_pop(store_mongo_pool)) == NULL) {
		free(mc);
		return (NULL);
	}

	if (!atomic_load(&store_mongo_indexed))
		store_mongo_indexes(mc, 1);

	return ((struct store_conn *)mc);
}

static void
store_mongo_release(struct store_conn *c)
{
	struct store_mongo_conn	*mc = (struct store_mongo_conn *)c;
	size_t			 i;

	for (i = 0; i < STORE_COLL_MAX; i++) {
		if (mc->colls[i] != NULL)
			mongoc_collection_destroy(mc->colls[i]);
	}

	mongoc_client_pool_push(store_mongo_pool, mc->client);
	free(mc);
}

static enum store_result
store_mongo_ping(struct store_conn *c)
{
	struct store_mongo_conn	*mc = (struct store_mongo_conn *)c;
	bson_error_t		 err;
	bson_t			*cmd;
	bool			 ok;

	cmd = BCON_NEW("ping", BCON_INT32(1));
	ok = mongoc_client_command_simple(mc->client, "admin", cmd, NULL,
	    NULL, &err);
	bson_destroy(cmd);

	return (ok ? STORE_OK : store_mongo_error(&err, "ping"));
}

static enum store_result
store_mongo_insert(struct store_conn *c, enum store_coll coll, json_t *doc)
{
	struct store_mongo_conn	*mc = (struct store_mongo_conn *)c;
	mongoc_collection_t	*mcoll;
	bson_error_t		 err;
	bson_t			 b;
	enum store_result	 r;

	if ((mcoll = store_mongo_coll(mc, coll)) == NULL)
		return (STORE_ERROR);

	if (!atomic_load(&store_mongo_indexed))
		store_mongo_indexes(mc, 0);

	bson_init(&b);
	r = STORE_ERROR;

	if (!store_mongo_append_doc(&b, coll, doc))
		goto cleanup;

	if (mongoc_collection_insert_one(mcoll, &b, NULL, NULL, &err))
		r = STORE_OK;
	else
		r = store_mongo_error(&err, "insert");

cleanup:
	bson_destroy(&b);
	return (r);
}

static enum store_result
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
		r = store_mongo_error(&err, "find");
		goto cleanup;
	}

	r = STORE_OK;
	if (total != NULL) {
		n = mongoc_collection_count_documents(mcoll, &filter, NULL,
		    NULL, NULL, &err);
		if (n < 0)
			r = store_mongo_error(&err, "count");
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

static enum store_result
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

	if (!atomic_load(&store_mongo_indexed))
		store_mongo_indexes(mc, 0);

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
		r = store_mongo_error(&err, "update");
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

static enum store_result
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
static enum store_result
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

/* libmongoc's own warnings and errors go to the store's log. */
static void
store_mongo_log(mongoc_log_level_t level, const char *domain,
    const char *msg, void *arg)
{
	(void)arg;

	if (level > MONGOC_LOG_LEVEL_WARNING)
		return;

	store_log(level == MONGOC_LOG_LEVEL_WARNING ? STORE_LOG_WARNING :
	    STORE_LOG_ERR, "mongoc %s: %s", domain, msg);
}

/*
 * Create the indexes once per process. The first acquire tries; others
 * wait meanwhile, so the unique email index exists before a first signup
 * runs. Each index is asked for until the server answers (success or
 * refusal). If the server could not be reached, writes (insert, update)
 * try again, at most every STORE_MONGO_RETRY_SEC, so reads do not pay
 * a server selection timeout for it while the server is down.
 */
static void
store_mongo_indexes(struct store_mongo_conn *mc, int first)
{
	size_t		n;
	time_t		now;

	n = sizeof(store_mongo_index_list) / sizeof(store_mongo_index_list[0]);
	now = time(NULL);

	pthread_mutex_lock(&store_mongo_index_lock);
	if (store_mongo_index_tried != 0 && (first ||
	    now - store_mongo_index_tried < STORE_MONGO_RETRY_SEC))
		n = 0;
	else
		store_mongo_index_tried = now;
	while (store_mongo_index_next < n) {
		if (!store_mongo_index(mc,
		    &store_mongo_index_list[store_mongo_index_next]))
			break;
		store_mongo_index_next++;
	}
	if (n > 0 && store_mongo_index_next == n)
		atomic_store(&store_mongo_indexed, 1);
	pthread_mutex_unlock(&store_mongo_index_lock);
}

/* Returns 0 only if the server could not be asked. */
static int
store_mongo_index(struct store_mongo_conn *mc,
    const struct store_mongo_index *ix)
{
	mongoc_database_t	*db;
	bson_error_t		 err;
	bson_t			*cmd;
	char			 name[STORE_FIELD_MAX + 8];
	bool			 ok;

	(void)snprintf(name, sizeof(name), "%s_1", ix->field);

	cmd = BCON_NEW("createIndexes", BCON_UTF8(store_coll_name(ix->coll)),
	    "indexes", "[", "{",
		"key", "{", BCON_UTF8(ix->field), BCON_INT32(1), "}",
		"name", BCON_UTF8(name),
		"unique", BCON_BOOL(ix->unique),
	    "}", "]");

	db = mongoc_client_get_database(mc->client, store_mongo_db);
	ok = mongoc_database_write_command_with_opts(db, cmd, NULL, NULL,
	    &err);
	mongoc_database_destroy(db);
	bson_destroy(cmd);

	if (ok)
		return (1);

	store_log(STORE_LOG_WARNING, "mongo: cannot create index %s.%s "
	    "(%s): %s", store_coll_name(ix->coll), name,
	    ix->unique ? "unique" : "plain", err.message);

	return (err.domain == MONGOC_ERROR_SERVER ||
	    err.domain == MONGOC_ERROR_WRITE_CONCERN);
}

static mongoc_collection_t *
store_mongo_coll(struct store_mongo_conn *mc, enum store_coll coll)
{
	if (mc->colls[coll] == NULL) {
		mc->colls[coll] = mongoc_client_get_collection(mc->client,
		    store_mongo_db, store_coll_name(coll));
	}

	return (mc->colls[coll]);
}

/*
 * Append one JSON value under key, converting per the schema kind: a
 * 24-hex string for an ObjectId field becomes an ObjectId, a parseable
 * string for a date field a Date; anything else is stored as its JSON
 * type. Elements of an ObjectId array convert like ObjectId fields.
 */
static int
store_mongo_append(bson_t *b, const char *key, enum store_kind kind,
    json_t *v)
{
	bson_t		 child;
	bson_oid_t	 oid;
	const char	*s, *ikey;
	char		 ibuf[16];
	const char	*k;
	json_t		*e;
	json_int_t	 i;
	int64_t		 ms;
	size_t		 idx;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		(void)bson_append_document_begin(b, key, -1, &child);
		json_object_foreach(v, k, e) {
			if (!store_mongo_append(&child, k, STORE_KIND_PLAIN,
			    e))
				return (0);
		}
		return (bson_append_document_end(b, &child));
	case JSON_ARRAY:
		(void)bson_append_array_begin(b, key, -1, &child);
		json_array_foreach(v, idx, e) {
			(void)bson_uint32_to_string((uint32_t)idx, &ikey, ibuf,
			    sizeof(ibuf));
			if (!store_mongo_append(&child, ikey,
			    kind == STORE_KIND_OID_ARRAY ? STORE_KIND_OID :
			    STORE_KIND_PLAIN, e))
				return (0);
		}
		return (bson_append_array_end(b, &child));
	case JSON_STRING:
		s = json_string_value(v);
		if ((kind == STORE_KIND_OID || kind == STORE_KIND_OID_ARRAY) &&
		    store_oid_valid(s)) {
			bson_oid_init_from_string(&oid, s);
			return (bson_append_oid(b, key, -1, &oid));
		}
		if (kind == STORE_KIND_DATE && store_iso_parse(s, &ms))
			return (bson_append_date_time(b, key, -1, ms));
		return (bson_append_utf8(b, key, -1, s,
		    (int)json_string_length(v)));
	case JSON_INTEGER:
		i = json_integer_value(v);
		if (i >= INT32_MIN && i <= INT32_MAX)
			return (bson_append_int32(b, key, -1, (int32_t)i));
		return (bson_append_int64(b, key, -1, (int64_t)i));
	case JSON_REAL:
		return (bson_append_double(b, key, -1, json_real_value(v)));
	case JSON_TRUE:
		return (bson_append_bool(b, key, -1, true));
	case JSON_FALSE:
		return (bson_append_bool(b, key, -1, false));
	case JSON_NULL:
		return (bson_append_null(b, key, -1));
	}

	return (0);
}

static int
store_mongo_append_doc(bson_t *b, enum store_coll coll, json_t *doc)
{
	const char	*key;
	json_t		*val;

	json_object_foreach(doc, key, val) {
		if (!store_mongo_append(b, key, store_field_kind(coll, key),
		    val))
			return (0);
	}

	return (1);
}

/* {$set: {non-null members of set}, $unset: {null members: ""}} */
static int
store_mongo_update_doc(bson_t *update, enum store_coll coll, json_t *set)
{
	bson_t		 sub;
	const char	*key;
	json_t		*val;
	size_t		 nunset;

	nunset = 0;
	json_object_foreach(set, key, val)
		nunset += json_is_null(val);

	if (nunset < json_object_size(set)) {
		(void)bson_append_document_begin(update, "$set", -1, &sub);
		json_object_foreach(set, key, val) {
			if (json_is_null(val))
				continue;
			if (!store_mongo_append(&sub, key,
			    store_field_kind(coll, key), val))
				return (0);
		}
		(void)bson_append_document_end(update, &sub);
	}

	if (nunset > 0) {
		(void)bson_append_document_begin(update, "$unset", -1, &sub);
		json_object_foreach(set, key, val) {
			if (json_is_null(val))
				(void)bson_append_utf8(&sub, key, -1, "", 0);
		}
		(void)bson_append_document_end(update, &sub);
	}

	return (1);
}

/*
 * Build the filter document. EQ and CONTAINS are both {field: value} in
 * MongoDB (equality matches array elements). Repeated fields go under
 * $and, since a document can't hold the same key twice.
 */
static int
store_mongo_filter(bson_t *b, enum store_coll coll,
    const struct store_filter *f, size_t nf)
{
	bson_t		 and, sub;
	const char	*ikey;
	char		 ibuf[16];
	size_t		 i, j;
	int		 repeated;

	repeated = 0;
	for (i = 0; i < nf; i++) {
		for (j = i + 1; j < nf; j++) {
			if (strcmp(f[i].field, f[j].field) == 0)
				repeated = 1;
		}
	}

	if (!repeated) {
		for (i = 0; i < nf; i++) {
			if (!store_mongo_append(b, f[i].field,
			    store_field_kind(coll, f[i].field), f[i].value))
				return (0);
		}
		return (1);
	}

	(void)bson_append_array_begin(b, "$and", -1, &and);
	for (i = 0; i < nf; i++) {
		(void)bson_uint32_to_string((uint32_t)i, &ikey, ibuf,
		    sizeof(ibuf));
		(void)bson_append_document_begin(&and, ikey, -1, &sub);
		if (!store_mongo_append(&sub, f[i].field,
		    store_field_kind(coll, f[i].field), f[i].value))
			return (0);
		(void)bson_append_document_end(&and, &sub);
	}

	return (bson_append_array_end(b, &and));
}

static json_t *
store_mongo_value(bson_iter_t *it)
{
	char		 buf[BSON_DECIMAL128_STRING];
	bson_decimal128_t dec;
	const char	*s;
	json_t		*v;
	uint32_t	 len, t, inc;
	double		 d;

	switch (bson_iter_type(it)) {
	case BSON_TYPE_OID:
		bson_oid_to_string(bson_iter_oid(it), buf);
		return (json_string(buf));
	case BSON_TYPE_DATE_TIME:
		if (store_iso_format(bson_iter_date_time(it), buf))
			return (json_string(buf));
		return (json_integer(bson_iter_date_time(it)));
	case BSON_TYPE_UTF8:
		s = bson_iter_utf8(it, &len);
		v = json_stringn(s, len);
		break;
	case BSON_TYPE_INT32:
		return (json_integer(bson_iter_int32(it)));
	case BSON_TYPE_INT64:
		return (json_integer(bson_iter_int64(it)));
	case BSON_TYPE_DOUBLE:
		d = bson_iter_double(it);
		if (d >= -STORE_MONGO_SAFE_INT && d <= STORE_MONGO_SAFE_INT &&
		    (double)(json_int_t)d == d)
			return (json_integer((json_int_t)d));
		v = json_real(d);	/* NULL for NaN and infinities */
		break;
	case BSON_TYPE_BOOL:
		return (json_boolean(bson_iter_bool(it)));
	case BSON_TYPE_DOCUMENT:
		return (store_mongo_object(it));
	case BSON_TYPE_ARRAY:
		return (store_mongo_array(it));
	case BSON_TYPE_DECIMAL128:
		if (!bson_iter_decimal128(it, &dec))
			return (json_null());
		bson_decimal128_to_string(&dec, buf);
		return (json_string(buf));
	case BSON_TYPE_TIMESTAMP:
		bson_iter_timestamp(it, &t, &inc);
		return (json_integer(t));
	default:
		return (json_null());
	}

	return (v != NULL ? v : json_null());
}

static json_t *
store_mongo_object(bson_iter_t *it)
{
	bson_iter_t	 child;
	json_t		*obj, *v;

	if (!bson_iter_recurse(it, &child) || (obj = json_object()) == NULL)
		return (NULL);

	while (bson_iter_next(&child)) {
		if ((v = store_mongo_value(&child)) == NULL ||
		    json_object_set_new(obj, bson_iter_key(&child), v) == -1) {
			json_decref(obj);
			return (NULL);
		}
	}

	return (obj);
}

static json_t *
store_mongo_array(bson_iter_t *it)
{
	bson_iter_t	 child;
	json_t		*arr, *v;

	if (!bson_iter_recurse(it, &child) || (arr = json_array()) == NULL)
		return (NULL);

	while (bson_iter_next(&child)) {
		if ((v = store_mongo_value(&child)) == NULL ||
		    json_array_append_new(arr, v) == -1) {
			json_decref(arr);
			return (NULL);
		}
	}

	return (arr);
}

static json_t *
store_mongo_doc(const bson_t *b)
{
	bson_iter_t	 it;
	json_t		*obj, *v;

	if (!bson_iter_init(&it, b) || (obj = json_object()) == NULL)
		return (NULL);

	while (bson_iter_next(&it)) {
		if ((v = store_mongo_value(&it)) == NULL ||
		    json_object_set_new(obj, bson_iter_key(&it), v) == -1) {
			json_decref(obj);
			return (NULL);
		}
	}

	return (obj);
}

static enum store_result
store_mongo_error(const bson_error_t *err, const char *what)
{
	if (err->code == 11000 || err->code == 11001 || err->code == 12582)
		return (STORE_DUPLICATE);

	store_log(STORE_LOG_ERR, "mongo: %s: %s (domain %u, code %u)", what,
	    err->message, err->domain, err->code);

	return (STORE_ERROR);
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

	if (many) {
		ok = mongoc_collection_delete_many(mcoll, filter, NULL, &reply,
		    &err);
	} else {
		ok = mongoc_collection_delete_one(mcoll, filter, NULL, &reply,
		    &err);
	}

	if (!ok) {
		r = store_mongo_error(&err, "delete");
	} else {
		if (bson_iter_init_find(&it, &reply, "deletedCount") &&
		    BSON_ITER_HOLDS_NUMBER(&it))
			*n = (size_t)bson_iter_as_int64(&it);
		r = STORE_OK;
	}

	bson_destroy(&reply);
	return (r);
}
