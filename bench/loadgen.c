/*
 * loadgen: the benchmark's client. One process, one epoll loop, raw
 * Engine.IO 4 / Socket.IO 5 over WebSocket and plain HTTP/1.1, no
 * dependencies beyond libc and OpenSSL (SHA-1 and base64 of the upgrade).
 *
 *   loadgen setup  --port P --users U --seed K --state FILE
 *       signs up an owner and U members (the PBKDF2 cost is paid once per
 *       server), logs one of them in, creates a project owned by the owner
 *       with the U members, and gives every member K todos of their own
 *       (the data set of the REST benchmark). FILE keeps ids and tokens.
 *
 *   loadgen fanout --port P --state FILE --sizes 1000,10000 --pid PID
 *                  [--posts 50] [--warmup 5] [--batch 500] [--json OUT]
 *                  [--port2 P2] [--pid PID,PID,...]
 *                  [--procs K] [--bind ADDR,ADDR,...]
 *       for each size N (ascending; sockets are added, never dropped):
 *       connects sockets up to N (socket i is member i % U; the first U
 *       sockets are one per member so presence traffic stays small),
 *       each authenticated with 40{"token":"Bearer ..."}, joined to the
 *       project (join:project, ack {"ok":true}) and subscribed
 *       (subscribe:todos, ack {"ok":true}), so every socket qualifies
 *       twice and must still get each todo:created once. With
 *       --protocol sync (Terreno's sync events, as an rtk realtimeList of
 *       the project's todos subscribes) each socket instead sends only
 *       subscribe:query {"collection":"todos","query":{"projectId":P}}
 *       (ack {"ok":true}), waits for its query:subscribed and must get
 *       each POST as one sync {"model":"Todo","method":"create",...,
 *       "data":{...the todo...}}; a todo:created is then a stray, as a
 *       sync event is in the default --protocol todo. Then it reads
 *       the RSS of the server (PID and every descendant) against the RSS
 *       before the first socket, and makes warmup + posts sequential
 *       POST /todos into the project as its owner (who has no socket).
 *       For each POST it records the write time and, per socket, the
 *       receive time (CLOCK_MONOTONIC) of its todo:created, and the
 *       server's CPU time (utime+stime) over the measured posts.
 *
 * Many sockets (bench/up.mjs): with --procs K the sockets are held by K
 * worker processes the fanout process forks (socket i by worker i % K,
 * each worker under its own open-files limit, connecting --batch of its
 * own at a time), which answer the server's pings, check every delivery
 * as above and count it in memory the group shares; the parent makes the
 * POSTs and reads the figures. With --bind A,B,... socket i connects from
 * source address i % (number of addresses) (each has its own ~28k
 * ephemeral ports towards the server's one address and port).
 *
 * Two nodes of a cluster (bench/cluster.mjs): with --port2 the odd sockets
 * connect to P2, the even ones (and every REST request) to P; --pid then
 * takes a comma-separated list (each node's parent, redis-server), and the
 * CPU and RSS figures are the sums over every listed process and all its
 * descendants.
 *
 * A broadcast event may carry one more argument last, a string (the
 * offset of Socket.IO's connection-state recovery): it is accepted in both
 * protocols and counted ("recovery_offsets" in the JSON), as are CONNECT
 * answers with a "pid" (the session's recovery id, "connect_pids").
 *
 * A lost delivery (a socket without the event when the POST's timeout
 * expires), a duplicate, a stray todo:created or sync event, an event
 * whose todo is not the one posted (title, projectId, or an id other than
 * the POST's), a refused handshake, a closed socket or an HTTP error ends
 * the run at once with exit status 2 and a line starting "LOADGEN FAIL:".
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#define MAX_USERS	10000
#define OID_LEN		24
#define TOKEN_MAX	1024
#define RBUF_SIZE	(256 * 1024)
#define MAX_EVENTS	1024

/* ---- small helpers ---------------------------------------------------- */

static void
die(const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	fprintf(stderr, "LOADGEN FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(2);
}

static void
logf_(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "loadgen: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

static void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n ? n : 1)) == NULL)
		die("out of memory (%zu bytes)", n);
	return (p);
}

static void *
xcalloc(size_t a, size_t b)
{
	void	*p;

	if ((p = calloc(a ? a : 1, b ? b : 1)) == NULL)
		die("out of memory");
	return (p);
}

struct buf {
	char	*d;
	size_t	 len;
	size_t	 cap;
};

static void
buf_reserve(struct buf *b, size_t extra)
{
	size_t	ncap;

	if (b->len + extra <= b->cap)
		return;
	ncap = b->cap ? b->cap : 256;
	while (ncap < b->len + extra)
		ncap *= 2;
	if ((b->d = realloc(b->d, ncap)) == NULL)
		die("out of memory");
	b->cap = ncap;
}

static void
buf_add(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n + 1);
	memcpy(b->d + b->len, p, n);
	b->len += n;
	b->d[b->len] = '\0';
}

static void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b->d + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->d, b->d + n, b->len - n);
	b->len -= n;
}

static void
buf_free(struct buf *b)
{
	free(b->d);
	b->d = NULL;
	b->len = b->cap = 0;
}

/* The string value of "key":"..." in a JSON text (no escapes expected). */
static int
json_str(const char *s, size_t len, const char *key, char *out, size_t outlen)
{
	char		 pat[64];
	const char	*p, *e, *end = s + len;
	size_t		 n;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	if ((p = memmem(s, len, pat, strlen(pat))) == NULL)
		return (0);
	p += strlen(pat);
	if ((e = memchr(p, '"', (size_t)(end - p))) == NULL)
		return (0);
	n = (size_t)(e - p);
	if (n + 1 > outlen)
		return (0);
	memcpy(out, p, n);
	out[n] = '\0';
	return (1);
}

/*
 * The end of the JSON value at p (a string, an object, an array, or a
 * number or literal), or NULL if it does not end before end. Enough to
 * walk the server's own compact JSON, not a validator.
 */
static const char *
json_skip(const char *p, const char *end)
{
	int	depth = 0;

	if (p >= end)
		return (NULL);
	if (*p != '"' && *p != '{' && *p != '[') {
		while (p < end && *p != ',' && *p != '}' && *p != ']')
			p++;
		return (p);
	}
	for (; p < end; p++) {
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++) {
				if (*p == '\\')
					p++;
			}
			if (p >= end)
				return (NULL);
			if (depth == 0)
				return (p + 1);
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (--depth == 0)
				return (p + 1);
		}
	}
	return (NULL);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* Nearest-rank percentile of n sorted values. */
static uint64_t
pct(const uint64_t *v, size_t n, double p)
{
	size_t	r;

	if (n == 0)
		return (0);
	r = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (r < 1)
		r = 1;
	if (r > n)
		r = n;
	return (v[r - 1]);
}

static double
ms(uint64_t ns)
{
	return ((double)ns / 1e6);
}

/* ---- server processes: PID and all its descendants -------------------- */

#define MAX_ROOTS	8

struct procstat {
	uint64_t	cpu_ticks;	/* utime + stime */
	uint64_t	rss_bytes;
	int		nprocs;
	uint64_t	root_ticks[MAX_ROOTS];	/* each --pid's tree */
};

static int
proc_read_stat(int pid, int *ppid, uint64_t *ticks, uint64_t *rss_pages)
{
	char		 path[64], line[2048], *p;
	FILE		*f;
	unsigned long	 ut, st;
	long		 rss;
	int		 pp;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return (0);
	if (fgets(line, sizeof(line), f) == NULL) {
		fclose(f);
		return (0);
	}
	fclose(f);
	if ((p = strrchr(line, ')')) == NULL)
		return (0);
	/* after ") ": state ppid pgrp session tty tpgid flags minflt
	 * cminflt majflt cmajflt utime stime cutime cstime priority nice
	 * num_threads itrealvalue starttime vsize rss */
	if (sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%lu %lu %*d %*d %*d %*d %*d %*d %*u %*u %ld",
	    &pp, &ut, &st, &rss) != 4)
		return (0);
	*ppid = pp;
	*ticks = ut + st;
	*rss_pages = rss > 0 ? (uint64_t)rss : 0;
	return (1);
}

static int	g_roots[MAX_ROOTS];
static int	g_nroots;

static void
proc_sample(struct procstat *ps)
{
	int		 pids[4096], ppids[4096], in[4096];
	uint64_t	 ticks[4096], rss[4096];
	int		 n = 0, i, k, changed, pid, found;
	DIR		*d;
	struct dirent	*de;
	long		 page = sysconf(_SC_PAGESIZE);

	memset(ps, 0, sizeof(*ps));
	if ((d = opendir("/proc")) == NULL)
		die("opendir /proc: %s", strerror(errno));
	while ((de = readdir(d)) != NULL && n < 4096) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = atoi(de->d_name);
		if (!proc_read_stat(pid, &ppids[n], &ticks[n], &rss[n]))
			continue;
		pids[n] = pid;
		in[n] = 0;	/* 1 + the index of its root */
		for (k = 0; k < g_nroots; k++)
			if (pid == g_roots[k])
				in[n] = 1 + k;
		n++;
	}
	closedir(d);

	do {
		changed = 0;
		for (i = 0; i < n; i++) {
			int	j;

			if (in[i])
				continue;
			for (j = 0; j < n; j++) {
				if (in[j] && pids[j] == ppids[i]) {
					in[i] = in[j];
					changed = 1;
					break;
				}
			}
		}
	} while (changed);

	for (i = 0; i < n; i++) {
		if (!in[i])
			continue;
		ps->cpu_ticks += ticks[i];
		ps->root_ticks[in[i] - 1] += ticks[i];
		ps->rss_bytes += rss[i] * (uint64_t)page;
		ps->nprocs++;
	}
	for (k = 0; k < g_nroots; k++) {
		found = 0;
		for (i = 0; i < n; i++)
			if (pids[i] == g_roots[k])
				found = 1;
		if (!found)
			die("server process %d is gone", g_roots[k]);
	}
}

static double
ticks_ms(uint64_t t)
{
	return ((double)t * 1000.0 / (double)sysconf(_SC_CLK_TCK));
}

static double
self_cpu_ms(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 +
	    ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3);
}

/* ---- connections and the loop ----------------------------------------- */

enum kind { K_WS = 1, K_HTTP, K_CTL };

enum ws_state {
	WS_CONNECTING, WS_UPGRADE, WS_OPEN_WAIT, WS_AUTH_WAIT, WS_ACK_WAIT,
	WS_READY
};

