/*
 * Internal to the MongoDB backend: what its files share.
 *   store_mongo.c       entry points, client pool, collection handles,
 *                       indexes, libmongoc's log
 *   store_mongo_bson.c  JSON <-> BSON through the schema: documents,
 *                       updates, filters
 *   store_mongo_ops.c   ping, insert, list, update, deletes
 */

#ifndef KORIO_STORE_MONGO_H
#define KORIO_STORE_MONGO_H

/* libbson 1.23's bson-atomic.h casts away const in an inline function. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include <bson/bson.h>
#include <mongoc/mongoc.h>
#pragma GCC diagnostic pop

#include "store/store.h"

/* A handle: a client of the pool and the collections opened on it. */
struct store_mongo_conn {
	mongoc_client_t		*client;
	mongoc_collection_t	*colls[STORE_COLL_MAX];
	int			 down;	/* fail at once: no server */
	int			 probe;	/* the one handle trying a down server */
	int			 unreach; /* an operation found no server */
};

/* store_mongo.c */
void			 store_mongo_indexes_retry(struct store_mongo_conn *);
void			 store_mongo_unreached(struct store_mongo_conn *);
mongoc_collection_t	*store_mongo_coll(struct store_mongo_conn *,
			    enum store_coll);

/* store_mongo_bson.c */
int			 store_mongo_append_doc(bson_t *, enum store_coll,
			    json_t *);
int			 store_mongo_update_doc(bson_t *, enum store_coll,
			    json_t *);
int			 store_mongo_filter(bson_t *, enum store_coll,
			    const struct store_filter *, size_t);
json_t			*store_mongo_object(bson_iter_t *);
json_t			*store_mongo_doc(const bson_t *);

/* store_mongo_ops.c */
enum store_result	 store_mongo_error(struct store_mongo_conn *,
			    const bson_error_t *, const char *);
int			 store_mongo_unreachable(const bson_error_t *);
enum store_result	 store_mongo_ping(struct store_conn *);
enum store_result	 store_mongo_insert(struct store_conn *,
			    enum store_coll, json_t *);
enum store_result	 store_mongo_list(struct store_conn *,
			    enum store_coll, const struct store_query *,
			    json_t *, size_t *);
enum store_result	 store_mongo_update(struct store_conn *,
			    enum store_coll, const char *, json_t *,
			    json_t **);
enum store_result	 store_mongo_delete_where(struct store_conn *,
			    enum store_coll, const char *, json_t *,
			    size_t *);
enum store_result	 store_mongo_delete_project(struct store_conn *,
			    const char *, size_t *);

#endif
