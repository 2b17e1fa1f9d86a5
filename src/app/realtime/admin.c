/*
 * The Socket.IO Admin UI's namespace, "/admin", as @socket.io/admin-ui
 * 0.5.1's instrument(io, {auth: {type: "basic", ...}}) makes it, when
 * ADMIN_UI_USERNAME and ADMIN_UI_PASSWORD are set (off by default: no
 * namespace, so a CONNECT gets "Invalid namespace").
 *
 * Handshake: the CONNECT payload is {username, password}, or {sessionId}
 * (an id this process handed out in the "session" event after a login,
 * valid for a day: auth/admin_cred.c). A refusal is CONNECT_ERROR
 * "invalid credentials" (the UI knows that message). Before any check,
 * the CONNECT takes from its connection's event budget (limit.c, as on
 * "/"), then counts as an attempt of its client address and of the one
 * admin account against the failed-login limits (LOGIN_FAILS_*; their own
 * table, all workers): past either, CONNECT_ERROR "Too many attempts"
 * {retryAfter} without checking. A success gives the attempts back. A
 * bcrypt password is checked on the hash pool (job.c): a full queue is
 * CONNECT_ERROR "Server busy". Credentials are never logged.
 *
 * An accepted socket gets "session" (after a login), then "config"
 * {supportedFeatures}, then what admin_feed.c sends. The features:
 * DISCONNECT, JOIN, LEAVE and their M... forms unless ADMIN_UI_READONLY
 * (the UI's actions: admin_act.c), AGGREGATED_EVENTS, and ALL_EVENTS in
 * development mode.
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "job.h"
#include "auth/admin_cred.h"
#include "auth/throttle.h"
#include "realtime/admin.h"
#include "realtime/limit.h"
#include "realtime/realtime.h"
#include "sio.h"

#define ADMIN_THROTTLE_ENTRIES	4096
#define ADMIN_KEY_ADDRESS	'A'
#define ADMIN_KEY_ACCOUNT	'U'

struct admin_job {
	struct job		job;
	struct sio_socket	*so;
	struct throttle_rule	rules[2];
	char			*user;
	size_t			ulen;
	char			*pass;
	size_t			plen;
	int			ok;
	int			busy;
};

struct sio_nsp		*admin_nsp;

static struct throttle	*admin_throttle;

static void	admin_connect(struct sio_socket *, json_t *);
static void	admin_disconnect(struct sio_socket *, const char *);
static int	admin_take(struct sio_socket *, struct throttle_rule [2]);
static void	admin_rules(struct sio_socket *, struct throttle_rule [2]);
static void	admin_ok(struct sio_socket *, int,
		    const struct throttle_rule [2]);
static void	admin_failed(struct sio_socket *);
static json_t	*admin_features(void);
static void	admin_job_queue(struct job *);
static void	admin_job_hash(struct job *);
static void	admin_job_done(struct job *);
static void	admin_job_cleanup(struct job *);

/* In the parent: the credentials' keys and the attempts' table. */
void
admin_parent_init(void)
{
	if (!korio.admin_ui)
		return;

	if (!admin_cred_init(korio.admin_username, korio.admin_password))
		fatal("ADMIN_UI_PASSWORD: expected a password of %d to %d "
		    "characters or a bcrypt hash; ADMIN_UI_USERNAME: 1 to %d "
		    "characters", ADMIN_PASSWORD_MIN, ADMIN_CRED_MAX,
		    ADMIN_CRED_MAX);
	if ((admin_throttle = throttle_create(ADMIN_THROTTLE_ENTRIES)) == NULL)
		fatal("admin_parent_init: cannot map the attempt counters");

	kore_log(LOG_NOTICE, "korio: Socket.IO Admin UI on (/admin-ui/, "
	    "namespace /admin, %s mode%s, %s password)",
	    korio.admin_all_events ? "development" : "production",
	    korio.admin_readonly ? ", read-only" : "",
	    admin_cred_bcrypt() ? "bcrypt" : "plain");
}

