/*
 * The list query of GET /todos and GET /projects, as Terreno's
 * modelRouter reads it: the query string parsed into struct rest_list
 * (http.h) for rest_list.c to run.
 *
 *   limit	decimal digits, at most 9, > 0: the page size, capped at
 *		REST_MAX_LIMIT (default REST_DEFAULT_LIMIT)
 *   page	the same digits, 1-based; kept as sent ("03"), for the answer
 *   sort	"field" or "-field" (descending): a sortable field of the
 *		model, or created or updated
 *   field	equality on one of the model's query fields, typed by the
 *		schema: true or false, ObjectIds lowercased
 *
 * Keys and values are percent-decoded ("+" is a space). A key given
 * twice, a bracket (a qs operator such as completed[$ne]), a field that
 * is not a query field, a value of the wrong type or a bad escape is kept
 * as a pending 400 in call->in_error (the first one found), which
 * rest_input() reports after the auth, 404 and 403 checks.
 *
 * Pure: no Kore, no store backend (fuzz/fuzz_rest_query.c links it
 * alone).
 */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "http/http.h"

#define REST_KEY_MAX		128
#define REST_VAL_MAX		256
#define REST_NUM_DIGITS		9

/* The stamps every document has, sortable like a model's sort fields. */
const char *const	rest_query_stamps[] = { "created", "updated", NULL };

static int	rest_query_pct_decode(const char *, size_t, char *, size_t);
static int	rest_query_hex(int);
static int	rest_query_pending(struct rest_call *, const char *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static int	rest_query_pair(struct rest_call *, const char *,
		    const char *, int *);
static int	rest_query_num(const char *, size_t *);
static int	rest_query_sort(struct rest_call *, const char *);
static int	rest_query_filter(struct rest_call *, const char *,
		    const char *);

/*
 * Parses the query string qs (NULL: none) into call->list, which holds
 * its defaults (limit REST_DEFAULT_LIMIT, no page, no sort), for the
 * model of call->op. Returns 1, a bad query set aside in call->in_error;
 * 0 only when out of memory.
 */
int
rest_query_parse(struct rest_call *call, const char *qs)
{
	const char	*p, *end, *eq;
	char		 key[REST_KEY_MAX], val[REST_VAL_MAX];
	size_t		 page;
	int		 seen;

	if ((call->list.filters = json_object()) == NULL)
		return (0);

	seen = 0;
	for (p = qs; p != NULL && *p != '\0'; p = (*end == '&') ?
	    end + 1 : end) {
		if ((end = strchr(p, '&')) == NULL)
			end = p + strlen(p);
		if (end == p)
			continue;
		if ((eq = memchr(p, '=', (size_t)(end - p))) == NULL)
			eq = end;

		if (rest_query_pct_decode(p, (size_t)(eq - p), key,
		    sizeof(key)) == -1 || rest_query_pct_decode(eq == end ?
		    eq : eq + 1, eq == end ? 0 : (size_t)(end - eq - 1), val,
		    sizeof(val)) == -1) {
			rest_query_pending(call, "Malformed query string",
			    NULL);
			return (1);
		}
		if (!rest_query_pair(call, key, val, &seen))
			return (1);
	}

	if (call->list.page[0] != '\0') {
		(void)rest_query_num(call->list.page, &page);
		call->list.skip = (page - 1) * call->list.limit;
	}

	return (1);
}

/*
 * Percent-decodes len bytes of in ("+" is a space) into out, NUL
 * terminated. Returns the decoded length, or -1 for a bad escape, a NUL
 * byte or an out buffer that is too small.
 */
static int
rest_query_pct_decode(const char *in, size_t len, char *out, size_t outlen)
{
	size_t		i, n;
	int		hi, lo, c;

	n = 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= len)
				return (-1);
			if ((hi = rest_query_hex(in[i + 1])) == -1 ||
			    (lo = rest_query_hex(in[i + 2])) == -1)
				return (-1);
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == '\0' || n + 1 >= outlen)
			return (-1);
		out[n++] = (char)c;
	}
	out[n] = '\0';

	return ((int)n);
}

