/*
 * How the Socket.IO Admin UI is told about this worker, in the shapes
 * @socket.io/admin-ui 0.5.1 gives them: a socket as its serialize() makes
 * it, this worker's server_stats and their aggregated events, dates as
 * JSON.stringify(new Date()) writes them (admin_feed.c sends them).
 *
 * A socket: {id, clientId (the first 12 characters of its Engine.IO id),
 * transport, nsp, data ({}: korio keeps nothing in socket.data), handshake
 * {headers, time, address, xdomain, secure, issued, url, query}, rooms}.
 * The handshake is the plugin's (sio_socket_handshake()), with korio's
 * view of the client's address (TRUSTED_PROXIES, as the per-address
 * limits see it) and the values of the headers that carry credentials
 * hidden.
 *
 * server_stats: {serverId ("<hostname>#<pid>", as admin-ui names a
 * cluster worker), hostname, pid, uptime (s), clientsCount (Engine.IO
 * sessions), pollingClientsCount, aggregatedEvents, namespaces [{name,
 * socketsCount}]}, all of this worker. The aggregated events are
 * admin-ui's: {timestamp (the second, in ms), type, subType?, count} of
 * rawConnection, rawDisconnection (by reason), packetsIn/Out and
 * bytesIn/Out (Engine.IO message packets, eio_stats_take()).
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "realtime/admin.h"
#include "sio.h"

#define VIEW_CLIENT_ID_LEN	12	/* of the Engine.IO id, as admin-ui */

static json_t	*view_handshake(struct sio_socket *);
static void	view_room(const char *, void *);
static int64_t	view_now_ms(void);

static json_t		*view_aggregated;
static u_int64_t	view_started;
static char		view_host[256];
static char		view_server_id[300];

void
admin_view_init(void)
{
	if (gethostname(view_host, sizeof(view_host)) == -1)
		(void)snprintf(view_host, sizeof(view_host), "korio");
	view_host[sizeof(view_host) - 1] = '\0';
	(void)snprintf(view_server_id, sizeof(view_server_id), "%s#%d",
	    view_host, (int)getpid());

	view_started = kore_time_ms();
	view_aggregated = json_array();
}

/*
 * The client of so as the per-address limits see it: its session's peer,
 * or the address X-Forwarded-For names when the peer is a trusted proxy.
 * An unspecified address (0.0.0.0) when the handshake is not kept.
 */
void
admin_view_client(struct sio_socket *so, struct netaddr *a)
{
	json_t		*h, *addr, *xff;
	struct netaddr	fwd;
	const char	*s;

	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->prefix = 32;

	if ((h = sio_socket_handshake(so)) == NULL ||
	    !json_is_string(addr = json_object_get(h, "address")))
		return;
	s = json_string_value(addr);
	if (!netaddr_parse(s, strlen(s), a))
		return;
	if (!netaddr_list_match(&korio.trusted_proxies, a))
		return;

	xff = json_object_get(json_object_get(h, "headers"), "x-forwarded-for");
	if (json_is_string(xff) && netaddr_forwarded(json_string_value(xff),
	    &korio.trusted_proxies, &fwd))
		*a = fwd;
}

/* A socket as admin-ui's serialize() makes it. */
json_t *
admin_view_socket(struct sio_socket *so)
{
	json_t		*o, *rooms;
	const char	*sid, *transport;
	char		client[VIEW_CLIENT_ID_LEN + 1];

	sid = sio_socket_sid(so);
	(void)snprintf(client, sizeof(client), "%s", sid != NULL ? sid : "");
	transport = sio_socket_transport(so);

	rooms = json_array();
	sio_socket_rooms(so, view_room, rooms);

	o = json_object();
	(void)json_object_set_new(o, "id", json_string(sio_socket_id(so)));
	(void)json_object_set_new(o, "clientId", json_string(client));
	(void)json_object_set_new(o, "transport",
	    json_string(transport != NULL ? transport : "polling"));
	(void)json_object_set_new(o, "nsp",
	    json_string(sio_nsp_name(sio_socket_nsp(so))));
	(void)json_object_set_new(o, "data", json_object());
	(void)json_object_set_new(o, "handshake", view_handshake(so));
	(void)json_object_set_new(o, "rooms", rooms);

	return (o);
}

