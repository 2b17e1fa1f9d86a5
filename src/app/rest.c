/*
 * The REST machinery shared by routes_auth.c, routes_todos.c and
 * routes_projects.c (the contract's REST half, Terreno's modelRouter).
 *
 * rest_run() takes a request through these steps:
 *   1. OPTIONS: a CORS preflight, 204, no auth.
 *   2. A body over BODY_LIMIT: 413 (Kore itself answers 413 past
 *      http_body_max).
 *   3. REST_AUTH: the bearer token is verified here, on the worker (HMAC
 *      only); none or a bad one is 401. The token routes leave REST_AUTH
 *      off and never look at the Authorization header.
 *   4. The inputs are copied into the job: the body bytes, the path id
 *      (malformed ids become "" and so 404), the list query (REST_LIST)
 *      and If-Unmodified-Since. A bad list query is kept as a pending 400.
 *   5. On a task thread: the caller is loaded (401 if gone), then
 *      op->work runs (405 when there is none). The work calls
 *      rest_input() where a 400 for bad input belongs in its order of
 *      checks (after 404 and 403), parses the body there, and decides the
 *      status, the response body and the post-write hook.
 *   6. Back on the worker: op->done (token minting), the response, then
 *      the hook, with documents in the REST shape.
 *
 * Error bodies are {"status":N,"title":"...","detail"?:"..."}; the token
 * routes answer {"message":"..."} (rest_message), as Terreno does.
 * Secrets, tokens and bodies are never logged; the raw body is wiped
 * when the request is freed.
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "hooks.h"
#include "job.h"
#include "token.h"

#define REST_KEY_MAX		128
#define REST_VAL_MAX		256
#define REST_DETAIL_MAX		256
#define REST_ARRAY_MAX		1000
#define REST_NUM_DIGITS		9

struct rest_job {
	struct job		job;
	struct rest_call	call;
};

static int	rest_start(struct http_request *, const struct rest_op *);
static void	rest_finish(struct http_request *, struct rest_call *);
static int	rest_body_copy(struct http_request *, struct rest_call *);
static int	rest_auth(struct http_request *, struct rest_call *);
static void	rest_path_id(const char *, char [STORE_OID_LEN + 1]);
static void	rest_since(struct http_request *, struct rest_call *);
static void	rest_work(struct job *);
static int	rest_caller(struct rest_call *);
static void	rest_cleanup(struct job *);
static void	rest_hooks(struct rest_call *);
static json_t	*rest_error_body(int, const char *, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));
static json_t	*rest_utf8(char *);
static int	rest_pending(struct rest_call *, const char *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static void	rest_query(struct rest_call *, const char *);
static int	rest_query_pair(struct rest_call *, const char *,
		    const char *, int *);
static int	rest_query_num(const char *, size_t *);
static int	rest_query_sort(struct rest_call *, const char *);
static int	rest_query_filter(struct rest_call *, const char *,
		    const char *);
static const struct rest_field	*rest_field_find(const struct rest_model *,
				    const char *);
static int	rest_ignored(const char *);
static int	rest_value(struct rest_call *, const struct rest_field *,
		    json_t *, json_t **);
static int	rest_oid_array(struct rest_call *, const struct rest_field *,
		    json_t *, json_t **);
static json_t	*rest_oid(const char *);
static size_t	rest_utf16_len(const char *, size_t);

int
rest_run(struct http_request *req, const struct rest_op *op)
{
	struct rest_job		*rj;

	if (!http_state_exists(req)) {
		if (req->method == HTTP_METHOD_OPTIONS) {
			http_util_preflight(req);
			return (KORE_RESULT_OK);
		}
		return (rest_start(req, op));
	}

	if ((rj = (struct rest_job *)job_request_poll(req)) == NULL)
		return (KORE_RESULT_RETRY);

	rest_finish(req, &rj->call);

	return (KORE_RESULT_OK);
}

/* Sets the response to an error body; returns 0 for the caller to pass on. */
int
rest_error(struct rest_call *call, int status, const char *title,
    const char *fmt, ...)
{
	va_list		ap;

	va_start(ap, fmt);
	json_decref(call->out);
	call->out = rest_error_body(status, title, fmt, ap);
	call->status = status;
	va_end(ap);

	return (0);
}