static int
rest_query_hex(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

/* A bad list query, reported by rest_input() after the auth check. */
static int
rest_query_pending(struct rest_call *call, const char *title, const char *fmt,
    ...)
{
	va_list		ap;

	if (call->in_error != NULL)
		return (0);

	va_start(ap, fmt);
	call->in_error = rest_error_body(400, title, fmt, ap);
	va_end(ap);

	return (0);
}

static int
rest_query_pair(struct rest_call *call, const char *key, const char *val,
    int *seen)
{
	size_t		n;

	if (!strcmp(key, "limit")) {
		if ((*seen & 1) || !rest_query_num(val, &n) || n == 0)
			return (rest_query_pending(call, "Invalid limit",
			    "limit must be a positive integer, given once"));
		*seen |= 1;
		call->list.limit = n > REST_MAX_LIMIT ? REST_MAX_LIMIT : n;
		return (1);
	}

	if (!strcmp(key, "page")) {
		if ((*seen & 2) || !rest_query_num(val, &n) || n == 0)
			return (rest_query_pending(call, "Invalid page",
			    "page must be a positive integer, given once"));
		*seen |= 2;
		/* rest_query_num() allowed REST_NUM_DIGITS digits. */
		memcpy(call->list.page, val, strlen(val) + 1);
		return (1);
	}

	if (!strcmp(key, "sort")) {
		if (*seen & 4)
			return (rest_query_pending(call, "Invalid sort",
			    "sort given twice"));
		*seen |= 4;
		return (rest_query_sort(call, val));
	}

	return (rest_query_filter(call, key, val));
}

/* Decimal digits only, at most REST_NUM_DIGITS of them. */
static int
rest_query_num(const char *s, size_t *n)
{
	size_t		i;

	*n = 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i == REST_NUM_DIGITS || !isdigit((unsigned char)s[i]))
			return (0);
		*n = *n * 10 + (size_t)(s[i] - '0');
	}

	return (i > 0);
}

static int
rest_query_sort(struct rest_call *call, const char *val)
{
	const struct rest_field	*f;
	const char		*name;
	size_t			 i;

	name = val;
	if (*name == '-') {
		call->list.desc = 1;
		name++;
	}

	for (i = 0; rest_query_stamps[i] != NULL; i++) {
		if (!strcmp(name, rest_query_stamps[i]))
			break;
	}
	if (rest_query_stamps[i] == NULL &&
	    ((f = rest_input_field(call->op->model, name)) == NULL ||
	    !(f->flags & REST_F_SORT)))
		return (rest_query_pending(call, "Invalid sort",
		    "%.64s is not a sortable field of %s", name,
		    call->op->model->name));

	/* A field name from a schema table: shorter than STORE_FIELD_MAX. */
	memcpy(call->list.sort, name, strlen(name) + 1);

	return (1);
}

static int
rest_query_filter(struct rest_call *call, const char *key, const char *val)
{
	const struct rest_field	*f;
	char			 base[REST_KEY_MAX], title[REST_DETAIL_MAX];
	json_t			*v;

	(void)snprintf(base, sizeof(base), "%s", key);
	base[strcspn(base, "[")] = '\0';

	f = rest_input_field(call->op->model, base);
	if (f == NULL || !(f->flags & REST_F_QUERY)) {
		(void)snprintf(title, sizeof(title),
		    "%.64s is not allowed as a query param.", base);
		return (rest_query_pending(call, title, NULL));
	}

	if (strcmp(base, key))
		return (rest_query_pending(call, "Invalid query",
		    "query operators are not supported (%.64s)", key));
	if (json_object_get(call->list.filters, f->name) != NULL)
		return (rest_query_pending(call, "Invalid query",
		    "%s given twice", f->name));

	v = NULL;
	if (f->type == REST_T_BOOL && !strcmp(val, "true"))
		v = json_true();
	else if (f->type == REST_T_BOOL && !strcmp(val, "false"))
		v = json_false();
	else if (f->type == REST_T_OID && store_oid_valid(val))
		v = rest_input_oid(val);

	if (v == NULL)
		return (rest_query_pending(call, "Invalid query",
		    "%s must be %s", f->name, f->type == REST_T_BOOL ?
		    "true or false" : "an ObjectId"));

	json_object_set_new(call->list.filters, f->name, v);

	return (1);
}
