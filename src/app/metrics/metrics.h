/*
 * metrics/metrics.h: korio's metrics, served as Prometheus text by GET
 * /metrics (metrics_page.c) when METRICS or METRICS_TOKEN allow it.
 *
 * Every worker counts into its own struct metrics_block, in memory the
 * parent maps shared before it forks the workers (metrics.c); only that
 * worker (its event loop and its pool threads) writes it, with relaxed
 * atomic adds and stores, and whichever worker answers /metrics sums all
 * the blocks (metrics_sum()) and writes the text (metrics_render()). A
 * block is nothing but uint64_t words, so summing is word by word. A
 * restarted worker goes on counting in its predecessor's block (counters
 * keep growing); its gauges start again from zero.
 *
 * The other parts of korio count through the calls under metrics.c; the
 * Socket.IO plugin fills the block's struct sio_stats itself
 * (sio_stats_attach()); Kore tells metrics.c about each request
 * (kore_http_request_done_hook, patches/10-http-request-done-hook.patch).
 *
 * What is pure (metrics_render.c: the tables, the sum, the text;
 * metrics_proc.c: the process tree from /proc; prom.c: the format)
 * includes no Kore header and is unit-tested alone.
 */

#ifndef KORIO_METRICS_H
#define KORIO_METRICS_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "sio.h"
#include "metrics/prom.h"
#include "store/store.h"

struct http_request;

/* The routes of kore.conf by their template; anything else is "other". */
#define METRICS_ROUTES		21
#define METRICS_ROUTE_OTHER	(METRICS_ROUTES - 1)

/* GET HEAD POST PUT PATCH DELETE OPTIONS: what Kore takes. */
#define METRICS_METHODS		7

/* The statuses counted by name; any other is "other". */
#define METRICS_STATUSES	35
#define METRICS_STATUS_OTHER	(METRICS_STATUSES - 1)

#define METRICS_BUCKETS_MAX	16
#define METRICS_JOB_POOLS	2	/* job.h: JOB_POOL_STORE, _HASH */

/*
 * Counters for parts still to come (Redis, with its issue: messages
 * published and received, reconnects): each takes a slot of ext[] and a
 * row of the struct metrics_ext table given to metrics_render(), and
 * counts with metrics_ext_add().
 */
#define METRICS_EXT_MAX		16

struct metrics_ext {
	size_t		 slot;
	const char	*name;		/* "korio_redis_..._total" */
	const char	*help;
};

/* A histogram: its buckets (the last one: above every bound), its sum. */
struct metrics_hist {
	uint64_t	bucket[METRICS_BUCKETS_MAX + 1];
	uint64_t	sum;		/* microseconds */
};

struct metrics_block {
	uint64_t		http_requests[METRICS_ROUTES][METRICS_METHODS]
				    [METRICS_STATUSES];
	struct metrics_hist	http_duration[METRICS_ROUTES]
				    [METRICS_METHODS];
	struct metrics_hist	store_duration[STORE_CALL_MAX];
	struct metrics_hist	fanout;
	uint64_t		rate_limit_drops;
	uint64_t		job_waiting[METRICS_JOB_POOLS];	/* gauges */
	uint64_t		ext[METRICS_EXT_MAX];
	struct sio_stats	sio;
};

/* The process tree (parent and workers), from /proc. */
struct metrics_proc {
	size_t		nproc;		/* processes read; 0: none */
	double		cpu_seconds;
	uint64_t	rss_bytes;
	size_t		nfds;		/* processes whose fds were counted */
	uint64_t	open_fds;
	double		start_time;	/* the parent's (Unix); 0: unknown */
};

/* One process's numbers in /proc/<pid>/stat. */
struct metrics_pstat {
	uint64_t	utime;		/* clock ticks */
	uint64_t	stime;
	uint64_t	starttime;	/* clock ticks after boot */
	uint64_t	rss;		/* pages */
};

/* What metrics_render() writes besides the blocks. */
struct metrics_info {
	const struct prom_label	*build;		/* korio_build_info's labels */
	size_t			 nbuild;
	const char		*backend;	/* "sqlite", "mongodb" */
	size_t			 workers;
	const struct metrics_ext *ext;
	size_t			 next;
};

/* metrics.c: the blocks, counting (any thread of a worker), the text */
void	metrics_parent_init(void);
void	metrics_worker_init(void);
void	metrics_store_timed(enum store_call, uint64_t);
void	metrics_job_waiting(int, int);
void	metrics_rate_limit_drop(void);
void	metrics_ext_add(size_t, uint64_t);
int	metrics_write(struct prom_buf *);

/* metrics_page.c */
int	page_metrics(struct http_request *);

/* metrics_render.c (pure) */
extern const struct prom_hist_def	metrics_http_buckets;
extern const struct prom_hist_def	metrics_store_buckets;
extern const struct prom_hist_def	metrics_fanout_buckets;

void	metrics_observe(struct metrics_hist *, const struct prom_hist_def *,
	    uint64_t);
size_t	metrics_route_index(const char *);
const char *metrics_route_label(size_t);
size_t	metrics_status_index(int);
const char *metrics_method_label(size_t);
void	metrics_sum(const struct metrics_block *, size_t,
	    struct metrics_block *);
void	metrics_render(struct prom_buf *, const struct metrics_block *,
	    const struct metrics_proc *, const struct metrics_info *);

/* metrics_proc.c (pure) */
int	metrics_proc_stat_parse(const char *, size_t, struct metrics_pstat *);
int	metrics_proc_btime_parse(const char *, size_t, uint64_t *);
int	metrics_proc_stat_read(pid_t, struct metrics_pstat *);
int	metrics_proc_fds(pid_t, uint64_t *);
double	metrics_proc_start_time(pid_t, long);
void	metrics_proc_collect(const pid_t *, size_t, long, long,
	    struct metrics_proc *);

#endif /* !KORIO_METRICS_H */
