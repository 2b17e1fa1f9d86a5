/*
 * drain.h: the graceful drain on SIGTERM (drain.c).
 */

#ifndef KORIO_DRAIN_H
#define KORIO_DRAIN_H

void	drain_parent_init(void);
int	drain_active(void);
int	drain_teardown(void);

#endif
