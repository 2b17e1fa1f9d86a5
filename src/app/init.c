/*
 * Start-up of the korio binary: Kore's single-binary hooks.
 *
 * kore_parent_configure() runs in the parent before the baked-in kore.conf
 * is parsed: it makes stdout line-buffered (so forked workers never repeat
 * buffered log lines), answers --version and --help (init_args()), sets
 * the log format (LOG_FORMAT, log/log.c) before anything is logged, takes
 * Kore's command line flags, reads the
 * environment, creates the listening server "plain" that kore.conf
 * attaches its domain to, on BIND:PORT (TLS with TLS_CERT and TLS_KEY;
 * then HTTP_REDIRECT_PORT's plain server "redirect" too), with WORKERS
 * workers, and maps
 * what the workers share (the broadcast counter, the login counters,
 * the metrics' blocks).
 *
 * kore_worker_configure() runs in each worker after the sandbox is in
 * place: it takes its metrics block (first, so that all that follows is
 * counted), sets Kore's request timeouts from the environment, takes its
 * part in the per-address connection cap (http/connlimit.c, whose table
 * kore_parent_configure() mapped before the fork), gives every request
 * its id (http/http_reqid.c), checks that kore.conf routes the REST paths
 * to their handlers (http/rest_routes.c), makes /openapi.json's document
 * (http/openapi.c) and opens the store for that worker.
 *
 * The seccomp filter below adds what the app needs on top of Kore's own
 * list: threads (the job pool, the SQLite checkpoint, the MongoDB pool)
 * and the job pool's eventfd, TCP sockets for
 * MongoDB, the file calls SQLite makes, and reading directories (the open
 * descriptors of /proc/<pid>/fd, for GET /metrics).
 */

#include <sys/types.h>

#include <kore/kore.h>
#include <kore/http.h>
#include <kore/seccomp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "drain.h"
#include "http/http.h"
#include "log/log.h"
#include "store/db.h"
#include "job.h"
#include "metrics/metrics.h"
#include "realtime/realtime.h"
#include "sio.h"

extern u_int8_t		worker_count;

void	kore_parent_configure(int, char **);
void	kore_worker_configure(void);
void	kore_worker_teardown(void);
void	kore_seccomp_hook(void);

static void	init_args(int, char **);
static void	init_listen(void);

KORE_SECCOMP_FILTER("korio",
	/* pthreads: the job pool, the libmongoc pool's monitor thread. */
	KORE_SYSCALL_ALLOW(clone),
	KORE_SYSCALL_ALLOW(clone3),
	KORE_SYSCALL_ALLOW(eventfd2),
	KORE_SYSCALL_ALLOW(rseq),
	KORE_SYSCALL_ALLOW(set_robust_list),
	KORE_SYSCALL_ALLOW(sched_yield),
	KORE_SYSCALL_ALLOW(sched_getaffinity),
	/* MongoDB over TCP, DNS. */
	KORE_SYSCALL_ALLOW(socket),
	KORE_SYSCALL_ALLOW(connect),
	KORE_SYSCALL_ALLOW(getsockopt),
	KORE_SYSCALL_ALLOW(getsockname),
	KORE_SYSCALL_ALLOW(getpeername),
	KORE_SYSCALL_ALLOW(shutdown),
	KORE_SYSCALL_ALLOW(sendmsg),
	KORE_SYSCALL_ALLOW(recvmsg),
	KORE_SYSCALL_ALLOW(sendmmsg),
	KORE_SYSCALL_ALLOW(uname),
	/* SQLite: stat, locks, WAL and its shared memory, durability. */
	KORE_SYSCALL_ALLOW(newfstatat),
	KORE_SYSCALL_ALLOW(pread64),
	KORE_SYSCALL_ALLOW(pwrite64),
	KORE_SYSCALL_ALLOW(fsync),
	KORE_SYSCALL_ALLOW(fdatasync),
	KORE_SYSCALL_ALLOW(ftruncate),
	KORE_SYSCALL_ALLOW(fchown),
	KORE_SYSCALL_ALLOW(fchmod),
	KORE_SYSCALL_ALLOW(getpid),
	KORE_SYSCALL_ALLOW(mremap),
	/* /proc/<pid>/fd, counted for GET /metrics. */
	KORE_SYSCALL_ALLOW(getdents64),
	/* Sanitizer runtimes and glibc internals. */
	KORE_SYSCALL_ALLOW(prctl),
	KORE_SYSCALL_ALLOW(gettid),
	KORE_SYSCALL_ALLOW(tgkill),
	KORE_SYSCALL_ALLOW(sysinfo),
	KORE_SYSCALL_ALLOW(getrusage),
	KORE_SYSCALL_ALLOW(clock_nanosleep)
);

