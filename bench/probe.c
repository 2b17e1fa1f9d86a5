/*
 * probe: the floor of a fan-out on this machine. N loopback TCP pairs; a
 * sender writes the same WebSocket frame (the todo:created frame a server
 * sends, or --bytes of filler) to each of the N sockets, a reader drains
 * the other ends with epoll. Per round it measures the send loop (write
 * of the first frame to return of the last send), the sender's CPU time,
 * and the time of the last read (CLOCK_MONOTONIC), like loadgen measures
 * a server's fan-out.
 *
 *   probe [--sizes 1000,10000] [--rounds 50] [--warmup 5] [--senders 1]
 *         [--bytes 0] [--gap-ms 20] [--json OUT]
 *
 * --senders S splits the N sockets over S sender threads (S cores' worth
 * of floor, as a server with S workers would have).
 *
 * The reader is a child process, not a thread: 2 x 10000 descriptors do
 * not fit under one process's 20000 open-file limit on this machine. Both
 * processes read the same CLOCK_MONOTONIC.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SENDERS	8

static void
die(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "PROBE FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(2);
}

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

static double
cpu_ms(int who)
{
	struct rusage	ru;

	getrusage(who, &ru);
	return (ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 +
	    ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3);
}

/* CPU time of this process (the reader has one thread). */
static uint64_t
cpu_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

static uint64_t
pct(const uint64_t *v, size_t n, double p)
{
	size_t	r = (size_t)(p / 100.0 * (double)n + 0.999999);

	if (r < 1)
		r = 1;
	if (r > n)
		r = n;
	return (v[r - 1]);
}

static void
xread(int fd, void *p, size_t n)
{
	size_t	got = 0;
	ssize_t	r;

	while (got < n) {
		r = read(fd, (char *)p + got, n - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			die("pipe read: %s", r == 0 ? "closed" :
			    strerror(errno));
		got += (size_t)r;
	}
}

static void
xwrite(int fd, const void *p, size_t n)
{
	if (write(fd, p, n) != (ssize_t)n)
		die("pipe write: %s", strerror(errno));
}

/* The reader: connect N sockets, then drain them, reporting each round. */
static void
reader(int port, int n, size_t bytes, int rounds, int res_fd)
{
	struct sockaddr_in	 sa;
	struct epoll_event	 ev, evs[1024];
	int			*fds, ep, i, k, one = 1, round = 0;
	uint64_t		 total = 0, want, last = 0, cpu_mark;
	static char		 buf[65536];
	char			 ok = 'R';

	fds = calloc((size_t)n, sizeof(*fds));
	if (fds == NULL)
		die("calloc");
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((ep = epoll_create1(0)) == -1)
		die("epoll_create1: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		if ((fds[i] = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			die("reader socket %d: %s", i, strerror(errno));
		(void)setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		if (connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)) == -1)
			die("reader connect %d: %s", i, strerror(errno));
		(void)fcntl(fds[i], F_SETFL, O_NONBLOCK);
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.fd = fds[i];
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) == -1)
			die("epoll_ctl: %s", strerror(errno));
	}
	xwrite(res_fd, &ok, 1);

	cpu_mark = cpu_ns();
	want = (uint64_t)n * bytes;
	while (round < rounds) {
		k = epoll_wait(ep, evs, 1024, 10000);
		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0)
			die("reader: nothing for 10 s in round %d (%" PRIu64
			    " of %" PRIu64 " bytes)", round, total, want);
		for (i = 0; i < k; i++) {
			ssize_t	r = recv(evs[i].data.fd, buf, sizeof(buf), 0);

			if (r <= 0) {
				if (r == -1 && errno == EAGAIN)
					continue;
				die("reader recv: %s", r == 0 ? "closed" :
				    strerror(errno));
			}
			last = now_ns();
			total += (uint64_t)r;
		}
		while (total >= want && round < rounds) {
			uint64_t	msg[2], cpu = cpu_ns();

			msg[0] = last;
			msg[1] = cpu - cpu_mark;
			cpu_mark = cpu;
			xwrite(res_fd, msg, sizeof(msg));
			total -= want;
			round++;
		}
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	_exit(0);
}

struct sender {
	pthread_t		 th;
	int			*fds;
	int			 n;
	const char		*frame;
	size_t			 len;
	pthread_barrier_t	*go;
	pthread_barrier_t	*done;
	uint64_t		 end;
	int			 stop;
};

static void
send_all(struct sender *s)
{
	int	i;

	for (i = 0; i < s->n; i++) {
		if (send(s->fds[i], s->frame, s->len, MSG_NOSIGNAL) !=
		    (ssize_t)s->len)
			die("send: %s", strerror(errno));
	}
	s->end = now_ns();
}

