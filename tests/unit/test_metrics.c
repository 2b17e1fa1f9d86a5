/*
 * test_metrics.c: unit tests for the pure half of korio's metrics:
 * src/app/metrics/prom.c (the text format: escaping, numbers, histogram
 * buckets), metrics_render.c (route and status tables, summing blocks,
 * the families) and metrics_proc.c (/proc parsing, this process read).
 * Every text made is checked line by line against the exposition
 * format's grammar (text_valid()). store_call_name() is stubbed here.
 */

#include <sys/types.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "metrics/metrics.h"
#include "test_help.h"

static int	text_valid(const char *);
static int	line_sample(const char *, size_t, char *, size_t);
static int	has_line(const struct prom_buf *, const char *);
static void	fmt(double, char *, size_t);

static int	test_escape(void);
static int	test_numbers(void);
static int	test_family(void);
static int	test_buckets(void);
static int	test_histogram(void);
static int	test_names(void);
static int	test_routes(void);
static int	test_observe_sum(void);
static int	test_render(void);
static int	test_render_empty(void);
static int	test_proc_parse(void);
static int	test_proc_self(void);

int
main(void)
{
	TEST_RUN(test_escape);
	TEST_RUN(test_numbers);
	TEST_RUN(test_family);
	TEST_RUN(test_buckets);
	TEST_RUN(test_histogram);
	TEST_RUN(test_names);
	TEST_RUN(test_routes);
	TEST_RUN(test_observe_sum);
	TEST_RUN(test_render);
	TEST_RUN(test_render_empty);
	TEST_RUN(test_proc_parse);
	TEST_RUN(test_proc_self);

	return (TEST_REPORT("test_metrics"));
}

/* Link-time stand-in for store.c's (metrics_render.c labels ops). */
const char *
store_call_name(enum store_call op)
{
	static const char *const	names[STORE_CALL_MAX] = {
		"ping", "insert", "list", "update", "delete", "delete_project"
	};

	return ((int)op >= 0 && op < STORE_CALL_MAX ? names[op] : NULL);
}

/*
 * Whether text is valid exposition format 0.0.4: lines end in '\n';
 * "# HELP" and "# TYPE" name a valid metric, at most once each and
 * before its samples; samples are name{label="value",...} value, label
 * values escaped, the value a number, +Inf, -Inf or NaN; a family's
 * samples come together (histograms: _bucket, _sum, _count).
 */
static int
text_valid(const char *text)
{
	char		 fam[PROM_NAME_MAX + 1], cur[PROM_NAME_MAX + 1];
	char		 typed[64][PROM_NAME_MAX + 1], type[16];
	const char	*p, *nl;
	size_t		 len, ntyped, i;
	int		 hist;

	ntyped = 0;
	cur[0] = '\0';
	hist = 0;
	for (p = text; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			return (0);
		len = (size_t)(nl - p);
		if (len > 7 && !strncmp(p, "# TYPE ", 7)) {
			if (sscanf(p + 7, "%128s %15s", fam, type) != 2 ||
			    !prom_name_valid(fam))
				return (0);
			if (strcmp(type, "counter") && strcmp(type, "gauge") &&
			    strcmp(type, "histogram"))
				return (0);
			for (i = 0; i < ntyped; i++) {
				if (!strcmp(typed[i], fam))
					return (0);
			}
			if (ntyped == 64)
				return (0);
			(void)snprintf(typed[ntyped++], sizeof(typed[0]), "%s",
			    fam);
			(void)snprintf(cur, sizeof(cur), "%s", fam);
			hist = !strcmp(type, "histogram");
			continue;
		}
		if (len > 7 && !strncmp(p, "# HELP ", 7))
			continue;
		if (len == 0 || p[0] == '#')
			return (0);
		if (!line_sample(p, len, fam, sizeof(fam)))
			return (0);
		/* The sample's family must be the one typed last. */
		if (hist) {
			len = strlen(cur);
			if (strncmp(fam, cur, len) != 0 ||
			    (strcmp(fam + len, "_bucket") &&
			    strcmp(fam + len, "_sum") &&
			    strcmp(fam + len, "_count")))
				return (0);
		} else if (strcmp(fam, cur) != 0) {
			return (0);
		}
	}

	return (1);
}

