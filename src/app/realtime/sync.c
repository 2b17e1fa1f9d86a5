/*
 * Terreno's realtime protocol (docs/terreno-realtime.md), beside the older
 * todo:* events: the subscription events of section 2 as section 8 adapts
 * them, and the `sync` events of section 8.
 *
 * Subscriptions. subscribe:model, subscribe:document and subscribe:query
 * join the rooms of section 1 (model:<c>, document:<c>:<id>,
 * query:<queryId>) and sync:<c>, the room a write's sync broadcast goes
 * to. A query subscription also keeps its effective query (query.c) under
 * its queryId. Counts per socket, caps 50/500/100, silent refusals, an
 * ack {"ok":true} whatever happened. A query naming a project waits for
 * the membership lookup on a pool thread; realtime.c holds the socket's
 * later events until it is done (rt_hold()).
 *
 * Delivery. Each write's change (sync_emit(), from hooks.c) goes to the
 * sockets in sync:<c> on every worker through the plugin's filtered
 * broadcast; sync_filter() decides per socket, on the worker that owns
 * it: *after* covered: create or update with data; else *before* covered:
 * delete without data (section 8). A side is covered when the user may
 * read that state and one of the socket's subscriptions covers it.
 *
 * The change, as it crosses the bus: {c: collection, m: method, id,
 * ts: epoch ms, b: before or null, a: after or null, bm, am: the
 * members of the todo's project before and after (null if none), uf: the
 * updated fields}.
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "job.h"
#include "log/log.h"
#include "sio.h"
#include "realtime/query.h"
#include "realtime/realtime.h"
#include "store/store.h"

#define SYNC_FILTER_ID		0

#define SYNC_CAP_MODEL		50
#define SYNC_CAP_DOCUMENT	500
#define SYNC_CAP_QUERY		100

/* The variants a change builds once for all its recipients. */
#define SYNC_V_CREATE		"\001create"
#define SYNC_V_UPDATE		"\001update"
#define SYNC_V_DELETE		"\001delete"

struct sync_job {
	struct job		job;
	struct sio_socket	*so;
	char			project[STORE_OID_LEN + 1];
	char			user[STORE_OID_LEN + 1];
	json_t			*query;
	json_t			*client_id;
	int			member;
	int			failed;
};

static size_t		sync_query_max = 4096;

static char	*sync_room(const char *, const char *, const char *);
static json_int_t sync_epoch_ms(void);

static json_t	*sync_filter(struct sio_socket *, json_t *);
struct sync_side;
static int	sync_side(json_t *, const char *, const char *, const char *,
		    struct sync_side *);
static int	sync_covers(struct sio_socket *, struct rt_sock *,
		    const char *, const char *, const struct sync_side *);
static int	sync_readable(const struct rt_sock *,
		    const struct sync_side *);
static int	sync_matches(const struct sync_side *, const char *,
		    const json_t *);
static int	sync_in(const json_t *, const char *);
static json_t	*sync_variant(json_t *, const char *);
static const char *sync_collection(const json_t *);
static void	sync_join(struct sio_socket *, const char *, const char *,
		    const char *);
static void	sync_query_done(struct sio_socket *, json_t *, json_t *);
static void	sync_query_work(struct job *);
static void	sync_query_finish(struct job *);
static void	sync_query_cleanup(struct job *);
static void	sync_ok(struct sio_socket *, const struct sio_event *);
static void	sync_count(u_int32_t *, int);

void
sync_init(size_t query_max)
{
	sync_query_max = query_max;
	sio_filter_register(SYNC_FILTER_ID, sync_filter);
}

/* A socket's sync state goes with it. */
void
sync_socket_free(struct rt_sock *rs)
{
	json_decref(rs->queries);
	rs->queries = NULL;
}

/*
 * What connection-state recovery keeps of a lost socket's sync state (its
 * rooms are kept by the plugin): the counts and the queries by queryId.
 */
json_t *
sync_socket_save(const struct rt_sock *rs)
{
	return (json_pack("{s:I,s:I,s:I,s:O?}", "model",
	    (json_int_t)rs->nmodel, "document", (json_int_t)rs->ndocument,
	    "query", (json_int_t)rs->nquery, "queries", rs->queries));
}

