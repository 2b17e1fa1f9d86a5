/*
 * The document store: users, todos and projects, in SQLite (embedded, the
 * default) or MongoDB (when a MongoDB URI is configured). Both backends
 * pass the same tests (tests/unit/test_store.c). This header includes no
 * Kore header: the store runs on the job pool's threads and links alone
 * into unit tests.
 *
 * Documents cross this API as jansson objects in the REST shape:
 *   "_id"                       24 lowercase hex digits (an ObjectId)
 *   "created", "updated"        ISO 8601 UTC with milliseconds,
 *                               "2026-11-26T06:17:20.123Z"
 *   "ownerId", "projectId",     24-hex strings
 *   each entry of "members"
 * plus the model's own fields (users: "email", "admin", "hash", "salt").
 * The store never adds "id" and never strips "hash"/"salt": the REST layer
 * does both. Fields it does not know pass through untouched ("__v" and
 * any other field of existing Terreno data).
 *
 * A small schema table (store_schema.c) says which top-level fields hold
 * ObjectIds and which hold dates. MongoDB stores them as BSON ObjectId and
 * BSON Date, Terreno's (mongoose's) real types, and converts back on read,
 * so existing Terreno data reads correctly. SQLite stores each document as
 * JSON text. On the way in, hex ids are lowercased and parseable dates are
 * rewritten in the canonical form above, on both backends.
 *
 * Concurrency. Call store_global_init() once per process, in each Kore
 * worker after fork (never carry a store across fork), before any other
 * call. Then any thread takes a handle with store_acquire(), runs
 * operations on it, and gives it back with store_release(). A handle is
 * used by one thread at a time; it may be released from another thread.
 *   SQLite:  a handle is one connection (WAL mode, busy_timeout 5000 ms,
 *            synchronous NORMAL or FULL) with its own prepared-statement
 *            cache, taken from a per-process pool that grows to the
 *            number of handles in use at once (one per pool thread).
 *   MongoDB: a handle wraps a client popped from one mongoc client pool
 *            per process (its size bounded by maxPoolSize in the URI,
 *            default 100; store_acquire blocks while all are in use).
 * The first store_acquire() of a MongoDB process creates the indexes
 * (unique users.email); a failure there is logged as a warning; if the
 * server was unreachable, later inserts and updates retry (at most every
 * 5 s) until it answers. Unless the URI sets them, the store sets
 * serverSelectionTimeoutMS=1000, connectTimeoutMS=1000 and
 * socketTimeoutMS=10000, so a down server fails an operation in about
 * 1 s (STORE_UNAVAILABLE), not mongoc's 30; the pool reconnects by
 * itself once the server is back.
 * store_global_cleanup() must run after every handle is released (no
 * pool thread may be inside the store); on MongoDB it ends with
 * mongoc_cleanup(), after which MongoDB can't be initialized again in
 * that process.
 *
 * Durability. A write returns STORE_OK only once committed: SQLite commits
 * to the WAL before returning (survives kill -9 of the process; FULL also
 * survives power loss); MongoDB returns after the server acknowledged it
 * with the URI's write concern (add w=majority&journal=true for more).
 *
 * Results. Every operation returns an enum store_result and never crashes
 * on bad input: NULL or malformed arguments give STORE_ERROR, an id that
 * is not 24 hex digits gives STORE_NOTFOUND without touching the backend,
 * and a filter value that cannot convert to the field's type (a non-hex
 * string for an ObjectId field, an unparseable date) matches nothing.
 * Backend failures are logged through the config's log callback. A
 * backend that can't be reached (MongoDB server selection, network and
 * shutdown errors; SQLite busy past its timeout) is STORE_UNAVAILABLE;
 * a write refused for lack of disk space (SQLITE_FULL) is STORE_FULL.
 *
 * Field names given to filters, sorts, find_one, delete_where and update
 * are top-level names of 1..64 characters [A-Za-z0-9_]; anything else is
 * STORE_ERROR. Filter values are strings, integers, reals, true, false or
 * null (null matches a missing field too); arrays and objects are
 * STORE_ERROR.
 */

#ifndef KORIO_STORE_H
#define KORIO_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define STORE_OID_LEN		24	/* hex digits; buffers need + 1 */
#define STORE_ISO_LEN		32	/* buffer size for an ISO date */
#define STORE_FILTER_MAX	8	/* filters per query */
#define STORE_FIELD_MAX		64	/* bytes in a field name */
#define STORE_SET_MAX		32	/* fields per update */

/* Priorities for the log callback: the syslog(3) values kore_log takes. */
#define STORE_LOG_ERR		3
#define STORE_LOG_WARNING	4
#define STORE_LOG_INFO		6

