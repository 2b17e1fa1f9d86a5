/*
 * The REST machinery shared by routes_auth.c, routes_todos.c and
 * routes_projects.c (the contract's REST half, Terreno's modelRouter):
 * the request's life, the caller's token and the job. The responses the
 * work sets are rest_reply.c's, the inputs rest_input.c's, list queries
 * rest_list.c's and the document helpers rest_doc.c's.
 *
 * rest_dispatch() picks the op of the request's method from its route
 * (struct rest_route) and takes the request through these steps:
 *   1. OPTIONS: a CORS preflight, 204, no auth.
 *   2. A body over BODY_LIMIT: 413 (Kore itself answers 413 past
 *      http_body_max).
 *   3. REST_AUTH: the bearer token is verified here, on the worker (HMAC
 *      only); none or a bad one is 401. The token routes leave REST_AUTH
 *      off and never look at the Authorization header.
 *   4. The inputs are copied into the job: the body bytes, the path id
 *      of a route with one (malformed ids become "" and so 404), the list
 *      query (REST_LIST) and If-Unmodified-Since (REST_CONFLICT). A bad
 *      list query is kept as a pending 400.
 *   5. On a store pool thread: the caller is loaded (401 if gone), then
 *      op->work runs (405 when there is none). The work calls
 *      rest_input() where a 400 for bad input belongs in its order of
 *      checks (after 404 and 403), parses the body there, and decides the
 *      status, the response body and the post-write hook. It may name a
 *      next step instead, to run once it returns: on the hash pool
 *      (rest_next_hash(): PBKDF2, without a store handle; 503 with
 *      Retry-After when that pool's queue is full) or on the store pool
 *      (rest_next_store()). A step may name another.
 *   6. Back on the worker: op->done (token minting), the response (with
 *      Retry-After when the work set one), then the hook, with documents
 *      in the REST shape.
 *
 * Secrets, tokens and bodies are never logged; the raw body is wiped
 * when the request is freed.
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "http/http.h"
#include "job.h"
#include "auth/auth.h"

struct rest_job {
	struct job		job;
	struct rest_call	call;
};

static int	rest_run(struct http_request *, const struct rest_route *,
		    const struct rest_op *);
static int	rest_start(struct http_request *, const struct rest_route *,
		    const struct rest_op *);
static void	rest_allow(const struct rest_route *, char *, size_t);
static void	rest_finish(struct http_request *, struct rest_call *);
static int	rest_body_copy(struct http_request *, struct rest_call *);
static int	rest_auth(struct http_request *, struct rest_call *);
static void	rest_work(struct job *);
static void	rest_step(struct job *);
static struct job	*rest_job_of(struct rest_call *);
static int	rest_acquire(struct rest_call *);
static void	rest_release(struct rest_call *);
static int	rest_caller(struct rest_call *);
static void	rest_cleanup(struct job *);
static void	rest_hooks(struct rest_call *);

static int
rest_run(struct http_request *req, const struct rest_route *rt,
    const struct rest_op *op)
{
	struct rest_job		*rj;

	if (!http_state_exists(req)) {
		if (req->method == HTTP_METHOD_OPTIONS) {
			http_util_preflight(req);
			return (KORE_RESULT_OK);
		}
		return (rest_start(req, rt, op));
	}

	if ((rj = (struct rest_job *)job_request_poll(req)) == NULL)
		return (KORE_RESULT_RETRY);

	rest_finish(req, &rj->call);

	return (KORE_RESULT_OK);
}

/*
 * The op of route rt for the request's method (GET and HEAD share one);
 * a method the route has no op for gets rt->other, whose work is NULL
 * (405, with an Allow header naming the methods rt has ops for).
 */
int
rest_dispatch(struct http_request *req, const struct rest_route *rt)
{
	const struct rest_op	*op;

	switch (req->method) {
	case HTTP_METHOD_GET:
	case HTTP_METHOD_HEAD:
		op = rt->get;
		break;
	case HTTP_METHOD_POST:
		op = rt->post;
		break;
	case HTTP_METHOD_PATCH:
		op = rt->patch;
		break;
	case HTTP_METHOD_DELETE:
		op = rt->delete;
		break;
	default:
		op = NULL;
		break;
	}

	return (rest_run(req, rt, op != NULL ? op : rt->other));
}

/* The Allow header of route rt: the methods it has ops for. */
static void
rest_allow(const struct rest_route *rt, char *buf, size_t len)
{
	(void)snprintf(buf, len, "%s%s%s%sOPTIONS",
	    rt->get != NULL ? "GET, HEAD, " : "",
	    rt->post != NULL ? "POST, " : "",
	    rt->patch != NULL ? "PATCH, " : "",
	    rt->delete != NULL ? "DELETE, " : "");
}

