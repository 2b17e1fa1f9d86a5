/*
 * Documents as the REST routes write and answer them.
 *
 * The REST shape of a stored document has "id" next to "_id" and never
 * the user's "hash" or "salt" (rest_doc). The helpers below are the steps
 * that routes_todos.c, routes_projects.c and routes_auth.c share on the
 * pool thread: insert a new document of the caller (ownerId, created and
 * updated set here, 201 with the document), update one with "updated"
 * stamped, turn a store result on the path's document into 404 or 500,
 * and set the post-write hook with its documents in the REST shape.
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "app.h"
#include "http/http.h"

/* The REST shape, in place: "id" = "_id", no "hash" or "salt". */
json_t *
rest_doc(json_t *doc)
{
	json_t		*id;

	if (!json_is_object(doc))
		return (doc);

	if ((id = json_object_get(doc, "_id")) != NULL)
		json_object_set(doc, "id", id);
	json_object_del(doc, "hash");
	json_object_del(doc, "salt");

	return (doc);
}

/* A new deep copy of doc in the REST shape. */
json_t *
rest_doc_copy(const json_t *doc)
{
	return (rest_doc(json_deep_copy(doc)));
}

/*
 * Inserts doc, a new document of coll made by the caller, with ownerId,
 * created and updated set here. Returns 1 with the 201 {"data": doc}
 * response set (doc in the REST shape), or 0 with rest_store_error()'s
 * answer (what is logged).
 */
int
rest_doc_insert(struct rest_call *call, enum store_coll coll, json_t *doc,
    const char *what)
{
	char			 now[STORE_ISO_LEN];
	enum store_result	 r;

	store_now_iso(now);
	json_object_set_new(doc, "ownerId", json_string(call->uid));
	json_object_set_new(doc, "created", json_string(now));
	json_object_set_new(doc, "updated", json_string(now));

	if ((r = store_insert(call->sc, coll, doc)) != STORE_OK)
		return (rest_store_error(call, r, what));

	rest_reply(call, 201, json_incref(rest_doc(doc)));

	return (1);
}

/* store_update() of the document id of coll, with "updated" set to now. */
enum store_result
rest_doc_update(struct rest_call *call, enum store_coll coll, const char *id,
    json_t *set, json_t **after)
{
	char		now[STORE_ISO_LEN];

	store_now_iso(now);
	json_object_set_new(set, "updated", json_string(now));

	return (store_update(call->sc, coll, id, set, after));
}

/*
 * The result r of a store call on the path's document, of model m: 1 for
 * STORE_OK; else 0 with a 404 (STORE_NOTFOUND) or rest_store_error()'s
 * answer (what is logged).
 */
int
rest_doc_result(struct rest_call *call, enum store_result r,
    const struct rest_model *m, const char *what)
{
	if (r == STORE_NOTFOUND)
		return (rest_not_found(call, m));
	if (r != STORE_OK)
		return (rest_store_error(call, r, what));

	return (1);
}

/*
 * The post-write hook with doc and aux (NULL when there is none), both in
 * the REST shape; the call takes references of its own.
 */
void
rest_doc_hook(struct rest_call *call, enum hook_kind kind, json_t *doc,
    json_t *aux)
{
	call->hook.kind = kind;
	call->hook.doc = rest_doc(json_incref(doc));
	call->hook.aux = rest_doc(json_incref(aux));
}

/* The states before a todo update, for the hook (hooks.h). */
void
rest_doc_hook_before(struct rest_call *call, json_t *doc, json_t *aux)
{
	call->hook.before = rest_doc(json_incref(doc));
	call->hook.before_aux = rest_doc(json_incref(aux));
}

/* A deleted project's todos (an array of stored documents), for the hook. */
void
rest_doc_hook_todos(struct rest_call *call, json_t *todos)
{
	json_t		*list, *t;
	size_t		 i;

	if ((list = json_array()) == NULL)
		return;
	json_array_foreach(todos, i, t)
		(void)json_array_append_new(list, rest_doc(json_incref(t)));
	call->hook.todos = list;
}
