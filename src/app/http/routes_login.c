/*
 * /auth/signup and /auth/login, the two routes that run PBKDF2
 * (auth/password.c), as Terreno's addAuthRoutes answers them; their
 * tokens are minted by routes_auth.c.
 *
 * Both run in steps (rest.c): what needs the store on the store pool,
 * the hash on the hash pool, whose queue is bounded (HASH_QUEUE; 503 with
 * Retry-After when it is full), so that a flood of logins never holds up
 * the REST reads and Socket.IO handshakes of the store pool, and a
 * login whose client hung up while it waited is never hashed:
 *   signup: the body, the email looked up (a taken email costs no
 *           PBKDF2) | the hash | the insert;
 *   login:  the body, the limits, the user looked up | the check.
 * A signup keeps the user it will insert in call->user between steps, a
 * login the user it found.
 *
 * Failed logins are limited per client address (http_util_client(): the
 * peer, or the X-Forwarded-For client of a trusted proxy; an IPv6 client
 * by its /64, what one host usually has) and per account (the normalized
 * email, known or not, so that the answers don't tell which emails
 * exist): LOGIN_FAILS_PER_ADDRESS in LOGIN_FAILS_ADDRESS_WINDOW and
 * LOGIN_FAILS_PER_ACCOUNT in LOGIN_FAILS_ACCOUNT_WINDOW. Past either the
 * answer is 429 with Retry-After, before the lookup and without a PBKDF2,
 * for the right password too. The counters are in one table that every
 * worker shares (auth/throttle.c, mapped by routes_login_init() before
 * they fork). An attempt counts when it is let through, before its
 * PBKDF2, so that many sent at once can't all pass; a success takes its
 * own attempt back from its address and clears its account, so logging
 * in to one's own account is no failure and does not undo what the
 * address did to other accounts; an attempt turned away (503, store
 * error) takes both back.
 *
 * Login always runs one PBKDF2, against a dummy salt and hash when the
 * email is unknown, so timing does not tell which emails exist. Extra
 * signup fields are ignored (mongoose's strict mode drops them), "admin"
 * included.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <stdio.h>
#include <string.h>

#include "app.h"
#include "http/http.h"
#include "auth/password.h"
#include "auth/throttle.h"
#include "auth/token.h"

#define LOGIN_INCORRECT		"Password or username is incorrect"

/* Counters in the shared table: 24 bytes each, 1.5 MiB. */
#define LOGIN_THROTTLE_ENTRIES	65536

#define LOGIN_KEY_ADDRESS	'A'
#define LOGIN_KEY_ACCOUNT	'E'

static void	login_signup(struct rest_call *);
static void	login_signup_hash(struct rest_call *);
static void	login_signup_insert(struct rest_call *);
static void	login_signup_off(struct rest_call *);
static int	login_password(struct rest_call *, json_t *);
static void	login_check(struct rest_call *);
static void	login_verify(struct rest_call *);
static int	login_take(struct rest_call *);
static void	login_untake(struct rest_call *);
static void	login_succeeded(struct rest_call *);
static size_t	login_rules(struct rest_call *, struct throttle_rule [2]);

static struct throttle		*login_throttle;

/* The bodies and answers of /auth/signup and /auth/login (openapi.c). */
static const struct rest_field	login_fields[] = {
	{ "email",	REST_T_STRING,	REST_F_REQUIRED | REST_F_EMAIL,
					1, EMAIL_MAX },
	{ "password",	REST_T_STRING,	REST_F_REQUIRED, 1, 0 },
	{ NULL,		REST_T_STRING,	0, 0, 0 }
};

static const int		login_signup_errors[] = { 403, 503, 0 };
static const int		login_login_errors[] = { 401, 429, 503, 0 };

static const struct rest_op_doc	login_doc_signup = {
	"Create a user (403 when SIGNUP_DISABLED) and sign it in",
	login_fields, ROUTES_AUTH_TOKENS, login_signup_errors
};
static const struct rest_op_doc	login_doc_login = {
	"Sign in with an email and a password",
	login_fields, ROUTES_AUTH_TOKENS, login_login_errors
};

static const struct rest_op	login_op_signup = {
	REST_BODY, NULL, login_signup, routes_auth_tokens, &login_doc_signup
};
static const struct rest_op	login_op_signup_off = {
	0, NULL, login_signup_off, NULL, NULL
};
static const struct rest_op	login_op_login = {
	REST_BODY, NULL, login_check, routes_auth_tokens, &login_doc_login
};