/* One sample line p[0..len): its metric name into name. */
static int
line_sample(const char *p, size_t len, char *name, size_t namelen)
{
	char		 value[64], label[PROM_NAME_MAX + 1], *end;
	size_t		 i, n;

	for (i = 0; i < len && p[i] != '{' && p[i] != ' '; i++)
		;
	if (i == 0 || i >= namelen)
		return (0);
	memcpy(name, p, i);
	name[i] = '\0';
	if (!prom_name_valid(name))
		return (0);

	if (i < len && p[i] == '{') {
		i++;
		for (;;) {
			for (n = 0; i < len && p[i] != '='; i++, n++) {
				if (n >= sizeof(label) - 1)
					return (0);
				label[n] = p[i];
			}
			label[n] = '\0';
			if (!prom_label_valid(label) || i + 1 >= len ||
			    p[i + 1] != '"')
				return (0);
			for (i += 2; i < len && p[i] != '"'; i++) {
				if (p[i] == '\\') {
					if (i + 1 >= len || (p[i + 1] != '\\' &&
					    p[i + 1] != '"' && p[i + 1] != 'n'))
						return (0);
					i++;
				}
			}
			if (i >= len)
				return (0);
			i++;
			if (i < len && p[i] == ',') {
				i++;
				continue;
			}
			if (i < len && p[i] == '}') {
				i++;
				break;
			}
			return (0);
		}
	}

	if (i >= len || p[i] != ' ' || len - i - 1 >= sizeof(value) ||
	    len - i - 1 == 0)
		return (0);
	memcpy(value, p + i + 1, len - i - 1);
	value[len - i - 1] = '\0';
	if (!strcmp(value, "+Inf") || !strcmp(value, "-Inf") ||
	    !strcmp(value, "NaN"))
		return (1);
	(void)strtod(value, &end);

	return (*end == '\0' && strspn(value, "0123456789.-+e") ==
	    strlen(value));
}

static int
has_line(const struct prom_buf *b, const char *line)
{
	const char	*p;
	size_t		 len;

	len = strlen(line);
	for (p = b->data; p != NULL && (p = strstr(p, line)) != NULL; p++) {
		if ((p == b->data || p[-1] == '\n') && p[len] == '\n')
			return (1);
	}

	return (0);
}

static void
fmt(double v, char *out, size_t len)
{
	struct prom_buf	b;

	prom_buf_init(&b);
	prom_double(&b, v);
	(void)snprintf(out, len, "%s", b.data != NULL ? b.data : "");
	prom_buf_free(&b);
}

static int
test_escape(void)
{
	struct prom_buf		b;

	prom_buf_init(&b);
	prom_escape_label(&b, "a\\b\"c\nd\xc3\xa9");
	TEST_ASSERT(!strcmp(b.data, "a\\\\b\\\"c\\nd\xc3\xa9"));
	prom_buf_free(&b);

	prom_buf_init(&b);
	prom_escape_help(&b, "a\\b\"c\nd");
	TEST_ASSERT(!strcmp(b.data, "a\\\\b\"c\\nd"));
	prom_buf_free(&b);

	prom_buf_init(&b);
	prom_escape_label(&b, NULL);
	TEST_ASSERT(b.len == 0 && !b.failed);
	prom_buf_free(&b);

	return (0);
}

/* Numbers as Go's FormatFloat(v, 'g', -1) writes them; exact integers. */
static int
test_numbers(void)
{
	struct prom_buf		b;
	char			s[32];

	fmt(0.0005, s, sizeof(s));
	TEST_ASSERT(!strcmp(s, "0.0005"));
	fmt(10, s, sizeof(s));
	TEST_ASSERT(!strcmp(s, "10"));
	fmt(0, s, sizeof(s));
	TEST_ASSERT(!strcmp(s, "0"));
	fmt(1796221014.92, s, sizeof(s));
	TEST_ASSERT(!strcmp(s, "1796221014.92"));
	fmt(0.1 + 0.2, s, sizeof(s));
	TEST_ASSERT(strtod(s, NULL) == 0.1 + 0.2);
	fmt(1e-5, s, sizeof(s));
	TEST_ASSERT(!strcmp(s, "1e-05"));
	fmt(1e21, s, sizeof(s));
	TEST_ASSERT(!strcmp(s, "1e+21"));
	fmt(-2.5, s, sizeof(s));
	TEST_ASSERT(!strcmp(s, "-2.5"));
	fmt(INFINITY, s, sizeof(s));
	TEST_ASSERT(!strcmp(s, "+Inf"));
	fmt(-INFINITY, s, sizeof(s));
	TEST_ASSERT(!strcmp(s, "-Inf"));
	fmt(NAN, s, sizeof(s));
	TEST_ASSERT(!strcmp(s, "NaN"));

	prom_buf_init(&b);
	prom_sample_u64(&b, "a_total", NULL, 0, UINT64_MAX);
	TEST_ASSERT(!strcmp(b.data, "a_total 18446744073709551615\n"));
	prom_buf_free(&b);

	return (0);
}