/* In each worker, after realtime_init() set the plugin up. */
void
admin_init(void)
{
	if (!korio.admin_ui)
		return;

	admin_nsp = sio_nsp_create("/admin");
	sio_nsp_on_connect(admin_nsp, admin_connect);
	sio_nsp_on_disconnect(admin_nsp, admin_disconnect);
	admin_act_init();
	admin_feed_init();
}

static void
admin_connect(struct sio_socket *so, json_t *auth)
{
	struct throttle_rule	rules[2];
	struct admin_job	*j;
	json_t			*sid, *user, *pass;

	if (!rt_budget(so) || !admin_take(so, rules))
		return;

	sid = json_object_get(auth, "sessionId");
	if (json_is_string(sid) && admin_cred_session_ok(
	    json_string_value(sid), json_string_length(sid),
	    (int64_t)time(NULL))) {
		admin_ok(so, 0, rules);
		return;
	}

	user = json_object_get(auth, "username");
	pass = json_object_get(auth, "password");
	if (!json_is_string(user) || !json_is_string(pass)) {
		admin_failed(so);
		return;
	}

	if (!admin_cred_bcrypt()) {
		if (admin_cred_check(json_string_value(user),
		    json_string_length(user), json_string_value(pass),
		    json_string_length(pass)))
			admin_ok(so, 1, rules);
		else
			admin_failed(so);
		return;
	}

	/* bcrypt: 2^cost rounds, on the hash pool. */
	j = (struct admin_job *)job_callback_new(sizeof(*j), admin_job_queue,
	    admin_job_done, admin_job_cleanup);
	j->so = so;
	sio_socket_ref(so);
	memcpy(j->rules, rules, sizeof(j->rules));
	j->ulen = json_string_length(user);
	j->user = mem_malloc(j->ulen + 1);
	memcpy(j->user, json_string_value(user), j->ulen + 1);
	j->plen = json_string_length(pass);
	j->pass = mem_malloc(j->plen + 1);
	memcpy(j->pass, json_string_value(pass), j->plen + 1);
	job_start(&j->job);
}

static void
admin_disconnect(struct sio_socket *so, const char *reason)
{
	struct admin_sock	*as;

	if ((as = sio_socket_udata(so)) == NULL)
		return;
	sio_socket_set_udata(so, NULL);

	if (!strcmp(reason, "client namespace disconnect") &&
	    sio_socket_sid(so) != NULL)
		(void)limit_take(sio_socket_sid(so), kore_time_ms());

	admin_feed_remove(as);
	free(as);
}

/*
 * One attempt of so's address and of the admin account, if both have
 * any left; rules are theirs.
 */
static int
admin_take(struct sio_socket *so, struct throttle_rule rules[2])
{
	int64_t			wait;
	int			secs;

	admin_rules(so, rules);
	if ((wait = throttle_take(admin_throttle, rules, 2,
	    throttle_now())) == 0)
		return (1);

	secs = (int)((wait + 999) / 1000);
	kore_log(LOG_NOTICE, "admin: too many failed attempts, refusing "
	    "socket %s for %d s", sio_socket_id(so), secs);
	sio_reject(so, "Too many attempts",
	    json_pack("{s:i}", "retryAfter", secs));

	return (0);
}

static void
admin_rules(struct sio_socket *so, struct throttle_rule rules[2])
{
	struct netaddr	a;
	u_int8_t	buf[NETADDR_KEYLEN];
	size_t		len;

	admin_view_client(so, &a);
	len = netaddr_key(&a, buf);
	rules[0].key = throttle_key(admin_throttle, ADMIN_KEY_ADDRESS, buf,
	    len);
	rules[0].max = korio.fails_per_address;
	rules[0].window = korio.fails_address_window * 1000;
	rules[1].key = throttle_key(admin_throttle, ADMIN_KEY_ACCOUNT,
	    "admin", 5);
	rules[1].max = korio.fails_per_account;
	rules[1].window = korio.fails_account_window * 1000;
}