static const char *ws_state_name[] = {
	"connecting", "upgrade", "waiting for open", "waiting for CONNECT",
	"waiting for acks", "ready"
};

struct hreq;

struct conn {
	int		 kind;
	int		 fd;
	int		 state;
	int		 connected;
	int		 port;
	uint32_t	 events;
	struct buf	 in;
	struct buf	 out;
	/* WebSocket */
	int		 idx;
	int		 user;
	int		 acks;
	char		 key[32];
	struct buf	 frag;
	uint8_t		*seen;
	/* HTTP */
	struct hreq	*req;
	int		 close_after;
};

typedef void (*hdone_fn)(struct hreq *, int, const char *, size_t);

struct hreq {
	struct buf	 data;
	hdone_fn	 done;
	int		 idx;
	uint64_t	 t_start;
	uint64_t	 t_done;
	struct hreq	*next;
};

static struct sockaddr_in	 g_addr;
static struct in_addr		 g_bind[64];	/* --bind */
static int			 g_nbind;
static struct sockaddr_in	 g_addr2;	/* --port2: the odd sockets */
static const char		*g_host = "127.0.0.1";
static int			 g_port = 4000;
static int			 g_port2;
static int			 g_epfd = -1;
static struct conn		**g_fds;
static int			 g_maxfd;
static char			*g_rbuf;
static int			 g_closing;

/* HTTP pool */
static struct hreq		*g_q_head, *g_q_tail;
static int			 g_http_max = 8;
static int			 g_http_conns;
static int			 g_http_inflight;
static struct conn		*g_http_idle[64];
static int			 g_http_nidle;

static void	conn_close(struct conn *);
static void	ctl_input(struct conn *);
static void	conn_flush(struct conn *);
static void	http_kick(void);

static void
ep_set(struct conn *c, uint32_t ev)
{
	struct epoll_event	e;

	if (c->events == ev)
		return;
	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.ptr = c;
	if (epoll_ctl(g_epfd, EPOLL_CTL_MOD, c->fd, &e) == -1)
		die("epoll_ctl MOD: %s", strerror(errno));
	c->events = ev;
}

/*
 * --bind: socket src binds to the source address src % n before its
 * connect (the kernel picks the port at connect, for the whole 4-tuple:
 * ~28k ports per source address instead of per machine).
 */
static void
conn_bind(int fd, int src)
{
	struct sockaddr_in	sa;
	int			one = 1;

	if (src < 0 || g_nbind == 0)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr = g_bind[src % g_nbind];
	(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		die("bind to %s: %s", inet_ntoa(sa.sin_addr), strerror(errno));
}

/* A connection to the server (second: --port2); src: see conn_bind. */
static struct conn *
conn_new(int kind, int second, int src)
{
	struct conn		*c;
	struct epoll_event	 e;
	struct sockaddr_in	*to = second ? &g_addr2 : &g_addr;
	int			 fd, one = 1, port = second ? g_port2 : g_port;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		die("socket: %s (open files limit reached?)", strerror(errno));
	if (fd >= g_maxfd)
		die("fd %d over the table (%d)", fd, g_maxfd);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	conn_bind(fd, src);
	if (connect(fd, (struct sockaddr *)to, sizeof(*to)) == -1 &&
	    errno != EINPROGRESS)
		die("connect to %s:%d: %s", g_host, port, strerror(errno));

	c = xcalloc(1, sizeof(*c));
	c->kind = kind;
	c->fd = fd;
	c->port = port;
	c->events = EPOLLIN | EPOLLOUT;
	memset(&e, 0, sizeof(e));
	e.events = c->events;
	e.data.ptr = c;
	if (epoll_ctl(g_epfd, EPOLL_CTL_ADD, fd, &e) == -1)
		die("epoll_ctl ADD: %s", strerror(errno));
	g_fds[fd] = c;
	return (c);
}

static void
conn_free(struct conn *c)
{
	if (c->fd >= 0) {
		(void)epoll_ctl(g_epfd, EPOLL_CTL_DEL, c->fd, NULL);
		g_fds[c->fd] = NULL;
		close(c->fd);
	}
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->frag);
	free(c->seen);
	free(c);
}

static void
conn_send(struct conn *c, const void *p, size_t n)
{
	buf_add(&c->out, p, n);
	if (c->connected)
		conn_flush(c);
}

