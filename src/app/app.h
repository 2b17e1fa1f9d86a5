/*
 * korio: the application on top of the Socket.IO plugin (src/sio), which
 * it reaches through sio.h only. What every part of it needs: the runtime
 * settings. The parts have their own headers: auth/ (tokens, passwords,
 * the access check), store/ (the store interface and its backends), http/
 * (the REST layer and its routes), realtime/ (sockets, rooms, presence),
 * hooks.h (the seam between the last two), job.h (the thread pool).
 * Prototypes are grouped by the file that defines them.
 */

#ifndef KORIO_APP_H
#define KORIO_APP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "netaddr.h"

/* korio's version: `korio --version`, korio_build_info (metrics), the
 * Debian package (make deb). */
#define KORIO_VERSION "0.2.0"

/* Who may GET /metrics (METRICS, METRICS_TOKEN). */
#define METRICS_OFF		0	/* nobody: 404 */
#define METRICS_PUBLIC		1	/* anyone */
#define METRICS_TOKEN		2	/* Authorization: Bearer <token> */

/* Runtime settings, read from the environment by the parent process. */
struct korio_config {
	int		production;
	char		*bind;
	char		*port;
	char		*tls_cert;	/* absolute path, NULL: plain HTTP */
	char		*tls_key;
	char		*redirect_port;	/* HTTP_REDIRECT_PORT, NULL: none */
	int		workers;
	u_int32_t	worker_max_conns;	/* Kore's worker_max_connections */
	char		*data_dir;
	char		*mongodb_uri;
	char		*token_secret;
	char		*refresh_secret;
	char		*token_issuer;
	int64_t		token_ttl;
	int64_t		refresh_ttl;
	int		signup_disabled;
	char		*frontend_url;
	int		ws_debug;
	int		debug_endpoints;
	size_t		body_limit;
	int		sqlite_full_sync;
	struct netaddr_list trusted_proxies;
	u_int32_t	max_conn_per_addr;	/* 0: no cap */
	u_int16_t	http_header_timeout;	/* seconds */
	u_int16_t	http_body_timeout;	/* seconds */
	u_int32_t	drain_seconds;		/* SIGTERM's drain, drain.c */
	int		hash_threads;		/* per worker */
	int		hash_queue;		/* per worker */
	u_int32_t	fails_per_address;	/* 0: no limit */
	int64_t		fails_address_window;	/* seconds */
	u_int32_t	fails_per_account;	/* 0: no limit */
	int64_t		fails_account_window;	/* seconds */
	int		metrics;		/* METRICS_OFF, ... */
	u_int8_t	metrics_token[32];	/* SHA-256 of METRICS_TOKEN */
	/* The Socket.IO Admin UI: off unless both credentials are set. */
	int		admin_ui;
	char		*admin_username;
	char		*admin_password;	/* wiped once read (plain) */
	int		admin_all_events;	/* ADMIN_UI_MODE=development */
	int		admin_readonly;
	/* Cluster mode (Socket.IO's Redis adapter): NULL when off. */
	char		*redis_url;		/* secret: may hold a password */
	char		*redis_prefix;
	size_t		redis_queue_max;	/* messages, per worker */
	size_t		redis_queue_bytes;
};

extern struct korio_config	korio;

/* config.c */
void	config_load(void);
void	config_secrets(void);

/* version.c */
void	version_print(void);
void	version_usage(FILE *);

/* mem.c */
void	*mem_malloc(size_t);
void	*mem_calloc(size_t, size_t);
char	*mem_strdup(const char *);

#endif
