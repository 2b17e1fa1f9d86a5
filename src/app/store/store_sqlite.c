/*
 * The SQLite backend of the store (see store.h); the only file that
 * includes sqlite3.h.
 *
 * Layout: one table per collection, (id TEXT PRIMARY KEY, doc TEXT), where
 * doc is the whole document as compact JSON ("_id" included, equal to id).
 * Filters and sorts go through json_extract(doc, '$.field'), written below
 * as $.field; expression indexes make the hot ones cheap:
 *   users_email            UNIQUE users ($.email)
 *   todos_owner            todos ($.ownerId, id)
 *   todos_owner_created    todos ($.ownerId, $.created, id)
 *   todos_project          todos ($.projectId, id)
 * so a page of one owner's todos in _id or created order (a project's in
 * _id order), either direction, reads only that page, and its count only
 * the index. A query must spell an expression exactly as the index does
 * for SQLite to use it. Other sorts read all the matching rows. (Each
 * index costs every insert and update; a fourth one, project + created,
 * cost about 15% of insert throughput.)
 *
 * CONTAINS (an array field has an element) is an EXISTS over json_each(),
 * which no index covers, except for projects.members: triggers on
 * projects keep a table project_members (user_id, project_id) in step
 * with every insert, update and delete, and a member lookup reads it.
 *
 * Connections: opened with SQLITE_OPEN_NOMUTEX (one thread at a time per
 * connection, which the handle discipline guarantees), tuned by
 * store_sqlite_tune() (a busy handler that waits up to 5000 ms in short
 * steps, the WAL checkpointed by a thread of each process:
 * store_sqlite_write.c), synchronous NORMAL or FULL, in WAL mode (set once by init; the mode
 * is stored in the file). Idle connections wait on a free list guarded by
 * a mutex; the list grows to the number of handles used at once. Each
 * connection caches its prepared statements keyed by SQL text, so every
 * query shape is prepared once per connection.
 *
 * Writes are single autocommit statements (INSERT, UPDATE ... RETURNING,
 * DELETE), committed when the statement finishes, one writer of the
 * process at a time (store_sqlite_write_begin/end), except the project
 * cascade: BEGIN IMMEDIATE, delete the project, delete its todos, COMMIT.
 * Updates use json_set/json_remove, so they have MongoDB $set/$unset
 * semantics and keep the order of the other fields.
 */

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_sqlite.h"

#define STORE_SQLITE_STMT_MAX	48	/* cached statements per connection */
#define STORE_SQLITE_SQL_MAX	2048	/* longest generated statement */
#define STORE_SQLITE_INIT_TRIES	20

struct store_sqlite_stmt {
	uint64_t		 hash;
	char			*sql;
	sqlite3_stmt		*stmt;
};

struct store_sqlite_conn {
	sqlite3				*db;
	struct store_sqlite_conn	*next;
	size_t				 nstmt;
	size_t				 evict;
	struct store_sqlite_stmt	 stmts[STORE_SQLITE_STMT_MAX];
};

struct store_sqlite_sql {
	char		buf[STORE_SQLITE_SQL_MAX];
	size_t		len;
	int		overflow;
};

static enum store_result	store_sqlite_init(const struct store_config *);
static void			store_sqlite_cleanup(void);
static struct store_conn	*store_sqlite_acquire(void);
static void			store_sqlite_release(struct store_conn *);
static enum store_result	store_sqlite_ping(struct store_conn *);
static enum store_result	store_sqlite_insert(struct store_conn *,
				    enum store_coll, json_t *);
static enum store_result	store_sqlite_list(struct store_conn *,
				    enum store_coll, const struct store_query *,
				    json_t *, size_t *);
static enum store_result	store_sqlite_update(struct store_conn *,
				    enum store_coll, const char *, json_t *,
				    json_t **);
static enum store_result	store_sqlite_delete_where(struct store_conn *,
				    enum store_coll, const char *, json_t *,
				    size_t *);
static enum store_result	store_sqlite_delete_project(
				    struct store_conn *, const char *,
				    size_t *);

static struct store_sqlite_conn	*store_sqlite_open(void);
static void			 store_sqlite_close(struct store_sqlite_conn *);
static int			 store_sqlite_exec(struct store_sqlite_conn *,
				    const char *);
static int			 store_sqlite_wal(struct store_sqlite_conn *);
static int			 store_sqlite_schema(
				    struct store_sqlite_conn *);
static sqlite3_stmt		*store_sqlite_stmt(struct store_sqlite_conn *,
				    const char *);