static void
conn_flush(struct conn *c)
{
	ssize_t	w;

	while (c->out.len > 0) {
		w = send(c->fd, c->out.d, c->out.len, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			if (c->kind == K_WS)
				die("socket #%d: send: %s", c->idx,
				    strerror(errno));
			conn_close(c);
			return;
		}
		buf_consume(&c->out, (size_t)w);
	}
	ep_set(c, c->out.len > 0 ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

/* ---- WebSocket client ---------------------------------------------------- */

static int		 g_users;
static char		 g_project[OID_LEN + 1];
static char		 g_owner[OID_LEN + 1];
static char		*g_owner_token;
static char		(*g_uid)[OID_LEN + 1];
static char		**g_utoken;
static int		 g_subscribe = 1;
static int		 g_sync;		/* --protocol sync */
static char		 g_qid[128];		/* query:subscribed's queryId */

static struct conn	**g_ws;
static int		 g_nws;
static int		 g_ws_ready;

/* counters */
static uint64_t		 g_presence_msgs;
static uint64_t		 g_presence_bytes;
static uint64_t		 g_last_presence;
static uint64_t		 g_last_rx;
static uint64_t		 g_notifications;
static uint64_t		 g_other_events;
static uint64_t		 g_offsets;		/* events with a recovery offset */
static uint64_t		 g_connect_pids;	/* CONNECTs with a "pid" */
static uint64_t		 g_pings;

/* the current fan-out phase */
struct post {
	uint64_t	t0;
	uint64_t	t_resp;
	uint64_t	first;
	uint64_t	last;
	int		count;
	int		status;
	char		id[OID_LEN + 1];	/* the POST's answer */
	char		ev_id[OID_LEN + 1];	/* the first delivery's */
};

static int		 g_phase;
static int		 g_nposts;
static struct post	*g_posts;
static int		 g_expect;	/* sockets that must get each post */
static uint64_t		 g_rx_now;

/*
 * --procs K: the sockets are held by K worker processes (socket i by
 * worker i % K), forked by the process that makes the POSTs and reads the
 * server's figures. Every process has its own open-files limit; the posts
 * (counts, first and last receive times) live in memory the group shares
 * and are updated with atomics. See "a group of loadgen processes".
 */
#define MAX_PROCS	32
#define MAX_POSTS	4096

static int		 g_procs = 1;
static int		 g_worker = -1;		/* -1: alone, or the parent */
static struct post	*g_shposts;		/* MAX_POSTS, shared */
static char		(*g_evid)[OID_LEN + 1];	/* a worker's, per post */
static int		 g_ctl_out[MAX_PROCS];	/* write ends of the pipes */

static int
own(int i)
{
	return (g_worker < 0 || i % g_procs == g_worker);
}

static void
ws_send_text(struct conn *c, const char *p, size_t n)
{
	unsigned char	hdr[14];
	unsigned char	mask[4];
	size_t		h = 0, i;
	uint32_t	r = (uint32_t)random();
	char		*tmp;

	hdr[h++] = 0x81;
	if (n < 126) {
		hdr[h++] = 0x80 | (unsigned char)n;
	} else if (n < 65536) {
		hdr[h++] = 0x80 | 126;
		hdr[h++] = (unsigned char)(n >> 8);
		hdr[h++] = (unsigned char)n;
	} else {
		hdr[h++] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			hdr[h++] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
	}
	memcpy(mask, &r, 4);
	memcpy(hdr + h, mask, 4);
	h += 4;
	tmp = xmalloc(n);
	for (i = 0; i < n; i++)
		tmp[i] = (char)(p[i] ^ mask[i & 3]);
	buf_reserve(&c->out, h + n);
	memcpy(c->out.d + c->out.len, hdr, h);
	memcpy(c->out.d + c->out.len + h, tmp, n);
	c->out.len += h + n;
	free(tmp);
	if (c->connected)
		conn_flush(c);
}

static void
ws_send_ctl(struct conn *c, int op, const char *p, size_t n)
{
	unsigned char	f[2 + 4 + 125];
	size_t		i;

	if (n > 125)
		n = 125;
	f[0] = 0x80 | (unsigned char)op;
	f[1] = 0x80 | (unsigned char)n;
	memset(f + 2, 0x5a, 4);
	for (i = 0; i < n; i++)
		f[6 + i] = (unsigned char)p[i] ^ 0x5a;
	conn_send(c, f, 6 + n);
}

static void
ws_start(struct conn *c)
{
	unsigned char	raw[16];
	char		req[512];
	int		i, n;

	for (i = 0; i < 16; i++)
		raw[i] = (unsigned char)random();
	EVP_EncodeBlock((unsigned char *)c->key, raw, 16);
	n = snprintf(req, sizeof(req),
	    "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
	    "Host: %s:%d\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "\r\n", g_host, c->port, c->key);
	c->state = WS_UPGRADE;
	conn_send(c, req, (size_t)n);
}

static void
ws_ready(struct conn *c)
{
	c->state = WS_READY;
	g_ws_ready++;
}

/* "fanout-<phase>-<seq>" (sscanf was a visible cost per delivery) */
static int
parse_title(const char *t, int *phase, int *seq)
{
	int	a = 0, b = 0, da = 0, db = 0;

	if (strncmp(t, "fanout-", 7) != 0)
		return (0);
	for (t += 7; *t >= '0' && *t <= '9'; t++, da++)
		a = a * 10 + (*t - '0');
	if (*t++ != '-')
		return (0);
	for (; *t >= '0' && *t <= '9'; t++, db++)
		b = b * 10 + (*t - '0');
	if (*t != '\0' || da == 0 || db == 0 || da > 6 || db > 6)
		return (0);
	*phase = a;
	*seq = b;
	return (1);
}

/*
 * A delivery of one posted todo: p is the todo (todo:created's argument,
 * or the data of a sync event), what names the event in messages.
 */
static void
ws_delivery(struct conn *c, const char *what, const char *p, size_t n)
{
	char		 title[64], pid[OID_LEN + 1], id[OID_LEN + 1], *ev;
	int		 phase, seq, count;
	struct post	*po;
	uint64_t	 t;

	pid[0] = '\0';
	if (!json_str(p, n, "title", title, sizeof(title)) ||
	    !parse_title(title, &phase, &seq))
		die("socket #%d got a %s nobody posted: %.*s",
		    c->idx, what, (int)(n > 200 ? 200 : n), p);
	if (phase != g_phase || g_posts == NULL || seq < 0 ||
	    seq >= g_nposts)
		die("socket #%d got %s %s outside its phase "
		    "(phase %d)", c->idx, what, title, g_phase);
	if (!json_str(p, n, "projectId", pid, sizeof(pid)) ||
	    strcmp(pid, g_project) != 0)
		die("socket #%d: %s %s with projectId %s, want %s",
		    c->idx, what, title, pid, g_project);
	if (!json_str(p, n, "id", id, sizeof(id)) || strlen(id) != OID_LEN)
		die("socket #%d: %s %s without an id: %.*s", c->idx, what,
		    title, (int)(n > 200 ? 200 : n), p);
	if (c->seen == NULL)
		die("socket #%d got %s before it was in the phase", c->idx,
		    title);
	if (c->seen[seq])
		die("DUPLICATE: socket #%d (user %d) got %s %s "
		    "twice", c->idx, c->user, what, title);
	c->seen[seq] = 1;
	po = &g_posts[seq];
	if (__atomic_load_n(&po->t0, __ATOMIC_ACQUIRE) == 0)
		die("socket #%d got %s before it was posted", c->idx, title);
	/*
	 * Every copy names the same todo, the one the POST made. A worker
	 * of a group compares its own copies, and with the POST's answer at
	 * the end of the phase (the parent writes it meanwhile).
	 */
	ev = g_worker >= 0 ? g_evid[seq] : po->ev_id;
	if (ev[0] == '\0') {
		memcpy(ev, id, OID_LEN + 1);
		if (g_worker < 0 && po->id[0] != '\0' &&
		    strcmp(po->id, id) != 0)
			die("socket #%d: %s %s is todo %s, the POST made %s",
			    c->idx, what, title, id, po->id);
	} else if (memcmp(ev, id, OID_LEN) != 0) {
		die("socket #%d: %s %s is todo %s, others got %s", c->idx,
		    what, title, id, ev);
	}
	t = __atomic_load_n(&po->first, __ATOMIC_RELAXED);
	while ((t == 0 || g_rx_now < t) && !__atomic_compare_exchange_n(
	    &po->first, &t, g_rx_now, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	t = __atomic_load_n(&po->last, __ATOMIC_RELAXED);
	while (g_rx_now > t && !__atomic_compare_exchange_n(&po->last, &t,
	    g_rx_now, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	count = __atomic_add_fetch(&po->count, 1, __ATOMIC_ACQ_REL);
	if (count > g_expect)
		die("DUPLICATE: %s delivered %d times to %d sockets", title,
		    count, g_expect);
	/* the worker that completes a post wakes the parent */
	if (count == g_expect && g_worker >= 0 &&
	    write(g_ctl_out[0], "D\n", 2) != 2)
		die("worker %d: write to the parent: %s", g_worker,
		    strerror(errno));
}

/*
 * The first argument of the EVENT packet p (from "42"), whose name takes
 * namelen bytes ("[\"name\","): *obj, *objlen. What follows it may only
 * be the end of the packet or one string, the recovery offset (counted).
 * Found from the end, without a walk over the argument.
 */
static void
ws_event_arg(struct conn *c, const char *p, size_t n, size_t namelen,
    const char **obj, size_t *objlen)
{
	const char	*a = p + 2 + namelen, *e = p + n - 1;

	if (e <= a || *e != ']' || *a != '{')
		die("socket #%d: bad event %.*s", c->idx,
		    (int)(n > 200 ? 200 : n), p);
	if (e[-1] == '"') {
		/* ,"<offset>"] (an offset has no quotes to escape) */
		for (e -= 2; e > a && *e != '"'; e--)
			;
		if (e <= a + 1 || e[-1] != ',')
			die("socket #%d: bad event %.*s", c->idx,
			    (int)(n > 300 ? 300 : n), p);
		e--;
		g_offsets++;
	}
	if (e[-1] != '}')
		die("socket #%d: event with more arguments than an offset: "
		    "%.*s", c->idx, (int)(n > 300 ? 300 : n), p);
	*obj = a;
	*objlen = (size_t)(e - a);
}

/* A string member of a sync event: "want" exactly. */
static int
sync_is(const char *v, size_t vl, const char *want)
{
	size_t	wl = strlen(want);

	return (vl == wl + 2 && v[0] == '"' && memcmp(v + 1, want, wl) == 0);
}

/*
 * 42["sync",{"model":"Todo","collection":"todos","method":"create",
 * "id":I,"data":{...todo I...},"timestamp":T}]: one posted todo. One pass
 * over the members (the loadgen shares the cores with the server).
 */
static void
ws_sync(struct conn *c, const char *o, size_t on)
{
	const char	*p = o + 1, *end = o + on, *k, *v, *ve;
	const char	*d = NULL, *id = NULL;
	size_t		 kl, vl, dl = 0;
	int		 seen = 0;

	while (p < end && *p == '"') {
		k = p + 1;
		if ((p = json_skip(p, end)) == NULL || p >= end || *p != ':')
			break;
		kl = (size_t)(p - 1 - k);
		v = ++p;
		if ((ve = json_skip(v, end)) == NULL)
			break;
		vl = (size_t)(ve - v);
		p = ve < end && *ve == ',' ? ve + 1 : ve;
#define KEY(s)	(kl == sizeof(s) - 1 && memcmp(k, s, kl) == 0)
		if (KEY("model") && sync_is(v, vl, "Todo"))
			seen |= 1;
		else if (KEY("collection") && sync_is(v, vl, "todos"))
			seen |= 2;
		else if (KEY("method") && sync_is(v, vl, "create"))
			seen |= 4;
		else if (KEY("id") && vl == OID_LEN + 2 && v[0] == '"') {
			id = v;
			seen |= 8;
		} else if (KEY("data") && v[0] == '{') {
			d = v;
			dl = vl;
			seen |= 16;
		} else if (KEY("timestamp") && isdigit((unsigned char)v[0]))
			seen |= 32;
		else
			die("socket #%d: sync create with %.*s: %.*s", c->idx,
			    (int)(ve - k + 1), k - 1,
			    (int)(on > 400 ? 400 : on), o);
#undef KEY
	}
	if (seen != 63 || p + 1 != end || *p != '}')
		die("socket #%d: not a sync create of a todo: %.*s", c->idx,
		    (int)(on > 400 ? 400 : on), o);
	if (memmem(d, dl, id, OID_LEN + 2) == NULL)
		die("socket #%d: sync event whose id is not its data's: "
		    "%.*s", c->idx, (int)(on > 400 ? 400 : on), o);
	ws_delivery(c, "sync create", d, dl);
}

/* The acks (bits 1, 2 by id) and query:subscribed (8) a socket waits for. */
static int
ack_want(void)
{
	if (g_sync)
		return (1 | 8);
	return (g_subscribe ? 3 : 1);
}

/* One Engine.IO packet (a text frame's payload). */
static void
ws_packet(struct conn *c, const char *p, size_t n)
{
	char		 msg[TOKEN_MAX + 128];
	const char	*o;
	size_t		 on;
	int		 m, id;

	if (n == 0)
		die("socket #%d: empty Engine.IO packet", c->idx);
	/* quiet (settle()) means nothing but Engine.IO pings */
	if (p[0] != '2')
		g_last_rx = g_rx_now;

	switch (p[0]) {
	case '2':	/* ping */
		g_pings++;
		ws_send_text(c, "3", 1);
		return;
	case '0':	/* open */
		if (c->state != WS_OPEN_WAIT)
			die("socket #%d: unexpected open packet", c->idx);
		if (memmem(p, n, "\"sid\"", 5) == NULL)
			die("socket #%d: bad open packet %.*s", c->idx,
			    (int)n, p);
		m = snprintf(msg, sizeof(msg), "40{\"token\":\"Bearer %s\"}",
		    g_utoken[c->user]);
		c->state = WS_AUTH_WAIT;
		ws_send_text(c, msg, (size_t)m);
		return;
	case '1':
		die("socket #%d: server sent Engine.IO close", c->idx);
		return;
	case '6':	/* noop */
		return;
	case '4':
		break;
	default:
		die("socket #%d: unexpected Engine.IO packet %.*s", c->idx,
		    (int)(n > 100 ? 100 : n), p);
	}

	if (n < 2)
		die("socket #%d: short message packet", c->idx);

	switch (p[1]) {
	case '0':	/* CONNECT */
		if (c->state != WS_AUTH_WAIT)
			die("socket #%d: unexpected CONNECT", c->idx);
		if (memmem(p, n, "\"pid\":\"", 7) != NULL)
			g_connect_pids++;
		c->state = WS_ACK_WAIT;
		c->acks = 0;
		if (g_sync) {
			/* as rtk's realtimeList of the project's todos */
			m = snprintf(msg, sizeof(msg),
			    "421[\"subscribe:query\",{\"collection\":"
			    "\"todos\",\"query\":{\"projectId\":\"%s\"}}]",
			    g_project);
			ws_send_text(c, msg, (size_t)m);
			return;
		}
		m = snprintf(msg, sizeof(msg),
		    "421[\"join:project\",\"%s\"]", g_project);
		ws_send_text(c, msg, (size_t)m);
		if (g_subscribe)
			ws_send_text(c, "422[\"subscribe:todos\"]", 22);
		return;
	case '4':	/* CONNECT_ERROR */
		die("socket #%d (user %d) refused: %.*s", c->idx, c->user,
		    (int)n - 2, p + 2);
		return;
	case '1':	/* DISCONNECT */
		die("socket #%d disconnected by the server", c->idx);
		return;
	case '3':	/* ACK */
		id = atoi(p + 2);
		if (memmem(p, n, "\"ok\":true", 9) == NULL)
			die("socket #%d (user %d): ack %d is %.*s", c->idx,
			    c->user, id, (int)n, p);
		if (c->state != WS_ACK_WAIT)
			die("socket #%d: stray ack %.*s", c->idx, (int)n, p);
		c->acks |= (id == 1 ? 1 : id == 2 ? 2 : 4);
		if (c->acks == ack_want())
			ws_ready(c);
		return;
	case '2':	/* EVENT */
		break;
	default:
		die("socket #%d: unexpected Socket.IO packet %.*s", c->idx,
		    (int)(n > 100 ? 100 : n), p);
	}

	if (n > 18 && memcmp(p + 2, "[\"todo:created\",", 16) == 0) {
		if (g_sync)
			die("socket #%d (sync protocol only) got a stray "
			    "todo:created: %.*s", c->idx,
			    (int)(n > 200 ? 200 : n), p);
		ws_event_arg(c, p, n, 16, &o, &on);
		ws_delivery(c, "todo:created", o, on);
	} else if (n > 10 && memcmp(p + 2, "[\"sync\",", 8) == 0) {
		if (!g_sync)
			die("socket #%d (no sync subscription) got a stray "
			    "sync event: %.*s", c->idx,
			    (int)(n > 200 ? 200 : n), p);
		ws_event_arg(c, p, n, 8, &o, &on);
		ws_sync(c, o, on);
	} else if (n > 22 &&
	    memcmp(p + 2, "[\"query:subscribed\",", 20) == 0) {
		if (!g_sync || c->state != WS_ACK_WAIT || (c->acks & 8))
			die("socket #%d: stray query:subscribed %.*s",
			    c->idx, (int)(n > 200 ? 200 : n), p);
		ws_event_arg(c, p, n, 20, &o, &on);
		if (memmem(o, on, "\"collection\":\"todos\"", 20) == NULL ||
		    memmem(o, on, g_qid, strlen(g_qid)) == NULL)
			die("socket #%d: query:subscribed %.*s, want %s",
			    c->idx, (int)on, o, g_qid);
		c->acks |= 8;
		if (c->acks == ack_want())
			ws_ready(c);
	} else if (n > 21 && memcmp(p + 2, "[\"presence:update\",", 19) == 0) {
		g_presence_msgs++;
		g_presence_bytes += n;
		g_last_presence = g_rx_now;
	} else if (n > 17 && memcmp(p + 2, "[\"notification\",", 16) == 0) {
		g_notifications++;
	} else if (n > 10 && memcmp(p + 2, "[\"error\",", 9) == 0) {
		die("socket #%d got an error event: %.*s", c->idx, (int)n, p);
	} else {
		g_other_events++;
	}
}

/* Frames from the server; returns bytes used, 0 when incomplete. */
static size_t
ws_frame(struct conn *c, const unsigned char *p, size_t avail)
{
	uint64_t	len;
	size_t		h = 2, i;
	int		op, fin, masked;
	unsigned char	mk[4];
	char		*pl;

	if (avail < 2)
		return (0);
	fin = p[0] & 0x80;
	op = p[0] & 0x0f;
	masked = p[1] & 0x80;
	len = p[1] & 0x7f;
	if (len == 126) {
		if (avail < 4)
			return (0);
		len = ((uint64_t)p[2] << 8) | p[3];
		h = 4;
	} else if (len == 127) {
		if (avail < 10)
			return (0);
		len = 0;
		for (i = 0; i < 8; i++)
			len = (len << 8) | p[2 + i];
		h = 10;
	}
	if (masked) {
		if (avail < h + 4)
			return (0);
		memcpy(mk, p + h, 4);
		h += 4;
	}
	if (len > 64 * 1024 * 1024)
		die("socket #%d: frame of %" PRIu64 " bytes", c->idx, len);
	if (avail < h + len)
		return (0);
	pl = (char *)(uintptr_t)(p + h);
	if (masked) {
		for (i = 0; i < len; i++)
			pl[i] ^= (char)mk[i & 3];
	}

	switch (op) {
	case 0x0:	/* continuation */
		buf_add(&c->frag, pl, (size_t)len);
		if (fin) {
			ws_packet(c, c->frag.d, c->frag.len);
			c->frag.len = 0;
		}
		break;
	case 0x1:
		if (!fin) {
			c->frag.len = 0;
			buf_add(&c->frag, pl, (size_t)len);
		} else {
			ws_packet(c, pl, (size_t)len);
		}
		break;
	case 0x2:
		g_other_events++;
		break;
	case 0x8:
		if (!g_closing)
			die("socket #%d (%s): WebSocket close from the server "
			    "(%.*s)", c->idx, ws_state_name[c->state],
			    (int)(len > 2 ? len - 2 : 0), pl + 2);
		break;
	case 0x9:
		ws_send_ctl(c, 0xa, pl, (size_t)len);
		break;
	case 0xa:
		break;
	default:
		die("socket #%d: frame opcode %d", c->idx, op);
	}
	return (h + (size_t)len);
}

static int
has_header(const char *hdrs, size_t n, const char *name, const char *val)
{
	const char	*p = hdrs, *end = hdrs + n, *e;
	size_t		 nl = strlen(name), vl = val ? strlen(val) : 0;

	while (p < end) {
		e = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (e == NULL)
			e = end;
		if ((size_t)(e - p) > nl + 1 && strncasecmp(p, name, nl) == 0 &&
		    p[nl] == ':') {
			const char	*v = p + nl + 1;

			while (v < e && *v == ' ')
				v++;
			if (val == NULL)
				return (1);
			if ((size_t)(e - v) >= vl && strncasecmp(v, val, vl) == 0)
				return (1);
		}
		p = e + 2;
	}
	return (0);
}

static void
ws_input(struct conn *c, const char *p, size_t n)
{
	const char	*he;
	size_t		 used, hl;
	unsigned char	 sha[SHA_DIGEST_LENGTH];
	char		 cat[128], accept[64];

	if (c->state == WS_UPGRADE) {
		buf_add(&c->in, p, n);
		he = memmem(c->in.d, c->in.len, "\r\n\r\n", 4);
		if (he == NULL) {
			if (c->in.len > 16384)
				die("socket #%d: upgrade response too long",
				    c->idx);
			return;
		}
		hl = (size_t)(he - c->in.d) + 4;
		if (strncmp(c->in.d, "HTTP/1.1 101", 12) != 0)
			die("socket #%d: upgrade refused: %.*s", c->idx,
			    (int)(hl > 300 ? 300 : hl), c->in.d);
		snprintf(cat, sizeof(cat), "%s"
		    "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", c->key);
		SHA1((unsigned char *)cat, strlen(cat), sha);
		EVP_EncodeBlock((unsigned char *)accept, sha, sizeof(sha));
		if (!has_header(c->in.d, hl, "Sec-WebSocket-Accept", accept))
			die("socket #%d: bad Sec-WebSocket-Accept", c->idx);
		c->state = WS_OPEN_WAIT;
		g_last_rx = g_rx_now;
		buf_consume(&c->in, hl);
		if (c->in.len == 0)
			return;
		p = NULL;
		n = 0;
	}

	if (c->in.len > 0) {
		if (p != NULL)
			buf_add(&c->in, p, n);
		used = 0;
		for (;;) {
			size_t	k = ws_frame(c, (unsigned char *)c->in.d + used,
			    c->in.len - used);
			if (k == 0)
				break;
			used += k;
		}
		buf_consume(&c->in, used);
		return;
	}

	used = 0;
	for (;;) {
		size_t	k = ws_frame(c, (const unsigned char *)p + used,
		    n - used);
		if (k == 0)
			break;
		used += k;
	}
	if (used < n)
		buf_add(&c->in, p + used, n - used);
}

/* ---- HTTP client ----------------------------------------------------------- */

static struct hreq *
hreq_new(const char *method, const char *path, const char *token,
    const char *body, hdone_fn done, int idx)
{
	struct hreq	*r = xcalloc(1, sizeof(*r));
	size_t		 bl = body ? strlen(body) : 0;

	buf_printf(&r->data, "%s %s HTTP/1.1\r\nHost: %s:%d\r\n", method,
	    path, g_host, g_port);
	if (token)
		buf_printf(&r->data, "Authorization: Bearer %s\r\n", token);
	if (body)
		buf_printf(&r->data, "Content-Type: application/json\r\n"
		    "Content-Length: %zu\r\n", bl);
	buf_printf(&r->data, "\r\n");
	if (body)
		buf_add(&r->data, body, bl);
	r->done = done;
	r->idx = idx;
	return (r);
}

static void
hreq_free(struct hreq *r)
{
	buf_free(&r->data);
	free(r);
}

static void
http_enqueue(struct hreq *r)
{
	r->next = NULL;
	if (g_q_tail)
		g_q_tail->next = r;
	else
		g_q_head = r;
	g_q_tail = r;
	http_kick();
}

static void
http_assign(struct conn *c, struct hreq *r)
{
	c->req = r;
	r->t_start = now_ns();
	g_http_inflight++;
	conn_send(c, r->data.d, r->data.len);
}

/* Give queued requests to idle connections, opening more up to the max. */
static void
http_kick(void)
{
	struct hreq	*r;
	struct conn	*c;

	while (g_q_head != NULL) {
		if (g_http_nidle > 0) {
			c = g_http_idle[--g_http_nidle];
		} else if (g_http_conns < g_http_max) {
			c = conn_new(K_HTTP, 0, -1);
			g_http_conns++;
		} else {
			return;
		}
		r = g_q_head;
		g_q_head = r->next;
		if (g_q_head == NULL)
			g_q_tail = NULL;
		http_assign(c, r);
	}
}

static void
http_idle_remove(struct conn *c)
{
	int	i;

	for (i = 0; i < g_http_nidle; i++) {
		if (g_http_idle[i] == c) {
			g_http_idle[i] = g_http_idle[--g_http_nidle];
			return;
		}
	}
}

static void
http_input(struct conn *c, const char *p, size_t n)
{
	const char	*he;
	size_t		 hl, cl, total;
	int		 status;
	struct hreq	*r;
	const char	*v;

	g_last_rx = g_rx_now;
	buf_add(&c->in, p, n);
	for (;;) {
		if (c->in.len == 0)
			return;
		he = memmem(c->in.d, c->in.len, "\r\n\r\n", 4);
		if (he == NULL)
			return;
		hl = (size_t)(he - c->in.d) + 4;
		if (sscanf(c->in.d, "HTTP/1.%*d %d", &status) != 1)
			die("bad HTTP response: %.*s", (int)(hl > 200 ? 200 :
			    hl), c->in.d);
		if (has_header(c->in.d, hl, "Transfer-Encoding", "chunked"))
			die("chunked responses are not supported");
		v = NULL;
		{
			const char	*q = c->in.d;

			while ((q = strcasestr(q, "\r\ncontent-length:")) !=
			    NULL && q < c->in.d + hl) {
				v = q + 17;
				break;
			}
		}
		cl = v ? strtoul(v, NULL, 10) : 0;
		total = hl + cl;
		if (c->in.len < total)
			return;
		if ((r = c->req) == NULL)
			die("HTTP response without a request: %.*s",
			    (int)(hl > 200 ? 200 : hl), c->in.d);
		c->close_after = has_header(c->in.d, hl, "Connection",
		    "close");
		c->req = NULL;
		g_http_inflight--;
		r->t_done = now_ns();
		r->done(r, status, c->in.d + hl, cl);
		hreq_free(r);
		buf_consume(&c->in, total);
		if (c->close_after) {
			conn_close(c);
			http_kick();
			return;
		}
		if (g_http_nidle < 64)
			g_http_idle[g_http_nidle++] = c;
		else {
			conn_close(c);
		}
		http_kick();
		return;
	}
}

static void
conn_close(struct conn *c)
{
	if (c->kind == K_HTTP) {
		http_idle_remove(c);
		g_http_conns--;
		if (c->req != NULL) {
			/* the server closed a connection with a request on it */
			die("HTTP connection closed before the response to "
			    "%.40s", c->req->data.d);
		}
	} else if (!g_closing) {
		die("socket #%d (user %d) closed by the server in state %s",
		    c->idx, c->user, ws_state_name[c->state]);
	}
	conn_free(c);
}

static void
conn_event(struct conn *c, uint32_t ev)
{
	ssize_t	r;
	int	err;
	socklen_t el = sizeof(err);

	if (c->kind == K_CTL) {
		ctl_input(c);
		return;
	}
	if (!c->connected && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1)
			err = errno;
		if (err != 0)
			die("connect to %s:%d: %s", g_host, c->port,
			    strerror(err));
		c->connected = 1;
		if (c->kind == K_WS)
			ws_start(c);
		else
			conn_flush(c);
		if (c->kind == K_HTTP && c->req == NULL && c->out.len == 0) {
			ep_set(c, EPOLLIN);
		}
		return;
	}
	if (ev & EPOLLOUT)
		conn_flush(c);
	if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
		r = recv(c->fd, g_rbuf, RBUF_SIZE, 0);
		if (r == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			if (c->kind == K_WS && !g_closing)
				die("socket #%d (user %d): recv: %s", c->idx,
				    c->user, strerror(errno));
			conn_close(c);
			return;
		}
		if (r == 0) {
			conn_close(c);
			return;
		}
		g_rx_now = now_ns();
		if (c->kind == K_WS)
			ws_input(c, g_rbuf, (size_t)r);
		else
			http_input(c, g_rbuf, (size_t)r);
	}
}

/* Run the loop until pred() holds or timeout_ms passes; 1 if it held. */
static int
loop_until(int (*pred)(void), int timeout_ms)
{
	struct epoll_event	ev[MAX_EVENTS];
	uint64_t		end = now_ns() + (uint64_t)timeout_ms * 1000000;
	int			n, i, wait;

	for (;;) {
		if (pred != NULL && pred())
			return (1);
		uint64_t t = now_ns();
		if (t >= end)
			return (pred == NULL);
		wait = (int)((end - t) / 1000000);
		if (wait > 100)
			wait = 100;
		n = epoll_wait(g_epfd, ev, MAX_EVENTS, wait);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		for (i = 0; i < n; i++)
			conn_event(ev[i].data.ptr, ev[i].events);
	}
}

static void
loop_for(int ms_)
{
	(void)loop_until(NULL, ms_);
}

static void
net_init(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	g_maxfd = (int)rl.rlim_cur;
	g_fds = xcalloc((size_t)g_maxfd, sizeof(*g_fds));
	g_rbuf = xmalloc(RBUF_SIZE);
	if ((g_epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1: %s", strerror(errno));
	memset(&g_addr, 0, sizeof(g_addr));
	g_addr.sin_family = AF_INET;
	g_addr.sin_port = htons((uint16_t)g_port);
	if (inet_pton(AF_INET, g_host, &g_addr.sin_addr) != 1)
		die("bad host %s", g_host);
	g_addr2 = g_addr;
	g_addr2.sin_port = htons((uint16_t)g_port2);
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)now_ns());
}

/* ---- setup ------------------------------------------------------------------ */

static int	g_pending;
static char	g_tag[32];

static void
need(int cond, struct hreq *r, int status, const char *body, size_t n)
{
	if (!cond)
		die("%.60s -> %d %.*s", r->data.d, status,
		    (int)(n > 300 ? 300 : n), body);
}

static void
signup_done(struct hreq *r, int status, const char *body, size_t n)
{
	char	tok[TOKEN_MAX], id[OID_LEN + 1];

	need(status == 200 && json_str(body, n, "token", tok, sizeof(tok)) &&
	    json_str(body, n, "userId", id, sizeof(id)), r, status, body, n);
	if (r->idx < 0) {
		memcpy(g_owner, id, sizeof(id));
		g_owner_token = strdup(tok);
	} else {
		memcpy(g_uid[r->idx], id, sizeof(id));
		g_utoken[r->idx] = strdup(tok);
	}
	g_pending--;
}

static void
login_done(struct hreq *r, int status, const char *body, size_t n)
{
	char	tok[TOKEN_MAX], id[OID_LEN + 1];

	need(status == 200 && json_str(body, n, "token", tok, sizeof(tok)) &&
	    json_str(body, n, "userId", id, sizeof(id)) &&
	    strcmp(id, g_uid[r->idx]) == 0, r, status, body, n);
	free(g_utoken[r->idx]);
	g_utoken[r->idx] = strdup(tok);
	g_pending--;
}

static void
project_done(struct hreq *r, int status, const char *body, size_t n)
{
	need(status == 201 && json_str(body, n, "id", g_project,
	    sizeof(g_project)), r, status, body, n);
	g_pending--;
}

static void
seed_done(struct hreq *r, int status, const char *body, size_t n)
{
	need(status == 201, r, status, body, n);
	g_pending--;
}

static int
none_pending(void)
{
	return (g_pending == 0);
}

static void
wait_pending(const char *what, int timeout_ms)
{
	if (!loop_until(none_pending, timeout_ms))
		die("%s: %d requests still pending after %d ms", what,
		    g_pending, timeout_ms);
}

static void
state_write(const char *path)
{
	FILE	*f;
	int	 i;

	if ((f = fopen(path, "w")) == NULL)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "project %s\nowner %s %s\n", g_project, g_owner,
	    g_owner_token);
	for (i = 0; i < g_users; i++)
		fprintf(f, "user %s %s\n", g_uid[i], g_utoken[i]);
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
}

static void
state_read(const char *path)
{
	FILE	*f;
	char	 line[4096], a[OID_LEN + 1], b[TOKEN_MAX];
	int	 n = 0;

	if ((f = fopen(path, "r")) == NULL)
		die("%s: %s", path, strerror(errno));
	g_uid = xcalloc(MAX_USERS, sizeof(*g_uid));
	g_utoken = xcalloc(MAX_USERS, sizeof(*g_utoken));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "project %24s", g_project) == 1)
			continue;
		if (sscanf(line, "owner %24s %1023s", a, b) == 2) {
			snprintf(g_owner, sizeof(g_owner), "%s", a);
			g_owner_token = strdup(b);
			continue;
		}
		if (sscanf(line, "user %24s %1023s", a, b) == 2) {
			if (n >= MAX_USERS)
				die("%s: too many users", path);
			snprintf(g_uid[n], sizeof(g_uid[n]), "%s", a);
			g_utoken[n++] = strdup(b);
		}
	}
	fclose(f);
	g_users = n;
	if (n == 0 || g_project[0] == '\0' || g_owner_token == NULL)
		die("%s: incomplete state", path);
}

static int
cmd_setup(int users, int seed, const char *state)
{
	struct buf	 b = { 0 };
	char		 body[512];
	int		 i, k;
	uint64_t	 t;

	if (users < 1 || users > MAX_USERS)
		die("--users must be 1..%d", MAX_USERS);
	g_users = users;
	g_uid = xcalloc((size_t)users, sizeof(*g_uid));
	g_utoken = xcalloc((size_t)users, sizeof(*g_utoken));
	snprintf(g_tag, sizeof(g_tag), "%x", (unsigned)(now_ns() ^ getpid()));

	t = now_ns();
	g_pending = users + 1;
	snprintf(body, sizeof(body), "{\"email\":\"owner-%s@bench.test\","
	    "\"password\":\"bench-owner-pw\"}", g_tag);
	http_enqueue(hreq_new("POST", "/auth/signup", NULL, body,
	    signup_done, -1));
	for (i = 0; i < users; i++) {
		snprintf(body, sizeof(body), "{\"email\":\"m%d-%s@bench.test\","
		    "\"password\":\"bench-pw-%d\"}", i, g_tag, i);
		http_enqueue(hreq_new("POST", "/auth/signup", NULL, body,
		    signup_done, i));
	}
	wait_pending("signup", 600000);
	logf_("signed up %d users in %.1f s", users + 1,
	    (double)(now_ns() - t) / 1e9);

	/* POST /auth/login once, so the route is exercised too. */
	g_pending = 1;
	snprintf(body, sizeof(body), "{\"email\":\"M0-%s@bench.test\","
	    "\"password\":\"bench-pw-0\"}", g_tag);
	http_enqueue(hreq_new("POST", "/auth/login", NULL, body, login_done,
	    0));
	wait_pending("login", 60000);

	buf_printf(&b, "{\"name\":\"bench-%s\",\"members\":[", g_tag);
	for (i = 0; i < users; i++)
		buf_printf(&b, "%s\"%s\"", i ? "," : "", g_uid[i]);
	buf_printf(&b, "]}");
	g_pending = 1;
	http_enqueue(hreq_new("POST", "/projects", g_owner_token, b.d,
	    project_done, 0));
	wait_pending("project", 60000);
	buf_free(&b);

	t = now_ns();
	g_pending = users * seed;
	for (k = 0; k < seed; k++) {
		for (i = 0; i < users; i++) {
			snprintf(body, sizeof(body), "{\"title\":\"seed %d of "
			    "member %d\",\"completed\":%s}", k, i,
			    (k & 1) ? "true" : "false");
			http_enqueue(hreq_new("POST", "/todos", g_utoken[i],
			    body, seed_done, i));
		}
	}
	wait_pending("seed", 600000);
	logf_("seeded %d todos in %.1f s", users * seed,
	    (double)(now_ns() - t) / 1e9);

	state_write(state);
	printf("setup: project %s, owner %s, %d members\n", g_project,
	    g_owner, users);
	return (0);
}

/* ---- fan-out ---------------------------------------------------------------- */

static int	g_batch_target;
static int	g_batch = 500;

static int
batch_ready(void)
{
	return (g_ws_ready >= g_batch_target);
}

static uint64_t	g_quiet_ns;

static int
quiet(void)
{
	return (now_ns() - g_last_rx >= g_quiet_ns);
}

static void
settle(uint64_t quiet_ms, int max_ms)
{
	g_quiet_ns = quiet_ms * 1000000ULL;
	g_last_rx = now_ns();
	(void)loop_until(quiet, max_ms);
}

/*
 * Sockets up to number target, batch at a time (a worker of a group
 * makes its own of them, batch of its own at a time).
 */
static void
connect_to(int target, int batch)
{
	int	i, upto, step = g_worker >= 0 ? batch * g_procs : batch;

	while (g_nws < target) {
		upto = g_nws + step;
		/* the first socket of every user comes first, on its own */
		if (g_nws < g_users && upto > g_users)
			upto = g_users;
		if (upto > target)
			upto = target;
		for (i = g_nws; i < upto; i++) {
			struct conn	*c;

			if (!own(i))
				continue;
			c = conn_new(K_WS, g_port2 > 0 && (i & 1), i);
			c->idx = i;
			c->user = i % g_users;
			c->state = WS_CONNECTING;
			g_ws[i] = c;
			g_batch_target++;
		}
		g_nws = upto;
		if (!loop_until(batch_ready, 120000)) {
			for (i = 0; i < g_nws; i++) {
				if (g_ws[i] != NULL &&
				    g_ws[i]->state != WS_READY)
					die("socket #%d (user %d) still %s "
					    "after 120 s (%d of %d ready)", i,
					    g_ws[i]->user,
					    ws_state_name[g_ws[i]->state],
					    g_ws_ready, g_nws);
			}
		}
		if (upto == g_users)
			settle(300, 10000);
	}
}

/* ---- a group of loadgen processes (--procs) ------------------------------ */

/*
 * The parent talks to its workers over two pipes each, one line at a
 * time: it sends a command to all of them and waits for every worker's
 * answer (its first letter, the command's in lower case):
 *
 *   C <n>                    connect own sockets up to number n (ready)
 *   S <quiet_ms> <max_ms>    settle   -> s <presence msgs> <presence bytes>
 *   P <phase> <posts> <n>    a phase: each post to all n sockets
 *   E                        the phase's end: copies checked against the
 *                            POSTs' answers
 *   L <seq>                  log own sockets without post seq
 *   Q                        close the sockets, answer the counters, exit
 *
 * Besides answers a worker sends "D" when its delivery completes a post
 * (the parent's loop wakes up and finds the shared count complete). A
 * worker that fails exits with its "LOADGEN FAIL:" line; the parent then
 * fails too, and a worker whose parent is gone is killed
 * (PR_SET_PDEATHSIG).
 */
static pid_t		 g_kids[MAX_PROCS];
static char		 g_replies[MAX_PROCS];
static uint64_t		 g_kstat[MAX_PROCS][7];
static char		 g_cmd[128];
static char		 g_want;

static void
ctl_write(int fd, const char *fmt, ...)
{
	char	line[128];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (write(fd, line, (size_t)n) != n)
		die("control pipe write: %s", strerror(errno));
}

static void
ctl_line(struct conn *c, char *line)
{
	uint64_t	*k;

	if (g_worker >= 0) {
		if (g_cmd[0] != '\0')
			die("worker %d: command %s while %s runs", g_worker,
			    line, g_cmd);
		snprintf(g_cmd, sizeof(g_cmd), "%s", line);
		return;
	}
	if (line[0] == 'D')
		return;
	k = g_kstat[c->idx];
	if (line[0] == 's')
		(void)sscanf(line, "s %" SCNu64 " %" SCNu64, &k[5], &k[6]);
	else if (line[0] == 'q')
		(void)sscanf(line, "q %" SCNu64 " %" SCNu64 " %" SCNu64 " %"
		    SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64, &k[0], &k[1],
		    &k[2], &k[3], &k[4], &k[5], &k[6]);
	g_replies[c->idx] = line[0];
}

static void
ctl_input(struct conn *c)
{
	char	*nl;
	ssize_t	 r;

	r = read(c->fd, g_rbuf, RBUF_SIZE);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		if (g_worker >= 0)
			_exit(2);	/* the parent is gone */
		if (g_closing && g_replies[c->idx] == 'q') {
			(void)epoll_ctl(g_epfd, EPOLL_CTL_DEL, c->fd, NULL);
			return;
		}
		die("worker %d (pid %d) ended; its LOADGEN FAIL line says why",
		    c->idx, (int)g_kids[c->idx]);
	}
	buf_add(&c->in, g_rbuf, (size_t)r);
	while ((nl = memchr(c->in.d, '\n', c->in.len)) != NULL) {
		*nl = '\0';
		ctl_line(c, c->in.d);
		buf_consume(&c->in, (size_t)(nl - c->in.d) + 1);
	}
}

