/*
 * The cluster's Redis connections, hiredis 0.14's async API on Kore's
 * event loop.
 *
 * Every worker has a publisher connection; the owner worker
 * (CLUSTER_OWNER) has the one subscriber connection of the process too,
 * so that PUBSUB NUMSUB (the adapter's serverCount) counts the process
 * once. A subscribed connection takes nothing but (P)SUBSCRIBE, hence two.
 *
 * The glue (shared/docs/redis-adapter.md section 8): each connection is a
 * struct credis_conn that starts with a struct kore_event, registered
 * level-triggered (kore_platform_event_level_read/all) as hiredis's hooks
 * ask for reading and writing, removed on cleanup (`scheduled` says
 * whether it is in the epoll set: removing one that is not is fatal in
 * Kore). Kore ORs readiness into evt.flags and never clears it: the
 * handler does. The structs are static, never freed: an event still due
 * in the same epoll_wait() round for a connection that just went finds
 * ac NULL and does nothing.
 *
 * Redis down or restarted: a connection that fails or drops is made
 * again from a timer, 100 ms after, doubling to 5 s; the subscriber
 * subscribes again. The owner worker logs the outage once and the
 * recovery once. Meanwhile local sockets are served as ever, and what
 * is published waits in a queue bounded in messages and bytes
 * (REDIS_QUEUE_MAX, REDIS_QUEUE_BYTES: what hiredis still holds counts
 * too); past either bound a message is dropped and counted
 * (sio_stats.redis_dropped).
 *
 * Passwords are sent with AUTH and never logged.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <kore/kore.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include <stdlib.h>
#include <string.h>

#include "cluster.h"

#define CREDIS_SUB		0
#define CREDIS_PUB		1

/* Kore calls evt.handle without looking at the type: any unused one. */
#define CREDIS_EVENT_TYPE	0x52

#define CREDIS_BACKOFF_MIN	100
#define CREDIS_BACKOFF_MAX	5000

struct credis_conn {
	struct kore_event	evt;		/* first: Kore's event */
	int			role;
	int			fd;
	int			scheduled;
	int			rd;
	int			wr;
	int			up;		/* ready for commands */
	u_int64_t		backoff;
	struct kore_timer	*timer;
	redisAsyncContext	*ac;
};

/* A sender that wants to know when nobody got its message. */
struct credis_to {
	size_t			len;
	void			(*nobody)(u_int8_t, u_int64_t);
	u_int8_t		type;
	u_int64_t		id;
};

struct credis_msg {
	TAILQ_ENTRY(credis_msg)	list;
	size_t			clen;
	size_t			len;
	struct credis_to	*to;		/* or NULL */
	u_int8_t		data[];		/* channel, then payload */
};

static void	credis_connect(struct credis_conn *);
static void	credis_retry(struct credis_conn *);
static void	credis_timer(void *, u_int64_t);
static void	credis_handle(void *, int);
static void	credis_sched(struct credis_conn *);
static void	credis_add_read(void *);
static void	credis_del_read(void *);
static void	credis_add_write(void *);
static void	credis_del_write(void *);
static void	credis_cleanup(void *);
static void	credis_on_connect(const redisAsyncContext *, int);
static void	credis_on_disconnect(const redisAsyncContext *, int);
static void	credis_gone(struct credis_conn *, const char *);
static void	credis_ready(struct credis_conn *);
static void	credis_state(void);
static void	credis_auth_reply(redisAsyncContext *, void *, void *);
static void	credis_ping_reply(redisAsyncContext *, void *, void *);
static void	credis_pub_reply(redisAsyncContext *, void *, void *);
static void	credis_to_reply(redisAsyncContext *, void *, void *);
static void	credis_enqueue(const char *, size_t, const void *, size_t,
		    struct credis_to *);
static void	credis_sub_reply(redisAsyncContext *, void *, void *);
static void	credis_subscribe(const char *, int, void *);
static void	credis_send(const char *, size_t, const void *, size_t,
		    struct credis_to *);
