/*
 * The backend-independent front of the store (see store.h): argument
 * checks and dispatch to the SQLite or MongoDB backend, and the store's
 * log.
 *
 * Every public operation validates its arguments here, so the backends
 * only ever see a collection in range, ids of 24 lowercase hex digits,
 * field names matching [A-Za-z0-9_]{1,64}, and filter values already
 * converted to what the schema says the field holds. A filter value that
 * cannot convert (a non-hex string for an ObjectId field, a date that
 * does not parse) makes the query match nothing without asking the
 * backend. get, find_one and delete are built on the backends' list and
 * delete_where.
 *
 * Each call to the backend is timed for the config's timed callback
 * (korio's metrics): store_clock() before it, store_timed() after.
 *
 * Its siblings, reached through store_int.h: store_schema.c (the schema
 * table and the normalization of ids, dates and documents to it) and
 * store_oid.c (ObjectIds); store_iso.c holds the ISO 8601 dates. The
 * backends are store_sqlite*.c and store_mongo*.c.
 */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/store.h"
#include "store/store_int.h"

static int	store_field_ok(const char *);
static int	store_key_ok(const char *);
static int	store_scalar_ok(json_t *);
static enum store_result	store_find_id(struct store_conn *,
		    enum store_coll, const char *, json_t **);

static uint64_t	store_clock(void);
static void	store_timed(enum store_call, uint64_t);

static const struct store_backend	*store_be = NULL;
static void				(*store_log_cb)(int, const char *);
static void				(*store_timed_cb)(enum store_call,
					    uint64_t);

static const char *const	store_call_names[STORE_CALL_MAX] = {
	"ping", "insert", "list", "update", "delete", "delete_project"
};

enum store_result
store_global_init(const struct store_config *cfg)
{
	enum store_result	r;

	if (cfg == NULL || store_be != NULL)
		return (STORE_ERROR);

	store_log_cb = cfg->log;
	store_timed_cb = cfg->timed;
	store_oid_seed();

	if (cfg->mongodb_uri != NULL)
		store_be = &store_mongo_backend;
	else
		store_be = &store_sqlite_backend;

	if ((r = store_be->init(cfg)) != STORE_OK)
		store_be = NULL;

	return (r);
}

void
store_global_cleanup(void)
{
	if (store_be == NULL)
		return;

	store_be->cleanup();
	store_be = NULL;
}

const char *
store_backend_name(void)
{
	if (store_be == NULL)
		return ("none");

	return (store_be->name);
}

/* The version of the library behind backend name, NULL if none. */
const char *
store_backend_version(const char *name)
{
	if (!strcmp(name, store_sqlite_backend.name))
		return (store_sqlite_backend.version());
	if (!strcmp(name, store_mongo_backend.name))
		return (store_mongo_backend.version());
	return (NULL);
}

const char *
store_call_name(enum store_call op)
{
	if ((int)op < 0 || op >= STORE_CALL_MAX)
		return (NULL);
	return (store_call_names[op]);
}