static void
ctl_conn(int fd, int idx)
{
	struct conn		*c = xcalloc(1, sizeof(*c));
	struct epoll_event	 e;

	c->kind = K_CTL;
	c->fd = fd;
	c->idx = idx;
	c->events = EPOLLIN;
	memset(&e, 0, sizeof(e));
	e.events = EPOLLIN;
	e.data.ptr = c;
	if (epoll_ctl(g_epfd, EPOLL_CTL_ADD, fd, &e) == -1)
		die("epoll_ctl ADD: %s", strerror(errno));
	g_fds[fd] = c;
}

static int
have_cmd(void)
{
	return (g_cmd[0] != '\0');
}

static int
all_replied(void)
{
	int	k;

	for (k = 0; k < g_procs; k++)
		if (g_replies[k] != g_want)
			return (0);
	return (1);
}

/* The parent: one command to every worker, and their answers. */
static void
group_cmd(const char *cmd)
{
	int	k;

	g_want = (char)(cmd[0] - 'A' + 'a');
	for (k = 0; k < g_procs; k++) {
		g_replies[k] = 0;
		ctl_write(g_ctl_out[k], "%s\n", cmd);
	}
	if (!loop_until(all_replied, 3600 * 1000))
		die("workers did not answer %s in an hour", cmd);
}

