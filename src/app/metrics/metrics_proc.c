/*
 * The process tree's numbers for the process_* metrics, from /proc (no
 * Kore: libc only; the parsers are unit-tested and fuzzed alone).
 *
 * /proc/<pid>/stat is one line, "pid (comm) state ppid ...", fields
 * numbered from 1 as proc(5) does: utime 14 and stime 15 (clock ticks),
 * starttime 22 (clock ticks after boot), rss 24 (pages). comm may hold
 * spaces and parentheses, so the fields are counted from the last ')'.
 * /proc/stat's "btime N" line is the boot time (Unix seconds).
 *
 * A worker reads its parent's and its siblings' files: they run as the
 * same user, so /proc/<pid>/fd is readable too (where it is not, under a
 * user switch, process_open_fds counts the processes it could read). In
 * a chroot without /proc nothing is read and the process_* families are
 * left out.
 */

#include <sys/types.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics/metrics.h"

#define PROC_FIELD_UTIME	14
#define PROC_FIELD_STIME	15
#define PROC_FIELD_STARTTIME	22
#define PROC_FIELD_RSS		24

static int	proc_num(const char *, size_t, uint64_t *);
static ssize_t	proc_read(const char *, char *, size_t);

/* A decimal number that is the whole of s[0..len), at most 19 digits. */
static int
proc_num(const char *s, size_t len, uint64_t *out)
{
	size_t		i;
	uint64_t	n;

	if (len == 0 || len > 19)
		return (0);
	for (i = n = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (0);
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	*out = n;

	return (1);
}

/* The fields of a /proc/<pid>/stat line buf[0..len) (no NUL needed). */
int
metrics_proc_stat_parse(const char *buf, size_t len, struct metrics_pstat *ps)
{
	size_t		i, start, field;
	uint64_t	v;
	int		got;

	/* The last ')': the end of comm, field 2. */
	for (i = len; i > 0 && buf[i - 1] != ')'; i--)
		;
	if (i == 0)
		return (0);

	memset(ps, 0, sizeof(*ps));
	got = 0;
	field = 2;
	while (i < len && buf[i] != '\n') {
		if (buf[i] != ' ')
			return (0);
		start = ++i;
		while (i < len && buf[i] != ' ' && buf[i] != '\n')
			i++;
		field++;
		if (field != PROC_FIELD_UTIME && field != PROC_FIELD_STIME &&
		    field != PROC_FIELD_STARTTIME && field != PROC_FIELD_RSS)
			continue;
		if (!proc_num(buf + start, i - start, &v))
			return (0);
		if (field == PROC_FIELD_UTIME)
			ps->utime = v;
		else if (field == PROC_FIELD_STIME)
			ps->stime = v;
		else if (field == PROC_FIELD_STARTTIME)
			ps->starttime = v;
		else
			ps->rss = v;
		got++;
	}

	return (got == 4);
}

/* The boot time in /proc/stat's text buf[0..len). */
int
metrics_proc_btime_parse(const char *buf, size_t len, uint64_t *btime)
{
	size_t		i, start;

	for (i = 0; i < len; i++) {
		if (i > 0 && buf[i - 1] != '\n')
			continue;
		if (len - i < 6 || memcmp(buf + i, "btime ", 6) != 0)
			continue;
		start = i + 6;
		for (i = start; i < len && buf[i] != '\n'; i++)
			;
		return (proc_num(buf + start, i - start, btime));
	}

	return (0);
}

/* At most len - 1 bytes of path, NUL-terminated; -1 if unreadable. */
static ssize_t
proc_read(const char *path, char *buf, size_t len)
{
	ssize_t		n;
	size_t		got;
	int		fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);

	got = 0;
	while (got < len - 1) {
		if ((n = read(fd, buf + got, len - 1 - got)) <= 0)
			break;
		got += (size_t)n;
	}
	(void)close(fd);
	buf[got] = '\0';

	return ((ssize_t)got);
}

int
metrics_proc_stat_read(pid_t pid, struct metrics_pstat *ps)
{
	char		path[64], buf[4096];
	ssize_t		n;

	(void)snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((n = proc_read(path, buf, sizeof(buf))) <= 0)
		return (0);

	return (metrics_proc_stat_parse(buf, (size_t)n, ps));
}

/* The open descriptors of pid, by its /proc/<pid>/fd. */
int
metrics_proc_fds(pid_t pid, uint64_t *count)
{
	char		 path[64];
	DIR		*d;
	struct dirent	*de;
	uint64_t	 n;

	(void)snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	if ((d = opendir(path)) == NULL)
		return (0);

	n = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			n++;
	}
	(void)closedir(d);
	*count = n;

	return (1);
}

/*
 * When pid started, in Unix seconds (tck: clock ticks a second); 0 if
 * /proc can't tell. /proc/stat's lines of interrupt counts can be long:
 * it is read whole, up to 1 MiB.
 */
double
metrics_proc_start_time(pid_t pid, long tck)
{
	struct metrics_pstat	ps;
	uint64_t		btime;
	char			*buf;
	double			t;
	ssize_t			n;

	if (tck <= 0 || !metrics_proc_stat_read(pid, &ps))
		return (0);
	if ((buf = malloc(1024 * 1024)) == NULL)
		return (0);

	t = 0;
	if ((n = proc_read("/proc/stat", buf, 1024 * 1024)) > 0 &&
	    metrics_proc_btime_parse(buf, (size_t)n, &btime))
		t = (double)btime + (double)ps.starttime / (double)tck;
	free(buf);

	return (t);
}

/* The processes pids[0..n) together (tck: ticks a second; page bytes). */
void
metrics_proc_collect(const pid_t *pids, size_t n, long tck, long page,
    struct metrics_proc *out)
{
	struct metrics_pstat	ps;
	uint64_t		ticks, fds;
	size_t			i;

	memset(out, 0, sizeof(*out));
	ticks = 0;
	for (i = 0; i < n; i++) {
		if (pids[i] <= 0)
			continue;
		if (metrics_proc_stat_read(pids[i], &ps)) {
			out->nproc++;
			ticks += ps.utime + ps.stime;
			out->rss_bytes += ps.rss * (uint64_t)page;
		}
		if (metrics_proc_fds(pids[i], &fds)) {
			out->nfds++;
			out->open_fds += fds;
		}
	}
	if (tck > 0)
		out->cpu_seconds = (double)ticks / (double)tck;
}
