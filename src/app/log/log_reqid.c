/*
 * Request ids, as Terreno's server takes them: the client's X-Request-ID,
 * else its X-Correlation-ID, else the trace-id of its W3C traceparent,
 * else a new one (log_reqid_uuid(), from random bytes the caller gives).
 *
 * A client's id goes into every log line of its request and back into
 * the response's X-Request-ID, so it is taken only when it is 1 to
 * LOG_REQID_MAX bytes of letters, digits and "-_.:+/=@~" (UUIDs, ULIDs,
 * hex, base64 and the usual prefixes): nothing that could end a log line
 * or a header, or break out of a JSON string. Nor may it start with "eyJ"
 * (base64url of '{"': a JWT, a client's token put in the wrong header,
 * would be logged). An id that is not valid is ignored as if absent, and
 * the next source is tried.
 *
 * A traceparent is version "-" trace-id "-" parent-id "-" flags, lowercase
 * hex of 2, 32, 16 and 2 digits; version ff is invalid, and so are an
 * all-zero trace-id or parent-id; version 00 has nothing after the flags,
 * a later version may have more after a "-" (W3C Trace Context, level 1).
 *
 * Pure C: no Kore.
 */

#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include "log/log.h"

#define LOG_TP_LEN	55	/* "00-" 32 "-" 16 "-" 2 */

static int	log_reqid_char(int);
static int	log_reqid_hex(const char *, size_t);

/* 1 when s may be used as a request id. */
int
log_reqid_valid(const char *s)
{
	size_t	i;

	if (s == NULL || !strncmp(s, "eyJ", 3))
		return (0);

	for (i = 0; s[i] != '\0'; i++) {
		if (i == LOG_REQID_MAX || !log_reqid_char((u_int8_t)s[i]))
			return (0);
	}

	return (i > 0);
}

/* The trace-id of traceparent tp into out; 0 when tp is not valid. */
int
log_reqid_traceparent(const char *tp, char out[LOG_TRACE_LEN + 1])
{
	size_t	len;

	if (tp == NULL)
		return (0);

	len = strnlen(tp, LOG_TP_LEN + 1);
	if (len < LOG_TP_LEN || tp[2] != '-' || tp[35] != '-' ||
	    tp[52] != '-')
		return (0);
	if (!log_reqid_hex(tp, 2) || !log_reqid_hex(tp + 3, 32) ||
	    !log_reqid_hex(tp + 36, 16) || !log_reqid_hex(tp + 53, 2))
		return (0);
	if (!strncmp(tp, "ff", 2))
		return (0);
	if (!strncmp(tp, "00", 2) ? len != LOG_TP_LEN :
	    (len > LOG_TP_LEN && tp[LOG_TP_LEN] != '-'))
		return (0);
	if (strspn(tp + 3, "0") >= 32 || strspn(tp + 36, "0") >= 16)
		return (0);

	memcpy(out, tp + 3, LOG_TRACE_LEN);
	out[LOG_TRACE_LEN] = '\0';

	return (1);
}

/*
 * The id a request's headers give (any may be NULL): X-Request-ID xrid,
 * else X-Correlation-ID xcid, else traceparent tp, the first valid one.
 * 0 when none is: the caller makes one.
 */
int
log_reqid_pick(const char *xrid, const char *xcid, const char *tp,
    char out[LOG_REQID_MAX + 1])
{
	if (log_reqid_valid(xrid)) {
		(void)snprintf(out, LOG_REQID_MAX + 1, "%s", xrid);
		return (1);
	}
	if (log_reqid_valid(xcid)) {
		(void)snprintf(out, LOG_REQID_MAX + 1, "%s", xcid);
		return (1);
	}

	return (log_reqid_traceparent(tp, out));
}

/* A version 4 UUID, lowercase, from 16 random bytes. */
void
log_reqid_uuid(const u_int8_t rnd[16], char out[LOG_REQID_MAX + 1])
{
	static const char	hex[] = "0123456789abcdef";
	u_int8_t		b;
	size_t			i, o;

	for (i = 0, o = 0; i < 16; i++) {
		b = rnd[i];
		if (i == 6)
			b = (b & 0x0f) | 0x40;
		else if (i == 8)
			b = (b & 0x3f) | 0x80;
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b >> 4];
		out[o++] = hex[b & 0x0f];
	}
	out[o] = '\0';
}

static int
log_reqid_char(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return (1);

	return (c != '\0' && strchr("-_.:+/=@~", c) != NULL);
}

/* 1 when the len bytes at s are lowercase hex digits. */
static int
log_reqid_hex(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return (0);
	}

	return (1);
}