void
kore_parent_configure(int argc, char **argv)
{
	/* Workers are forked: a block-buffered stdout repeats lines. */
	(void)setvbuf(stdout, NULL, _IOLBF, 0);

	/* --version and --help answer before any setting is read. */
	init_args(argc, argv);

	/* LOG_FORMAT next: whatever is logged from here on follows it. */
	log_init();

	config_load();
	config_secrets();
	init_listen();
	sio_parent_init();
	connlimit_parent_init();
	metrics_parent_init();
	routes_login_init();
	admin_parent_init();
	drain_parent_init();

	if (korio.workers > 0)
		worker_count = (u_int8_t)korio.workers;
	/* not in kore.conf, which is parsed after this */
	worker_max_connections = korio.worker_max_conns;

	kore_log(LOG_NOTICE, "korio: %s mode, store %s, data in %s",
	    korio.production ? "production" : "development",
	    korio.mongodb_uri != NULL ? "mongodb" : "sqlite", korio.data_dir);
}

void
kore_worker_configure(void)
{
	metrics_worker_init();

	/* Kore's own request timeouts, from the environment. */
	http_header_timeout = korio.http_header_timeout;
	http_body_timeout = korio.http_body_timeout;
	connlimit_worker_init();
	http_reqid_init();
	rest_routes_check();
	openapi_init();

	job_init();
	db_init();
	realtime_init();
}

/*
 * A stopping worker frees what its pool threads use: after a drain
 * (SIGTERM, drain.c) nothing is left and the store is closed; a drain cut
 * short ends the process at once. Otherwise (SIGINT, SIGQUIT) wait for the
 * work in flight. If it does not end in time, leave at once rather than
 * pull the memory from under a running thread (every acknowledged write
 * is durable already).
 */
void
kore_worker_teardown(void)
{
	if (drain_teardown())
		return;
	if (job_drain(3000))
		return;

	kore_log(LOG_WARNING, "store work still running at shutdown, "
	    "exiting without cleanup");
	kore_msg_send(KORE_MSG_PARENT, KORE_MSG_SHUTDOWN, NULL, 0);
	_exit(0);
}

/*
 * The command line. Kore's getopt knows no long options and its -v names
 * Kore alone, so korio looks first: -v or --version prints korio's
 * version (version.c), -h or --help its usage, both on stdout with exit
 * status 0, before any setting is read, so they work anywhere and as any
 * user; an option Kore does not take is an error (usage on stderr, exit
 * status 1). Kore's getopt then takes -f, -n, -q and -r. As with Kore,
 * arguments that are not options are ignored, and "--" ends the options.
 */
static void
init_args(int argc, char **argv)
{
	int		i;
	const char	*a, *f;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		a = argv[i];
		if (!strcmp(a, "--version"))
			a = "-v";
		else if (!strcmp(a, "--help"))
			a = "-h";
		if (a[0] != '-' || a[1] == '\0')
			continue;

		for (f = a + 1; *f != '\0'; f++) {
			if (*f == 'v') {
				version_print();
				exit(0);
			}
			if (*f == 'h') {
				version_usage(stdout);
				exit(0);
			}
			if (strchr("fnqr", *f) == NULL) {
				fprintf(stderr, "korio: unknown option %s\n\n",
				    argv[i]);
				version_usage(stderr);
				exit(1);
			}
		}
	}

	kore_default_getopt(argc, argv);
}

static void
init_listen(void)
{
	struct kore_server	*srv;
	struct kore_domain	*dom;

	/*
	 * With TLS_CERT and TLS_KEY the server is a TLS one (it keeps the
	 * name kore.conf attaches to); its domain takes the files from
	 * Kore's defaults (patches/11-tls-openssl3.patch).
	 */
	srv = kore_server_create("plain");
	srv->tls = korio.tls_cert != NULL;
	if (srv->tls) {
		kore_tls_certfile_default = kore_strdup(korio.tls_cert);
		kore_tls_certkey_default = kore_strdup(korio.tls_key);
	}

	if (!kore_server_bind(srv, korio.bind, korio.port, NULL))
		fatal("cannot listen on %s:%s (BIND, PORT)",
		    korio.bind, korio.port);

	kore_server_finalize(srv);

	if (korio.redirect_port == NULL)
		return;

	/*
	 * HTTP_REDIRECT_PORT: a plain server of its own with one domain
	 * whose one route answers 308 to https (http/redirect.c). Made
	 * before kore.conf's domain, which stays the primary (TLS) one.
	 */
	srv = kore_server_create("redirect");
	srv->tls = 0;
	if (!kore_server_bind(srv, korio.bind, korio.redirect_port, NULL))
		fatal("cannot listen on %s:%s (BIND, HTTP_REDIRECT_PORT)",
		    korio.bind, korio.redirect_port);
	kore_server_finalize(srv);

	dom = kore_domain_new("*");
	if (!kore_domain_attach(dom, srv) ||
	    !kore_module_handler_new(dom, "^/", "page_https_redirect", NULL,
	    HANDLER_TYPE_DYNAMIC))
		fatal("HTTP_REDIRECT_PORT: cannot set up the redirect");
}
