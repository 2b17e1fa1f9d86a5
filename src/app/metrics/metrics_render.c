/*
 * What GET /metrics says, from the sum of the workers' blocks (pure: no
 * Kore). The names follow Prometheus's practice: base units (seconds,
 * bytes), _total on counters, the unit before it, labels of few values
 * (a route's template, never its path). Families in order:
 *
 *   process_cpu_seconds_total, process_resident_memory_bytes,
 *   process_open_fds, process_start_time_seconds
 *	the process tree, parent and workers, from /proc (metrics_proc.c);
 *	the start time is the parent's
 *   korio_build_info{version,kore,jansson,sqlite,mongoc,openssl}	1
 *   korio_workers
 *   korio_http_requests_total{route,method,status}
 *   korio_http_request_duration_seconds{route,method}	histogram
 *   korio_store_operation_duration_seconds{backend,op}	histogram
 *   korio_job_queue_depth{pool}
 *   korio_sockets{transport}, korio_relayed_sessions,
 *   korio_relayed_requests_total, korio_rooms,
 *   korio_sio_events_received_total, korio_sio_events_sent_total,
 *   korio_broadcasts_total, korio_broadcast_fanout_seconds (histogram),
 *   korio_rate_limit_drops_total
 *   korio_redis_connected, korio_redis_published_total,
 *   korio_redis_received_total, korio_redis_dropped_total,
 *   korio_redis_bad_messages_total, korio_redis_relayed_total
 *   (cluster mode; 0 without it)
 *   the struct metrics_ext counters (later parts)
 *
 * Series of the HTTP and store families appear once they count
 * something; the others are always there.
 */

#include <stdio.h>
#include <string.h>

#include "metrics/metrics.h"

_Static_assert(sizeof(struct metrics_block) % sizeof(uint64_t) == 0,
    "struct metrics_block is summed as uint64_t words");
_Static_assert(sizeof(struct sio_stats) % sizeof(uint64_t) == 0,
    "struct sio_stats is summed as uint64_t words");

static void	render_process(struct prom_buf *, const struct metrics_proc *);
static void	render_info(struct prom_buf *, const struct metrics_info *);
static void	render_http(struct prom_buf *, const struct metrics_block *);
static void	render_store(struct prom_buf *, const struct metrics_block *,
		    const char *);
static void	render_jobs(struct prom_buf *, const struct metrics_block *);
static void	render_sio(struct prom_buf *, const struct metrics_block *);
static void	render_ext(struct prom_buf *, const struct metrics_block *,
		    const struct metrics_info *);
static void	render_counter(struct prom_buf *, const char *, const char *,
		    uint64_t);
static void	render_gauge(struct prom_buf *, const char *, const char *,
		    uint64_t);
static uint64_t	hist_count(const struct metrics_hist *,
		    const struct prom_hist_def *);

/* Route templates: kore.conf's exact routes are their own. */
static const char *const	routes[METRICS_ROUTES] = {
	"/", "/app.js", "/style.css", "/favicon.svg", "/favicon.ico",
	"/socket.io/socket.io.min.js", "/healthz", "/readyz", "/livez",
	"/realtime/health", "/metrics", "/openapi.json", "/auth/signup",
	"/auth/login", "/auth/refresh_token", "/auth/me", "/socket.io/",
	"/todos", "/todos/:id", "/projects", "/projects/:id",
	"other"
};

/* kore.conf's regex routes, by template. */
static const struct {
	const char	*pattern;
	const char	*route;
} patterns[] = {
	{ "^/todos/?$",			"/todos" },
	{ "^/todos/[^/]+$",		"/todos/:id" },
	{ "^/projects/?$",		"/projects" },
	{ "^/projects/[^/]+$",		"/projects/:id" },
};

static const char *const	methods[METRICS_METHODS] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"
};

static const int		statuses[METRICS_STATUSES - 1] = {
	101, 200, 201, 204, 206, 301, 302, 304, 307, 308,
	400, 401, 403, 404, 405, 406, 408, 409, 410, 411,
	412, 413, 414, 415, 416, 422, 426, 429, 431,
	500, 501, 502, 503, 504
};

/* Bucket bounds, in microseconds. */
static const uint64_t		http_bounds[] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 30000000, 60000000
};
static const uint64_t		store_bounds[] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
	250000, 500000, 1000000, 2500000, 5000000
};
static const uint64_t		fanout_bounds[] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
	250000, 500000, 1000000
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

