/*
 * rest_stubs.c: link-time stubs for what src/app/http/rest_query.c calls
 * outside itself, so that fuzz_rest_query links it without Kore, the
 * store backends or the rest of the REST layer (mosquitto's
 * subs_stubs.c idea). Each keeps the contract the real one has in
 * http.h or store.h; none is the code under test.
 */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "http/http.h"

/* store.c: 24 hex digits and the NUL. */
int
store_oid_valid(const char *s)
{
	return (s != NULL && strlen(s) == STORE_OID_LEN &&
	    strspn(s, "0123456789abcdefABCDEF") == STORE_OID_LEN);
}

/* rest_input.c: the schema entry of a field, by name. */
const struct rest_field *
rest_input_field(const struct rest_model *m, const char *name)
{
	size_t		i;

	for (i = 0; m->fields[i].name != NULL; i++) {
		if (strcmp(m->fields[i].name, name) == 0)
			return (&m->fields[i]);
	}

	return (NULL);
}

/* rest_input.c: a valid ObjectId as a lowercase JSON string. */
json_t *
rest_input_oid(const char *s)
{
	char		buf[STORE_OID_LEN + 1];
	size_t		i;

	if (!store_oid_valid(s))
		abort();
	for (i = 0; i < STORE_OID_LEN; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[STORE_OID_LEN] = '\0';

	return (json_string(buf));
}

/*
 * rest_reply.c: {"status","title"[,"detail"]}, the detail formatted as
 * the real one does; bytes that are not UTF-8 are kept as they are.
 */
json_t *
rest_error_body(int status, const char *title, const char *fmt, va_list ap)
{
	json_t		*body;
	char		 buf[REST_DETAIL_MAX];

	if ((body = json_object()) == NULL)
		abort();
	json_object_set_new(body, "status", json_integer(status));
	json_object_set_new(body, "title",
	    json_stringn_nocheck(title, strlen(title)));
	if (fmt != NULL) {
		(void)vsnprintf(buf, sizeof(buf), fmt, ap);
		json_object_set_new(body, "detail",
		    json_stringn_nocheck(buf, strlen(buf)));
	}

	return (body);
}