/*
 * The handshake as admin-ui shows it, with korio's view of the client's
 * address (TRUSTED_PROXIES) and without the values of the headers that
 * carry credentials.
 */
static json_t *
view_handshake(struct sio_socket *so)
{
	static const char *const hidden[] = {
		"authorization", "cookie", "proxy-authorization"
	};
	struct netaddr		a;
	json_t			*h, *headers;
	char			addr[NETADDR_STRLEN];
	size_t			i;

	if (sio_socket_handshake(so) == NULL)
		return (json_object());
	h = json_deep_copy(sio_socket_handshake(so));
	headers = json_object_get(h, "headers");
	for (i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
		if (json_object_get(headers, hidden[i]) != NULL)
			(void)json_object_set_new(headers, hidden[i],
			    json_string("(hidden)"));
	}

	admin_view_client(so, &a);
	netaddr_str(&a, addr);
	(void)json_object_set_new(h, "address", json_string(addr));

	return (h);
}

static void
view_room(const char *room, void *arg)
{
	(void)json_array_append_new(arg, json_string(room));
}

/* Now, as JSON.stringify(new Date()) writes it. */
json_t *
admin_view_date(void)
{
	struct timespec	ts;
	struct tm	tm;
	char		buf[80];

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	(void)gmtime_r(&ts.tv_sec, &tm);
	(void)snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000));

	return (json_string(buf));
}

static int64_t
view_now_ms(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* This worker's server_stats; what was counted starts again. */
json_t *
admin_view_stats(void)
{
	struct eio_stats	st;
	struct sio_nsp		*nsps[SIO_NSP_MAX];
	json_t			*stats, *list;
	size_t			i, n;

	eio_stats_take(&st);
	admin_view_count("packetsIn", NULL, st.packets_in);
	admin_view_count("packetsOut", NULL, st.packets_out);
	admin_view_count("bytesIn", NULL, st.bytes_in);
	admin_view_count("bytesOut", NULL, st.bytes_out);

	list = json_array();
	n = sio_nsp_list(nsps, SIO_NSP_MAX);
	for (i = 0; i < n; i++) {
		(void)json_array_append_new(list, json_pack("{s:s,s:I}",
		    "name", sio_nsp_name(nsps[i]), "socketsCount",
		    (json_int_t)sio_nsp_local_count(nsps[i])));
	}

	stats = json_pack("{s:s,s:s,s:i,s:f,s:I,s:I,s:o,s:o}",
	    "serverId", view_server_id, "hostname", view_host,
	    "pid", (int)getpid(),
	    "uptime", (double)(kore_time_ms() - view_started) / 1000.0,
	    "clientsCount", (json_int_t)eio_session_count(),
	    "pollingClientsCount", (json_int_t)eio_polling_count(),
	    "aggregatedEvents", view_aggregated,
	    "namespaces", list);
	view_aggregated = json_array();

	return (stats);
}

/* Nothing counted so far counts (no one was watching). */
void
admin_view_reset(void)
{
	struct eio_stats	st;

	eio_stats_take(&st);
	json_array_clear(view_aggregated);
}

/* count more of type (and subType) in this second's aggregated events. */
void
admin_view_count(const char *type, const char *sub, u_int64_t count)
{
	json_t		*e;
	json_int_t	ts;
	size_t		i;

	if (count == 0)
		return;
	ts = (json_int_t)(view_now_ms() / 1000 * 1000);

	json_array_foreach(view_aggregated, i, e) {
		if (json_integer_value(json_object_get(e, "timestamp")) != ts ||
		    strcmp(json_string_value(json_object_get(e, "type")),
		    type) != 0)
			continue;
		if (sub != NULL && (!json_is_string(json_object_get(e,
		    "subType")) || strcmp(json_string_value(json_object_get(e,
		    "subType")), sub) != 0))
			continue;
		if (sub == NULL && json_object_get(e, "subType") != NULL)
			continue;
		(void)json_object_set_new(e, "count", json_integer(
		    json_integer_value(json_object_get(e, "count")) +
		    (json_int_t)count));
		return;
	}

	e = json_pack("{s:I,s:s,s:I}", "timestamp", ts, "type", type,
	    "count", (json_int_t)count);
	if (sub != NULL)
		(void)json_object_set_new(e, "subType", json_string(sub));
	(void)json_array_append_new(view_aggregated, e);
}
