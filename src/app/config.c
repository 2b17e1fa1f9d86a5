/*
 * Runtime settings from the environment (12-factor).
 *
 * The parent process reads every setting once in kore_parent_configure(),
 * before Kore parses the baked-in kore.conf and before the workers fork, so
 * workers inherit the parsed values. A bad value is a start-up error: the
 * process exits with a message that names the variable.
 *
 * In development (KORIO_ENV unset or anything but "production") missing
 * token secrets are generated once and kept under DATA_DIR, so a fresh
 * checkout runs with `make run`; in production they are required.
 */

#include <sys/stat.h>

#include <kore/kore.h>

#include <openssl/sha.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "auth/token.h"
#include "sio.h"

#define SECRET_BYTES		32
#define SECRET_MIN_LEN		16

struct korio_config	korio;

static char	*config_str(const char *, const char *);
static int	config_bool(const char *, int);
static long	config_num(const char *, long, long, long);
static int64_t	config_duration(const char *, const char *);
static void	config_secret(char **, const char *, const char *);
static int	config_secret_read(const char *, char **);
static void	config_secret_write(const char *, char **);
static void	config_proxies(void);
static void	config_tls(void);
static void	config_redirect(void);
static char	*config_tls_file(const char *, const char *);
static void	config_logins(void);
static void	config_metrics(void);
static void	config_admin(void);
static void	config_data_dir(void);
static void	config_redis(void);
static void	config_private(const char *);

void
config_load(void)
{
	const char	*env;

	env = getenv("KORIO_ENV");
	korio.production = (env != NULL && !strcmp(env, "production"));

	korio.bind = config_str("BIND", "127.0.0.1");
	korio.port = config_str("PORT", "4000");
	(void)config_num("PORT", 4000, 1, 65535);
	korio.workers = (int)config_num("WORKERS", 0, 1, 64);
	/* under the 19000 open files each worker gets (kore.conf) */
	korio.worker_max_conns = (u_int32_t)config_num(
	    "WORKER_MAX_CONNECTIONS", 8192, 16, 18000);
	config_tls();
	config_redirect();
	korio.data_dir = config_str("DATA_DIR", "./data");
	korio.mongodb_uri = config_str("MONGODB_URI", NULL);
	korio.token_issuer = config_str("TOKEN_ISSUER", NULL);
	korio.token_ttl = config_duration("TOKEN_EXPIRES_IN", "15m");
	korio.refresh_ttl = config_duration("REFRESH_TOKEN_EXPIRES_IN", "30d");
	korio.signup_disabled = config_bool("SIGNUP_DISABLED", 0);
	korio.frontend_url = config_str("FRONTEND_URL", "*");
	korio.ws_debug = config_bool("WEBSOCKETS_DEBUG", 0);
	korio.debug_endpoints = config_bool("KORIO_DEBUG_ENDPOINTS", 0);
	korio.body_limit = (size_t)config_num("BODY_LIMIT", 1048576,
	    1024, 1048576);
	korio.sqlite_full_sync = config_bool("SQLITE_FULL_SYNC", 0);
	korio.max_conn_per_addr = (u_int32_t)config_num(
	    "MAX_CONNECTIONS_PER_ADDRESS", 256, 0, 60000);
	korio.http_header_timeout = (u_int16_t)config_num(
	    "HTTP_HEADER_TIMEOUT", 5, 1, 3600);
	korio.http_body_timeout = (u_int16_t)config_num("HTTP_BODY_TIMEOUT",
	    10, 1, 3600);
	korio.drain_seconds = (u_int32_t)config_num("DRAIN_SECONDS", 10, 0,
	    3600);
	config_proxies();
	config_logins();
	config_metrics();
	config_admin();
	config_redis();

	config_data_dir();
}

void
config_secrets(void)
{
	config_secret(&korio.token_secret, "TOKEN_SECRET", "token_secret");
	config_secret(&korio.refresh_secret, "REFRESH_TOKEN_SECRET",
	    "refresh_token_secret");

	if (!strcmp(korio.token_secret, korio.refresh_secret))
		fatal("TOKEN_SECRET and REFRESH_TOKEN_SECRET must differ");
}

static char *
config_str(const char *name, const char *def)
{
	const char	*v;

	/* Empty is unset, as for every setting ("NAME=" in an env file). */
	if ((v = getenv(name)) == NULL || *v == '\0')
		v = def;
	if (v == NULL)
		return (NULL);
	return (mem_strdup(v));
}

