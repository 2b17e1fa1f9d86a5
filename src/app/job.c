/*
 * Running blocking work on pools of threads in each worker:
 *  - the store pool, JOB_THREADS threads: store calls and whatever else
 *    is quick; its queue has no bound (a REST request or a Socket.IO
 *    handshake waits its turn);
 *  - the hash pool, HASH_THREADS threads (korio.hash_threads): PBKDF2,
 *    about 0.1 s of CPU a call. At most HASH_QUEUE jobs (korio.hash_queue)
 *    wait for it: a flood of logins is refused (503) instead of queued
 *    for minutes, and it never holds up the store pool.
 *
 * Two shapes:
 *  - request jobs belong to a request: the handler starts the job and
 *    returns KORE_RESULT_RETRY; the request sleeps until the work is done
 *    and is then run again, when job_request_poll() hands back the job
 *    with its results. A request that goes away first (the client left)
 *    takes its job out of the hash pool's queue, so that its PBKDF2
 *    never runs; any other job is cleaned up when its work returns.
 *  - callback jobs have no request: done() runs on the worker's event loop
 *    once the work is finished (used by Socket.IO event handlers).
 * A job's work may send the job on to another pool instead of back to
 * the worker (job_then(): a signup looks the email up on the store pool,
 * hashes on the hash pool, inserts on the store pool). Its place in a
 * bounded queue is taken when job_then() is called, so that the work can
 * still answer that the queue is full. Every job is freed after its
 * cleanup() ran, exactly once.
 *
 * work() runs on a pool thread and must not touch Kore state: it reads its
 * inputs from the job and writes its outputs into it. A job keeps the
 * request id its maker logged with (log/log.h), and its work and its
 * return (done(), cleanup()) log with it too. Finished jobs come
 * back to the worker through one eventfd in its event loop: no descriptor,
 * no socketpair per job (Kore's tasks made one for each, about a tenth of
 * the CPU of a POST /todos).
 *
 * How many jobs wait for each pool is korio_job_queue_depth (metrics):
 * every change goes through job_wait().
 */

#include <sys/eventfd.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "job.h"
#include "metrics/metrics.h"

TAILQ_HEAD(job_list, job);

struct job_pool {
	struct job_list		queue;
	pthread_cond_t		wake;
	int			bound;		/* waiting at most; 0: any */
	int			waiting;	/* queued, or a place taken */
};

static void	 job_pool_start(int, int, int);
static void	*job_thread(void *);
static void	 job_enqueue(struct job *, int);
static void	 job_wait(int, int);
static int	 job_return(struct job *);
static void	 job_event(void *, int);
static void	 job_request_free(struct http_request *);
static void	 job_free(struct job *);
static void	 job_log_keep(struct job *);
static void	 job_log_set(struct job *);

/* One lock for the pools' queues, the places taken and job_done. */
static pthread_mutex_t	job_lock = PTHREAD_MUTEX_INITIALIZER;
static struct job_pool	job_pools[JOB_POOLS];
static struct job_list	job_done = TAILQ_HEAD_INITIALIZER(job_done);
static struct kore_event job_evt = { 0, 0, job_event };
static int		job_efd = -1;

/* Jobs whose work has not returned yet (pool threads decrement it). */
static int		job_inflight;

