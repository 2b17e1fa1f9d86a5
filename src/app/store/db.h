/*
 * The store, opened once per worker (after fork) from the settings in
 * korio. Store calls block: make them from pool threads (job.c).
 */

#ifndef KORIO_DB_H
#define KORIO_DB_H

#include "store/store.h"

/* db.c */
void	db_init(void);
int	db_ping(void);
void	db_close(void);

#endif
