/*
 * One log line as one JSON object on one line (LOG_FORMAT=json, log.c):
 *
 *	{"ts":"2025-01-02T03:04:05.678Z","level":"info","msg":"...",
 *	    "worker":1,"req_id":"...","sid":"..."}
 *
 * ts is UTC with milliseconds; level is "fatal", "error", "warn", "info"
 * or "debug"; worker is 0 in the parent; req_id and sid are left out when
 * there is none. Whatever bytes the message holds, the line is valid JSON:
 * quotes, backslashes and control characters are escaped (U+2028 and
 * U+2029 too, for JavaScript), a byte that does not start a valid UTF-8
 * character becomes U+FFFD, and a message too long for the line is cut
 * between two characters and ends in "...". The ids are escaped the same
 * way and cut at LOG_REQID_MAX and LOG_SID_MAX bytes.
 *
 * Pure C: no Kore.
 */

#include <sys/types.h>

#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log/log.h"
#include "utf8.h"

#define LOG_JSON_CUT	"..."
#define LOG_JSON_CUTLEN	(sizeof(LOG_JSON_CUT) - 1)

/* The longest tail: worker and both ids, each byte escaped as \u00XX. */
#define LOG_JSON_TAIL	(64 + 6 * (LOG_REQID_MAX + LOG_SID_MAX))

struct log_out {
	char	*p;
	size_t	 room;		/* bytes that may be written */
	size_t	 off;
};

static size_t	log_json_unit(const u_int8_t *, size_t, char [6], size_t *);
static size_t	log_json_esclen(const u_int8_t *, size_t);
static int	log_json_esc(struct log_out *, const u_int8_t *, size_t);
static void	log_json_put(struct log_out *, const char *, size_t);
static void	log_json_head(struct log_out *, const struct log_line *);
static void	log_json_tail(struct log_out *, const struct log_line *);
static void	log_json_id(struct log_out *, const char *, const char *,
		    size_t);

/*
 * Writes l into buf (size bytes, at least LOG_LINE_MAX / 2: room for the
 * longest ids) as one JSON line ending in a newline, NUL-terminated.
 * Returns its length, the newline included; 0 when buf is too small.
 */
size_t
log_json(char *buf, size_t size, const struct log_line *l)
{
	struct log_out	 o, t;
	char		 tail[LOG_JSON_TAIL];
	const u_int8_t	*msg;
	size_t		 len, room;

	if (size < LOG_LINE_MAX / 2)
		return (0);

	t.p = tail;
	t.room = sizeof(tail);
	t.off = 0;
	log_json_tail(&t, l);

	o.p = buf;
	o.room = size - 1;
	o.off = 0;
	log_json_head(&o, l);

	msg = (const u_int8_t *)(l->msg != NULL ? l->msg : "");
	len = strlen((const char *)msg);
	room = o.room - o.off - t.off;

	if (log_json_esclen(msg, len) <= room) {
		(void)log_json_esc(&o, msg, len);
	} else {
		o.room = o.off + room - LOG_JSON_CUTLEN;
		(void)log_json_esc(&o, msg, len);
		o.room = size - 1;
		log_json_put(&o, LOG_JSON_CUT, LOG_JSON_CUTLEN);
	}

	log_json_put(&o, t.p, t.off);
	buf[o.off] = '\0';

	return (o.off);
}

/* The level of a syslog priority. */
const char *
log_json_level(int prio)
{
	switch (prio) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
		return ("fatal");
	case LOG_ERR:
		return ("error");
	case LOG_WARNING:
		return ("warn");
	case LOG_DEBUG:
		return ("debug");
	default:
		return ("info");
	}
}

/* {"ts":"...","level":"...","msg":" */
static void
log_json_head(struct log_out *o, const struct log_line *l)
{
	struct tm	tm;
	time_t		sec;
	int64_t		ms;
	char		head[128];
	int		n;

	ms = l->ts_ms < 0 ? 0 : l->ts_ms;
	sec = (time_t)(ms / 1000);
	if (gmtime_r(&sec, &tm) == NULL || tm.tm_year + 1900 > 9999) {
		sec = 0;
		ms = 0;
		(void)gmtime_r(&sec, &tm);
	}

	n = snprintf(head, sizeof(head), "{\"ts\":\"%04d-%02d-%02dT"
	    "%02d:%02d:%02d.%03dZ\",\"level\":\"%s\",\"msg\":\"",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000), log_json_level(l->prio));
	if (n > 0 && (size_t)n < sizeof(head))
		log_json_put(o, head, (size_t)n);
}