static int
test_family(void)
{
	struct prom_buf		b;
	struct prom_label	l[2] = { { "route", "/a\"b" }, { "m", "GET" } };

	prom_buf_init(&b);
	prom_family(&b, "x_total", "counter", "Things.\nMore \\ things.");
	prom_sample_u64(&b, "x_total", l, 2, 3);
	prom_sample(&b, "x_total", NULL, 0, 0.25);
	TEST_ASSERT(!strcmp(b.data,
	    "# HELP x_total Things.\\nMore \\\\ things.\n"
	    "# TYPE x_total counter\n"
	    "x_total{route=\"/a\\\"b\",m=\"GET\"} 3\n"
	    "x_total 0.25\n"));
	TEST_ASSERT(text_valid(b.data));
	prom_buf_free(&b);

	/* The validator can fail: a sample before its TYPE, a bad escape. */
	TEST_ASSERT(!text_valid("x_total 1\n"));
	TEST_ASSERT(!text_valid("# TYPE x counter\nx{a=\"\\q\"} 1\n"));
	TEST_ASSERT(!text_valid("# TYPE x counter\nx 1x\n"));
	TEST_ASSERT(!text_valid("# TYPE x counter\n# TYPE x counter\nx 1\n"));
	TEST_ASSERT(!text_valid("# TYPE x counter\ny 1\n"));
	TEST_ASSERT(!text_valid("# TYPE x counter\nx 1"));

	return (0);
}

/* le is "less than or equal": a value on a bound is in its bucket. */
static int
test_buckets(void)
{
	static const uint64_t		bounds[] = { 10, 20, 50 };
	const struct prom_hist_def	def = { bounds, 3, 1e6 };

	TEST_ASSERT(prom_bucket(&def, 0) == 0);
	TEST_ASSERT(prom_bucket(&def, 10) == 0);
	TEST_ASSERT(prom_bucket(&def, 11) == 1);
	TEST_ASSERT(prom_bucket(&def, 20) == 1);
	TEST_ASSERT(prom_bucket(&def, 49) == 2);
	TEST_ASSERT(prom_bucket(&def, 50) == 2);
	TEST_ASSERT(prom_bucket(&def, 51) == 3);
	TEST_ASSERT(prom_bucket(&def, UINT64_MAX) == 3);

	TEST_ASSERT(prom_bucket(&metrics_http_buckets, 500) == 0);
	TEST_ASSERT(prom_bucket(&metrics_http_buckets, 501) == 1);
	TEST_ASSERT(prom_bucket(&metrics_http_buckets, 3600000000ULL) ==
	    metrics_http_buckets.nb);

	return (0);
}

/* Cumulative buckets, +Inf last and equal to _count; the sum in s. */
static int
test_histogram(void)
{
	static const uint64_t		bounds[] = { 500, 1000000 };
	const struct prom_hist_def	def = { bounds, 2, 1e6 };
	const uint64_t			counts[3] = { 2, 0, 5 };
	struct prom_label		l = { "op", "list" };
	struct prom_buf			b;

	prom_buf_init(&b);
	prom_family(&b, "h_seconds", "histogram", "H.");
	prom_histogram(&b, "h_seconds", &l, 1, &def, counts, 12500000);
	prom_histogram(&b, "h_seconds", NULL, 0, &def, counts, 1);
	TEST_ASSERT(text_valid(b.data));
	TEST_ASSERT(has_line(&b,
	    "h_seconds_bucket{op=\"list\",le=\"0.0005\"} 2"));
	TEST_ASSERT(has_line(&b, "h_seconds_bucket{op=\"list\",le=\"1\"} 2"));
	TEST_ASSERT(has_line(&b,
	    "h_seconds_bucket{op=\"list\",le=\"+Inf\"} 7"));
	TEST_ASSERT(has_line(&b, "h_seconds_sum{op=\"list\"} 12.5"));
	TEST_ASSERT(has_line(&b, "h_seconds_count{op=\"list\"} 7"));
	TEST_ASSERT(has_line(&b, "h_seconds_bucket{le=\"+Inf\"} 7"));
	TEST_ASSERT(has_line(&b, "h_seconds_sum 1e-06"));
	prom_buf_free(&b);

	return (0);
}

