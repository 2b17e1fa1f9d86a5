/*
 * The realtime half of korio: authenticated sockets, rooms, the emits of
 * the post-write hooks (hooks.h), presence across workers.
 */

#ifndef KORIO_REALTIME_H
#define KORIO_REALTIME_H

struct sio_nsp;
struct sio_socket;

/* App message ids on Kore's bus (the plugin takes the ones below). */
#define RT_MSG_PRESENCE		(SIO_MSG_APP_FIRST + 0)

/* realtime.c */
void	realtime_init(void);

/* presence.c */
void	presence_init(struct sio_nsp *);
void	presence_socket_added(const char *, struct sio_socket *);
void	presence_socket_removed(const char *);

#endif