static void	credis_flush(void);
static void	credis_cmd_reply(redisAsyncContext *, void *, void *);
static json_t	*credis_json(const redisReply *, int);

/* An application's command waiting for its reply. */
struct credis_cmd {
	sio_cluster_reply_fn	fn;
	void			*arg;
};

static struct credis_conn	credis_conns[2];
static int			credis_nconns;
static struct credis_conn	*credis_pub;
static int			credis_ok;	/* every connection up */
static int			credis_ever;	/* it was, once */
static int			credis_logged;	/* the outage is logged */

static char			*credis_host;
static int			 credis_port;
static char			*credis_user;
static char			*credis_pass;
static int			 credis_db;

static TAILQ_HEAD(, credis_msg)	credis_queue =
				    TAILQ_HEAD_INITIALIZER(credis_queue);
static size_t			credis_qmsgs;	/* queued or in hiredis */
static size_t			credis_qbytes;

/* In each worker: connect (subscriber too when sub is set). */
void
credis_init(const char *url, int sub)
{
	int		i;

	if (!cluster_url_parse(url, &credis_host, &credis_port, &credis_user,
	    &credis_pass, &credis_db))
		fatal("sio: REDIS_URL: expected redis://[:password@]host"
		    "[:port][/db]");

	credis_nconns = sub ? 2 : 1;
	credis_pub = &credis_conns[credis_nconns - 1];
	for (i = 0; i < credis_nconns; i++) {
		credis_conns[i].role = sub ? i : CREDIS_PUB;
		credis_conns[i].evt.type = CREDIS_EVENT_TYPE;
		credis_conns[i].evt.handle = credis_handle;
		credis_conns[i].backoff = CREDIS_BACKOFF_MIN;
		credis_connect(&credis_conns[i]);
	}
}

/* Whether every connection of this worker is up. */
int
credis_up(void)
{
	return (credis_ok);
}

int
sio_cluster_up(void)
{
	return (cluster_on && credis_ok);
}

/* sio.h: an application's command on this worker's publisher. */
int
sio_cluster_command(int argc, const char **argv, const size_t *argvlen,
    sio_cluster_reply_fn fn, void *arg)
{
	struct credis_cmd	*cmd;

	if (!cluster_on || credis_pub == NULL || !credis_pub->up ||
	    credis_pub->ac == NULL)
		return (0);

	cmd = sbuf_xcalloc(1, sizeof(*cmd));
	cmd->fn = fn;
	cmd->arg = arg;
	if (redisAsyncCommandArgv(credis_pub->ac, credis_cmd_reply, cmd, argc,
	    argv, argvlen) != REDIS_OK) {
		free(cmd);
		return (0);
	}
	return (1);
}

/* Another SUBSCRIBE on the subscriber, if it is connected now. */
void
credis_sub_add(const char *chan)
{
	if (credis_nconns == 2 && credis_conns[0].ac != NULL)
		credis_subscribe(chan, 0, credis_conns[0].ac);
}

static void
credis_cmd_reply(redisAsyncContext *ac, void *r, void *arg)
{
	struct credis_cmd	*cmd = arg;
	json_t			*j;

	(void)ac;
	j = r != NULL ? credis_json(r, 0) : NULL;
	if (cmd->fn != NULL)
		cmd->fn(j, cmd->arg);
	json_decref(j);
	free(cmd);
}

/* A reply as JSON (nested arrays up to a depth). */
static json_t *
credis_json(const redisReply *r, int depth)
{
	json_t		*a;
	size_t		 i;

	switch (r->type) {
	case REDIS_REPLY_STRING:
	case REDIS_REPLY_STATUS:
		return (json_stringn_nocheck(r->str, r->len));
	case REDIS_REPLY_INTEGER:
		return (json_integer(r->integer));
	case REDIS_REPLY_ARRAY:
		a = json_array();
		for (i = 0; depth < 8 && i < r->elements; i++)
			(void)json_array_append_new(a,
			    credis_json(r->element[i], depth + 1));
		return (a);
	case REDIS_REPLY_ERROR:
		return (json_pack("{s:s%}", "error", r->str, r->len));
	default:
		return (json_null());
	}
}

