/*
 * Unit tests of the document store (src/app/store*.c).
 *
 * The same test list runs against SQLite always (a fresh file under
 * $TMPDIR or /tmp) and against MongoDB when MONGODB_URI is set (a fresh
 * database korio_test_<pid>, dropped at the end). A few tests belong to
 * one backend: kill -9 durability for SQLite; stored BSON types and a
 * Terreno-shaped document inserted raw for MongoDB, read back through a
 * raw libmongoc client.
 *
 * MongoDB here is CongoDB behind tests/congo/launcher.mjs:
 *   tests/congo/setup.sh
 *   node tests/congo/launcher.mjs 0 > /tmp/congo.log &   (READY mongodb://...)
 *   MONGODB_URI=mongodb://127.0.0.1:PORT ./test_store
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* libbson 1.23's bson-atomic.h casts away const in an inline function. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include <bson/bson.h>
#include <mongoc/mongoc.h>
#pragma GCC diagnostic pop

#include "store/store.h"
#include "test_help.h"

#define RACE_THREADS	4
#define RACE_DOCS	25
#define PROCS		4

struct race {
	pthread_barrier_t	*barrier;
	char			 owner[STORE_OID_LEN + 1];
	int			 inserted;
	enum store_result	 contested;
};

static void	test_log(int, const char *);
static void	test_timed(enum store_call, uint64_t);
static json_t	*mk_user(const char *);
static json_t	*mk_todo(const char *, const char *, const char *, int,
		    const char *);
static json_t	*mk_project(const char *, const char *, const char *);
static const char	*idof(json_t *);
static enum store_result	list(enum store_coll, struct store_filter *,
			    size_t, const char *, int, size_t, size_t,
			    json_t **, size_t *);
static void	titles(json_t *, char *, size_t);
static void	*race_thread(void *);
static int	raw_get(const char *, const char *, bson_t *);
static int	raw_type(const bson_t *, const char *, bson_type_t);
static char	*uri_with_db(const char *, const char *);
static void	run_suite(int);
static int	suite_setup(void);
static void	suite_teardown(void);

static int	test_oid(void);
static int	test_mongo_down(void);
static int	mongo_down_child(const char *, int64_t, int64_t);
static int64_t	now_ms(void);
static int	test_iso(void);
static int	test_ping(void);
static int	test_timed_calls(void);
static int	test_insert_get(void);
static int	test_get_missing(void);
static int	test_dup_id(void);
static int	test_dup_email_insert(void);
static int	test_find_one(void);
static int	test_update(void);
static int	test_update_missing(void);
static int	test_update_dup_email(void);
static int	list_fixture(char [STORE_OID_LEN + 1],
		    char [STORE_OID_LEN + 1], char [STORE_OID_LEN + 1]);
static int	test_list_filters(void);
static int	test_list_refs(void);
static int	test_list_sort(void);
static int	test_contains(void);
static int	test_delete(void);
static int	test_delete_where(void);
static int	test_cascade(void);
static int	test_unicode(void);
static int	test_dates(void);
static int	test_bad_input(void);
static int	test_bad_query(void);
static int	test_concurrency(void);
static int	test_sqlite_kill9(void);
static int	test_sqlite_processes(void);
static int	proc_child(int);
static int	test_mongo_types(void);
static int	test_mongo_terreno(void);

static struct store_conn	*tc;
static struct store_config	 cfg;
static char			 sqlite_path[256];
static char			*mongo_uri;
static mongoc_client_t		*raw_client;
static char			 raw_db[64];
static uint64_t			 timed[STORE_CALL_MAX];

int
main(void)
{
	const char	*env;
	mongoc_uri_t	*uri;

	TEST_RUN(test_oid);
	TEST_RUN(test_iso);
	TEST_RUN(test_mongo_down);

	env = getenv("TMPDIR");
	(void)snprintf(sqlite_path, sizeof(sqlite_path),
	    "%s/korio-test-store-%d.db", env != NULL ? env : "/tmp",
	    (int)getpid());
	memset(&cfg, 0, sizeof(cfg));
	cfg.sqlite_path = sqlite_path;
	cfg.log = test_log;
	cfg.timed = test_timed;
	run_suite(0);

	if ((env = getenv("MONGODB_URI")) == NULL || *env == '\0') {
		printf("backend: mongodb skipped (MONGODB_URI not set)\n");
		return (TEST_REPORT("test_store"));
	}

	/* Run in a database of our own: korio_test_<pid>. */
	mongoc_init();
	(void)snprintf(raw_db, sizeof(raw_db), "korio_test_%d",
	    (int)getpid());
	if ((mongo_uri = uri_with_db(env, raw_db)) == NULL ||
	    (uri = mongoc_uri_new(mongo_uri)) == NULL) {
		printf("bad MONGODB_URI %s\n", env);
		return (1);
	}
	raw_client = mongoc_client_new_from_uri(uri);
	mongoc_uri_destroy(uri);

	memset(&cfg, 0, sizeof(cfg));
	cfg.mongodb_uri = mongo_uri;
	cfg.log = test_log;
	cfg.timed = test_timed;
	run_suite(1);

	free(mongo_uri);

	return (TEST_REPORT("test_store"));
}

/* The URI with its database path (if any) replaced by db. */
static char *
uri_with_db(const char *uri, const char *db)
{
	const char	*host, *end, *query;
	char		*out;
	size_t		 len;

	if ((host = strstr(uri, "://")) == NULL)
		return (NULL);
	host += 3;
	end = host + strcspn(host, "/?");
	query = strchr(end, '?');

	len = strlen(uri) + strlen(db) + 2;
	if ((out = malloc(len)) == NULL)
		return (NULL);
	(void)snprintf(out, len, "%.*s/%s%s", (int)(end - uri), uri, db,
	    query != NULL ? query : "");

	return (out);
}

static void
run_suite(int mongo)
{
	printf("backend: %s\n", mongo ? "mongodb" : "sqlite");

	TEST_RUN(suite_setup);
	if (tc == NULL) {
		suite_teardown();
		return;
	}

	TEST_RUN(test_ping);
	TEST_RUN(test_timed_calls);
	TEST_RUN(test_insert_get);
	TEST_RUN(test_get_missing);
	TEST_RUN(test_dup_id);
	TEST_RUN(test_dup_email_insert);
	TEST_RUN(test_find_one);
	TEST_RUN(test_update);
	TEST_RUN(test_update_missing);
	TEST_RUN(test_update_dup_email);
	TEST_RUN(test_list_filters);
	TEST_RUN(test_list_refs);
	TEST_RUN(test_list_sort);
	TEST_RUN(test_contains);
	TEST_RUN(test_delete);
	TEST_RUN(test_delete_where);
	TEST_RUN(test_cascade);
	TEST_RUN(test_unicode);
	TEST_RUN(test_dates);
	TEST_RUN(test_bad_input);
	TEST_RUN(test_bad_query);
	TEST_RUN(test_concurrency);

	if (mongo) {
		TEST_RUN(test_mongo_types);
		TEST_RUN(test_mongo_terreno);
	} else {
		TEST_RUN(test_sqlite_kill9);
		TEST_RUN(test_sqlite_processes);
	}

	suite_teardown();
}

static int
suite_setup(void)
{
	if (cfg.mongodb_uri == NULL) {
		(void)unlink(sqlite_path);
	}

	tc = NULL;
	TEST_ASSERT(store_global_init(&cfg) == STORE_OK);
	TEST_ASSERT(strcmp(store_backend_name(),
	    cfg.mongodb_uri != NULL ? "mongodb" : "sqlite") == 0);
	/* A second init without cleanup is refused. */
	TEST_ASSERT(store_global_init(&cfg) == STORE_ERROR);
	TEST_ASSERT((tc = store_acquire()) != NULL);

	return (0);
}

static void
suite_teardown(void)
{
	char		path[300];
	bson_error_t	err;
	mongoc_database_t *db;

	if (tc != NULL)
		store_release(tc);
	tc = NULL;

	if (cfg.mongodb_uri != NULL && raw_client != NULL) {
		db = mongoc_client_get_database(raw_client, raw_db);
		(void)mongoc_database_drop(db, &err);
		mongoc_database_destroy(db);
		mongoc_client_destroy(raw_client);
		raw_client = NULL;
	}

	/* For MongoDB this ends with mongoc_cleanup(). */
	store_global_cleanup();

	if (cfg.mongodb_uri == NULL) {
		(void)unlink(sqlite_path);
		(void)snprintf(path, sizeof(path), "%s-wal", sqlite_path);
		(void)unlink(path);
		(void)snprintf(path, sizeof(path), "%s-shm", sqlite_path);
		(void)unlink(path);
	}
}

static void
test_log(int prio, const char *msg)
{
	/* Expected noise: refused inits, the bad-input test. */
	if (getenv("TEST_STORE_VERBOSE") != NULL)
		printf("  log %d: %s\n", prio, msg);
}

static json_t *
mk_user(const char *email)
{
	char	id[STORE_OID_LEN + 1], now[STORE_ISO_LEN];

	store_oid_new(id);
	store_now_iso(now);

	return (json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:s}",
	    "_id", id, "email", email, "admin", 0, "hash", "abcd",
	    "salt", "ef01", "created", now, "updated", now));
}

static json_t *
mk_todo(const char *owner, const char *project, const char *title,
    int completed, const char *created)
{
	char	id[STORE_OID_LEN + 1], now[STORE_ISO_LEN];
	json_t	*doc;

	store_oid_new(id);
	if (created == NULL) {
		store_now_iso(now);
		created = now;
	}

	doc = json_pack("{s:s, s:s, s:b, s:s, s:s, s:s}", "_id", id,
	    "title", title, "completed", completed, "ownerId", owner,
	    "created", created, "updated", created);
	if (doc != NULL && project != NULL)
		(void)json_object_set_new(doc, "projectId",
		    json_string(project));

	return (doc);
}

static json_t *
mk_project(const char *owner, const char *name, const char *other)
{
	char	id[STORE_OID_LEN + 1], now[STORE_ISO_LEN];
	json_t	*doc;

	store_oid_new(id);
	store_now_iso(now);

	doc = json_pack("{s:s, s:s, s:s, s:[s], s:s, s:s}", "_id", id,
	    "name", name, "ownerId", owner, "members", owner,
	    "created", now, "updated", now);
	if (doc != NULL && other != NULL)
		(void)json_array_append_new(json_object_get(doc, "members"),
		    json_string(other));

	return (doc);
}

