/*
 * Post-write hooks: the one place where the REST half tells the realtime
 * half that a document changed. Each hook runs on the worker's event loop
 * after the write is durable (the store call returned STORE_OK in a pool
 * thread), never on error. Documents are in the REST shape (with "id");
 * they are borrowed: a hook that keeps one takes its own reference.
 *
 * Between hooks_defer_begin() and hooks_defer_end() the events go to the
 * other workers at once and to this worker's sockets at the end: the REST
 * layer sends its answer in between (see rest_finish()).
 */

#ifndef KORIO_HOOKS_H
#define KORIO_HOOKS_H

#include <jansson.h>

/* realtime.c */
void	hooks_defer_begin(void);
void	hooks_defer_end(void);
void	hooks_todo_created(const json_t *todo, const json_t *project);
void	hooks_todo_updated(const json_t *todo, const json_t *project);
void	hooks_todo_deleted(const json_t *todo, const json_t *project);
void	hooks_project_updated(const json_t *project, const json_t *before);
void	hooks_project_deleted(const json_t *project);

#endif
