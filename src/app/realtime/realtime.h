/*
 * realtime/realtime.h: the realtime half of korio, what its files share:
 * authenticated sockets and rooms (realtime.c), the emits of the
 * post-write hooks (hooks.c, implementing hooks.h), presence across
 * workers (presence.c). It reaches the plugin through sio.h only.
 */

#ifndef KORIO_REALTIME_H
#define KORIO_REALTIME_H

#include "store/store.h"

struct sio_nsp;
struct sio_socket;

/* The longest room name korio makes: "project:" and an id. */
#define RT_ROOM_MAX		(STORE_OID_LEN + 16)

/* App message ids on Kore's bus (the plugin takes the ones below). */
#define RT_MSG_PRESENCE		(SIO_MSG_APP_FIRST + 0)

/* realtime.c */
extern struct sio_nsp	*rt_nsp;

void	realtime_init(void);

/* presence.c */
void	presence_init(struct sio_nsp *);
void	presence_socket_added(const char *, struct sio_socket *);
void	presence_socket_removed(const char *);

#endif
