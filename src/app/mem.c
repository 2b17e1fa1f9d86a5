/*
 * The app's one way to allocate what it must have: libc's allocator (so
 * that the ASan build sees every block) and, as Kore's own kore_malloc()
 * does, the end of the worker when memory runs out. The pure modules
 * (auth/token*.c, store/) return an error instead.
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <stdlib.h>
#include <string.h>

#include "app.h"

void *
mem_malloc(size_t len)
{
	void	*p;

	if ((p = malloc(len)) == NULL)
		fatal("out of memory (%zu bytes)", len);

	return (p);
}

void *
mem_calloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n, size)) == NULL)
		fatal("out of memory (%zu of %zu bytes)", n, size);

	return (p);
}

char *
mem_strdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("out of memory (%zu bytes)", strlen(s) + 1);

	return (p);
}
