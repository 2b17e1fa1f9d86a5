/*
 * Terreno's query subscriptions, the pure part (docs/terreno-realtime.md):
 * the in-memory matcher of section 6, the queryId of section 3 and the
 * scope of a todo query of section 8. Values behave as in JavaScript
 * (query_js.c, query_order.c).
 *
 * The matcher does what Terreno's matchesQuery() does with a query and
 * a document as JSON.parse() would make them. Every entry of the query
 * must hold:
 * - "$and" / "$or": an array of sub-queries, all or one of which must
 *   match; anything else never matches. A sub-query is read as
 *   Object.entries() reads it: an object's keys in JavaScript's order
 *   (array indices first), an array's indices, a string's UTF-16 code
 *   units ("0": the first, ...); a number or a boolean has none (it
 *   matches); null throws in Terreno, and the whole query fails.
 * - any other key: a dotted path, each step an own member of an object
 *   or an array index of an array ("tags.0"); a step from anything else
 *   (or a missing one) is undefined, and so is every step after it.
 *   There is no MongoDB-style traversal of arrays, and the properties
 *   JavaScript would also find (an array's or a string's length, a
 *   string's characters, inherited ones such as "constructor") read as
 *   undefined here.
 * - the condition on that value: a scalar (null included) matches by
 *   loose equality, String(value) === String(cond), so false equals
 *   "false", 1 equals "1", and a missing value equals only the string
 *   "undefined"; an array matches by JSON.stringify(); an object is a
 *   set of operators, all of which must hold ({} holds for anything):
 *   $eq $ne (loose equality), $gt $gte $lt $lte (JavaScript's < and >),
 *   $in $nin (an array operand, loose equality per element, else the
 *   condition fails), $exists (the truthiness of its operand: whether
 *   the value is not undefined), $not (negates the condition it holds);
 *   anything else ($regex, $elemMatch, a plain field name) fails closed.
 *
 * A query or document nested deeper than QUERY_MAX_DEPTH never matches,
 * which bounds every recursion here.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "realtime/query.h"

/*
 * What a null sub-query gives: Object.entries(null) throws in Terreno,
 * which ends the evaluation of the whole query (its change handler
 * emits to no further query room; here the query does not match).
 */
#define QUERY_THROW	(-1)

enum query_op {
	QUERY_OP_EQ,
	QUERY_OP_NE,
	QUERY_OP_GT,
	QUERY_OP_GTE,
	QUERY_OP_LT,
	QUERY_OP_LTE,
	QUERY_OP_IN,
	QUERY_OP_NIN,
	QUERY_OP_EXISTS,
	QUERY_OP_NOT,
	QUERY_OP_UNKNOWN
};

static const struct {
	const char	*name;
	enum query_op	 op;
} query_ops[] = {
	{ "$eq",	QUERY_OP_EQ },
	{ "$ne",	QUERY_OP_NE },
	{ "$gt",	QUERY_OP_GT },
	{ "$gte",	QUERY_OP_GTE },
	{ "$lt",	QUERY_OP_LT },
	{ "$lte",	QUERY_OP_LTE },
	{ "$in",	QUERY_OP_IN },
	{ "$nin",	QUERY_OP_NIN },
	{ "$exists",	QUERY_OP_EXISTS },
	{ "$not",	QUERY_OP_NOT },
};

static int		 query_entries(const json_t *, const json_t *);
static int		 query_entry(const json_t *, const char *, size_t,
			    const json_t *);
static int		 query_logic(const json_t *, const json_t *, int);
static int		 query_units(const json_t *, const char *, size_t);
static const json_t	*query_path(const json_t *, const char *, size_t);
static const json_t	*query_step(const json_t *, const char *, size_t);
static int		 query_cond(const json_t *, const json_t *);
static int		 query_op(const json_t *, const char *, size_t,
			    const json_t *);
static enum query_op	 query_op_find(const char *, size_t);
static int		 query_truthy(const json_t *);

/*
 * 1 if the document doc matches query (see the top of this file), 0 if
 * not, if query is not an object (section 2 refuses any other), or if
 * either is nested deeper than QUERY_MAX_DEPTH.
 */
int
query_match(const json_t *query, const json_t *doc)
{
	if (!json_is_object(query) || doc == NULL)
		return (0);
	if (!query_depth_ok(query, 0) || !query_depth_ok(doc, 0))
		return (0);

	return (query_entries(query, doc) == 1);
}