/* The token routes' error shape: {"message":"..."}. */
int
rest_message(struct rest_call *call, int status, const char *msg)
{
	json_decref(call->out);
	call->out = json_pack("{s:s}", "message", msg);
	call->status = status;

	return (0);
}

/* A store failure the client can't fix: 500, logged on the worker. */
int
rest_store_error(struct rest_call *call, enum store_result r,
    const char *what)
{
	(void)snprintf(call->log, sizeof(call->log), "rest: %s: %s",
	    what, store_result_str(r));

	return (rest_error(call, 500, "Internal server error", NULL));
}

int
rest_not_found(struct rest_call *call, const struct rest_model *m)
{
	if (call->id[0] == '\0')
		return (rest_error(call, 404, "Document not found",
		    "Document not found for model %s", m->name));

	return (rest_error(call, 404, "Document not found",
	    "Document %s not found for model %s", call->id, m->name));
}

int
rest_forbidden(struct rest_call *call, const struct rest_model *m)
{
	const char	*verb;

	switch (call->method) {
	case HTTP_METHOD_PATCH:
		verb = "PATCH";
		break;
	case HTTP_METHOD_DELETE:
		verb = "DELETE";
		break;
	default:
		verb = "GET";
		break;
	}

	return (rest_error(call, 403, "Forbidden",
	    "Access to %s on %s:%s denied for %s", verb, m->name, call->id,
	    call->uid));
}

/*
 * Reports a pending input error (a bad list query) and parses the body
 * (REST_BODY; an empty body is {}). Returns 1 when the inputs are good,
 * else 0 with a 400 set.
 */
int
rest_input(struct rest_call *call)
{
	json_error_t	 err;
	json_t		*v;
	int64_t		 ms;

	if (call->in_error != NULL) {
		json_decref(call->out);
		call->out = call->in_error;
		call->in_error = NULL;
		call->status = 400;
		return (0);
	}

	if (!(call->op->flags & REST_BODY) || call->body != NULL)
		return (1);

	if (call->rawlen == 0)
		call->body = json_object();
	else
		call->body = json_loadb(call->raw, call->rawlen,
		    JSON_REJECT_DUPLICATES, &err);

	if (call->body == NULL)
		return (rest_error(call, 400, "Malformed JSON",
		    "%s (line %d, column %d)", err.text, err.line,
		    err.column));

	if (!json_is_object(call->body))
		return (rest_error(call, 400, "Validation failed",
		    "the body must be a JSON object"));

	/* Terreno's third way to ask for a conflict check. */
	v = json_object_get(call->body, "_updatedAt");
	if (call->since < 0 && json_is_string(v) &&
	    store_iso_parse(json_string_value(v), &ms))
		call->since = ms;

	return (1);
}

/*
 * Checks the body against the model: known fields of the right type and
 * length, required ones present when creating. "_id", "id", "created",
 * "updated", "__v" and "_updatedAt" are ignored; a server field (ownerId)
 * is accepted only when it equals owner. On success *setp is a new
 * object of the validated fields (null for a removed one) and 1 is
 * returned; else 0 with a 400 set.
 */
