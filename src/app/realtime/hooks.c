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
#include "realtime/realtime.h"

static void	hooks_todo_created(const json_t *, const json_t *);
static void	hooks_todo_updated(const json_t *, const json_t *);
static void	hooks_todo_deleted(const json_t *, const json_t *);
static void	hooks_project_updated(const json_t *, const json_t *);
static void	hooks_project_deleted(const json_t *);
static void	rt_todo_emit(const char *, const json_t *, const json_t *,
		    json_t *);
static json_t	*rt_todo_payload(const json_t *, int);

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
	case HOOK_NONE:
		break;
	}
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