/* A recovered socket's sync state, as sync_socket_save() kept it. */
void
sync_socket_restore(struct rt_sock *rs, const json_t *saved)
{
	json_t		*q;

	rs->nmodel = (u_int32_t)MIN(SYNC_CAP_MODEL,
	    MAX(0, json_integer_value(json_object_get(saved, "model"))));
	rs->ndocument = (u_int32_t)MIN(SYNC_CAP_DOCUMENT,
	    MAX(0, json_integer_value(json_object_get(saved, "document"))));
	rs->nquery = (u_int32_t)MIN(SYNC_CAP_QUERY,
	    MAX(0, json_integer_value(json_object_get(saved, "query"))));
	if (json_is_object(q = json_object_get(saved, "queries")))
		rs->queries = json_deep_copy(q);
}

/* a, b and c joined, as a new string. */
static char *
sync_room(const char *a, const char *b, const char *c)
{
	char		*s;
	size_t		 len;

	len = strlen(a) + strlen(b) + strlen(c) + 1;
	s = mem_malloc(len);
	(void)snprintf(s, len, "%s%s%s", a, b, c);
	return (s);
}

/* "todos" or "projects", exactly; NULL for anything else. */
static const char *
sync_collection(const json_t *v)
{
	const char	*c;

	if ((c = json_string_value(v)) == NULL)
		return (NULL);
	if (!strcmp(c, "todos"))
		return ("todos");
	if (!strcmp(c, "projects"))
		return ("projects");
	return (NULL);
}

/* Join prefix<a>[:<b>] and sync:<c>. */
static void
sync_join(struct sio_socket *so, const char *c, const char *a, const char *b)
{
	char		*room;

	room = sync_room(a, b != NULL ? ":" : "", b != NULL ? b : "");
	(void)sio_join(so, room);
	free(room);
	room = sync_room("sync:", c, "");
	(void)sio_join(so, room);
	free(room);
}

static void
sync_ok(struct sio_socket *so, const struct sio_event *ev)
{
	if (ev->ack_id >= 0)
		sio_ack(so, ev->ack_id, json_pack("[{s:b}]", "ok", 1));
}

/* Counts of section 2: never below 0. */
static void
sync_count(u_int32_t *n, int delta)
{
	if (delta > 0)
		(*n)++;
	else if (*n > 0)
		(*n)--;
}

void
sync_subscribe_model(struct sio_socket *so, const struct sio_event *ev)
{
	struct rt_sock	*rs = sio_socket_udata(so);
	json_t		*arg = json_array_get(ev->args, 0);
	const char	*c;
	char		*room;

	sync_ok(so, ev);
	if (!json_is_string(arg) || json_string_length(arg) == 0 ||
	    rs->nmodel >= SYNC_CAP_MODEL || (c = sync_collection(arg)) == NULL)
		return;

	room = sync_room("model:", c, "");
	sync_join(so, c, room, NULL);
	free(room);
	sync_count(&rs->nmodel, 1);
}

void
sync_unsubscribe_model(struct sio_socket *so, const struct sio_event *ev)
{
	struct rt_sock	*rs = sio_socket_udata(so);
	json_t		*arg = json_array_get(ev->args, 0);
	char		*room;

	sync_ok(so, ev);
	if (!json_is_string(arg) || json_string_length(arg) == 0)
		return;

	room = sync_room("model:", json_string_value(arg), "");
	(void)sio_leave(so, room);
	free(room);
	sync_count(&rs->nmodel, -1);
}

void
sync_subscribe_document(struct sio_socket *so, const struct sio_event *ev)
{
	struct rt_sock	*rs = sio_socket_udata(so);
	json_t		*arg = json_array_get(ev->args, 0);
	json_t		*coll, *id;
	const char	*c;
	char		*room;

	sync_ok(so, ev);
	coll = json_object_get(arg, "collection");
	id = json_object_get(arg, "id");
	if (!json_is_string(coll) || json_string_length(coll) == 0 ||
	    !json_is_string(id) || json_string_length(id) == 0 ||
	    rs->ndocument >= SYNC_CAP_DOCUMENT ||
	    (c = sync_collection(coll)) == NULL ||
	    !store_oid_valid(json_string_value(id)))
		return;

	room = sync_room("document:", c, "");
	sync_join(so, c, room, json_string_value(id));
	free(room);
	sync_count(&rs->ndocument, 1);
}

/* JavaScript's truthiness of a JSON value. */
static int
sync_truthy(const json_t *v)
{
	if (v == NULL || json_is_null(v) || json_is_false(v))
		return (0);
	if (json_is_string(v))
		return (json_string_length(v) > 0);
	if (json_is_number(v))
		return (json_number_value(v) != 0);
	return (1);
}

