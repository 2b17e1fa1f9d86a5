/*
 * The SQLite backend's reads (see store_sqlite.c for the layout): list
 * and its count, ping, and the SQL they are built from: the statement
 * text buffer (store_sqlite_cat), a store query's filters as a WHERE
 * clause with its bound values (store_sqlite_where,
 * store_sqlite_bind_filters) and a row's document back as JSON
 * (store_sqlite_column_doc). store_sqlite_modify.c builds its statements
 * with the same functions (store_sqlite.h).
 *
 * A filter or sort on a field is json_extract(doc, '$.field'), spelled as
 * the indexes of store_sqlite.c spell it so that SQLite uses them; _id is
 * the id column; a string in projects.members is looked up in
 * project_members. Reads take no write lock: WAL readers run beside the
 * writer.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_sqlite.h"

static int			 store_sqlite_bind_value(sqlite3_stmt *, int,
				    json_t *);
static enum store_result	 store_sqlite_count(struct store_sqlite_conn *,
				    enum store_coll, const struct store_query *,
				    size_t *);

enum store_result
store_sqlite_ping(struct store_conn *c)
{
	struct store_sqlite_conn	*sc = (struct store_sqlite_conn *)c;
	sqlite3_stmt			*st;
	int				 rc;

	if ((st = store_sqlite_stmt(sc, "SELECT 1")) == NULL)
		return (STORE_ERROR);

	rc = sqlite3_step(st);
	(void)sqlite3_reset(st);

	return (rc == SQLITE_ROW ? STORE_OK : store_sqlite_rc(sc, rc, "ping"));
}

enum store_result
store_sqlite_list(struct store_conn *c, enum store_coll coll,
    const struct store_query *query, json_t *docs, size_t *total)
{
	struct store_sqlite_conn	*sc = (struct store_sqlite_conn *)c;
	struct store_sqlite_sql		 q;
	sqlite3_stmt			*st;
	json_t				*doc;
	const char			*dir;
	int				 rc, n;
	enum store_result		 r;

	q.len = 0;
	q.overflow = 0;
	dir = query->desc ? " DESC" : "";

	store_sqlite_cat(&q, "SELECT doc FROM %s", store_coll_name(coll));
	n = store_sqlite_where(&q, coll, query->filters, query->nfilters, 1);
	if (query->sort == NULL || strcmp(query->sort, "_id") == 0) {
		store_sqlite_cat(&q, " ORDER BY id%s", dir);
	} else {
		store_sqlite_cat(&q, " ORDER BY json_extract(doc, '$.%s')%s, "
		    "id%s", query->sort, dir, dir);
	}
	store_sqlite_cat(&q, " LIMIT ?%d OFFSET ?%d", n, n + 1);

	if ((st = store_sqlite_stmt(sc, q.buf)) == NULL)
		return (STORE_ERROR);

	if (!store_sqlite_bind_filters(st, query->filters, query->nfilters,
	    1) || sqlite3_bind_int64(st, n, query->limit == 0 ? -1 :
	    (sqlite3_int64)query->limit) != SQLITE_OK ||
	    sqlite3_bind_int64(st, n + 1, (sqlite3_int64)query->skip) !=
	    SQLITE_OK) {
		(void)sqlite3_reset(st);
		return (STORE_ERROR);
	}

	r = STORE_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((doc = store_sqlite_column_doc(sc, st)) == NULL ||
		    json_array_append_new(docs, doc) == -1) {
			r = STORE_ERROR;
			break;
		}
	}
	if (r == STORE_OK && rc != SQLITE_DONE)
		r = store_sqlite_rc(sc, rc, "list");
	(void)sqlite3_reset(st);

	if (r == STORE_OK && total != NULL)
		r = store_sqlite_count(sc, coll, query, total);

	return (r);
}

void
store_sqlite_cat(struct store_sqlite_sql *q, const char *fmt, ...)
{
	va_list		args;
	int		n;

	if (q->overflow)
		return;

	va_start(args, fmt);
	n = vsnprintf(q->buf + q->len, sizeof(q->buf) - q->len, fmt, args);
	va_end(args);

	if (n < 0 || (size_t)n >= sizeof(q->buf) - q->len) {
		q->overflow = 1;
		/* An empty statement fails to prepare. */
		q->buf[0] = '\0';
		return;
	}

	q->len += (size_t)n;
}

/*
 * Append " WHERE ..." for the filters, numbering parameters from first.
 * Returns the next free parameter number. Values were checked by store.c:
 * scalars only. null and booleans are matched on the JSON type, so that
 * true never equals 1 and null also matches a missing field; numbers
 * also check the type, since json_extract() turns false into 0. A string
 * in projects.members (EQ or CONTAINS, as in MongoDB) is looked up in
 * project_members.
 */