/* Microseconds on the monotonic clock, when calls are timed. */
static uint64_t
store_clock(void)
{
	struct timespec		ts;

	if (store_timed_cb == NULL)
		return (0);
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

/* A call to the backend that started at t0 (store_clock()) returned. */
static void
store_timed(enum store_call op, uint64_t t0)
{
	uint64_t	now;

	if (store_timed_cb == NULL)
		return;
	now = store_clock();
	store_timed_cb(op, now > t0 ? now - t0 : 0);
}

struct store_conn *
store_acquire(void)
{
	if (store_be == NULL)
		return (NULL);

	return (store_be->acquire());
}

void
store_release(struct store_conn *c)
{
	if (store_be == NULL || c == NULL)
		return;

	store_be->release(c);
}

void
store_log(int prio, const char *fmt, ...)
{
	va_list		args;
	char		msg[512];

	va_start(args, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);

	if (store_log_cb != NULL)
		store_log_cb(prio, msg);
	else
		fprintf(stderr, "store: %s\n", msg);
}

enum store_result
store_ping(struct store_conn *c)
{
	uint64_t		t0;
	enum store_result	r;

	if (store_be == NULL || c == NULL)
		return (STORE_ERROR);

	t0 = store_clock();
	r = store_be->ping(c);
	store_timed(STORE_CALL_PING, t0);

	return (r);
}

enum store_result
store_insert(struct store_conn *c, enum store_coll coll, json_t *doc)
{
	json_t			*norm, *id;
	const char		*key;
	json_t			*val;
	uint64_t		 t0;
	enum store_result	 r;

	if (store_be == NULL || c == NULL || !store_coll_ok(coll) ||
	    !json_is_object(doc))
		return (STORE_ERROR);

	id = json_object_get(doc, "_id");
	if (!json_is_string(id) || !store_oid_valid(json_string_value(id)))
		return (STORE_ERROR);

	json_object_foreach(doc, key, val) {
		if (!store_key_ok(key))
			return (STORE_ERROR);
	}

	if (!store_doc_norm(coll, doc, &norm))
		return (STORE_ERROR);

	t0 = store_clock();
	r = store_be->insert(c, coll, norm);
	store_timed(STORE_CALL_INSERT, t0);
	json_decref(norm);

	return (r);
}

enum store_result
store_get(struct store_conn *c, enum store_coll coll, const char *id,
    json_t **doc)
{
	char		oid[STORE_OID_LEN + 1];

	if (doc != NULL)
		*doc = NULL;

	if (store_be == NULL || c == NULL || !store_coll_ok(coll) ||
	    doc == NULL)
		return (STORE_ERROR);

	if (!store_id_norm(id, oid))
		return (STORE_NOTFOUND);

	return (store_find_id(c, coll, oid, doc));
}

enum store_result
store_find_one(struct store_conn *c, enum store_coll coll,
    const char *field, json_t *value, json_t **doc)
{
	struct store_filter	f;
	struct store_query	q;
	json_t			*docs;
	enum store_result	 r;

	if (doc != NULL)
		*doc = NULL;

	if (doc == NULL)
		return (STORE_ERROR);

	memset(&q, 0, sizeof(q));
	f.field = field;
	f.op = STORE_EQ;
	f.value = value;
	q.filters = &f;
	q.nfilters = 1;
	q.limit = 1;

	if ((r = store_list(c, coll, &q, &docs, NULL)) != STORE_OK)
		return (r);

	if (json_array_size(docs) == 0) {
		r = STORE_NOTFOUND;
	} else {
		*doc = json_incref(json_array_get(docs, 0));
		r = STORE_OK;
	}

	json_decref(docs);

	return (r);
}

enum store_result
store_list(struct store_conn *c, enum store_coll coll,
    const struct store_query *q, json_t **docs, size_t *total)
{
	struct store_query	nq;
	struct store_filter	nf[STORE_FILTER_MAX];
	json_t			*owned[STORE_FILTER_MAX];
	size_t			 i, nowned;
	int			 norm, nomatch;
	uint64_t		 t0;
	enum store_result	 r;

	if (docs != NULL)
		*docs = NULL;
	if (total != NULL)
		*total = 0;

	if (store_be == NULL || c == NULL || !store_coll_ok(coll) ||
	    q == NULL || docs == NULL || q->nfilters > STORE_FILTER_MAX ||
	    (q->nfilters > 0 && q->filters == NULL) ||
	    (q->sort != NULL && !store_field_ok(q->sort)))
		return (STORE_ERROR);

	nq = *q;
	nq.filters = nf;
	nowned = 0;
	nomatch = 0;
	r = STORE_ERROR;

	for (i = 0; i < q->nfilters; i++) {
		nf[i] = q->filters[i];
		if (!store_field_ok(nf[i].field) ||
		    (nf[i].op != STORE_EQ && nf[i].op != STORE_CONTAINS) ||
		    !store_scalar_ok(nf[i].value))
			goto cleanup;

		norm = store_norm_scalar(store_field_kind(coll, nf[i].field),
		    nf[i].value, &nf[i].value);
		if (norm == STORE_NORM_NEW)
			owned[nowned++] = nf[i].value;
		else if (norm == STORE_NORM_NOMATCH)
			nomatch = 1;
	}

	if ((*docs = json_array()) == NULL)
		goto cleanup;

	if (nomatch) {
		r = STORE_OK;
	} else {
		t0 = store_clock();
		r = store_be->list(c, coll, &nq, *docs, total);
		store_timed(STORE_CALL_LIST, t0);
	}

	if (r != STORE_OK) {
		json_decref(*docs);
		*docs = NULL;
		if (total != NULL)
			*total = 0;
	}

cleanup:
	for (i = 0; i < nowned; i++)
		json_decref(owned[i]);

	return (r);
}

enum store_result
store_update(struct store_conn *c, enum store_coll coll, const char *id,
    json_t *set, json_t **doc)
{
	char			 oid[STORE_OID_LEN + 1];
	const char		*key;
	json_t			*val, *norm, *after;
	uint64_t		 t0;
	enum store_result	 r;

	if (doc != NULL)
		*doc = NULL;

	if (store_be == NULL || c == NULL || !store_coll_ok(coll) ||
	    !json_is_object(set) || json_object_size(set) > STORE_SET_MAX)
		return (STORE_ERROR);

	json_object_foreach(set, key, val) {
		if (!store_field_ok(key) || strcmp(key, "_id") == 0)
			return (STORE_ERROR);
	}

	if (!store_id_norm(id, oid))
		return (STORE_NOTFOUND);

	after = NULL;
	if (json_object_size(set) == 0) {
		r = store_find_id(c, coll, oid, &after);
	} else {
		if (!store_doc_norm(coll, set, &norm))
			return (STORE_ERROR);
		t0 = store_clock();
		r = store_be->update(c, coll, oid, norm, &after);
		store_timed(STORE_CALL_UPDATE, t0);
		json_decref(norm);
	}

	if (r == STORE_OK && doc != NULL)
		*doc = after;
	else if (r == STORE_OK)
		json_decref(after);

	return (r);
}

enum store_result
store_delete(struct store_conn *c, enum store_coll coll, const char *id)
{
	char			 oid[STORE_OID_LEN + 1];
	json_t			*val;
	size_t			 n;
	uint64_t		 t0;
	enum store_result	 r;

	if (store_be == NULL || c == NULL || !store_coll_ok(coll))
		return (STORE_ERROR);

	if (!store_id_norm(id, oid))
		return (STORE_NOTFOUND);

	if ((val = json_string(oid)) == NULL)
		return (STORE_ERROR);

	t0 = store_clock();
	r = store_be->delete_where(c, coll, "_id", val, &n);
	store_timed(STORE_CALL_DELETE, t0);
	json_decref(val);

	if (r == STORE_OK && n == 0)
		r = STORE_NOTFOUND;

	return (r);
}

enum store_result
store_delete_where(struct store_conn *c, enum store_coll coll,
    const char *field, json_t *value, size_t *n)
{
	size_t			 dummy;
	json_t			*norm;
	int			 how;
	uint64_t		 t0;
	enum store_result	 r;

	if (n == NULL)
		n = &dummy;
	*n = 0;

	if (store_be == NULL || c == NULL || !store_coll_ok(coll) ||
	    !store_field_ok(field) || !store_scalar_ok(value))
		return (STORE_ERROR);

	how = store_norm_scalar(store_field_kind(coll, field), value, &norm);
	if (how == STORE_NORM_NOMATCH)
		return (STORE_OK);

	t0 = store_clock();
	r = store_be->delete_where(c, coll, field, norm, n);
	store_timed(STORE_CALL_DELETE, t0);
	if (how == STORE_NORM_NEW)
		json_decref(norm);

	return (r);
}

enum store_result
store_delete_project(struct store_conn *c, const char *id, size_t *ntodos)
{
	char			oid[STORE_OID_LEN + 1];
	size_t			dummy;
	uint64_t		t0;
	enum store_result	r;

	if (ntodos == NULL)
		ntodos = &dummy;
	*ntodos = 0;

	if (store_be == NULL || c == NULL)
		return (STORE_ERROR);

	if (!store_id_norm(id, oid))
		return (STORE_NOTFOUND);

	t0 = store_clock();
	r = store_be->delete_project(c, oid, ntodos);
	store_timed(STORE_CALL_DELETE_PROJECT, t0);

	return (r);
}

const char *
store_result_str(enum store_result r)
{
	switch (r) {
	case STORE_OK:
		return ("ok");
	case STORE_NOTFOUND:
		return ("not found");
	case STORE_DUPLICATE:
		return ("duplicate");
	case STORE_ERROR:
		return ("error");
	case STORE_UNAVAILABLE:
		return ("unavailable");
	case STORE_FULL:
		return ("no space");
	}

	return ("unknown");
}

/* Names that go into filters, sorts and updates: [A-Za-z0-9_]{1,64}. */
static int
store_field_ok(const char *f)
{
	size_t		i;

	if (f == NULL)
		return (0);

	for (i = 0; f[i] != '\0'; i++) {
		if (i >= STORE_FIELD_MAX)
			return (0);
		if (!isalnum((unsigned char)f[i]) && f[i] != '_')
			return (0);
	}

	return (i > 0);
}

/* Keys of inserted documents: what MongoDB accepts at the top level. */
static int
store_key_ok(const char *k)
{
	return (k[0] != '\0' && k[0] != '$' && strchr(k, '.') == NULL);
}

static int
store_scalar_ok(json_t *v)
{
	return (json_is_string(v) || json_is_number(v) ||
	    json_is_boolean(v) || json_is_null(v));
}

static enum store_result
store_find_id(struct store_conn *c, enum store_coll coll, const char *oid,
    json_t **doc)
{
	json_t			*val;
	enum store_result	 r;

	if ((val = json_string(oid)) == NULL)
		return (STORE_ERROR);

	r = store_find_one(c, coll, "_id", val, doc);
	json_decref(val);

	return (r);
}