static void *
sender_main(void *arg)
{
	struct sender	*s = arg;

	for (;;) {
		pthread_barrier_wait(s->go);
		if (s->stop)
			break;
		send_all(s);
		pthread_barrier_wait(s->done);
	}
	return (NULL);
}

struct result {
	int	n;
	double	send_p50, send_p99, last_p50, last_p99, cpu_ms, per_send_us;
	double	reader_cpu_ms;
};

static void
probe_size(int n, int rounds, int warmup, int senders, const char *frame,
    size_t len, int gap_ms, struct result *res)
{
	struct sockaddr_in	 sa;
	socklen_t		 sl = sizeof(sa);
	int			 lfd, *fds, res_pipe[2], i, one = 1, total;
	pid_t			 pid;
	char			 ok;
	uint64_t		*sendt, *lastt, t0, last, end, msg[2];
	double			 c0, csum = 0, rsum = 0;
	struct sender		 s[MAX_SENDERS];
	pthread_barrier_t	 go, done;
	int			 status;

	total = rounds + warmup;
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		die("socket: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(lfd, 4096) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) == -1)
		die("listen: %s", strerror(errno));
	if (pipe(res_pipe) == -1)
		die("pipe: %s", strerror(errno));

	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(lfd);
		close(res_pipe[0]);
		reader(ntohs(sa.sin_port), n, len, total, res_pipe[1]);
	}
	close(res_pipe[1]);

	fds = calloc((size_t)n, sizeof(*fds));
	if (fds == NULL)
		die("calloc");
	for (i = 0; i < n; i++) {
		if ((fds[i] = accept(lfd, NULL, NULL)) == -1)
			die("accept %d: %s", i, strerror(errno));
		(void)setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	}
	close(lfd);
	xread(res_pipe[0], &ok, 1);

	pthread_barrier_init(&go, NULL, (unsigned)senders + 1);
	pthread_barrier_init(&done, NULL, (unsigned)senders + 1);
	for (i = 0; i < senders; i++) {
		int	from = (int)((long)n * i / senders);
		int	to = (int)((long)n * (i + 1) / senders);

		s[i].fds = fds + from;
		s[i].n = to - from;
		s[i].frame = frame;
		s[i].len = len;
		s[i].go = &go;
		s[i].done = &done;
		s[i].stop = 0;
		if (senders > 1 &&
		    pthread_create(&s[i].th, NULL, sender_main, &s[i]) != 0)
			die("pthread_create");
	}

	sendt = calloc((size_t)rounds, sizeof(*sendt));
	lastt = calloc((size_t)rounds, sizeof(*lastt));
	for (i = 0; i < total; i++) {
		int	j;

		c0 = cpu_ms(RUSAGE_SELF);
		t0 = now_ns();
		if (senders == 1) {
			send_all(&s[0]);
		} else {
			pthread_barrier_wait(&go);
			pthread_barrier_wait(&done);
		}
		end = 0;
		for (j = 0; j < senders; j++)
			if (s[j].end > end)
				end = s[j].end;
		xread(res_pipe[0], msg, sizeof(msg));
		last = msg[0];
		if (i >= warmup) {
			sendt[i - warmup] = end - t0;
			lastt[i - warmup] = last - t0;
			csum += cpu_ms(RUSAGE_SELF) - c0;
			rsum += (double)msg[1] / 1e6;
		}
		usleep((useconds_t)gap_ms * 1000);
	}
	if (senders > 1) {
		for (i = 0; i < senders; i++)
			s[i].stop = 1;
		pthread_barrier_wait(&go);
		for (i = 0; i < senders; i++)
			pthread_join(s[i].th, NULL);
	}
	pthread_barrier_destroy(&go);
	pthread_barrier_destroy(&done);

	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	close(res_pipe[0]);
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		die("reader failed");

	qsort(sendt, (size_t)rounds, sizeof(*sendt), cmp_u64);
	qsort(lastt, (size_t)rounds, sizeof(*lastt), cmp_u64);
	res->n = n;
	res->send_p50 = pct(sendt, (size_t)rounds, 50) / 1e6;
	res->send_p99 = pct(sendt, (size_t)rounds, 99) / 1e6;
	res->last_p50 = pct(lastt, (size_t)rounds, 50) / 1e6;
	res->last_p99 = pct(lastt, (size_t)rounds, 99) / 1e6;
	res->cpu_ms = csum / rounds;
	res->reader_cpu_ms = rsum / rounds;
	res->per_send_us = res->cpu_ms * 1000.0 / n;
	free(sendt);
	free(lastt);
}