_Static_assert(NELEM(http_bounds) <= METRICS_BUCKETS_MAX, "http buckets");
_Static_assert(NELEM(store_bounds) <= METRICS_BUCKETS_MAX, "store buckets");
_Static_assert(NELEM(fanout_bounds) <= METRICS_BUCKETS_MAX, "fanout buckets");

const struct prom_hist_def	metrics_http_buckets = {
	http_bounds, NELEM(http_bounds), 1e6
};
const struct prom_hist_def	metrics_store_buckets = {
	store_bounds, NELEM(store_bounds), 1e6
};
const struct prom_hist_def	metrics_fanout_buckets = {
	fanout_bounds, NELEM(fanout_bounds), 1e6
};

/* One observation of us microseconds; any thread, any process. */
void
metrics_observe(struct metrics_hist *h, const struct prom_hist_def *def,
    uint64_t us)
{
	(void)__atomic_fetch_add(&h->bucket[prom_bucket(def, us)], 1,
	    __ATOMIC_RELAXED);
	(void)__atomic_fetch_add(&h->sum, us, __ATOMIC_RELAXED);
}

/* The template of a Kore route (its path or pattern in kore.conf). */
size_t
metrics_route_index(const char *path)
{
	size_t		i, k;

	if (path == NULL)
		return (METRICS_ROUTE_OTHER);

	if (path[0] == '^') {
		for (i = 0; i < NELEM(patterns); i++) {
			if (strcmp(path, patterns[i].pattern) != 0)
				continue;
			for (k = 0; k < METRICS_ROUTE_OTHER; k++) {
				if (!strcmp(routes[k], patterns[i].route))
					return (k);
			}
		}
		return (METRICS_ROUTE_OTHER);
	}

	/* Templates with a parameter are no exact route's. */
	for (k = 0; k < METRICS_ROUTE_OTHER; k++) {
		if (strchr(routes[k], ':') == NULL && !strcmp(routes[k], path))
			return (k);
	}

	return (METRICS_ROUTE_OTHER);
}

const char *
metrics_route_label(size_t i)
{
	return (i < METRICS_ROUTES ? routes[i] : NULL);
}

const char *
metrics_method_label(size_t i)
{
	return (i < METRICS_METHODS ? methods[i] : NULL);
}

size_t
metrics_status_index(int status)
{
	size_t		i;

	for (i = 0; i < NELEM(statuses); i++) {
		if (statuses[i] == status)
			return (i);
	}

	return (METRICS_STATUS_OTHER);
}

/*
 * The sum of n blocks that their workers may be writing meanwhile: each
 * word is read once, atomically; a histogram's count is the sum of the
 * buckets read, so it always matches its +Inf bucket.
 */
void
metrics_sum(const struct metrics_block *blocks, size_t n,
    struct metrics_block *out)
{
	const uint64_t	*w;
	uint64_t	*o;
	size_t		 i, k, words;

	words = sizeof(*out) / sizeof(uint64_t);
	memset(out, 0, sizeof(*out));
	o = (uint64_t *)(void *)out;

	for (i = 0; i < n; i++) {
		w = (const uint64_t *)(const void *)&blocks[i];
		for (k = 0; k < words; k++)
			o[k] += __atomic_load_n(&w[k], __ATOMIC_RELAXED);
	}
}

void
metrics_render(struct prom_buf *b, const struct metrics_block *sum,
    const struct metrics_proc *proc, const struct metrics_info *info)
{
	render_process(b, proc);
	render_info(b, info);
	render_http(b, sum);
	render_store(b, sum, info->backend);
	render_jobs(b, sum);
	render_sio(b, sum);
	render_ext(b, sum, info);
}

static void
render_process(struct prom_buf *b, const struct metrics_proc *p)
{
	if (p->nproc > 0) {
		prom_family(b, "process_cpu_seconds_total", "counter",
		    "Total user and system CPU time spent in seconds, korio's "
		    "parent process and its workers together.");
		prom_sample(b, "process_cpu_seconds_total", NULL, 0,
		    p->cpu_seconds);
		prom_family(b, "process_resident_memory_bytes", "gauge",
		    "Resident memory size in bytes, the parent and the "
		    "workers together (pages they share count once each).");
		prom_sample_u64(b, "process_resident_memory_bytes", NULL, 0,
		    p->rss_bytes);
	}
	if (p->nfds > 0) {
		prom_family(b, "process_open_fds", "gauge",
		    "Number of open file descriptors, the parent and the "
		    "workers together.");
		prom_sample_u64(b, "process_open_fds", NULL, 0, p->open_fds);
	}
	if (p->start_time > 0) {
		prom_family(b, "process_start_time_seconds", "gauge",
		    "Start time of korio's parent process since unix epoch "
		    "in seconds.");
		prom_sample(b, "process_start_time_seconds", NULL, 0,
		    p->start_time);
	}
}