const struct rest_route		routes_login_signup = {
	.path = "/auth/signup",
	.tag = "users",
	.page = page_auth_signup,
	.post = &login_op_signup,
	.other = &routes_auth_405_post
};
/* The same route with SIGNUP_DISABLED set. */
static const struct rest_route	login_route_signup_off = {
	.path = "/auth/signup",
	.tag = "users",
	.page = page_auth_signup,
	.post = &login_op_signup_off,
	.other = &routes_auth_405_post
};
const struct rest_route		routes_login_login = {
	.path = "/auth/login",
	.tag = "users",
	.page = page_auth_login,
	.post = &login_op_login,
	.other = &routes_auth_405_post
};

/* In the parent, before the workers fork: the table they share. */
void
routes_login_init(void)
{
	if ((login_throttle = throttle_create(LOGIN_THROTTLE_ENTRIES)) == NULL)
		fatal("routes_login_init: cannot map the login counters");
}

int
page_auth_signup(struct http_request *req)
{
	if (korio.signup_disabled)
		return (rest_dispatch(req, &login_route_signup_off));

	return (rest_dispatch(req, &routes_login_signup));
}

int
page_auth_login(struct http_request *req)
{
	return (rest_dispatch(req, &routes_login_login));
}

/* Store pool: the body, and whether the email is free. */
static void
login_signup(struct rest_call *call)
{
	json_t			*found;
	char			 email[EMAIL_MAX + 1];
	char			 now[STORE_ISO_LEN];
	enum store_result	 r;

	if (!rest_input(call) || !routes_auth_email(call,
	    json_object_get(call->body, "email"), email) ||
	    !login_password(call, json_object_get(call->body, "password")))
		return;

	/* Don't spend a PBKDF2 on an email that is taken. */
	r = routes_auth_find(call, email, &found);
	json_decref(found);
	if (r == STORE_OK) {
		rest_error(call, 400, ROUTES_AUTH_DUPLICATE, NULL);
		return;
	}
	if (r != STORE_NOTFOUND) {
		rest_store_error(call, r, "signup lookup");
		return;
	}

	store_oid_new(call->uid);
	store_now_iso(now);
	call->user = json_pack("{s:s,s:s,s:b,s:s,s:s}", "_id", call->uid,
	    "email", email, "admin", 0, "created", now, "updated", now);
	if (call->user == NULL) {
		rest_error(call, 500, "Internal server error", NULL);
		return;
	}

	(void)rest_next_hash(call, login_signup_hash);
}

/* Hash pool: the new user's salt and hash. */
static void
login_signup_hash(struct rest_call *call)
{
	json_t		*pw;
	char		 salt[PASSWORD_SALT_HEX_LEN + 1];
	char		 hash[PASSWORD_HASH_HEX_LEN + 1];

	pw = json_object_get(call->body, "password");
	if (!password_hash(json_string_value(pw), json_string_length(pw),
	    salt, hash) || !token_sid_new(call->sid)) {
		rest_error(call, 500, "Internal server error", NULL);
		return;
	}

	json_object_set_new(call->user, "hash", json_string(hash));
	json_object_set_new(call->user, "salt", json_string(salt));
	rest_next_store(call, login_signup_insert);
}

/* Store pool: the insert (the email may have been taken meanwhile). */
static void
login_signup_insert(struct rest_call *call)
{
	enum store_result	r;

	r = store_insert(call->sc, STORE_USERS, call->user);
	if (r == STORE_DUPLICATE)
		rest_error(call, 400, ROUTES_AUTH_DUPLICATE, NULL);
	else if (r != STORE_OK)
		rest_store_error(call, r, "signup insert");
	else
		call->status = 200;
}

static void
login_signup_off(struct rest_call *call)
{
	rest_error(call, 403, "Signup is disabled", NULL);
}