/*
 * The queryId of section 3: collection, ':' and JSON.stringify() of the
 * query with its top-level keys in UTF-16 order (array indices first,
 * as a JavaScript object holds them). Terreno copies the keys into a
 * new object by assignment, and assigning "__proto__" sets the
 * prototype instead, so that key is left out. A new string (caller
 * frees), or NULL if query is not an object or is nested too deep.
 */
char *
query_id(const char *collection, const json_t *query)
{
	FILE	*f;
	char	*id;
	size_t	 len;

	if (collection == NULL || !json_is_object(query) ||
	    !query_depth_ok(query, 0))
		return (NULL);

	id = NULL;
	if ((f = open_memstream(&id, &len)) == NULL)
		query_oom();
	fputs(collection, f);
	fputc(':', f);
	query_js_json(f, query, 1);
	if (ferror(f) || fclose(f) != 0)
		query_oom();

	return (id);
}

/*
 * The effective todo query of section 8 for user uid, as a new object
 * (caller decrefs; nested values are shared with query), or NULL if
 * query is not an object. With a top-level projectId, the query stays
 * as it is and *project points at that value (in the new object): the
 * caller refuses the subscription unless it is a 24-hex string naming a
 * project the user is a member of, or the user is an admin. Otherwise
 * *project is NULL and ownerId is set to uid, for admins too.
 */
json_t *
query_scope_todos(const json_t *query, const char *uid,
    const json_t **project)
{
	json_t		*q;

	*project = NULL;
	if (!json_is_object(query) || uid == NULL)
		return (NULL);
	if ((q = json_copy(query_unconst(query))) == NULL)
		query_oom();
	if ((*project = json_object_get(q, "projectId")) != NULL)
		return (q);
	if (json_object_set_new(q, "ownerId", json_string(uid)) == -1) {
		json_decref(q);
		return (NULL);
	}

	return (q);
}

/* 1 if v holds no more than QUERY_MAX_DEPTH - depth levels of nesting. */
int
query_depth_ok(const json_t *v, int depth)
{
	const char	*key;
	json_t		*child;
	size_t		 i;

	if (!json_is_object(v) && !json_is_array(v))
		return (1);
	if (depth >= QUERY_MAX_DEPTH)
		return (0);

	if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++) {
			if (!query_depth_ok(json_array_get(v, i), depth + 1))
				return (0);
		}
		return (1);
	}
	json_object_foreach(query_unconst(v), key, child) {
		if (!query_depth_ok(child, depth + 1))
			return (0);
	}

	return (1);
}

/*
 * Every entry of query, as Object.entries() lists them and in that order,
 * holds for doc: 1, 0, or QUERY_THROW.
 */
static int
query_entries(const json_t *query, const json_t *doc)
{
	struct query_js_key	*keys;
	char			 index[24];
	size_t			 i, n, len;
	int			 m;

	m = 1;
	switch (json_typeof(query)) {
	case JSON_OBJECT:
		keys = query_js_keys(query, 0, &n);
		for (i = 0; i < n && m == 1; i++)
			m = query_entry(doc, keys[i].name, keys[i].len,
			    keys[i].value);
		free(keys);
		break;
	case JSON_ARRAY:
		for (i = 0; i < json_array_size(query) && m == 1; i++) {
			len = (size_t)snprintf(index, sizeof(index), "%zu", i);
			m = query_entry(doc, index, len,
			    json_array_get(query, i));
		}
		break;
	case JSON_STRING:
		m = query_units(doc, json_string_value(query),
		    json_string_length(query));
		break;
	case JSON_NULL:
		m = QUERY_THROW;
		break;
	default:
		break;
	}

	return (m);
}

static int
query_entry(const json_t *doc, const char *key, size_t len,
    const json_t *cond)
{
	if (len == 4 && memcmp(key, "$and", 4) == 0)
		return (query_logic(cond, doc, 1));
	if (len == 3 && memcmp(key, "$or", 3) == 0)
		return (query_logic(cond, doc, 0));

	return (query_cond(query_path(doc, key, len), cond));
}

/* $and (all set) or $or over the sub-queries in list: 1, 0 or QUERY_THROW. */
static int
query_logic(const json_t *list, const json_t *doc, int all)
{
	size_t		i;
	int		m;

	if (!json_is_array(list))
		return (0);
	for (i = 0; i < json_array_size(list); i++) {
		m = query_entries(json_array_get(list, i), doc);
		if (m != all)
			return (m);
	}

	return (all);
}

