/*
 * /projects and /projects/:id (the contract's "Projects").
 *
 * Fields: name (string, 1..200, required), members (array of ObjectIds
 * of users; always holds ownerId, added back when left out), ownerId (the
 * creator, never changed). No query fields. Sortable: name, created,
 * updated.
 *
 * Who may: list the projects the caller is a member of; create any
 * signed-in user; read members and admins; update and delete the owner
 * and admins. Deleting a project deletes its todos (store_delete_project).
 *
 * Hooks (on the worker, after the write): updated gets the project after
 * and before the update, deleted the project as it was; both in the REST
 * shape.
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <string.h>

#include "app.h"
#include "http/http.h"

static void	projects_list(struct rest_call *);
static void	projects_create(struct rest_call *);
static void	projects_read(struct rest_call *);
static void	projects_update(struct rest_call *);
static void	projects_delete(struct rest_call *);
static int	projects_load(struct rest_call *, json_t **);
static int	projects_may_write(struct rest_call *, json_t *);
static void	projects_members(json_t *, const char *);
static json_t	*projects_todos(struct rest_call *);

static const struct rest_field	projects_fields[] = {
	{ "name",	REST_T_STRING,	REST_F_REQUIRED | REST_F_SORT, 1, 200 },
	{ "members",	REST_T_OID_ARRAY, 0, 0, 0 },
	{ "ownerId",	REST_T_OID,	REST_F_SERVER, 0, 0 },
	{ NULL,		REST_T_STRING,	0, 0, 0 }
};

static const struct rest_model	projects_model = {
	"Project", STORE_PROJECTS, projects_fields
};

static const struct rest_op	projects_op_list = {
	REST_AUTH | REST_LIST, &projects_model, NULL, projects_list, NULL
};
static const struct rest_op	projects_op_create = {
	REST_AUTH | REST_BODY, &projects_model, NULL, projects_create, NULL
};
static const struct rest_op	projects_op_read = {
	REST_AUTH, &projects_model, NULL, projects_read, NULL
};
static const struct rest_op	projects_op_update = {
	REST_AUTH | REST_BODY, &projects_model, NULL, projects_update, NULL
};
static const struct rest_op	projects_op_delete = {
	REST_AUTH, &projects_model, NULL, projects_delete, NULL
};
static const struct rest_op	projects_op_405_all = {
	REST_AUTH, &projects_model, "GET, HEAD, POST, OPTIONS", NULL, NULL
};
static const struct rest_op	projects_op_405_one = {
	REST_AUTH, &projects_model, "GET, HEAD, PATCH, DELETE, OPTIONS",
	NULL, NULL
};

static const struct rest_route	projects_route_all = {
	.get = &projects_op_list,
	.post = &projects_op_create,
	.other = &projects_op_405_all
};
static const struct rest_route	projects_route_one = {
	.get = &projects_op_read,
	.patch = &projects_op_update,
	.delete = &projects_op_delete,
	.other = &projects_op_405_one
};

int
page_projects(struct http_request *req)
{
	return (rest_dispatch(req, &projects_route_all));
}

int
page_projects_one(struct http_request *req)
{
	return (rest_dispatch(req, &projects_route_one));
}

static void
projects_list(struct rest_call *call)
{
	struct store_filter	 f[STORE_FILTER_MAX];
	json_t			*uid;

	if (!rest_input(call))
		return;

	uid = json_string(call->uid);
	f[0].field = "members";
	f[0].op = STORE_CONTAINS;
	f[0].value = uid;

	(void)rest_list_run(call, f, 1);
	json_decref(uid);
}

static void
projects_create(struct rest_call *call)
{
	json_t		*set, *doc;
	char		 id[STORE_OID_LEN + 1];

	if (!rest_input(call) ||
	    !rest_input_body(call, &projects_model, 1, call->uid, &set))
		return;

	store_oid_new(id);
	doc = json_pack("{s:s,s:O,s:O*}", "_id", id,
	    "name", json_object_get(set, "name"),
	    "members", json_object_get(set, "members"));
	if (doc == NULL) {
		rest_error(call, 500, "Internal server error", NULL);
		goto cleanup;
	}
	if (json_object_get(doc, "members") == NULL)
		json_object_set_new(doc, "members", json_array());
	projects_members(doc, call->uid);

	if (rest_doc_insert(call, STORE_PROJECTS, doc, "insert project"))
		rest_doc_hook(call, HOOK_PROJECT_CREATED, doc, NULL);

cleanup:
	json_decref(set);
	json_decref(doc);
}

static void
projects_read(struct rest_call *call)
{
	json_t		*project;

	if (!projects_load(call, &project))
		return;

	if (!rest_is_member(project, call->uid) &&
	    !rest_is_admin(call->user))
		rest_forbidden(call, &projects_model);
	else if (rest_input(call))
		rest_reply(call, 200, rest_doc(json_incref(project)));

	json_decref(project);
}

static void
projects_update(struct rest_call *call)
{
	json_t			*project, *set, *after;
	enum store_result	 r;

	set = after = NULL;
	if (!projects_load(call, &project))
		return;

	if (!projects_may_write(call, project) || !rest_input(call) ||
	    !rest_input_body(call, &projects_model, 0,
	    rest_str(project, "ownerId"), &set) ||
	    rest_input_conflict(call, project))
		goto cleanup;

	projects_members(set, rest_str(project, "ownerId"));

	r = rest_doc_update(call, STORE_PROJECTS, call->id, set, &after);
	if (!rest_doc_result(call, r, &projects_model, "update project"))
		goto cleanup;

	rest_reply(call, 200, json_incref(rest_doc(after)));
	rest_doc_hook(call, HOOK_PROJECT_UPDATED, after, project);

cleanup:
	json_decref(project);
	json_decref(set);
	json_decref(after);
}

static void
projects_delete(struct rest_call *call)
{
	json_t			*project, *todos;
	size_t			 ntodos;
	enum store_result	 r;

	todos = NULL;
	if (!projects_load(call, &project))
		return;

	if (!projects_may_write(call, project))
		goto cleanup;

	/* Its todos as they were, for the sync deletes (hooks.h). */
	todos = projects_todos(call);

	r = store_delete_project(call->sc, call->id, &ntodos);
	if (!rest_doc_result(call, r, &projects_model, "delete project"))
		goto cleanup;

	call->status = 204;
	rest_doc_hook(call, HOOK_PROJECT_DELETED, project, NULL);
	rest_doc_hook_todos(call, todos);

