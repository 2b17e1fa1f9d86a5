/*
 * LOG_FORMAT and the JSON lines (log.h says what they hold).
 *
 * log_init() runs first in the parent: with LOG_FORMAT=json it sets
 * Kore's kore_log_hook (patches/08), so that every line kore_log() makes,
 * Kore's own, the plugin's and korio's, and fatal()'s message, comes here
 * and leaves as one JSON line: with one write() to stdout in the
 * foreground (a line is at most LOG_LINE_MAX bytes, PIPE_BUF on Linux, so
 * the lines of the parent, the workers and their threads never mix), else
 * to syslog. The workers inherit the hook. With LOG_FORMAT=text (the
 * default) no hook is set and Kore writes as it always did.
 *
 * The context of a line is its thread's: the request id that
 * http/http_reqid.c sets around each handler (job.c around a job's work
 * and its return), the socket id log_sid() and log_sio() set for one line.
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"

static void	log_hook(int, const char *);
static void	log_write(const char *, size_t);

static _Thread_local const char	*log_cur_req;
static _Thread_local const char	*log_cur_sid;

/* In the parent, before anything logs. */
void
log_init(void)
{
	const char	*v;

	if ((v = getenv("LOG_FORMAT")) == NULL || *v == '\0' ||
	    !strcmp(v, "text"))
		return;

	if (strcmp(v, "json"))
		fatal("LOG_FORMAT: expected text or json");

	kore_log_hook = log_hook;
}

/* The request id of this thread's next lines; NULL: none. Not copied. */
void
log_req_set(const char *id)
{
	log_cur_req = id;
}

const char *
log_req_get(void)
{
	return (log_cur_req);
}

/* A line about socket (or session) sid. */
void
log_sid(int prio, const char *sid, const char *fmt, ...)
{
	va_list		args;
	char		msg[2048];

	va_start(args, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);

	log_sio(prio, sid, msg);
}

/* The plugin's lines (sio_config.log): msg is about sid, if not NULL. */
void
log_sio(int prio, const char *sid, const char *msg)
{
	const char	*was;

	was = log_cur_sid;
	log_cur_sid = sid;
	kore_log(prio, "%s", msg);
	log_cur_sid = was;
}

static void
log_hook(int prio, const char *msg)
{
	struct log_line		l;
	struct timespec		ts;
	char			line[LOG_LINE_MAX];
	size_t			len;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	l.ts_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	l.prio = prio;
	l.msg = msg;
	l.worker = worker != NULL ? worker->id : 0;
	l.req_id = log_cur_req;
	l.sid = log_cur_sid;

	if ((len = log_json(line, sizeof(line), &l)) == 0)
		return;

	if (kore_foreground)
		log_write(line, len);
	else
		syslog(prio, "%.*s", (int)len - 1, line);
}

/* One write() when it can; a short one is finished. */
static void
log_write(const char *p, size_t len)
{
	ssize_t		n;

	/* Anything stdio still holds goes first. */
	(void)fflush(stdout);

	while (len > 0) {
		if ((n = write(STDOUT_FILENO, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}
