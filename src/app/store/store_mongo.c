/*
 * The MongoDB backend of the store (see store.h), through libmongoc: its
 * entry points, the client pool, collection handles, the indexes and
 * libmongoc's log. The operations are store_mongo_ops.c, the conversion
 * between JSON and BSON store_mongo_bson.c; store_mongo.h is what they
 * share. Only these files include mongoc.h and bson.h.
 *
 * Threads: one mongoc_client_pool_t per process (created by init, after
 * fork); a handle is a client popped from it plus lazily opened collection
 * handles, all given back by release. The first acquire creates the
 * indexes (unique users.email, todos.ownerId, todos.projectId,
 * projects.members). A server that refuses one (e.g. duplicates already
 * there) gets a warning and is not asked again; a server that cannot be
 * reached gets a warning and a later write tries again (the operation of
 * that handle then fails at once with STORE_UNAVAILABLE rather than wait
 * for a second server selection). Unless the URI says otherwise,
 * serverSelectionTimeoutMS and connectTimeoutMS are 1000 and
 * socketTimeoutMS 10000, so an unreachable server fails an operation in
 * about 1 s rather than mongoc's default 30.
 */

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"
#include "store/store_mongo.h"

#define STORE_MONGO_DEFAULT_DB	"korio"
#define STORE_MONGO_SELECT_MS	1000	/* default serverSelectionTimeoutMS */
#define STORE_MONGO_CONNECT_MS	1000	/* default connectTimeoutMS */
#define STORE_MONGO_SOCKET_MS	10000	/* default socketTimeoutMS */
#define STORE_MONGO_RETRY_SEC	5	/* between index creation tries */

struct store_mongo_index {
	enum store_coll		 coll;
	const char		*field;
	int			 unique;
};

static enum store_result	store_mongo_init(const struct store_config *);
static void			store_mongo_cleanup(void);
static struct store_conn	*store_mongo_acquire(void);
static void			store_mongo_release(struct store_conn *);

static void			 store_mongo_log(mongoc_log_level_t,
				    const char *, const char *, void *);
static void			 store_mongo_uri_default(const char *, int32_t);
static void			 store_mongo_indexes(struct store_mongo_conn *,
				    int);
static int			 store_mongo_index(struct store_mongo_conn *,
				    const struct store_mongo_index *);

const struct store_backend	store_mongo_backend = {
	.name = "mongodb",
	.version = store_mongo_version,
	.init = store_mongo_init,
	.cleanup = store_mongo_cleanup,
	.acquire = store_mongo_acquire,
	.release = store_mongo_release,
	.ping = store_mongo_ping,
	.insert = store_mongo_insert,
	.list = store_mongo_list,
	.update = store_mongo_update,
	.delete_where = store_mongo_delete_where,
	.delete_project = store_mongo_delete_project,
};

static const struct store_mongo_index	store_mongo_index_list[] = {
	{ STORE_USERS,		"email",	1 },
	{ STORE_TODOS,		"ownerId",	0 },
	{ STORE_TODOS,		"projectId",	0 },
	{ STORE_PROJECTS,	"members",	0 },
};

static mongoc_uri_t		*store_mongo_uri = NULL;
static mongoc_client_pool_t	*store_mongo_pool = NULL;
static char			*store_mongo_db = NULL;
static pthread_mutex_t		 store_mongo_index_lock =
				    PTHREAD_MUTEX_INITIALIZER;
static atomic_int		 store_mongo_indexed;
static atomic_int		 store_mongo_down;	/* last try: no server */
static atomic_int		 store_mongo_probing;	/* a handle is trying */
static size_t			 store_mongo_index_next;
static time_t			 store_mongo_index_tried;

/* Sets a URI option unless the user's URI has it. */
static void
store_mongo_uri_default(const char *opt, int32_t ms)
{
	if (!mongoc_uri_has_option(store_mongo_uri, opt))
		(void)mongoc_uri_set_option_as_int32(store_mongo_uri, opt, ms);
}

