/*
 * Internal to the SQLite backend: what its files share.
 *   store_sqlite.c         entry points, connection pool, schema,
 *                          statement cache
 *   store_sqlite_query.c   list, count, ping; filters as SQL, binding,
 *                          documents read back from rows
 *   store_sqlite_modify.c  insert, update, deletes, the project cascade
 *   store_sqlite_write.c   the write discipline and checkpoint thread
 */

#ifndef KORIO_STORE_SQLITE_H
#define KORIO_STORE_SQLITE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store/store.h"

/* How long a connection waits for another process's write lock. */
#define STORE_SQLITE_BUSY_MS	5000

#define STORE_SQLITE_STMT_MAX	48	/* cached statements per connection */
#define STORE_SQLITE_SQL_MAX	2048	/* longest generated statement */

/* One prepared statement of a connection's cache, keyed by its SQL. */
struct store_sqlite_stmt {
	uint64_t		 hash;
	char			*sql;
	sqlite3_stmt		*stmt;
};

/* A handle: one connection; idle ones wait on the pool's free list. */
struct store_sqlite_conn {
	sqlite3				*db;
	struct store_sqlite_conn	*next;
	size_t				 nstmt;
	size_t				 evict;
	struct store_sqlite_stmt	 stmts[STORE_SQLITE_STMT_MAX];
};

/* A statement being generated (store_sqlite_cat); empty on overflow. */
struct store_sqlite_sql {
	char		buf[STORE_SQLITE_SQL_MAX];
	size_t		len;
	int		overflow;
};

/* store_sqlite.c */
int			 store_sqlite_exec(struct store_sqlite_conn *,
			    const char *);
sqlite3_stmt		*store_sqlite_stmt(struct store_sqlite_conn *,
			    const char *);
enum store_result	 store_sqlite_result(int);
enum store_result	 store_sqlite_rc(struct store_sqlite_conn *, int,
			    const char *);

/* store_sqlite_query.c */
enum store_result	 store_sqlite_ping(struct store_conn *);
enum store_result	 store_sqlite_list(struct store_conn *,
			    enum store_coll, const struct store_query *,
			    json_t *, size_t *);
void			 store_sqlite_cat(struct store_sqlite_sql *,
			    const char *, ...)
			    __attribute__((format(printf, 2, 3)));
int			 store_sqlite_where(struct store_sqlite_sql *,
			    enum store_coll, const struct store_filter *,
			    size_t, int);
int			 store_sqlite_bind_filters(sqlite3_stmt *,
			    const struct store_filter *, size_t, int);
json_t			*store_sqlite_column_doc(struct store_sqlite_conn *,
			    sqlite3_stmt *);

/* store_sqlite_modify.c */
enum store_result	 store_sqlite_insert(struct store_conn *,
			    enum store_coll, json_t *);
enum store_result	 store_sqlite_update(struct store_conn *,
			    enum store_coll, const char *, json_t *,
			    json_t **);
enum store_result	 store_sqlite_delete_where(struct store_conn *,
			    enum store_coll, const char *, json_t *,
			    size_t *);
enum store_result	 store_sqlite_delete_project(struct store_conn *,
			    const char *, size_t *);

/* store_sqlite_write.c */
int			 store_sqlite_tune(sqlite3 *);
void			 store_sqlite_write_begin(void);
void			 store_sqlite_write_end(void);
int			 store_sqlite_ckpt_start(const char *);
void			 store_sqlite_ckpt_stop(void);

#endif