int
rest_body(struct rest_call *call, const struct rest_model *m, int create,
    const char *owner, json_t **setp)
{
	const struct rest_field	*f;
	const char		*key;
	json_t			*val, *set, *v;

	*setp = NULL;
	if ((set = json_object()) == NULL)
		return (rest_error(call, 500, "Internal server error", NULL));

	json_object_foreach(call->body, key, val) {
		if (rest_ignored(key))
			continue;
		if ((f = rest_field_find(m, key)) == NULL) {
			rest_error(call, 400, "Validation failed",
			    "%.64s is not a field of %s", key, m->name);
			goto fail;
		}
		if (f->flags & REST_F_SERVER) {
			if (!json_is_string(val) || owner == NULL ||
			    strcasecmp(json_string_value(val), owner)) {
				rest_error(call, 400, "Validation failed",
				    "%s can't be set or changed", f->name);
				goto fail;
			}
			continue;
		}
		if (json_is_null(val) && (f->flags & REST_F_NULL)) {
			if (!create)
				json_object_set_new(set, f->name, json_null());
			continue;
		}
		if (!rest_value(call, f, val, &v))
			goto fail;
		json_object_set_new(set, f->name, v);
	}

	for (f = m->fields; create && f->name != NULL; f++) {
		if ((f->flags & REST_F_REQUIRED) &&
		    json_object_get(set, f->name) == NULL) {
			rest_error(call, 400, "Validation failed",
			    "%s is required", f->name);
			goto fail;
		}
	}

	*setp = set;
	return (1);

fail:
	json_decref(set);
	return (0);
}

/*
 * PATCH with If-Unmodified-Since (or X-Unmodified-Since-ISO, or a body
 * _updatedAt) older than doc's updated: 409 with the current document.
 * An HTTP date has one second precision, so it is compared with updated
 * rounded down to the second. Returns 1 on a conflict.
 */
int
rest_conflict(struct rest_call *call, json_t *doc)
{
	const char	*upd;
	int64_t		 ms;

	if (call->since < 0 || (upd = rest_str(doc, "updated")) == NULL ||
	    !store_iso_parse(upd, &ms))
		return (0);

	if (call->since_sec)
		ms -= ((ms % 1000) + 1000) % 1000;
	if (call->since >= ms)
		return (0);

	json_decref(call->out);
	call->out = json_pack("{s:o,s:s,s:s}", "data", rest_doc_copy(doc),
	    "error", "Conflict",
	    "message", "Document was modified since your last read");
	call->status = 409;

	return (1);
}

/* Sets the response {"data": data}; takes over data's reference. */
void
rest_reply(struct rest_call *call, int status, json_t *data)
{
	json_decref(call->out);
	call->out = json_pack("{s:o}", "data", data);
	call->status = status;
}

/* The REST shape, in place: "id" = "_id", no "hash" or "salt". */
json_t *
rest_doc(json_t *doc)
{
	json_t		*id;

	if (!json_is_object(doc))
		return (doc);

	if ((id = json_object_get(doc, "_id")) != NULL)
		json_object_set(doc, "id", id);
	json_object_del(doc, "hash");
	json_object_del(doc, "salt");

	return (doc);
}

/* A new deep copy of doc in the REST shape. */
json_t *
rest_doc_copy(const json_t *doc)
{
	return (rest_doc(json_deep_copy(doc)));
}

int
rest_is_admin(const json_t *user)
{
	return (json_is_true(json_object_get(user, "admin")));
}

int
rest_is_member(const json_t *project, const char *uid)
{
	size_t		 i;
	json_t		*v;

	json_array_foreach(json_object_get(project, "members"), i, v) {
		if (json_is_string(v) && !strcmp(json_string_value(v), uid))
			return (1);
	}

	return (0);
}

/* The string value of doc's field, or NULL. */
const char *
rest_str(const json_t *doc, const char *field)
{
	return (json_string_value(json_object_get(doc, field)));
}

/*
 * Runs a list query: the n filters in f (an array of STORE_FILTER_MAX)
 * plus the query's own, with its sort, page and limit. Sets the
 * 200 {"data","limit","more"[,"page"],"total"} response; returns 1, or 0
 * with an error set.
 */
