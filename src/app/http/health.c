/*
 * GET /healthz: 200 {"status":"ok"} when the store answers a ping, 503
 * {"status":"unavailable"} when it does not. The ping runs on a pool thread.
 * Like every route, it needs no token but refuses a bad one (401).
 */


#include "app.h"
#include "http/http.h"
#include "store/db.h"
#include "job.h"
#include "auth/auth.h"

struct health_job {
	struct job	job;
	int		ok;
};

static void	health_work(struct job *);
static int	health_bad_token(struct http_request *);

int
page_healthz(struct http_request *req)
{
	struct health_job	*hj;

	if (!http_state_exists(req)) {
		if (health_bad_token(req)) {
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
		kore_log(LOG_WARNING, "healthz: store unreachable");
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
