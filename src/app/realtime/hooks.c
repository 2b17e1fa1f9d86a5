/*
 * The realtime side of the post-write hooks (hooks.h): what a REST write
 * sends to sockets.
 *
 * A todo event (todo:created, todo:updated, todo:deleted) goes to
 * project:<P> and to todos:<m> for the owner and every member m of its
 * project, so a socket gets it once if its user may read the todo, and a
 * user never gets another user's private todo. A created todo also sends
 * a "notification" to its owner's user:<id> room. A project update goes
 * to project:<P>, and members taken off the project leave its room on
 * every worker; a deleted project's room is emptied.
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "hooks.h"
#include "sio.h"
#include "realtime/query.h"
#include "realtime/realtime.h"

static void	hooks_todo_created(const json_t *, const json_t *);
static void	hooks_todo_updated(const json_t *, const json_t *);
static void	hooks_todo_deleted(const json_t *, const json_t *);
static void	hooks_project_updated(const json_t *, const json_t *);
static void	hooks_project_deleted(const json_t *);
static void	rt_todo_emit(const char *, const json_t *, const json_t *,
		    json_t *);
static json_t	*rt_todo_payload(const json_t *, int);
static void	hooks_sync(const struct hook_event *);
static json_t	*hooks_updated_fields(const json_t *, const json_t *);
static const char *hooks_id(const json_t *);

/* The todo event payload: {id, title, completed, ownerId, projectId}. */
static json_t *
rt_todo_payload(const json_t *todo, int deleted)
{
	json_t		*p, *project;

	project = json_object_get(todo, "projectId");
	if (deleted) {
		p = json_pack("{s:O,s:O}", "id", json_object_get(todo, "id"),
		    "ownerId", json_object_get(todo, "ownerId"));
	} else {
		p = json_pack("{s:O,s:O,s:O,s:O}",
		    "id", json_object_get(todo, "id"),
		    "title", json_object_get(todo, "title"),
		    "completed", json_object_get(todo, "completed"),
		    "ownerId", json_object_get(todo, "ownerId"));
	}
	if (p == NULL)
		return (NULL);

	(void)json_object_set(p, "projectId",
	    json_is_string(project) ? project : json_null());

	return (p);
}

/*
 * To the sockets that may read the todo: subscribed sockets of its owner
 * and of the members of its project, and the project's room.
 */
static void
rt_todo_emit(const char *event, const json_t *todo, const json_t *project,
    json_t *payload)
{
	json_t		*members, *m;
	const char	*owner, *pid, **rooms;
	char		*names;
	size_t		i, n, max;

	owner = json_string_value(json_object_get(todo, "ownerId"));
	pid = json_string_value(json_object_get(todo, "projectId"));
	members = project != NULL ? json_object_get(project, "members") : NULL;
	if (owner == NULL || payload == NULL) {
		json_decref(payload);
		return;
	}

	max = json_array_size(members) + 2;
	rooms = mem_calloc(max, sizeof(*rooms));
	names = mem_calloc(max, RT_ROOM_MAX);

	n = 0;
	(void)snprintf(names, RT_ROOM_MAX, "todos:%s", owner);
	rooms[n++] = names;
	if (pid != NULL) {
		(void)snprintf(names + n * RT_ROOM_MAX, RT_ROOM_MAX,
		    "project:%s", pid);
		rooms[n] = names + n * RT_ROOM_MAX;
		n++;
		json_array_foreach(members, i, m) {
			if (!json_is_string(m) ||
			    !strcmp(json_string_value(m), owner))
				continue;
			(void)snprintf(names + n * RT_ROOM_MAX, RT_ROOM_MAX,
			    "todos:%s", json_string_value(m));
			rooms[n] = names + n * RT_ROOM_MAX;
			n++;
		}
	}

	sio_broadcast(rt_nsp, rooms, n, NULL, 0, event,
	    json_pack("[o]", payload));

	free(rooms);
	free(names);
}

/* The one entry of the REST side: ev's emits. */
void
hooks_run(const struct hook_event *ev)
{
	switch (ev->kind) {
	case HOOK_TODO_CREATED:
		hooks_todo_created(ev->doc, ev->aux);
		break;
	case HOOK_TODO_UPDATED:
		hooks_todo_updated(ev->doc, ev->aux);
		break;
	case HOOK_TODO_DELETED:
		hooks_todo_deleted(ev->doc, ev->aux);
		break;
	case HOOK_PROJECT_UPDATED:
		hooks_project_updated(ev->doc, ev->aux);
		break;
	case HOOK_PROJECT_DELETED:
		hooks_project_deleted(ev->doc);
		break;
	case HOOK_PROJECT_CREATED:
	case HOOK_NONE:
		break;
	}
	hooks_sync(ev);
}

static const char *
hooks_id(const json_t *doc)
{
	return (json_string_value(json_object_get(doc, "id")));
}

/*
 * The sync events of section 8 (sync.c routes them per socket). Members
 * are those of the todo's project in each state; a deleted project's
 * todos go first, each as deleted.
 */