int
rest_list_run(struct rest_call *call, struct store_filter *f, size_t n)
{
	struct store_query	 q;
	const char		*key;
	json_t			*val, *docs, *v;
	size_t			 total, i;
	int			 more;
	enum store_result	 r;

	json_object_foreach(call->list.filters, key, val) {
		if (n >= STORE_FILTER_MAX)
			return (rest_error(call, 500, "Internal server error",
			    NULL));
		f[n].field = key;
		f[n].op = STORE_EQ;
		f[n].value = val;
		n++;
	}

	memset(&q, 0, sizeof(q));
	q.filters = f;
	q.nfilters = n;
	/* By default in creation order, as MongoDB's natural order is. */
	q.sort = call->list.sort[0] != '\0' ? call->list.sort : "created";
	q.desc = call->list.desc;
	q.limit = call->list.limit + 1;
	q.skip = call->list.skip;

	r = store_list(call->sc, call->op->model->coll, &q, &docs, &total);
	if (r != STORE_OK)
		return (rest_store_error(call, r, "list"));

	more = json_array_size(docs) > call->list.limit;
	if (more)
		json_array_remove(docs, call->list.limit);
	json_array_foreach(docs, i, v)
		rest_doc(v);

	json_decref(call->out);
	call->out = json_pack("{s:o,s:I,s:b}", "data", docs,
	    "limit", (json_int_t)call->list.limit, "more", more);
	if (call->list.page[0] != '\0')
		json_object_set_new(call->out, "page",
		    json_string(call->list.page));
	json_object_set_new(call->out, "total", json_integer(total));
	call->status = 200;

	return (1);
}

/* First call: checks, then the job. */
static int
rest_start(struct http_request *req, const struct rest_op *op)
{
	struct rest_job		*rj;
	struct rest_call	*call;
	struct rest_call	 tmp;

	/* Kore leaves content_length stale on requests without a body. */
	if (req->http_body_length > korio.body_limit) {
		http_util_json(req, 413,
		    "{\"status\":413,\"title\":\"Payload Too Large\"}");
		return (KORE_RESULT_OK);
	}

	memset(&tmp, 0, sizeof(tmp));
	if ((op->flags & REST_AUTH) && !rest_auth(req, &tmp)) {
		http_util_json(req, 401,
		    "{\"status\":401,\"title\":\"Unauthorized\"}");
		return (KORE_RESULT_OK);
	}

	rj = (struct rest_job *)job_request_new(req, sizeof(*rj), rest_work,
	    rest_cleanup);
	call = &rj->call;
	memcpy(call->uid, tmp.uid, sizeof(call->uid));
	memcpy(call->sid, tmp.sid, sizeof(call->sid));
	call->op = op;
	call->method = req->method;
	call->since = -1;
	call->secret = korio.refresh_secret;
	call->list.limit = REST_DEFAULT_LIMIT;
	rest_path_id(req->path, call->id);
	rest_since(req, call);

	if ((op->flags & REST_BODY) && !rest_body_copy(req, call)) {
		http_util_json(req, 500,
		    "{\"status\":500,\"title\":\"Internal server error\"}");
		return (KORE_RESULT_OK);
	}

	if (op->flags & REST_LIST)
		rest_query(call, req->query_string);

	job_start(&rj->job);

	return (KORE_RESULT_RETRY);
}

/* The body bytes, copied for the task thread (Kore keeps them in req). */
static int
rest_body_copy(struct http_request *req, struct rest_call *call)
{
	ssize_t		n;

	if (req->http_body_length == 0)
		return (1);

	call->rawlen = req->http_body_length;
	if ((call->raw = malloc(call->rawlen + 1)) == NULL)
		fatal("rest_body_copy: malloc");

	if ((n = http_body_read(req, call->raw, call->rawlen)) < 0 ||
	    (size_t)n != call->rawlen)
		return (0);
	call->raw[call->rawlen] = '\0';

	return (1);
}