/* A worker: the phase begins (P) or ends (E). */
static void
worker_phase(const char *cmd)
{
	int	i, seq;

	if (cmd[0] == 'P') {
		if (sscanf(cmd, "P %d %d %d", &g_phase, &g_nposts,
		    &g_expect) != 3)
			die("worker %d: bad command %s", g_worker, cmd);
		g_posts = g_shposts;
		free(g_evid);
		g_evid = xcalloc((size_t)g_nposts, sizeof(*g_evid));
		for (i = 0; i < g_nws; i++) {
			if (g_ws[i] == NULL)
				continue;
			free(g_ws[i]->seen);
			g_ws[i]->seen = xcalloc((size_t)g_nposts, 1);
		}
		return;
	}
	for (seq = 0; seq < g_nposts; seq++) {
		if (g_evid[seq][0] != '\0' &&
		    strcmp(g_evid[seq], g_posts[seq].id) != 0)
			die("fanout-%d-%d: the POST made todo %s, worker %d's "
			    "sockets got %s", g_phase, seq, g_posts[seq].id,
			    g_worker, g_evid[seq]);
	}
}

/* A worker: its own sockets without post seq (at most 5 named). */
static void
worker_lost(int seq)
{
	int	i, n = 0;

	for (i = 0; i < g_nws; i++) {
		if (g_ws[i] == NULL || g_ws[i]->seen[seq])
			continue;
		if (n++ < 5)
			logf_("worker %d: socket #%d (user %d, %s) has not got "
			    "fanout-%d-%d", g_worker, i, g_ws[i]->user,
			    ws_state_name[g_ws[i]->state], g_phase, seq);
	}
	logf_("worker %d: %d of its sockets without fanout-%d-%d", g_worker,
	    n, g_phase, seq);
}