int
main(int argc, char **argv)
{
	const char	*sizes = "1000,10000", *json = NULL, *p;
	int		 rounds = 50, warmup = 5, senders = 1, gap_ms = 20;
	int		 bytes = 0, i, n = 0, sz[16];
	struct result	 res[16];
	char		*frame;
	size_t		 len;
	FILE		*f;
	const char	*payload =
	    "42[\"todo:created\",{\"id\":\"6b07d8494e10368507fca1e1\","
	    "\"title\":\"fanout-1-10\",\"completed\":false,"
	    "\"ownerId\":\"6b07d8484e10368507fca10a\","
	    "\"projectId\":\"6b07d8494e10368507fca111\"}]";

	for (i = 1; i < argc; i++) {
		const char	*a = argv[i], *v = i + 1 < argc ? argv[i + 1] :
		    NULL;

		if (v == NULL)
			goto usage;
		i++;
		if (!strcmp(a, "--sizes"))
			sizes = v;
		else if (!strcmp(a, "--rounds"))
			rounds = atoi(v);
		else if (!strcmp(a, "--warmup"))
			warmup = atoi(v);
		else if (!strcmp(a, "--senders"))
			senders = atoi(v);
		else if (!strcmp(a, "--bytes"))
			bytes = atoi(v);
		else if (!strcmp(a, "--gap-ms"))
			gap_ms = atoi(v);
		else if (!strcmp(a, "--json"))
			json = v;
		else
			goto usage;
	}
	if (rounds < 1 || warmup < 0 || senders < 1 ||
	    senders > MAX_SENDERS || bytes < 0 || bytes > 125)
		goto usage;

	/* an unmasked server-to-client text frame */
	if (bytes == 0) {
		len = strlen(payload);
		frame = malloc(4 + len);
		frame[0] = (char)0x81;
		if (len < 126) {
			frame[1] = (char)len;
			memcpy(frame + 2, payload, len);
			len += 2;
		} else {
			frame[1] = 126;
			frame[2] = (char)(len >> 8);
			frame[3] = (char)len;
			memcpy(frame + 4, payload, len);
			len += 4;
		}
	} else {
		len = (size_t)bytes;
		frame = malloc(len);
		memset(frame, 'x', len);
		frame[0] = (char)0x81;
		if (len > 1)
			frame[1] = (char)(len - 2);
	}

	signal(SIGPIPE, SIG_IGN);
	for (p = sizes; *p && n < 16;) {
		sz[n] = atoi(p);
		if (sz[n] < 1)
			goto usage;
		n++;
		if ((p = strchr(p, ',')) == NULL)
			break;
		p++;
	}

	for (i = 0; i < n; i++) {
		probe_size(sz[i], rounds, warmup, senders, frame, len, gap_ms,
		    &res[i]);
		fprintf(stderr, "probe: N=%d, %zu-byte frame, %d sender(s): "
		    "send loop p50 %.2f ms p99 %.2f ms; last read p50 %.2f ms "
		    "p99 %.2f ms; sender CPU %.2f ms (%.2f us per send), "
		    "reader CPU %.2f ms\n",
		    res[i].n, len, senders, res[i].send_p50, res[i].send_p99,
		    res[i].last_p50, res[i].last_p99, res[i].cpu_ms,
		    res[i].per_send_us, res[i].reader_cpu_ms);
	}

	if (json != NULL) {
		if ((f = fopen(json, "w")) == NULL)
			die("%s: %s", json, strerror(errno));
		fprintf(f, "{\"frame_bytes\":%zu,\"senders\":%d,\"rounds\":%d,"
		    "\"sizes\":[", len, senders, rounds);
		for (i = 0; i < n; i++)
			fprintf(f, "%s{\"n\":%d,\"send_p50_ms\":%.3f,"
			    "\"send_p99_ms\":%.3f,\"last_p50_ms\":%.3f,"
			    "\"last_p99_ms\":%.3f,\"cpu_ms\":%.3f,"
			    "\"per_send_us\":%.3f,\"reader_cpu_ms\":%.3f}",
			    i ? "," : "", res[i].n,
			    res[i].send_p50, res[i].send_p99, res[i].last_p50,
			    res[i].last_p99, res[i].cpu_ms,
			    res[i].per_send_us, res[i].reader_cpu_ms);
		fprintf(f, "]}\n");
		if (fclose(f) != 0)
			die("%s: %s", json, strerror(errno));
	}
	free(frame);
	return (0);

usage:
	fprintf(stderr, "usage: probe [--sizes 1000,10000] [--rounds 50] "
	    "[--warmup 5] [--senders 1] [--bytes 0..125] [--gap-ms 20] "
	    "[--json OUT]\n");
	return (1);
}