int
store_sqlite_where(struct store_sqlite_sql *q, enum store_coll coll,
    const struct store_filter *f, size_t nf, int first)
{
	const char	*type;
	size_t		 i;
	int		 n;

	n = first;
	for (i = 0; i < nf; i++) {
		store_sqlite_cat(q, i == 0 ? " WHERE " : " AND ");
		type = json_is_null(f[i].value) ? "null" :
		    json_is_true(f[i].value) ? "true" :
		    json_is_false(f[i].value) ? "false" : NULL;

		if (strcmp(f[i].field, "_id") == 0) {
			if (type != NULL)
				store_sqlite_cat(q, "0");
			else
				store_sqlite_cat(q, "id = ?%d", n++);
		} else if (coll == STORE_PROJECTS &&
		    strcmp(f[i].field, "members") == 0 &&
		    json_is_string(f[i].value)) {
			store_sqlite_cat(q, "id IN (SELECT project_id FROM "
			    "project_members WHERE user_id = ?%d)", n++);
		} else if (f[i].op == STORE_CONTAINS) {
			store_sqlite_cat(q, "EXISTS (SELECT 1 FROM json_each("
			    "doc, '$.%s') AS e WHERE ", f[i].field);
			if (type != NULL)
				store_sqlite_cat(q, "e.type = '%s')", type);
			else if (json_is_number(f[i].value))
				store_sqlite_cat(q, "e.value = ?%d AND e.type "
				    "IN ('integer', 'real'))", n++);
			else
				store_sqlite_cat(q, "e.value = ?%d)", n++);
		} else if (json_is_null(f[i].value)) {
			store_sqlite_cat(q, "json_extract(doc, '$.%s') IS NULL",
			    f[i].field);
		} else if (type != NULL) {
			store_sqlite_cat(q, "json_type(doc, '$.%s') = '%s'",
			    f[i].field, type);
		} else if (json_is_number(f[i].value)) {
			/* json_extract() gives false as 0, true as 1. */
			store_sqlite_cat(q, "(json_extract(doc, '$.%s') = ?%d "
			    "AND json_type(doc, '$.%s') IN ('integer', "
			    "'real'))", f[i].field, n++, f[i].field);
		} else {
			store_sqlite_cat(q, "json_extract(doc, '$.%s') = ?%d",
			    f[i].field, n++);
		}
	}

	return (n);
}

/* Bind what store_sqlite_where() numbered, in the same order. */
int
store_sqlite_bind_filters(sqlite3_stmt *st, const struct store_filter *f,
    size_t nf, int first)
{
	size_t		i;
	int		n;

	n = first;
	for (i = 0; i < nf; i++) {
		if (json_is_null(f[i].value) || json_is_boolean(f[i].value))
			continue;
		if (!store_sqlite_bind_value(st, n++, f[i].value))
			return (0);
	}

	return (1);
}

static int
store_sqlite_bind_value(sqlite3_stmt *st, int n, json_t *v)
{
	int		rc;

	if (json_is_string(v)) {
		rc = sqlite3_bind_text(st, n, json_string_value(v),
		    (int)json_string_length(v), SQLITE_TRANSIENT);
	} else if (json_is_integer(v)) {
		rc = sqlite3_bind_int64(st, n, json_integer_value(v));
	} else if (json_is_real(v)) {
		rc = sqlite3_bind_double(st, n, json_real_value(v));
	} else {
		rc = SQLITE_MISMATCH;
	}

	return (rc == SQLITE_OK);
}

static enum store_result
store_sqlite_count(struct store_sqlite_conn *sc, enum store_coll coll,
    const struct store_query *query, size_t *total)
{
	struct store_sqlite_sql		 q;
	sqlite3_stmt			*st;
	int				 rc;

	q.len = 0;
	q.overflow = 0;
	store_sqlite_cat(&q, "SELECT count(*) FROM %s", store_coll_name(coll));
	(void)store_sqlite_where(&q, coll, query->filters, query->nfilters,
	    1);

	if ((st = store_sqlite_stmt(sc, q.buf)) == NULL)
		return (STORE_ERROR);

	if (!store_sqlite_bind_filters(st, query->filters, query->nfilters,
	    1)) {
		(void)sqlite3_reset(st);
		return (STORE_ERROR);
	}

	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*total = (size_t)sqlite3_column_int64(st, 0);
	(void)sqlite3_reset(st);

	return (rc == SQLITE_ROW ? STORE_OK : store_sqlite_rc(sc, rc, "count"));
}

json_t *
store_sqlite_column_doc(struct store_sqlite_conn *sc, sqlite3_stmt *st)
{
	const char	*text;
	json_error_t	 err;
	json_t		*doc;
	int		 len;

	memset(&err, 0, sizeof(err));
	text = (const char *)sqlite3_column_text(st, 0);
	len = sqlite3_column_bytes(st, 0);
	if (text == NULL) {
		store_log(STORE_LOG_ERR, "sqlite: NULL document: %s",
		    sqlite3_errmsg(sc->db));
		return (NULL);
	}

	if ((doc = json_loadb(text, (size_t)len, JSON_ALLOW_NUL, &err)) ==
	    NULL || !json_is_object(doc)) {
		store_log(STORE_LOG_ERR, "sqlite: bad stored document: %s",
		    err.text);
		json_decref(doc);
		return (NULL);
	}

	return (doc);
}