void
sync_unsubscribe_document(struct sio_socket *so, const struct sio_event *ev)
{
	struct rt_sock	*rs = sio_socket_udata(so);
	json_t		*arg = json_array_get(ev->args, 0);
	json_t		*coll, *id;
	char		*room, *tmp;

	sync_ok(so, ev);
	coll = json_object_get(arg, "collection");
	id = json_object_get(arg, "id");
	if (!sync_truthy(coll) || !sync_truthy(id))
		return;

	if (json_is_string(coll) && json_is_string(id)) {
		tmp = sync_room(json_string_value(coll), ":",
		    json_string_value(id));
		room = sync_room("document:", tmp, "");
		free(tmp);
		(void)sio_leave(so, room);
		free(room);
	}
	sync_count(&rs->ndocument, -1);
}

/*
 * subscribe:query. 1 when done here; 0 when a membership lookup was
 * started, and realtime.c must hold the socket's next events until
 * sync_query_done() ran (it calls rt_release()).
 */
int
sync_subscribe_query(struct sio_socket *so, const struct sio_event *ev)
{
	struct rt_sock		*rs = sio_socket_udata(so);
	struct sync_job		*j;
	json_t			*arg, *q, *cid;
	const json_t		*project;

	sync_ok(so, ev);
	arg = json_array_get(ev->args, 0);
	if (!json_is_object(arg))
		return (1);
	q = json_object_get(arg, "query");
	if (!json_is_string(json_object_get(arg, "collection")) ||
	    json_string_length(json_object_get(arg, "collection")) == 0 ||
	    !json_is_object(q) || rs->nquery >= SYNC_CAP_QUERY)
		return (1);

	/* No REST query fields on projects: refused. */
	if (strcmp(json_string_value(json_object_get(arg, "collection")),
	    "todos"))
		return (1);

	if ((q = query_scope_todos(q, rs->user, &project)) == NULL)
		return (1);
	cid = json_object_get(arg, "queryId");

	if (project == NULL) {
		sync_query_done(so, q, cid);
		json_decref(q);
		return (1);
	}

	if (!json_is_string(project) ||
	    !store_oid_valid(json_string_value(project))) {
		json_decref(q);
		return (1);
	}
	if (rs->admin) {
		sync_query_done(so, q, cid);
		json_decref(q);
		return (1);
	}

	j = (struct sync_job *)job_callback_new(sizeof(*j), sync_query_work,
	    sync_query_finish, sync_query_cleanup);
	j->so = so;
	sio_socket_ref(so);
	memcpy(j->project, json_string_value(project), STORE_OID_LEN + 1);
	memcpy(j->user, rs->user, STORE_OID_LEN + 1);
	j->query = q;
	j->client_id = json_incref(cid);
	job_start(&j->job);

	return (0);
}

/* Pool thread: is the user a member of the project? */
static void
sync_query_work(struct job *job)
{
	struct sync_job		*j = (struct sync_job *)job;
	struct store_conn	*sc;
	json_t			*doc;
	enum store_result	r;

	if ((sc = store_acquire()) == NULL) {
		j->failed = 1;
		return;
	}
	r = store_get(sc, STORE_PROJECTS, j->project, &doc);
	j->failed = (r != STORE_OK && r != STORE_NOTFOUND);
	j->member = (r == STORE_OK &&
	    sync_in(json_object_get(doc, "members"), j->user));
	json_decref(doc);
	store_release(sc);
}

static void
sync_query_finish(struct job *job)
{
	struct sync_job		*j = (struct sync_job *)job;

	if (!sio_socket_connected(j->so) || sio_socket_udata(j->so) == NULL)
		return;

	if (j->failed)
		log_sid(LOG_WARNING, sio_socket_id(j->so), "realtime: store "
		    "unavailable for a query subscription of socket %s",
		    sio_socket_id(j->so));
	else if (j->member)
		sync_query_done(j->so, j->query, j->client_id);
	rt_release(j->so);
}

static void
sync_query_cleanup(struct job *job)
{
	struct sync_job		*j = (struct sync_job *)job;

	json_decref(j->query);
	json_decref(j->client_id);
	sio_socket_unref(j->so);
}