static int
login_password(struct rest_call *call, json_t *v)
{
	if (routes_auth_blank(v))
		return (rest_error(call, 400, "Validation failed",
		    "password is required"));
	if (!json_is_string(v))
		return (rest_error(call, 400, "Validation failed",
		    "password must be a string"));
	if (json_string_length(v) > PASSWORD_MAX_LEN ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return (rest_error(call, 400, "Validation failed",
		    "password must be at most %d bytes, without NUL",
		    PASSWORD_MAX_LEN));

	return (1);
}

/* Store pool: the body, the limits, the user. */
static void
login_check(struct rest_call *call)
{
	json_t			*em, *pw;
	char			 email[EMAIL_MAX + 1];
	uint32_t		 bad;
	enum store_result	 r;

	if (!rest_input(call))
		return;

	em = json_object_get(call->body, "email");
	pw = json_object_get(call->body, "password");
	if (routes_auth_blank(em) || routes_auth_blank(pw)) {
		rest_message(call, 401, "Missing credentials");
		return;
	}

	if (!login_take(call))
		return;

	r = STORE_NOTFOUND;
	if (json_is_string(pw) &&
	    routes_auth_email_norm(em, email, &bad) == EMAIL_OK)
		r = routes_auth_find(call, email, &call->user);
	if (r != STORE_OK && r != STORE_NOTFOUND) {
		login_untake(call);
		rest_store_error(call, r, "login lookup");
		return;
	}

	if (!rest_next_hash(call, login_verify))
		login_untake(call);
}

/* Hash pool: the password against the user's hash, or a dummy one. */
static void
login_verify(struct rest_call *call)
{
	json_t		*pw;
	char		 dsalt[PASSWORD_SALT_HEX_LEN + 1];
	char		 dhash[PASSWORD_HASH_HEX_LEN + 1];
	const char	*salt, *hash;
	int		 ok;

	salt = rest_str(call->user, "salt");
	hash = rest_str(call->user, "hash");
	if (salt == NULL || hash == NULL) {
		memset(dsalt, '0', PASSWORD_SALT_HEX_LEN);
		dsalt[PASSWORD_SALT_HEX_LEN] = '\0';
		memset(dhash, '0', PASSWORD_HASH_HEX_LEN);
		dhash[PASSWORD_HASH_HEX_LEN] = '\0';
		salt = dsalt;
		hash = dhash;
	}

	pw = json_object_get(call->body, "password");
	ok = json_is_string(pw) && password_verify(json_string_value(pw),
	    json_string_length(pw), salt, hash) && salt != dsalt;

	if (!ok || rest_str(call->user, "_id") == NULL ||
	    !token_sid_new(call->sid)) {
		rest_message(call, 401, LOGIN_INCORRECT);
		return;
	}

	login_succeeded(call);
	(void)snprintf(call->uid, sizeof(call->uid), "%s",
	    rest_str(call->user, "_id"));
	call->status = 200;
}

/*
 * One attempt against the limits of the client's address and of its
 * account. 0 when either is used up: the answer is then 429 with
 * Retry-After.
 */
static int
login_take(struct rest_call *call)
{
	struct throttle_rule	rules[2];
	size_t			n;
	int64_t			wait;
	int			secs;

	n = login_rules(call, rules);
	if ((wait = throttle_take(login_throttle, rules, n,
	    throttle_now())) == 0)
		return (1);

	secs = (int)((wait + 999) / 1000);
	call->retry_after = secs;

	return (rest_error(call, 429, "Too Many Requests",
	    "Too many failed logins; try again in %d seconds", secs));
}

/* The attempt login_take() counted was turned away before its check. */
static void
login_untake(struct rest_call *call)
{
	struct throttle_rule	rules[2];
	size_t			i, n;
	int64_t			now;

	now = throttle_now();
	n = login_rules(call, rules);
	for (i = 0; i < n; i++)
		throttle_give(login_throttle, rules[i].key, now);
}

/* No failure: the address gets its attempt back, the account is clear. */
static void
login_succeeded(struct rest_call *call)
{
	struct throttle_rule	rules[2];
	int64_t			now;

	now = throttle_now();
	if (login_rules(call, rules) == 2)
		throttle_clear(login_throttle, rules[1].key, now);
	throttle_give(login_throttle, rules[0].key, now);
}

/*
 * The rules of the call's attempt: its client address, then its account
 * when the body holds an email. Returns how many.
 */
static size_t
login_rules(struct rest_call *call, struct throttle_rule rules[2])
{
	u_int8_t	buf[NETADDR_KEYLEN];
	char		email[EMAIL_MAX + 1];
	uint32_t	bad;
	size_t		len;

	len = netaddr_key(&call->client, buf);
	rules[0].key = throttle_key(login_throttle, LOGIN_KEY_ADDRESS, buf,
	    len);
	rules[0].max = korio.fails_per_address;
	rules[0].window = korio.fails_address_window * 1000;

	if (routes_auth_email_norm(json_object_get(call->body, "email"), email,
	    &bad) != EMAIL_OK)
		return (1);

	rules[1].key = throttle_key(login_throttle, LOGIN_KEY_ACCOUNT, email,
	    strlen(email));
	rules[1].max = korio.fails_per_account;
	rules[1].window = korio.fails_account_window * 1000;

	return (2);
}
