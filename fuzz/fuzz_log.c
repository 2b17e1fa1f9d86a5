/*
 * fuzz_log.c: request id headers (client bytes) through log_reqid.c, and
 * any message and ids through log_json.c. The input is split at the first
 * three newlines into X-Request-ID, X-Correlation-ID and traceparent; the
 * rest is the message. Checked: a picked id is a valid one; every line is
 * one line of valid JSON (jansson refuses invalid UTF-8 too) at most the
 * buffer; a message that was not cut reads back as it was when it is
 * UTF-8 without U+FFFD, else a cut one is a prefix of it plus "...".
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <jansson.h>

#include "log/log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct log_line	 l;
	json_error_t	 err;
	json_t		*o, *valid;
	const char	*got;
	char		*s, *part[4], *nl, id[LOG_REQID_MAX + 1];
	char		 buf[LOG_LINE_MAX];
	size_t		 n, glen, i;

	if ((s = malloc(len + 1)) == NULL)
		return (0);
	memcpy(s, data, len);
	s[len] = '\0';

	part[0] = s;
	for (i = 1; i < 4; i++) {
		part[i] = NULL;
		if (part[i - 1] != NULL &&
		    (nl = strchr(part[i - 1], '\n')) != NULL) {
			*nl = '\0';
			part[i] = nl + 1;
		}
	}

	if (log_reqid_pick(part[0], part[1], part[2], id) &&
	    !log_reqid_valid(id))
		abort();

	l.ts_ms = (int64_t)len * 1234567;
	l.prio = (int)(len % 8);
	l.msg = part[3] != NULL ? part[3] : s;
	l.worker = (int)len;
	l.req_id = part[0];
	l.sid = part[1];

	if ((n = log_json(buf, sizeof(buf), &l)) == 0 || n >= sizeof(buf) ||
	    buf[n - 1] != '\n' || memchr(buf, '\n', n - 1) != NULL)
		abort();
	if ((o = json_loads(buf, 0, &err)) == NULL)
		abort();

	got = json_string_value(json_object_get(o, "msg"));
	glen = got != NULL ? strlen(got) : 0;
	valid = json_string(l.msg);
	if (got == NULL) {
		abort();
	} else if (valid != NULL && strstr(l.msg, "\xef\xbf\xbd") == NULL &&
	    strcmp(got, l.msg)) {
		/* Cut: a prefix of the message, then "...". */
		if (glen < 3 || strcmp(got + glen - 3, "...") ||
		    strncmp(got, l.msg, glen - 3))
			abort();
	}

	json_decref(valid);
	json_decref(o);
	free(s);

	return (0);
}