/* Last call, on the worker: the response, then the hook. */
static void
rest_finish(struct http_request *req, struct rest_call *call)
{
	if (call->status == 0)
		rest_error(call, 500, "Internal server error", NULL);

	if (call->op->done != NULL && call->status == 200)
		call->op->done(call);

	if (call->log[0] != '\0')
		kore_log(LOG_ERR, "%s", call->log);

	if (call->status == 405 && call->op->allow != NULL)
		http_response_header(req, "allow", call->op->allow);

	if (call->status == 204)
		http_util_empty(req, 204);
	else
		http_util_json_t(req, call->status, call->out);

	rest_hooks(call);
}

/*
 * The caller's id (and session) from a valid access token. "Bearer null"
 * and friends count as no token; both no token and a bad one fail.
 */
static int
rest_auth(struct http_request *req, struct rest_call *call)
{
	struct token_claims	 cl;
	const char		*hdr;
	char			 tok[TOKEN_MAX_LEN + 1];
	size_t			 i;
	int			 r;

	if (!http_request_header(req, "authorization", &hdr))
		hdr = NULL;

	r = token_bearer_extract(hdr, 0, tok, sizeof(tok));
	if (r == TOKEN_OK) {
		r = token_verify(tok, korio.token_secret,
		    strlen(korio.token_secret), korio.token_issuer,
		    (int64_t)time(NULL), &cl);
	}
	explicit_bzero(tok, sizeof(tok));

	if (r != TOKEN_OK || !store_oid_valid(cl.user_id))
		return (0);

	for (i = 0; i < STORE_OID_LEN; i++)
		call->uid[i] = (char)tolower((unsigned char)cl.user_id[i]);
	call->uid[STORE_OID_LEN] = '\0';
	(void)snprintf(call->sid, sizeof(call->sid), "%s", cl.sid);

	return (1);
}

/* The last path segment, if it is an ObjectId; "" otherwise. */
static void
rest_path_id(const char *path, char id[STORE_OID_LEN + 1])
{
	const char	*p;
	size_t		 i;

	id[0] = '\0';
	if ((p = strrchr(path, '/')) == NULL || !store_oid_valid(p + 1))
		return;

	for (i = 0; i < STORE_OID_LEN; i++)
		id[i] = (char)tolower((unsigned char)p[1 + i]);
	id[STORE_OID_LEN] = '\0';
}

static void
rest_since(struct http_request *req, struct rest_call *call)
{
	const char	*v;
	int64_t		 ms;
	int		 sec;

	if ((http_request_header(req, "x-unmodified-since-iso", &v) &&
	    http_util_date(v, &ms, &sec)) ||
	    (http_request_header(req, "if-unmodified-since", &v) &&
	    http_util_date(v, &ms, &sec))) {
		call->since = ms;
		call->since_sec = sec;
	}
}

/* Task thread: no Kore calls, only the job, the store and tokens. */
static void
rest_work(struct job *j)
{
	struct rest_call	*call = &((struct rest_job *)j)->call;

	if ((call->sc = store_acquire()) == NULL) {
		(void)snprintf(call->log, sizeof(call->log),
		    "rest: store unavailable");
		rest_error(call, 500, "Internal server error", NULL);
		return;
	}

	if (!(call->op->flags & REST_AUTH) || rest_caller(call)) {
		if (call->op->work == NULL)
			rest_error(call, 405, "Method not allowed", NULL);
		else
			call->op->work(call);
	}

	store_release(call->sc);
	call->sc = NULL;
}

/* Loads the caller; a token for a user that is gone is 401. */
static int
rest_caller(struct rest_call *call)
{
	enum store_result	r;

	r = store_get(call->sc, STORE_USERS, call->uid, &call->user);
	if (r == STORE_NOTFOUND)
		return (rest_error(call, 401, "Unauthorized", NULL));
	if (r != STORE_OK)
		return (rest_store_error(call, r, "load caller"));

	return (1);
}

