/*
 * realtime/admin.h: what the parts of the Socket.IO Admin UI's namespace
 * share: admin.c (the "/admin" namespace, credentials), admin_act.c (the
 * UI's actions), admin_feed.c (what the UI is told, from every worker)
 * and admin_view.c (in admin-ui's shapes). realtime.h declares what the
 * rest of korio calls.
 */

#ifndef KORIO_ADMIN_H
#define KORIO_ADMIN_H

#include <sys/types.h>
#include <sys/queue.h>

#include <jansson.h>

#include "netaddr.h"

struct sio_nsp;
struct sio_socket;

/*
 * An admin socket (its udata), from its acceptance on. Until every
 * worker has sent what it has (admin_feed.c), it is syncing: what the
 * workers say after their answer waits in held; then it is live.
 */
struct admin_sock {
	TAILQ_ENTRY(admin_sock)	list;
	struct sio_socket	*so;
	int			live;
	u_int64_t		reqid;
	u_int64_t		replied;	/* bit w - 1: w answered */
	u_int64_t		deadline;	/* live by then in any case */
	json_t			*sockets;	/* all_sockets, as they come */
	json_t			*held;		/* [[event, args], ...] */
};

/* admin.c */
extern struct sio_nsp	*admin_nsp;

/* admin_act.c */
void	admin_act_init(void);

/* admin_feed.c */
void	admin_feed_init(void);
void	admin_feed_add(struct admin_sock *);
void	admin_feed_remove(struct admin_sock *);

/* admin_view.c */
void	admin_view_init(void);
void	admin_view_client(struct sio_socket *, struct netaddr *);
json_t	*admin_view_socket(struct sio_socket *);
json_t	*admin_view_date(void);
json_t	*admin_view_stats(void);
void	admin_view_count(const char *, const char *, u_int64_t);
void	admin_view_reset(void);

#endif /* !KORIO_ADMIN_H */