static int
config_bool(const char *name, int def)
{
	const char	*v;

	if ((v = getenv(name)) == NULL || *v == '\0')
		return (def);
	if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes"))
		return (1);
	if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no"))
		return (0);

	fatal("%s: expected true or false, got '%s'", name, v);
	return (def);
}

static long
config_num(const char *name, long def, long min, long max)
{
	const char	*v;
	char		*end;
	long		n;

	if ((v = getenv(name)) == NULL || *v == '\0')
		return (def);

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		fatal("%s: expected a number from %ld to %ld, got '%s'",
		    name, min, max, v);

	return (n);
}

static int64_t
config_duration(const char *name, const char *def)
{
	const char	*v;
	int64_t		secs;

	if ((v = getenv(name)) == NULL || *v == '\0')
		v = def;

	if (!token_duration_parse(v, &secs))
		fatal("%s: expected a duration like 900, 900s, 15m or 30d, "
		    "got '%s'", name, v);

	return (secs);
}

static void
config_secret(char **out, const char *name, const char *file)
{
	const char	*v;
	char		path[PATH_MAX];
	int		len;

	if ((v = getenv(name)) != NULL && *v != '\0') {
		if (strlen(v) < SECRET_MIN_LEN)
			fatal("%s must be at least %d characters",
			    name, SECRET_MIN_LEN);
		*out = mem_strdup(v);
		return;
	}

	if (korio.production)
		fatal("%s is required when KORIO_ENV=production", name);

	len = snprintf(path, sizeof(path), "%s/%s", korio.data_dir, file);
	if (len < 0 || (size_t)len >= sizeof(path))
		fatal("DATA_DIR is too long");

	if (config_secret_read(path, out)) {
		kore_log(LOG_NOTICE, "development: %s not set, using the one "
		    "kept in %s", name, path);
		return;
	}

	config_secret_write(path, out);
	kore_log(LOG_NOTICE, "development: %s not set, generated one and "
	    "kept it in %s", name, path);
}

static int
config_secret_read(const char *path, char **out)
{
	int		fd;
	ssize_t		n;
	char		buf[256];

	if ((fd = open(path, O_RDONLY)) == -1) {
		if (errno != ENOENT)
			fatal("%s: %s", path, errno_s);
		return (0);
	}

	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n < SECRET_MIN_LEN)
		fatal("%s: unreadable or too short; delete it to regenerate",
		    path);

	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (strlen(buf) < SECRET_MIN_LEN)
		fatal("%s: too short; delete it to regenerate", path);

	*out = mem_strdup(buf);
	explicit_bzero(buf, sizeof(buf));

	return (1);
}

static void
config_secret_write(const char *path, char **out)
{
	int		fd;
	size_t		i;
	u_int8_t	raw[SECRET_BYTES];
	char		hex[SECRET_BYTES * 2 + 2];

	if (getentropy(raw, sizeof(raw)) == -1)
		fatal("getentropy: %s", errno_s);

	for (i = 0; i < sizeof(raw); i++)
		(void)snprintf(hex + i * 2, 3, "%02x", raw[i]);
	hex[SECRET_BYTES * 2] = '\n';
	hex[SECRET_BYTES * 2 + 1] = '\0';

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1)
		fatal("%s: %s", path, errno_s);
	if (write(fd, hex, SECRET_BYTES * 2 + 1) != SECRET_BYTES * 2 + 1 ||
	    fsync(fd) == -1)
		fatal("%s: write: %s", path, errno_s);
	(void)close(fd);

	hex[SECRET_BYTES * 2] = '\0';
	*out = mem_strdup(hex);

	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(hex, sizeof(hex));
}

/*
 * TLS_CERT and TLS_KEY: PEM files; with both set korio serves https and
 * wss on PORT (Kore's keymgr process holds the key; SIGHUP re-reads
 * both). Set both or neither; a file that is missing, unreadable or not
 * PEM stops start-up.
 */
static void
config_tls(void)
{
	const char	*cert, *key;

	cert = getenv("TLS_CERT");
	key = getenv("TLS_KEY");
	if (cert != NULL && *cert == '\0')
		cert = NULL;
	if (key != NULL && *key == '\0')
		key = NULL;

	if (cert == NULL && key == NULL)
		return;
	if (cert == NULL || key == NULL)
		fatal("TLS_CERT and TLS_KEY: set both to serve https, or "
		    "neither");

	korio.tls_cert = config_tls_file("TLS_CERT", cert);
	korio.tls_key = config_tls_file("TLS_KEY", key);
}

