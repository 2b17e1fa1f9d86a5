/*
 * GET /healthz: 200 {"status":"ok"} when the store answers a ping, 503
 * {"status":"unavailable"} when it does not. The ping runs on a task thread.
 */

#include "app.h"
#include "db.h"
#include "job.h"

struct health_job {
	struct job	job;
	int		ok;
};

static void	health_work(struct job *);

int
page_healthz(struct http_request *req)
{
	struct health_job	*hj;

	if (!http_state_exists(req)) {
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
