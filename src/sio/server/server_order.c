/*
 * One order of broadcasts on every worker.
 *
 * A broadcast (and a socketsLeave) is fanned out by each worker to its own
 * sockets: the worker that makes it at once, the others when the bus
 * message comes (through Kore's parent). Without more, two broadcasts
 * made on two workers one after the other could reach a worker's sockets
 * the other way round: a client that posted A, got its answer and posted
 * B on another worker could see B's event before A's on the sockets of
 * the second worker (B fanned out locally while A was still on its way).
 *
 * So every broadcast takes the next number of one counter that all
 * workers share (memory mapped by the parent before the workers fork,
 * sio_parent_init()), and each worker fans broadcasts out strictly in
 * that order: one that comes early waits for those before it. A number
 * that never comes (its worker died between taking it and sending) is
 * given up on after SIO_ORDER_GAP_MS, with a log line.
 *
 * On the bus a numbered message starts with its head (server_order_head()):
 * the number, then when the broadcast was made (sio_stats_now()), from
 * which each worker tells how long its own fan-out took (stats.c).
 *
 * With connection-state recovery on, what is fanned out is logged too
 * (server_recover_log()), and server_order_fanout() fans a logged message
 * out once more, to one socket.
 *
 * Between sio_defer_begin() and sio_defer_end() nothing is fanned out
 * here (the other workers still get the messages at once): a REST write
 * answers its client in between. Sends to one socket and room changes run
 * what is due first (server_order_run()), so that this worker's own sends
 * keep the order they were made in.
 */

#include <sys/types.h>
#include <sys/mman.h>

#include <kore/kore.h>

#include <stdlib.h>
#include <string.h>

#include "server.h"

#define SIO_ORDER_GAP_MS	100

/*
 * A numbered message waiting for its turn: the bytes of one from the bus,
 * or a broadcast of this worker's own, kept as it was made (local).
 */
struct order_entry {
	TAILQ_ENTRY(order_entry)	list;
	u_int64_t			seq;
	u_int64_t			made;
	u_int64_t			since;
	u_int8_t			type;
	struct server_bcast		*local;
	size_t				len;
	u_int8_t			data[];
};

TAILQ_HEAD(order_list, order_entry);

static void	order_deliver(struct order_entry *);
static void	order_insert(struct order_entry *);
static void	order_put(u_int64_t, u_int64_t, u_int8_t, const u_int8_t *,
		    size_t);
static void	order_recv(u_int8_t, const u_int8_t *, size_t);
static void	order_recv_broadcast(u_int16_t, const u_int8_t *, size_t);
static void	order_recv_leave(u_int16_t, const u_int8_t *, size_t);
static void	order_recv_filtered(u_int16_t, const u_int8_t *, size_t);

/* The shared counter: the next number a broadcast takes. */
static volatile u_int64_t	*order_shared = NULL;
static u_int64_t		 order_local;
static u_int64_t		 order_next;	/* to fan out next, here */
static struct order_list	 order_queue =
				    TAILQ_HEAD_INITIALIZER(order_queue);
static int			 order_defer;
static int			 order_running;