/* First call: checks, then the job. */
static int
rest_start(struct http_request *req, const struct rest_route *rt,
    const struct rest_op *op)
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
	call->route = rt;
	call->method = req->method;
	http_util_client(req, &call->client);
	call->since = -1;
	call->secret = korio.refresh_secret;
	call->list.limit = REST_DEFAULT_LIMIT;
	if (strstr(rt->path, "{id}") != NULL)
		rest_input_path_id(req->path, call->id);
	if (op->flags & REST_CONFLICT)
		rest_input_since(req, call);

	if ((op->flags & REST_BODY) && !rest_body_copy(req, call)) {
		http_util_json(req, 500,
		    "{\"status\":500,\"title\":\"Internal server error\"}");
		return (KORE_RESULT_OK);
	}

	if (op->flags & REST_LIST)
		rest_list_parse(call, req->query_string);

	job_start(&rj->job);

	return (KORE_RESULT_RETRY);
}

/* The body bytes, copied for the pool thread (Kore keeps them in req). */
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
	char	retry[16], allow[64];

	if (call->status == 0)
		rest_error(call, 500, "Internal server error", NULL);

	if (call->op->done != NULL && call->status == 200)
		call->op->done(call);

	if (call->log[0] != '\0')
		kore_log(LOG_ERR, "%s", call->log);

	if (call->status == 405) {
		rest_allow(call->route, allow, sizeof(allow));
		http_response_header(req, "allow", allow);
	}
	if (call->retry_after > 0) {
		(void)snprintf(retry, sizeof(retry), "%d", call->retry_after);
		http_response_header(req, "retry-after", retry);
	}

	if (call->status == 204)
		http_util_empty(req, 204);
	else
		http_util_json_t(req, call->status, call->out);

	/*
	 * The hook's events reach the other workers before the answer
	 * reaches the client, so that the client's next write, on whichever
	 * worker, can't overtake them; this worker's own room members get
	 * them right after the answer went out.
	 */
	if (call->hook.kind != HOOK_NONE && req->owner != NULL) {
		hooks_defer_begin();
		rest_hooks(call);
		(void)net_send_flush(req->owner);
		hooks_defer_end();
	} else {
		rest_hooks(call);
	}
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

	if (!http_request_header(req, "authorization", &hdr))
		hdr = NULL;

	if (auth_access(hdr, 0, &cl) != TOKEN_OK ||
	    !store_oid_valid(cl.user_id))
		return (0);

	rest_input_oid_lower(cl.user_id, call->uid);
	(void)snprintf(call->sid, sizeof(call->sid), "%s", cl.sid);

	return (1);
}

/* Pool thread: no Kore calls, only the job, the store and tokens. */
static void
rest_work(struct job *j)
{
	struct rest_call	*call = &((struct rest_job *)j)->call;

	if (!rest_acquire(call))
		return;

	if (!(call->op->flags & REST_AUTH) || rest_caller(call)) {
		if (call->op->work == NULL)
			rest_error(call, 405, "Method not allowed", NULL);
		else
			call->op->work(call);
	}

	rest_release(call);
}

/*
 * From the work or a step: fn runs next, on the hash pool, once this
 * returns. 0 when the hash pool's queue is full: the answer is then 503
 * with Retry-After, and the caller stops there.
 */
int
rest_next_hash(struct rest_call *call, void (*fn)(struct rest_call *))
{
	if (!job_then(rest_job_of(call), JOB_POOL_HASH, rest_step)) {
		call->retry_after = 1;
		return (rest_error(call, 503, "Service Unavailable",
		    "Too many logins and signups at once; try again shortly"));
	}
	call->next = fn;

	return (1);
}

/* From the work or a step: fn runs next, on the store pool. */
void
rest_next_store(struct rest_call *call, void (*fn)(struct rest_call *))
{
	(void)job_then(rest_job_of(call), JOB_POOL_STORE, rest_step);
	call->next = fn;
}

/* The job a call is part of. */
static struct job *
rest_job_of(struct rest_call *call)
{
	struct rest_job	*rj;

	rj = (struct rest_job *)((char *)call -
	    offsetof(struct rest_job, call));

	return (&rj->job);
}

/*
 * A later step: with a store handle on the store pool, without one on
 * the hash pool (none is held while it hashes).
 */
static void
rest_step(struct job *j)
{
	struct rest_call	*call = &((struct rest_job *)j)->call;
	void			(*fn)(struct rest_call *);

	fn = call->next;
	call->next = NULL;
	if (j->pool != JOB_POOL_STORE) {
		fn(call);
	} else if (rest_acquire(call)) {
		fn(call);
		rest_release(call);
	}
}

static int
rest_acquire(struct rest_call *call)
{
	if ((call->sc = store_acquire()) != NULL)
		return (1);

	return (rest_store_error(call, STORE_UNAVAILABLE, "acquire"));
}

static void
rest_release(struct rest_call *call)
{
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
	json_decref(call->hook.doc);
	json_decref(call->hook.aux);
	json_decref(call->hook.before);
	json_decref(call->hook.before_aux);
	json_decref(call->hook.todos);
}

/* Worker: the post-write hook, at most once. */
static void
rest_hooks(struct rest_call *call)
{
	if (call->hook.kind == HOOK_NONE)
		return;
	hooks_run(&call->hook);
	call->hook.kind = HOOK_NONE;
}
