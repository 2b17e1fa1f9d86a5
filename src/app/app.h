/*
 * korio: the application on top of the Socket.IO plugin (src/sio).
 * Prototypes are grouped by the file that defines them.
 */

#ifndef KORIO_APP_H
#define KORIO_APP_H

#include <stddef.h>
#include <stdint.h>

struct http_request;

/* Runtime settings, read from the environment by the parent process. */
struct korio_config {
	int		production;
	char		*bind;
	char		*port;
	int		workers;
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
};

extern struct korio_config	korio;

/* config.c */
void	config_load(void);
void	config_secrets(void);

/* health.c */
int	page_healthz(struct http_request *);

/* http_util.c */
void	http_util_json(struct http_request *, int, const char *);
void	http_util_cors(struct http_request *);

#endif