enum store_result {
	STORE_OK = 0,
	STORE_NOTFOUND,		/* no such document */
	STORE_DUPLICATE,	/* unique _id or users.email taken */
	STORE_ERROR,		/* bad arguments or backend failure */
	STORE_UNAVAILABLE,	/* backend unreachable or busy: try later */
	STORE_FULL		/* no space left for the write (SQLite) */
};

enum store_coll {
	STORE_USERS = 0,
	STORE_TODOS,
	STORE_PROJECTS,
	STORE_COLL_MAX
};

/* What the schema says a top-level field holds. */
enum store_kind {
	STORE_KIND_PLAIN = 0,	/* anything, stored as given */
	STORE_KIND_OID,		/* 24-hex string <-> BSON ObjectId */
	STORE_KIND_OID_ARRAY,	/* array of those */
	STORE_KIND_DATE		/* ISO string <-> BSON Date */
};

enum store_op {
	STORE_EQ = 0,		/* field equals value */
	STORE_CONTAINS		/* array field has an element equal to value */
};

/*
 * What reaches a backend, for store_config's timed callback: get and
 * find_one are list operations, delete is a delete_where.
 */
enum store_call {
	STORE_CALL_PING = 0,
	STORE_CALL_INSERT,
	STORE_CALL_LIST,
	STORE_CALL_UPDATE,
	STORE_CALL_DELETE,
	STORE_CALL_DELETE_PROJECT,
	STORE_CALL_MAX
};

struct store_config {
	/* Non-NULL selects MongoDB; its path names the database, else
	 * "korio". No credentials with CongoDB (see testing-and-perf.md). */
	const char	*mongodb_uri;
	/* SQLite database file, created if missing (with -wal, -shm). */
	const char	*sqlite_path;
	/* 0: synchronous NORMAL (default), 1: FULL. */
	int		sqlite_full_sync;
	/* Optional; called from any thread with a complete message. NULL
	 * logs to stderr. Also receives libmongoc's warnings and errors. */
	void		(*log)(int prio, const char *msg);
	/* Optional; called from the calling thread after each call to the
	 * backend, with how long it took in microseconds. */
	void		(*timed)(enum store_call, uint64_t us);
};

struct store_filter {
	const char	*field;		/* "_id", "ownerId", "members", ... */
	enum store_op	 op;
	json_t		*value;		/* borrowed, not modified */
};

/*
 * A list query: nfilters (at most STORE_FILTER_MAX) filters, ANDed;
 * filters may be NULL when there are none. sort NULL means by _id.
 */
struct store_query {
	const struct store_filter	*filters;
	size_t				 nfilters;
	const char			*sort;
	int				 desc;		/* 1: descending */
	size_t				 limit;		/* 0: no limit */
	size_t				 skip;
};

/* Opaque per-thread handle; each backend has its own layout. */
struct store_conn;

/* store.c: set-up */
enum store_result	 store_global_init(const struct store_config *);
void			 store_global_cleanup(void);
const char		*store_backend_name(void);
const char		*store_backend_version(const char *);
const char		*store_call_name(enum store_call);
struct store_conn	*store_acquire(void);
void			 store_release(struct store_conn *);

/* store.c: operations. Output documents are new references owned by
 * the caller (json_decref them); on any result but STORE_OK the output
 * pointers are set to NULL (counts to 0). */
enum store_result	 store_ping(struct store_conn *);
enum store_result	 store_insert(struct store_conn *, enum store_coll,
			    json_t *);
enum store_result	 store_get(struct store_conn *, enum store_coll,
			    const char *, json_t **);
enum store_result	 store_find_one(struct store_conn *, enum store_coll,
			    const char *, json_t *, json_t **);
enum store_result	 store_list(struct store_conn *, enum store_coll,
			    const struct store_query *, json_t **, size_t *);
enum store_result	 store_update(struct store_conn *, enum store_coll,
			    const char *, json_t *, json_t **);
enum store_result	 store_delete(struct store_conn *, enum store_coll,
			    const char *);
enum store_result	 store_delete_where(struct store_conn *,
			    enum store_coll, const char *, json_t *, size_t *);
enum store_result	 store_delete_project(struct store_conn *,
			    const char *, size_t *);

