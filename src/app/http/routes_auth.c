/*
 * /auth/refresh_token and /auth/me, as Terreno's addAuthRoutes answers
 * them (the contract's "Auth"), and what they share with /auth/signup and
 * /auth/login (routes_login.c, the routes that run PBKDF2): the tokens,
 * the emails, the user lookup.
 *
 * The three token routes never look at the Authorization header, so a
 * stale token can't keep a client from logging in again. They answer
 * 200 {"data":{"token","refreshToken"[,"userId"]}}: the work (pool thread)
 * checks the credentials and leaves the user id and session id in the
 * call; routes_auth_tokens() mints both tokens on the worker. Failures of
 * login and refresh are 401 {"message":...}, which @terreno/rtk shows as
 * is.
 *
 * Users are stored as passport-local-mongoose stores them (password.c):
 * "email" (unique, in the normal form of auth/email.c: NFKC, lowercase;
 * signup, login and PATCH /auth/me all take it so), "admin", "hash",
 * "salt", "created", "updated". PATCH /auth/me sets the email only;
 * "admin", "hash" and "salt" in its body are ignored, other unknown
 * fields are 400.
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "http/http.h"
#include "auth/email.h"
#include "auth/token.h"

static void	auth_refresh(struct rest_call *);
static void	auth_me(struct rest_call *);
static void	auth_me_patch(struct rest_call *);
static int	auth_me_field(struct rest_call *, const char *, json_t *,
		    json_t *);

/*
 * A user in the REST shape (rest_doc() drops "hash" and "salt"): what
 * GET /auth/me answers, and PATCH /auth/me may set (the fields the server
 * does not set).
 */
static const struct rest_field	auth_user_fields[] = {
	{ "email",	REST_T_STRING,	REST_F_REQUIRED | REST_F_EMAIL,
					1, EMAIL_MAX },
	{ "admin",	REST_T_BOOL,	REST_F_SERVER, 0, 0 },
	{ NULL,		REST_T_STRING,	0, 0, 0 }
};

static const struct rest_model	auth_user_model = {
	"User", STORE_USERS, auth_user_fields
};

static const struct rest_field	auth_refresh_fields[] = {
	{ "refreshToken", REST_T_STRING, REST_F_REQUIRED, 1, 0 },
	{ NULL,		REST_T_STRING,	0, 0, 0 }
};

static const int		auth_refresh_errors[] = { 401, 0 };

static const struct rest_op_doc	auth_doc_refresh = {
	"New tokens for a refresh token; the session id stays",
	auth_refresh_fields, ROUTES_AUTH_TOKENS, auth_refresh_errors
};
static const struct rest_op_doc	auth_doc_me = {
	"The signed-in user", NULL, NULL, NULL
};
static const struct rest_op_doc	auth_doc_me_patch = {
	"Change the signed-in user's email", NULL, NULL, NULL
};

/* Any method but POST on the token routes (routes_login.c's too). */
const struct rest_op		routes_auth_405_post = {
	0, NULL, NULL, NULL, NULL
};

static const struct rest_op	auth_op_refresh = {
	REST_BODY, NULL, auth_refresh, routes_auth_tokens, &auth_doc_refresh
};
static const struct rest_op	auth_op_me = {
	REST_AUTH, &auth_user_model, auth_me, NULL, &auth_doc_me
};
static const struct rest_op	auth_op_me_patch = {
	REST_AUTH | REST_BODY, &auth_user_model, auth_me_patch, NULL,
	&auth_doc_me_patch
};
static const struct rest_op	auth_op_405_me = {
	REST_AUTH, &auth_user_model, NULL, NULL, NULL
};

const struct rest_route		routes_auth_refresh = {
	.path = "/auth/refresh_token",
	.tag = "users",
	.page = page_auth_refresh,
	.post = &auth_op_refresh,
	.other = &routes_auth_405_post
};
const struct rest_route		routes_auth_me = {
	.path = "/auth/me",
	.tag = "users",
	.page = page_auth_me,
	.get = &auth_op_me,
	.patch = &auth_op_me_patch,
	.other = &auth_op_405_me
};

