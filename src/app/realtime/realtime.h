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

struct rt_held;

/* An accepted socket's state (its udata). */
struct rt_sock {
	char		user[STORE_OID_LEN + 1];
	int64_t		exp;		/* its access token's, epoch s */
	int		admin;		/* the stored user's flag */
	/* Terreno's subscriptions (sync.c): counts, queries by queryId. */
	u_int32_t	nmodel;
	u_int32_t	ndocument;
	u_int32_t	nquery;
	json_t		*queries;
	/* Counted by presence.c (realtime.c). */
	int		present;
	/* Events held while one of its own is still at work (realtime.c). */
	int		busy;
	struct rt_held	*held;
	size_t		nheld;
};

struct sio_event;

/* App message ids on Kore's bus (the plugin takes the ones below). */
#define RT_MSG_PRESENCE		(SIO_MSG_APP_FIRST + 0)
#define RT_MSG_ADMIN_FEED	(SIO_MSG_APP_FIRST + 1)
#define RT_MSG_ADMIN_ACTION	(SIO_MSG_APP_FIRST + 2)

/* realtime.c */
extern struct sio_nsp	*rt_nsp;

void	realtime_init(void);

void	rt_release(struct sio_socket *);
int	rt_budget(struct sio_socket *);

/* sync.c */
void	sync_init(size_t);
void	sync_socket_free(struct rt_sock *);
json_t	*sync_socket_save(const struct rt_sock *);
void	sync_socket_restore(struct rt_sock *, const json_t *);
void	sync_subscribe_model(struct sio_socket *, const struct sio_event *);
void	sync_unsubscribe_model(struct sio_socket *, const struct sio_event *);
void	sync_subscribe_document(struct sio_socket *,
	    const struct sio_event *);
void	sync_unsubscribe_document(struct sio_socket *,
	    const struct sio_event *);
int	sync_subscribe_query(struct sio_socket *, const struct sio_event *);
void	sync_unsubscribe_query(struct sio_socket *, const struct sio_event *);
void	sync_emit(const char *, const char *, const char *, const json_t *,
	    const json_t *, const json_t *, const json_t *, const json_t *);

/* revalidate.c */
void	revalidate_init(u_int64_t);

/* admin.c: the Socket.IO Admin UI's namespace, when it is on */
void	admin_parent_init(void);
void	admin_init(void);

/* presence.c */
void	presence_init(struct sio_nsp *);
void	presence_socket_added(const char *, struct sio_socket *);
void	presence_socket_removed(const char *);

#endif
