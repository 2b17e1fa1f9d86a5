/*
 * http/http.h: korio's HTTP side, what its files share: the reply helpers
 * (http_util.c), the REST layer (rest.c, rest_reply.c, rest_input.c,
 * rest_list.c, rest_query.c, rest_doc.c, rest_routes.c), the route
 * handlers Kore calls (routes_*.c, health.c), with what the /auth routes
 * share, and /openapi.json (openapi.c), made from the REST layer's
 * tables. It reaches the store through store/store.h only, and the
 * realtime side through hooks.h only.
 */

#ifndef KORIO_HTTP_H
#define KORIO_HTTP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hooks.h"
#include "netaddr.h"
#include "auth/email.h"
#include "store/store.h"

struct connection;
struct http_request;
struct netaddr;

/* admin_ui.c */
int	page_admin_ui(struct http_request *);

/* connlimit.c */
void	connlimit_parent_init(void);
void	connlimit_worker_init(void);

/* health.c */
int	page_healthz(struct http_request *);
int	page_readyz(struct http_request *);
int	page_livez(struct http_request *);
int	page_realtime_health(struct http_request *);

/* http_reqid.c */
void		 http_reqid_init(void);
const char	*http_reqid(struct http_request *);
int		 page_not_found(struct http_request *);

/* http_util.c */
void	http_util_json(struct http_request *, int, const char *);
void	http_util_cors(struct http_request *);
void	http_util_json_t(struct http_request *, int, json_t *);
void	http_util_empty(struct http_request *, int);
void	http_util_preflight(struct http_request *);
int	http_util_date(const char *, int64_t *, int *);
void	http_util_peer(struct connection *, struct netaddr *);
void	http_util_client(struct http_request *, struct netaddr *);

/*
 * The REST layer (rest.c, rest_reply.c, rest_input.c, rest_list.c,
 * rest_query.c, rest_doc.c): what every /auth, /todos and /projects
 * handler shares. A handler picks a struct rest_op for the request's
 * method (rest_dispatch() with a struct rest_route) and hands it to
 * rest_run(), which answers OPTIONS preflights, enforces the body limit,
 * checks the bearer token, parses the list query, then runs op->work on a
 * pool thread with a struct rest_call. The work loads the caller (401
 * when gone), decides the response (status and body) and the post-write
 * hook; rest_run() sends the response and calls the hook on the worker.
 */

/* Field types and flags of a model's schema. */
enum rest_type {
	REST_T_STRING = 0,
	REST_T_BOOL,
	REST_T_OID,
	REST_T_OID_ARRAY
};

#define REST_F_REQUIRED		0x01	/* required on create */
#define REST_F_QUERY		0x02	/* usable as a list filter */
#define REST_F_SORT		0x04	/* usable as a sort key */
#define REST_F_NULL		0x08	/* null removes the field */
#define REST_F_SERVER		0x10	/* set by the server (ownerId) */
#define REST_F_EMAIL		0x20	/* an email, in auth/email.c's form */

struct rest_field {
	const char		*name;
	enum rest_type		 type;
	int			 flags;
	size_t			 min;	/* string length in UTF-16 units */
	size_t			 max;
};

struct rest_model {
	const char		*name;		/* "Todo": for messages */
	enum store_coll		 coll;
	const struct rest_field	*fields;	/* ends with a NULL name */
};

/* rest_op flags. */
#define REST_AUTH		0x01	/* needs a signed-in caller */
#define REST_BODY		0x02	/* reads a JSON object body */
#define REST_LIST		0x04	/* parses the list query */
#define REST_CONFLICT		0x08	/* If-Unmodified-Since: 409 */

struct rest_call;

/*
 * What /openapi.json (openapi.c) says of an op that its model and flags
 * don't: the token routes' bodies and answers, a summary, statuses the
 * work may answer beyond those its flags imply. Every member may be NULL.
 */
struct rest_op_doc {
	const char		*summary;
	const struct rest_field	*body;		/* request fields, NULL ends */
	const char		*schema;	/* success body (a component) */
	const int		*errors;	/* other errors, 0 ends */
};

