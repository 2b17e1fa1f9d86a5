/*
 * cluster/cluster.h: the Redis adapter's files share this (cluster.c,
 * cluster_redis.c, cluster_recv.c, cluster_answer.c, cluster_presence.c);
 * outside cluster/ only sio.c (set-up), server_emit.c and
 * server_socket.c (the hooks of a broadcast, a socketsLeave and an
 * accepted socket) include it. Each of
 * those hooks is one test of cluster_on, so the cluster costs nothing
 * when REDIS_URL is unset.
 *
 * The wire format is @socket.io/redis-adapter 8.x's classic one
 * (createAdapter) and @socket.io/redis-emitter 5.x's: see
 * shared/docs/redis-adapter.md. cluster_codec.[ch] turns its msgpack
 * into korio's packets and back.
 */

#ifndef SIO_CLUSTER_H
#define SIO_CLUSTER_H

#include <sys/types.h>

#include "sio_internal.h"
#include "codec/sbuf.h"
#include "cluster_url.h"

/* socket.io-adapter's uid2(6): per namespace, stable for the process. */
#define CLUSTER_UID_LEN		6
/* How long the owner worker waits for the others' parts of an answer. */
#define CLUSTER_GATHER_MS	2000
/* The worker that holds the subscriber connection. */
#define CLUSTER_OWNER		1

struct sio_nsp;
struct sio_frame;
struct redisAsyncContext;

/* A command's reply (a redisReply, NULL when it failed), and its arg. */
typedef void	(*credis_reply_fn)(struct redisAsyncContext *, void *,
		    void *);

/* cluster.c */
extern int		 cluster_on;
extern struct sio_cluster_stats	*cluster_stats;

void		 cluster_parent_init(void);
void		 cluster_random_chars(char *, size_t);
void		 cluster_init(void);
const char	*cluster_uid(const struct sio_nsp *);
const char	*cluster_prefix(void);
int		 cluster_owner(void);
void		 cluster_channel(struct sbuf *, const char *,
		    const struct sio_nsp *, const char *);
void		 cluster_publish_broadcast(struct sio_nsp *,
		    const char *const *, size_t, const char *const *, size_t,
		    struct sio_frame **, size_t);
void		 cluster_publish_leave(struct sio_nsp *, const char *,
		    const char *);
void		 cluster_publish_filtered(struct sio_nsp *, const u_int8_t *,
		    size_t);
void		 cluster_socket_accepted(struct sio_socket *);
void		 cluster_bad(const char *, const char *);

/* cluster_redis.c: the subscriber and publisher connections */
void		 credis_init(const char *, int);
void		 credis_publish(const char *, size_t, const void *, size_t);
void		 credis_publish_to(const void *, size_t, const void *, size_t,
		    void (*)(u_int8_t, u_int64_t), u_int8_t, u_int64_t);
int		 credis_up(void);
int		 credis_command_ok(void);
int		 credis_command(credis_reply_fn, void *, int, const char **);
void		 credis_sub_add(const char *);

/* cluster_recv.c: what the subscriber gets */
void		 cluster_recv(const char *, size_t, const u_int8_t *, size_t);
void		 cluster_subscriptions(void (*)(const char *, int, void *),
		    void *);

/* cluster_relay.c: the Engine.IO relay between korio nodes */
void		 cluster_relay_parent_init(void);
void		 cluster_relay_init(void);
void		 cluster_relay_channel(struct sbuf *);
void		 cluster_relay_recv(const u_int8_t *, size_t);

/* cluster_presence.c: presence across the cluster (owner worker) */
void		 cluster_presence_parent_init(void);
void		 cluster_presence_ready(void);
void		 cluster_presence_changed(const u_int8_t *, size_t);
void		 cluster_presence_channel(struct sbuf *);

/* cluster_answer.c: requests answered, gathered from every worker */
void		 cluster_answer_init(void);
void		 cluster_answer(struct sio_nsp *, const u_int8_t *, size_t);

#endif /* !SIO_CLUSTER_H */
