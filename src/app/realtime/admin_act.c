/*
 * The Socket.IO Admin UI's actions, from an admin socket (realtime/admin.c
 * accepted it), within its connection's event budget (limit.c) and unless
 * ADMIN_UI_READONLY, as admin-ui 0.5.1's registerFeatureHandlers() takes
 * them for socket.io 4:
 *
 *   "_disconnect" (nsp, close, filter)  disconnectSockets(close)
 *   "join" (nsp, room, filter)          socketsJoin(room)
 *   "leave" (nsp, room, filter)         socketsLeave(room)
 *
 * of the sockets of namespace nsp in room filter (the UI names one
 * socket by its id: every socket is in a room named by its id, see
 * admin_feed.c), or of all of them without a filter, on every worker: a
 * join or a disconnect goes over the bus (RT_MSG_ADMIN_ACTION) and each
 * worker applies it to its own sockets; a leave is the plugin's
 * sio_sockets_leave(). Each action is logged. Anything else (admin-ui's
 * "emit", which the UI does not use, or malformed arguments) is ignored.
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "realtime/admin.h"
#include "realtime/limit.h"
#include "realtime/realtime.h"
#include "sio.h"

#define ADMIN_ROOM_MAX		512

#define ADMIN_ACT_JOIN		1
#define ADMIN_ACT_DISCONNECT	2

/* The head of an action on the bus; nsp, room and filter follow. */
struct admin_act {
	u_int8_t	kind;
	u_int8_t	close;
};

/* The sockets an action applies to, each holding a reference. */
struct admin_targets {
	struct sio_socket	**so;
	size_t			n;
	size_t			cap;
	const char		*filter;
};

static int	admin_allow(struct sio_socket *);
static int	admin_args(struct sio_socket *, const struct sio_event *,
		    struct sio_nsp **, const char **);
static int	admin_name(json_t *);
static void	admin_ev_disconnect(struct sio_socket *,
		    const struct sio_event *);
static void	admin_ev_room(struct sio_socket *, const struct sio_event *,
		    int);
static void	admin_ev_join(struct sio_socket *, const struct sio_event *);
static void	admin_ev_leave(struct sio_socket *, const struct sio_event *);
static void	admin_ev_other(struct sio_socket *, const struct sio_event *);
static void	admin_act_send(u_int8_t, int, struct sio_nsp *, const char *,
		    const char *);
static void	admin_act_recv(u_int16_t, const u_int8_t *, size_t);
static void	admin_act_target(struct sio_socket *, void *);

/* The actions' handlers on the admin namespace, the bus's too. */
void
admin_act_init(void)
{
	sio_nsp_on(admin_nsp, "_disconnect", admin_ev_disconnect);
	sio_nsp_on(admin_nsp, "join", admin_ev_join);
	sio_nsp_on(admin_nsp, "leave", admin_ev_leave);
	sio_nsp_on_unknown(admin_nsp, admin_ev_other);
	sio_bus_register(RT_MSG_ADMIN_ACTION, admin_act_recv);
}

/* An action of so's within its budget, and allowed at all. */
static int
admin_allow(struct sio_socket *so)
{
	const char	*sid;

	if (sio_socket_udata(so) == NULL ||
	    (sid = sio_socket_sid(so)) == NULL)
		return (0);

	switch (limit_take(sid, kore_time_ms())) {
	case LIMIT_OK:
		return (!korio.admin_readonly);
	case LIMIT_NOTICE:
		(void)sio_emit(so, "error",
		    json_pack("[{s:s}]", "message", "Rate limit exceeded"));
		return (0);
	case LIMIT_ABUSE:
		kore_log(LOG_NOTICE, "admin: socket %s keeps exceeding the "
		    "rate limit, disconnecting", sio_socket_id(so));
		sio_disconnect(so);
		return (0);
	default:
		return (0);
	}
}

/*
 * The namespace (an existing one) and the filter (a room, or nothing:
 * every socket) of an action, arguments 0 and 2. 0 for anything else.
 */
static int
admin_args(struct sio_socket *so, const struct sio_event *ev,
    struct sio_nsp **n, const char **filter)
{
	json_t		*a, *f;

	if (!admin_allow(so))
		return (0);

	a = json_array_get(ev->args, 0);
	if (!json_is_string(a) ||
	    (*n = sio_nsp_lookup(json_string_value(a))) == NULL)
		return (0);

	f = json_array_get(ev->args, 2);
	*filter = NULL;
	if (f != NULL && !json_is_null(f)) {
		if (!admin_name(f))
			return (0);
		*filter = json_string_value(f);
	}

	return (1);
}

/* A room's name: 1 to ADMIN_ROOM_MAX bytes, no NUL. */
static int
admin_name(json_t *v)
{
	size_t		len;

	if (!json_is_string(v))
		return (0);
	len = json_string_length(v);

	return (len > 0 && len <= ADMIN_ROOM_MAX &&
	    strlen(json_string_value(v)) == len);
}

