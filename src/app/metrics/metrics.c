/*
 * The workers' metric blocks (see metrics.h), counting into them, and the
 * text of GET /metrics made from them.
 *
 * The parent maps one struct metrics_block per worker, shared and
 * anonymous, before it forks the workers (metrics_parent_init(), as
 * the plugin's broadcast counter and the connection cap's table are);
 * each worker then counts into its own (metrics_worker_init()), from its
 * event loop and its pool threads, with relaxed atomic operations. With
 * metrics off (METRICS, METRICS_TOKEN) nothing is mapped, Kore's request
 * hook is not set and nothing is counted.
 *
 * What is counted where:
 *   - every request Kore is done with: kore_http_request_done_hook
 *     (patches/10-http-request-done-hook.patch), metrics_http();
 *   - every call to the store's backend: store_config's timed callback,
 *     metrics_store_timed() (db.c);
 *   - jobs waiting for a pool: job.c, metrics_job_waiting();
 *   - events and CONNECTs the rate limit drops: realtime.c;
 *   - the plugin's own counts and each broadcast's fan-out time:
 *     sio_stats_attach() with the block's struct sio_stats.
 */

#include <sys/types.h>
#include <sys/mman.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <openssl/crypto.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "metrics/metrics.h"

extern u_int16_t	cpu_count;
extern u_int8_t		worker_count;

static void	metrics_http(struct http_request *);
static void	metrics_fanout(uint64_t);
static size_t	metrics_method(int);
static size_t	metrics_pids(pid_t *, size_t);

/* Counts go here when there is no block for them (off, or no worker). */
static struct metrics_block	 metrics_none;
static struct metrics_block	*metrics_self = &metrics_none;

static struct metrics_block	*metrics_all;	/* one per worker */
static size_t			 metrics_nall;
static pid_t			 metrics_parent;
static double			 metrics_started;
static long			 metrics_tck;
static long			 metrics_page;

/* In kore_parent_configure(), after config_load(): the shared blocks. */
void
metrics_parent_init(void)
{
	void	*p;
	size_t	 len;

	if (korio.metrics == METRICS_OFF)
		return;

	metrics_nall = korio.workers > 0 ? (size_t)korio.workers : cpu_count;
	len = metrics_nall * sizeof(struct metrics_block);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fatal("metrics: mmap: %s", errno_s);
	metrics_all = p;

	metrics_parent = getpid();
	metrics_tck = sysconf(_SC_CLK_TCK);
	metrics_page = sysconf(_SC_PAGESIZE);
	if ((metrics_started = metrics_proc_start_time(metrics_parent,
	    metrics_tck)) == 0)
		metrics_started = (double)time(NULL);
}

/*
 * In kore_worker_configure(), before the plugin and the pools start:
 * this worker's block, its gauges from zero, the hooks.
 */
void
metrics_worker_init(void)
{
	if (metrics_all == NULL)
		return;

	if (worker->id < 1 || worker->id > metrics_nall)
		fatal("metrics: worker %u of %zu (WORKERS changed?)",
		    worker->id, metrics_nall);
	metrics_self = &metrics_all[worker->id - 1];

	memset(metrics_self->job_waiting, 0,
	    sizeof(metrics_self->job_waiting));
	sio_stats_attach(&metrics_self->sio, metrics_fanout);
	kore_http_request_done_hook = metrics_http;
}

/* Kore is done with req (patches/10-http-request-done-hook.patch). */
static void
metrics_http(struct http_request *req)
{
	struct metrics_block	*b = metrics_self;
	struct timespec		 ts;
	size_t			 route, method, status;
	uint64_t		 now;

	/* A handler that failed without an answer: the client saw none. */
	if (req->status == 0)
		return;

	route = req->hdlr != NULL ? metrics_route_index(req->hdlr->path) :
	    METRICS_ROUTE_OTHER;
	method = metrics_method(req->method);
	status = metrics_status_index(req->status);
	(void)__atomic_fetch_add(&b->http_requests[route][method][status], 1,
	    __ATOMIC_RELAXED);

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	metrics_observe(&b->http_duration[route][method],
	    &metrics_http_buckets, now > req->born ? now - req->born : 0);
}

