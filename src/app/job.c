/*
 * Running blocking work on Kore's task threads.
 *
 * Two shapes:
 *  - request jobs live in the request's http_state (freed with the
 *    request); the handler starts the job, returns KORE_RESULT_RETRY, and
 *    is called again once the work is finished, when job_request_poll()
 *    hands back the job with its results.
 *  - callback jobs are heap objects whose done() runs on the worker's
 *    event loop when the work is finished; the job is freed after done()
 *    (used by Socket.IO event handlers, which have no request).
 *
 * work() runs in a task thread and must not touch Kore state: it reads its
 * inputs from the job and writes its outputs into it.
 */

#include <stdlib.h>
#include <time.h>

#include "job.h"

/* Jobs whose work has not returned yet (task threads decrement it). */
static int	job_inflight;

static int	job_entry(struct kore_task *);
static void	job_request_free(struct http_request *);
static void	job_callback_done(struct kore_task *);

struct job *
job_request_new(struct http_request *req, size_t size,
    void (*work)(struct job *), void (*cleanup)(struct job *))
{
	struct job	*j;

	j = http_state_create(req, size, job_request_free);
	j->work = work;
	j->cleanup = cleanup;
	kore_task_create(&j->task, job_entry);
	kore_task_bind_request(&j->task, req);

	return (j);
}

struct job *
job_request_poll(struct http_request *req)
{
	struct job	*j;

	if ((j = http_state_get(req)) == NULL)
		return (NULL);
	if (j->finished)
		return (j);

	if (kore_task_state(&j->task) != KORE_TASK_STATE_FINISHED) {
		http_request_sleep(req);
		return (NULL);
	}

	kore_task_destroy(&j->task);
	j->finished = 1;

	return (j);
}

struct job *
job_callback_new(size_t size, void (*work)(struct job *),
    void (*done)(struct job *), void (*cleanup)(struct job *))
{
	struct job	*j;

	if ((j = calloc(1, size)) == NULL)
		fatal("job_callback_new: calloc");

	j->work = work;
	j->done = done;
	j->cleanup = cleanup;
	kore_task_create(&j->task, job_entry);
	kore_task_bind_callback(&j->task, job_callback_done);

	return (j);
}

void
job_start(struct job *j)
{
	j->started = 1;
	__atomic_add_fetch(&job_inflight, 1, __ATOMIC_SEQ_CST);
	kore_task_run(&j->task);
}

/*
 * Wait up to ms for the work of every started job to return. A stopping
 * worker frees the memory its task threads use, so it must not go on while
 * one is still working (a slow MongoDB call, say). Returns 0 on time out.
 */
int
job_drain(int ms)
{
	struct timespec		ts = { 0, 5 * 1000 * 1000 };
	int			waited;

	for (waited = 0; waited < ms; waited += 5) {
		if (__atomic_load_n(&job_inflight, __ATOMIC_SEQ_CST) == 0)
			break;
		(void)nanosleep(&ts, NULL);
	}
	if (__atomic_load_n(&job_inflight, __ATOMIC_SEQ_CST) != 0)
		return (0);

	/* Let the threads get back to waiting for work. */
	ts.tv_nsec = 20 * 1000 * 1000;
	(void)nanosleep(&ts, NULL);

	return (1);
}

static int
job_entry(struct kore_task *t)
{
	struct job	*j = (struct job *)t;

	j->work(j);
	__atomic_sub_fetch(&job_inflight, 1, __ATOMIC_SEQ_CST);

	return (KORE_RESULT_OK);
}

/*
 * Kore calls the request's onfree again and again while a task bound to a
 * dropped request is still running, and destroys such a task itself once it
 * finishes (fds[0] is then -1): clean up only once the work is over.
 */
static void
job_request_free(struct http_request *req)
{
	struct job	*j;

	if ((j = http_state_get(req)) == NULL || j->freed)
		return;

	if (j->started && !j->finished) {
		if (j->task.fds[0] != -1) {
			if (kore_task_state(&j->task) !=
			    KORE_TASK_STATE_FINISHED)
				return;
			kore_task_destroy(&j->task);
		}
		j->finished = 1;
	}

	if (j->cleanup != NULL)
		j->cleanup(j);
	j->freed = 1;
}

static void
job_callback_done(struct kore_task *t)
{
	struct job	*j = (struct job *)t;

	if (kore_task_state(t) != KORE_TASK_STATE_FINISHED)
		return;

	kore_task_destroy(t);
	j->finished = 1;

	if (j->done != NULL)
		j->done(j);
	if (j->cleanup != NULL)
		j->cleanup(j);

	free(j);
}