static const char *
idof(json_t *doc)
{
	return (json_string_value(json_object_get(doc, "_id")));
}

static enum store_result
list(enum store_coll coll, struct store_filter *f, size_t nf,
    const char *sort, int desc, size_t limit, size_t skip, json_t **docs,
    size_t *total)
{
	struct store_query	q;

	memset(&q, 0, sizeof(q));
	q.filters = f;
	q.nfilters = nf;
	q.sort = sort;
	q.desc = desc;
	q.limit = limit;
	q.skip = skip;

	return (store_list(tc, coll, &q, docs, total));
}

/* The "title" of each document, comma separated. */
static void
titles(json_t *docs, char *buf, size_t len)
{
	size_t		 i, off;
	json_t		*d;
	const char	*t;

	buf[0] = '\0';
	off = 0;
	json_array_foreach(docs, i, d) {
		if (off >= len)
			break;
		t = json_string_value(json_object_get(d, "title"));
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    i > 0 ? "," : "", t != NULL ? t : "?");
	}
}

static int
test_oid(void)
{
	char		a[STORE_OID_LEN + 1], b[STORE_OID_LEN + 1];
	char		up[STORE_OID_LEN + 1];
	unsigned long	ca, cb;
	uint32_t	secs;
	size_t		i;
	int		n;

	store_oid_new(a);
	TEST_ASSERT(strlen(a) == STORE_OID_LEN && store_oid_valid(a));
	for (i = 0; i < STORE_OID_LEN; i++)
		TEST_ASSERT(strchr("0123456789abcdef", a[i]) != NULL);

	/* Seconds prefix is now; same process bytes; counter + 1. */
	(void)sscanf(a, "%8x", &secs);
	TEST_ASSERT(labs((long)secs - (long)time(NULL)) <= 2);
	store_oid_new(b);
	TEST_ASSERT(memcmp(a + 8, b + 8, 10) == 0);
	ca = strtoul(a + 18, NULL, 16);
	cb = strtoul(b + 18, NULL, 16);
	TEST_ASSERT(cb == ((ca + 1) & 0xffffff));

	for (n = 0; n < 10000; n++) {
		store_oid_new(b);
		TEST_ASSERT(strcmp(a, b) != 0);
	}

	memcpy(up, a, sizeof(up));
	for (i = 0; i < STORE_OID_LEN; i++)
		up[i] = (char)toupper((unsigned char)up[i]);
	TEST_ASSERT(store_oid_valid(up));
	TEST_ASSERT(!store_oid_valid(NULL));
	TEST_ASSERT(!store_oid_valid(""));
	TEST_ASSERT(!store_oid_valid("0123456789abcdef0123456"));
	TEST_ASSERT(!store_oid_valid("0123456789abcdef012345678"));
	TEST_ASSERT(!store_oid_valid("0123456789abcdef0123456g"));
	TEST_ASSERT(!store_oid_valid(" 123456789abcdef01234567"));

	return (0);
}

static int
test_iso(void)
{
	char		buf[STORE_ISO_LEN];
	int64_t		ms;

	store_now_iso(buf);
	TEST_ASSERT(strlen(buf) == 24 && buf[10] == 'T' && buf[19] == '.' &&
	    buf[23] == 'Z');
	TEST_ASSERT(store_iso_parse(buf, &ms));
	TEST_ASSERT(ms / 1000 - (int64_t)time(NULL) <= 2);

	TEST_ASSERT(store_iso_parse("2023-11-14T22:13:20.123Z", &ms));
	TEST_ASSERT(ms == 1700000000123LL);
	TEST_ASSERT(store_iso_format(ms, buf));
	TEST_ASSERT(strcmp(buf, "2023-11-14T22:13:20.123Z") == 0);

	TEST_ASSERT(store_iso_parse("1970-01-01T00:00:00Z", &ms) && ms == 0);
	TEST_ASSERT(store_iso_parse("1970-01-01T01:00:00+01:00", &ms) &&
	    ms == 0);
	TEST_ASSERT(store_iso_parse("1969-12-31T23:59:59.999Z", &ms) &&
	    ms == -1);
	TEST_ASSERT(store_iso_format(-1, buf) &&
	    strcmp(buf, "1969-12-31T23:59:59.999Z") == 0);
	TEST_ASSERT(store_iso_parse("2024-02-29T12:00:00.5Z", &ms));
	TEST_ASSERT(store_iso_format(ms, buf) &&
	    strcmp(buf, "2024-02-29T12:00:00.500Z") == 0);
	TEST_ASSERT(store_iso_parse("2026-11-26T06:17:20.123456789-05:30",
	    &ms));
	TEST_ASSERT(store_iso_format(ms, buf) &&
	    strcmp(buf, "2026-11-26T11:47:20.123Z") == 0);
	TEST_ASSERT(store_iso_parse("0000-01-01T00:00:00Z", &ms) &&
	    store_iso_format(ms, buf) &&
	    strcmp(buf, "0000-01-01T00:00:00.000Z") == 0);
	TEST_ASSERT(store_iso_parse("9999-12-31T23:59:59.999Z", &ms) &&
	    store_iso_format(ms, buf));
	TEST_ASSERT(!store_iso_format(ms + 1, buf));

	TEST_ASSERT(!store_iso_parse("2023-02-29T00:00:00Z", &ms));
	TEST_ASSERT(!store_iso_parse("2023-11-14 22:13:20Z", &ms));
	TEST_ASSERT(!store_iso_parse("2023-11-14T22:13:20", &ms));
	TEST_ASSERT(!store_iso_parse("2023-11-14T24:00:00Z", &ms));
	TEST_ASSERT(!store_iso_parse("2023-11-14T22:13:20.Z", &ms));
	TEST_ASSERT(!store_iso_parse("2023-11-14T22:13:20ZZ", &ms));
	TEST_ASSERT(!store_iso_parse("2023-11-14", &ms));
	TEST_ASSERT(!store_iso_parse("", &ms));
	TEST_ASSERT(!store_iso_parse(NULL, &ms));

	return (0);
}

static int
test_ping(void)
{
	TEST_ASSERT(store_ping(tc) == STORE_OK);
	TEST_ASSERT(store_ping(NULL) == STORE_ERROR);

	return (0);
}

/* The config's timed callback: any thread. */
static void
test_timed(enum store_call op, uint64_t us)
{
	(void)us;
	if ((int)op >= 0 && op < STORE_CALL_MAX)
		(void)__atomic_fetch_add(&timed[op], 1, __ATOMIC_RELAXED);
}

/*
 * Each call that reaches the backend is timed once, by what it is there
 * (a get is a list); one that stops at the checks is not. The versions
 * of both backends' libraries are known whichever is in use.
 */
static int
test_timed_calls(void)
{
	struct store_filter	 f;
	json_t			*u, *got, *v, *set;

	memset(timed, 0, sizeof(timed));
	u = mk_user("timed@example.org");
	TEST_ASSERT(store_ping(tc) == STORE_OK);
	TEST_ASSERT(store_insert(tc, STORE_USERS, u) == STORE_OK);
	TEST_ASSERT(store_get(tc, STORE_USERS, idof(u), &got) == STORE_OK);
	json_decref(got);
	set = json_pack("{s:s}", "name", "T");
	TEST_ASSERT(store_update(tc, STORE_USERS, idof(u), set, NULL) ==
	    STORE_OK);
	json_decref(set);
	TEST_ASSERT(store_delete(tc, STORE_USERS, idof(u)) == STORE_OK);
	/* Stopped at the checks: a malformed id, an ObjectId that isn't. */
	TEST_ASSERT(store_get(tc, STORE_USERS, "nope", &got) ==
	    STORE_NOTFOUND);
	v = json_string("not-hex");
	f = (struct store_filter){ "ownerId", STORE_EQ, v };
	TEST_ASSERT(list(STORE_TODOS, &f, 1, NULL, 0, 0, 0, &got, NULL) ==
	    STORE_OK);
	json_decref(got);
	json_decref(v);
	json_decref(u);

	TEST_ASSERT(timed[STORE_CALL_PING] == 1);
	TEST_ASSERT(timed[STORE_CALL_INSERT] == 1);
	TEST_ASSERT(timed[STORE_CALL_LIST] == 1);
	TEST_ASSERT(timed[STORE_CALL_UPDATE] == 1);
	TEST_ASSERT(timed[STORE_CALL_DELETE] == 1);
	TEST_ASSERT(timed[STORE_CALL_DELETE_PROJECT] == 0);

	TEST_ASSERT(!strcmp(store_call_name(STORE_CALL_DELETE_PROJECT),
	    "delete_project"));
	TEST_ASSERT(store_call_name(STORE_CALL_MAX) == NULL);
	TEST_ASSERT(strchr(store_backend_version("sqlite"), '.') != NULL);
	TEST_ASSERT(strchr(store_backend_version("mongodb"), '.') != NULL);
	TEST_ASSERT(store_backend_version("redis") == NULL);

	return (0);
}

static int
test_insert_get(void)
{
	json_t		*u, *t, *got;

	u = mk_user("insert@example.org");
	TEST_ASSERT(store_insert(tc, STORE_USERS, u) == STORE_OK);
	TEST_ASSERT(store_get(tc, STORE_USERS, idof(u), &got) == STORE_OK);
	TEST_ASSERT(json_equal(u, got));
	TEST_ASSERT(json_object_get(got, "id") == NULL);
	json_decref(got);

	t = mk_todo(idof(u), NULL, "first", 0, NULL);
	(void)json_object_set_new(t, "n", json_integer(42));
	(void)json_object_set_new(t, "big", json_integer(1099511627776LL));
	(void)json_object_set_new(t, "ratio", json_real(0.25));
	(void)json_object_set_new(t, "tags", json_pack("[s, i, n, b]",
	    "a", 1, 1));
	(void)json_object_set_new(t, "meta", json_pack("{s:{s:s}}", "x",
	    "y", "z"));
	TEST_ASSERT(store_insert(tc, STORE_TODOS, t) == STORE_OK);
	TEST_ASSERT(store_get(tc, STORE_TODOS, idof(t), &got) == STORE_OK);
	TEST_ASSERT(json_equal(t, got));
	TEST_ASSERT(json_is_integer(json_object_get(got, "big")));
	TEST_ASSERT(json_is_real(json_object_get(got, "ratio")));
	json_decref(got);

	/* A user id is not a todo id. */
	TEST_ASSERT(store_get(tc, STORE_TODOS, idof(u), &got) ==
	    STORE_NOTFOUND);
	TEST_ASSERT(got == NULL);

	json_decref(u);
	json_decref(t);

	return (0);
}

