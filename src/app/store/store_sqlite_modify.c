/*
 * The SQLite backend's writes (see store_sqlite.c for the layout):
 * insert, update, delete_where and the project cascade. Their statements
 * are built and bound with the functions of store_sqlite_query.c; the
 * write discipline (store_sqlite_write_begin/end) is store_sqlite_write.c.
 *
 * Writes are single autocommit statements (INSERT, UPDATE ... RETURNING,
 * DELETE), committed when the statement finishes, one writer of the
 * process at a time (store_sqlite_write_begin/end), except the project
 * cascade: BEGIN IMMEDIATE, delete the project, delete its todos, COMMIT.
 * Updates use json_set/json_remove, so they have MongoDB $set/$unset
 * semantics and keep the order of the other fields.
 */

#include <stdlib.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_sqlite.h"

static void			 store_sqlite_update_sql(
				    struct store_sqlite_sql *, enum store_coll,
				    json_t *);
static int			 store_sqlite_update_bind(sqlite3_stmt *,
				    const char *, json_t *);

enum store_result
store_sqlite_insert(struct store_conn *c, enum store_coll coll, json_t *doc)
{
	struct store_sqlite_conn	*sc = (struct store_sqlite_conn *)c;
	struct store_sqlite_sql		 q;
	sqlite3_stmt			*st;
	char				*text;
	int				 rc;

	q.len = 0;
	q.overflow = 0;
	store_sqlite_cat(&q, "INSERT INTO %s (id, doc) VALUES (?1, ?2)",
	    store_coll_name(coll));

	if ((st = store_sqlite_stmt(sc, q.buf)) == NULL)
		return (STORE_ERROR);

	if ((text = json_dumps(doc, JSON_COMPACT)) == NULL)
		return (STORE_ERROR);

	/* SQLite frees text with free() once done, even on failure. */
	if (sqlite3_bind_text(st, 1,
	    json_string_value(json_object_get(doc, "_id")), -1,
	    SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, text, -1, free) != SQLITE_OK) {
		(void)sqlite3_reset(st);
		return (store_sqlite_rc(sc, sqlite3_errcode(sc->db),
		    "insert bind"));
	}

	store_sqlite_write_begin();
	rc = sqlite3_step(st);
	(void)sqlite3_reset(st);
	store_sqlite_write_end();
	(void)sqlite3_clear_bindings(st);

	if (rc == SQLITE_DONE)
		return (STORE_OK);

	return (store_sqlite_rc(sc, rc, "insert"));
}

enum store_result
store_sqlite_update(struct store_conn *c, enum store_coll coll,
    const char *id, json_t *set, json_t **doc)
{
	struct store_sqlite_conn	*sc = (struct store_sqlite_conn *)c;
	struct store_sqlite_sql		 q;
	sqlite3_stmt			*st;
	int				 rc;
	enum store_result		 r;

	*doc = NULL;
	store_sqlite_update_sql(&q, coll, set);

	if ((st = store_sqlite_stmt(sc, q.buf)) == NULL)
		return (STORE_ERROR);

	if (!store_sqlite_update_bind(st, id, set)) {
		(void)sqlite3_reset(st);
		(void)sqlite3_clear_bindings(st);
		return (STORE_ERROR);
	}

	r = STORE_NOTFOUND;
	store_sqlite_write_begin();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*doc == NULL && (*doc = store_sqlite_column_doc(sc, st)) ==
		    NULL)
			r = STORE_ERROR;
		else if (r == STORE_NOTFOUND)
			r = STORE_OK;
	}
	if (rc != SQLITE_DONE)
		r = store_sqlite_rc(sc, rc, "update");
	(void)sqlite3_reset(st);
	store_sqlite_write_end();
	(void)sqlite3_clear_bindings(st);

	if (r != STORE_OK) {
		json_decref(*doc);
		*doc = NULL;
	}

	return (r);
}

enum store_result
store_sqlite_delete_where(struct store_conn *c, enum store_coll coll,
    const char *field, json_t *value, size_t *n)
{
	struct store_sqlite_conn	*sc = (struct store_sqlite_conn *)c;
	struct store_sqlite_sql		 q;
	struct store_filter		 f;
	sqlite3_stmt			*st;
	int				 rc;

	q.len = 0;
	q.overflow = 0;
	f.field = field;
	f.op = STORE_EQ;
	f.value = value;

	store_sqlite_cat(&q, "DELETE FROM %s", store_coll_name(coll));
	(void)store_sqlite_where(&q, coll, &f, 1, 1);

	if ((st = store_sqlite_stmt(sc, q.buf)) == NULL)
		return (STORE_ERROR);

	if (!store_sqlite_bind_filters(st, &f, 1, 1)) {
		(void)sqlite3_reset(st);
		return (STORE_ERROR);
	}

	store_sqlite_write_begin();
	rc = sqlite3_step(st);
	(void)sqlite3_reset(st);
	*n = (size_t)sqlite3_changes64(sc->db);
	store_sqlite_write_end();

	if (rc != SQLITE_DONE) {
		*n = 0;
		return (store_sqlite_rc(sc, rc, "delete"));
	}

	return (STORE_OK);
}

