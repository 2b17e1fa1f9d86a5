/*
 * The inputs of a REST request, checked against the model's schema
 * (struct rest_model in app.h): the path id, If-Unmodified-Since and the
 * JSON body. The list query is rest_list.c's.
 *
 * On the worker, rest_start() (rest.c) takes the path id (a malformed id
 * becomes "" and so 404) and the conflict date: X-Unmodified-Since-ISO,
 * else If-Unmodified-Since (an HTTP date, one second precision). On the
 * pool thread the work calls rest_input() where a 400 belongs in its
 * order of checks: it reports a pending bad list query, then parses the
 * body (an empty one is {}; a body "_updatedAt" is Terreno's third way to
 * ask for a conflict check). rest_input_body() then checks each field:
 * known, of the right type and length (strings in UTF-16 units, as
 * mongoose counts them), ObjectIds lowercased.
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <ctype.h>
#include <string.h>

#include "app.h"
#include "http/http.h"

#define REST_ARRAY_MAX		1000

static int	rest_input_ignored(const char *);
static int	rest_input_value(struct rest_call *, const struct rest_field *,
		    json_t *, json_t **);
static int	rest_input_oid_array(struct rest_call *,
		    const struct rest_field *, json_t *, json_t **);
static size_t	rest_input_utf16_len(const char *, size_t);

/*
 * Reports a pending input error (a bad list query) and parses the body
 * (REST_BODY; an empty body is {}). Returns 1 when the inputs are good,
 * else 0 with a 400 set.
 */
int
rest_input(struct rest_call *call)
{
	json_error_t	 err;
	json_t		*v;
	int64_t		 ms;

	if (call->in_error != NULL) {
		json_decref(call->out);
		call->out = call->in_error;
		call->in_error = NULL;
		call->status = 400;
		return (0);
	}

	if (!(call->op->flags & REST_BODY) || call->body != NULL)
		return (1);

	if (call->rawlen == 0)
		call->body = json_object();
	else
		call->body = json_loadb(call->raw, call->rawlen,
		    JSON_REJECT_DUPLICATES, &err);

	if (call->body == NULL)
		return (rest_error(call, 400, "Malformed JSON",
		    "%s (line %d, column %d)", err.text, err.line,
		    err.column));

	if (!json_is_object(call->body))
		return (rest_error(call, 400, "Validation failed",
		    "the body must be a JSON object"));

	/* Terreno's third way to ask for a conflict check. */
	v = json_object_get(call->body, "_updatedAt");
	if (call->since < 0 && json_is_string(v) &&
	    store_iso_parse(json_string_value(v), &ms))
		call->since = ms;

	return (1);
}

/*
 * Checks the body against the model: known fields of the right type and
 * length, required ones present when creating. "_id", "id", "created",
 * "updated", "__v" and "_updatedAt" are ignored; a server field (ownerId)
 * is accepted only when it equals owner. On success *setp is a new
 * object of the validated fields (null for a removed one) and 1 is
 * returned; else 0 with a 400 set.
 */
int
rest_input_body(struct rest_call *call, const struct rest_model *m,
    int create, const char *owner, json_t **setp)
{
	const struct rest_field	*f;
	const char		*key;
	json_t			*val, *set, *v;

	*setp = NULL;
	if ((set = json_object()) == NULL)
		return (rest_error(call, 500, "Internal server error", NULL));

	json_object_foreach(call->body, key, val) {
		if (rest_input_ignored(key))
			continue;
		if ((f = rest_input_field(m, key)) == NULL) {
			rest_error(call, 400, "Validation failed",
			    "%.64s is not a field of %s", key, m->name);
			goto fail;
		}
		if (f->flags & REST_F_SERVER) {
			if (!json_is_string(val) || owner == NULL ||
			    strcasecmp(json_string_value(val), owner)) {
				rest_error(call, 400, "Validation failed",
				    "%s can't be set or changed", f->name);
				goto fail;
			}
			continue;
		}
		if (json_is_null(val) && (f->flags & REST_F_NULL)) {
			if (!create)
				json_object_set_new(set, f->name, json_null());
			continue;
		}
		if (!rest_input_value(call, f, val, &v))
			goto fail;
		json_object_set_new(set, f->name, v);
	}

	for (f = m->fields; create && f->name != NULL; f++) {
		if ((f->flags & REST_F_REQUIRED) &&
		    json_object_get(set, f->name) == NULL) {
			rest_error(call, 400, "Validation failed",
			    "%s is required", f->name);
			goto fail;
		}
	}

	*setp = set;
	return (1);

fail:
	json_decref(set);
	return (0);
}

/*
 * PATCH with If-Unmodified-Since (or X-Unmodified-Since-ISO, or a body
 * _updatedAt) older than doc's updated: 409 with the current document.
 * An HTTP date has one second precision, so it is compared with updated
 * rounded down to the second. Returns 1 on a conflict.
 */
int
rest_input_conflict(struct rest_call *call, json_t *doc)
{
	const char	*upd;
	int64_t		 ms;

	if (call->since < 0 || (upd = rest_str(doc, "updated")) == NULL ||
	    !store_iso_parse(upd, &ms))
		return (0);

	if (call->since_sec)
		ms -= ((ms % 1000) + 1000) % 1000;
	if (call->since >= ms)
		return (0);

	json_decref(call->out);
	call->out = json_pack("{s:o,s:s,s:s}", "data", rest_doc_copy(doc),
	    "error", "Conflict",
	    "message", "Document was modified since your last read");
	call->status = 409;

	return (1);
}