static size_t
metrics_method(int m)
{
	switch (m) {
	case HTTP_METHOD_GET:
		return (0);
	case HTTP_METHOD_HEAD:
		return (1);
	case HTTP_METHOD_POST:
		return (2);
	case HTTP_METHOD_PUT:
		return (3);
	case HTTP_METHOD_PATCH:
		return (4);
	case HTTP_METHOD_DELETE:
		return (5);
	default:
		return (6);	/* OPTIONS, the only one left */
	}
}

/* The plugin: a broadcast's fan-out here took ns. */
static void
metrics_fanout(uint64_t ns)
{
	metrics_observe(&metrics_self->fanout, &metrics_fanout_buckets,
	    ns / 1000);
}

/* A pool thread: a call to the store's backend took us (db.c). */
void
metrics_store_timed(enum store_call op, uint64_t us)
{
	if ((int)op < 0 || op >= STORE_CALL_MAX)
		return;
	metrics_observe(&metrics_self->store_duration[op],
	    &metrics_store_buckets, us);
}

/* job.c, under its lock: pool has n jobs waiting now. */
void
metrics_job_waiting(int pool, int n)
{
	if (pool < 0 || pool >= METRICS_JOB_POOLS || n < 0)
		return;
	__atomic_store_n(&metrics_self->job_waiting[pool], (uint64_t)n,
	    __ATOMIC_RELAXED);
}

void
metrics_rate_limit_drop(void)
{
	(void)__atomic_fetch_add(&metrics_self->rate_limit_drops, 1,
	    __ATOMIC_RELAXED);
}

void
metrics_ext_add(size_t slot, uint64_t n)
{
	if (slot < METRICS_EXT_MAX)
		(void)__atomic_fetch_add(&metrics_self->ext[slot], n,
		    __ATOMIC_RELAXED);
}

/*
 * The text of GET /metrics, every worker's block summed, into b; 0 when
 * metrics are off or memory ran out.
 */
int
metrics_write(struct prom_buf *b)
{
	struct metrics_block	*sum;
	struct metrics_proc	 proc;
	struct metrics_info	 info;
	struct prom_label	 build[6];
	pid_t			 pids[1 + 256];
	size_t			 n;

	if (metrics_all == NULL)
		return (0);
	if ((sum = malloc(sizeof(*sum))) == NULL)
		return (0);
	metrics_sum(metrics_all, metrics_nall, sum);

	n = metrics_pids(pids, sizeof(pids) / sizeof(pids[0]));
	metrics_proc_collect(pids, n, metrics_tck, metrics_page, &proc);
	proc.start_time = metrics_started;

	build[0] = (struct prom_label){ "version", KORIO_VERSION };
	build[1] = (struct prom_label){ "kore", kore_version };
	build[2] = (struct prom_label){ "jansson", jansson_version_str() };
	build[3] = (struct prom_label){ "sqlite",
	    store_backend_version("sqlite") };
	build[4] = (struct prom_label){ "mongoc",
	    store_backend_version("mongodb") };
	build[5] = (struct prom_label){ "openssl",
	    OpenSSL_version(OPENSSL_VERSION_STRING) };

	memset(&info, 0, sizeof(info));
	info.build = build;
	info.nbuild = sizeof(build) / sizeof(build[0]);
	info.backend = store_backend_name();
	info.workers = metrics_nall;
	/*
	 * Counters of later parts (struct metrics_ext, metrics.h): none yet
	 * (cluster mode's korio_redis_* come with the plugin's sio_stats);
	 * a part points info.ext at its table of slots, names and help.
	 */
	info.ext = NULL;
	info.next = 0;

	metrics_render(b, sum, &proc, &info);
	free(sum);

	return (!b->failed);
}

/* The parent's pid, then the workers' (Kore's table, shared). */
static size_t
metrics_pids(pid_t *pids, size_t max)
{
	struct kore_worker	*kw;
	size_t			 n;
	u_int8_t		 idx;

	n = 0;
	pids[n++] = metrics_parent;
	for (idx = KORE_WORKER_BASE; idx < worker_count && n < max; idx++) {
		kw = kore_worker_data(idx);
		if (kw->pid > 0)
			pids[n++] = kw->pid;
	}

	return (n);
}