enum store_result
store_sqlite_delete_project(struct store_conn *c, const char *id,
    size_t *ntodos)
{
	struct store_sqlite_conn	*sc = (struct store_sqlite_conn *)c;
	sqlite3_stmt			*st;
	int				 rc;
	enum store_result		 r;

	store_sqlite_write_begin();
	if (!store_sqlite_exec(sc, "BEGIN IMMEDIATE")) {
		r = store_sqlite_result(sqlite3_extended_errcode(sc->db));
		store_sqlite_write_end();
		return (r);
	}

	r = STORE_ERROR;

	if ((st = store_sqlite_stmt(sc,
	    "DELETE FROM projects WHERE id = ?1")) == NULL)
		goto cleanup;
	rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		r = store_sqlite_rc(sc, rc, "delete project");
		goto cleanup;
	}
	if (sqlite3_changes64(sc->db) == 0) {
		r = STORE_NOTFOUND;
		goto cleanup;
	}

	if ((st = store_sqlite_stmt(sc, "DELETE FROM todos WHERE "
	    "json_extract(doc, '$.projectId') = ?1")) == NULL)
		goto cleanup;
	rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		r = store_sqlite_rc(sc, rc, "delete project todos");
		goto cleanup;
	}
	*ntodos = (size_t)sqlite3_changes64(sc->db);

	if (store_sqlite_exec(sc, "COMMIT"))
		r = STORE_OK;
	else
		r = store_sqlite_result(sqlite3_extended_errcode(sc->db));

cleanup:
	if (r != STORE_OK) {
		*ntodos = 0;
		if (!sqlite3_get_autocommit(sc->db))
			(void)store_sqlite_exec(sc, "ROLLBACK");
	}
	store_sqlite_write_end();

	return (r);
}

/*
 * UPDATE t SET doc = json_remove(json_set(doc, '$.a', json(?2), ...),
 * '$.b', ...) WHERE id = ?1 RETURNING doc: non-null members of set are
 * set, null ones removed. json(?) makes SQLite insert the bound text as
 * JSON, not as a string. Field names were checked by store.c.
 */
static void
store_sqlite_update_sql(struct store_sqlite_sql *q, enum store_coll coll,
    json_t *set)
{
	const char	*key;
	json_t		*val;
	size_t		 nunset;
	int		 n;

	q->len = 0;
	q->overflow = 0;
	nunset = 0;
	json_object_foreach(set, key, val)
		nunset += json_is_null(val);

	store_sqlite_cat(q, "UPDATE %s SET doc = ", store_coll_name(coll));
	if (nunset > 0)
		store_sqlite_cat(q, "json_remove(");
	if (nunset < json_object_size(set))
		store_sqlite_cat(q, "json_set(");
	store_sqlite_cat(q, "doc");

	n = 2;
	json_object_foreach(set, key, val) {
		if (!json_is_null(val))
			store_sqlite_cat(q, ", '$.%s', json(?%d)", key, n++);
	}
	if (nunset < json_object_size(set))
		store_sqlite_cat(q, ")");

	json_object_foreach(set, key, val) {
		if (json_is_null(val))
			store_sqlite_cat(q, ", '$.%s'", key);
	}
	if (nunset > 0)
		store_sqlite_cat(q, ")");

	store_sqlite_cat(q, " WHERE id = ?1 RETURNING doc");
}

/* Bind what store_sqlite_update_sql() numbered. */
static int
store_sqlite_update_bind(sqlite3_stmt *st, const char *id, json_t *set)
{
	const char	*key;
	json_t		*val;
	char		*text;
	int		 n;

	if (sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT) != SQLITE_OK)
		return (0);

	n = 2;
	json_object_foreach(set, key, val) {
		if (json_is_null(val))
			continue;
		if ((text = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY)) ==
		    NULL)
			return (0);
		/* SQLite frees text with free() once done, even on error. */
		if (sqlite3_bind_text(st, n++, text, -1, free) != SQLITE_OK)
			return (0);
	}

	return (1);
}