/*
 * A string as a sub-query: code unit i is a condition on key "i". Half
 * a surrogate pair equals no String() of a document value (jansson
 * strings hold no lone surrogate), so a character above U+FFFF fails.
 */
static int
query_units(const json_t *doc, const char *s, size_t len)
{
	json_t		*cond;
	char		 index[24];
	size_t		 i, n, unit, klen;
	uint32_t	 cp;
	int		 m;

	for (i = 0, unit = 0; i < len; i += n, unit++) {
		n = query_order_utf8(s + i, len - i, &cp);
		if (cp > 0xffff)
			return (0);
		klen = (size_t)snprintf(index, sizeof(index), "%zu", unit);
		if ((cond = json_stringn_nocheck(s + i, n)) == NULL)
			query_oom();
		m = query_cond(query_path(doc, index, klen), cond);
		json_decref(cond);
		if (!m)
			return (0);
	}

	return (1);
}

/* The value at a dotted path, or NULL for undefined. */
static const json_t *
query_path(const json_t *doc, const char *path, size_t len)
{
	const json_t	*cur;
	const char	*dot;
	size_t		 n;

	for (cur = doc;; path += n + 1, len -= n + 1) {
		if (cur == NULL || json_is_null(cur))
			return (NULL);
		dot = memchr(path, '.', len);
		n = dot != NULL ? (size_t)(dot - path) : len;
		cur = query_step(cur, path, n);
		if (dot == NULL)
			return (cur);
	}
}

/* cur[key]: an object's own member or an array's element, or NULL. */
static const json_t *
query_step(const json_t *cur, const char *key, size_t len)
{
	int64_t		index;

	if (json_is_object(cur))
		return (json_object_getn(cur, key, len));
	if (json_is_array(cur) && (index = query_js_index(key, len)) >= 0)
		return (json_array_get(cur, (size_t)index));

	return (NULL);
}

/* The condition cond on value (NULL: undefined). */
static int
query_cond(const json_t *value, const json_t *cond)
{
	const char	*name;
	json_t		*operand;
	size_t		 len;

	if (json_is_array(cond))
		return (query_js_json_eq(value, cond));
	if (!json_is_object(cond))
		return (query_js_loose_eq(value, cond));

	json_object_keylen_foreach(query_unconst(cond), name, len, operand) {
		if (!query_op(value, name, len, operand))
			return (0);
	}

	return (1);
}

static int
query_op(const json_t *value, const char *name, size_t len,
    const json_t *operand)
{
	int		c;

	switch (query_op_find(name, len)) {
	case QUERY_OP_EQ:
		return (query_js_loose_eq(value, operand));
	case QUERY_OP_NE:
		return (!query_js_loose_eq(value, operand));
	case QUERY_OP_GT:
		return (query_order_relate(value, operand, &c) && c > 0);
	case QUERY_OP_GTE:
		return (query_order_relate(value, operand, &c) && c >= 0);
	case QUERY_OP_LT:
		return (query_order_relate(value, operand, &c) && c < 0);
	case QUERY_OP_LTE:
		return (query_order_relate(value, operand, &c) && c <= 0);
	case QUERY_OP_IN:
		return (json_is_array(operand) &&
		    query_js_loose_in(value, operand));
	case QUERY_OP_NIN:
		return (json_is_array(operand) &&
		    !query_js_loose_in(value, operand));
	case QUERY_OP_EXISTS:
		return (query_truthy(operand) == (value != NULL));
	case QUERY_OP_NOT:
		return (!query_cond(value, operand));
	default:
		return (0);
	}
}

static enum query_op
query_op_find(const char *name, size_t len)
{
	size_t		i;

	for (i = 0; i < sizeof(query_ops) / sizeof(query_ops[0]); i++) {
		if (strlen(query_ops[i].name) == len &&
		    memcmp(query_ops[i].name, name, len) == 0)
			return (query_ops[i].op);
	}

	return (QUERY_OP_UNKNOWN);
}

/* JavaScript's truthiness of a JSON value: false, 0, "" and null are not. */
static int
query_truthy(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_FALSE:
	case JSON_NULL:
		return (0);
	case JSON_INTEGER:
		return (json_integer_value(v) != 0);
	case JSON_REAL:
		return (json_real_value(v) != 0);
	case JSON_STRING:
		return (json_string_length(v) != 0);
	default:
		return (1);
	}
}