static enum store_result
store_mongo_init(const struct store_config *cfg)
{
	bson_error_t	 err;
	const char	*db;

	mongoc_init();
	mongoc_log_set_handler(store_mongo_log, NULL);

	if ((store_mongo_uri = mongoc_uri_new_with_error(cfg->mongodb_uri,
	    &err)) == NULL) {
		store_log(STORE_LOG_ERR, "mongo: bad MONGODB_URI: %s",
		    err.message);
		goto fail;
	}

	/* Fail within about a second, not mongoc's 30, when the server is
	 * down; options the URI sets win. */
	store_mongo_uri_default(MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
	    STORE_MONGO_SELECT_MS);
	store_mongo_uri_default(MONGOC_URI_CONNECTTIMEOUTMS,
	    STORE_MONGO_CONNECT_MS);
	store_mongo_uri_default(MONGOC_URI_SOCKETTIMEOUTMS,
	    STORE_MONGO_SOCKET_MS);

	if ((db = mongoc_uri_get_database(store_mongo_uri)) == NULL)
		db = STORE_MONGO_DEFAULT_DB;
	if ((store_mongo_db = strdup(db)) == NULL)
		goto fail;

	if ((store_mongo_pool = mongoc_client_pool_new(store_mongo_uri)) ==
	    NULL) {
		store_log(STORE_LOG_ERR, "mongo: cannot create client pool");
		goto fail;
	}
	(void)mongoc_client_pool_set_error_api(store_mongo_pool,
	    MONGOC_ERROR_API_VERSION_2);
	(void)mongoc_client_pool_set_appname(store_mongo_pool, "korio");

	atomic_store(&store_mongo_indexed, 0);
	atomic_store(&store_mongo_down, 0);
	atomic_store(&store_mongo_probing, 0);
	store_mongo_index_next = 0;
	store_mongo_index_tried = 0;

	return (STORE_OK);

fail:
	store_mongo_cleanup();
	return (STORE_ERROR);
}

/* Every handle must be released first. Ends with mongoc_cleanup(). */
static void
store_mongo_cleanup(void)
{
	if (store_mongo_pool != NULL)
		mongoc_client_pool_destroy(store_mongo_pool);
	if (store_mongo_uri != NULL)
		mongoc_uri_destroy(store_mongo_uri);
	free(store_mongo_db);

	store_mongo_pool = NULL;
	store_mongo_uri = NULL;
	store_mongo_db = NULL;

	mongoc_log_set_handler(mongoc_log_default_handler, NULL);
	mongoc_cleanup();
}

/*
 * While the server is down (the last operation to try found none), one
 * handle at a time probes it: the others fail at once (mc->down), so
 * requests queued behind a server selection timeout don't each wait for
 * their own. The probe's release says whether it is back.
 */
static struct store_conn *
store_mongo_acquire(void)
{
	struct store_mongo_conn	*mc;
	int			 idle;

	if ((mc = calloc(1, sizeof(*mc))) == NULL)
		return (NULL);

	if ((mc->client = mongoc_client_pool_pop(store_mongo_pool)) == NULL) {
		free(mc);
		return (NULL);
	}

	if (atomic_load(&store_mongo_down)) {
		idle = 0;
		if (atomic_compare_exchange_strong(&store_mongo_probing, &idle,
		    1))
			mc->probe = 1;
		else
			mc->down = 1;
	}

	if (!mc->down && !atomic_load(&store_mongo_indexed))
		store_mongo_indexes(mc, 1);

	return ((struct store_conn *)mc);
}

/* An operation of mc found no server. */
void
store_mongo_unreached(struct store_mongo_conn *mc)
{
	mc->unreach = 1;
	atomic_store(&store_mongo_down, 1);
}

static void
store_mongo_release(struct store_conn *c)
{
	struct store_mongo_conn	*mc = (struct store_mongo_conn *)c;
	size_t			 i;

	if (mc->probe) {
		if (!mc->unreach)
			atomic_store(&store_mongo_down, 0);
		atomic_store(&store_mongo_probing, 0);
	}

	for (i = 0; i < STORE_COLL_MAX; i++) {
		if (mc->colls[i] != NULL)
			mongoc_collection_destroy(mc->colls[i]);
	}

	mongoc_client_pool_push(store_mongo_pool, mc->client);
	free(mc);
}