static void
credis_connect(struct credis_conn *c)
{
	redisAsyncContext	*ac;
	const char		*argv[3];
	size_t			 argvlen[3];
	char			 db[16];
	int			 argc;

	c->timer = NULL;
	ac = redisAsyncConnect(credis_host, credis_port);
	if (ac == NULL || ac->err) {
		credis_gone(c, ac != NULL ? ac->errstr : "out of memory");
		if (ac != NULL)
			redisAsyncFree(ac);
		credis_retry(c);
		return;
	}

	c->ac = ac;
	c->fd = ac->c.fd;
	c->scheduled = c->rd = c->wr = 0;
	c->evt.flags = 0;
	ac->data = c;
	ac->ev.data = c;
	ac->ev.addRead = credis_add_read;
	ac->ev.delRead = credis_del_read;
	ac->ev.addWrite = credis_add_write;
	ac->ev.delWrite = credis_del_write;
	ac->ev.cleanup = credis_cleanup;
	(void)redisAsyncSetConnectCallback(ac, credis_on_connect);
	(void)redisAsyncSetDisconnectCallback(ac, credis_on_disconnect);

	/* Queued at once: the first write completes the connect. */
	if (credis_pass != NULL) {
		argc = 0;
		argv[argc] = "AUTH";
		argvlen[argc++] = 4;
		if (credis_user != NULL) {
			argv[argc] = credis_user;
			argvlen[argc] = strlen(credis_user);
			argc++;
		}
		argv[argc] = credis_pass;
		argvlen[argc] = strlen(credis_pass);
		argc++;
		(void)redisAsyncCommandArgv(ac, credis_auth_reply, NULL, argc,
		    argv, argvlen);
	}
	if (credis_db != 0) {
		(void)snprintf(db, sizeof(db), "%d", credis_db);
		argv[0] = "SELECT";
		argvlen[0] = 6;
		argv[1] = db;
		argvlen[1] = strlen(db);
		(void)redisAsyncCommandArgv(ac, credis_auth_reply, NULL, 2,
		    argv, argvlen);
	}

	if (c->role == CREDIS_SUB) {
		cluster_subscriptions(credis_subscribe, ac);
	} else {
		argv[0] = "PING";
		argvlen[0] = 4;
		(void)redisAsyncCommandArgv(ac, credis_ping_reply, NULL, 1,
		    argv, argvlen);
	}
}

/* One (P)SUBSCRIBE on the subscriber (cluster_subscriptions()). */
static void
credis_subscribe(const char *chan, int pattern, void *arg)
{
	redisAsyncContext	*ac = arg;
	const char		*argv[2];
	size_t			 argvlen[2];

	argv[0] = pattern ? "PSUBSCRIBE" : "SUBSCRIBE";
	argvlen[0] = strlen(argv[0]);
	argv[1] = chan;
	argvlen[1] = strlen(chan);
	(void)redisAsyncCommandArgv(ac, credis_sub_reply, NULL, 2, argv,
	    argvlen);
}

static void
credis_retry(struct credis_conn *c)
{
	if (c->timer != NULL)
		return;
	c->timer = kore_timer_add(credis_timer, c->backoff, c,
	    KORE_TIMER_ONESHOT);
	c->backoff = MIN(c->backoff * 2, CREDIS_BACKOFF_MAX);
}

static void
credis_timer(void *arg, u_int64_t now)
{
	struct credis_conn	*c = arg;

	(void)now;
	c->timer = NULL;
	if (c->ac == NULL)
		credis_connect(c);
}