static void
rest_cleanup(struct job *j)
{
	struct rest_call	*call = &((struct rest_job *)j)->call;

	/* The client went away before the answer: the write still counts. */
	rest_hooks(call);

	if (call->raw != NULL) {
		explicit_bzero(call->raw, call->rawlen);
		free(call->raw);
	}
	json_decref(call->list.filters);
	json_decref(call->in_error);
	json_decref(call->body);
	json_decref(call->user);
	json_decref(call->out);
	json_decref(call->hook_doc);
	json_decref(call->hook_aux);
}

/* Worker: the post-write hook, at most once. */
static void
rest_hooks(struct rest_call *call)
{
	switch (call->hook) {
	case REST_HOOK_TODO_CREATED:
		hooks_todo_created(call->hook_doc, call->hook_aux);
		break;
	case REST_HOOK_TODO_UPDATED:
		hooks_todo_updated(call->hook_doc, call->hook_aux);
		break;
	case REST_HOOK_TODO_DELETED:
		hooks_todo_deleted(call->hook_doc, call->hook_aux);
		break;
	case REST_HOOK_PROJECT_UPDATED:
		hooks_project_updated(call->hook_doc, call->hook_aux);
		break;
	case REST_HOOK_PROJECT_DELETED:
		hooks_project_deleted(call->hook_doc);
		break;
	case REST_HOOK_NONE:
		break;
	}

	call->hook = REST_HOOK_NONE;
}

/*
 * {"status","title"[,"detail"]}. The detail may quote client input: bytes
 * that are not valid UTF-8 become '?', so the body always serializes.
 */
static json_t *
rest_error_body(int status, const char *title, const char *fmt, va_list ap)
{
	json_t		*body;
	char		 buf[REST_DETAIL_MAX];

	(void)snprintf(buf, sizeof(buf), "%s", title);
	body = json_pack("{s:i,s:o}", "status", status, "title",
	    rest_utf8(buf));
	if (body == NULL || fmt == NULL)
		return (body);

	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	json_object_set_new(body, "detail", rest_utf8(buf));

	return (body);
}

/* buf as a JSON string, bytes that are not valid UTF-8 turned to '?'. */
static json_t *
rest_utf8(char *buf)
{
	json_t		*s;
	size_t		 i;

	if ((s = json_string(buf)) != NULL)
		return (s);

	for (i = 0; buf[i] != '\0'; i++) {
		if ((unsigned char)buf[i] >= 0x80)
			buf[i] = '?';
	}

	return (json_string(buf));
}

/* A bad list query, reported by rest_input() after the auth check. */
static int
rest_pending(struct rest_call *call, const char *title, const char *fmt,
    ...)
{
	va_list		ap;

	if (call->in_error != NULL)
		return (0);

	va_start(ap, fmt);
	call->in_error = rest_error_body(400, title, fmt, ap);
	va_end(ap);

	return (0);
}

/*
 * limit (default 100, capped at 500), page (1-based), sort ("field" or
 * "-field") and filters on the model's query fields. Keys and values are
 * percent-decoded; a repeated key, a bracket (qs operator) or junk is a
 * pending 400.
 */
static void
rest_query(struct rest_call *call, const char *qs)
{
	const char	*p, *end, *eq;
	char		 key[REST_KEY_MAX], val[REST_VAL_MAX];
	size_t		 page;
	int		 seen;

	if ((call->list.filters = json_object()) == NULL)
		fatal("rest_query: json_object");

	seen = 0;
	for (p = qs; p != NULL && *p != '\0'; p = (*end == '&') ?
	    end + 1 : end) {
		if ((end = strchr(p, '&')) == NULL)
			end = p + strlen(p);
		if (end == p)
			continue;
		if ((eq = memchr(p, '=', (size_t)(end - p))) == NULL)
			eq = end;

		if (http_util_pct_decode(p, (size_t)(eq - p), key,
		    sizeof(key)) == -1 || http_util_pct_decode(eq == end ?
		    eq : eq + 1, eq == end ? 0 : (size_t)(end - eq - 1), val,
		    sizeof(val)) == -1) {
			rest_pending(call, "Malformed query string", NULL);
			return;
		}
		if (!rest_query_pair(call, key, val, &seen))
			return;
	}

	if (call->list.page[0] != '\0') {
		(void)rest_query_num(call->list.page, &page);
		call->list.skip = (page - 1) * call->list.limit;
	}
}