static int
test_names(void)
{
	TEST_ASSERT(prom_name_valid("korio_http_requests_total"));
	TEST_ASSERT(prom_name_valid("a:b_c9"));
	TEST_ASSERT(!prom_name_valid("9a"));
	TEST_ASSERT(!prom_name_valid(""));
	TEST_ASSERT(!prom_name_valid("a-b"));
	TEST_ASSERT(prom_label_valid("le"));
	TEST_ASSERT(!prom_label_valid("__name__"));
	TEST_ASSERT(!prom_label_valid("a:b"));
	TEST_ASSERT(!prom_label_valid("1a"));

	return (0);
}

/* kore.conf's routes by template; anything else is other. */
static int
test_routes(void)
{
	TEST_ASSERT(!strcmp(metrics_route_label(metrics_route_index(
	    "^/todos/[^/]+$")), "/todos/:id"));
	TEST_ASSERT(!strcmp(metrics_route_label(metrics_route_index(
	    "^/todos/?$")), "/todos"));
	TEST_ASSERT(!strcmp(metrics_route_label(metrics_route_index(
	    "^/projects/[^/]+$")), "/projects/:id"));
	TEST_ASSERT(!strcmp(metrics_route_label(metrics_route_index(
	    "/healthz")), "/healthz"));
	TEST_ASSERT(!strcmp(metrics_route_label(metrics_route_index(
	    "/socket.io/")), "/socket.io/"));
	TEST_ASSERT(!strcmp(metrics_route_label(metrics_route_index(
	    "/openapi.json")), "/openapi.json"));
	TEST_ASSERT(metrics_route_index("/todos/:id") == METRICS_ROUTE_OTHER);
	TEST_ASSERT(metrics_route_index("^/other$") == METRICS_ROUTE_OTHER);
	TEST_ASSERT(metrics_route_index("/nope") == METRICS_ROUTE_OTHER);
	TEST_ASSERT(metrics_route_index(NULL) == METRICS_ROUTE_OTHER);
	TEST_ASSERT(!strcmp(metrics_route_label(METRICS_ROUTE_OTHER),
	    "other"));
	TEST_ASSERT(metrics_route_label(METRICS_ROUTES) == NULL);

	TEST_ASSERT(metrics_status_index(200) != METRICS_STATUS_OTHER);
	TEST_ASSERT(metrics_status_index(429) != METRICS_STATUS_OTHER);
	TEST_ASSERT(metrics_status_index(200) != metrics_status_index(201));
	TEST_ASSERT(metrics_status_index(299) == METRICS_STATUS_OTHER);
	TEST_ASSERT(!strcmp(metrics_method_label(0), "GET"));
	TEST_ASSERT(metrics_method_label(METRICS_METHODS) == NULL);

	return (0);
}

/* Observations land in their bucket; blocks sum word by word. */
static int
test_observe_sum(void)
{
	struct metrics_block	*blocks, *sum;
	size_t			 i, words;
	uint64_t		*w;

	blocks = calloc(3, sizeof(*blocks));
	sum = calloc(1, sizeof(*sum));
	TEST_ASSERT(blocks != NULL && sum != NULL);

	metrics_observe(&blocks[0].fanout, &metrics_fanout_buckets, 100);
	metrics_observe(&blocks[0].fanout, &metrics_fanout_buckets, 101);
	metrics_observe(&blocks[1].fanout, &metrics_fanout_buckets, 5000000);
	TEST_ASSERT(blocks[0].fanout.bucket[0] == 1);
	TEST_ASSERT(blocks[0].fanout.bucket[1] == 1);
	TEST_ASSERT(blocks[0].fanout.sum == 201);
	TEST_ASSERT(blocks[1].fanout.bucket[metrics_fanout_buckets.nb] == 1);

	words = sizeof(*blocks) / sizeof(uint64_t);
	w = (uint64_t *)(void *)&blocks[2];
	for (i = 0; i < words; i++)
		w[i] = i;
	blocks[0].sio.sessions_polling = 2;
	blocks[1].sio.sessions_polling = 3;

	metrics_sum(blocks, 3, sum);
	TEST_ASSERT(sum->fanout.bucket[0] == 1 + blocks[2].fanout.bucket[0]);
	TEST_ASSERT(sum->fanout.sum == 5000201 + blocks[2].fanout.sum);
	TEST_ASSERT(sum->sio.sessions_polling ==
	    5 + blocks[2].sio.sessions_polling);
	TEST_ASSERT(sum->http_requests[1][2][3] ==
	    blocks[2].http_requests[1][2][3]);
	TEST_ASSERT(sum->ext[METRICS_EXT_MAX - 1] ==
	    blocks[2].ext[METRICS_EXT_MAX - 1]);

	metrics_sum(blocks, 0, sum);
	TEST_ASSERT(sum->fanout.sum == 0 && sum->rate_limit_drops == 0);

	free(blocks);
	free(sum);

	return (0);
}

