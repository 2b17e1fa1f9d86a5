/*
 * Internal to the backend-neutral half of the store: what store.c (the
 * argument checks and dispatch) uses of store_schema.c (the schema table
 * and value normalization) and store_oid.c (ObjectIds). Not for the
 * backends nor the rest of the app, which use store.h.
 */

#ifndef KORIO_STORE_INT_H
#define KORIO_STORE_INT_H

#include "store/store.h"

/* What store_norm_scalar() did with a value. */
#define STORE_NORM_KEEP		0	/* value usable as is */
#define STORE_NORM_NEW		1	/* a converted value was made */
#define STORE_NORM_NOMATCH	2	/* cannot convert: matches nothing */

/* store_schema.c */
int	store_coll_ok(enum store_coll);
int	store_id_norm(const char *, char [STORE_OID_LEN + 1]);
int	store_norm_scalar(enum store_kind, json_t *, json_t **);
int	store_doc_norm(enum store_coll, json_t *, json_t **);

/* store_oid.c */
void	store_oid_seed(void);

#endif