/* The subscription passed every check: join, keep q, reply. */
static void
sync_query_done(struct sio_socket *so, json_t *q, json_t *cid)
{
	struct rt_sock	*rs = sio_socket_udata(so);
	char		*qid, *room;
	json_t		*reply;

	if ((qid = query_id("todos", q)) == NULL)
		return;
	if (strlen(qid) > sync_query_max) {
		free(qid);
		return;
	}

	room = sync_room("query:", qid, "");
	sync_join(so, "todos", room, NULL);
	free(room);
	if (rs->queries == NULL)
		rs->queries = json_object();
	(void)json_object_set(rs->queries, qid, q);
	sync_count(&rs->nquery, 1);

	reply = json_object();
	if (cid != NULL)
		(void)json_object_set(reply, "clientQueryId", cid);
	(void)json_object_set_new(reply, "collection", json_string("todos"));
	(void)json_object_set_new(reply, "queryId", json_string(qid));
	(void)sio_emit(so, "query:subscribed", json_pack("[o]", reply));
	free(qid);
}

void
sync_unsubscribe_query(struct sio_socket *so, const struct sio_event *ev)
{
	struct rt_sock	*rs = sio_socket_udata(so);
	json_t		*qid;
	char		*room;

	sync_ok(so, ev);
	qid = json_object_get(json_array_get(ev->args, 0), "queryId");
	if (!sync_truthy(qid))
		return;

	if (json_is_string(qid)) {
		room = sync_room("query:", json_string_value(qid), "");
		(void)sio_leave(so, room);
		free(room);
		if (rs->queries != NULL)
			(void)json_object_del(rs->queries,
			    json_string_value(qid));
	}
	sync_count(&rs->nquery, -1);
}

/*
 * The change of one write (hooks.c): to the sockets in sync:<c> on every
 * worker, each deciding with sync_filter(). before, after, bm, am are
 * borrowed (NULL: none); uf is the updated fields, borrowed, or NULL.
 */
void
sync_emit(const char *c, const char *method, const char *id,
    const json_t *before, const json_t *after, const json_t *bm,
    const json_t *am, const json_t *uf)
{
	const char	*rooms[1];
	char		room[32];
	json_t		*ch;

	(void)snprintf(room, sizeof(room), "sync:%s", c);
	rooms[0] = room;

	ch = json_pack("{s:s,s:s,s:s,s:I,s:O?,s:O?,s:O?,s:O?,s:O?}",
	    "c", c, "m", method, "id", id, "ts", sync_epoch_ms(),
	    "b", query_unconst(before), "a", query_unconst(after),
	    "bm", query_unconst(bm), "am", query_unconst(am),
	    "uf", query_unconst(uf));
	if (ch == NULL) {
		kore_log(LOG_WARNING, "realtime: a sync event could not be "
		    "built");
		return;
	}
	sio_broadcast_filter(rt_nsp, rooms, 1, "sync", SYNC_FILTER_ID, ch);
}