static void
admin_ev_disconnect(struct sio_socket *so, const struct sio_event *ev)
{
	struct sio_nsp	*n;
	const char	*filter;
	json_t		*close;

	if (!admin_args(so, ev, &n, &filter))
		return;
	close = json_array_get(ev->args, 1);
	if (!json_is_boolean(close))
		return;

	kore_log(LOG_NOTICE, "admin: socket %s: disconnect%s %s in %s",
	    sio_socket_id(so), json_is_true(close) ? " and close" : "",
	    filter != NULL ? filter : "every socket", sio_nsp_name(n));
	admin_act_send(ADMIN_ACT_DISCONNECT, json_is_true(close), n, "",
	    filter);
}

/* join and leave: [namespace, room, filter?]; the room is checked. */
static void
admin_ev_room(struct sio_socket *so, const struct sio_event *ev, int join)
{
	struct sio_nsp	*n;
	const char	*room, *filter;

	if (!admin_args(so, ev, &n, &filter) ||
	    !admin_name(json_array_get(ev->args, 1)))
		return;
	room = json_string_value(json_array_get(ev->args, 1));

	kore_log(LOG_NOTICE, "admin: socket %s: %s in %s %s %s",
	    sio_socket_id(so), filter != NULL ? filter : "every socket",
	    sio_nsp_name(n), join ? "joins" : "leaves", room);
	if (join)
		admin_act_send(ADMIN_ACT_JOIN, 0, n, room, filter);
	else
		sio_sockets_leave(n, filter != NULL ? filter : room, room);
}

static void
admin_ev_join(struct sio_socket *so, const struct sio_event *ev)
{
	admin_ev_room(so, ev, 1);
}

static void
admin_ev_leave(struct sio_socket *so, const struct sio_event *ev)
{
	admin_ev_room(so, ev, 0);
}

/* Anything else takes from the budget, and does nothing. */
static void
admin_ev_other(struct sio_socket *so, const struct sio_event *ev)
{
	(void)ev;
	(void)admin_allow(so);
}

static void
admin_act_send(u_int8_t kind, int close, struct sio_nsp *n, const char *room,
    const char *filter)
{
	struct admin_act	h;
	u_int8_t		*buf, *p;
	size_t			ln, lr, lf;

	h.kind = kind;
	h.close = (u_int8_t)close;
	ln = strlen(sio_nsp_name(n)) + 1;
	lr = strlen(room) + 1;
	lf = filter != NULL ? strlen(filter) + 1 : 1;

	p = buf = mem_malloc(sizeof(h) + ln + lr + lf);
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	memcpy(p, sio_nsp_name(n), ln);
	p += ln;
	memcpy(p, room, lr);
	p += lr;
	memcpy(p, filter != NULL ? filter : "", lf);

	sio_bus_send(SIO_BUS_ALL, RT_MSG_ADMIN_ACTION, buf,
	    sizeof(h) + ln + lr + lf);
	free(buf);
}

/* An action, on every worker: this worker's sockets it applies to. */
static void
admin_act_recv(u_int16_t src, const u_int8_t *data, size_t len)
{
	struct admin_act	h;
	struct admin_targets	t;
	struct sio_nsp		*n;
	const char		*nsp, *room, *filter, *end;
	size_t			i;

	(void)src;
	if (len < sizeof(h) + 3 || data[len - 1] != '\0')
		return;
	memcpy(&h, data, sizeof(h));
	end = (const char *)data + len;
	nsp = (const char *)data + sizeof(h);
	room = nsp + strlen(nsp) + 1;
	if (room >= end)
		return;
	filter = room + strlen(room) + 1;
	if (filter >= end || (n = sio_nsp_lookup(nsp)) == NULL)
		return;

	memset(&t, 0, sizeof(t));
	t.filter = *filter != '\0' ? filter : NULL;
	sio_nsp_foreach(n, admin_act_target, &t);

	for (i = 0; i < t.n; i++) {
		if (h.kind == ADMIN_ACT_JOIN && *room != '\0')
			(void)sio_join(t.so[i], room);
		else if (h.kind == ADMIN_ACT_DISCONNECT && h.close)
			sio_disconnect_close(t.so[i]);
		else if (h.kind == ADMIN_ACT_DISCONNECT)
			sio_disconnect(t.so[i]);
		sio_socket_unref(t.so[i]);
	}
	free(t.so);
}

static void
admin_act_target(struct sio_socket *so, void *arg)
{
	struct admin_targets	*t = arg;

	if (t->filter != NULL && !sio_in_room(so, t->filter))
		return;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->so = realloc(t->so, t->cap * sizeof(*t->so));
		if (t->so == NULL)
			fatal("admin_act_target: out of memory");
	}
	sio_socket_ref(so);
	t->so[t->n++] = so;
}
