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

#endif /* !SIO_INTERNAL_H */