/* Worker: the conflict date of the request, if it sent one. */
void
rest_input_since(struct http_request *req, struct rest_call *call)
{
	const char	*v;
	int64_t		 ms;
	int		 sec;

	if ((http_request_header(req, "x-unmodified-since-iso", &v) &&
	    http_util_date(v, &ms, &sec)) ||
	    (http_request_header(req, "if-unmodified-since", &v) &&
	    http_util_date(v, &ms, &sec))) {
		call->since = ms;
		call->since_sec = sec;
	}
}

/* The last path segment, if it is an ObjectId; "" otherwise. */
void
rest_input_path_id(const char *path, char id[STORE_OID_LEN + 1])
{
	const char	*p;

	id[0] = '\0';
	if ((p = strrchr(path, '/')) == NULL || !store_oid_valid(p + 1))
		return;

	rest_input_oid_lower(p + 1, id);
}

/* The field of m named name, or NULL. */
const struct rest_field *
rest_input_field(const struct rest_model *m, const char *name)
{
	const struct rest_field	*f;

	for (f = m->fields; f->name != NULL; f++) {
		if (!strcmp(f->name, name))
			return (f);
	}

	return (NULL);
}

/* A lowercased copy of a valid ObjectId string. */
json_t *
rest_input_oid(const char *s)
{
	char		buf[STORE_OID_LEN + 1];

	rest_input_oid_lower(s, buf);

	return (json_string(buf));
}

/* The first STORE_OID_LEN bytes of s (a valid ObjectId), lowercased. */
void
rest_input_oid_lower(const char *s, char out[STORE_OID_LEN + 1])
{
	size_t		i;

	for (i = 0; i < STORE_OID_LEN; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[STORE_OID_LEN] = '\0';
}

/* Fields a client may send back but never sets. */
static int
rest_input_ignored(const char *key)
{
	return (!strcmp(key, "_id") || !strcmp(key, "id") ||
	    !strcmp(key, "created") || !strcmp(key, "updated") ||
	    !strcmp(key, "__v") || !strcmp(key, "_updatedAt"));
}

/* One checked value, as a new reference in *out. */
static int
rest_input_value(struct rest_call *call, const struct rest_field *f,
    json_t *val, json_t **out)
{
	size_t		len;

	*out = NULL;
	switch (f->type) {
	case REST_T_STRING:
		if (!json_is_string(val))
			return (rest_error(call, 400, "Validation failed",
			    "%s must be a string", f->name));
		len = rest_input_utf16_len(json_string_value(val),
		    json_string_length(val));
		if (len < f->min || len > f->max)
			return (rest_error(call, 400, "Validation failed",
			    "%s must be %zu to %zu characters long", f->name,
			    f->min, f->max));
		*out = json_incref(val);
		break;
	case REST_T_BOOL:
		if (!json_is_boolean(val))
			return (rest_error(call, 400, "Validation failed",
			    "%s must be true or false", f->name));
		*out = json_incref(val);
		break;
	case REST_T_OID:
		if (!json_is_string(val) ||
		    !store_oid_valid(json_string_value(val)))
			return (rest_error(call, 400, "Validation failed",
			    "%s must be an ObjectId (24 hex digits)",
			    f->name));
		*out = rest_input_oid(json_string_value(val));
		break;
	case REST_T_OID_ARRAY:
		return (rest_input_oid_array(call, f, val, out));
	}

	return (1);
}

/* An array of ObjectIds, lowercased, duplicates dropped. */
static int
rest_input_oid_array(struct rest_call *call, const struct rest_field *f,
    json_t *val, json_t **out)
{
	size_t		 i, k;
	json_t		*v, *arr;

	if (!json_is_array(val) || json_array_size(val) > REST_ARRAY_MAX)
		return (rest_error(call, 400, "Validation failed",
		    "%s must be an array of at most %d ObjectIds", f->name,
		    REST_ARRAY_MAX));

	arr = json_array();
	json_array_foreach(val, i, v) {
		if (!json_is_string(v) ||
		    !store_oid_valid(json_string_value(v))) {
			json_decref(arr);
			return (rest_error(call, 400, "Validation failed",
			    "%s[%zu] must be an ObjectId (24 hex digits)",
			    f->name, i));
		}
		v = rest_input_oid(json_string_value(v));
		for (k = 0; k < json_array_size(arr); k++) {
			if (json_equal(json_array_get(arr, k), v))
				break;
		}
		if (k == json_array_size(arr))
			json_array_append(arr, v);
		json_decref(v);
	}

	*out = arr;
	return (1);
}

/*
 * A string's length as JavaScript (and so mongoose's maxlength) counts
 * it: UTF-16 code units, two for a code point above U+FFFF.
 */
static size_t
rest_input_utf16_len(const char *s, size_t len)
{
	size_t		i, n;
	unsigned char	c;

	n = 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if ((c & 0xc0) == 0x80)
			continue;
		n += (c >= 0xf0) ? 2 : 1;
	}

	return (n);
}