/* From sio_parent_init(): the counter the workers will share. */
void
server_order_parent_init(void)
{
	void	*p;

	p = mmap(NULL, sizeof(u_int64_t), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fatal("sio_parent_init: mmap: %s", errno_s);
	order_shared = p;
	*order_shared = 0;
}

/* In each worker, from server_init(). */
void
server_order_init(void)
{
	if (order_shared == NULL && worker_count > 1)
		fatal("sio: call sio_parent_init() in kore_parent_configure()");

	bus_register(SIO_MSG_BROADCAST, order_recv_broadcast);
	bus_register(SIO_MSG_SOCKETS_LEAVE, order_recv_leave);
	bus_register(SIO_MSG_FILTERED, order_recv_filtered);

	order_next = order_shared != NULL ?
	    __atomic_load_n(order_shared, __ATOMIC_SEQ_CST) : 0;
}

/* The number this worker fans out next (what came before is done). */
u_int64_t
server_order_next(void)
{
	return (order_next);
}

/* The number of a new broadcast. */
u_int64_t
server_order_take(void)
{
	if (order_shared == NULL)
		return (order_local++);

	return (__atomic_fetch_add(order_shared, 1, __ATOMIC_SEQ_CST));
}

/* The head of a numbered message made now: its number, the time. */
void
server_order_head(struct sbuf *b, u_int64_t seq)
{
	u_int64_t	made;

	made = sio_stats_now();
	sbuf_append(b, &seq, sizeof(seq));
	sbuf_append(b, &made, sizeof(made));
}

/*
 * A numbered message made here (a socketsLeave, a filtered broadcast): d
 * is the message without its head, copied. Fanned out now if it is its
 * turn.
 */
void
server_order_put(u_int64_t seq, u_int8_t type, const u_int8_t *d,
    size_t len)
{
	order_put(seq, sio_stats_now(), type, d, len);
}

/* A numbered message made at made (here or on another worker). */
static void
order_put(u_int64_t seq, u_int64_t made, u_int8_t type, const u_int8_t *d,
    size_t len)
{
	struct order_entry	*e;

	e = sbuf_xmalloc(sizeof(*e) + len);
	e->seq = seq;
	e->made = made;
	e->type = type;
	e->local = NULL;
	e->len = len;
	memcpy(e->data, d, len);
	order_insert(e);
}

/* A broadcast made here; the entry takes b over. */
void
server_order_put_local(u_int64_t seq, struct server_bcast *b)
{
	struct order_entry	*e;

	e = sbuf_xmalloc(sizeof(*e));
	e->seq = seq;
	e->made = sio_stats_now();
	e->type = SIO_MSG_BROADCAST;
	e->local = b;
	e->len = 0;
	order_insert(e);
}

static void
order_insert(struct order_entry *e)
{
	struct order_entry	*at;

	e->since = kore_time_ms();

	/* Mostly in order: look from the end. */
	TAILQ_FOREACH_REVERSE(at, &order_queue, order_list, list) {
		if (at->seq < e->seq)
			break;
	}
	if (at == NULL)
		TAILQ_INSERT_HEAD(&order_queue, e, list);
	else
		TAILQ_INSERT_AFTER(&order_queue, at, e, list);

	server_order_run();
}

static void
order_recv_broadcast(u_int16_t src, const u_int8_t *d, size_t len)
{
	(void)src;
	order_recv(SIO_MSG_BROADCAST, d, len);
}

static void
order_recv_leave(u_int16_t src, const u_int8_t *d, size_t len)
{
	(void)src;
	order_recv(SIO_MSG_SOCKETS_LEAVE, d, len);
}

static void
order_recv_filtered(u_int16_t src, const u_int8_t *d, size_t len)
{
	(void)src;
	order_recv(SIO_MSG_FILTERED, d, len);
}

/* A numbered message from the bus: its head, then the message. */
static void
order_recv(u_int8_t type, const u_int8_t *d, size_t len)
{
	u_int64_t	seq, made;

	if (len < SERVER_ORDER_HEAD)
		fatal("sio: short numbered message %u", type);
	memcpy(&seq, d, sizeof(seq));
	memcpy(&made, d + sizeof(seq), sizeof(made));
	order_put(seq, made, type, d + SERVER_ORDER_HEAD,
	    len - SERVER_ORDER_HEAD);
}

/*
 * Fan out what is due, in order (not inside sio_defer_begin/end). A fan-out
 * can close a socket, whose handlers may broadcast: that waits for the
 * fan-out under way, in the loop below.
 */
void
server_order_run(void)
{
	struct order_entry	*e;

	if (order_running)
		return;
	order_running = 1;

	while (order_defer == 0 && (e = TAILQ_FIRST(&order_queue)) != NULL &&
	    e->seq <= order_next) {
		TAILQ_REMOVE(&order_queue, e, list);
		/* Lower than due: a number given up on came after all. */
		if (e->seq == order_next)
			order_next++;
		order_deliver(e);
		free(e);
	}

	order_running = 0;
}

/* Give up on a number that did not come in time. */
void
server_order_tick(u_int64_t now)
{
	struct order_entry	*e;

	if ((e = TAILQ_FIRST(&order_queue)) == NULL || e->seq <= order_next ||
	    now - e->since < SIO_ORDER_GAP_MS)
		return;

	kore_log(LOG_WARNING, "sio: broadcasts %llu to %llu did not come from "
	    "another worker in %d ms, going on without them",
	    (unsigned long long)order_next, (unsigned long long)e->seq - 1,
	    SIO_ORDER_GAP_MS);
	order_next = e->seq;
	server_order_run();
}

void
sio_defer_begin(void)
{
	order_defer++;
}

void
sio_defer_end(void)
{
	if (--order_defer == 0)
		server_order_run();
}

static void
order_deliver(struct order_entry *e)
{
	if (e->local != NULL) {
		server_bcast_deliver(e->local);
		sio_stats_fanout_done(e->made);
		return;
	}

	server_order_fanout(e->seq, e->type, e->data, e->len, NULL);
	if (e->type != SIO_MSG_SOCKETS_LEAVE)
		sio_stats_fanout_done(e->made);
	server_recover_log(e->seq, e->type, e->data, e->len);
}

/*
 * Fan out numbered message seq (its bytes, as the bus carries them) to the
 * sockets it is for here, or only to socket `only` (replaying it).
 */
void
server_order_fanout(u_int64_t seq, u_int8_t type, const u_int8_t *d,
    size_t len, struct sio_socket *only)
{
	switch (type) {
	case SIO_MSG_BROADCAST:
		server_msg_broadcast(d, len, only);
		break;
	case SIO_MSG_SOCKETS_LEAVE:
		server_msg_sockets_leave(d, len, only);
		break;
	case SIO_MSG_FILTERED:
		server_msg_filtered(d, len, seq, only);
		break;
	default:
		fatal("sio: numbered message of type %u", type);
	}
}
