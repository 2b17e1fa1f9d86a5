/*
 * test_log.c: unit tests for src/app/log/log_json.c (JSON log lines) and
 * src/app/log/log_reqid.c (request ids). Lines are also read back with
 * jansson, which refuses invalid JSON and invalid UTF-8.
 */

#include <sys/types.h>

#include <string.h>
#include <syslog.h>

#include <jansson.h>

#include "log/log.h"
#include "test_help.h"

static size_t	line(char *, size_t, int64_t, int, const char *, int,
		    const char *, const char *);
static json_t	*parse(const char *);
static int	msg_is(const char *, const char *);

static int	test_json_exact(void);
static int	test_json_escape(void);
static int	test_json_utf8(void);
static int	test_json_long(void);
static int	test_json_ids(void);
static int	test_json_ts(void);
static int	test_level(void);
static int	test_reqid_valid(void);
static int	test_traceparent(void);
static int	test_pick(void);
static int	test_uuid(void);

int
main(void)
{
	TEST_RUN(test_json_exact);
	TEST_RUN(test_json_escape);
	TEST_RUN(test_json_utf8);
	TEST_RUN(test_json_long);
	TEST_RUN(test_json_ids);
	TEST_RUN(test_json_ts);
	TEST_RUN(test_level);
	TEST_RUN(test_reqid_valid);
	TEST_RUN(test_traceparent);
	TEST_RUN(test_pick);
	TEST_RUN(test_uuid);

	return (TEST_REPORT("test_log"));
}

static size_t
line(char *buf, size_t size, int64_t ts, int prio, const char *msg,
    int worker, const char *req_id, const char *sid)
{
	struct log_line	l;

	l.ts_ms = ts;
	l.prio = prio;
	l.msg = msg;
	l.worker = worker;
	l.req_id = req_id;
	l.sid = sid;

	return (log_json(buf, size, &l));
}

/* The line as a JSON object: one line, a newline at its end only. */
static json_t *
parse(const char *s)
{
	json_error_t	err;
	size_t		len;

	len = strlen(s);
	if (len == 0 || s[len - 1] != '\n' || memchr(s, '\n', len - 1))
		return (NULL);

	return (json_loads(s, 0, &err));
}

/* Whether line s parses and its msg is want. */
static int
msg_is(const char *s, const char *want)
{
	json_t	*o;
	int	ok;

	if ((o = parse(s)) == NULL)
		return (0);
	ok = !strcmp(json_string_value(json_object_get(o, "msg")), want);
	json_decref(o);

	return (ok);
}

static int
test_json_exact(void)
{
	char	buf[LOG_LINE_MAX];
	size_t	n;

	n = line(buf, sizeof(buf), 0, LOG_NOTICE, "hello", 0, NULL, NULL);
	TEST_ASSERT(TEST_MEMEQ(buf, n, "{\"ts\":\"1970-01-01T00:00:00.000Z\","
	    "\"level\":\"info\",\"msg\":\"hello\",\"worker\":0}\n"));
	TEST_ASSERT(buf[n] == '\0');

	n = line(buf, sizeof(buf), 1700000000123LL, LOG_ERR, "", 3, "r-1",
	    "s1");
	TEST_ASSERT(TEST_MEMEQ(buf, n, "{\"ts\":\"2023-11-14T22:13:20.123Z\","
	    "\"level\":\"error\",\"msg\":\"\",\"worker\":3,\"req_id\":\"r-1\","
	    "\"sid\":\"s1\"}\n"));

	/* Empty ids are left out; a NULL message is an empty one. */
	n = line(buf, sizeof(buf), 0, LOG_WARNING, NULL, 1, "", "");
	TEST_ASSERT(TEST_MEMEQ(buf, n, "{\"ts\":\"1970-01-01T00:00:00.000Z\","
	    "\"level\":\"warn\",\"msg\":\"\",\"worker\":1}\n"));

	/* Too small a buffer: nothing. */
	TEST_ASSERT(line(buf, LOG_LINE_MAX / 2 - 1, 0, LOG_INFO, "x", 0,
	    NULL, NULL) == 0);

	return (0);
}