/*
 * Operation details:
 *
 * store_insert(c, coll, doc): doc is an object with a valid "_id" (make
 *   one with store_oid_new()); the caller sets created/updated. A taken
 *   _id or (users) email is STORE_DUPLICATE.
 * store_get(c, coll, id, &doc): by _id.
 * store_find_one(c, coll, field, value, &doc): the first document (by _id)
 *   whose field equals value, e.g. users by "email" (index-backed).
 * store_list(c, coll, query, &docs, &total): docs is a new array of the
 *   matching documents ordered by query->sort (then _id, same direction,
 *   for stability), after skip, at most limit of them; total (may be
 *   NULL to skip the count) is the number of all matches, ignoring limit
 *   and skip. Mixed-type sort orders differ between backends; within one
 *   JSON type they agree (strings bytewise, dates chronologically).
 * store_update(c, coll, id, set, &doc): MongoDB $set semantics: each
 *   member of the object set replaces that field (a JSON null value
 *   removes the field, like $unset); other fields stay as they are. "_id"
 *   in set, or more than STORE_SET_MAX members, is STORE_ERROR; set an
 *   "updated" date yourself. An empty set returns the document
 *   unchanged. doc (may be NULL) receives the document after the update.
 *   Setting users' email to a taken one is STORE_DUPLICATE and changes
 *   nothing.
 * store_delete(c, coll, id): STORE_NOTFOUND if there was none.
 * store_delete_where(c, coll, field, value, &n): deletes every document
 *   whose field equals value (scalar), n (may be NULL) = how many.
 * store_delete_project(c, id, &ntodos): deletes the project and every todo
 *   whose projectId is id; STORE_NOTFOUND (nothing deleted) if the
 *   project does not exist. One transaction on SQLite. On MongoDB the
 *   project goes first, then its todos: not atomic (a crash in between
 *   leaves todos pointing at a missing project).
 */

/* store_oid.c, store_iso.c, store_schema.c, store.c: helpers, usable
 * without store_global_init() */
void			 store_oid_new(char [STORE_OID_LEN + 1]);
int			 store_oid_valid(const char *);
void			 store_now_iso(char [STORE_ISO_LEN]);
int			 store_iso_parse(const char *, int64_t *);
int			 store_iso_format(int64_t, char [STORE_ISO_LEN]);
const char		*store_coll_name(enum store_coll);
enum store_kind		 store_field_kind(enum store_coll, const char *);
const char		*store_result_str(enum store_result);

/* store_sqlite.c, store_mongo.c: the versions of the libraries behind
 * the backends, as loaded (korio --version); no set-up needed. */
const char		*store_sqlite_version(void);
const char		*store_mongo_version(void);

/*
 * store_oid_new(out): a new ObjectId as 24 lowercase hex digits plus NUL:
 *   4-byte big-endian seconds, 5 random bytes per process (getrandom,
 *   redrawn by store_global_init so forked workers differ), 3-byte
 *   counter (atomic, random start). Thread-safe.
 * store_oid_valid(s): 1 if s is exactly 24 hex digits (either case).
 * store_now_iso(out): the current UTC time, "YYYY-MM-DDTHH:MM:SS.mmmZ".
 * store_iso_parse(s, &ms): 1 and milliseconds since the epoch if s is
 *   "YYYY-MM-DDTHH:MM:SS" with an optional fraction (1-9 digits) and a
 *   "Z" or "+HH:MM"/"-HH:MM" offset; 0 otherwise.
 * store_iso_format(ms, out): 1 and the canonical form for years
 *   0000-9999; 0 otherwise.
 * store_coll_name(coll): "users", "todos", "projects" (the MongoDB
 *   collection and SQLite table names), NULL if out of range.
 */

/*
 * Backend interface: for store.c and the backends (store_sqlite*.c,
 * store_mongo*.c) only.
 * store.c validates and normalizes every argument before calling these:
 * coll is in range, ids are 24 lowercase hex digits, field names are
 * valid, filter values are converted and supported, set has no "_id".
 */
struct store_backend {
	const char		*name;
	const char		*(*version)(void);	/* the library's */
	enum store_result	 (*init)(const struct store_config *);
	void			 (*cleanup)(void);
	struct store_conn	*(*acquire)(void);
	void			 (*release)(struct store_conn *);
	enum store_result	 (*ping)(struct store_conn *);
	enum store_result	 (*insert)(struct store_conn *,
				    enum store_coll, json_t *);
	enum store_result	 (*list)(struct store_conn *, enum store_coll,
				    const struct store_query *, json_t *,
				    size_t *);
	enum store_result	 (*update)(struct store_conn *,
				    enum store_coll, const char *, json_t *,
				    json_t **);
	enum store_result	 (*delete_where)(struct store_conn *,
				    enum store_coll, const char *, json_t *,
				    size_t *);
	enum store_result	 (*delete_project)(struct store_conn *,
				    const char *, size_t *);
};

extern const struct store_backend	store_sqlite_backend;
extern const struct store_backend	store_mongo_backend;

void	store_log(int, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