/*
 * Credentials that match: the attempts back, the socket in. An emit may
 * end the socket: it is held meanwhile, and checked after each.
 */
static void
admin_ok(struct sio_socket *so, int login,
    const struct throttle_rule rules[2])
{
	struct admin_sock	*as;
	char			id[ADMIN_SESSION_LEN + 1];
	int64_t			now;

	now = throttle_now();
	throttle_clear(admin_throttle, rules[1].key, now);
	throttle_give(admin_throttle, rules[0].key, now);

	sio_socket_ref(so);
	sio_accept(so);
	if (!sio_socket_connected(so))
		goto done;

	kore_log(LOG_NOTICE, "admin: socket %s connected to the Admin UI "
	    "namespace (%s)", sio_socket_id(so), login ? "login" : "session");

	/* The workers' answers come later, after what is emitted here. */
	as = mem_calloc(1, sizeof(*as));
	as->so = so;
	sio_socket_set_udata(so, as);
	admin_feed_add(as);

	if (login) {
		admin_cred_session_new(id, (int64_t)time(NULL));
		(void)sio_emit(so, "session", json_pack("[s]", id));
		explicit_bzero(id, sizeof(id));
	}
	if (sio_socket_connected(so))
		(void)sio_emit(so, "config", json_pack("[{s:o}]",
		    "supportedFeatures", admin_features()));

done:
	sio_socket_unref(so);
}

static void
admin_failed(struct sio_socket *so)
{
	struct netaddr	a;
	char		addr[NETADDR_STRLEN];

	admin_view_client(so, &a);
	netaddr_str(&a, addr);
	kore_log(LOG_NOTICE, "admin: socket %s from %s refused: invalid "
	    "credentials", sio_socket_id(so), addr);
	sio_reject(so, "invalid credentials", NULL);
}

static json_t *
admin_features(void)
{
	json_t		*f;

	f = json_array();
	if (!korio.admin_readonly) {
		(void)json_array_append_new(f, json_string("JOIN"));
		(void)json_array_append_new(f, json_string("LEAVE"));
		(void)json_array_append_new(f, json_string("DISCONNECT"));
		(void)json_array_append_new(f, json_string("MJOIN"));
		(void)json_array_append_new(f, json_string("MLEAVE"));
		(void)json_array_append_new(f, json_string("MDISCONNECT"));
	}
	(void)json_array_append_new(f, json_string("AGGREGATED_EVENTS"));
	if (korio.admin_all_events)
		(void)json_array_append_new(f, json_string("ALL_EVENTS"));

	return (f);
}

/* Store pool: on to the hash pool, if it has room. */
static void
admin_job_queue(struct job *job)
{
	struct admin_job	*j = (struct admin_job *)job;

	if (!job_then(job, JOB_POOL_HASH, admin_job_hash))
		j->busy = 1;
}

/* Hash pool: bcrypt. */
static void
admin_job_hash(struct job *job)
{
	struct admin_job	*j = (struct admin_job *)job;

	j->ok = admin_cred_check(j->user, j->ulen, j->pass, j->plen);
}

static void
admin_job_done(struct job *job)
{
	struct admin_job	*j = (struct admin_job *)job;
	int64_t			now;
	int			i;

	if (j->busy) {
		/* Not checked: not an attempt. */
		now = throttle_now();
		for (i = 0; i < 2; i++)
			throttle_give(admin_throttle, j->rules[i].key, now);
		sio_reject(j->so, "Server busy", NULL);
	} else if (j->ok) {
		admin_ok(j->so, 1, j->rules);
	} else {
		admin_failed(j->so);
	}
}

static void
admin_job_cleanup(struct job *job)
{
	struct admin_job	*j = (struct admin_job *)job;

	explicit_bzero(j->user, j->ulen);
	explicit_bzero(j->pass, j->plen);
	free(j->user);
	free(j->pass);
	sio_socket_unref(j->so);
}
