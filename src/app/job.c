/*
 * Running blocking work on a pool of JOB_THREADS threads per worker.
 *
 * Two shapes:
 *  - request jobs belong to a request: the handler starts the job and
 *    returns KORE_RESULT_RETRY; the request sleeps until the work is done
 *    and is then run again, when job_request_poll() hands back the job
 *    with its results. A request that goes away first (the client left)
 *    leaves the job to be cleaned up when its work returns.
 *  - callback jobs have no request: done() runs on the worker's event loop
 *    once the work is finished (used by Socket.IO event handlers).
 * Every job is freed after its cleanup() ran, exactly once.
 *
 * work() runs on a pool thread and must not touch Kore state: it reads its
 * inputs from the job and writes its outputs into it. Finished jobs come
 * back to the worker through one eventfd in its event loop: no descriptor,
 * no socketpair per job (Kore's tasks made one for each, about a tenth of
 * the CPU of a POST /todos).
 */

#include <sys/eventfd.h>

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "job.h"

TAILQ_HEAD(job_list, job);

static void	*job_thread(void *);
static void	 job_event(void *, int);
static void	 job_request_free(struct http_request *);
static void	 job_free(struct job *);

static pthread_mutex_t	job_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	job_wake = PTHREAD_COND_INITIALIZER;
static struct job_list	job_queue = TAILQ_HEAD_INITIALIZER(job_queue);
static struct job_list	job_done = TAILQ_HEAD_INITIALIZER(job_done);
static struct kore_event job_evt = { 0, 0, job_event };
static int		job_efd = -1;

/* Jobs whose work has not returned yet (pool threads decrement it). */
static int		job_inflight;

/* In each worker, before the first job. */
void
job_init(void)
{
	pthread_t	t;
	sigset_t	all, old;
	int		i;

	if ((job_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("job_init: eventfd: %s", errno_s);
	kore_platform_schedule_read(job_efd, &job_evt);

	/* Signals stay with the worker's own thread. */
	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < JOB_THREADS; i++) {
		if (pthread_create(&t, NULL, job_thread, NULL) != 0)
			fatal("job_init: pthread_create: %s", errno_s);
		(void)pthread_detach(t);
	}
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
}

struct job *
job_request_new(struct http_request *req, size_t size,
    void (*work)(struct job *), void (*cleanup)(struct job *))
{
	struct job	*j, **slot;

	j = mem_calloc(1, size);

	j->req = req;
	j->work = work;
	j->cleanup = cleanup;

	slot = http_state_create(req, sizeof(*slot), job_request_free);
	*slot = j;

	return (j);
}

/* The job once its work is done, else NULL (the request sleeps on). */
struct job *
job_request_poll(struct http_request *req)
{
	struct job	**slot;

	if ((slot = http_state_get(req)) == NULL || *slot == NULL)
		return (NULL);
	if ((*slot)->finished)
		return (*slot);

	http_request_sleep(req);

	return (NULL);
}

struct job *
job_callback_new(size_t size, void (*work)(struct job *),
    void (*done)(struct job *), void (*cleanup)(struct job *))
{
	struct job	*j;

	j = mem_calloc(1, size);

	j->work = work;
	j->done = done;
	j->cleanup = cleanup;

	return (j);
}

void
job_start(struct job *j)
{
	j->started = 1;
	if (j->req != NULL)
		http_request_sleep(j->req);

	__atomic_add_fetch(&job_inflight, 1, __ATOMIC_SEQ_CST);

	pthread_mutex_lock(&job_lock);
	TAILQ_INSERT_TAIL(&job_queue, j, list);
	pthread_cond_signal(&job_wake);
	pthread_mutex_unlock(&job_lock);
}

/*
 * Wait up to ms for the work of every started job to return: a stopping
 * worker must not pull memory from under a pool thread still working (a
 * slow MongoDB call, say). Returns 0 on time out.
 */
int
job_drain(int ms)
{
	struct timespec		ts = { 0, 5 * 1000 * 1000 };
	int			waited;

	for (waited = 0; waited < ms; waited += 5) {
		if (__atomic_load_n(&job_inflight, __ATOMIC_SEQ_CST) == 0)
			return (1);
		(void)nanosleep(&ts, NULL);
	}

	return (__atomic_load_n(&job_inflight, __ATOMIC_SEQ_CST) == 0);
}

static void *
job_thread(void *arg)
{
	struct job	*j;
	uint64_t	 one = 1;
	int		 wake;

	(void)arg;

	for (;;) {
		pthread_mutex_lock(&job_lock);
		while ((j = TAILQ_FIRST(&job_queue)) == NULL)
			pthread_cond_wait(&job_wake, &job_lock);
		TAILQ_REMOVE(&job_queue, j, list);
		pthread_mutex_unlock(&job_lock);

		j->work(j);

		/* One write when the list fills; job_event() takes it all. */
		pthread_mutex_lock(&job_lock);
		wake = TAILQ_EMPTY(&job_done);
		TAILQ_INSERT_TAIL(&job_done, j, list);
		pthread_mutex_unlock(&job_lock);
		__atomic_sub_fetch(&job_inflight, 1, __ATOMIC_SEQ_CST);

		if (wake && write(job_efd, &one, sizeof(one)) == -1) {
			/* EAGAIN only: the counter is far from full. */
		}
	}

	return (NULL);
}

/* The worker's event loop: finished jobs back to their owners. */
static void
job_event(void *arg, int error)
{
	struct job_list	 done;
	struct job	*j;
	uint64_t	 n;

	(void)arg;
	(void)error;
	if (read(job_efd, &n, sizeof(n)) == -1) {
		/* EAGAIN: a write after the last read, already seen. */
	}

	TAILQ_INIT(&done);
	pthread_mutex_lock(&job_lock);
	TAILQ_CONCAT(&done, &job_done, list);
	pthread_mutex_unlock(&job_lock);

	while ((j = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, j, list);
		j->finished = 1;

		if (j->detached) {
			job_free(j);
		} else if (j->req != NULL) {
			http_request_wakeup(j->req);
		} else {
			if (j->done != NULL)
				j->done(j);
			job_free(j);
		}
	}
}

/* Kore frees the request: the job goes now, or when its work returns. */
static void
job_request_free(struct http_request *req)
{
	struct job	**slot, *j;

	if ((slot = http_state_get(req)) == NULL || (j = *slot) == NULL)
		return;
	*slot = NULL;

	j->req = NULL;
	if (j->started && !j->finished) {
		j->detached = 1;
		return;
	}

	job_free(j);
}

static void
job_free(struct job *j)
{
	if (j->cleanup != NULL)
		j->cleanup(j);
	free(j);
}