static uint64_t			 store_sqlite_hash(const char *);
static void			 store_sqlite_cat(struct store_sqlite_sql *,
				    const char *, ...)
				    __attribute__((format(printf, 2, 3)));
static void			 store_sqlite_update_sql(
				    struct store_sqlite_sql *, enum store_coll,
				    json_t *);
static int			 store_sqlite_update_bind(sqlite3_stmt *,
				    const char *, json_t *);
static int			 store_sqlite_where(struct store_sqlite_sql *,
				    enum store_coll,
				    const struct store_filter *, size_t, int);
static int			 store_sqlite_bind_filters(sqlite3_stmt *,
				    const struct store_filter *, size_t, int);
static int			 store_sqlite_bind_value(sqlite3_stmt *, int,
				    json_t *);
static enum store_result	 store_sqlite_count(struct store_sqlite_conn *,
				    enum store_coll, const struct store_query *,
				    size_t *);
static enum store_result	 store_sqlite_rc(struct store_sqlite_conn *,
				    int, const char *);
static json_t			*store_sqlite_column_doc(
				    struct store_sqlite_conn *, sqlite3_stmt *);

const struct store_backend	store_sqlite_backend = {
	.name = "sqlite",
	.init = store_sqlite_init,
	.cleanup = store_sqlite_cleanup,
	.acquire = store_sqlite_acquire,
	.release = store_sqlite_release,
	.ping = store_sqlite_ping,
	.insert = store_sqlite_insert,
	.list = store_sqlite_list,
	.update = store_sqlite_update,
	.delete_where = store_sqlite_delete_where,
	.delete_project = store_sqlite_delete_project,
};

static pthread_mutex_t			store_sqlite_lock =
					    PTHREAD_MUTEX_INITIALIZER;
static struct store_sqlite_conn		*store_sqlite_free = NULL;
static char				*store_sqlite_path = NULL;
static int				 store_sqlite_full = 0;

static const char	*store_sqlite_schema_sql[] = {
	"CREATE TABLE IF NOT EXISTS users "
	    "(id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL)",
	"CREATE TABLE IF NOT EXISTS todos "
	    "(id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL)",
	"CREATE TABLE IF NOT EXISTS projects "
	    "(id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL)",
	"CREATE UNIQUE INDEX IF NOT EXISTS users_email "
	    "ON users (json_extract(doc, '$.email'))",
	"CREATE INDEX IF NOT EXISTS todos_owner "
	    "ON todos (json_extract(doc, '$.ownerId'), id)",
	"CREATE INDEX IF NOT EXISTS todos_owner_created "
	    "ON todos (json_extract(doc, '$.ownerId'), "
	    "json_extract(doc, '$.created'), id)",
	"CREATE INDEX IF NOT EXISTS todos_project "
	    "ON todos (json_extract(doc, '$.projectId'), id)",
	/* projects.members as rows, kept by triggers, for CONTAINS. */
	"CREATE TABLE IF NOT EXISTS project_members "
	    "(user_id TEXT NOT NULL, project_id TEXT NOT NULL, "
	    "PRIMARY KEY (user_id, project_id)) WITHOUT ROWID",
	"CREATE INDEX IF NOT EXISTS project_members_project "
	    "ON project_members (project_id)",
	"CREATE TRIGGER IF NOT EXISTS projects_members_insert "
	    "AFTER INSERT ON projects BEGIN "
	    "INSERT OR IGNORE INTO project_members (user_id, project_id) "
	    "SELECT e.value, new.id FROM json_each(new.doc, '$.members') "
	    "AS e WHERE e.type = 'text'; END",
	"CREATE TRIGGER IF NOT EXISTS projects_members_update "
	    "AFTER UPDATE ON projects BEGIN "
	    "DELETE FROM project_members WHERE project_id = old.id; "
	    "INSERT OR IGNORE INTO project_members (user_id, project_id) "
	    "SELECT e.value, new.id FROM json_each(new.doc, '$.members') "
	    "AS e WHERE e.type = 'text'; END",
	"CREATE TRIGGER IF NOT EXISTS projects_members_delete "
	    "AFTER DELETE ON projects BEGIN "
	    "DELETE FROM project_members WHERE project_id = old.id; END",
	NULL
};