/* HTTP_REDIRECT_PORT: plain HTTP answering 308 to https (TLS only). */
static void
config_redirect(void)
{
	korio.redirect_port = config_str("HTTP_REDIRECT_PORT", NULL);
	if (korio.redirect_port == NULL)
		return;
	(void)config_num("HTTP_REDIRECT_PORT", 0, 1, 65535);
	if (korio.tls_cert == NULL)
		fatal("HTTP_REDIRECT_PORT needs TLS_CERT and TLS_KEY");
	if (!strcmp(korio.redirect_port, korio.port))
		fatal("HTTP_REDIRECT_PORT must differ from PORT");
}

static char *
config_tls_file(const char *name, const char *path)
{
	int		fd;
	ssize_t		n;
	char		buf[4096], full[PATH_MAX];

	if ((fd = open(path, O_RDONLY)) == -1)
		fatal("%s %s: cannot read: %s", name, path, errno_s);
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n < 0)
		fatal("%s %s: cannot read: %s", name, path, errno_s);
	buf[n] = '\0';
	if (strstr(buf, "-----BEGIN ") == NULL)
		fatal("%s %s: not a PEM file", name, path);
	explicit_bzero(buf, sizeof(buf));

	/* Kore's keymgr and workers open it again later, maybe elsewhere. */
	if (realpath(path, full) == NULL)
		fatal("%s %s: %s", name, path, errno_s);

	return (mem_strdup(full));
}

/* TRUSTED_PROXIES: whose X-Forwarded-For names the client. */
static void
config_proxies(void)
{
	const char	*v;

	if ((v = getenv("TRUSTED_PROXIES")) == NULL)
		v = "127.0.0.1";
	if (!netaddr_list_parse(v, &korio.trusted_proxies))
		fatal("TRUSTED_PROXIES: expected addresses or CIDR ranges "
		    "(at most %d), got '%s'", NETADDR_LIST_MAX, v);
}

/*
 * Password hashing (PBKDF2, ~0.1 s of CPU) has its own threads and a
 * bounded queue in each worker (job.c); failed logins are limited per
 * client address and per account (routes_login.c).
 */
static void
config_logins(void)
{
	korio.hash_threads = (int)config_num("HASH_THREADS", 1, 1, 16);
	korio.hash_queue = (int)config_num("HASH_QUEUE", 16, 1, 10000);
	korio.fails_per_address = (u_int32_t)config_num(
	    "LOGIN_FAILS_PER_ADDRESS", 10, 0, 1000000);
	korio.fails_address_window = config_duration(
	    "LOGIN_FAILS_ADDRESS_WINDOW", "1m");
	korio.fails_per_account = (u_int32_t)config_num(
	    "LOGIN_FAILS_PER_ACCOUNT", 5, 0, 1000000);
	korio.fails_account_window = config_duration(
	    "LOGIN_FAILS_ACCOUNT_WINDOW", "15m");
}

/*
 * The Socket.IO Admin UI (realtime/admin.c, http/admin_ui.c): on when
 * both credentials are set. The values are never logged, not even in an
 * error. ADMIN_UI_MODE is admin-ui's "mode": development sends the UI
 * every socket, room and event, production the server stats alone; its
 * default follows KORIO_ENV, as admin-ui's follows NODE_ENV.
 */
static void
config_admin(void)
{
	const char	*mode;

	korio.admin_username = config_str("ADMIN_UI_USERNAME", "");
	korio.admin_password = config_str("ADMIN_UI_PASSWORD", "");
	if (*korio.admin_username == '\0' && *korio.admin_password == '\0')
		return;
	if (*korio.admin_username == '\0' || *korio.admin_password == '\0')
		fatal("ADMIN_UI_USERNAME and ADMIN_UI_PASSWORD: set both to "
		    "turn the Admin UI on, or neither");

	mode = getenv("ADMIN_UI_MODE");
	if (mode == NULL || *mode == '\0')
		mode = korio.production ? "production" : "development";
	if (!strcmp(mode, "development"))
		korio.admin_all_events = 1;
	else if (strcmp(mode, "production"))
		fatal("ADMIN_UI_MODE: expected development or production, "
		    "got '%s'", mode);

	korio.admin_readonly = config_bool("ADMIN_UI_READONLY", 0);
	korio.admin_ui = 1;
}

/*
 * REDIS_URL turns cluster mode on (sio.h, src/sio/cluster): korio joins a
 * Socket.IO cluster of @socket.io/redis-adapter nodes. The nodes share
 * the store, so it needs MONGODB_URI. The URL may hold a password: it is
 * never logged, not even in an error.
 */
