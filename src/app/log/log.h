/*
 * log/: korio's log lines and request ids.
 *
 * Text, Kore's own format, is the default. With LOG_FORMAT=json every
 * line, Kore's own and the parent's included, is one JSON object
 *	{"ts","level","msg","worker"[,"req_id"][,"sid"]}
 * written by log.c through Kore's kore_log_hook (patches/08). What a line
 * is about comes from its thread's context: the id of the request being
 * handled (http/http_reqid.c sets it around every handler, job.c carries
 * it to the pool threads and back), and the socket a line names
 * (log_sid(), the plugin's lines through log_sio()).
 *
 * A request's id is the client's X-Request-ID, else its X-Correlation-ID,
 * else the trace-id of its W3C traceparent, when valid (log_reqid.c), else
 * a new UUID; it is echoed as X-Request-ID.
 *
 * log_json.c and log_reqid.c are pure C (no Kore): unit-tested and fuzzed
 * alone.
 */

#ifndef KORIO_LOG_H
#define KORIO_LOG_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define LOG_LINE_MAX	4096	/* a JSON line, newline included */
#define LOG_REQID_MAX	128	/* bytes of a request id */
#define LOG_SID_MAX	64	/* bytes of a sid kept in a line */
#define LOG_TRACE_LEN	32	/* a traceparent's trace-id, hex */

struct log_line {
	int64_t		 ts_ms;		/* Unix time, milliseconds */
	int		 prio;		/* syslog priority */
	const char	*msg;
	int		 worker;	/* 0: the parent */
	const char	*req_id;	/* NULL or "": none */
	const char	*sid;		/* NULL or "": none */
};

/* log_json.c */
size_t		 log_json(char *, size_t, const struct log_line *);
const char	*log_json_level(int);

/* log_reqid.c */
int	log_reqid_valid(const char *);
int	log_reqid_traceparent(const char *, char [LOG_TRACE_LEN + 1]);
int	log_reqid_pick(const char *, const char *, const char *,
	    char [LOG_REQID_MAX + 1]);
void	log_reqid_uuid(const u_int8_t [16], char [LOG_REQID_MAX + 1]);

/* log.c */
void		 log_init(void);
void		 log_req_set(const char *);
const char	*log_req_get(void);
void		 log_sid(int, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
void		 log_sio(int, const char *, const char *);

#endif /* !KORIO_LOG_H */