/* The wall clock in epoch milliseconds, as Date.now(). */
static json_int_t
sync_epoch_ms(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return ((json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Is the string s in array a? */
static int
sync_in(const json_t *a, const char *s)
{
	json_t		*m;
	size_t		i;

	json_array_foreach(a, i, m) {
		if (json_is_string(m) && !strcmp(json_string_value(m), s))
			return (1);
	}
	return (0);
}

/*
 * One side (before or after) of a change, with what every socket asks of
 * it worked out once and kept in the change (the plugin decodes a change
 * once per worker and hands the same object to every socket):
 * ch["\001s<side>"] = {"m": {user: true} for the readers by membership
 * (the todo's project members, or the project's own), "q": {queryId:
 * whether the state matches}}.
 */
struct sync_side {
	const char	*c;
	const json_t	*d;
	json_t		*readers;
	json_t		*matches;
};

static int
sync_side(json_t *ch, const char *c, const char *side, const char *mkey,
    struct sync_side *sd)
{
	json_t		*cache, *m;
	const json_t	*list;
	char		key[8];
	size_t		i;

	sd->c = c;
	sd->d = json_object_get(ch, side);
	if (!json_is_object(sd->d))
		return (0);

	(void)snprintf(key, sizeof(key), "\001s%s", side);
	if ((cache = json_object_get(ch, key)) == NULL) {
		cache = json_pack("{s:{},s:{}}", "m", "q");
		if (cache == NULL)
			return (0);
		list = !strcmp(c, "projects") ?
		    json_object_get(sd->d, "members") :
		    json_object_get(ch, mkey);
		json_array_foreach(list, i, m) {
			if (json_is_string(m))
				(void)json_object_set(json_object_get(cache,
				    "m"), json_string_value(m), json_true());
		}
		(void)json_object_set_new(ch, key, cache);
	}
	sd->readers = json_object_get(cache, "m");
	sd->matches = json_object_get(cache, "q");

	return (1);
}

/* May the socket's user read this state (section 8)? */
static int
sync_readable(const struct rt_sock *rs, const struct sync_side *sd)
{
	const char	*owner;

	if (rs->admin || json_object_get(sd->readers, rs->user) != NULL)
		return (1);
	if (!strcmp(sd->c, "projects"))
		return (0);
	owner = json_string_value(json_object_get(sd->d, "ownerId"));
	return (owner != NULL && !strcmp(owner, rs->user));
}

/* Does query q (kept under qid) match the state? Asked once per qid. */
static int
sync_matches(const struct sync_side *sd, const char *qid, const json_t *q)
{
	json_t		*v;
	int		 r;

	if ((v = json_object_get(sd->matches, qid)) != NULL)
		return (json_is_true(v));
	r = query_match(q, sd->d);
	(void)json_object_set_new(sd->matches, qid, json_boolean(r));
	return (r);
}

/*
 * Does one of the socket's subscriptions cover this state (section 8)?
 * droom and mroom are the change's document and model rooms.
 */
static int
sync_covers(struct sio_socket *so, struct rt_sock *rs, const char *droom,
    const char *mroom, const struct sync_side *sd)
{
	const char	*owner, *qid;
	json_t		*q;

	if (!sync_readable(rs, sd))
		return (0);

	if (sio_in_room(so, droom))
		return (1);

	if (sio_in_room(so, mroom)) {
		if (!strcmp(sd->c, "projects"))
			return (json_object_get(sd->readers, rs->user) != NULL);
		owner = json_string_value(json_object_get(sd->d, "ownerId"));
		if (owner != NULL && !strcmp(owner, rs->user))
			return (1);
	}

	if (strcmp(sd->c, "todos") || rs->queries == NULL)
		return (0);
	json_object_foreach(rs->queries, qid, q) {
		if (sync_matches(sd, qid, q))
			return (1);
	}
	return (0);
}

/* The arguments of one kind of event for this change, built once. */
static json_t *
sync_variant(json_t *ch, const char *kind)
{
	json_t		*v, *p;
	const char	*c;

	if ((v = json_object_get(ch, kind)) != NULL)
		return (json_incref(v));

	c = json_string_value(json_object_get(ch, "c"));
	p = json_pack("{s:s,s:s,s:s,s:O}",
	    "model", !strcmp(c, "todos") ? "Todo" : "Project",
	    "collection", c, "method", kind + 1,
	    "id", json_object_get(ch, "id"));
	if (p == NULL)
		return (NULL);
	if (strcmp(kind, SYNC_V_DELETE)) {
		(void)json_object_set(p, "data", json_object_get(ch, "a"));
		if (!strcmp(kind, SYNC_V_UPDATE) &&
		    json_object_get(ch, "uf") != NULL)
			(void)json_object_set(p, "updatedFields",
			    json_object_get(ch, "uf"));
	}
	(void)json_object_set(p, "timestamp", json_object_get(ch, "ts"));

	v = json_pack("[o]", p);
	(void)json_object_set(ch, kind, v);
	return (v);
}

/* The plugin asks, per socket of sync:<c>: what does this one get? */
static json_t *
sync_filter(struct sio_socket *so, json_t *ch)
{
	struct rt_sock		*rs;
	struct sync_side	 sd;
	const char		*m, *c, *id;
	char			 droom[64], mroom[32];
	int			 ca, cb;

	if ((rs = sio_socket_udata(so)) == NULL ||
	    (m = json_string_value(json_object_get(ch, "m"))) == NULL ||
	    (c = json_string_value(json_object_get(ch, "c"))) == NULL ||
	    (id = json_string_value(json_object_get(ch, "id"))) == NULL)
		return (NULL);

	(void)snprintf(droom, sizeof(droom), "document:%s:%s", c, id);
	(void)snprintf(mroom, sizeof(mroom), "model:%s", c);
	ca = sync_side(ch, c, "a", "am", &sd) &&
	    sync_covers(so, rs, droom, mroom, &sd);
	cb = !ca && strcmp(m, "create") && sync_side(ch, c, "b", "bm", &sd) &&
	    sync_covers(so, rs, droom, mroom, &sd);

	if (!strcmp(m, "create"))
		return (ca ? sync_variant(ch, SYNC_V_CREATE) : NULL);
	if (!strcmp(m, "update") && ca)
		return (sync_variant(ch, SYNC_V_UPDATE));
	return (cb ? sync_variant(ch, SYNC_V_DELETE) : NULL);
}