cleanup:
	json_decref(project);
	json_decref(todos);
}

/* The todos of the project being deleted; NULL when they can't be read. */
static json_t *
projects_todos(struct rest_call *call)
{
	struct store_filter	f;
	struct store_query	q;
	json_t			*docs, *pid;
	size_t			n;

	if ((pid = json_string(call->id)) == NULL)
		return (NULL);
	f.field = "projectId";
	f.op = STORE_EQ;
	f.value = pid;
	memset(&q, 0, sizeof(q));
	q.filters = &f;
	q.nfilters = 1;
	if (store_list(call->sc, STORE_TODOS, &q, &docs, &n) != STORE_OK)
		docs = NULL;
	json_decref(pid);

	return (docs);
}

static int
projects_load(struct rest_call *call, json_t **project)
{
	enum store_result	r;

	r = store_get(call->sc, STORE_PROJECTS, call->id, project);

	return (rest_doc_result(call, r, &projects_model, "load project"));
}

/* The owner and admins. */
static int
projects_may_write(struct rest_call *call, json_t *project)
{
	const char	*owner;

	owner = rest_str(project, "ownerId");
	if ((owner != NULL && !strcmp(owner, call->uid)) ||
	    rest_is_admin(call->user))
		return (1);

	return (rest_forbidden(call, &projects_model));
}

/* Puts the owner back into doc's members when it was left out. */
static void
projects_members(json_t *doc, const char *owner)
{
	json_t		*members;

	members = json_object_get(doc, "members");
	if (owner == NULL || !json_is_array(members) ||
	    rest_is_member(doc, owner))
		return;

	json_array_insert_new(members, 0, json_string(owner));
}