/* ","worker":N[,"req_id":"..."][,"sid":"..."]}\n */
static void
log_json_tail(struct log_out *o, const struct log_line *l)
{
	char	num[32];
	int	n;

	n = snprintf(num, sizeof(num), "\",\"worker\":%d", l->worker);
	if (n > 0 && (size_t)n < sizeof(num))
		log_json_put(o, num, (size_t)n);

	log_json_id(o, "req_id", l->req_id, LOG_REQID_MAX);
	log_json_id(o, "sid", l->sid, LOG_SID_MAX);
	log_json_put(o, "}\n", 2);
}

/* ,"name":"value", value escaped and cut at max bytes; none if empty. */
static void
log_json_id(struct log_out *o, const char *name, const char *v, size_t max)
{
	size_t		len;

	if (v == NULL || *v == '\0')
		return;

	/* Cut before the character that crosses max, if one does. */
	if ((len = strnlen(v, max + 1)) > max) {
		len = max;
		while (len > 0 && ((const u_int8_t *)v)[len] >= 0x80 &&
		    ((const u_int8_t *)v)[len] < 0xc0)
			len--;
	}

	log_json_put(o, ",\"", 2);
	log_json_put(o, name, strlen(name));
	log_json_put(o, "\":\"", 3);
	(void)log_json_esc(o, (const u_int8_t *)v, len);
	log_json_put(o, "\"", 1);
}

/*
 * Escapes s (len bytes) into o, one character at a time, as long as each
 * fits whole. Returns 0 when one did not.
 */
static int
log_json_esc(struct log_out *o, const u_int8_t *s, size_t len)
{
	char	unit[6];
	size_t	n, used;

	while (len > 0) {
		n = log_json_unit(s, len, unit, &used);
		if (o->room - o->off < n)
			return (0);
		memcpy(o->p + o->off, unit, n);
		o->off += n;
		s += used;
		len -= used;
	}

	return (1);
}

/* The length of s (len bytes) escaped. */
static size_t
log_json_esclen(const u_int8_t *s, size_t len)
{
	char	unit[6];
	size_t	total, used;

	for (total = 0; len > 0; s += used, len -= used)
		total += log_json_unit(s, len, unit, &used);

	return (total);
}

/*
 * The first character of s (len > 0 bytes) as JSON string text in out;
 * returns its length, *used the bytes of s it took.
 */
static size_t
log_json_unit(const u_int8_t *s, size_t len, char out[6], size_t *used)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			n;

	*used = 1;
	switch (s[0]) {
	case '"':
	case '\\':
		out[0] = '\\';
		out[1] = (char)s[0];
		return (2);
	case '\b':
		memcpy(out, "\\b", 2);
		return (2);
	case '\f':
		memcpy(out, "\\f", 2);
		return (2);
	case '\n':
		memcpy(out, "\\n", 2);
		return (2);
	case '\r':
		memcpy(out, "\\r", 2);
		return (2);
	case '\t':
		memcpy(out, "\\t", 2);
		return (2);
	}

	if (s[0] < 0x20 || s[0] == 0x7f) {
		memcpy(out, "\\u00", 4);
		out[4] = hex[s[0] >> 4];
		out[5] = hex[s[0] & 0x0f];
		return (6);
	}
	if (s[0] < 0x80) {
		out[0] = (char)s[0];
		return (1);
	}

	if ((n = utf8_seq(s, len)) == 0) {
		memcpy(out, "\\ufffd", 6);
		return (6);
	}
	*used = n;

	/* U+2028 and U+2029 end a line in JavaScript source. */
	if (n == 3 && s[0] == 0xe2 && s[1] == 0x80 &&
	    (s[2] == 0xa8 || s[2] == 0xa9)) {
		memcpy(out, s[2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
		return (6);
	}

	memcpy(out, s, n);
	return (n);
}

/* Appends s (len bytes) to o when it fits whole. */
static void
log_json_put(struct log_out *o, const char *s, size_t len)
{
	if (o->room - o->off < len)
		return;
	memcpy(o->p + o->off, s, len);
	o->off += len;
}