static int
rest_query_pair(struct rest_call *call, const char *key, const char *val,
    int *seen)
{
	size_t		n;

	if (!strcmp(key, "limit")) {
		if ((*seen & 1) || !rest_query_num(val, &n) || n == 0)
			return (rest_pending(call, "Invalid limit",
			    "limit must be a positive integer, given once"));
		*seen |= 1;
		call->list.limit = n > REST_MAX_LIMIT ? REST_MAX_LIMIT : n;
		return (1);
	}

	if (!strcmp(key, "page")) {
		if ((*seen & 2) || !rest_query_num(val, &n) || n == 0)
			return (rest_pending(call, "Invalid page",
			    "page must be a positive integer, given once"));
		*seen |= 2;
		/* rest_query_num() allowed REST_NUM_DIGITS digits. */
		memcpy(call->list.page, val, strlen(val) + 1);
		return (1);
	}

	if (!strcmp(key, "sort")) {
		if (*seen & 4)
			return (rest_pending(call, "Invalid sort",
			    "sort given twice"));
		*seen |= 4;
		return (rest_query_sort(call, val));
	}

	return (rest_query_filter(call, key, val));
}

/* Decimal digits only, at most REST_NUM_DIGITS of them. */
static int
rest_query_num(const char *s, size_t *n)
{
	size_t		i;

	*n = 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i == REST_NUM_DIGITS || !isdigit((unsigned char)s[i]))
			return (0);
		*n = *n * 10 + (size_t)(s[i] - '0');
	}

	return (i > 0);
}

static int
rest_query_sort(struct rest_call *call, const char *val)
{
	const struct rest_field	*f;
	const char		*name;

	name = val;
	if (*name == '-') {
		call->list.desc = 1;
		name++;
	}

	if (strcmp(name, "created") && strcmp(name, "updated") &&
	    ((f = rest_field_find(call->op->model, name)) == NULL ||
	    !(f->flags & REST_F_SORT)))
		return (rest_pending(call, "Invalid sort",
		    "%.64s is not a sortable field of %s", name,
		    call->op->model->name));

	/* A field name from a schema table: shorter than STORE_FIELD_MAX. */
	memcpy(call->list.sort, name, strlen(name) + 1);

	return (1);
}

static int
rest_query_filter(struct rest_call *call, const char *key, const char *val)
{
	const struct rest_field	*f;
	char			 base[REST_KEY_MAX], title[REST_DETAIL_MAX];
	json_t			*v;

	(void)snprintf(base, sizeof(base), "%s", key);
	base[strcspn(base, "[")] = '\0';

	f = rest_field_find(call->op->model, base);
	if (f == NULL || !(f->flags & REST_F_QUERY)) {
		(void)snprintf(title, sizeof(title),
		    "%.64s is not allowed as a query param.", base);
		return (rest_pending(call, title, NULL));
	}

	if (strcmp(base, key))
		return (rest_pending(call, "Invalid query",
		    "query operators are not supported (%.64s)", key));
	if (json_object_get(call->list.filters, f->name) != NULL)
		return (rest_pending(call, "Invalid query",
		    "%s given twice", f->name));

	v = NULL;
	if (f->type == REST_T_BOOL && !strcmp(val, "true"))
		v = json_true();
	else if (f->type == REST_T_BOOL && !strcmp(val, "false"))
		v = json_false();
	else if (f->type == REST_T_OID && store_oid_valid(val))
		v = rest_oid(val);

	if (v == NULL)
		return (rest_pending(call, "Invalid query",
		    "%s must be %s", f->name, f->type == REST_T_BOOL ?
		    "true or false" : "an ObjectId"));

	json_object_set_new(call->list.filters, f->name, v);

	return (1);
}

