/*
 * /todos and /todos/:id (the contract's "Todos").
 *
 * Fields: title (string, 1..500, required), completed (bool, default
 * false), projectId (optional ObjectId; null removes it), ownerId (the
 * creator, set here, never changed). Query fields: completed, projectId.
 * Sortable: title, completed, projectId, ownerId, created, updated.
 *
 * Who may: list their own todos, or with projectId=P the todos of a
 * project they are a member of (or any, as an admin; 403 otherwise, a
 * project that does not exist included); create any signed-in user, in
 * a project only as its member (400 if it does not exist); read and
 * update the owner, members of the todo's project and admins; delete the
 * owner and admins. Checks come in the contract's order: 401 (rest.c),
 * 405, 404, 403, then 400 for bad input, 409.
 *
 * A PATCH may move a todo: projectId set to another project needs its
 * membership (as on create), null takes the todo out of its project.
 *
 * Hooks (on the worker, after the write): created, updated and deleted
 * get the todo in the REST shape and its project (with members) or NULL.
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <string.h>

#include "app.h"
#include "http/http.h"

static void	todos_list(struct rest_call *);
static void	todos_create(struct rest_call *);
static void	todos_read(struct rest_call *);
static void	todos_update(struct rest_call *);
static void	todos_delete(struct rest_call *);
static int	todos_load(struct rest_call *, json_t **, json_t **);
static int	todos_may_read(struct rest_call *, json_t *, json_t *);
static int	todos_project(struct rest_call *, const char *, int,
		    json_t **);
static int	todos_move(struct rest_call *, json_t *, json_t *,
		    json_t **);

static const struct rest_field	todos_fields[] = {
	{ "title",	REST_T_STRING,	REST_F_REQUIRED | REST_F_SORT, 1, 500 },
	{ "completed",	REST_T_BOOL,	REST_F_QUERY | REST_F_SORT, 0, 0 },
	{ "projectId",	REST_T_OID,	REST_F_QUERY | REST_F_SORT |
					REST_F_NULL, 0, 0 },
	{ "ownerId",	REST_T_OID,	REST_F_SERVER | REST_F_SORT, 0, 0 },
	{ NULL,		REST_T_STRING,	0, 0, 0 }
};

static const struct rest_model	todos_model = {
	"Todo", STORE_TODOS, todos_fields
};

static const struct rest_op	todos_op_list = {
	REST_AUTH | REST_LIST, &todos_model, NULL, todos_list, NULL
};
static const struct rest_op	todos_op_create = {
	REST_AUTH | REST_BODY, &todos_model, NULL, todos_create, NULL
};
static const struct rest_op	todos_op_read = {
	REST_AUTH, &todos_model, NULL, todos_read, NULL
};
static const struct rest_op	todos_op_update = {
	REST_AUTH | REST_BODY, &todos_model, NULL, todos_update, NULL
};
static const struct rest_op	todos_op_delete = {
	REST_AUTH, &todos_model, NULL, todos_delete, NULL
};
static const struct rest_op	todos_op_405_all = {
	REST_AUTH, &todos_model, "GET, HEAD, POST, OPTIONS", NULL, NULL
};
static const struct rest_op	todos_op_405_one = {
	REST_AUTH, &todos_model, "GET, HEAD, PATCH, DELETE, OPTIONS",
	NULL, NULL
};

static const struct rest_route	todos_route_all = {
	.get = &todos_op_list,
	.post = &todos_op_create,
	.other = &todos_op_405_all
};
static const struct rest_route	todos_route_one = {
	.get = &todos_op_read,
	.patch = &todos_op_update,
	.delete = &todos_op_delete,
	.other = &todos_op_405_one
};

int
page_todos(struct http_request *req)
{
	return (rest_dispatch(req, &todos_route_all));
}

int
page_todos_one(struct http_request *req)
{
	return (rest_dispatch(req, &todos_route_one));
}

static void
todos_list(struct rest_call *call)
{
	struct store_filter	 f[STORE_FILTER_MAX];
	json_t			*pid, *owner, *project;
	size_t			 n;

	if (!rest_input(call))
		return;

	n = 0;
	owner = NULL;
	pid = json_object_get(call->list.filters, "projectId");
	if (pid != NULL) {
		if (!todos_project(call, json_string_value(pid), 1, &project))
			return;
		json_decref(project);
	} else {
		owner = json_string(call->uid);
		f[n].field = "ownerId";
		f[n].op = STORE_EQ;
		f[n].value = owner;
		n++;
	}

	(void)rest_list_run(call, f, n);
	json_decref(owner);
}

static void
todos_create(struct rest_call *call)
{
	json_t		*set, *doc, *project;
	const char	*pid;
	char		 id[STORE_OID_LEN + 1];

	doc = project = NULL;
	if (!rest_input(call) ||
	    !rest_input_body(call, &todos_model, 1, call->uid, &set))
		return;

	if ((pid = rest_str(set, "projectId")) != NULL &&
	    !todos_project(call, pid, 0, &project))
		goto cleanup;

	store_oid_new(id);
	doc = json_pack("{s:s,s:O,s:b}", "_id", id,
	    "title", json_object_get(set, "title"),
	    "completed", json_is_true(json_object_get(set, "completed")));
	if (doc == NULL) {
		rest_error(call, 500, "Internal server error", NULL);
		goto cleanup;
	}
	if (pid != NULL)
		json_object_set_new(doc, "projectId", json_string(pid));

	if (rest_doc_insert(call, STORE_TODOS, doc, "insert todo"))
		rest_doc_hook(call, HOOK_TODO_CREATED, doc, project);

cleanup:
	json_decref(set);
	json_decref(doc);
	json_decref(project);
}

static void
todos_read(struct rest_call *call)
{
	json_t		*todo, *project;

	if (!todos_load(call, &todo, &project))
		return;

	if (todos_may_read(call, todo, project) && rest_input(call))
		rest_reply(call, 200, rest_doc(json_incref(todo)));

	json_decref(todo);
	json_decref(project);
}

static void
todos_update(struct rest_call *call)
{
	json_t			*todo, *project, *set, *after, *was;
	enum store_result	 r;

	set = after = NULL;
	if (!todos_load(call, &todo, &project))
		return;
	was = json_incref(project);

	if (!todos_may_read(call, todo, project) || !rest_input(call) ||
	    !rest_input_body(call, &todos_model, 0, rest_str(todo, "ownerId"),
	    &set) || rest_input_conflict(call, todo) ||
	    !todos_move(call, todo, set, &project))
		goto cleanup;

	r = rest_doc_update(call, STORE_TODOS, call->id, set, &after);
	if (!rest_doc_result(call, r, &todos_model, "update todo"))
		goto cleanup;

	rest_reply(call, 200, json_incref(rest_doc(after)));
	rest_doc_hook(call, HOOK_TODO_UPDATED, after, project);
	rest_doc_hook_before(call, todo, was);

cleanup:
	json_decref(todo);
	json_decref(project);
	json_decref(was);
	json_decref(set);
	json_decref(after);
}

static void
todos_delete(struct rest_call *call)
{
	json_t			*todo, *project;
	enum store_result	 r;

	if (!todos_load(call, &todo, &project))
		return;

	if (strcmp(rest_str(todo, "ownerId") ? rest_str(todo, "ownerId") :
	    "", call->uid) && !rest_is_admin(call->user)) {
		rest_forbidden(call, &todos_model);
		goto cleanup;
	}

	r = store_delete(call->sc, STORE_TODOS, call->id);
	if (!rest_doc_result(call, r, &todos_model, "delete todo"))
		goto cleanup;

	call->status = 204;
	rest_doc_hook(call, HOOK_TODO_DELETED, todo, project);

cleanup:
	json_decref(todo);
	json_decref(project);
}

/*
 * The todo of the path (404 if none) and its project, NULL when it has
 * none or the project is gone. Both are new references.
 */