static int
test_get_missing(void)
{
	char		 id[STORE_OID_LEN + 1], up[STORE_OID_LEN + 1];
	json_t		*u, *got, *sentinel;
	size_t		 i;
	const char	*bad[] = {
		"", "abc", "zzzzzzzzzzzzzzzzzzzzzzzz",
		"0123456789abcdef01234567a", "0123456789abcdef0123456",
		"0123456789abcdef0123456\n", "' OR 1=1 --",
		"{\"$ne\":null}", NULL
	};

	store_oid_new(id);
	sentinel = json_object();
	got = sentinel;
	TEST_ASSERT(store_get(tc, STORE_USERS, id, &got) == STORE_NOTFOUND);
	TEST_ASSERT(got == NULL);
	json_decref(sentinel);

	for (i = 0; bad[i] != NULL; i++) {
		TEST_ASSERT(store_get(tc, STORE_USERS, bad[i], &got) ==
		    STORE_NOTFOUND);
		TEST_ASSERT(got == NULL);
	}
	TEST_ASSERT(store_get(tc, STORE_USERS, NULL, &got) == STORE_NOTFOUND);

	/* Ids are case-insensitive hex, like ObjectId("..."). */
	u = mk_user("upper@example.org");
	TEST_ASSERT(store_insert(tc, STORE_USERS, u) == STORE_OK);
	memcpy(up, idof(u), sizeof(up));
	for (i = 0; i < STORE_OID_LEN; i++)
		up[i] = (char)toupper((unsigned char)up[i]);
	TEST_ASSERT(store_get(tc, STORE_USERS, up, &got) == STORE_OK);
	TEST_ASSERT(strcmp(idof(got), idof(u)) == 0);
	json_decref(got);
	json_decref(u);

	return (0);
}

static int
test_dup_id(void)
{
	json_t		*u, *v;

	u = mk_user("dupid1@example.org");
	v = json_deep_copy(u);
	(void)json_object_set_new(v, "email", json_string("dupid2@x.org"));

	TEST_ASSERT(store_insert(tc, STORE_USERS, u) == STORE_OK);
	TEST_ASSERT(store_insert(tc, STORE_USERS, v) == STORE_DUPLICATE);
	TEST_ASSERT(store_insert(tc, STORE_USERS, u) == STORE_DUPLICATE);

	json_decref(u);
	json_decref(v);

	return (0);
}

static int
test_dup_email_insert(void)
{
	json_t		*u, *v, *got;

	u = mk_user("same@example.org");
	v = mk_user("same@example.org");

	TEST_ASSERT(store_insert(tc, STORE_USERS, u) == STORE_OK);
	TEST_ASSERT(store_insert(tc, STORE_USERS, v) == STORE_DUPLICATE);
	TEST_ASSERT(store_get(tc, STORE_USERS, idof(v), &got) ==
	    STORE_NOTFOUND);

	json_decref(u);
	json_decref(v);

	return (0);
}

static int
test_find_one(void)
{
	json_t		*u, *val, *got;

	u = mk_user("findme@example.org");
	TEST_ASSERT(store_insert(tc, STORE_USERS, u) == STORE_OK);

	val = json_string("findme@example.org");
	TEST_ASSERT(store_find_one(tc, STORE_USERS, "email", val, &got) ==
	    STORE_OK);
	TEST_ASSERT(json_equal(u, got));
	json_decref(got);
	json_decref(val);

	val = json_string("nobody@example.org");
	TEST_ASSERT(store_find_one(tc, STORE_USERS, "email", val, &got) ==
	    STORE_NOTFOUND);
	TEST_ASSERT(got == NULL);
	TEST_ASSERT(store_find_one(tc, STORE_USERS, "e-mail", val, &got) ==
	    STORE_ERROR);
	TEST_ASSERT(store_find_one(tc, STORE_USERS, "email", val, NULL) ==
	    STORE_ERROR);
	json_decref(val);

	/* By _id through find_one, and an ObjectId field with a non-hex. */
	val = json_string(idof(u));
	TEST_ASSERT(store_find_one(tc, STORE_USERS, "_id", val, &got) ==
	    STORE_OK);
	json_decref(got);
	json_decref(val);
	val = json_string("findme@example.org");
	TEST_ASSERT(store_find_one(tc, STORE_USERS, "_id", val, &got) ==
	    STORE_NOTFOUND);
	json_decref(val);

	json_decref(u);

	return (0);
}

static int
test_update(void)
{
	char		 owner[STORE_OID_LEN + 1], proj[STORE_OID_LEN + 1];
	json_t		*t, *set, *after, *got, *want;

	store_oid_new(owner);
	store_oid_new(proj);
	t = mk_todo(owner, proj, "before", 0, "2026-01-01T00:00:00.000Z");
	TEST_ASSERT(store_insert(tc, STORE_TODOS, t) == STORE_OK);

	set = json_pack("{s:s, s:b, s:s}", "title", "after", "completed", 1,
	    "updated", "2026-01-02T00:00:00.000Z");
	TEST_ASSERT(store_update(tc, STORE_TODOS, idof(t), set, &after) ==
	    STORE_OK);
	want = json_deep_copy(t);
	(void)json_object_update(want, set);
	TEST_ASSERT(json_equal(after, want));
	TEST_ASSERT(store_get(tc, STORE_TODOS, idof(t), &got) == STORE_OK);
	TEST_ASSERT(json_equal(got, want));
	json_decref(got);
	json_decref(after);
	json_decref(set);

	/* null removes the field ($unset); nested values replace whole. */
	set = json_pack("{s:n, s:{s:n, s:[i, i]}}", "projectId", "meta",
	    "a", "b", 1, 2);
	TEST_ASSERT(store_update(tc, STORE_TODOS, idof(t), set, NULL) ==
	    STORE_OK);
	(void)json_object_del(want, "projectId");
	(void)json_object_set(want, "meta", json_object_get(set, "meta"));
	TEST_ASSERT(store_get(tc, STORE_TODOS, idof(t), &got) == STORE_OK);
	TEST_ASSERT(json_object_get(got, "projectId") == NULL);
	TEST_ASSERT(json_equal(got, want));
	json_decref(got);
	json_decref(set);

	/* Removing a field that is not there is fine. */
	set = json_pack("{s:n}", "nothere");
	TEST_ASSERT(store_update(tc, STORE_TODOS, idof(t), set, &after) ==
	    STORE_OK);
	TEST_ASSERT(json_equal(after, want));
	json_decref(after);
	json_decref(set);

	/* An empty set returns the document as it is. */
	set = json_object();
	TEST_ASSERT(store_update(tc, STORE_TODOS, idof(t), set, &after) ==
	    STORE_OK);
	TEST_ASSERT(json_equal(after, want));
	json_decref(after);
	json_decref(set);

	json_decref(want);
	json_decref(t);

	return (0);
}

static int
test_update_missing(void)
{
	char		 id[STORE_OID_LEN + 1];
	json_t		*set, *after, *big, *sentinel;
	int		 i;
	char		 key[16];

	store_oid_new(id);
	set = json_pack("{s:s}", "title", "x");
	sentinel = json_object();
	after = sentinel;
	TEST_ASSERT(store_update(tc, STORE_TODOS, id, set, &after) ==
	    STORE_NOTFOUND);
	TEST_ASSERT(after == NULL);
	json_decref(sentinel);
	TEST_ASSERT(store_update(tc, STORE_TODOS, "nope", set, &after) ==
	    STORE_NOTFOUND);
	TEST_ASSERT(store_update(tc, STORE_TODOS, NULL, set, &after) ==
	    STORE_NOTFOUND);
	json_decref(set);

	set = json_pack("{s:s}", "_id", id);
	TEST_ASSERT(store_update(tc, STORE_TODOS, id, set, &after) ==
	    STORE_ERROR);
	json_decref(set);
	set = json_pack("{s:s}", "a.b", "x");
	TEST_ASSERT(store_update(tc, STORE_TODOS, id, set, &after) ==
	    STORE_ERROR);
	json_decref(set);
	set = json_pack("{s:s}", "x') --", "x");
	TEST_ASSERT(store_update(tc, STORE_TODOS, id, set, &after) ==
	    STORE_ERROR);
	json_decref(set);
	TEST_ASSERT(store_update(tc, STORE_TODOS, id, NULL, &after) ==
	    STORE_ERROR);

	big = json_object();
	for (i = 0; i <= STORE_SET_MAX; i++) {
		(void)snprintf(key, sizeof(key), "k%d", i);
		(void)json_object_set_new(big, key, json_integer(i));
	}
	TEST_ASSERT(store_update(tc, STORE_TODOS, id, big, &after) ==
	    STORE_ERROR);
	json_decref(big);

	return (0);
}

static int
test_update_dup_email(void)
{
	json_t		*u, *v, *set, *after, *got, *val;

	u = mk_user("first@example.org");
	v = mk_user("second@example.org");
	TEST_ASSERT(store_insert(tc, STORE_USERS, u) == STORE_OK);
	TEST_ASSERT(store_insert(tc, STORE_USERS, v) == STORE_OK);

	set = json_pack("{s:s, s:s}", "email", "first@example.org",
	    "updated", "2030-01-01T00:00:00.000Z");
	TEST_ASSERT(store_update(tc, STORE_USERS, idof(v), set, &after) ==
	    STORE_DUPLICATE);
	TEST_ASSERT(after == NULL);
	TEST_ASSERT(store_get(tc, STORE_USERS, idof(v), &got) == STORE_OK);
	TEST_ASSERT(json_equal(got, v));
	json_decref(got);
	json_decref(set);

	/* Own email again, then a free one. */
	set = json_pack("{s:s}", "email", "second@example.org");
	TEST_ASSERT(store_update(tc, STORE_USERS, idof(v), set, NULL) ==
	    STORE_OK);
	json_decref(set);
	set = json_pack("{s:s}", "email", "third@example.org");
	TEST_ASSERT(store_update(tc, STORE_USERS, idof(v), set, &after) ==
	    STORE_OK);
	TEST_ASSERT(strcmp(json_string_value(json_object_get(after, "email")),
	    "third@example.org") == 0);
	json_decref(after);
	json_decref(set);

	val = json_string("third@example.org");
	TEST_ASSERT(store_find_one(tc, STORE_USERS, "email", val, &got) ==
	    STORE_OK);
	TEST_ASSERT(strcmp(idof(got), idof(v)) == 0);
	json_decref(got);
	json_decref(val);
	val = json_string("second@example.org");
	TEST_ASSERT(store_find_one(tc, STORE_USERS, "email", val, &got) ==
	    STORE_NOTFOUND);
	json_decref(val);

	json_decref(u);
	json_decref(v);

	return (0);
}