/* Every family, valid text, the counts where they belong. */
static int
test_render(void)
{
	static const struct metrics_ext	ext[] = {
		{ 3, "korio_ext_example_total", "Published." },
	};
	struct prom_label	build[2] = {
		{ "version", "0.2.0" }, { "kore", "4.1.0" }
	};
	struct metrics_block	*m;
	struct metrics_proc	 proc;
	struct metrics_info	 info;
	struct prom_buf		 b;
	size_t			 route;

	m = calloc(1, sizeof(*m));
	TEST_ASSERT(m != NULL);
	route = metrics_route_index("^/todos/[^/]+$");
	m->http_requests[route][0][metrics_status_index(200)] = 7;
	m->http_requests[METRICS_ROUTE_OTHER][2][METRICS_STATUS_OTHER] = 1;
	metrics_observe(&m->http_duration[route][0], &metrics_http_buckets,
	    3000);
	metrics_observe(&m->store_duration[STORE_CALL_LIST],
	    &metrics_store_buckets, 120);
	m->job_waiting[1] = 4;
	m->sio.sessions_polling = 2;
	m->sio.sessions_websocket = 5;
	m->sio.events_sent = 11;
	m->rate_limit_drops = 9;
	m->ext[3] = 42;

	memset(&proc, 0, sizeof(proc));
	proc.nproc = 3;
	proc.cpu_seconds = 1.5;
	proc.rss_bytes = 4096;
	proc.nfds = 3;
	proc.open_fds = 30;
	proc.start_time = 1700000000.5;

	memset(&info, 0, sizeof(info));
	info.build = build;
	info.nbuild = 2;
	info.backend = "sqlite";
	info.workers = 2;
	info.ext = ext;
	info.next = 1;

	prom_buf_init(&b);
	metrics_render(&b, m, &proc, &info);
	TEST_ASSERT(!b.failed);
	TEST_ASSERT(text_valid(b.data));
	TEST_ASSERT(has_line(&b, "process_cpu_seconds_total 1.5"));
	TEST_ASSERT(has_line(&b, "process_resident_memory_bytes 4096"));
	TEST_ASSERT(has_line(&b, "process_open_fds 30"));
	TEST_ASSERT(has_line(&b, "process_start_time_seconds 1700000000.5"));
	TEST_ASSERT(has_line(&b,
	    "korio_build_info{version=\"0.2.0\",kore=\"4.1.0\"} 1"));
	TEST_ASSERT(has_line(&b, "korio_workers 2"));
	TEST_ASSERT(has_line(&b, "korio_http_requests_total"
	    "{route=\"/todos/:id\",method=\"GET\",status=\"200\"} 7"));
	TEST_ASSERT(has_line(&b, "korio_http_requests_total"
	    "{route=\"other\",method=\"POST\",status=\"other\"} 1"));
	TEST_ASSERT(has_line(&b, "korio_http_request_duration_seconds_bucket"
	    "{route=\"/todos/:id\",method=\"GET\",le=\"0.0025\"} 0"));
	TEST_ASSERT(has_line(&b, "korio_http_request_duration_seconds_bucket"
	    "{route=\"/todos/:id\",method=\"GET\",le=\"0.005\"} 1"));
	TEST_ASSERT(has_line(&b, "korio_http_request_duration_seconds_count"
	    "{route=\"/todos/:id\",method=\"GET\"} 1"));
	TEST_ASSERT(strstr(b.data, "duration_seconds_count{route=\"/healthz\"")
	    == NULL);
	TEST_ASSERT(has_line(&b, "korio_store_operation_duration_seconds_sum"
	    "{backend=\"sqlite\",op=\"list\"} 0.00012"));
	TEST_ASSERT(strstr(b.data, "op=\"ping\"") == NULL);
	TEST_ASSERT(has_line(&b, "korio_job_queue_depth{pool=\"hash\"} 4"));
	TEST_ASSERT(has_line(&b, "korio_sockets{transport=\"polling\"} 2"));
	TEST_ASSERT(has_line(&b, "korio_sockets{transport=\"websocket\"} 5"));
	TEST_ASSERT(has_line(&b, "korio_sio_events_sent_total 11"));
	TEST_ASSERT(has_line(&b, "korio_broadcast_fanout_seconds_count 0"));
	TEST_ASSERT(has_line(&b, "korio_rate_limit_drops_total 9"));
	TEST_ASSERT(has_line(&b, "# TYPE korio_ext_example_total counter"));
	TEST_ASSERT(has_line(&b, "korio_ext_example_total 42"));
	prom_buf_free(&b);
	free(m);

	return (0);
}