static void
render_info(struct prom_buf *b, const struct metrics_info *info)
{
	prom_family(b, "korio_build_info", "gauge",
	    "korio's version and those of Kore and the libraries it runs "
	    "on, as labels; always 1.");
	prom_sample_u64(b, "korio_build_info", info->build, info->nbuild, 1);

	render_gauge(b, "korio_workers",
	    "Kore worker processes the korio_ metrics are summed over.",
	    info->workers);
}

static void
render_http(struct prom_buf *b, const struct metrics_block *m)
{
	struct prom_label	l[3];
	size_t			r, k, s;
	char			num[8];

	prom_family(b, "korio_http_requests_total", "counter",
	    "HTTP requests answered, by route template (other: a path no "
	    "route takes), method and status.");
	for (r = 0; r < METRICS_ROUTES; r++) {
		for (k = 0; k < METRICS_METHODS; k++) {
			for (s = 0; s < METRICS_STATUSES; s++) {
				if (m->http_requests[r][k][s] == 0)
					continue;
				if (s == METRICS_STATUS_OTHER)
					(void)snprintf(num, sizeof(num),
					    "other");
				else
					(void)snprintf(num, sizeof(num), "%d",
					    statuses[s]);
				l[0] = (struct prom_label){ "route",
				    routes[r] };
				l[1] = (struct prom_label){ "method",
				    methods[k] };
				l[2] = (struct prom_label){ "status", num };
				prom_sample_u64(b, "korio_http_requests_total",
				    l, 3, m->http_requests[r][k][s]);
			}
		}
	}

	prom_family(b, "korio_http_request_duration_seconds", "histogram",
	    "Time from a request's head being read to its answer being "
	    "queued, by route template and method (Engine.IO long polls "
	    "wait for news in it).");
	for (r = 0; r < METRICS_ROUTES; r++) {
		for (k = 0; k < METRICS_METHODS; k++) {
			if (hist_count(&m->http_duration[r][k],
			    &metrics_http_buckets) == 0)
				continue;
			l[0] = (struct prom_label){ "route", routes[r] };
			l[1] = (struct prom_label){ "method", methods[k] };
			prom_histogram(b, "korio_http_request_duration_seconds",
			    l, 2, &metrics_http_buckets,
			    m->http_duration[r][k].bucket,
			    m->http_duration[r][k].sum);
		}
	}
}

static void
render_store(struct prom_buf *b, const struct metrics_block *m,
    const char *backend)
{
	struct prom_label	l[2];
	size_t			i;

	prom_family(b, "korio_store_operation_duration_seconds", "histogram",
	    "Time of each call to the store's backend, on the job pool's "
	    "threads, by backend and operation (get and find_one are list "
	    "calls).");
	for (i = 0; i < STORE_CALL_MAX; i++) {
		if (hist_count(&m->store_duration[i],
		    &metrics_store_buckets) == 0)
			continue;
		l[0] = (struct prom_label){ "backend", backend };
		l[1] = (struct prom_label){ "op", store_call_name(i) };
		prom_histogram(b, "korio_store_operation_duration_seconds", l,
		    2, &metrics_store_buckets, m->store_duration[i].bucket,
		    m->store_duration[i].sum);
	}
}

static void
render_jobs(struct prom_buf *b, const struct metrics_block *m)
{
	static const char *const	pools[METRICS_JOB_POOLS] = {
		"store", "hash"
	};
	struct prom_label		l;
	size_t				i;

	prom_family(b, "korio_job_queue_depth", "gauge",
	    "Jobs waiting for a thread of a pool (store: store calls; hash: "
	    "password hashing), all workers.");
	for (i = 0; i < METRICS_JOB_POOLS; i++) {
		l = (struct prom_label){ "pool", pools[i] };
		prom_sample_u64(b, "korio_job_queue_depth", &l, 1,
		    m->job_waiting[i]);
	}
}