/* Owner a: t0..t5, completed on odd ones, t0 and t1 in project p.
 * Owner b: three completed "b" todos and "zero" whose completed is 0. */
static int
list_fixture(char a[STORE_OID_LEN + 1], char b[STORE_OID_LEN + 1],
    char p[STORE_OID_LEN + 1])
{
	char		 title[16];
	json_t		*t;
	int		 n;

	store_oid_new(a);
	store_oid_new(b);
	store_oid_new(p);
	for (n = 0; n < 6; n++) {
		(void)snprintf(title, sizeof(title), "t%d", n);
		t = mk_todo(a, n < 2 ? p : NULL, title, n % 2, NULL);
		TEST_ASSERT(store_insert(tc, STORE_TODOS, t) == STORE_OK);
		json_decref(t);
	}
	for (n = 0; n < 3; n++) {
		t = mk_todo(b, NULL, "b", 1, NULL);
		TEST_ASSERT(store_insert(tc, STORE_TODOS, t) == STORE_OK);
		json_decref(t);
	}
	/* 0 is not false. */
	t = mk_todo(b, NULL, "zero", 0, NULL);
	(void)json_object_set_new(t, "completed", json_integer(0));
	TEST_ASSERT(store_insert(tc, STORE_TODOS, t) == STORE_OK);
	json_decref(t);

	return (0);
}

static int
test_list_filters(void)
{
	char			 a[STORE_OID_LEN + 1], b[STORE_OID_LEN + 1];
	char			 p[STORE_OID_LEN + 1], buf[256];
	struct store_filter	 f[2];
	json_t			*docs, *v1, *v2;
	size_t			 total;

	TEST_ASSERT(list_fixture(a, b, p) == 0);

	v1 = json_string(a);
	f[0].field = "ownerId";
	f[0].op = STORE_EQ;
	f[0].value = v1;
	TEST_ASSERT(list(STORE_TODOS, f, 1, NULL, 0, 0, 0, &docs, &total) ==
	    STORE_OK);
	titles(docs, buf, sizeof(buf));
	TEST_ASSERT(total == 6 && strcmp(buf, "t0,t1,t2,t3,t4,t5") == 0);
	json_decref(docs);

	/* Without total. */
	TEST_ASSERT(list(STORE_TODOS, f, 1, NULL, 0, 0, 0, &docs, NULL) ==
	    STORE_OK);
	TEST_ASSERT(json_array_size(docs) == 6);
	json_decref(docs);

	f[1].field = "completed";
	f[1].op = STORE_EQ;
	f[1].value = json_true();
	TEST_ASSERT(list(STORE_TODOS, f, 2, NULL, 0, 0, 0, &docs, &total) ==
	    STORE_OK);
	titles(docs, buf, sizeof(buf));
	TEST_ASSERT(total == 3 && strcmp(buf, "t1,t3,t5") == 0);
	json_decref(docs);

	v2 = json_string(b);
	f[0].value = v2;
	f[1].value = json_false();
	TEST_ASSERT(list(STORE_TODOS, f, 2, NULL, 0, 0, 0, &docs, &total) ==
	    STORE_OK);
	TEST_ASSERT(total == 0 && json_array_size(docs) == 0);
	json_decref(docs);
	f[1].value = json_integer(0);
	TEST_ASSERT(list(STORE_TODOS, f, 2, NULL, 0, 0, 0, &docs, &total) ==
	    STORE_OK);
	titles(docs, buf, sizeof(buf));
	TEST_ASSERT(total == 1 && strcmp(buf, "zero") == 0);
	json_decref(docs);
	f[0].value = v1;
	TEST_ASSERT(list(STORE_TODOS, f, 2, NULL, 0, 0, 0, &docs, &total) ==
	    STORE_OK);
	TEST_ASSERT(total == 0);
	json_decref(docs);
	json_decref(f[1].value);

	json_decref(v1);
	json_decref(v2);

	return (0);
}

static int
test_list_refs(void)
{
	char			 a[STORE_OID_LEN + 1], b[STORE_OID_LEN + 1];
	char			 p[STORE_OID_LEN + 1], up[STORE_OID_LEN + 1];
	char			 buf[256];
	struct store_filter	 f[2];
	json_t			*docs, *v1, *v2;
	size_t			 total, i;

	TEST_ASSERT(list_fixture(a, b, p) == 0);
	v1 = json_string(a);
	f[0].op = STORE_EQ;
	f[1].op = STORE_EQ;

	/* projectId, in either case of hex. */
	v2 = json_string(p);
	f[0].field = "projectId";
	f[0].value = v2;
	TEST_ASSERT(list(STORE_TODOS, f, 1, NULL, 0, 0, 0, &docs, &total) ==
	    STORE_OK);
	titles(docs, buf, sizeof(buf));
	TEST_ASSERT(total == 2 && strcmp(buf, "t0,t1") == 0);
	json_decref(docs);
	memcpy(up, p, sizeof(up));
	for (i = 0; i < STORE_OID_LEN; i++)
		up[i] = (char)toupper((unsigned char)up[i]);
	json_decref(v2);
	v2 = json_string(up);
	f[0].value = v2;
	TEST_ASSERT(list(STORE_TODOS, f, 1, NULL, 0, 0, 0, &docs, &total) ==
	    STORE_OK);
	TEST_ASSERT(total == 2);
	json_decref(docs);

	/* projectId null matches the todos without one. */
	f[0].field = "ownerId";
	f[0].value = v1;
	f[1].field = "projectId";
	f[1].value = json_null();
	TEST_ASSERT(list(STORE_TODOS, f, 2, NULL, 0, 0, 0, &docs, &total) ==
	    STORE_OK);
	titles(docs, buf, sizeof(buf));
	TEST_ASSERT(total == 4 && strcmp(buf, "t2,t3,t4,t5") == 0);
	json_decref(docs);

	/* Two filters on one field, ANDed. */
	f[1].field = "ownerId";
	f[1].value = v1;
	TEST_ASSERT(list(STORE_TODOS, f, 2, NULL, 0, 0, 0, &docs, &total) ==
	    STORE_OK);
	TEST_ASSERT(total == 6);
	json_decref(docs);
	f[1].value = json_string(b);
	TEST_ASSERT(list(STORE_TODOS, f, 2, NULL, 0, 0, 0, &docs, &total) ==
	    STORE_OK);
	TEST_ASSERT(total == 0);
	json_decref(docs);
	json_decref(f[1].value);

	/* Values that cannot be ObjectIds match nothing. */
	json_decref(v2);
	v2 = json_string("not-an-object-id");
	f[0].value = v2;
	docs = NULL;
	total = 99;
	TEST_ASSERT(list(STORE_TODOS, f, 1, NULL, 0, 0, 0, &docs, &total) ==
	    STORE_OK);
	TEST_ASSERT(total == 0 && json_array_size(docs) == 0);
	json_decref(docs);
	json_decref(v2);
	v2 = json_integer(123);
	f[0].value = v2;
	TEST_ASSERT(list(STORE_TODOS, f, 1, NULL, 0, 0, 0, &docs, &total) ==
	    STORE_OK);
	TEST_ASSERT(total == 0 && json_array_size(docs) == 0);
	json_decref(docs);

	/* A plain field with a string. */
	json_decref(v2);
	v2 = json_string("t4");
	f[0].field = "title";
	f[0].value = v2;
	f[1].field = "ownerId";
	f[1].value = v1;
	TEST_ASSERT(list(STORE_TODOS, f, 2, NULL, 0, 0, 0, &docs, &total) ==
	    STORE_OK);
	titles(docs, buf, sizeof(buf));
	TEST_ASSERT(total == 1 && strcmp(buf, "t4") == 0);
	json_decref(docs);

	json_decref(v1);
	json_decref(v2);

	return (0);
}