static void
worker_main(void)
{
	char	cmd[128];
	int	a, b, i;

	for (;;) {
		if (!loop_until(have_cmd, 1000))
			continue;
		snprintf(cmd, sizeof(cmd), "%s", g_cmd);
		g_cmd[0] = '\0';
		switch (cmd[0]) {
		case 'C':
			connect_to(atoi(cmd + 2), g_batch);
			ctl_write(g_ctl_out[0], "c\n");
			break;
		case 'S':
			if (sscanf(cmd, "S %d %d", &a, &b) != 2)
				die("worker %d: bad command %s", g_worker, cmd);
			settle((uint64_t)a, b);
			ctl_write(g_ctl_out[0], "s %" PRIu64 " %" PRIu64 "\n",
			    g_presence_msgs, g_presence_bytes);
			break;
		case 'P':
		case 'E':
			worker_phase(cmd);
			ctl_write(g_ctl_out[0], "%c\n", cmd[0] - 'A' + 'a');
			break;
		case 'L':
			worker_lost(atoi(cmd + 2));
			ctl_write(g_ctl_out[0], "l\n");
			break;
		case 'Q':
			g_closing = 1;
			for (i = 0; i < g_nws; i++)
				if (g_ws[i] != NULL)
					conn_free(g_ws[i]);
			ctl_write(g_ctl_out[0], "q %" PRIu64 " %" PRIu64 " %"
			    PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %"
			    PRIu64 "\n", g_pings, g_notifications,
			    g_other_events, g_offsets, g_connect_pids,
			    g_presence_msgs, g_presence_bytes);
			exit(0);
		default:
			die("worker %d: unknown command %s", g_worker, cmd);
		}
	}
}

/*
 * Fork the workers (before any connection). Each gets its own epoll and
 * its two pipe ends; the parent keeps the others. The posts of a phase
 * live in g_shposts, mapped shared before the fork.
 */
