/*
 * The cap on connections per client address (MAX_CONNECTIONS_PER_ADDRESS,
 * default 256; 0: none), enforced when Kore accepts a connection
 * (kore_connection_accept_hook, patches/06-connection-accept-hook.patch),
 * before it takes a request slot: one address that opens thousands of
 * connections and never finishes a request cannot fill the server.
 *
 * Counted across all workers, not per worker. Which worker accepts a
 * connection depends on Kore's accept lock, so a share of the cap per
 * worker (cap / workers) would refuse a client at a fraction of its cap on
 * one worker while another had room, and would shrink to nothing with
 * many workers. The counts live in one table (addrcount.c) in memory the
 * parent maps shared before it forks the workers (as the plugin's
 * broadcast counter does, server_order.c), behind a process-shared,
 * robust mutex held for one table operation: a worker that dies holding
 * it does not stop the others (the next to take it finds it marked and
 * makes it usable), and its successor takes what it had counted out of
 * the table (addrcount_clear_worker()).
 *
 * The client is the peer: X-Forwarded-For is not known when a connection
 * is accepted, so peers in TRUSTED_PROXIES (a proxy speaks for many
 * clients) are not capped. A refused connection gets a 503 if its socket
 * takes it at once, and is closed. A worker remembers which of its
 * connections it counted by file descriptor, so only those are uncounted
 * when Kore removes them (kore_connection_remove_hook).
 */

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <kore/kore.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "addrcount.h"
#include "http/http.h"

/* Addresses the table holds at once (a power of two). */
#define CONNLIMIT_SLOTS		65536

/* At most one log line a second per worker about refusals. */
#define CONNLIMIT_LOG_MS	1000

extern u_int16_t	cpu_count;
extern u_int8_t		worker_count;

static int	connlimit_accept(struct connection *);
static void	connlimit_remove(struct connection *);
static void	connlimit_lock(void);
static void	connlimit_unlock(void);
static void	connlimit_refused(struct connection *,
		    const struct netaddr *);

static struct addrcount	 cl_table;
static pthread_mutex_t	*cl_lock;
static u_int8_t		*cl_counted;	/* per fd: this worker counted it */
static size_t		 cl_nfd;
static u_int64_t	 cl_logged;
static int		 cl_full_logged;

/* In kore_parent_configure(), after config_load(): the shared table. */
void
connlimit_parent_init(void)
{
	pthread_mutexattr_t	attr;
	u_int64_t		key[2];
	u_int32_t		workers;
	size_t			lock_len, len;
	u_int8_t		*p;

	if (korio.max_conn_per_addr == 0)
		return;

	workers = korio.workers > 0 ? (u_int32_t)korio.workers : cpu_count;
	lock_len = (sizeof(pthread_mutex_t) + 63) & ~(size_t)63;
	len = lock_len + addrcount_size(CONNLIMIT_SLOTS, workers);

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fatal("connlimit: mmap: %s", errno_s);

	cl_lock = (pthread_mutex_t *)(void *)p;
	if (pthread_mutexattr_init(&attr) != 0 ||
	    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) != 0 ||
	    pthread_mutex_init(cl_lock, &attr) != 0)
		fatal("connlimit: cannot make a shared mutex");
	(void)pthread_mutexattr_destroy(&attr);

	if (getentropy(key, sizeof(key)) == -1)
		fatal("connlimit: getentropy: %s", errno_s);
	addrcount_init(&cl_table, p + lock_len, CONNLIMIT_SLOTS, workers, key);
	explicit_bzero(key, sizeof(key));
}

/* In kore_worker_configure(): take over this worker's share, set hooks. */
void
connlimit_worker_init(void)
{
	if (korio.max_conn_per_addr == 0)
		return;

	if (worker->id < 1 || worker->id > cl_table.workers)
		fatal("connlimit: worker %u of %u (WORKERS changed?)",
		    worker->id, cl_table.workers);

	/* A restarted worker: its predecessor's connections are gone. */
	if (worker->restarted) {
		connlimit_lock();
		addrcount_clear_worker(&cl_table, worker->id - 1);
		connlimit_unlock();
	}

	cl_nfd = worker_rlimit_nofiles;
	cl_counted = mem_calloc(cl_nfd, 1);

	kore_connection_accept_hook = connlimit_accept;
	kore_connection_remove_hook = connlimit_remove;
}

static int
connlimit_accept(struct connection *c)
{
	struct netaddr	a;
	int		r;

	if (c->family != AF_INET && c->family != AF_INET6)
		return (KORE_RESULT_OK);

	http_util_peer(c, &a);
	if (netaddr_list_match(&korio.trusted_proxies, &a))
		return (KORE_RESULT_OK);

	if (c->fd < 0 || (size_t)c->fd >= cl_nfd)
		return (KORE_RESULT_OK);

	connlimit_lock();
	r = addrcount_add(&cl_table, &a, worker->id - 1,
	    korio.max_conn_per_addr);
	connlimit_unlock();

	switch (r) {
	case 1:
		cl_counted[c->fd] = 1;
		return (KORE_RESULT_OK);
	case 0:
		connlimit_refused(c, &a);
		return (KORE_RESULT_ERROR);
	default:
		/* No room for another address: let it in, uncounted. */
		if (!cl_full_logged) {
			kore_log(LOG_WARNING, "connlimit: table full (%u "
			    "addresses), new addresses not capped",
			    addrcount_used(&cl_table));
			cl_full_logged = 1;
		}
		return (KORE_RESULT_OK);
	}
}

static void
connlimit_remove(struct connection *c)
{
	struct netaddr	a;

	if (c->fd < 0 || (size_t)c->fd >= cl_nfd || !cl_counted[c->fd])
		return;

	cl_counted[c->fd] = 0;
	http_util_peer(c, &a);

	connlimit_lock();
	addrcount_del(&cl_table, &a, worker->id - 1);
	connlimit_unlock();
}

static void
connlimit_lock(void)
{
	int	r;

	r = pthread_mutex_lock(cl_lock);
	if (r == EOWNERDEAD) {
		/* A worker died holding it; its heir clears its counts. */
		(void)pthread_mutex_consistent(cl_lock);
	} else if (r != 0) {
		fatal("connlimit: pthread_mutex_lock: %s", strerror(r));
	}
}

static void
connlimit_unlock(void)
{
	(void)pthread_mutex_unlock(cl_lock);
}

static void
connlimit_refused(struct connection *c, const struct netaddr *a)
{
	static const char	busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
				    "connection: close\r\n"
				    "content-length: 0\r\n\r\n";
	char			buf[NETADDR_STRLEN];
	u_int64_t		now;

	(void)send(c->fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);

	now = kore_time_ms();
	if (now - cl_logged < CONNLIMIT_LOG_MS)
		return;
	cl_logged = now;

	netaddr_str(a, buf);
	kore_log(LOG_NOTICE, "connlimit: %s has %u connections "
	    "(MAX_CONNECTIONS_PER_ADDRESS), refusing more", buf,
	    korio.max_conn_per_addr);
}
