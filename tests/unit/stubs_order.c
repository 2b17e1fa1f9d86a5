/*
 * stubs_order.c: link-time stand-ins for what server_order.c calls
 * outside itself (Kore's clock, log and fatal, the bus, the fan-outs of
 * server_emit.c), after mosquitto's subs_stubs.c. Every delivery is
 * recorded in stub_log for test_order.c to check.
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"
#include "stubs_order.h"

u_int8_t		worker_count = 1;
u_int64_t		stub_now = 1000;
int			stub_warnings;
struct stub_delivery	stub_log[STUB_LOG_MAX];
size_t			stub_nlog;
sio_bus_fn		stub_bus[256];
size_t			stub_logged;
void			(*stub_hook)(void);

u_int64_t
kore_time_ms(void)
{
	return (stub_now);
}

void
kore_log(int prio, const char *fmt, ...)
{
	if (prio == LOG_WARNING)
		stub_warnings++;
	(void)fmt;
}

void
fatal(const char *fmt, ...)
{
	va_list		ap;

	va_start(ap, fmt);
	printf("fatal: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	exit(2);
}

void
bus_register(u_int8_t id, sio_bus_fn fn)
{
	stub_bus[id] = fn;
}

static void
stub_record(u_int8_t type, int local, const void *d, size_t len)
{
	struct stub_delivery	*e;

	if (stub_nlog == STUB_LOG_MAX)
		fatal("stub_log full");
	e = &stub_log[stub_nlog++];
	e->type = type;
	e->local = local;
	e->len = len < sizeof(e->data) ? len : sizeof(e->data);
	memcpy(e->data, d, e->len);

	if (stub_hook != NULL)
		stub_hook();
}

void
server_msg_broadcast(const u_int8_t *d, size_t len, struct sio_socket *only)
{
	(void)only;
	stub_record(SIO_MSG_BROADCAST, 0, d, len);
}

void
server_msg_sockets_leave(const u_int8_t *d, size_t len,
    struct sio_socket *only)
{
	(void)only;
	stub_record(SIO_MSG_SOCKETS_LEAVE, 0, d, len);
}

void
server_msg_filtered(const u_int8_t *d, size_t len, u_int64_t seq,
    struct sio_socket *only)
{
	(void)seq;
	(void)only;
	stub_record(SIO_MSG_FILTERED, 0, d, len);
}

/* What is fanned out from the bus is logged for recovery: counted. */
void
server_recover_log(u_int64_t seq, u_int8_t type, const u_int8_t *d,
    size_t len)
{
	(void)seq;
	(void)type;
	(void)d;
	(void)len;
	stub_logged++;
}

/* Local broadcasts in the tests carry their name as their first room. */
void
server_bcast_deliver(struct server_bcast *b)
{
	const char	*name = b->names[0];

	stub_record(SIO_MSG_BROADCAST, 1, name, strlen(name));
	free(b);
}