static int
test_json_escape(void)
{
	char		 buf[LOG_LINE_MAX];
	const char	*m;
	size_t		 n;

	m = "a \"quoted\" \\path\\ \n\r\t\b\f \x01\x1f\x7f end";
	n = line(buf, sizeof(buf), 0, LOG_INFO, m, 0, NULL, NULL);
	TEST_ASSERT(strstr(buf, "\"msg\":\"a \\\"quoted\\\" \\\\path\\\\ "
	    "\\n\\r\\t\\b\\f \\u0001\\u001f\\u007f end\"") != NULL);
	TEST_ASSERT(n == strlen(buf));
	TEST_ASSERT(msg_is(buf, m));

	/* A message that tries to end the line and start another. */
	m = "x\"}\n{\"level\":\"fatal\",\"msg\":\"forged";
	(void)line(buf, sizeof(buf), 0, LOG_INFO, m, 0, NULL, NULL);
	TEST_ASSERT(msg_is(buf, m));

	/* U+2028 and U+2029 are escaped; they parse back to themselves. */
	m = "ls\xe2\x80\xa8ps\xe2\x80\xa9.";
	(void)line(buf, sizeof(buf), 0, LOG_INFO, m, 0, NULL, NULL);
	TEST_ASSERT(strstr(buf, "ls\\u2028ps\\u2029.") != NULL);
	TEST_ASSERT(msg_is(buf, m));

	return (0);
}

static int
test_json_utf8(void)
{
	static const struct {
		const char	*in;
		const char	*out;
	} cases[] = {
		/* Valid characters stay as they are. */
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		{ "\xef\xbf\xbf \xf4\x8f\xbf\xbf", "\xef\xbf\xbf \xf4\x8f\xbf\xbf" },
		/* Each bad byte is one U+FFFD. */
		{ "a\xff" "b", "a\\ufffdb" },
		{ "\x80", "\\ufffd" },
		{ "\xc0\xaf", "\\ufffd\\ufffd" },		/* overlong */
		{ "\xe0\x80\xaf", "\\ufffd\\ufffd\\ufffd" },	/* overlong */
		{ "\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd" },	/* surrogate */
		{ "\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd" },
		{ "\xf5\x80", "\\ufffd\\ufffd" },
		{ "\xe2\x82", "\\ufffd\\ufffd" },		/* cut short */
		{ "\xe2\x82x", "\\ufffd\\ufffdx" },
		{ "\xc3", "\\ufffd" },
	};
	char		buf[LOG_LINE_MAX], want[128];
	size_t		i;
	json_t		*o;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		(void)line(buf, sizeof(buf), 0, LOG_INFO, cases[i].in, 0,
		    NULL, NULL);
		(void)snprintf(want, sizeof(want), "\"msg\":\"%s\"",
		    cases[i].out);
		if (strstr(buf, want) == NULL)
			printf("case %zu: %s", i, buf);
		TEST_ASSERT(strstr(buf, want) != NULL);
		TEST_ASSERT((o = parse(buf)) != NULL);
		json_decref(o);
	}

	return (0);
}