static void
render_sio(struct prom_buf *b, const struct metrics_block *m)
{
	const struct sio_stats	*s = &m->sio;
	struct prom_label	l;

	prom_family(b, "korio_sockets", "gauge",
	    "Open Engine.IO sessions (Socket.IO client connections) by "
	    "their transport now.");
	l = (struct prom_label){ "transport", "polling" };
	prom_sample_u64(b, "korio_sockets", &l, 1, s->sessions_polling);
	l = (struct prom_label){ "transport", "websocket" };
	prom_sample_u64(b, "korio_sockets", &l, 1, s->sessions_websocket);

	render_gauge(b, "korio_relayed_sessions",
	    "WebSockets held by one worker for a session another worker "
	    "owns, their frames relayed between the two.",
	    s->relayed_websockets);
	render_counter(b, "korio_relayed_requests_total",
	    "Engine.IO polling requests and WebSocket upgrades relayed to "
	    "the worker that owns their session.", s->relayed_requests);
	render_gauge(b, "korio_rooms",
	    "Socket.IO rooms with members, counted on each worker and "
	    "summed (a room with members on two workers counts twice).",
	    s->rooms);
	render_counter(b, "korio_sio_events_received_total",
	    "Socket.IO events received from clients (those the rate limit "
	    "dropped included).", s->events_received);
	render_counter(b, "korio_sio_events_sent_total",
	    "Socket.IO events sent, once per recipient socket.",
	    s->events_sent);
	render_counter(b, "korio_broadcasts_total",
	    "Socket.IO broadcasts made, each fanned out on every worker "
	    "(the per-worker presence updates are not counted).",
	    s->broadcasts);

	prom_family(b, "korio_broadcast_fanout_seconds", "histogram",
	    "Time from a broadcast being made, on any worker, to its "
	    "frames being queued for every recipient on one worker: one "
	    "observation per broadcast and worker.");
	prom_histogram(b, "korio_broadcast_fanout_seconds", NULL, 0,
	    &metrics_fanout_buckets, m->fanout.bucket, m->fanout.sum);

	render_counter(b, "korio_rate_limit_drops_total",
	    "Socket.IO events and CONNECTs dropped by the per-connection "
	    "rate limit (RATE_LIMIT_RATE, RATE_LIMIT_BURST).",
	    m->rate_limit_drops);

	render_gauge(b, "korio_redis_connected",
	    "Cluster mode (REDIS_URL): 1 while the worker holding the "
	    "subscriber has its Redis connections up, else 0.",
	    s->redis_connected);
	render_counter(b, "korio_redis_published_total",
	    "Messages PUBLISHed to Redis (broadcasts, replies).",
	    s->redis_published);
	render_counter(b, "korio_redis_received_total",
	    "Messages received from Redis (broadcasts, requests).",
	    s->redis_received);
	render_counter(b, "korio_redis_dropped_total",
	    "Messages for Redis dropped: past REDIS_QUEUE_MAX or "
	    "REDIS_QUEUE_BYTES while Redis was slow or down.",
	    s->redis_dropped);
	render_counter(b, "korio_redis_bad_messages_total",
	    "Malformed messages from Redis, dropped.", s->redis_bad);
	render_counter(b, "korio_redis_relayed_total",
	    "Engine.IO relay messages published for another korio node: "
	    "polling requests, upgrades and WebSocket frames of sessions "
	    "it owns, and the answers to its own.", s->remote_relayed);
}

static void
render_ext(struct prom_buf *b, const struct metrics_block *m,
    const struct metrics_info *info)
{
	size_t		i;

	for (i = 0; i < info->next; i++) {
		if (info->ext[i].slot >= METRICS_EXT_MAX)
			continue;
		render_counter(b, info->ext[i].name, info->ext[i].help,
		    m->ext[info->ext[i].slot]);
	}
}

static void
render_counter(struct prom_buf *b, const char *name, const char *help,
    uint64_t v)
{
	prom_family(b, name, "counter", help);
	prom_sample_u64(b, name, NULL, 0, v);
}

static void
render_gauge(struct prom_buf *b, const char *name, const char *help,
    uint64_t v)
{
	prom_family(b, name, "gauge", help);
	prom_sample_u64(b, name, NULL, 0, v);
}

static uint64_t
hist_count(const struct metrics_hist *h, const struct prom_hist_def *def)
{
	uint64_t	n;
	size_t		i;

	for (i = n = 0; i <= def->nb; i++)
		n += h->bucket[i];

	return (n);
}
