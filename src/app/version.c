/*
 * `korio --version` and `korio --help`.
 *
 * The version says what runs: korio's own (KORIO_VERSION, app.h) and the
 * commit it was built from, then Kore and each library with the version
 * of the copy loaded, asked at run time where the library can say
 * (jansson, libmongoc, SQLite, OpenSSL, libunistring). Three facts exist
 * only at build time and come from the Makefile as -D flags: the commit
 * (KORIO_COMMIT, `git rev-parse --short HEAD`), the Debian version of the
 * Kore sources and how many patches of patches/ went on them
 * (KORIO_KORE_PACKAGE, KORIO_KORE_PATCHES), and libjwt's version
 * (KORIO_LIBJWT_VERSION: libjwt 1.x has no version call). A build without
 * them (kodev, a compiler run by hand) says "unknown".
 */

#include <sys/types.h>

#include <kore/kore.h>

#include <openssl/crypto.h>
#include <unistring/version.h>

#include <stdio.h>

#include "app.h"
#include "store/store.h"

#if !defined(KORIO_COMMIT)
#define KORIO_COMMIT		"unknown"
#endif
#if !defined(KORIO_KORE_PACKAGE)
#define KORIO_KORE_PACKAGE	"unknown"
#endif
#if !defined(KORIO_LIBJWT_VERSION)
#define KORIO_LIBJWT_VERSION	"unknown"
#endif

#if defined(OPENSSL_VERSION_STRING)
#define VERSION_OPENSSL		OPENSSL_VERSION_STRING
#else
#define VERSION_OPENSSL		OPENSSL_VERSION
#endif

/* One line each: "name version", then what it is, if anything. */
void
version_print(void)
{
	printf("korio %s (commit %s)\n", KORIO_VERSION, KORIO_COMMIT);
#if defined(KORIO_KORE_PATCHES)
	printf("kore %s (Debian sources %s, %d korio patches)\n",
	    kore_version, KORIO_KORE_PACKAGE, KORIO_KORE_PATCHES);
#else
	printf("kore %s (Debian sources %s)\n", kore_version,
	    KORIO_KORE_PACKAGE);
#endif
	printf("jansson %s\n", jansson_version_str());
	printf("libjwt %s (build time)\n", KORIO_LIBJWT_VERSION);
	printf("libmongoc %s\n", store_mongo_version());
	printf("sqlite %s\n", store_sqlite_version());
	printf("openssl %s\n", OpenSSL_version(VERSION_OPENSSL));
	/* (major << 16) + (minor << 8) + subminor */
	printf("libunistring %d.%d.%d\n", _libunistring_version >> 16,
	    (_libunistring_version >> 8) & 0xff, _libunistring_version & 0xff);
}

void
version_usage(FILE *fp)
{
	fprintf(fp, "Usage: korio [-fnqr] [-h | --help] [-v | --version]\n"
	    "\n"
	    "  -f             stay in the foreground\n"
	    "  -n             do not chroot\n"
	    "  -r             do not switch to Kore's runas user\n"
	    "  -q             only log errors\n"
	    "  -h, --help     this text\n"
	    "  -v, --version  korio's version and commit, Kore's and the "
	    "libraries'\n"
	    "\n"
	    "Settings come from the environment (PORT, BIND, DATA_DIR, ...:\n"
	    "README.md; /etc/default/korio when installed from the "
	    "package).\n"
	    "Run unprivileged in the foreground: korio -fnr\n");
}