/* In each worker, before the first job. */
void
job_init(void)
{
	if ((job_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("job_init: eventfd: %s", errno_s);
	kore_platform_schedule_read(job_efd, &job_evt);

	job_pool_start(JOB_POOL_STORE, JOB_THREADS, 0);
	job_pool_start(JOB_POOL_HASH, korio.hash_threads, korio.hash_queue);
}

static void
job_pool_start(int id, int threads, int bound)
{
	struct job_pool	*p = &job_pools[id];
	pthread_t	 t;
	sigset_t	 all, old;
	int		 i;

	TAILQ_INIT(&p->queue);
	if (pthread_cond_init(&p->wake, NULL) != 0)
		fatal("job_init: pthread_cond_init");
	p->bound = bound;

	/* Signals stay with the worker's own thread. */
	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < threads; i++) {
		if (pthread_create(&t, NULL, job_thread, p) != 0)
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
	job_log_keep(j);

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
	job_log_keep(j);

	return (j);
}

/* j's work, on the store pool. */
void
job_start(struct job *j)
{
	j->started = 1;
	if (j->req != NULL)
		http_request_sleep(j->req);

	__atomic_add_fetch(&job_inflight, 1, __ATOMIC_SEQ_CST);

	pthread_mutex_lock(&job_lock);
	job_wait(JOB_POOL_STORE, 1);
	job_enqueue(j, JOB_POOL_STORE);
	pthread_mutex_unlock(&job_lock);
}

/*
 * From j's work, on its pool thread, at most once per work: when the work
 * returns, j goes on to pool, to run work there, instead of back to the
 * worker. Takes j's place in that pool's queue now: returns 0, and
 * nothing changes, when the queue is full.
 */
int
job_then(struct job *j, int pool, void (*work)(struct job *))
{
	struct job_pool	*p = &job_pools[pool];
	int		 ok;

	pthread_mutex_lock(&job_lock);
	ok = p->bound == 0 || p->waiting < p->bound;
	if (ok) {
		job_wait(pool, 1);
		j->next = work;
		j->next_pool = pool;
	}
	pthread_mutex_unlock(&job_lock);

	return (ok);
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
	struct job_pool	*p = arg;
	struct job	*j;
	uint64_t	 one = 1;

	for (;;) {
		pthread_mutex_lock(&job_lock);
		while ((j = TAILQ_FIRST(&p->queue)) == NULL)
			pthread_cond_wait(&p->wake, &job_lock);
		TAILQ_REMOVE(&p->queue, j, list);
		j->queued = 0;
		job_wait(j->pool, -1);
		pthread_mutex_unlock(&job_lock);

		job_log_set(j);
		j->work(j);
		log_req_set(NULL);

		/* One write when the list fills; job_event() takes it all. */
		if (job_return(j) && write(job_efd, &one, sizeof(one)) == -1) {
			/* EAGAIN only: the counter is far from full. */
		}
	}

	return (NULL);
}

/*
 * After j's work: on to the pool job_then() named, or back to the worker
 * (also when its request went away meanwhile: nothing more runs). Returns
 * 1 when the worker must be woken.
 */
static int
job_return(struct job *j)
{
	int	wake;

	pthread_mutex_lock(&job_lock);
	if (j->next != NULL) {
		j->work = j->next;
		j->next = NULL;
		if (!j->detached) {
			job_enqueue(j, j->next_pool);
			pthread_mutex_unlock(&job_lock);
			return (0);
		}
		job_wait(j->next_pool, -1);
	}

	wake = TAILQ_EMPTY(&job_done);
	TAILQ_INSERT_TAIL(&job_done, j, list);
	pthread_mutex_unlock(&job_lock);
	__atomic_sub_fetch(&job_inflight, 1, __ATOMIC_SEQ_CST);

	return (wake);
}

/* Under job_lock: j waits in pool's queue (its place already counted). */
static void
job_enqueue(struct job *j, int pool)
{
	j->pool = pool;
	j->queued = 1;
	TAILQ_INSERT_TAIL(&job_pools[pool].queue, j, list);
	pthread_cond_signal(&job_pools[pool].wake);
}

/* Under job_lock: pool's count of jobs waiting (or places taken) moves. */
static void
job_wait(int pool, int delta)
{
	job_pools[pool].waiting += delta;
	metrics_job_waiting(pool, job_pools[pool].waiting);
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

		job_log_set(j);
		if (j->detached) {
			job_free(j);
		} else if (j->req != NULL) {
			http_request_wakeup(j->req);
		} else {
			if (j->done != NULL)
				j->done(j);
			job_free(j);
		}
		log_req_set(NULL);
	}
}

/* The request id of the lines j's work and return cause: its creator's. */
static void
job_log_keep(struct job *j)
{
	const char	*id;

	if ((id = log_req_get()) != NULL)
		(void)snprintf(j->log_req, sizeof(j->log_req), "%s", id);
}

static void
job_log_set(struct job *j)
{
	log_req_set(j->log_req[0] != '\0' ? j->log_req : NULL);
}

/*
 * Kore frees the request (its client left, or it was answered): a job
 * still waiting for the hash pool is taken out and goes now, its work
 * never run (a flood of logins that hang up costs no PBKDF2); any other
 * goes when its work returns: a write the server took is made, and its
 * hooks run, whether its client waited for the answer or not.
 */
static void
job_request_free(struct http_request *req)
{
	struct job	**slot, *j;
	int		 waited;

	if ((slot = http_state_get(req)) == NULL || (j = *slot) == NULL)
		return;
	*slot = NULL;
	j->req = NULL;

	pthread_mutex_lock(&job_lock);
	if ((waited = (j->queued && j->pool == JOB_POOL_HASH))) {
		TAILQ_REMOVE(&job_pools[j->pool].queue, j, list);
		job_wait(j->pool, -1);
		j->queued = 0;
	} else if (j->started && !j->finished) {
		j->detached = 1;
	}
	pthread_mutex_unlock(&job_lock);

	if (waited)
		__atomic_sub_fetch(&job_inflight, 1, __ATOMIC_SEQ_CST);
	else if (j->detached)
		return;

	job_free(j);
}

static void
job_free(struct job *j)
{
	if (j->cleanup != NULL)
		j->cleanup(j);
	free(j);
}
