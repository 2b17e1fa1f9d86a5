/*
 * Internal to the SQLite backend: its write discipline and checkpoint
 * thread (store_sqlite_write.c), used by store_sqlite.c.
 */

#ifndef KORIO_STORE_SQLITE_H
#define KORIO_STORE_SQLITE_H

#include <sqlite3.h>

/* How long a connection waits for another process's write lock. */
#define STORE_SQLITE_BUSY_MS	5000

int	store_sqlite_tune(sqlite3 *);
void	store_sqlite_write_begin(void);
void	store_sqlite_write_end(void);
int	store_sqlite_ckpt_start(const char *);
void	store_sqlite_ckpt_stop(void);

#endif