int
page_auth_refresh(struct http_request *req)
{
	return (rest_dispatch(req, &routes_auth_refresh));
}

int
page_auth_me(struct http_request *req)
{
	return (rest_dispatch(req, &routes_auth_me));
}

/* A valid refresh token of a user that still exists; the sid is kept. */
static void
auth_refresh(struct rest_call *call)
{
	struct token_claims	 cl;
	json_t			*rt, *user;
	enum store_result	 r;

	if (!rest_input(call))
		return;

	rt = json_object_get(call->body, "refreshToken");
	if (!json_is_string(rt) || json_string_length(rt) == 0) {
		rest_message(call, 401, "No refresh token");
		return;
	}

	if (token_verify(json_string_value(rt), call->secret,
	    strlen(call->secret), NULL, (int64_t)time(NULL), &cl) !=
	    TOKEN_OK || !store_oid_valid(cl.user_id)) {
		rest_message(call, 401, "Invalid refresh token");
		return;
	}

	r = store_get(call->sc, STORE_USERS, cl.user_id, &user);
	if (r == STORE_NOTFOUND) {
		rest_message(call, 401, "Invalid refresh token");
		return;
	}
	if (r != STORE_OK) {
		rest_store_error(call, r, "refresh lookup");
		return;
	}

	(void)snprintf(call->uid, sizeof(call->uid), "%s",
	    rest_str(user, "_id"));
	json_decref(user);

	if (cl.sid[0] != '\0')
		(void)snprintf(call->sid, sizeof(call->sid), "%s", cl.sid);
	else if (!token_sid_new(call->sid)) {
		rest_error(call, 500, "Internal server error", NULL);
		return;
	}

	call->status = 200;
}

static void
auth_me(struct rest_call *call)
{
	if (rest_input(call))
		rest_reply(call, 200, rest_doc_copy(call->user));
}

static void
auth_me_patch(struct rest_call *call)
{
	const char		*key;
	json_t			*val, *set, *after;
	enum store_result	 r;

	if (!rest_input(call) || (set = json_object()) == NULL)
		return;

	after = NULL;
	json_object_foreach(call->body, key, val) {
		if (!auth_me_field(call, key, val, set))
			goto cleanup;
	}

	r = rest_doc_update(call, STORE_USERS, call->uid, set, &after);
	if (r == STORE_DUPLICATE)
		rest_error(call, 400, ROUTES_AUTH_DUPLICATE, NULL);
	else if (r == STORE_NOTFOUND)
		rest_error(call, 401, "Unauthorized", NULL);
	else if (r != STORE_OK)
		rest_store_error(call, r, "update user");
	else
		rest_reply(call, 200, rest_doc(json_incref(after)));

cleanup:
	json_decref(set);
	json_decref(after);
}

/*
 * One field of a PATCH /auth/me body: a field of the user the server does
 * not set (the email) is set, the others (admin) and the stored ones a
 * client may send back are ignored, anything else is a 400.
 */
static int
auth_me_field(struct rest_call *call, const char *key, json_t *val,
    json_t *set)
{
	static const char	*ignored[] = { "_id", "id", "created",
				    "updated", "__v", "_updatedAt", "hash",
				    "salt", NULL };
	const struct rest_field	*f;
	char			 email[EMAIL_MAX + 1];
	size_t			 i;

	for (i = 0; ignored[i] != NULL; i++) {
		if (!strcmp(key, ignored[i]))
			return (1);
	}

	if ((f = rest_input_field(&auth_user_model, key)) == NULL)
		return (rest_error(call, 400, "Validation failed",
		    "%.64s is not a field of %s", key, auth_user_model.name));
	if (f->flags & REST_F_SERVER)
		return (1);

	/* The user's one settable field is its email. */
	if (!(f->flags & REST_F_EMAIL))
		return (rest_error(call, 400, "Validation failed",
		    "%s can't be set", f->name));
	if (!routes_auth_email(call, val, email))
		return (0);

	json_object_set_new(set, f->name, json_string(email));

	return (1);
}