static int
test_list_sort(void)
{
	char			 a[STORE_OID_LEN + 1], title[16], when[48];
	char			 buf[256];
	struct store_filter	 f;
	json_t			*t, *docs, *v;
	size_t			 total;
	int			 n;
	/* Titles out of creation order; two of them tie. */
	const char		*names[] = { "c", "a", "e", "b", "d", "b" };

	store_oid_new(a);
	for (n = 0; n < 6; n++) {
		(void)snprintf(when, sizeof(when),
		    "2026-03-0%dT10:00:00.000Z", 6 - n);
		(void)snprintf(title, sizeof(title), "%s", names[n]);
		t = mk_todo(a, NULL, title, n >= 3, when);
		(void)json_object_set_new(t, "n", json_integer(n));
		TEST_ASSERT(store_insert(tc, STORE_TODOS, t) == STORE_OK);
		json_decref(t);
	}

	v = json_string(a);
	f.field = "ownerId";
	f.op = STORE_EQ;
	f.value = v;

	/* Ties on title keep _id (creation) order, in the sort direction. */
	TEST_ASSERT(list(STORE_TODOS, &f, 1, "title", 0, 0, 0, &docs,
	    &total) == STORE_OK);
	titles(docs, buf, sizeof(buf));
	TEST_ASSERT(strcmp(buf, "a,b,b,c,d,e") == 0);
	TEST_ASSERT(json_integer_value(json_object_get(json_array_get(docs, 1),
	    "n")) == 3);
	json_decref(docs);
	TEST_ASSERT(list(STORE_TODOS, &f, 1, "title", 1, 0, 0, &docs,
	    &total) == STORE_OK);
	titles(docs, buf, sizeof(buf));
	TEST_ASSERT(strcmp(buf, "e,d,c,b,b,a") == 0);
	TEST_ASSERT(json_integer_value(json_object_get(json_array_get(docs, 3),
	    "n")) == 5);
	json_decref(docs);

	/* Dates sort chronologically: created runs backwards here. */
	TEST_ASSERT(list(STORE_TODOS, &f, 1, "created", 0, 0, 0, &docs,
	    &total) == STORE_OK);
	titles(docs, buf, sizeof(buf));
	TEST_ASSERT(strcmp(buf, "b,d,b,e,a,c") == 0);
	json_decref(docs);
	TEST_ASSERT(list(STORE_TODOS, &f, 1, "created", 1, 2, 1, &docs,
	    &total) == STORE_OK);
	titles(docs, buf, sizeof(buf));
	TEST_ASSERT(total == 6 && strcmp(buf, "a,e") == 0);
	json_decref(docs);

	/* Booleans: false first, ties by _id. */
	TEST_ASSERT(list(STORE_TODOS, &f, 1, "completed", 0, 0, 0, &docs,
	    &total) == STORE_OK);
	titles(docs, buf, sizeof(buf));
	TEST_ASSERT(strcmp(buf, "c,a,e,b,d,b") == 0);
	json_decref(docs);
	TEST_ASSERT(list(STORE_TODOS, &f, 1, "completed", 1, 0, 0, &docs,
	    &total) == STORE_OK);
	titles(docs, buf, sizeof(buf));
	TEST_ASSERT(strcmp(buf, "b,d,b,e,a,c") == 0);
	json_decref(docs);

	/* Numbers, _id, limit and skip, skip past the end. */
	TEST_ASSERT(list(STORE_TODOS, &f, 1, "n", 1, 3, 0, &docs,
	    &total) == STORE_OK);
	titles(docs, buf, sizeof(buf));
	TEST_ASSERT(total == 6 && strcmp(buf, "b,d,b") == 0);
	json_decref(docs);
	TEST_ASSERT(list(STORE_TODOS, &f, 1, "_id", 1, 0, 4, &docs,
	    &total) == STORE_OK);
	titles(docs, buf, sizeof(buf));
	TEST_ASSERT(total == 6 && strcmp(buf, "a,c") == 0);
	json_decref(docs);
	TEST_ASSERT(list(STORE_TODOS, &f, 1, NULL, 0, 10, 6, &docs,
	    &total) == STORE_OK);
	TEST_ASSERT(total == 6 && json_array_size(docs) == 0);
	json_decref(docs);

	json_decref(v);

	return (0);
}

static int
test_contains(void)
{
	char			 a[STORE_OID_LEN + 1], b[STORE_OID_LEN + 1];
	char			 c[STORE_OID_LEN + 1], up[STORE_OID_LEN + 1];
	struct store_filter	 f;
	json_t			*p1, *p2, *p3, *docs, *v;
	size_t			 total, i;

	store_oid_new(a);
	store_oid_new(b);
	store_oid_new(c);
	p1 = mk_project(a, "p1", b);
	p2 = mk_project(b, "p2", NULL);
	p3 = mk_project(a, "p3", NULL);
	TEST_ASSERT(store_insert(tc, STORE_PROJECTS, p1) == STORE_OK);
	TEST_ASSERT(store_insert(tc, STORE_PROJECTS, p2) == STORE_OK);
	TEST_ASSERT(store_insert(tc, STORE_PROJECTS, p3) == STORE_OK);

	v = json_string(a);
	f.field = "members";
	f.op = STORE_CONTAINS;
	f.value = v;
	TEST_ASSERT(list(STORE_PROJECTS, &f, 1, "name", 0, 0, 0, &docs,
	    &total) == STORE_OK);
	TEST_ASSERT(total == 2 && json_array_size(docs) == 2);
	TEST_ASSERT(strcmp(json_string_value(json_object_get(
	    json_array_get(docs, 0), "name")), "p1") == 0);
	TEST_ASSERT(json_equal(json_array_get(docs, 0), p1));
	json_decref(docs);
	json_decref(v);

	v = json_string(b);
	f.value = v;
	TEST_ASSERT(list(STORE_PROJECTS, &f, 1, "name", 1, 0, 0, &docs,
	    &total) == STORE_OK);
	TEST_ASSERT(total == 2);
	TEST_ASSERT(strcmp(json_string_value(json_object_get(
	    json_array_get(docs, 0), "name")), "p2") == 0);
	json_decref(docs);
	json_decref(v);

	memcpy(up, a, sizeof(up));
	for (i = 0; i < STORE_OID_LEN; i++)
		up[i] = (char)toupper((unsigned char)up[i]);
	v = json_string(up);
	f.value = v;
	TEST_ASSERT(list(STORE_PROJECTS, &f, 1, NULL, 0, 0, 0, &docs,
	    &total) == STORE_OK);
	TEST_ASSERT(total == 2);
	json_decref(docs);
	json_decref(v);

	v = json_string(c);
	f.value = v;
	TEST_ASSERT(list(STORE_PROJECTS, &f, 1, NULL, 0, 0, 0, &docs,
	    &total) == STORE_OK);
	TEST_ASSERT(total == 0 && json_array_size(docs) == 0);
	json_decref(docs);
	json_decref(v);

	v = json_string("bad");
	f.value = v;
	TEST_ASSERT(list(STORE_PROJECTS, &f, 1, NULL, 0, 0, 0, &docs,
	    &total) == STORE_OK);
	TEST_ASSERT(total == 0);
	json_decref(docs);
	json_decref(v);

	/* CONTAINS on a plain array of strings. */
	(void)json_object_set_new(p2, "tags", json_pack("[s, s]", "x", "y"));
	v = json_pack("{s:[s, s]}", "tags", "x", "y");
	TEST_ASSERT(store_update(tc, STORE_PROJECTS, idof(p2), v, NULL) ==
	    STORE_OK);
	json_decref(v);
	v = json_string("y");
	f.field = "tags";
	f.value = v;
	TEST_ASSERT(list(STORE_PROJECTS, &f, 1, NULL, 0, 0, 0, &docs,
	    &total) == STORE_OK);
	TEST_ASSERT(total == 1);
	TEST_ASSERT(json_equal(json_array_get(docs, 0), p2));
	json_decref(docs);
	json_decref(v);

	/* Membership follows updates and deletes. */
	v = json_pack("{s:[s]}", "members", c);
	TEST_ASSERT(store_update(tc, STORE_PROJECTS, idof(p3), v, NULL) ==
	    STORE_OK);
	json_decref(v);
	v = json_string(c);
	f.field = "members";
	f.value = v;
	TEST_ASSERT(list(STORE_PROJECTS, &f, 1, NULL, 0, 0, 0, &docs,
	    &total) == STORE_OK);
	TEST_ASSERT(total == 1 && strcmp(idof(json_array_get(docs, 0)),
	    idof(p3)) == 0);
	json_decref(docs);
	json_decref(v);
	TEST_ASSERT(store_delete(tc, STORE_PROJECTS, idof(p1)) == STORE_OK);
	v = json_string(a);
	f.value = v;
	TEST_ASSERT(list(STORE_PROJECTS, &f, 1, NULL, 0, 0, 0, &docs,
	    &total) == STORE_OK);
	TEST_ASSERT(total == 0);
	json_decref(docs);
	json_decref(v);

	json_decref(p1);
	json_decref(p2);
	json_decref(p3);

	return (0);
}

static int
test_delete(void)
{
	char		 owner[STORE_OID_LEN + 1];
	json_t		*t, *got;

	store_oid_new(owner);
	t = mk_todo(owner, NULL, "doomed", 0, NULL);
	TEST_ASSERT(store_insert(tc, STORE_TODOS, t) == STORE_OK);
	TEST_ASSERT(store_delete(tc, STORE_TODOS, idof(t)) == STORE_OK);
	TEST_ASSERT(store_delete(tc, STORE_TODOS, idof(t)) == STORE_NOTFOUND);
	TEST_ASSERT(store_get(tc, STORE_TODOS, idof(t), &got) ==
	    STORE_NOTFOUND);
	TEST_ASSERT(store_delete(tc, STORE_TODOS, "junk") == STORE_NOTFOUND);
	TEST_ASSERT(store_delete(tc, STORE_TODOS, NULL) == STORE_NOTFOUND);
	TEST_ASSERT(store_delete(tc, STORE_USERS, owner) == STORE_NOTFOUND);
	json_decref(t);

	return (0);
}

static int
test_delete_where(void)
{
	char		 owner[STORE_OID_LEN + 1], p[STORE_OID_LEN + 1];
	json_t		*t, *v, *keep;
	size_t		 n;
	int		 i;

	store_oid_new(owner);
	store_oid_new(p);
	for (i = 0; i < 3; i++) {
		t = mk_todo(owner, p, "in p", 0, NULL);
		TEST_ASSERT(store_insert(tc, STORE_TODOS, t) == STORE_OK);
		json_decref(t);
	}
	keep = mk_todo(owner, NULL, "keep", 0, NULL);
	TEST_ASSERT(store_insert(tc, STORE_TODOS, keep) == STORE_OK);

	v = json_string(p);
	TEST_ASSERT(store_delete_where(tc, STORE_TODOS, "projectId", v, &n) ==
	    STORE_OK);
	TEST_ASSERT(n == 3);
	TEST_ASSERT(store_delete_where(tc, STORE_TODOS, "projectId", v, &n) ==
	    STORE_OK);
	TEST_ASSERT(n == 0);
	TEST_ASSERT(store_delete_where(tc, STORE_TODOS, "projectId", v,
	    NULL) == STORE_OK);
	json_decref(v);

	v = json_string("zz");
	n = 7;
	TEST_ASSERT(store_delete_where(tc, STORE_TODOS, "ownerId", v, &n) ==
	    STORE_OK);
	TEST_ASSERT(n == 0);
	json_decref(v);
	v = json_pack("[s]", p);
	TEST_ASSERT(store_delete_where(tc, STORE_TODOS, "projectId", v, &n) ==
	    STORE_ERROR);
	json_decref(v);

	TEST_ASSERT(store_get(tc, STORE_TODOS, idof(keep), &t) == STORE_OK);
	json_decref(t);
	json_decref(keep);

	return (0);
}