/* libmongoc's own warnings and errors go to the store's log. */
static void
store_mongo_log(mongoc_log_level_t level, const char *domain,
    const char *msg, void *arg)
{
	(void)arg;

	if (level > MONGOC_LOG_LEVEL_WARNING)
		return;

	store_log(level == MONGOC_LOG_LEVEL_WARNING ? STORE_LOG_WARNING :
	    STORE_LOG_ERR, "mongoc %s: %s", domain, msg);
}

/* Before a write: try the indexes again if they are not all made yet. */
void
store_mongo_indexes_retry(struct store_mongo_conn *mc)
{
	if (!atomic_load(&store_mongo_indexed))
		store_mongo_indexes(mc, 0);
}

/*
 * Create the indexes once per process. The first acquire tries; others
 * wait meanwhile, so the unique email index exists before a first signup
 * runs. Each index is asked for until the server answers (success or
 * refusal). If the server could not be reached, writes (insert, update)
 * try again, at most every STORE_MONGO_RETRY_SEC, so reads do not pay
 * a server selection timeout for it while the server is down.
 */
static void
store_mongo_indexes(struct store_mongo_conn *mc, int first)
{
	size_t		n;
	time_t		now;

	n = sizeof(store_mongo_index_list) / sizeof(store_mongo_index_list[0]);
	now = time(NULL);

	pthread_mutex_lock(&store_mongo_index_lock);
	if (store_mongo_index_tried != 0 && (first ||
	    now - store_mongo_index_tried < STORE_MONGO_RETRY_SEC))
		n = 0;
	else
		store_mongo_index_tried = now;
	while (store_mongo_index_next < n) {
		if (!store_mongo_index(mc,
		    &store_mongo_index_list[store_mongo_index_next])) {
			store_mongo_unreached(mc);
			mc->down = 1;
			break;
		}
		store_mongo_index_next++;
	}
	if (n > 0 && store_mongo_index_next == n)
		atomic_store(&store_mongo_indexed, 1);
	pthread_mutex_unlock(&store_mongo_index_lock);
}

/* Returns 0 only if the server could not be asked. */
static int
store_mongo_index(struct store_mongo_conn *mc,
    const struct store_mongo_index *ix)
{
	mongoc_database_t	*db;
	bson_error_t		 err;
	bson_t			*cmd;
	char			 name[STORE_FIELD_MAX + 8];
	bool			 ok;

	(void)snprintf(name, sizeof(name), "%s_1", ix->field);

	cmd = BCON_NEW("createIndexes", BCON_UTF8(store_coll_name(ix->coll)),
	    "indexes", "[", "{",
		"key", "{", BCON_UTF8(ix->field), BCON_INT32(1), "}",
		"name", BCON_UTF8(name),
		"unique", BCON_BOOL(ix->unique),
	    "}", "]");

	db = mongoc_client_get_database(mc->client, store_mongo_db);
	ok = mongoc_database_write_command_with_opts(db, cmd, NULL, NULL,
	    &err);
	mongoc_database_destroy(db);
	bson_destroy(cmd);

	if (ok)
		return (1);

	store_log(STORE_LOG_WARNING, "mongo: cannot create index %s.%s "
	    "(%s): %s", store_coll_name(ix->coll), name,
	    ix->unique ? "unique" : "plain", err.message);

	return (err.domain == MONGOC_ERROR_SERVER ||
	    err.domain == MONGOC_ERROR_WRITE_CONCERN);
}

mongoc_collection_t *
store_mongo_coll(struct store_mongo_conn *mc, enum store_coll coll)
{
	if (mc->colls[coll] == NULL) {
		mc->colls[coll] = mongoc_client_get_collection(mc->client,
		    store_mongo_db, store_coll_name(coll));
	}

	return (mc->colls[coll]);
}

/* The libmongoc library loaded, e.g. "1.23.1". */
const char *
store_mongo_version(void)
{
	return (mongoc_get_version());
}