static int
test_json_long(void)
{
	char	buf[LOG_LINE_MAX], msg[3 * LOG_LINE_MAX];
	json_t	*o;
	const char *got;
	size_t	i, n, len;

	/* ASCII: cut, "..." at the end, the line at most the buffer. */
	memset(msg, 'a', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	n = line(buf, sizeof(buf), 0, LOG_INFO, msg, 12, "rid", "sid");
	TEST_ASSERT(n > LOG_LINE_MAX - 8 && n <= LOG_LINE_MAX - 1);
	TEST_ASSERT((o = parse(buf)) != NULL);
	got = json_string_value(json_object_get(o, "msg"));
	len = strlen(got);
	TEST_ASSERT(len > 3 && !strcmp(got + len - 3, "..."));
	TEST_ASSERT(strspn(got, "a") == len - 3);
	TEST_ASSERT(!strcmp(json_string_value(json_object_get(o, "req_id")),
	    "rid"));
	TEST_ASSERT(json_integer_value(json_object_get(o, "worker")) == 12);
	json_decref(o);

	/* Two-byte characters: cut between two of them. */
	for (i = 0; i + 2 < sizeof(msg); i += 2)
		memcpy(msg + i, "\xc3\xa9", 2);
	msg[i] = '\0';
	n = line(buf, sizeof(buf), 0, LOG_INFO, msg, 0, NULL, NULL);
	TEST_ASSERT(n <= LOG_LINE_MAX - 1);
	TEST_ASSERT((o = parse(buf)) != NULL);
	got = json_string_value(json_object_get(o, "msg"));
	len = strlen(got);
	TEST_ASSERT(!strcmp(got + len - 3, "...") && (len - 3) % 2 == 0);
	json_decref(o);

	/* Control characters, six bytes each: never half an escape. */
	memset(msg, '\x01', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	n = line(buf, sizeof(buf), 0, LOG_INFO, msg, 0, NULL, NULL);
	TEST_ASSERT(n <= LOG_LINE_MAX - 1);
	TEST_ASSERT((o = parse(buf)) != NULL);
	json_decref(o);

	/* A message that just fits is not cut. */
	n = line(buf, sizeof(buf), 0, LOG_INFO, "", 0, NULL, NULL);
	len = sizeof(buf) - 1 - n;
	memset(msg, 'b', len);
	msg[len] = '\0';
	n = line(buf, sizeof(buf), 0, LOG_INFO, msg, 0, NULL, NULL);
	TEST_ASSERT(n == sizeof(buf) - 1);
	TEST_ASSERT(msg_is(buf, msg));
	msg[len] = 'b';
	msg[len + 1] = '\0';
	(void)line(buf, sizeof(buf), 0, LOG_INFO, msg, 0, NULL, NULL);
	TEST_ASSERT(strstr(buf, "bbb...\"") != NULL);

	return (0);
}

static int
test_json_ids(void)
{
	char	buf[LOG_LINE_MAX], id[3 * LOG_REQID_MAX];
	json_t	*o;
	size_t	i;

	/* Ids are escaped and cut at their maximum, between characters. */
	(void)line(buf, sizeof(buf), 0, LOG_INFO, "m", 0, "a\"b\n", "\x01");
	TEST_ASSERT(strstr(buf, "\"req_id\":\"a\\\"b\\n\",\"sid\":\"\\u0001\"")
	    != NULL);
	TEST_ASSERT((o = parse(buf)) != NULL);
	json_decref(o);

	memset(id, 'x', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	(void)line(buf, sizeof(buf), 0, LOG_INFO, "m", 0, id, id);
	TEST_ASSERT((o = parse(buf)) != NULL);
	TEST_ASSERT(strlen(json_string_value(json_object_get(o, "req_id"))) ==
	    LOG_REQID_MAX);
	TEST_ASSERT(strlen(json_string_value(json_object_get(o, "sid"))) ==
	    LOG_SID_MAX);
	json_decref(o);

	for (i = 0; i + 2 < sizeof(id); i += 2)
		memcpy(id + i, "\xc3\xa9", 2);
	id[i] = '\0';
	(void)line(buf, sizeof(buf), 0, LOG_INFO, "m", 0, id + 1, NULL);
	TEST_ASSERT((o = parse(buf)) != NULL);
	TEST_ASSERT(strlen(json_string_value(json_object_get(o, "req_id"))) <=
	    LOG_REQID_MAX + 2);
	json_decref(o);

	return (0);
}

static int
test_json_ts(void)
{
	char	buf[LOG_LINE_MAX];

	(void)line(buf, sizeof(buf), 951782400999LL, LOG_INFO, "m", 0, NULL,
	    NULL);
	TEST_ASSERT(strstr(buf, "\"ts\":\"2000-02-29T00:00:00.999Z\"") != NULL);

	/* Out of range: the epoch, still a valid line. */
	(void)line(buf, sizeof(buf), -5, LOG_INFO, "m", 0, NULL, NULL);
	TEST_ASSERT(strstr(buf, "\"ts\":\"1970-01-01T00:00:00.000Z\"") != NULL);
	(void)line(buf, sizeof(buf), INT64_MAX, LOG_INFO, "m", 0, NULL, NULL);
	TEST_ASSERT(strstr(buf, "\"ts\":\"1970-01-01T00:00:00.000Z\"") != NULL);

	return (0);
}

static int
test_level(void)
{
	TEST_ASSERT(!strcmp(log_json_level(LOG_EMERG), "fatal"));
	TEST_ASSERT(!strcmp(log_json_level(LOG_CRIT), "fatal"));
	TEST_ASSERT(!strcmp(log_json_level(LOG_ERR), "error"));
	TEST_ASSERT(!strcmp(log_json_level(LOG_WARNING), "warn"));
	TEST_ASSERT(!strcmp(log_json_level(LOG_NOTICE), "info"));
	TEST_ASSERT(!strcmp(log_json_level(LOG_INFO), "info"));
	TEST_ASSERT(!strcmp(log_json_level(LOG_DEBUG), "debug"));
	TEST_ASSERT(!strcmp(log_json_level(99), "info"));

	return (0);
}

static int
test_reqid_valid(void)
{
	char	id[LOG_REQID_MAX + 2];

	TEST_ASSERT(log_reqid_valid("abc"));
	TEST_ASSERT(log_reqid_valid("0b4f7a8e-8d2c-4d1a-9f1e-2f6c8f0e9b1a"));
	TEST_ASSERT(log_reqid_valid("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
	TEST_ASSERT(log_reqid_valid("req_1.2:3+4/5=6@7~8"));

	memset(id, 'a', LOG_REQID_MAX);
	id[LOG_REQID_MAX] = '\0';
	TEST_ASSERT(log_reqid_valid(id));
	id[LOG_REQID_MAX] = 'a';
	id[LOG_REQID_MAX + 1] = '\0';
	TEST_ASSERT(!log_reqid_valid(id));

	TEST_ASSERT(!log_reqid_valid(NULL));
	TEST_ASSERT(!log_reqid_valid(""));
	TEST_ASSERT(!log_reqid_valid("a b"));
	TEST_ASSERT(!log_reqid_valid("a\"b"));
	TEST_ASSERT(!log_reqid_valid("a\\b"));
	TEST_ASSERT(!log_reqid_valid("a\nb"));
	TEST_ASSERT(!log_reqid_valid("a\rb"));
	TEST_ASSERT(!log_reqid_valid("a\tb"));
	TEST_ASSERT(!log_reqid_valid("a,b"));
	TEST_ASSERT(!log_reqid_valid("a;b"));
	TEST_ASSERT(!log_reqid_valid("<script>"));
	TEST_ASSERT(!log_reqid_valid("caf\xc3\xa9"));
	TEST_ASSERT(!log_reqid_valid("a\x7f"));
	/* A token sent as a request id would be logged. */
	TEST_ASSERT(!log_reqid_valid("eyJhbGciOiJIUzI1NiJ9.eyJpZCI6IjEifQ.c2ln"));
	TEST_ASSERT(!log_reqid_valid("eyJ"));
	TEST_ASSERT(log_reqid_valid("xeyJ"));

	return (0);
}

static int
test_traceparent(void)
{
	char	t[LOG_TRACE_LEN + 1];

	TEST_ASSERT(log_reqid_traceparent(
	    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", t));
	TEST_ASSERT(!strcmp(t, "4bf92f3577b34da6a3ce929d0e0e4736"));
	/* A later version may carry more after a "-". */
	TEST_ASSERT(log_reqid_traceparent(
	    "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-xyz", t));
	TEST_ASSERT(log_reqid_traceparent(
	    "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", t));

	TEST_ASSERT(!log_reqid_traceparent(NULL, t));
	TEST_ASSERT(!log_reqid_traceparent("", t));
	/* Version 00 has nothing after the flags. */
	TEST_ASSERT(!log_reqid_traceparent(
	    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", t));
	TEST_ASSERT(!log_reqid_traceparent(
	    "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00x", t));
	TEST_ASSERT(!log_reqid_traceparent(
	    "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", t));
	TEST_ASSERT(!log_reqid_traceparent(
	    "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", t));
	TEST_ASSERT(!log_reqid_traceparent(
	    "00-00000000000000000000000000000000-00f067aa0ba902b7-01", t));
	TEST_ASSERT(!log_reqid_traceparent(
	    "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", t));
	TEST_ASSERT(!log_reqid_traceparent(
	    "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01", t));
	TEST_ASSERT(!log_reqid_traceparent(
	    "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01", t));
	TEST_ASSERT(!log_reqid_traceparent(
	    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1", t));
	TEST_ASSERT(!log_reqid_traceparent(
	    "00-4bf92f3577b34da6a3ce929d0e0e47\n6-00f067aa0ba902b7-01", t));

	return (0);
}

static int
test_pick(void)
{
	char		 id[LOG_REQID_MAX + 1];
	const char	*tp;

	tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
	TEST_ASSERT(log_reqid_pick("rid", "cid", tp, id) && !strcmp(id, "rid"));
	TEST_ASSERT(log_reqid_pick(NULL, "cid", tp, id) && !strcmp(id, "cid"));
	TEST_ASSERT(log_reqid_pick(NULL, NULL, tp, id) &&
	    !strcmp(id, "4bf92f3577b34da6a3ce929d0e0e4736"));
	/* One that is not valid is passed over. */
	TEST_ASSERT(log_reqid_pick("bad\nid", "cid", NULL, id) &&
	    !strcmp(id, "cid"));
	TEST_ASSERT(log_reqid_pick("bad id", "\"", tp, id) &&
	    !strcmp(id, "4bf92f3577b34da6a3ce929d0e0e4736"));
	TEST_ASSERT(!log_reqid_pick(NULL, NULL, NULL, id));
	TEST_ASSERT(!log_reqid_pick("", "x y", "00-zz", id));

	return (0);
}

static int
test_uuid(void)
{
	static const u_int8_t	zero[16], ones[16] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
	};
	char			id[LOG_REQID_MAX + 1];

	log_reqid_uuid(zero, id);
	TEST_ASSERT(!strcmp(id, "00000000-0000-4000-8000-000000000000"));
	log_reqid_uuid(ones, id);
	TEST_ASSERT(!strcmp(id, "ffffffff-ffff-4fff-bfff-ffffffffffff"));
	TEST_ASSERT(log_reqid_valid(id));

	return (0);
}
