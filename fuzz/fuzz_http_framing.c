/*
 * fuzz_http_framing.c: what a client sends on one connection, cut into
 * requests the way Kore's http_header_recv() does with the framing code
 * korio patches into it (patches/03-http-framing.patch, src/http_framing.c
 * of the patched Kore tree): the end of each head within the header
 * limit, the checks on the head, its fields split as Kore splits them,
 * the body length, the body taken, and what follows it kept for the next
 * request. Checked at each step: the head ends at the first empty line,
 * nothing is read past the input, a body is never longer than the limit
 * or than its Content-Length, and each request moves on.
 */

#include <sys/types.h>

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_framing.h"

#define HEAD_MAX	4096	/* http_header_max */
#define LINES_MAX	63	/* HTTP_REQ_HEADER_MAX - 1 */
#define BODY_MAX	65536	/* http_body_max */

int		LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	request_status(char *, u_int64_t *);
static void	check_head_end(const u_int8_t *, size_t, size_t, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	size_t		off, win, headlen, bodyoff, avail;
	u_int64_t	length, take;
	char		*head;
	int		status;

	off = 0;
	while (off < len) {
		avail = len - off;
		win = avail < HEAD_MAX ? avail : HEAD_MAX;
		if (!http_framing_head_end(data + off, win, &headlen,
		    &bodyoff))
			break;		/* more to come, or 431 */
		check_head_end(data + off, win, headlen, bodyoff);

		if (http_framing_head_check(data + off, headlen,
		    LINES_MAX) != 0)
			break;

		if ((head = malloc(headlen + 1)) == NULL)
			return (0);
		memcpy(head, data + off, headlen);
		head[headlen] = '\0';
		status = request_status(head, &length);
		free(head);

		if (status != 0) {
			assert(status == 400 || status == 411 ||
			    status == 413 || status == 501);
			break;
		}
		assert(length <= BODY_MAX);

		take = avail - bodyoff;
		if (take > length)
			take = length;
		off += bodyoff + take;
		if (take < length)
			break;		/* the body is still coming */
	}

	assert(off <= len);
	return (0);
}

/*
 * The framing of one request head: its lines split on CR and LF as
 * kore_split_string() splits them, fields as http_validate_header() cuts
 * them. Returns 0 with the body length, or the status Kore answers.
 */
static int
request_status(char *head, u_int64_t *length)
{
	struct http_framing	fr;
	char			*lines[LINES_MAX + 1], *p, *line, *value;
	char			*method, *version;
	size_t			n, i;
	int			body, http10, status;

	n = 0;
	p = head;
	while ((line = strsep(&p, "\r\n")) != NULL) {
		if (*line == '\0')
			continue;
		/* http_framing_head_check() keeps this in bounds. */
		assert(n < LINES_MAX);
		lines[n++] = line;
	}
	if (n < 2)
		return (400);

	method = lines[0];
	if ((p = strchr(method, ' ')) == NULL)
		return (400);
	*p++ = '\0';
	version = strrchr(p, ' ');
	version = version != NULL ? version + 1 : p;

	body = !strcasecmp(method, "post") || !strcasecmp(method, "put") ||
	    !strcasecmp(method, "patch");
	http10 = !strcasecmp(version, "http/1.0");

	http_framing_init(&fr);
	for (i = 1; i < n; i++) {
		if ((value = strchr(lines[i], ':')) == NULL)
			return (400);
		*value++ = '\0';
		while (*value == ' ' || *value == '\t')
			value++;
		if (*value == '\0')
			return (400);
		http_framing_field(&fr, lines[i], value);
	}

	status = http_framing_body(&fr, body, http10, BODY_MAX, length);
	if (status == 0) {
		assert(!fr.te && !fr.bad);
		assert(fr.cl ? *length == fr.length : *length == 0);
	} else {
		assert(*length == 0);
	}

	return (status);
}

/* The head ends at the first LF (CR) LF, and nothing of it is past win. */
static void
check_head_end(const u_int8_t *p, size_t win, size_t headlen,
    size_t bodyoff)
{
	size_t		i;

	assert(headlen < bodyoff && bodyoff <= win);
	assert(p[bodyoff - 1] == '\n');

	for (i = 0; i + 1 < bodyoff - 1; i++) {
		if (p[i] != '\n')
			continue;
		assert(p[i + 1] != '\n' || i + 2 == bodyoff);
		assert(!(p[i + 1] == '\r' && i + 2 < win && p[i + 2] == '\n') ||
		    i + 3 == bodyoff);
	}
}
