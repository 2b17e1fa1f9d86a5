/*
 * realtime/realtime.h: the realtime half of korio, what its files share:
 * authenticated sockets and rooms (realtime.c), the emits of the
 * post-write hooks (hooks.c, implementing hooks.h), presence across
 * workers (presence.c), the event budget (limit.c), the sweep that
 * re-checks every socket's session (revalidate.c). It reaches the plugin through sio.h only.
 */

#ifndef KORIO_REALTIME_H
#define KORIO_REALTIME_H

#include "store/store.h"

struct sio_nsp;
struct sio_socket;

/* The longest room name korio makes: "project:" and an id. */
#define RT_ROOM_MAX		(STORE_OID_LEN + 16)

/* An accepted socket's state (its udata). */
struct rt_sock {
	char		user[STORE_OID_LEN + 1];
	int64_t		exp;		/* its access token's, epoch s */
};

/* App message ids on Kore's bus (the plugin takes the ones below). */
#define RT_MSG_PRESENCE		(SIO_MSG_APP_FIRST + 0)

/* realtime.c */
extern struct sio_nsp	*rt_nsp;

void	realtime_init(void);

/* revalidate.c */
void	revalidate_init(u_int64_t);

/* presence.c */
void	presence_init(struct sio_nsp *);
void	presence_socket_added(const char *, struct sio_socket *);
void	presence_socket_removed(const char *);

#endif