static enum store_result
store_sqlite_init(const struct store_config *cfg)
{
	struct store_sqlite_conn	*sc;

	if (cfg->sqlite_path == NULL || cfg->sqlite_path[0] == '\0') {
		store_log(STORE_LOG_ERR, "sqlite: no database path");
		return (STORE_ERROR);
	}

	if ((store_sqlite_path = strdup(cfg->sqlite_path)) == NULL)
		return (STORE_ERROR);
	store_sqlite_full = cfg->sqlite_full_sync;

	if ((sc = store_sqlite_open()) == NULL)
		goto fail;

	if (!store_sqlite_wal(sc) || !store_sqlite_schema(sc)) {
		store_sqlite_close(sc);
		goto fail;
	}

	/* Keep it: the first handle comes for free. */
	store_sqlite_release((struct store_conn *)sc);

	if (!store_sqlite_ckpt_start(store_sqlite_path)) {
		store_sqlite_cleanup();
		return (STORE_ERROR);
	}

	return (STORE_OK);

fail:
	free(store_sqlite_path);
	store_sqlite_path = NULL;
	return (STORE_ERROR);
}

/* Closes the idle connections; every handle must be released first. */
static void
store_sqlite_cleanup(void)
{
	struct store_sqlite_conn	*sc;

	store_sqlite_ckpt_stop();

	pthread_mutex_lock(&store_sqlite_lock);
	while ((sc = store_sqlite_free) != NULL) {
		store_sqlite_free = sc->next;
		store_sqlite_close(sc);
	}
	pthread_mutex_unlock(&store_sqlite_lock);

	free(store_sqlite_path);
	store_sqlite_path = NULL;
}

static struct store_conn *
store_sqlite_acquire(void)
{
	struct store_sqlite_conn	*sc;

	pthread_mutex_lock(&store_sqlite_lock);
	if ((sc = store_sqlite_free) != NULL)
		store_sqlite_free = sc->next;
	pthread_mutex_unlock(&store_sqlite_lock);

	if (sc == NULL)
		sc = store_sqlite_open();

	return ((struct store_conn *)sc);
}

static void
store_sqlite_release(struct store_conn *c)
{
	struct store_sqlite_conn	*sc = (struct store_sqlite_conn *)c;

	/* A transaction left open by an error must not leak into reuse. */
	if (!sqlite3_get_autocommit(sc->db))
		(void)store_sqlite_exec(sc, "ROLLBACK");

	pthread_mutex_lock(&store_sqlite_lock);
	sc->next = store_sqlite_free;
	store_sqlite_free = sc;
	pthread_mutex_unlock(&store_sqlite_lock);
}

static enum store_result
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

static enum store_result
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

static enum store_result
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

static enum store_result
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

static enum store_result
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

static enum store_result
store_sqlite_delete_project(struct store_conn *c, const char *id,
    size_t *ntodos)
{
	struct store_sqlite_conn	*sc = (struct store_sqlite_conn *)c;
	sqlite3_stmt			*st;
	int				 rc;
	enum store_result		 r;

	store_sqlite_write_begin();
	if (!store_sqlite_exec(sc, "BEGIN IMMEDIATE")) {
		store_sqlite_write_end();
		return (STORE_ERROR);
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

cleanup:
	if (r != STORE_OK) {
		*ntodos = 0;
		if (!sqlite3_get_autocommit(sc->db))
			(void)store_sqlite_exec(sc, "ROLLBACK");
	}
	store_sqlite_write_end();

	return (r);
}

static struct store_sqlite_conn *
store_sqlite_open(void)
{
	struct store_sqlite_conn	*sc;
	int				 rc;

	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		return (NULL);

	rc = sqlite3_open_v2(store_sqlite_path, &sc->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	    NULL);
	if (rc != SQLITE_OK) {
		store_log(STORE_LOG_ERR, "sqlite: open %s: %s",
		    store_sqlite_path, sc->db != NULL ?
		    sqlite3_errmsg(sc->db) : sqlite3_errstr(rc));
		goto fail;
	}

	(void)sqlite3_extended_result_codes(sc->db, 1);
	if (!store_sqlite_tune(sc->db)) {
		store_log(STORE_LOG_ERR, "sqlite: tune %s: %s",
		    store_sqlite_path, sqlite3_errmsg(sc->db));
		goto fail;
	}

	if (!store_sqlite_exec(sc, store_sqlite_full ?
	    "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"))
		goto fail;

	return (sc);

fail:
	store_sqlite_close(sc);
	return (NULL);
}

static void
store_sqlite_close(struct store_sqlite_conn *sc)
{
	size_t		i;

	for (i = 0; i < sc->nstmt; i++) {
		(void)sqlite3_finalize(sc->stmts[i].stmt);
		free(sc->stmts[i].sql);
	}

	(void)sqlite3_close(sc->db);
	free(sc);
}

static int
store_sqlite_exec(struct store_sqlite_conn *sc, const char *sql)
{
	char		*err;

	err = NULL;
	if (sqlite3_exec(sc->db, sql, NULL, NULL, &err) == SQLITE_OK)
		return (1);

	store_log(STORE_LOG_ERR, "sqlite: %s: %s", sql,
	    err != NULL ? err : sqlite3_errmsg(sc->db));
	sqlite3_free(err);

	return (0);
}

/*
 * Switch the file to WAL. Workers starting together may find it locked
 * past the busy timeout's reach (a mode change needs every other
 * connection gone), so retry a few times.
 */
static int
store_sqlite_wal(struct store_sqlite_conn *sc)
{
	sqlite3_stmt	*st;
	const char	*mode;
	int		 i, rc, ok;

	ok = 0;
	for (i = 0; i < STORE_SQLITE_INIT_TRIES && !ok; i++) {
		if (i > 0)
			(void)usleep(100000);
		rc = sqlite3_prepare_v2(sc->db, "PRAGMA journal_mode = WAL",
		    -1, &st, NULL);
		if (rc != SQLITE_OK)
			break;
		if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			mode = (const char *)sqlite3_column_text(st, 0);
			ok = (mode != NULL && strcmp(mode, "wal") == 0);
		}
		(void)sqlite3_finalize(st);
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
	}

	if (!ok) {
		store_log(STORE_LOG_ERR, "sqlite: cannot enable WAL on %s: %s",
		    store_sqlite_path, sqlite3_errmsg(sc->db));
	}

	return (ok);
}