struct rest_op {
	int			 flags;
	const struct rest_model	*model;
	/* Pool thread; NULL answers 405 (after the auth check). */
	void			(*work)(struct rest_call *);
	/* Worker, after the work: may rewrite the response (tokens). */
	void			(*done)(struct rest_call *);
	const struct rest_op_doc *doc;		/* openapi.c; NULL: none */
};

/*
 * A REST route: where it is, the handler kore.conf routes it to, its ops
 * by method (rest_dispatch; NULL: the route has none). rest_routes[] lists
 * them all: openapi.c documents them, rest_routes_check() holds kore.conf
 * to them and rest.c answers a 405's Allow from the ops.
 */
struct rest_route {
	const char		*path;		/* OpenAPI's: "/todos/{id}" */
	const char		*tag;		/* its tag there: "todos" */
	int			(*page)(struct http_request *);
	const struct rest_op	*get;		/* GET and HEAD */
	const struct rest_op	*post;
	const struct rest_op	*patch;
	const struct rest_op	*delete;
	const struct rest_op	*other;		/* any other method: a 405 op */
};

#define REST_PAGE_MAX		24
#define REST_DEFAULT_LIMIT	100
#define REST_MAX_LIMIT		500
#define REST_DETAIL_MAX		256	/* error title and detail bytes */
#define REST_STORE_RETRY_SEC	2	/* Retry-After of a 503 for the store */

/* A parsed list query (REST_LIST). */
struct rest_list {
	size_t			 limit;
	size_t			 skip;
	char			 page[REST_PAGE_MAX];	/* "" when not sent */
	char			 sort[STORE_FIELD_MAX + 1];	/* "" */
	int			 desc;
	json_t			*filters;	/* field -> typed value */
};

struct rest_call {
	/*
	 * Set on the worker before the work runs; read-only there, except
	 * uid and sid, which the token routes (no REST_AUTH) fill in for
	 * op->done to mint tokens from.
	 */
	const struct rest_op	*op;
	const struct rest_route	*route;
	int			 method;
	struct netaddr		 client;	/* http_util_client() */
	char			 uid[STORE_OID_LEN + 1];	/* the caller */
	char			 sid[64];			/* its session */
	char			 id[STORE_OID_LEN + 1];	/* "" if malformed */
	char			*raw;		/* body bytes, NUL-terminated */
	size_t			 rawlen;
	struct rest_list	 list;
	json_t			*in_error;	/* a 400 found while parsing */
	int64_t			 since;		/* -1: no conflict check */
	int			 since_sec;	/* since has 1 s precision */
	const char		*secret;	/* refresh token secret */

	/* Set by the work. */
	struct store_conn	*sc;		/* rest.c: held during work */
	json_t			*body;		/* parsed body object */
	json_t			*user;		/* the caller, as stored */
	int			 status;
	json_t			*out;		/* response body, NULL: none */
	struct hook_event	 hook;		/* run after the answer */
	char			 log[160];	/* logged on the worker */
	int			 retry_after;	/* seconds; 0: no header */
	void			(*next)(struct rest_call *);	/* rest.c */
};

/* rest.c */
int		 rest_dispatch(struct http_request *,
		    const struct rest_route *);
int		 rest_next_hash(struct rest_call *,
		    void (*)(struct rest_call *));
void		 rest_next_store(struct rest_call *,
		    void (*)(struct rest_call *));

