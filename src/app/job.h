/*
 * Blocking work (store calls, PBKDF2) on a pool of threads per worker, so
 * that a slow query never stalls a worker's event loop and the sockets it
 * serves.
 */

#ifndef KORIO_JOB_H
#define KORIO_JOB_H

#include <sys/types.h>
#include <sys/queue.h>

#include <kore/kore.h>
#include <kore/http.h>

#define JOB_THREADS	4	/* per worker */

struct job {
	TAILQ_ENTRY(job)	list;
	struct http_request	*req;
	void			(*work)(struct job *);
	void			(*done)(struct job *);
	void			(*cleanup)(struct job *);
	void			*arg;
	int			started;
	int			finished;
	int			detached;
};

/* job.c */
void		 job_init(void);
struct job	*job_request_new(struct http_request *, size_t,
		    void (*)(struct job *), void (*)(struct job *));
struct job	*job_request_poll(struct http_request *);
struct job	*job_callback_new(size_t, void (*)(struct job *),
		    void (*)(struct job *), void (*)(struct job *));
void		 job_start(struct job *);
int		 job_drain(int);

#endif