static int
test_cascade(void)
{
	char		 owner[STORE_OID_LEN + 1];
	json_t		*r, *s, *t1, *t2, *t3, *got;
	size_t		 n;

	store_oid_new(owner);
	r = mk_project(owner, "r", NULL);
	s = mk_project(owner, "s", NULL);
	TEST_ASSERT(store_insert(tc, STORE_PROJECTS, r) == STORE_OK);
	TEST_ASSERT(store_insert(tc, STORE_PROJECTS, s) == STORE_OK);
	t1 = mk_todo(owner, idof(r), "r1", 0, NULL);
	t2 = mk_todo(owner, idof(r), "r2", 0, NULL);
	t3 = mk_todo(owner, idof(s), "s1", 0, NULL);
	TEST_ASSERT(store_insert(tc, STORE_TODOS, t1) == STORE_OK);
	TEST_ASSERT(store_insert(tc, STORE_TODOS, t2) == STORE_OK);
	TEST_ASSERT(store_insert(tc, STORE_TODOS, t3) == STORE_OK);

	TEST_ASSERT(store_delete_project(tc, idof(r), &n) == STORE_OK);
	TEST_ASSERT(n == 2);
	TEST_ASSERT(store_get(tc, STORE_PROJECTS, idof(r), &got) ==
	    STORE_NOTFOUND);
	TEST_ASSERT(store_get(tc, STORE_TODOS, idof(t1), &got) ==
	    STORE_NOTFOUND);
	TEST_ASSERT(store_get(tc, STORE_TODOS, idof(t2), &got) ==
	    STORE_NOTFOUND);
	TEST_ASSERT(store_get(tc, STORE_TODOS, idof(t3), &got) == STORE_OK);
	json_decref(got);
	TEST_ASSERT(store_get(tc, STORE_PROJECTS, idof(s), &got) == STORE_OK);
	json_decref(got);

	n = 5;
	TEST_ASSERT(store_delete_project(tc, idof(r), &n) == STORE_NOTFOUND);
	TEST_ASSERT(n == 0);
	TEST_ASSERT(store_delete_project(tc, "x", &n) == STORE_NOTFOUND);
	/* A missing project leaves todos naming it alone. */
	TEST_ASSERT(store_delete_project(tc, owner, NULL) == STORE_NOTFOUND);
	TEST_ASSERT(store_delete_project(tc, idof(s), NULL) == STORE_OK);
	TEST_ASSERT(store_get(tc, STORE_TODOS, idof(t3), &got) ==
	    STORE_NOTFOUND);

	json_decref(r);
	json_decref(s);
	json_decref(t1);
	json_decref(t2);
	json_decref(t3);

	return (0);
}

static int
test_unicode(void)
{
	const char		*title = "h\xc3\xa9llo w\xc3\xb6rld "
	    "\xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e "
	    "\xf0\x9f\x98\x80 \"q\" \\ / \t\n end";
	const char		*email = "\xc3\xbcn\xc3\xaf@\xe4\xbe\x8b"
	    "\xe3\x81\x88.jp";
	char			 owner[STORE_OID_LEN + 1];
	struct store_filter	 f;
	json_t			*u, *t, *got, *v, *docs, *set;
	size_t			 total;

	u = mk_user(email);
	TEST_ASSERT(store_insert(tc, STORE_USERS, u) == STORE_OK);
	v = json_string(email);
	TEST_ASSERT(store_find_one(tc, STORE_USERS, "email", v, &got) ==
	    STORE_OK);
	TEST_ASSERT(json_equal(got, u));
	json_decref(got);
	json_decref(v);

	store_oid_new(owner);
	t = mk_todo(owner, NULL, title, 0, NULL);
	TEST_ASSERT(store_insert(tc, STORE_TODOS, t) == STORE_OK);
	TEST_ASSERT(store_get(tc, STORE_TODOS, idof(t), &got) == STORE_OK);
	TEST_ASSERT(strcmp(json_string_value(json_object_get(got, "title")),
	    title) == 0);
	json_decref(got);

	v = json_string(title);
	f.field = "title";
	f.op = STORE_EQ;
	f.value = v;
	TEST_ASSERT(list(STORE_TODOS, &f, 1, NULL, 0, 0, 0, &docs, &total) ==
	    STORE_OK);
	TEST_ASSERT(total == 1 && json_equal(json_array_get(docs, 0), t));
	json_decref(docs);
	json_decref(v);

	set = json_pack("{s:s}", "title", "\xd0\x9f\xd1\x80\xd0\xb8"
	    "\xd0\xb2\xd0\xb5\xd1\x82 'x'");
	TEST_ASSERT(store_update(tc, STORE_TODOS, idof(t), set, &got) ==
	    STORE_OK);
	TEST_ASSERT(json_equal(json_object_get(got, "title"),
	    json_object_get(set, "title")));
	json_decref(got);
	json_decref(set);

	json_decref(u);
	json_decref(t);

	return (0);
}

static int
test_dates(void)
{
	char			 owner[STORE_OID_LEN + 1];
	struct store_filter	 f;
	json_t			*t, *got, *v, *docs, *set;
	size_t			 total;

	/* Dates come back in the canonical form on both backends. */
	store_oid_new(owner);
	t = mk_todo(owner, NULL, "dated", 0, "2026-01-02T03:04:05Z");
	(void)json_object_set_new(t, "updated",
	    json_string("2026-01-02T04:04:05.1+01:00"));
	TEST_ASSERT(store_insert(tc, STORE_TODOS, t) == STORE_OK);
	TEST_ASSERT(store_get(tc, STORE_TODOS, idof(t), &got) == STORE_OK);
	TEST_ASSERT(strcmp(json_string_value(json_object_get(got, "created")),
	    "2026-01-02T03:04:05.000Z") == 0);
	TEST_ASSERT(strcmp(json_string_value(json_object_get(got, "updated")),
	    "2026-01-02T03:04:05.100Z") == 0);
	json_decref(got);

	/* Filters on dates convert too; bad dates match nothing. */
	v = json_string("2026-01-02T03:04:05+00:00");
	f.field = "created";
	f.op = STORE_EQ;
	f.value = v;
	TEST_ASSERT(list(STORE_TODOS, &f, 1, NULL, 0, 0, 0, &docs, &total) ==
	    STORE_OK);
	TEST_ASSERT(total == 1);
	json_decref(docs);
	json_decref(v);
	v = json_string("yesterday");
	f.value = v;
	TEST_ASSERT(list(STORE_TODOS, &f, 1, NULL, 0, 0, 0, &docs, &total) ==
	    STORE_OK);
	TEST_ASSERT(total == 0);
	json_decref(docs);
	json_decref(v);

	/* Updates convert dates as well. */
	set = json_pack("{s:s}", "updated", "2027-05-05T05:05:05Z");
	TEST_ASSERT(store_update(tc, STORE_TODOS, idof(t), set, &got) ==
	    STORE_OK);
	TEST_ASSERT(strcmp(json_string_value(json_object_get(got, "updated")),
	    "2027-05-05T05:05:05.000Z") == 0);
	json_decref(got);
	json_decref(set);
	json_decref(t);

	/* A string that is no date is kept as it is. */
	t = mk_todo(owner, NULL, "undated", 0, "not a date");
	TEST_ASSERT(store_insert(tc, STORE_TODOS, t) == STORE_OK);
	TEST_ASSERT(store_get(tc, STORE_TODOS, idof(t), &got) == STORE_OK);
	TEST_ASSERT(json_equal(got, t));
	json_decref(got);
	json_decref(t);

	return (0);
}

static int
test_bad_input(void)
{
	char			 id[STORE_OID_LEN + 1];
	json_t			*doc, *v, *got;

	doc = mk_user("bad@example.org");
	TEST_ASSERT(store_insert(NULL, STORE_USERS, doc) == STORE_ERROR);
	TEST_ASSERT(store_insert(tc, (enum store_coll)99, doc) ==
	    STORE_ERROR);
	TEST_ASSERT(store_insert(tc, (enum store_coll)-1, doc) ==
	    STORE_ERROR);
	TEST_ASSERT(store_insert(tc, STORE_USERS, NULL) == STORE_ERROR);
	v = json_array();
	TEST_ASSERT(store_insert(tc, STORE_USERS, v) == STORE_ERROR);
	json_decref(v);

	(void)json_object_set_new(doc, "_id", json_string("nothex"));
	TEST_ASSERT(store_insert(tc, STORE_USERS, doc) == STORE_ERROR);
	(void)json_object_set_new(doc, "_id", json_integer(5));
	TEST_ASSERT(store_insert(tc, STORE_USERS, doc) == STORE_ERROR);
	(void)json_object_del(doc, "_id");
	TEST_ASSERT(store_insert(tc, STORE_USERS, doc) == STORE_ERROR);
	store_oid_new(id);
	(void)json_object_set_new(doc, "_id", json_string(id));
	(void)json_object_set_new(doc, "$where", json_string("1"));
	TEST_ASSERT(store_insert(tc, STORE_USERS, doc) == STORE_ERROR);
	(void)json_object_del(doc, "$where");
	(void)json_object_set_new(doc, "a.b", json_string("1"));
	TEST_ASSERT(store_insert(tc, STORE_USERS, doc) == STORE_ERROR);
	TEST_ASSERT(store_get(tc, STORE_USERS, id, &got) == STORE_NOTFOUND);
	json_decref(doc);

	TEST_ASSERT(store_get(tc, (enum store_coll)7, id, &got) ==
	    STORE_ERROR);
	TEST_ASSERT(store_get(tc, STORE_USERS, id, NULL) == STORE_ERROR);
	TEST_ASSERT(store_get(NULL, STORE_USERS, id, &got) == STORE_ERROR);

	return (0);
}

