/*
 * sio_internal.h: what every layer of the plugin shares (sio.c, bus.c,
 * engine/, server/): the configuration sio_init() was given. Nothing
 * outside src/sio includes it.
 */

#ifndef SIO_INTERNAL_H
#define SIO_INTERNAL_H

#include "sio.h"

/* sio.c */
extern struct sio_config	sio_conf;

void	sio_log(int, const char *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

#endif /* !SIO_INTERNAL_H */
