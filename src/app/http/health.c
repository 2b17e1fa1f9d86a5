/*
 * Health endpoints, none needing a token:
 *
 *   GET /healthz	200 {"status":"ok"} when the store answers a ping, 503
 *			{"status":"unavailable"} when it does not (the ping runs
 *			on a pool thread); like every route it refuses a bad
 *			token (401).
 *   GET /readyz	the same answers: whether this process should get
 *			traffic; it ignores any Authorization header. From
 *			SIGTERM on (drain.c) 503 {"status":"draining"} at
 *			once, without asking the store.
 *   GET /livez		200 {"status":"ok"} while the process answers at all,
 *			no store check (a liveness probe must not restart korio
 *			because its store is down).
 *   GET /realtime/health  as Terreno's RealtimeApp answers it:
 *			{"clients":<open Engine.IO sessions, all workers>,
 *			"debug":WEBSOCKETS_DEBUG,"status":"running"}.
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <stdio.h>


#include "app.h"
#include "drain.h"
#include "http/http.h"
#include "store/db.h"
#include "job.h"
#include "auth/auth.h"
#include "sio.h"

struct health_job {
	struct job	job;
	int		ok;
};

static void	health_work(struct job *);
static int	health_bad_token(struct http_request *);
static int	health_store(struct http_request *, int);

int
page_healthz(struct http_request *req)
{
	return (health_store(req, 1));
}

int
page_readyz(struct http_request *req)
{
	if (drain_active()) {
		http_util_json(req, 503, "{\"status\":\"draining\"}");
		return (KORE_RESULT_OK);
	}

	return (health_store(req, 0));
}

int
page_livez(struct http_request *req)
{
	http_util_json(req, 200, "{\"status\":\"ok\"}");
	return (KORE_RESULT_OK);
}

int
page_realtime_health(struct http_request *req)
{
	char	buf[128];

	(void)snprintf(buf, sizeof(buf),
	    "{\"clients\":%zu,\"debug\":%s,\"status\":\"running\"}",
	    eio_session_count_all(), korio.ws_debug ? "true" : "false");
	http_util_json(req, 200, buf);
	return (KORE_RESULT_OK);
}

/* The store's ping, on a pool thread; check_token: refuse a bad one. */
static int
health_store(struct http_request *req, int check_token)
{
	struct health_job	*hj;

	if (!http_state_exists(req)) {
		if (check_token && health_bad_token(req)) {
			http_util_json(req, 401,
			    "{\"status\":401,\"title\":\"Unauthorized\"}");
			return (KORE_RESULT_OK);
		}
		hj = (struct health_job *)job_request_new(req,
		    sizeof(*hj), health_work, NULL);
		job_start(&hj->job);
		return (KORE_RESULT_RETRY);
	}

	if ((hj = (struct health_job *)job_request_poll(req)) == NULL)
		return (KORE_RESULT_RETRY);

	if (hj->ok) {
		http_util_json(req, 200, "{\"status\":\"ok\"}");
	} else {
		kore_log(LOG_WARNING, "%s: store unreachable", req->path);
		http_util_json(req, 503, "{\"status\":\"unavailable\"}");
	}

	return (KORE_RESULT_OK);
}

static void
health_work(struct job *j)
{
	struct health_job	*hj = (struct health_job *)j;

	hj->ok = db_ping();
}

static int
health_bad_token(struct http_request *req)
{
	struct token_claims	claims;
	const char		*hdr;
	int			r;

	if (!http_request_header(req, "authorization", &hdr))
		return (0);

	r = auth_access(hdr, 0, &claims);

	return (r != TOKEN_OK && r != TOKEN_NONE);
}
