/*
 * The SQLite backend of the store (see store.h): its entry points, the
 * connection pool, opening a connection, the schema and each
 * connection's statement cache. The operations live in
 * store_sqlite_query.c (list, count, ping: filters and sorts as SQL) and
 * store_sqlite_modify.c (insert, update, deletes), the write discipline
 * and checkpoint thread in store_sqlite_write.c; store_sqlite.h is what
 * they share. Only these files include sqlite3.h.
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
 * store_sqlite_write.c), synchronous NORMAL or FULL, in WAL mode (set
 * once by init; the mode is stored in the file). Idle connections wait on
 * a free list guarded by a mutex; the list grows to the number of handles
 * used at once. Each connection caches its prepared statements keyed by
 * SQL text, so every query shape is prepared once per connection.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_sqlite.h"

#define STORE_SQLITE_INIT_TRIES	20

static enum store_result	store_sqlite_init(const struct store_config *);
static void			store_sqlite_cleanup(void);
static struct store_conn	*store_sqlite_acquire(void);
static void			store_sqlite_release(struct store_conn *);

static struct store_sqlite_conn	*store_sqlite_open(void);
static void			 store_sqlite_close(struct store_sqlite_conn *);
static int			 store_sqlite_wal(struct store_sqlite_conn *);
static int			 store_sqlite_schema(
				    struct store_sqlite_conn *);
static uint64_t			 store_sqlite_hash(const char *);

const struct store_backend	store_sqlite_backend = {
	.name = "sqlite",
	.version = store_sqlite_version,
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

int
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
sqlite3_stmt *
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

/*
 * Map a failed step's result code: constraint violations are duplicates,
 * a full disk STORE_FULL, busy past the timeout STORE_UNAVAILABLE.
 */
enum store_result
store_sqlite_rc(struct store_sqlite_conn *sc, int rc, const char *what)
{
	if (rc == SQLITE_CONSTRAINT_UNIQUE ||
	    rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return (STORE_DUPLICATE);

	store_log(STORE_LOG_ERR, "sqlite: %s: %s (%d)", what,
	    sqlite3_errmsg(sc->db), rc);

	return (store_sqlite_result(rc));
}

/* The store result of a failed call's (extended) result code, unlogged. */
enum store_result
store_sqlite_result(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return (STORE_FULL);
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return (STORE_UNAVAILABLE);
	default:
		return (STORE_ERROR);
	}
}

/* The SQLite library loaded, e.g. "3.40.1". */
const char *
store_sqlite_version(void)
{
	return (sqlite3_libversion());
}