/* Nothing counted, /proc unknown: still valid, process_* left out. */
static int
test_render_empty(void)
{
	struct metrics_block	*m;
	struct metrics_proc	 proc;
	struct metrics_info	 info;
	struct prom_buf		 b;

	m = calloc(1, sizeof(*m));
	TEST_ASSERT(m != NULL);
	memset(&proc, 0, sizeof(proc));
	memset(&info, 0, sizeof(info));
	info.backend = "mongodb";

	prom_buf_init(&b);
	metrics_render(&b, m, &proc, &info);
	TEST_ASSERT(text_valid(b.data));
	TEST_ASSERT(strstr(b.data, "process_") == NULL);
	TEST_ASSERT(has_line(&b, "korio_build_info 1"));
	TEST_ASSERT(has_line(&b,
	    "# TYPE korio_http_request_duration_seconds histogram"));
	prom_buf_free(&b);
	free(m);

	return (0);
}

static int
test_proc_parse(void)
{
	static const char	line[] = "4242 (a) (b c) S 1 4242 4242 0 -1 "
	    "4194560 1331 0 0 0 57 13 0 0 20 0 1 0 8177 22528000 1234 "
	    "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";
	static const char	stat[] = "cpu  1 2 3\nintr 1 2 3\n"
	    "btime 1700000000\nprocesses 10\n";
	struct metrics_pstat	ps;
	uint64_t		bt;

	TEST_ASSERT(metrics_proc_stat_parse(line, strlen(line), &ps));
	TEST_ASSERT(ps.utime == 57 && ps.stime == 13);
	TEST_ASSERT(ps.starttime == 8177 && ps.rss == 1234);

	/* Cut short, a letter in a number, no comm. */
	TEST_ASSERT(!metrics_proc_stat_parse(line, 60, &ps));
	TEST_ASSERT(!metrics_proc_stat_parse("1 (a) S 1 2 3 x", 15, &ps));
	TEST_ASSERT(!metrics_proc_stat_parse("no parens", 9, &ps));

	TEST_ASSERT(metrics_proc_btime_parse(stat, strlen(stat), &bt));
	TEST_ASSERT(bt == 1700000000);
	TEST_ASSERT(!metrics_proc_btime_parse("xbtime 5\n", 9, &bt));
	TEST_ASSERT(!metrics_proc_btime_parse("btime \n", 7, &bt));
	TEST_ASSERT(!metrics_proc_btime_parse("btime", 5, &bt));

	return (0);
}

/* This very process, through /proc. */
static int
test_proc_self(void)
{
	struct metrics_proc	proc;
	pid_t			pids[3];
	double			start;

	pids[0] = getpid();
	pids[1] = 0;		/* skipped */
	pids[2] = getpid();
	metrics_proc_collect(pids, 3, sysconf(_SC_CLK_TCK),
	    sysconf(_SC_PAGESIZE), &proc);
	TEST_ASSERT(proc.nproc == 2 && proc.nfds == 2);
	TEST_ASSERT(proc.rss_bytes > 0 && proc.open_fds >= 6);
	TEST_ASSERT(proc.cpu_seconds >= 0);

	start = metrics_proc_start_time(getpid(), sysconf(_SC_CLK_TCK));
	TEST_ASSERT(start > (double)time(NULL) - 600);
	TEST_ASSERT(start <= (double)time(NULL) + 1);

	return (0);
}