static void
credis_handle(void *arg, int eof)
{
	struct credis_conn	*c = arg;
	int			 flags;

	flags = c->evt.flags;
	c->evt.flags = 0;
	if (c->ac == NULL)
		return;

	if ((flags & KORE_EVENT_READ) || eof)
		redisAsyncHandleRead(c->ac);
	if (c->ac != NULL && (flags & KORE_EVENT_WRITE))
		redisAsyncHandleWrite(c->ac);
}

/* Register what hiredis wants now, level-triggered. */
static void
credis_sched(struct credis_conn *c)
{
	if (!c->rd && !c->wr) {
		if (c->scheduled) {
			kore_platform_disable_read(c->fd);
			c->scheduled = 0;
			c->evt.flags = 0;
		}
		return;
	}

	if (c->wr)
		kore_platform_event_level_all(c->fd, c);
	else
		kore_platform_event_level_read(c->fd, c);
	c->scheduled = 1;
}

static void
credis_add_read(void *arg)
{
	struct credis_conn	*c = arg;

	if (!c->rd) {
		c->rd = 1;
		credis_sched(c);
	}
}

static void
credis_del_read(void *arg)
{
	struct credis_conn	*c = arg;

	if (c->rd) {
		c->rd = 0;
		credis_sched(c);
	}
}

static void
credis_add_write(void *arg)
{
	struct credis_conn	*c = arg;

	if (!c->wr) {
		c->wr = 1;
		credis_sched(c);
	}
}

static void
credis_del_write(void *arg)
{
	struct credis_conn	*c = arg;

	if (c->wr) {
		c->wr = 0;
		credis_sched(c);
	}
}

/* hiredis is about to free the context and close its socket. */
static void
credis_cleanup(void *arg)
{
	struct credis_conn	*c = arg;

	c->rd = c->wr = 0;
	credis_sched(c);
	c->ac = NULL;
}

static void
credis_on_connect(const redisAsyncContext *ac, int status)
{
	struct credis_conn	*c = ac->data;

	/* On failure hiredis frees the context after this returns. */
	if (status != REDIS_OK) {
		credis_gone(c, ac->errstr);
		c->ac = NULL;
		credis_retry(c);
	}
}

static void
credis_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct credis_conn	*c = ac->data;

	(void)status;
	credis_gone(c, ac->err ? ac->errstr : "closed");
	c->ac = NULL;
	credis_retry(c);
}

/* AUTH or SELECT: an error ends the connection (retried). */
static void
credis_auth_reply(redisAsyncContext *ac, void *r, void *arg)
{
	redisReply	*reply = r;

	(void)arg;
	if (reply == NULL || reply->type != REDIS_REPLY_ERROR)
		return;
	if (cluster_owner() && !credis_logged) {
		/* The reply names no secret (ERR invalid password...). */
		kore_log(LOG_WARNING, "redis: %s refused: %.*s",
		    credis_pass != NULL ? "AUTH or SELECT" : "SELECT",
		    (int)MIN(reply->len, 200), reply->str);
	}
	redisAsyncDisconnect(ac);
}

static void
credis_ping_reply(redisAsyncContext *ac, void *r, void *arg)
{
	redisReply	*reply = r;

	(void)arg;
	if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
		return;
	credis_ready(ac->data);
}

static void
credis_pub_reply(redisAsyncContext *ac, void *r, void *arg)
{
	size_t		len = (size_t)(uintptr_t)arg;

	(void)ac;
	(void)r;
	credis_qmsgs--;
	credis_qbytes -= len;
}

/* The reply to a PUBLISH whose sender wants to know if nobody got it. */
static void
credis_to_reply(redisAsyncContext *ac, void *r, void *arg)
{
	redisReply		*reply = r;
	struct credis_to	*to = arg;

	(void)ac;
	credis_qmsgs--;
	credis_qbytes -= to->len;
	if (reply != NULL && reply->type == REDIS_REPLY_INTEGER &&
	    reply->integer == 0)
		to->nobody(to->type, to->id);
	free(to);
}

