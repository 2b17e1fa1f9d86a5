/*
 * The plugin's messages between workers, over Kore's message bus (each
 * worker talks to the parent over a socketpair; the parent relays). Messages
 * from one worker reach another in the order they were sent.
 *
 * A handler table: each layer registers the ids it handles
 * (bus_register(); the engine its relays, the server its numbered
 * broadcasts, the application its own ids through sio_bus_register()),
 * and bus_recv() is the duplicate check below plus a lookup. bus_send()
 * writes a head, an optional middle part and an optional payload straight
 * into the worker's message connection, without building one buffer
 * first.
 *
 * Before all that goes a struct bus_tag. Kore 4.1's parent keeps a dead
 * worker's message connection in its list of destinations (msg.c appends
 * to conncache and never takes out), and the restarted worker's new
 * connection can take the freed one's place: every message for that
 * worker is then written to it twice. So each message carries its
 * sender's boot id and a number that only grows, and a receiver drops a
 * number it has had from that sender already.
 *
 * A worker Kore started again after its predecessor died (SIGKILL, a
 * crash) says hello to the others as it starts; so does every worker the
 * first time, which lets the others know its boot id. A hello that says
 * it restarted, or a message with a new boot id from a sender whose old
 * one was known, tells the restart callback (the engine's: the relays
 * through the dead worker are gone) once per boot.
 */

#include <sys/types.h>
#include <sys/random.h>

#include <kore/kore.h>

#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "codec/sbuf.h"

struct bus_tag {
	u_int64_t	boot;
	u_int64_t	seq;
};

_Static_assert(SIO_BUS_ALL == KORE_MSG_WORKER_ALL, "SIO_BUS_ALL");

static void	bus_recv(struct kore_msg *, const void *);
static void	bus_hello(u_int16_t, const u_int8_t *, size_t);

static sio_bus_fn	bus_handlers[256];
static bus_restart_fn	bus_restart;
static bus_remote_fn	bus_remote;
static struct bus_tag	bus_self;
static struct bus_tag	*bus_seen;	/* by sender worker id */
static u_int16_t	bus_nseen;

void
bus_init(void)
{
	if (getrandom(&bus_self.boot, sizeof(bus_self.boot), 0) !=
	    sizeof(bus_self.boot))
		fatal("sio: getrandom: %s", errno_s);
	bus_self.seq = 0;
	bus_nseen = bus_worker_count() + 1;
	bus_seen = sbuf_xcalloc(bus_nseen, sizeof(*bus_seen));
	bus_register(SIO_MSG_HELLO, bus_hello);
}

/*
 * The first message of this worker to the others, once every layer has
 * registered its handlers (sio_init()).
 */
void
bus_start(void)
{
	u_int8_t	restarted;

	restarted = worker->restarted != 0;
	bus_send_others(SIO_MSG_HELLO, &restarted, sizeof(restarted));
}

/* fn is told of each worker that starts again (one callback). */
void
bus_on_restart(bus_restart_fn fn)
{
	if (bus_restart != NULL)
		fatal("sio: bus_on_restart called twice");
	bus_restart = fn;
}

static void
bus_hello(u_int16_t src, const u_int8_t *data, size_t len)
{
	if (len != 1)
		fatal("sio: bad hello from worker %u", src);
	if (data[0] && bus_restart != NULL)
		bus_restart(src);
}

/* Messages to peers on other nodes go to fn (engine_remote.c). */
void
bus_set_remote(bus_remote_fn fn)
{
	bus_remote = fn;
}

/* A message from a peer on another node, to its handler here. */
void
bus_deliver(u_int8_t id, u_int16_t src, const u_int8_t *data, size_t len)
{
	if (bus_handlers[id] != NULL)
		bus_handlers[id](src, data, len);
}

/* fn handles message id from now on, in this worker. */
void
bus_register(u_int8_t id, sio_bus_fn fn)
{
	if (id < SIO_MSG_BASE || bus_handlers[id] != NULL ||
	    !kore_msg_register(id, bus_recv))
		fatal("sio: message id %u already taken", id);
	bus_handlers[id] = fn;
}

/* For the application (sio.h): its ids only. */
void
sio_bus_register(u_int8_t id, sio_bus_fn fn)
{
	if (id < SIO_MSG_APP_FIRST)
		fatal("sio_bus_register: id %u is the plugin's", id);
	bus_register(id, fn);
}

/* To one worker, or to every worker (this one too) with SIO_BUS_ALL. */
void
sio_bus_send(u_int16_t dst, u_int8_t id, const void *data, size_t len)
{
	bus_send(dst, id, data, len, NULL, 0, NULL, 0);
}

/* How many workers the process has (ids 1 to that). */
uint16_t
sio_worker_count(void)
{
	return (bus_worker_count());
}

u_int16_t
bus_worker_count(void)
{
	return (worker_count - KORE_WORKER_BASE);
}

void
bus_send(u_int16_t dst, u_int8_t type, const void *head, size_t headlen,
    const void *mid, size_t midlen, const void *payload, size_t len)
{
	struct kore_msg		m;

	if (dst >= BUS_REMOTE_FIRST) {
		if (bus_remote != NULL)
			bus_remote(dst, type, head, headlen, mid, midlen,
			    payload, len);
		return;
	}

	m.id = type;
	m.dst = dst;
	m.length = sizeof(bus_self) + headlen + midlen + len;
	m.src = worker->id;

	bus_self.seq++;
	net_send_queue(worker->msg[1], &m, sizeof(m));
	net_send_queue(worker->msg[1], &bus_self, sizeof(bus_self));
	if (headlen > 0)
		net_send_queue(worker->msg[1], head, headlen);
	if (midlen > 0)
		net_send_queue(worker->msg[1], mid, midlen);
	if (len > 0)
		net_send_queue(worker->msg[1], payload, len);
	net_send_flush(worker->msg[1]);
}

/* One already-encoded message to every other worker. */
void
bus_send_others(u_int8_t type, const void *data, size_t len)
{
	u_int16_t	id, n;
	struct kore_msg	m;

	n = bus_worker_count();
	bus_self.seq++;
	for (id = 1; id <= n; id++) {
		if (id == worker->id)
			continue;
		m.id = type;
		m.dst = id;
		m.length = sizeof(bus_self) + len;
		m.src = worker->id;
		net_send_queue(worker->msg[1], &m, sizeof(m));
		net_send_queue(worker->msg[1], &bus_self, sizeof(bus_self));
		net_send_queue(worker->msg[1], data, len);
	}
	net_send_flush(worker->msg[1]);
}

static void
bus_recv(struct kore_msg *m, const void *data)
{
	const u_int8_t	*d = data;
	size_t		len = m->length;
	struct bus_tag	tag, *seen;
	int		restarted;

	if (d == NULL || len < sizeof(tag) || m->src == 0 ||
	    m->src >= bus_nseen)
		fatal("sio: bad message %u from worker %u", m->id, m->src);

	/* A sender that started again numbers from the start again. */
	memcpy(&tag, d, sizeof(tag));
	seen = &bus_seen[m->src];
	if (seen->boot == tag.boot && tag.seq <= seen->seq)
		return;
	restarted = seen->boot != 0 && seen->boot != tag.boot;
	*seen = tag;
	d += sizeof(tag);
	len -= sizeof(tag);

	/* Its hello says so itself. */
	if (restarted && m->id != SIO_MSG_HELLO && bus_restart != NULL)
		bus_restart(m->src);

	if (bus_handlers[m->id] != NULL)
		bus_handlers[m->id](m->src, d, len);
}
