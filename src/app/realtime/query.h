/*
 * realtime/query.h: the pure building blocks of Terreno's `sync` query
 * subscriptions (docs/terreno-realtime.md): the in-memory matcher of
 * section 6, the server's queryId of section 3 and the scope of a todo
 * query of section 8. Pure C, libc and jansson only: no Kore, no store,
 * no plugin. query_js.c (String(), JSON.stringify()) and query_order.c
 * (the relational operators, Number(), UTF-16 order) hold the
 * JavaScript value semantics they rest on.
 *
 * How section 8's subscribe:query {collection: "todos", query} will use
 * them (the socket handler does the checks of section 2 first):
 *
 *	q = query_scope_todos(query, uid, &project);
 *	if q == NULL: refuse (not an object)
 *	if project != NULL: refuse unless it is a string, store_oid_valid()
 *	    and the user is a member of that project or an admin
 *	qid = query_id("todos", q): NULL (nested too deep) refuses
 *	join "query:<qid>", keep q with the subscription, reply with qid
 *
 * and on each write, for each query subscription of the socket,
 * query_match(q, D) on the REST document D of the state in question
 * (before or after the write), besides the readability check.
 */

#ifndef KORIO_QUERY_H
#define KORIO_QUERY_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/*
 * The deepest nesting of objects and arrays in a query or a document:
 * query_match() fails closed and query_id() returns NULL past it, so
 * nothing here recurses deeper than this.
 */
#define QUERY_MAX_DEPTH		32

/* One key of an object, in the order JavaScript holds them. */
struct query_js_key {
	const char	*name;
	size_t		 len;
	json_t		*value;
	int64_t		 index;	/* the array index it is, or -1 */
	size_t		 pos;	/* its place in the object */
};

/* query.c */
int	 query_match(const json_t *, const json_t *);
char	*query_id(const char *, const json_t *);
json_t	*query_scope_todos(const json_t *, const char *, const json_t **);
int	 query_depth_ok(const json_t *, int);

/* query_js.c */
json_t	*query_unconst(const json_t *);
void	 query_oom(void);
char	*query_js_string_new(const json_t *, size_t *);
int	 query_js_loose_eq(const json_t *, const json_t *);
int	 query_js_loose_in(const json_t *, const json_t *);
int	 query_js_json_eq(const json_t *, const json_t *);
struct query_js_key *query_js_keys(const json_t *, int, size_t *);
void	 query_js_json(FILE *, const json_t *, int);
void	 query_js_number(FILE *, double);
int64_t	 query_js_index(const char *, size_t);

/* query_order.c */
int	 query_order_relate(const json_t *, const json_t *, int *);
double	 query_order_number(const char *, size_t);
int	 query_order_utf16_cmp(const char *, size_t, const char *, size_t);
size_t	 query_order_utf8(const char *, size_t, uint32_t *);

#endif /* !KORIO_QUERY_H */