/* Every message of the subscriber, (p)subscribe confirmations too. */
static void
credis_sub_reply(redisAsyncContext *ac, void *r, void *arg)
{
	redisReply	*reply = r, **e;
	const char	*kind;

	(void)arg;
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements < 3)
		return;
	e = reply->element;
	if (e[0]->type != REDIS_REPLY_STRING)
		return;
	kind = e[0]->str;

	if (!strcmp(kind, "pmessage") && reply->elements == 4 &&
	    e[2]->type == REDIS_REPLY_STRING &&
	    e[3]->type == REDIS_REPLY_STRING) {
		cluster_recv(e[2]->str, e[2]->len, (u_int8_t *)e[3]->str,
		    e[3]->len);
	} else if (!strcmp(kind, "message") &&
	    e[1]->type == REDIS_REPLY_STRING &&
	    e[2]->type == REDIS_REPLY_STRING) {
		cluster_recv(e[1]->str, e[1]->len, (u_int8_t *)e[2]->str,
		    e[2]->len);
	} else if (!strcmp(kind, "subscribe") ||
	    !strcmp(kind, "psubscribe")) {
		credis_ready(ac->data);
	}
}

static void
credis_ready(struct credis_conn *c)
{
	if (c->up)
		return;
	c->up = 1;
	c->backoff = CREDIS_BACKOFF_MIN;
	credis_state();
	if (c->role == CREDIS_PUB) {
		credis_flush();
		if (cluster_owner())
			cluster_presence_ready();
	}
}

static void
credis_gone(struct credis_conn *c, const char *why)
{
	c->up = 0;
	credis_state();

	/* Once per outage (and once if it never came up), owner only. */
	if (credis_logged || !cluster_owner())
		return;
	credis_logged = 1;
	if (credis_ever) {
		kore_log(LOG_WARNING, "redis: lost %s:%d (%s): serving this "
		    "node's sockets alone, reconnecting", credis_host,
		    credis_port, why != NULL ? why : "error");
	} else {
		kore_log(LOG_WARNING, "redis: cannot reach %s:%d (%s): "
		    "serving this node's sockets alone, retrying",
		    credis_host, credis_port, why != NULL ? why : "error");
	}
}

static void
credis_state(void)
{
	int		i, ok;

	ok = 1;
	for (i = 0; i < credis_nconns; i++)
		ok = ok && credis_conns[i].up;
	if (ok == credis_ok)
		return;
	credis_ok = ok;
	if (cluster_owner())
		SIO_STAT_SET(redis_connected, (u_int64_t)ok);
	if (!ok)
		return;

	if (cluster_owner()) {
		if (!credis_ever) {
			kore_log(LOG_NOTICE, "redis: connected to %s:%d, "
			    "cluster prefix %s, node %s", credis_host,
			    credis_port, cluster_prefix(),
			    sio_cluster_node_id());
		} else if (credis_logged) {
			kore_log(LOG_NOTICE, "redis: %s:%d is back, "
			    "resubscribed", credis_host, credis_port);
		}
	}
	credis_ever = 1;
	credis_logged = 0;
}

/*
 * Whether a command can go on the publisher now (it is up, and hiredis
 * is not tearing the connection down: then it refuses commands).
 */
int
credis_command_ok(void)
{
	return (credis_pub != NULL && credis_pub->up &&
	    credis_pub->ac != NULL &&
	    !(credis_pub->ac->c.flags & (REDIS_DISCONNECTING |
	    REDIS_FREEING)));
}

/*
 * A command of argc C strings on the publisher, now, its reply to fn
 * (may be NULL) with arg; 1 if sent. Nothing is queued: a command while
 * Redis is down is not sent (0), and fn is not called. A command sent
 * gets its reply, or NULL when the connection goes first.
 */