static void
config_redis(void)
{
	const char	*p;

	korio.redis_url = config_str("REDIS_URL", NULL);
	korio.redis_prefix = config_str("REDIS_PREFIX", "socket.io");
	korio.redis_queue_max = (size_t)config_num("REDIS_QUEUE_MAX", 1000,
	    1, 10000000);
	korio.redis_queue_bytes = (size_t)config_num("REDIS_QUEUE_BYTES",
	    8 * 1024 * 1024, 1024, 1024L * 1024 * 1024);
	for (p = korio.redis_prefix; *p != '\0'; p++) {
		if (*p == '#' || *p == '*' || *p == '?' || *p == '[' ||
		    *p <= ' ')
			fatal("REDIS_PREFIX: no '#', '*', '?', '[' or spaces, "
			    "got '%s'", korio.redis_prefix);
	}
	if (korio.redis_url == NULL)
		return;
	if (!sio_cluster_url_valid(korio.redis_url))
		fatal("REDIS_URL: expected redis://[[user]:password@]host"
		    "[:port][/db] (value not shown)");
	if (korio.mongodb_uri == NULL)
		fatal("REDIS_URL needs a store all nodes share: set "
		    "MONGODB_URI (the embedded SQLite store is this node's "
		    "alone)");
}

/*
 * DATA_DIR holds the store (password hashes) and the secrets: every file
 * korio creates is its own alone (umask 077), a directory that others can
 * write is refused (they could swap the store or a secret), and store
 * files an older korio made readable by others are made private.
 */
static void
config_data_dir(void)
{
	struct stat	st;

	(void)umask(077);

	if (mkdir(korio.data_dir, 0700) == -1 && errno != EEXIST)
		fatal("DATA_DIR %s: cannot create: %s", korio.data_dir, errno_s);
	if (stat(korio.data_dir, &st) == -1)
		fatal("DATA_DIR %s: %s", korio.data_dir, errno_s);
	if (!S_ISDIR(st.st_mode))
		fatal("DATA_DIR %s: not a directory", korio.data_dir);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		fatal("DATA_DIR %s is writable by others (mode %03o): "
		    "chmod go-w it", korio.data_dir, st.st_mode & 0777);

	config_private("korio.db");
	config_private("korio.db-wal");
	config_private("korio.db-shm");
	config_private("token_secret");
	config_private("refresh_token_secret");
}

/*
 * METRICS and METRICS_TOKEN: who may GET /metrics. Off unless METRICS is
 * public or METRICS_TOKEN is set (METRICS=off still turns it off). Only
 * the token's SHA-256 is kept; neither is ever logged.
 */
static void
config_metrics(void)
{
	const char	*mode, *token;

	mode = getenv("METRICS");
	if (mode != NULL && *mode == '\0')
		mode = NULL;
	token = getenv("METRICS_TOKEN");
	if (token != NULL && *token == '\0')
		token = NULL;

	korio.metrics = token != NULL ? METRICS_TOKEN : METRICS_OFF;
	if (mode == NULL || !strcmp(mode, "token")) {
		if (mode != NULL && token == NULL)
			fatal("METRICS=token needs METRICS_TOKEN");
	} else if (!strcmp(mode, "public")) {
		if (token != NULL)
			fatal("METRICS=public and METRICS_TOKEN: set one of "
			    "them");
		korio.metrics = METRICS_PUBLIC;
	} else if (!strcmp(mode, "off") || !strcmp(mode, "false") ||
	    !strcmp(mode, "0")) {
		korio.metrics = METRICS_OFF;
	} else {
		fatal("METRICS: expected off, public or token, got '%s'",
		    mode);
	}

	if (korio.metrics == METRICS_TOKEN) {
		if (strlen(token) < SECRET_MIN_LEN)
			fatal("METRICS_TOKEN must be at least %d characters",
			    SECRET_MIN_LEN);
		(void)SHA256((const unsigned char *)token, strlen(token),
		    korio.metrics_token);
	}
}

static void
config_private(const char *file)
{
	char		path[PATH_MAX];
	struct stat	st;
	int		len;

	len = snprintf(path, sizeof(path), "%s/%s", korio.data_dir, file);
	if (len < 0 || (size_t)len >= sizeof(path))
		fatal("DATA_DIR %s: path too long", korio.data_dir);
	if (stat(path, &st) == -1 || (st.st_mode & 077) == 0)
		return;

	if (chmod(path, 0600) == -1)
		fatal("%s: chmod 0600: %s", path, errno_s);
	kore_log(LOG_NOTICE, "%s was readable by others: made 0600", path);
}