static int
test_bad_query(void)
{
	struct store_filter	 f[STORE_FILTER_MAX + 1];
	struct store_query	 q;
	char			 id[STORE_OID_LEN + 1];
	json_t			*v, *docs;
	size_t			 total, i;

	store_oid_new(id);
	v = json_string("x");
	for (i = 0; i <= STORE_FILTER_MAX; i++) {
		f[i].field = "title";
		f[i].op = STORE_EQ;
		f[i].value = v;
	}
	TEST_ASSERT(list(STORE_TODOS, f, STORE_FILTER_MAX + 1, NULL, 0, 0, 0,
	    &docs, &total) == STORE_ERROR);
	TEST_ASSERT(docs == NULL && total == 0);
	TEST_ASSERT(list(STORE_TODOS, f, STORE_FILTER_MAX, NULL, 0, 0, 0,
	    &docs, &total) == STORE_OK);
	json_decref(docs);
	TEST_ASSERT(list(STORE_TODOS, NULL, 1, NULL, 0, 0, 0, &docs,
	    &total) == STORE_ERROR);
	TEST_ASSERT(list(STORE_TODOS, f, 1, "a.b", 0, 0, 0, &docs, &total) ==
	    STORE_ERROR);
	TEST_ASSERT(list(STORE_TODOS, f, 1, "", 0, 0, 0, &docs, &total) ==
	    STORE_ERROR);
	TEST_ASSERT(list(STORE_TODOS, f, 1, "x' DESC; DROP TABLE todos --",
	    0, 0, 0, &docs, &total) == STORE_ERROR);
	f[0].field = "$where";
	TEST_ASSERT(list(STORE_TODOS, f, 1, NULL, 0, 0, 0, &docs, &total) ==
	    STORE_ERROR);
	f[0].field = NULL;
	TEST_ASSERT(list(STORE_TODOS, f, 1, NULL, 0, 0, 0, &docs, &total) ==
	    STORE_ERROR);
	f[0].field = "title";
	f[0].op = (enum store_op)9;
	TEST_ASSERT(list(STORE_TODOS, f, 1, NULL, 0, 0, 0, &docs, &total) ==
	    STORE_ERROR);
	f[0].op = STORE_EQ;
	f[0].value = NULL;
	TEST_ASSERT(list(STORE_TODOS, f, 1, NULL, 0, 0, 0, &docs, &total) ==
	    STORE_ERROR);
	f[0].value = json_pack("{s:s}", "$ne", "x");
	TEST_ASSERT(list(STORE_TODOS, f, 1, NULL, 0, 0, 0, &docs, &total) ==
	    STORE_ERROR);
	json_decref(f[0].value);
	f[0].value = v;
	memset(&q, 0, sizeof(q));
	TEST_ASSERT(store_list(tc, STORE_TODOS, &q, NULL, &total) ==
	    STORE_ERROR);
	TEST_ASSERT(store_list(tc, STORE_TODOS, NULL, &docs, &total) ==
	    STORE_ERROR);
	TEST_ASSERT(store_list(NULL, STORE_TODOS, &q, &docs, &total) ==
	    STORE_ERROR);
	json_decref(v);

	/* No such field: an empty result, not an error. */
	v = json_string("x");
	f[0].field = "noSuchField";
	f[0].value = v;
	TEST_ASSERT(list(STORE_TODOS, f, 1, "noSuchField", 0, 0, 0, &docs,
	    &total) == STORE_OK);
	TEST_ASSERT(total == 0);
	json_decref(docs);
	json_decref(v);

	TEST_ASSERT(store_delete_where(tc, STORE_TODOS, "a b", NULL, NULL) ==
	    STORE_ERROR);
	TEST_ASSERT(store_delete(NULL, STORE_TODOS, id) == STORE_ERROR);
	TEST_ASSERT(store_delete_project(NULL, id, NULL) == STORE_ERROR);
	store_release(NULL);

	return (0);
}

static void *
race_thread(void *arg)
{
	struct race		*r = arg;
	struct store_conn	*c;
	json_t			*doc;
	int			 i;

	r->contested = STORE_ERROR;
	if ((c = store_acquire()) == NULL)
		return (NULL);

	for (i = 0; i < RACE_DOCS; i++) {
		doc = mk_todo(r->owner, NULL, "race", i % 2, NULL);
		if (store_insert(c, STORE_TODOS, doc) == STORE_OK)
			r->inserted++;
		json_decref(doc);
	}

	/* Everyone signs up with the same email at once. */
	doc = mk_user("race@example.org");
	(void)pthread_barrier_wait(r->barrier);
	r->contested = store_insert(c, STORE_USERS, doc);
	json_decref(doc);

	store_release(c);

	return (NULL);
}

static int
test_concurrency(void)
{
	pthread_barrier_t	 barrier;
	pthread_t		 th[RACE_THREADS];
	struct race		 r[RACE_THREADS];
	struct store_filter	 f;
	json_t			*v, *docs;
	size_t			 total;
	int			 i, ok, dup;

	TEST_ASSERT(pthread_barrier_init(&barrier, NULL, RACE_THREADS) == 0);
	memset(r, 0, sizeof(r));
	for (i = 0; i < RACE_THREADS; i++) {
		r[i].barrier = &barrier;
		store_oid_new(r[i].owner);
		TEST_ASSERT(pthread_create(&th[i], NULL, race_thread,
		    &r[i]) == 0);
	}

	ok = dup = 0;
	for (i = 0; i < RACE_THREADS; i++) {
		TEST_ASSERT(pthread_join(th[i], NULL) == 0);
		TEST_ASSERT(r[i].inserted == RACE_DOCS);
		ok += r[i].contested == STORE_OK;
		dup += r[i].contested == STORE_DUPLICATE;
	}
	(void)pthread_barrier_destroy(&barrier);
	TEST_ASSERT(ok == 1 && dup == RACE_THREADS - 1);

	for (i = 0; i < RACE_THREADS; i++) {
		v = json_string(r[i].owner);
		f.field = "ownerId";
		f.op = STORE_EQ;
		f.value = v;
		TEST_ASSERT(list(STORE_TODOS, &f, 1, NULL, 0, 5, 0, &docs,
		    &total) == STORE_OK);
		TEST_ASSERT(total == RACE_DOCS && json_array_size(docs) == 5);
		json_decref(docs);
		json_decref(v);
	}

	return (0);
}

/*
 * A committed write survives kill -9: a child inserts and SIGKILLs itself
 * the moment insert returns; the parent reopens the file and finds it.
 */
static int
test_sqlite_kill9(void)
{
	char		 id[STORE_OID_LEN + 1];
	json_t		*t, *got;
	pid_t		 pid;
	int		 status;

	store_oid_new(id);
	store_release(tc);
	tc = NULL;
	store_global_cleanup();

	(void)fflush(stdout);
	if ((pid = fork()) == 0) {
		if (store_global_init(&cfg) != STORE_OK ||
		    (tc = store_acquire()) == NULL)
			_exit(2);
		t = mk_todo(id, NULL, "survivor", 0, NULL);
		(void)json_object_set_new(t, "_id", json_string(id));
		if (store_insert(tc, STORE_TODOS, t) == STORE_OK)
			(void)kill(getpid(), SIGKILL);
		_exit(3);
	}
	TEST_ASSERT(pid > 0);
	TEST_ASSERT(waitpid(pid, &status, 0) == pid);
	TEST_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	TEST_ASSERT(store_global_init(&cfg) == STORE_OK);
	TEST_ASSERT((tc = store_acquire()) != NULL);
	TEST_ASSERT(store_get(tc, STORE_TODOS, id, &got) == STORE_OK);
	TEST_ASSERT(strcmp(json_string_value(json_object_get(got, "title")),
	    "survivor") == 0);
	json_decref(got);

	return (0);
}

/*
 * Kore runs several worker processes on one file. PROCS children open a
 * fresh database at the same moment (WAL switch and schema race), insert
 * RACE_DOCS todos each and race for one email; exactly one must win.
 */
static int
test_sqlite_processes(void)
{
	struct store_config	 saved;
	char			 path[300], side[320], owner[STORE_OID_LEN + 1];
	struct store_filter	 f;
	json_t			*v, *docs;
	pid_t			 pid[PROCS];
	size_t			 total;
	int			 go[2], i, status, won, lost;
	char			 c;

	saved = cfg;
	store_release(tc);
	tc = NULL;
	store_global_cleanup();

	(void)snprintf(path, sizeof(path), "%s-procs", sqlite_path);
	(void)unlink(path);
	cfg.sqlite_path = path;
	store_oid_new(owner);

	TEST_ASSERT(pipe(go) == 0);
	(void)fflush(stdout);
	for (i = 0; i < PROCS; i++) {
		if ((pid[i] = fork()) == 0) {
			(void)close(go[1]);
			if (read(go[0], &c, 1) != 0)
				_exit(9);
			_exit(proc_child(i));
		}
		TEST_ASSERT(pid[i] > 0);
	}
	/* Closing the pipe starts them all at once. */
	(void)close(go[0]);
	(void)close(go[1]);

	won = lost = 0;
	for (i = 0; i < PROCS; i++) {
		TEST_ASSERT(waitpid(pid[i], &status, 0) == pid[i]);
		TEST_ASSERT(WIFEXITED(status));
		won += WEXITSTATUS(status) == 0;
		lost += WEXITSTATUS(status) == 1;
	}
	TEST_ASSERT(won == 1 && lost == PROCS - 1);

	TEST_ASSERT(store_global_init(&cfg) == STORE_OK);
	TEST_ASSERT((tc = store_acquire()) != NULL);
	v = json_string("procs@example.org");
	TEST_ASSERT(store_find_one(tc, STORE_USERS, "email", v, &docs) ==
	    STORE_OK);
	json_decref(docs);
	json_decref(v);
	v = json_string("race");
	f.field = "title";
	f.op = STORE_EQ;
	f.value = v;
	TEST_ASSERT(list(STORE_TODOS, &f, 1, NULL, 0, 1, 0, &docs, &total) ==
	    STORE_OK);
	TEST_ASSERT(total == PROCS * RACE_DOCS);
	json_decref(docs);
	json_decref(v);
	store_release(tc);
	tc = NULL;
	store_global_cleanup();

	(void)unlink(path);
	(void)snprintf(side, sizeof(side), "%s-wal", path);
	(void)unlink(side);
	(void)snprintf(side, sizeof(side), "%s-shm", path);
	(void)unlink(side);

	cfg = saved;
	TEST_ASSERT(store_global_init(&cfg) == STORE_OK);
	TEST_ASSERT((tc = store_acquire()) != NULL);

	return (0);
}

/* Exit status: 0 won the email, 1 lost it, 2 and up failed. */
static int
proc_child(int n)
{
	char		 owner[STORE_OID_LEN + 1];
	json_t		*doc;
	int		 i, rc;

	(void)n;
	if (store_global_init(&cfg) != STORE_OK ||
	    (tc = store_acquire()) == NULL)
		return (2);

	store_oid_new(owner);
	for (i = 0; i < RACE_DOCS; i++) {
		doc = mk_todo(owner, NULL, "race", 0, NULL);
		rc = store_insert(tc, STORE_TODOS, doc);
		json_decref(doc);
		if (rc != STORE_OK)
			return (3);
	}

	doc = mk_user("procs@example.org");
	switch (store_insert(tc, STORE_USERS, doc)) {
	case STORE_OK:
		rc = 0;
		break;
	case STORE_DUPLICATE:
		rc = 1;
		break;
	default:
		rc = 4;
		break;
	}
	json_decref(doc);
	store_release(tc);
	store_global_cleanup();

	return (rc);
}

