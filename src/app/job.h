/*
 * Blocking work (store calls) on Kore's task threads, so that a slow query
 * never stalls a worker's event loop and the sockets it serves.
 */

#ifndef KORIO_JOB_H
#define KORIO_JOB_H

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>
#include <kore/tasks.h>

struct job {
	struct kore_task	task;
	void			(*work)(struct job *);
	void			(*done)(struct job *);
	void			(*cleanup)(struct job *);
	void			*arg;
	int			started;
	int			finished;
	int			freed;
};

/* job.c */
struct job	*job_request_new(struct http_request *, size_t,
		    void (*)(struct job *), void (*)(struct job *));
struct job	*job_request_poll(struct http_request *);
struct job	*job_callback_new(size_t, void (*)(struct job *),
		    void (*)(struct job *), void (*)(struct job *));
void		 job_start(struct job *);
int		 job_drain(int);

#endif
