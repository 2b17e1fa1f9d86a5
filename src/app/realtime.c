/*
 * The realtime half: what REST writes mean for connected sockets. Filled in
 * by the realtime issue; until then the hooks are no-ops.
 */

#include "hooks.h"

void
hooks_todo_created(const json_t *todo, const json_t *project)
{
	(void)todo;
	(void)project;
}

void
hooks_todo_updated(const json_t *todo, const json_t *project)
{
	(void)todo;
	(void)project;
}

void
hooks_todo_deleted(const json_t *todo, const json_t *project)
{
	(void)todo;
	(void)project;
}

void
hooks_project_updated(const json_t *project, const json_t *before)
{
	(void)project;
	(void)before;
}

void
hooks_project_deleted(const json_t *project)
{
	(void)project;
}