/* rest_reply.c */
int		 rest_error(struct rest_call *, int, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
int		 rest_message(struct rest_call *, int, const char *);
int		 rest_store_error(struct rest_call *, enum store_result,
		    const char *);
int		 rest_not_found(struct rest_call *, const struct rest_model *);
int		 rest_forbidden(struct rest_call *, const struct rest_model *);
void		 rest_reply(struct rest_call *, int, json_t *);
int		 rest_is_admin(const json_t *);
int		 rest_is_member(const json_t *, const char *);
const char	*rest_str(const json_t *, const char *);
json_t		*rest_error_body(int, const char *, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

/* rest_input.c */
int		 rest_input(struct rest_call *);
int		 rest_input_body(struct rest_call *, const struct rest_model *,
		    int, const char *, json_t **);
int		 rest_input_conflict(struct rest_call *, json_t *);
void		 rest_input_since(struct http_request *, struct rest_call *);
void		 rest_input_path_id(const char *, char [STORE_OID_LEN + 1]);
const struct rest_field	*rest_input_field(const struct rest_model *,
			    const char *);
json_t		*rest_input_oid(const char *);
void		 rest_input_oid_lower(const char *, char [STORE_OID_LEN + 1]);

/* rest_list.c */
void		 rest_list_parse(struct rest_call *, const char *);
int		 rest_list_run(struct rest_call *, struct store_filter *,
		    size_t);

/* rest_query.c */
extern const char *const	rest_query_stamps[];

int		 rest_query_parse(struct rest_call *, const char *);

/* rest_routes.c */
extern const struct rest_route *const	rest_routes[];

void		 rest_routes_check(void);

/* openapi.c */
void		 openapi_init(void);
int		 page_openapi(struct http_request *);

/* openapi_paths.c */
json_t		*openapi_paths(void);

/* openapi_schema.c: how openapi_field() describes a field. */
#define OPENAPI_DOC		0	/* in a document */
#define OPENAPI_BODY		1	/* in a request body */
#define OPENAPI_QUERY		2	/* as a list filter */
#define OPENAPI_NAME_MAX	128

json_t		*openapi_components(void);
json_t		*openapi_field(const struct rest_field *, int);
json_t		*openapi_oid(void);
json_t		*openapi_ref(const char *);
json_t		*openapi_json_content(json_t *);
void		 openapi_need(json_t *, const char *);

/* rest_doc.c */
json_t		*rest_doc(json_t *);
json_t		*rest_doc_copy(const json_t *);
int		 rest_doc_insert(struct rest_call *, enum store_coll, json_t *,
		    const char *);
enum store_result	 rest_doc_update(struct rest_call *, enum store_coll,
			    const char *, json_t *, json_t **);
int		 rest_doc_result(struct rest_call *, enum store_result,
		    const struct rest_model *, const char *);
void		 rest_doc_hook(struct rest_call *, enum hook_kind, json_t *,
		    json_t *);
void		 rest_doc_hook_before(struct rest_call *, json_t *, json_t *);
void		 rest_doc_hook_todos(struct rest_call *, json_t *);

/* routes_auth.c */
#define ROUTES_AUTH_DUPLICATE	\
	"A user with the given username is already registered"
/* The component of the token routes' answer (openapi.c). */
#define ROUTES_AUTH_TOKENS	"AuthTokens"

extern const struct rest_op	routes_auth_405_post;
extern const struct rest_route	routes_auth_refresh;
extern const struct rest_route	routes_auth_me;

int		 page_auth_refresh(struct http_request *);
int		 page_auth_me(struct http_request *);
void		 routes_auth_tokens(struct rest_call *);
enum store_result	 routes_auth_find(struct rest_call *, const char *,
			    json_t **);
int		 routes_auth_email(struct rest_call *, json_t *,
		    char [EMAIL_MAX + 1]);
enum email_result	 routes_auth_email_norm(json_t *, char [EMAIL_MAX + 1],
			    uint32_t *);
int		 routes_auth_blank(json_t *);

/* routes_login.c */
extern const struct rest_route	routes_login_signup;
extern const struct rest_route	routes_login_login;

void	routes_login_init(void);
int	page_auth_signup(struct http_request *);
int	page_auth_login(struct http_request *);

/* routes_todos.c */
extern const struct rest_route	routes_todos_all;
extern const struct rest_route	routes_todos_one;

int	page_todos(struct http_request *);
int	page_todos_one(struct http_request *);

/* routes_projects.c */
extern const struct rest_route	routes_projects_all;
extern const struct rest_route	routes_projects_one;

int	page_projects(struct http_request *);
int	page_projects_one(struct http_request *);

#endif /* !KORIO_HTTP_H */