int
credis_command(credis_reply_fn fn, void *arg, int argc, const char **argv)
{
	size_t		*len;
	int		 i, ok;

	if (!credis_command_ok())
		return (0);
	len = sbuf_xcalloc((size_t)argc, sizeof(*len));
	for (i = 0; i < argc; i++)
		len[i] = strlen(argv[i]);
	ok = redisAsyncCommandArgv(credis_pub->ac, fn, arg, argc, argv,
	    len) == REDIS_OK;
	free(len);
	return (ok);
}

/*
 * PUBLISH chan payload, now when the publisher is up, else when it is
 * again; dropped (and counted) past the queue's bounds.
 */
void
credis_publish(const char *chan, size_t clen, const void *p, size_t len)
{
	credis_enqueue(chan, clen, p, len, NULL);
}

/*
 * The same, for a message that is worth nothing later (a relayed
 * request): if the PUBLISH reaches no subscriber, or Redis is down, or
 * the queue is full, nobody(type, id) is called, from the reply or at
 * once. (One lost with the connection says nothing: the sender has a
 * timeout for that.)
 */
void
credis_publish_to(const void *chan, size_t clen, const void *p, size_t len,
    void (*nobody)(u_int8_t, u_int64_t), u_int8_t type, u_int64_t id)
{
	struct credis_to	*to;

	to = sbuf_xmalloc(sizeof(*to));
	to->len = len;
	to->nobody = nobody;
	to->type = type;
	to->id = id;
	credis_enqueue(chan, clen, p, len, to);
}

static void
credis_enqueue(const char *chan, size_t clen, const void *p, size_t len,
    struct credis_to *to)
{
	struct credis_msg	*m;

	if (credis_qmsgs + 1 > sio_conf.redis_queue_max ||
	    credis_qbytes + len > sio_conf.redis_queue_bytes) {
		SIO_STAT_ADD(redis_dropped, 1);
		if (to != NULL) {
			to->nobody(to->type, to->id);
			free(to);
		}
		return;
	}

	/* What must be answered now is not kept for later: nobody gets it. */
	if (to != NULL && !(credis_pub != NULL && credis_pub->up &&
	    credis_pub->ac != NULL)) {
		to->nobody(to->type, to->id);
		free(to);
		return;
	}

	if (TAILQ_EMPTY(&credis_queue) && credis_pub != NULL &&
	    credis_pub->up && credis_pub->ac != NULL) {
		credis_send(chan, clen, p, len, to);
		return;
	}

	m = sbuf_xmalloc(sizeof(*m) + clen + len);
	m->clen = clen;
	m->len = len;
	m->to = to;
	memcpy(m->data, chan, clen);
	memcpy(m->data + clen, p, len);
	TAILQ_INSERT_TAIL(&credis_queue, m, list);
	credis_qmsgs++;
	credis_qbytes += len;
}

static void
credis_send(const char *chan, size_t clen, const void *p, size_t len,
    struct credis_to *to)
{
	struct credis_conn	*c;
	const char		*argv[3];
	size_t			 argvlen[3];

	c = credis_pub;
	argv[0] = "PUBLISH";
	argvlen[0] = 7;
	argv[1] = chan;
	argvlen[1] = clen;
	argv[2] = p;
	argvlen[2] = len;
	if (redisAsyncCommandArgv(c->ac, to != NULL ? credis_to_reply :
	    credis_pub_reply, to != NULL ? (void *)to : (void *)(uintptr_t)len,
	    3, argv, argvlen) != REDIS_OK) {
		SIO_STAT_ADD(redis_dropped, 1);
		free(to);
		return;
	}
	credis_qmsgs++;
	credis_qbytes += len;
	SIO_STAT_ADD(redis_published, 1);
}

/* The publisher is up again: what waited goes, in order. */
static void
credis_flush(void)
{
	struct credis_msg	*m;

	while ((m = TAILQ_FIRST(&credis_queue)) != NULL) {
		TAILQ_REMOVE(&credis_queue, m, list);
		credis_qmsgs--;
		credis_qbytes -= m->len;
		credis_send((const char *)m->data, m->clen,
		    m->data + m->clen, m->len, m->to);
		free(m);
	}
}
