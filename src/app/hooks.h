/*
 * Post-write hooks: the one seam between the REST side (http/) and the
 * realtime side (realtime/). The REST side calls them, the realtime side
 * (realtime/hooks.c) implements them; neither includes the other's
 * headers.
 *
 * What exists. One event per write that others may see:
 *   HOOK_TODO_CREATED	doc: the todo, aux: its project (NULL if none)
 *   HOOK_TODO_UPDATED	doc: the todo after, aux: its project;
 *			before: the todo before, before_aux: its project
 *			then (NULL if none)
 *   HOOK_TODO_DELETED	doc: the todo as it was, aux: its project
 *   HOOK_PROJECT_CREATED	doc: the project, aux: NULL
 *   HOOK_PROJECT_UPDATED	doc: the project after, aux: before
 *   HOOK_PROJECT_DELETED	doc: the project as it was, aux: NULL;
 *			todos: an array of its todos as they were
 * Documents are in the REST shape (with "id", as the REST answer has
 * them); hooks_run() borrows them: a hook that keeps one takes its own
 * reference.
 *
 * When they run. On the worker's event loop, after the write is durable
 * (the store call returned STORE_OK on a pool thread), never on error;
 * once per write, after its answer was queued, or when the request is
 * freed if the client went away first (the write still counts). Between
 * hooks_defer_begin() and hooks_defer_end() the events go to the other
 * workers at once and to this worker's sockets at the end: the REST side
 * sends its answer in between, so that the client's next write, on
 * whichever worker, can't overtake them.
 */

#ifndef KORIO_HOOKS_H
#define KORIO_HOOKS_H

#include <jansson.h>

enum hook_kind {
	HOOK_NONE = 0,
	HOOK_TODO_CREATED,
	HOOK_TODO_UPDATED,
	HOOK_TODO_DELETED,
	HOOK_PROJECT_CREATED,
	HOOK_PROJECT_UPDATED,
	HOOK_PROJECT_DELETED
};

/* One write's event, as the REST side records it for later. */
struct hook_event {
	enum hook_kind	 kind;
	json_t		*doc;
	json_t		*aux;
	json_t		*before;
	json_t		*before_aux;
	json_t		*todos;
};

/* realtime/hooks.c */
void	hooks_defer_begin(void);
void	hooks_defer_end(void);
void	hooks_run(const struct hook_event *);

#endif /* !KORIO_HOOKS_H */