static void
hooks_sync(const struct hook_event *ev)
{
	json_t		*uf, *members, *t;
	const char	*id;
	size_t		i;

	if ((id = hooks_id(ev->doc)) == NULL)
		return;

	switch (ev->kind) {
	case HOOK_TODO_CREATED:
		sync_emit("todos", "create", id, NULL, ev->doc, NULL,
		    json_object_get(ev->aux, "members"), NULL);
		break;
	case HOOK_TODO_UPDATED:
		uf = hooks_updated_fields(ev->before, ev->doc);
		sync_emit("todos", "update", id, ev->before, ev->doc,
		    json_object_get(ev->before_aux, "members"),
		    json_object_get(ev->aux, "members"), uf);
		json_decref(uf);
		break;
	case HOOK_TODO_DELETED:
		sync_emit("todos", "delete", id, ev->doc, NULL,
		    json_object_get(ev->aux, "members"), NULL, NULL);
		break;
	case HOOK_PROJECT_CREATED:
		sync_emit("projects", "create", id, NULL, ev->doc, NULL, NULL,
		    NULL);
		break;
	case HOOK_PROJECT_UPDATED:
		uf = hooks_updated_fields(ev->aux, ev->doc);
		sync_emit("projects", "update", id, ev->aux, ev->doc, NULL,
		    NULL, uf);
		json_decref(uf);
		break;
	case HOOK_PROJECT_DELETED:
		members = json_object_get(ev->doc, "members");
		json_array_foreach(ev->todos, i, t) {
			if (hooks_id(t) != NULL)
				sync_emit("todos", "delete", hooks_id(t), t,
				    NULL, members, NULL, NULL);
		}
		sync_emit("projects", "delete", id, ev->doc, NULL, NULL, NULL,
		    NULL);
		break;
	case HOOK_NONE:
		break;
	}
}

/*
 * updatedFields: the top-level fields of after whose value changed, and
 * "updated" (section 8); fields that were removed are not listed.
 */
static json_t *
hooks_updated_fields(const json_t *before, const json_t *after)
{
	json_t		*uf, *v;
	const char	*k;
	int		updated;

	if ((uf = json_array()) == NULL)
		return (NULL);
	updated = 0;
	json_object_foreach(query_unconst(after), k, v) {
		if (json_equal(v, json_object_get(before, k)))
			continue;
		(void)json_array_append_new(uf, json_string(k));
		if (!strcmp(k, "updated"))
			updated = 1;
	}
	if (!updated)
		(void)json_array_append_new(uf, json_string("updated"));

	return (uf);
}

void
hooks_defer_begin(void)
{
	sio_defer_begin();
}

void
hooks_defer_end(void)
{
	sio_defer_end();
}

static void
hooks_todo_created(const json_t *todo, const json_t *project)
{
	const char	*owner, *title;
	char		room[RT_ROOM_MAX];
	const char	*r[1];
	json_t		*note;

	rt_todo_emit("todo:created", todo, project, rt_todo_payload(todo, 0));

	owner = json_string_value(json_object_get(todo, "ownerId"));
	title = json_string_value(json_object_get(todo, "title"));
	if (owner == NULL || title == NULL)
		return;

	(void)snprintf(room, sizeof(room), "user:%s", owner);
	r[0] = room;
	note = json_pack("{s:s,s:s++}", "type", "todo_created", "message",
	    "Todo \"", title, "\" created");
	sio_broadcast(rt_nsp, r, 1, NULL, 0, "notification",
	    json_pack("[o]", note));
}

static void
hooks_todo_updated(const json_t *todo, const json_t *project)
{
	rt_todo_emit("todo:updated", todo, project, rt_todo_payload(todo, 0));
}

static void
hooks_todo_deleted(const json_t *todo, const json_t *project)
{
	rt_todo_emit("todo:deleted", todo, project, rt_todo_payload(todo, 1));
}

static void
hooks_project_updated(const json_t *project, const json_t *before)
{
	const char	*pid, *r[1];
	char		room[RT_ROOM_MAX], user[RT_ROOM_MAX];
	json_t		*now, *old, *m, *x;
	size_t		i, k;
	int		kept;

	if ((pid = json_string_value(json_object_get(project, "id"))) == NULL)
		return;

	(void)snprintf(room, sizeof(room), "project:%s", pid);
	r[0] = room;
	sio_broadcast(rt_nsp, r, 1, NULL, 0, "project:updated",
	    json_pack("[O]", project));

	/* Members taken off the project leave its room, on every worker. */
	now = json_object_get(project, "members");
	old = before != NULL ? json_object_get(before, "members") : NULL;
	json_array_foreach(old, i, m) {
		kept = 0;
		json_array_foreach(now, k, x) {
			if (json_equal(m, x))
				kept = 1;
		}
		if (kept || !json_is_string(m))
			continue;
		(void)snprintf(user, sizeof(user), "user:%s",
		    json_string_value(m));
		sio_sockets_leave(rt_nsp, user, room);
	}
}

static void
hooks_project_deleted(const json_t *project)
{
	const char	*pid;
	char		room[RT_ROOM_MAX];

	if ((pid = json_string_value(json_object_get(project, "id"))) == NULL)
		return;

	(void)snprintf(room, sizeof(room), "project:%s", pid);
	sio_sockets_leave(rt_nsp, room, room);
}