static int
todos_load(struct rest_call *call, json_t **todo, json_t **project)
{
	const char		*pid;
	enum store_result	 r;

	*project = NULL;
	r = store_get(call->sc, STORE_TODOS, call->id, todo);
	if (!rest_doc_result(call, r, &todos_model, "load todo"))
		return (0);

	if ((pid = rest_str(*todo, "projectId")) == NULL)
		return (1);

	r = store_get(call->sc, STORE_PROJECTS, pid, project);
	if (r != STORE_OK && r != STORE_NOTFOUND) {
		json_decref(*todo);
		*todo = NULL;
		return (rest_store_error(call, r, "load project"));
	}

	return (1);
}

/* The owner, the members of the todo's project and admins. */
static int
todos_may_read(struct rest_call *call, json_t *todo, json_t *project)
{
	const char	*owner;

	owner = rest_str(todo, "ownerId");
	if ((owner != NULL && !strcmp(owner, call->uid)) ||
	    rest_is_admin(call->user) ||
	    (project != NULL && rest_is_member(project, call->uid)))
		return (1);

	return (rest_forbidden(call, &todos_model));
}

/*
 * The project pid for a todo: 400 if it does not exist, 403 if the caller
 * is not a member. Listing its todos (listing set), admins pass too and a
 * missing project is 403 like any the caller is not in. *project is a
 * new reference on success.
 */
static int
todos_project(struct rest_call *call, const char *pid, int listing,
    json_t **project)
{
	enum store_result	r;

	r = store_get(call->sc, STORE_PROJECTS, pid, project);
	if (r == STORE_NOTFOUND && !listing)
		return (rest_error(call, 400, "Validation failed",
		    "projectId: project %s does not exist", pid));
	if (r != STORE_OK && r != STORE_NOTFOUND)
		return (rest_store_error(call, r, "load project"));

	if (*project != NULL && (rest_is_member(*project, call->uid) ||
	    (listing && rest_is_admin(call->user))))
		return (1);

	json_decref(*project);
	*project = NULL;

	return (rest_error(call, 403, "Forbidden",
	    "Not a member of project %s", pid));
}

/*
 * A PATCH that sets projectId: moving a todo (into a project, to another
 * one or out of one) is its owner's right, or an admin's: a member of the
 * target project must not be able to hand someone else's todo to the
 * project's members. The new project must exist and the caller be a
 * member. *project becomes the todo's project after the update.
 */
static int
todos_move(struct rest_call *call, json_t *todo, json_t *set,
    json_t **project)
{
	json_t		*v, *np;
	const char	*old, *owner;

	if ((v = json_object_get(set, "projectId")) == NULL)
		return (1);

	old = rest_str(todo, "projectId");
	if (json_is_null(v) ? old == NULL :
	    old != NULL && !strcmp(old, json_string_value(v)))
		return (1);

	owner = rest_str(todo, "ownerId");
	if ((owner == NULL || strcmp(owner, call->uid)) &&
	    !rest_is_admin(call->user))
		return (rest_error(call, 403, "Forbidden",
		    "Only the owner of a todo can move it between projects"));

	if (json_is_null(v)) {
		json_decref(*project);
		*project = NULL;
		return (1);
	}

	if (!todos_project(call, json_string_value(v), 0, &np))
		return (0);

	json_decref(*project);
	*project = np;

	return (1);
}
