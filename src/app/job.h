/*
 * Blocking work on pools of threads per worker, so that a slow query
 * never stalls a worker's event loop and the sockets it serves, and
 * password hashing (PBKDF2) never holds up the store calls: the store
 * pool (JOB_THREADS threads, no bound on its queue) and the hash pool
 * (HASH_THREADS threads, at most HASH_QUEUE jobs waiting).
 */

#ifndef KORIO_JOB_H
#define KORIO_JOB_H

#include <sys/types.h>
#include <sys/queue.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "log/log.h"

#define JOB_THREADS	4	/* per worker */

/* The pools of job_then(); job_start() starts on the store pool. */
#define JOB_POOL_STORE	0
#define JOB_POOL_HASH	1
#define JOB_POOLS	2

struct job {
	TAILQ_ENTRY(job)	list;
	struct http_request	*req;
	void			(*work)(struct job *);
	void			(*done)(struct job *);
	void			(*cleanup)(struct job *);
	void			*arg;
	/* The request id of the lines its work and return log ("": none). */
	char			log_req[LOG_REQID_MAX + 1];
	int			started;
	int			finished;
	int			detached;
	/* job.c's, under its lock. */
	int			pool;		/* where j runs or waits */
	int			queued;		/* waiting in pool's queue */
	void			(*next)(struct job *);	/* job_then() */
	int			next_pool;
};

/* job.c */
void		 job_init(void);
struct job	*job_request_new(struct http_request *, size_t,
		    void (*)(struct job *), void (*)(struct job *));
struct job	*job_request_poll(struct http_request *);
struct job	*job_callback_new(size_t, void (*)(struct job *),
		    void (*)(struct job *), void (*)(struct job *));
void		 job_start(struct job *);
int		 job_then(struct job *, int, void (*)(struct job *));
int		 job_drain(int);

#endif
