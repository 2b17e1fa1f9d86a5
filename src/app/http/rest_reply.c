/*
 * The responses of the REST layer: what the work of a struct rest_op
 * sets in its struct rest_call for rest.c to send, and the small reads
 * of the caller and documents that decide them.
 *
 * Error bodies are {"status":N,"title":"...","detail"?:"..."}
 * (rest_error; rest_error_body() builds one to keep, as rest_query.c does
 * for a bad query); the token routes answer {"message":"..."}
 * (rest_message), as Terreno does. Successful answers are
 * {"data": ...} (rest_reply). A store failure the client can't fix is a
 * 503 (store unreachable, with Retry-After), a 507 (disk full) or a 500,
 * whose cause is logged on the worker, never sent. Everything here
 * runs on the pool thread as well as on the worker: no Kore call, only
 * its method constants.
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "http/http.h"

static json_t	*rest_utf8(char *);

/* Sets the response to an error body; returns 0 for the caller to pass on. */
int
rest_error(struct rest_call *call, int status, const char *title,
    const char *fmt, ...)
{
	va_list		ap;

	va_start(ap, fmt);
	json_decref(call->out);
	call->out = rest_error_body(status, title, fmt, ap);
	call->status = status;
	va_end(ap);

	return (0);
}

/* The token routes' error shape: {"message":"..."}. */
int
rest_message(struct rest_call *call, int status, const char *msg)
{
	json_decref(call->out);
	call->out = json_pack("{s:s}", "message", msg);
	call->status = status;

	return (0);
}

/*
 * A store failure the client can't fix, logged on the worker: 503 with
 * Retry-After when the store can't be reached (it recovers by itself),
 * 507 when the disk is full (writes only; reads go on), else 500.
 */
int
rest_store_error(struct rest_call *call, enum store_result r,
    const char *what)
{
	(void)snprintf(call->log, sizeof(call->log), "rest: %s: %s",
	    what, store_result_str(r));

	switch (r) {
	case STORE_UNAVAILABLE:
		call->retry_after = REST_STORE_RETRY_SEC;
		return (rest_error(call, 503, "Service Unavailable",
		    "The database is unavailable; try again later"));
	case STORE_FULL:
		return (rest_error(call, 507, "Insufficient Storage",
		    "The database has no space left for this write"));
	default:
		return (rest_error(call, 500, "Internal server error", NULL));
	}
}

int
rest_not_found(struct rest_call *call, const struct rest_model *m)
{
	if (call->id[0] == '\0')
		return (rest_error(call, 404, "Document not found",
		    "Document not found for model %s", m->name));

	return (rest_error(call, 404, "Document not found",
	    "Document %s not found for model %s", call->id, m->name));
}

int
rest_forbidden(struct rest_call *call, const struct rest_model *m)
{
	const char	*verb;

	switch (call->method) {
	case HTTP_METHOD_PATCH:
		verb = "PATCH";
		break;
	case HTTP_METHOD_DELETE:
		verb = "DELETE";
		break;
	default:
		verb = "GET";
		break;
	}

	return (rest_error(call, 403, "Forbidden",
	    "Access to %s on %s:%s denied for %s", verb, m->name, call->id,
	    call->uid));
}

/* Sets the response {"data": data}; takes over data's reference. */
void
rest_reply(struct rest_call *call, int status, json_t *data)
{
	json_decref(call->out);
	call->out = json_pack("{s:o}", "data", data);
	call->status = status;
}

int
rest_is_admin(const json_t *user)
{
	return (json_is_true(json_object_get(user, "admin")));
}

int
rest_is_member(const json_t *project, const char *uid)
{
	size_t		 i;
	json_t		*v;

	json_array_foreach(json_object_get(project, "members"), i, v) {
		if (json_is_string(v) && !strcmp(json_string_value(v), uid))
			return (1);
	}

	return (0);
}

/* The string value of doc's field, or NULL. */
const char *
rest_str(const json_t *doc, const char *field)
{
	return (json_string_value(json_object_get(doc, field)));
}

/*
 * {"status","title"[,"detail"]}. The detail may quote client input: bytes
 * that are not valid UTF-8 become '?', so the body always serializes.
 */
json_t *
rest_error_body(int status, const char *title, const char *fmt, va_list ap)
{
	json_t		*body;
	char		 buf[REST_DETAIL_MAX];

	(void)snprintf(buf, sizeof(buf), "%s", title);
	body = json_pack("{s:i,s:o}", "status", status, "title",
	    rest_utf8(buf));
	if (body == NULL || fmt == NULL)
		return (body);

	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	json_object_set_new(body, "detail", rest_utf8(buf));

	return (body);
}

/* buf as a JSON string, bytes that are not valid UTF-8 turned to '?'. */
static json_t *
rest_utf8(char *buf)
{
	json_t		*s;
	size_t		 i;

	if ((s = json_string(buf)) != NULL)
		return (s);

	for (i = 0; buf[i] != '\0'; i++) {
		if ((unsigned char)buf[i] >= 0x80)
			buf[i] = '?';
	}

	return (json_string(buf));
}