static void
group_start(void)
{
	int	cmd[2], rep[2], k, j;
	pid_t	parent = getpid(), pid;

	g_shposts = mmap(NULL, MAX_POSTS * sizeof(struct post),
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g_shposts == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	for (k = 0; k < g_procs; k++) {
		if (pipe2(cmd, O_CLOEXEC) == -1 ||
		    pipe2(rep, O_CLOEXEC) == -1)
			die("pipe2: %s", strerror(errno));
		if ((pid = fork()) == -1)
			die("fork: %s", strerror(errno));
		if (pid == 0) {
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
			    getppid() != parent)
				_exit(2);
			for (j = 0; j < k; j++)
				close(g_ctl_out[j]);
			for (j = 0; j < g_maxfd; j++)
				if (g_fds[j] != NULL && g_fds[j]->kind == K_CTL)
					close(j);
			memset(g_fds, 0, (size_t)g_maxfd * sizeof(*g_fds));
			close(g_epfd);
			if ((g_epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
				die("epoll_create1: %s", strerror(errno));
			close(cmd[1]);
			close(rep[0]);
			(void)fcntl(cmd[0], F_SETFL, O_NONBLOCK);
			g_worker = k;
			g_ctl_out[0] = rep[1];
			ctl_conn(cmd[0], 0);
			worker_main();
		}
		close(cmd[0]);
		close(rep[1]);
		(void)fcntl(rep[0], F_SETFL, O_NONBLOCK);
		g_kids[k] = pid;
		g_ctl_out[k] = cmd[1];
		ctl_conn(rep[0], k);
	}
}

/* The parent: connect up to n sockets, as connect_to() alone. */
static void
group_connect(int n)
{
	char	cmd[64];

	snprintf(cmd, sizeof(cmd), "C %d", n);
	group_cmd(cmd);
	g_nws = n;
}

static void
group_settle(int quiet_ms, int max_ms)
{
	char	cmd[64];
	int	k;

	snprintf(cmd, sizeof(cmd), "S %d %d", quiet_ms, max_ms);
	group_cmd(cmd);
	g_presence_msgs = g_presence_bytes = 0;
	for (k = 0; k < g_procs; k++) {
		g_presence_msgs += g_kstat[k][5];
		g_presence_bytes += g_kstat[k][6];
	}
}

static void
group_lost(int seq)
{
	char	cmd[64];

	snprintf(cmd, sizeof(cmd), "L %d", seq);
	group_cmd(cmd);
}

/* Close every socket, add the workers' counters up, reap them. */
static void
group_stop(void)
{
	int	k, status;

	g_closing = 1;
	group_cmd("Q");
	g_pings = g_notifications = g_other_events = g_offsets = 0;
	g_connect_pids = g_presence_msgs = g_presence_bytes = 0;
	for (k = 0; k < g_procs; k++) {
		g_pings += g_kstat[k][0];
		g_notifications += g_kstat[k][1];
		g_other_events += g_kstat[k][2];
		g_offsets += g_kstat[k][3];
		g_connect_pids += g_kstat[k][4];
		g_presence_msgs += g_kstat[k][5];
		g_presence_bytes += g_kstat[k][6];
		if (waitpid(g_kids[k], &status, 0) == -1 ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			die("worker %d did not exit cleanly", k);
	}
}

/* CPU time of this process and its workers, ms. */
static double
group_cpu_ms(void)
{
	double		 t = self_cpu_ms();
	uint64_t	 ticks, rss;
	int		 k, pp;

	for (k = 0; k < g_procs && g_worker < 0 && g_kids[k] > 0; k++)
		if (proc_read_stat(g_kids[k], &pp, &ticks, &rss))
			t += ticks_ms(ticks);
	return (t);
}

static struct conn	*g_post_conn;
static int		 g_post_seq;

static int
post_conn_ready(void)
{
	return (g_post_conn != NULL && g_post_conn->connected);
}

static void
post_done(struct hreq *r, int status, const char *body, size_t n)
{
	struct post	*po = &g_posts[r->idx];

	need(status == 201 && json_str(body, n, "id", po->id,
	    sizeof(po->id)), r, status, body, n);
	if (po->ev_id[0] != '\0' && strcmp(po->ev_id, po->id) != 0)
		die("fanout-%d-%d: the POST made todo %s, the sockets got %s",
		    g_phase, r->idx, po->id, po->ev_id);
	po->status = status;
	po->t_resp = r->t_done;
}

static int
post_complete(void)
{
	struct post	*po = &g_posts[g_post_seq];

	return (po->status != 0 &&
	    __atomic_load_n(&po->count, __ATOMIC_ACQUIRE) == g_expect);
}

/* One POST /todos into the project; waits for all deliveries. */
static void
fan_one(int seq, int timeout_ms)
{
	struct hreq	*r;
	char		 body[128];
	struct post	*po = &g_posts[seq];
	int		 i, lost;

	/* a connected, idle HTTP connection first: t0 is the write */
	if (g_http_nidle > 0) {
		g_post_conn = g_http_idle[--g_http_nidle];
	} else {
		if (g_http_conns >= g_http_max)
			die("no HTTP connection free for the fan-out POST");
		g_post_conn = conn_new(K_HTTP, 0, -1);
		g_http_conns++;
		if (!loop_until(post_conn_ready, 10000))
			die("could not connect for the fan-out POST");
	}

	snprintf(body, sizeof(body), "{\"title\":\"fanout-%d-%d\","
	    "\"projectId\":\"%s\"}", g_phase, seq, g_project);
	r = hreq_new("POST", "/todos", g_owner_token, body, post_done, seq);
	g_post_seq = seq;
	__atomic_store_n(&po->t0, now_ns(), __ATOMIC_RELEASE);
	http_assign(g_post_conn, r);

	if (!loop_until(post_complete, timeout_ms)) {
		if (po->status == 0)
			die("POST /todos fanout-%d-%d: no response after %d ms",
			    g_phase, seq, timeout_ms);
		lost = g_expect - po->count;
		if (g_procs > 1)
			group_lost(seq);
		for (i = 0; i < g_nws && g_procs == 1; i++) {
			if (!g_ws[i]->seen[seq]) {
				die("LOST: %s fanout-%d-%d reached "
				    "%d of %d sockets in %d ms; socket #%d "
				    "(user %d) is one of the %d without it",
				    g_sync ? "sync create" : "todo:created",
				    g_phase, seq, po->count, g_expect,
				    timeout_ms, i, g_ws[i]->user, lost);
			}
		}
		die("LOST: fanout-%d-%d: %d of %d", g_phase, seq, po->count,
		    g_expect);
	}
}

struct result {
	int		n;
	double		p50, p99, mean, min, max;
	double		first_p50, resp_p50, resp_p99;
	double		dps;
	double		cpu_ms;
	double		root_cpu_ms[MAX_ROOTS];
	double		window_s;
	double		client_cpu_ms;
	double		rss_base_kib, rss_kib, rss_per_conn_kib;
	double		connect_s;
	int		nprocs;
	uint64_t	presence_msgs;
	uint64_t	presence_bytes;
	int		posts;
};

static void
fan_phase(int size, int posts, int warmup, int batch,
    int timeout_ms, int gap_ms, uint64_t rss_base, struct result *res)
{
	struct procstat	 a, b, ps;
	uint64_t	*lat, *first, *resp, t, tw, sum = 0;
	double		 ca, cb;
	int		 i, total = posts + warmup;

	memset(res, 0, sizeof(*res));
	res->n = size;
	res->posts = posts;

	t = now_ns();
	if (g_procs > 1) {
		group_connect(size);
		res->connect_s = (double)(now_ns() - t) / 1e9;
		group_settle(1000, 30000);
	} else {
		connect_to(size, batch);
		res->connect_s = (double)(now_ns() - t) / 1e9;
		settle(1000, 30000);
	}
	proc_sample(&ps);
	res->nprocs = ps.nprocs;
	res->rss_base_kib = (double)rss_base / 1024.0;
	res->rss_kib = (double)ps.rss_bytes / 1024.0;
	res->rss_per_conn_kib = ((double)ps.rss_bytes - (double)rss_base) /
	    1024.0 / size;
	res->presence_msgs = g_presence_msgs;
	res->presence_bytes = g_presence_bytes;
	logf_("%d sockets ready in %.1f s; server RSS %.1f MiB (%d procs), "
	    "%.2f KiB/socket over the %.1f MiB before; %" PRIu64
	    " presence updates so far", size, res->connect_s,
	    res->rss_kib / 1024, ps.nprocs, res->rss_per_conn_kib,
	    res->rss_base_kib / 1024, g_presence_msgs);

	/* the phase: every socket must see each post exactly once */
	g_phase++;
	g_nposts = total;
	g_expect = size;
	if (g_procs > 1) {
		char	cmd[64];

		if (total > MAX_POSTS)
			die("at most %d posts with --procs", MAX_POSTS);
		g_posts = g_shposts;
		memset(g_posts, 0, (size_t)total * sizeof(*g_posts));
		snprintf(cmd, sizeof(cmd), "P %d %d %d", g_phase, total, size);
		group_cmd(cmd);
	} else {
		g_posts = xcalloc((size_t)total, sizeof(*g_posts));
	}
	for (i = 0; i < g_nws && g_procs == 1; i++) {
		free(g_ws[i]->seen);
		g_ws[i]->seen = xcalloc((size_t)total, 1);
	}

	for (i = 0; i < warmup; i++) {
		fan_one(i, timeout_ms);
		loop_for(gap_ms);
	}
	proc_sample(&a);
	ca = group_cpu_ms();
	tw = now_ns();
	for (i = warmup; i < total; i++) {
		fan_one(i, timeout_ms);
		if (i + 1 < total)
			loop_for(gap_ms);
	}
	proc_sample(&b);
	cb = group_cpu_ms();
	res->window_s = (double)(now_ns() - tw) / 1e9;
	/* late duplicates would show up here */
	loop_for(500);
	if (g_procs > 1)
		group_cmd("E");
	for (i = 0; i < total; i++) {
		if (g_posts[i].count != size)
			die("fanout-%d-%d: %d deliveries to %d sockets",
			    g_phase, i, g_posts[i].count, size);
	}

	lat = xcalloc((size_t)posts, sizeof(*lat));
	first = xcalloc((size_t)posts, sizeof(*first));
	resp = xcalloc((size_t)posts, sizeof(*resp));
	for (i = 0; i < posts; i++) {
		struct post	*po = &g_posts[warmup + i];

		lat[i] = po->last - po->t0;
		first[i] = po->first - po->t0;
		resp[i] = po->t_resp - po->t0;
		sum += lat[i];
	}
	qsort(lat, (size_t)posts, sizeof(*lat), cmp_u64);
	qsort(first, (size_t)posts, sizeof(*first), cmp_u64);
	qsort(resp, (size_t)posts, sizeof(*resp), cmp_u64);
	res->p50 = ms(pct(lat, (size_t)posts, 50));
	res->p99 = ms(pct(lat, (size_t)posts, 99));
	res->min = ms(lat[0]);
	res->max = ms(lat[posts - 1]);
	res->mean = ms(sum) / posts;
	res->first_p50 = ms(pct(first, (size_t)posts, 50));
	res->resp_p50 = ms(pct(resp, (size_t)posts, 50));
	res->resp_p99 = ms(pct(resp, (size_t)posts, 99));
	res->dps = (double)size * posts / ((double)sum / 1e9);
	res->cpu_ms = ticks_ms(b.cpu_ticks - a.cpu_ticks) / posts;
	for (i = 0; i < g_nroots; i++)
		res->root_cpu_ms[i] = ticks_ms(b.root_ticks[i] -
		    a.root_ticks[i]) / posts;
	res->client_cpu_ms = (cb - ca) / posts;
	free(lat);
	free(first);
	free(resp);
	if (g_procs == 1)
		free(g_posts);
	g_posts = NULL;
	g_nposts = 0;

	logf_("N=%d: request->last delivery p50 %.2f ms, p99 %.2f ms "
	    "(min %.2f, max %.2f); first %.2f ms; response %.2f ms; "
	    "%.0f deliveries/s; server CPU %.2f ms per fan-out "
	    "(loadgen %.2f ms)", size, res->p50, res->p99, res->min,
	    res->max, res->first_p50, res->resp_p50, res->dps, res->cpu_ms,
	    res->client_cpu_ms);
}

static int
cmd_fanout(const char *state, const char *sizes, int posts, int warmup,
    int batch, const char *pids, int timeout_ms, int gap_ms,
    const char *json, const char *label)
{
	struct result	 res[16];
	struct procstat	 base;
	int		 n = 0, i, k, sz[16], maxsz = 0;
	const char	*p = sizes;
	FILE		*f;

	state_read(state);
	snprintf(g_qid, sizeof(g_qid), "\"queryId\":\"todos:{\\\"projectId\\\":"
	    "\\\"%s\\\"}\"", g_project);
	while (*p && n < 16) {
		sz[n] = atoi(p);
		if (sz[n] <= 0 || (n > 0 && sz[n] <= sz[n - 1]))
			die("--sizes must be ascending positive numbers");
		maxsz = sz[n];
		n++;
		if ((p = strchr(p, ',')) == NULL)
			break;
		p++;
	}
	if ((maxsz + g_procs - 1) / g_procs + 64 > g_maxfd)
		die("%d sockets over %d process(es) need more than the %d "
		    "open files each is allowed (--procs)", maxsz, g_procs,
		    g_maxfd);
	if (posts < 1 || warmup < 0)
		die("bad --posts/--warmup");
	g_ws = xcalloc((size_t)maxsz, sizeof(*g_ws));
	g_http_max = 1;
	g_batch = batch;

	for (p = pids; *p != '\0' && g_nroots < MAX_ROOTS; ) {
		if ((g_roots[g_nroots++] = atoi(p)) <= 0)
			die("--pid: bad process id in %s", pids);
		if ((p = strchr(p, ',')) == NULL)
			break;
		p++;
	}
	if (g_nroots == 0 || (p != NULL && *p != '\0'))
		die("--pid: one to %d process ids, comma-separated", MAX_ROOTS);
	proc_sample(&base);
	logf_("server %s: %d processes, RSS %.1f MiB before any socket",
	    pids, base.nprocs, (double)base.rss_bytes / 1048576.0);
	if (g_procs > 1) {
		group_start();
		logf_("%d loadgen workers, %d source address(es)", g_procs,
		    g_nbind ? g_nbind : 1);
	}

	for (i = 0; i < n; i++)
		fan_phase(sz[i], posts, warmup, batch, timeout_ms,
		    gap_ms, base.rss_bytes, &res[i]);
	/* the workers' counters first */
	if (g_procs > 1)
		group_stop();

	if (json != NULL) {
		if ((f = fopen(json, "w")) == NULL)
			die("%s: %s", json, strerror(errno));
		fprintf(f, "{\"label\":\"%s\",\"protocol\":\"%s\","
		    "\"users\":%d,\"subscribe\":%s,"
		    "\"pings\":%" PRIu64 ",\"notifications\":%" PRIu64
		    ",\"other_events\":%" PRIu64 ",\"recovery_offsets\":%"
		    PRIu64 ",\"connect_pids\":%" PRIu64 ",\"port\":%d,"
		    "\"port2\":%d,\"loadgen_procs\":%d,\"source_addresses\":%d,"
		    "\"sizes\":[",
		    label ? label : "", g_sync ? "sync" : "todo", g_users,
		    g_subscribe ? "true" : "false", g_pings, g_notifications,
		    g_other_events, g_offsets, g_connect_pids, g_port, g_port2,
		    g_procs, g_nbind ? g_nbind : 1);
		for (i = 0; i < n; i++) {
			struct result	*r = &res[i];

			fprintf(f, "%s{\"n\":%d,\"posts\":%d,\"p50_ms\":%.3f,"
			    "\"p99_ms\":%.3f,\"mean_ms\":%.3f,\"min_ms\":%.3f,"
			    "\"max_ms\":%.3f,\"first_p50_ms\":%.3f,"
			    "\"resp_p50_ms\":%.3f,\"resp_p99_ms\":%.3f,"
			    "\"deliveries_per_s\":%.0f,"
			    "\"cpu_ms_per_fanout\":%.3f,"
			    "\"loadgen_cpu_ms_per_fanout\":%.3f,"
			    "\"rss_base_kib\":%.0f,\"rss_kib\":%.0f,"
			    "\"rss_per_conn_kib\":%.3f,\"connect_s\":%.2f,"
			    "\"server_procs\":%d,\"presence_msgs\":%" PRIu64
			    ",\"presence_bytes\":%" PRIu64 ","
			    "\"window_s\":%.3f,\"cpu_ms_per_fanout_by_pid\":{",
			    i ? "," : "", r->n, r->posts, r->p50, r->p99,
			    r->mean, r->min, r->max, r->first_p50,
			    r->resp_p50, r->resp_p99, r->dps, r->cpu_ms,
			    r->client_cpu_ms, r->rss_base_kib, r->rss_kib,
			    r->rss_per_conn_kib, r->connect_s, r->nprocs,
			    r->presence_msgs, r->presence_bytes, r->window_s);
			for (k = 0; k < g_nroots; k++)
				fprintf(f, "%s\"%d\":%.3f", k ? "," : "",
				    g_roots[k], r->root_cpu_ms[k]);
			fprintf(f, "}}");
		}
		fprintf(f, "]}\n");
		if (fclose(f) != 0)
			die("%s: %s", json, strerror(errno));
	}

	g_closing = 1;
	for (i = 0; i < g_nws && g_procs == 1; i++) {
		if (g_ws[i] != NULL && g_fds[g_ws[i]->fd] == g_ws[i])
			conn_free(g_ws[i]);
	}
	logf_("%" PRIu64 " of the events carried a recovery offset; %" PRIu64
	    " of the CONNECTs a pid", g_offsets, g_connect_pids);
	printf("fanout: ok, no lost or duplicated %s\n", g_sync ?
	    "sync create" : "todo:created");
	return (0);
}

/* ---- main ------------------------------------------------------------------- */

/* --bind 127.0.0.2,127.0.0.3,... */
static void
bind_parse(const char *v)
{
	char	 addr[64];
	size_t	 n;

	while (*v != '\0') {
		n = strcspn(v, ",");
		if (n == 0 || n >= sizeof(addr) ||
		    g_nbind >= (int)(sizeof(g_bind) / sizeof(g_bind[0])))
			die("--bind: one to 64 IPv4 addresses, comma-separated");
		memcpy(addr, v, n);
		addr[n] = '\0';
		if (inet_pton(AF_INET, addr, &g_bind[g_nbind++]) != 1)
			die("--bind: bad address %s", addr);
		v += n;
		if (*v == ',')
			v++;
	}
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen setup  --port P [--host H] --users U --seed K "
	    "--state FILE [--par 8]\n"
	    "       loadgen fanout --port P [--port2 P2] [--host H] --state FILE\n"
	    "                      --pid PID[,PID...]\n"
	    "                      [--sizes 1000,10000] [--posts 50] "
	    "[--warmup 5] [--batch 500]\n"
	    "                      [--timeout-ms 60000] [--gap-ms 20] "
	    "[--no-subscribe] [--json OUT] [--label L]\n"
	    "                      [--protocol todo|sync] [--procs K]\n"
	    "                      [--bind ADDR[,ADDR...]]\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	const char	*cmd, *state = NULL, *sizes = "1000,10000", *json = NULL;
	const char	*label = NULL;
	int		 users = 100, seed = 20, posts = 50, warmup = 5;
	const char	*pids = NULL;
	int		 batch = 500, timeout_ms = 60000, gap_ms = 20;
	int		 i;

	if (argc < 2)
		usage();
	cmd = argv[1];
	for (i = 2; i < argc; i++) {
		const char	*a = argv[i];
		const char	*v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--no-subscribe")) {
			g_subscribe = 0;
			continue;
		}
		if (v == NULL)
			usage();
		i++;
		if (!strcmp(a, "--port"))
			g_port = atoi(v);
		else if (!strcmp(a, "--host"))
			g_host = v;
		else if (!strcmp(a, "--users"))
			users = atoi(v);
		else if (!strcmp(a, "--seed"))
			seed = atoi(v);
		else if (!strcmp(a, "--state"))
			state = v;
		else if (!strcmp(a, "--par"))
			g_http_max = atoi(v);
		else if (!strcmp(a, "--sizes"))
			sizes = v;
		else if (!strcmp(a, "--posts"))
			posts = atoi(v);
		else if (!strcmp(a, "--warmup"))
			warmup = atoi(v);
		else if (!strcmp(a, "--batch"))
			batch = atoi(v);
		else if (!strcmp(a, "--pid"))
			pids = v;
		else if (!strcmp(a, "--port2"))
			g_port2 = atoi(v);
		else if (!strcmp(a, "--timeout-ms"))
			timeout_ms = atoi(v);
		else if (!strcmp(a, "--gap-ms"))
			gap_ms = atoi(v);
		else if (!strcmp(a, "--json"))
			json = v;
		else if (!strcmp(a, "--label"))
			label = v;
		else if (!strcmp(a, "--procs"))
			g_procs = atoi(v);
		else if (!strcmp(a, "--bind"))
			bind_parse(v);
		else if (!strcmp(a, "--protocol")) {
			if (!strcmp(v, "sync"))
				g_sync = 1;
			else if (!strcmp(v, "todo"))
				g_sync = 0;
			else
				usage();
		}
		else
			usage();
	}
	if (state == NULL || g_port <= 0 || g_http_max < 1 || g_http_max > 64 ||
	    batch < 1 || g_procs < 1 || g_procs > MAX_PROCS)
		usage();

	net_init();
	if (!strcmp(cmd, "setup"))
		return (cmd_setup(users, seed, state));
	if (!strcmp(cmd, "fanout")) {
		if (pids == NULL)
			die("fanout needs --pid of the server");
		return (cmd_fanout(state, sizes, posts, warmup, batch, pids,
		    timeout_ms, gap_ms, json, label));
	}
	usage();
	return (1);
}