/* Worker: both tokens for call->uid and call->sid, as the response. */
void
routes_auth_tokens(struct rest_call *call)
{
	struct token_claims	cl;
	char			access[TOKEN_MAX_LEN + 1];
	char			refresh[TOKEN_MAX_LEN + 1];
	int64_t			now;
	int			ok;

	memset(&cl, 0, sizeof(cl));
	(void)snprintf(cl.user_id, sizeof(cl.user_id), "%s", call->uid);
	(void)snprintf(cl.sid, sizeof(cl.sid), "%s", call->sid);
	now = (int64_t)time(NULL);
	cl.iat = now;

	cl.exp = now + korio.token_ttl;
	ok = token_mint(&cl, korio.token_issuer, korio.token_secret,
	    strlen(korio.token_secret), access, sizeof(access));
	cl.exp = now + korio.refresh_ttl;
	ok = ok && token_mint(&cl, NULL, korio.refresh_secret,
	    strlen(korio.refresh_secret), refresh, sizeof(refresh));

	if (!ok) {
		(void)snprintf(call->log, sizeof(call->log),
		    "auth: cannot mint tokens");
		rest_error(call, 500, "Internal server error", NULL);
	} else {
		rest_reply(call, 200, json_pack("{s:s,s:s}", "token", access,
		    "refreshToken", refresh));
		if (call->op != &auth_op_refresh)
			json_object_set_new(json_object_get(call->out, "data"),
			    "userId", json_string(call->uid));
	}

	explicit_bzero(access, sizeof(access));
	explicit_bzero(refresh, sizeof(refresh));
}

/* The user of a normalized email (signup, login), as store_find_one(). */
enum store_result
routes_auth_find(struct rest_call *call, const char *email, json_t **user)
{
	json_t			*ev;
	enum store_result	 r;

	ev = json_string(email);
	r = store_find_one(call->sc, STORE_USERS, "email", ev, user);
	json_decref(ev);

	return (r);
}

/* A checked, normalized email for signup and PATCH /auth/me, or a 400. */
int
routes_auth_email(struct rest_call *call, json_t *v, char out[EMAIL_MAX + 1])
{
	uint32_t	bad;

	if (routes_auth_blank(v))
		return (rest_error(call, 400, "Validation failed",
		    "email is required"));
	if (!json_is_string(v))
		return (rest_error(call, 400, "Validation failed",
		    "email must be a string"));

	switch (routes_auth_email_norm(v, out, &bad)) {
	case EMAIL_OK:
		return (1);
	case EMAIL_INVISIBLE:
		return (rest_error(call, 400, "Validation failed",
		    "email must not contain invisible characters (U+%04X)",
		    (unsigned int)bad));
	default:
		return (rest_error(call, 400, "Validation failed",
		    "email must be an email address of at most %d characters",
		    EMAIL_MAX));
	}
}

/*
 * The form emails are stored and found in (auth/email.c): NFKC,
 * lowercase, trimmed; refused with invisible characters.
 */
enum email_result
routes_auth_email_norm(json_t *v, char out[EMAIL_MAX + 1], uint32_t *bad)
{
	*bad = 0;
	if (!json_is_string(v)) {
		out[0] = '\0';
		return (EMAIL_INVALID);
	}

	return (email_normalize(json_string_value(v), json_string_length(v),
	    out, bad));
}

/* Absent, null or "": what passport-local calls missing. */
int
routes_auth_blank(json_t *v)
{
	return (v == NULL || json_is_null(v) ||
	    (json_is_string(v) && json_string_length(v) == 0));
}