static const struct rest_field *
rest_field_find(const struct rest_model *m, const char *name)
{
	const struct rest_field	*f;

	for (f = m->fields; f->name != NULL; f++) {
		if (!strcmp(f->name, name))
			return (f);
	}

	return (NULL);
}

/* Fields a client may send back but never sets. */
static int
rest_ignored(const char *key)
{
	return (!strcmp(key, "_id") || !strcmp(key, "id") ||
	    !strcmp(key, "created") || !strcmp(key, "updated") ||
	    !strcmp(key, "__v") || !strcmp(key, "_updatedAt"));
}

/* One checked value, as a new reference in *out. */
static int
rest_value(struct rest_call *call, const struct rest_field *f, json_t *val,
    json_t **out)
{
	size_t		len;

	*out = NULL;
	switch (f->type) {
	case REST_T_STRING:
		if (!json_is_string(val))
			return (rest_error(call, 400, "Validation failed",
			    "%s must be a string", f->name));
		len = rest_utf16_len(json_string_value(val),
		    json_string_length(val));
		if (len < f->min || len > f->max)
			return (rest_error(call, 400, "Validation failed",
			    "%s must be %zu to %zu characters long", f->name,
			    f->min, f->max));
		*out = json_incref(val);
		break;
	case REST_T_BOOL:
		if (!json_is_boolean(val))
			return (rest_error(call, 400, "Validation failed",
			    "%s must be true or false", f->name));
		*out = json_incref(val);
		break;
	case REST_T_OID:
		if (!json_is_string(val) ||
		    !store_oid_valid(json_string_value(val)))
			return (rest_error(call, 400, "Validation failed",
			    "%s must be an ObjectId (24 hex digits)",
			    f->name));
		*out = rest_oid(json_string_value(val));
		break;
	case REST_T_OID_ARRAY:
		return (rest_oid_array(call, f, val, out));
	}

	return (1);
}

/* An array of ObjectIds, lowercased, duplicates dropped. */
static int
rest_oid_array(struct rest_call *call, const struct rest_field *f,
    json_t *val, json_t **out)
{
	size_t		 i, k;
	json_t		*v, *arr;

	if (!json_is_array(val) || json_array_size(val) > REST_ARRAY_MAX)
		return (rest_error(call, 400, "Validation failed",
		    "%s must be an array of at most %d ObjectIds", f->name,
		    REST_ARRAY_MAX));

	arr = json_array();
	json_array_foreach(val, i, v) {
		if (!json_is_string(v) ||
		    !store_oid_valid(json_string_value(v))) {
			json_decref(arr);
			return (rest_error(call, 400, "Validation failed",
			    "%s[%zu] must be an ObjectId (24 hex digits)",
			    f->name, i));
		}
		v = rest_oid(json_string_value(v));
		for (k = 0; k < json_array_size(arr); k++) {
			if (json_equal(json_array_get(arr, k), v))
				break;
		}
		if (k == json_array_size(arr))
			json_array_append(arr, v);
		json_decref(v);
	}

	*out = arr;
	return (1);
}

/* A lowercased copy of a valid ObjectId string. */
static json_t *
rest_oid(const char *s)
{
	char		buf[STORE_OID_LEN + 1];
	size_t		i;

	for (i = 0; i < STORE_OID_LEN; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[STORE_OID_LEN] = '\0';

	return (json_string(buf));
}

/*
 * A string's length as JavaScript (and so mongoose's maxlength) counts
 * it: UTF-16 code units, two for a code point above U+FFFF.
 */
static size_t
rest_utf16_len(const char *s, size_t len)
{
	size_t		i, n;
	unsigned char	c;

	n = 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if ((c & 0xc0) == 0x80)
			continue;
		n += (c >= 0xf0) ? 2 : 1;
	}

	return (n);
}