static int
raw_get(const char *coll, const char *id, bson_t *out)
{
	mongoc_collection_t	*c;
	mongoc_cursor_t		*cur;
	const bson_t		*doc;
	bson_t			*filter;
	bson_oid_t		 oid;
	int			 found;

	bson_oid_init_from_string(&oid, id);
	filter = BCON_NEW("_id", BCON_OID(&oid));
	c = mongoc_client_get_collection(raw_client, raw_db, coll);
	cur = mongoc_collection_find_with_opts(c, filter, NULL, NULL);
	found = 0;
	if (mongoc_cursor_next(cur, &doc)) {
		bson_copy_to(doc, out);
		found = 1;
	}
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(c);
	bson_destroy(filter);

	return (found);
}

static int
raw_type(const bson_t *b, const char *key, bson_type_t type)
{
	bson_iter_t	it;

	return (bson_iter_init_find(&it, b, key) &&
	    bson_iter_type(&it) == type);
}

/* The schema's fields are stored with Terreno's (mongoose's) BSON types. */
static int
test_mongo_types(void)
{
	char		 owner[STORE_OID_LEN + 1], other[STORE_OID_LEN + 1];
	json_t		*p, *t;
	bson_t		 b;
	bson_iter_t	 it, arr;
	bson_oid_t	 oid;
	int		 n;

	store_oid_new(owner);
	store_oid_new(other);
	p = mk_project(owner, "typed", other);
	TEST_ASSERT(store_insert(tc, STORE_PROJECTS, p) == STORE_OK);
	t = mk_todo(owner, idof(p), "typed", 1, "2023-11-14T22:13:20.123Z");
	(void)json_object_set_new(t, "small", json_integer(7));
	(void)json_object_set_new(t, "large", json_integer(1LL << 40));
	(void)json_object_set_new(t, "ratio", json_real(1.5));
	TEST_ASSERT(store_insert(tc, STORE_TODOS, t) == STORE_OK);

	TEST_ASSERT(raw_get("todos", idof(t), &b));
	TEST_ASSERT(raw_type(&b, "_id", BSON_TYPE_OID));
	TEST_ASSERT(raw_type(&b, "ownerId", BSON_TYPE_OID));
	TEST_ASSERT(raw_type(&b, "projectId", BSON_TYPE_OID));
	TEST_ASSERT(raw_type(&b, "created", BSON_TYPE_DATE_TIME));
	TEST_ASSERT(raw_type(&b, "updated", BSON_TYPE_DATE_TIME));
	TEST_ASSERT(raw_type(&b, "title", BSON_TYPE_UTF8));
	TEST_ASSERT(raw_type(&b, "completed", BSON_TYPE_BOOL));
	TEST_ASSERT(raw_type(&b, "small", BSON_TYPE_INT32));
	TEST_ASSERT(raw_type(&b, "ratio", BSON_TYPE_DOUBLE));
	TEST_ASSERT(bson_iter_init_find(&it, &b, "created") &&
	    bson_iter_date_time(&it) == 1700000000123LL);
	TEST_ASSERT(bson_iter_init_find(&it, &b, "projectId"));
	bson_oid_init_from_string(&oid, idof(p));
	TEST_ASSERT(bson_oid_equal(bson_iter_oid(&it), &oid));
	TEST_ASSERT(bson_iter_init_find(&it, &b, "large") &&
	    bson_iter_as_int64(&it) == (1LL << 40));
	bson_destroy(&b);

	TEST_ASSERT(raw_get("projects", idof(p), &b));
	TEST_ASSERT(raw_type(&b, "members", BSON_TYPE_ARRAY));
	TEST_ASSERT(bson_iter_init_find(&it, &b, "members") &&
	    bson_iter_recurse(&it, &arr));
	n = 0;
	while (bson_iter_next(&arr)) {
		TEST_ASSERT(bson_iter_type(&arr) == BSON_TYPE_OID);
		n++;
	}
	TEST_ASSERT(n == 2);
	bson_destroy(&b);

	json_decref(p);
	json_decref(t);

	return (0);
}

/* A user written by Terreno (mongoose + passport-local-mongoose). */
static int
test_mongo_terreno(void)
{
	mongoc_collection_t	*c;
	bson_error_t		 err;
	bson_oid_t		 oid;
	bson_iter_t		 it;
	bson_t			*doc, b;
	char			 id[STORE_OID_LEN + 1];
	json_t			*got, *want, *v, *set;
	int			 ok;

	bson_oid_init(&oid, NULL);
	bson_oid_to_string(&oid, id);
	doc = BCON_NEW("_id", BCON_OID(&oid),
	    "email", BCON_UTF8("terreno@example.org"),
	    "admin", BCON_BOOL(false),
	    "salt", BCON_UTF8("5a1t"),
	    "hash", BCON_UTF8("ha5h"),
	    "created", BCON_DATE_TIME(1700000000123LL),
	    "updated", BCON_DATE_TIME(1700000000456LL),
	    "deleted", BCON_BOOL(false),
	    "__v", BCON_INT32(0));
	c = mongoc_client_get_collection(raw_client, raw_db, "users");
	ok = mongoc_collection_insert_one(c, doc, NULL, NULL, &err);
	mongoc_collection_destroy(c);
	bson_destroy(doc);
	TEST_ASSERT(ok);

	want = json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:b, s:i}",
	    "_id", id, "email", "terreno@example.org", "admin", 0,
	    "salt", "5a1t", "hash", "ha5h",
	    "created", "2023-11-14T22:13:20.123Z",
	    "updated", "2023-11-14T22:13:20.456Z", "deleted", 0, "__v", 0);

	TEST_ASSERT(store_get(tc, STORE_USERS, id, &got) == STORE_OK);
	TEST_ASSERT(json_equal(got, want));
	json_decref(got);

	v = json_string("terreno@example.org");
	TEST_ASSERT(store_find_one(tc, STORE_USERS, "email", v, &got) ==
	    STORE_OK);
	TEST_ASSERT(json_equal(got, want));
	json_decref(got);
	json_decref(v);

	/* The email is taken for korio signups too. */
	got = mk_user("terreno@example.org");
	TEST_ASSERT(store_insert(tc, STORE_USERS, got) == STORE_DUPLICATE);
	json_decref(got);

	/* An update keeps every other field's BSON type. */
	set = json_pack("{s:s, s:s}", "email", "renamed@example.org",
	    "updated", "2024-01-01T00:00:00.000Z");
	TEST_ASSERT(store_update(tc, STORE_USERS, id, set, &got) == STORE_OK);
	(void)json_object_update(want, set);
	TEST_ASSERT(json_equal(got, want));
	json_decref(got);
	json_decref(set);
	json_decref(want);

	TEST_ASSERT(raw_get("users", id, &b));
	TEST_ASSERT(raw_type(&b, "_id", BSON_TYPE_OID));
	TEST_ASSERT(raw_type(&b, "created", BSON_TYPE_DATE_TIME));
	TEST_ASSERT(raw_type(&b, "updated", BSON_TYPE_DATE_TIME));
	TEST_ASSERT(raw_type(&b, "__v", BSON_TYPE_INT32));
	TEST_ASSERT(raw_type(&b, "admin", BSON_TYPE_BOOL));
	TEST_ASSERT(bson_iter_init_find(&it, &b, "updated") &&
	    bson_iter_date_time(&it) == 1704067200000LL);
	bson_destroy(&b);

	return (0);
}

static int64_t
now_ms(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * In a child process (mongoc can't be initialized again after cleanup):
 * a MongoDB URI nobody listens on. The first acquire and ping answer
 * STORE_UNAVAILABLE within [lo, hi) ms; then, while one handle probes
 * the server, another fails at once. Exit status 0 when all holds.
 */
static int
mongo_down_child(const char *uri, int64_t lo, int64_t hi)
{
	struct store_config	 c;
	struct store_conn	*a, *b;
	int64_t			 t0, ms;
	enum store_result	 r;

	memset(&c, 0, sizeof(c));
	c.mongodb_uri = uri;
	c.log = test_log;
	if (store_global_init(&c) != STORE_OK)
		return (2);

	t0 = now_ms();
	if ((a = store_acquire()) == NULL)
		return (3);
	r = store_ping(a);
	ms = now_ms() - t0;
	store_release(a);
	if (r != STORE_UNAVAILABLE)
		return (4);
	if (ms < lo || ms >= hi) {
		printf("  first ping took %lld ms\n", (long long)ms);
		return (5);
	}

	if ((a = store_acquire()) == NULL || (b = store_acquire()) == NULL)
		return (6);
	t0 = now_ms();
	r = store_ping(b);
	ms = now_ms() - t0;
	if (r != STORE_UNAVAILABLE || ms > 100)
		return (7);
	if (store_ping(a) != STORE_UNAVAILABLE)
		return (8);
	store_release(b);
	store_release(a);

	store_global_cleanup();
	return (0);
}

/* An unreachable MongoDB fails fast, unless the URI says otherwise. */
static int
test_mongo_down(void)
{
	pid_t		pid;
	int		status;

	TEST_ASSERT(strcmp(store_result_str(STORE_UNAVAILABLE),
	    "unavailable") == 0);
	TEST_ASSERT(strcmp(store_result_str(STORE_FULL), "no space") == 0);

	(void)fflush(stdout);
	if ((pid = fork()) == 0)
		_exit(mongo_down_child("mongodb://127.0.0.1:1/korio_down",
		    0, 1900));
	TEST_ASSERT(pid > 0);
	TEST_ASSERT(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		printf("  default timeouts: child status %d\n", status);
	TEST_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* The URI's own serverSelectionTimeoutMS wins. */
	(void)fflush(stdout);
	if ((pid = fork()) == 0)
		_exit(mongo_down_child("mongodb://127.0.0.1:1/korio_down?"
		    "serverSelectionTimeoutMS=2500", 2400, 6000));
	TEST_ASSERT(pid > 0);
	TEST_ASSERT(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		printf("  URI timeout: child status %d\n", status);
	TEST_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	return (0);
}