static int
store_sqlite_schema(struct store_sqlite_conn *sc)
{
	size_t		i;

	if (!store_sqlite_exec(sc, "BEGIN IMMEDIATE"))
		return (0);

	for (i = 0; store_sqlite_schema_sql[i] != NULL; i++) {
		if (!store_sqlite_exec(sc, store_sqlite_schema_sql[i])) {
			(void)store_sqlite_exec(sc, "ROLLBACK");
			return (0);
		}
	}

	return (store_sqlite_exec(sc, "COMMIT"));
}

/*
 * The connection's prepared statement for sql, preparing it on first use.
 * When the cache is full the oldest entry goes. Returned statements are
 * reset and must be reset again after use.
 */
static sqlite3_stmt *
store_sqlite_stmt(struct store_sqlite_conn *sc, const char *sql)
{
	struct store_sqlite_stmt	*e;
	sqlite3_stmt			*st;
	uint64_t			 h;
	size_t				 i;
	char				*copy;

	h = store_sqlite_hash(sql);
	for (i = 0; i < sc->nstmt; i++) {
		e = &sc->stmts[i];
		if (e->hash == h && strcmp(e->sql, sql) == 0)
			return (e->stmt);
	}

	if (sqlite3_prepare_v3(sc->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &st, NULL) != SQLITE_OK) {
		store_log(STORE_LOG_ERR, "sqlite: prepare \"%s\": %s", sql,
		    sqlite3_errmsg(sc->db));
		return (NULL);
	}

	if ((copy = strdup(sql)) == NULL) {
		(void)sqlite3_finalize(st);
		return (NULL);
	}

	if (sc->nstmt < STORE_SQLITE_STMT_MAX) {
		e = &sc->stmts[sc->nstmt++];
	} else {
		e = &sc->stmts[sc->evict++ % STORE_SQLITE_STMT_MAX];
		(void)sqlite3_finalize(e->stmt);
		free(e->sql);
	}

	e->hash = h;
	e->sql = copy;
	e->stmt = st;

	return (st);
}

/* FNV-1a, 64 bits. */
static uint64_t
store_sqlite_hash(const char *s)
{
	uint64_t	h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}

	return (h);
}

static void
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

/*
 * Append " WHERE ..." for the filters, numbering parameters from first.
 * Returns the next free parameter number. Values were checked by store.c:
 * scalars only. null and booleans are matched on the JSON type, so that
 * true never equals 1 and null also matches a missing field; numbers
 * also check the type, since json_extract() turns false into 0. A string
 * in projects.members (EQ or CONTAINS, as in MongoDB) is looked up in
 * project_members.
 */
static int
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
static int
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

/* Map a failed step's result code; constraint violations are duplicates. */
static enum store_result
store_sqlite_rc(struct store_sqlite_conn *sc, int rc, const char *what)
{
	if (rc == SQLITE_CONSTRAINT_UNIQUE ||
	    rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return (STORE_DUPLICATE);

	store_log(STORE_LOG_ERR, "sqlite: %s: %s (%d)", what,
	    sqlite3_errmsg(sc->db), rc);

	return (STORE_ERROR);
}

static json_t *
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
