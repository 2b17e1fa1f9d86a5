/*
 * fuzz_query.c: libFuzzer target for Terreno's query matcher and queryId
 * (src/app/realtime/query*.c). The input is JSON text (at most
 * FUZZ_MAX_INPUT bytes; jansson itself stops nesting at 2048 levels):
 * an array of two, [query, document], or else a query matched against
 * a fixed todo.
 *
 * Whatever the input: query_match() answers 0 or 1, and 0 for a query
 * that is not an object; query_id() answers exactly for the objects
 * within QUERY_MAX_DEPTH, starts with the collection and ':', and the
 * JSON after it reads back into a query with the same queryId (the
 * writer's output is a fixed point); the scoped todo query of an object
 * holds the user's ownerId unless it holds a projectId. A number that
 * is the query or the document reads back from its text.
 */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "realtime/query.h"

#define FUZZ_CHECK(x)	do { if (!(x)) abort(); } while (0)
#define FUZZ_MAX_INPUT	(64 * 1024)

int		LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static void	fuzz_id(const json_t *);
static void	fuzz_scope(const json_t *, const json_t *);
static void	fuzz_number(const json_t *);

static const char	fuzz_todo[] =
    "{\"_id\":\"65f0c0ffee0000000000abcd\",\"id\":\"65f0c0ffee0000000000abcd\","
    "\"title\":\"Buy milk\",\"completed\":false,\"ownerId\":\"u1\","
    "\"projectId\":\"65f0c0ffee0000000000abce\",\"priority\":3,"
    "\"tags\":[\"a\",\"b\"],\"meta\":{\"n\":1,\"nil\":null},"
    "\"created\":\"2024-01-02T03:04:05.000Z\"}";

static void
fuzz_id(const json_t *query)
{
	json_t		*again;
	char		*id, *id2;

	id = query_id("todos", query);
	FUZZ_CHECK((id != NULL) ==
	    (json_is_object(query) && query_depth_ok(query, 0)));
	if (id == NULL)
		return;
	FUZZ_CHECK(strncmp(id, "todos:{", 7) == 0);
	FUZZ_CHECK(id[strlen(id) - 1] == '}');

	/* Integers as reals: jansson refuses integers past 64 bits. */
	again = json_loads(id + 6, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL,
	    NULL);
	FUZZ_CHECK(again != NULL && json_is_object(again));
	id2 = query_id("todos", again);
	FUZZ_CHECK(id2 != NULL && strcmp(id, id2) == 0);
	free(id2);
	json_decref(again);
	free(id);
}

static void
fuzz_scope(const json_t *query, const json_t *doc)
{
	const json_t	*project;
	json_t		*s;
	char		*id;
	int		 m;

	s = query_scope_todos(query, "u1", &project);
	FUZZ_CHECK((s != NULL) == json_is_object(query));
	if (s == NULL)
		return;
	FUZZ_CHECK((project != NULL) == (json_object_get(query,
	    "projectId") != NULL));
	if (project == NULL)
		FUZZ_CHECK(strcmp(json_string_value(json_object_get(s,
		    "ownerId")), "u1") == 0);
	m = query_match(s, doc);
	FUZZ_CHECK(m == 0 || m == 1);
	id = query_id("todos", s);
	FUZZ_CHECK((id != NULL) == query_depth_ok(s, 0));
	free(id);
	json_decref(s);
}

static void
fuzz_number(const json_t *v)
{
	FILE		*f;
	char		*text;
	size_t		 len;
	double		 d;

	if (!json_is_real(v))
		return;
	d = json_real_value(v);
	text = NULL;
	FUZZ_CHECK((f = open_memstream(&text, &len)) != NULL);
	query_js_number(f, d);
	fclose(f);
	FUZZ_CHECK(len > 0 && len <= 24);
	FUZZ_CHECK(strtod(text, NULL) == d);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t		*root, *todo;
	const json_t	*query, *doc;
	int		 m;

	if (size > FUZZ_MAX_INPUT)
		return (0);
	root = json_loadb((const char *)data, size,
	    JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (root == NULL)
		return (0);
	if ((todo = json_loads(fuzz_todo, 0, NULL)) == NULL)
		abort();

	if (json_is_array(root) && json_array_size(root) == 2) {
		query = json_array_get(root, 0);
		doc = json_array_get(root, 1);
	} else {
		query = root;
		doc = todo;
	}

	m = query_match(query, doc);
	FUZZ_CHECK(m == 0 || m == 1);
	FUZZ_CHECK(json_is_object(query) || m == 0);
	fuzz_id(query);
	fuzz_scope(query, doc);
	fuzz_number(query);
	fuzz_number(doc);

	json_decref(todo);
	json_decref(root);

	return (0);
}
