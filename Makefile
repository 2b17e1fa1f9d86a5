# korio: one Kore binary serving a Terreno-style REST API and Socket.IO.
#
#   make            build ./korio and tests/fixture/sio-fixture
#   make run        install what is missing, build, serve on 127.0.0.1:4000
#   make test       install what is missing, build, run every test
#   make asan       the same binaries built with ASan+UBSan under build/asan
#   make fuzz       run every libFuzzer target, an hour in all, and merge
#                   what it found into fuzz/corpus/<target> (minimised)
#   make deb        the Debian package, build/deb/korio_<version>_<arch>.deb
#   make soak       5000 sockets churning for SOAK_MINUTES (30); soak-ci: 2
#
# Kore itself is compiled from the sources Debian ships (KORE_SOURCE, never
# modified) with the patches of patches/ applied to a copy of them
# (KORE_TREE, build/kore-src) into build/<variant>/kore, and linked into one
# executable with the app, the baked-in kore.conf and everything under
# assets/.

CC		?= cc
KORE_SOURCE	?= /usr/share/kore
KORE_PATCHES	:= $(sort $(wildcard patches/*.patch))
KORE_TREE	:= $(abspath build/kore-src)
KORE_FLAVOR	?=
NODE		?= node
# make fuzz: an hour in all, shared by the targets (FUZZ_TARGETS, fuzz.mk).
FUZZ_HOUR	?= 3600
FUZZ_SECONDS	?= $(shell expr $(FUZZ_HOUR) / $(words $(FUZZ_TARGETS)))
FUZZ_SMOKE	?= 5

PKGS		:= jansson libjwt libmongoc-1.0 sqlite3 libcrypto hiredis
PKG_CFLAGS	:= $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libunistring (emails, src/app/auth/email.c) has no pkg-config file.
PKG_LIBS	:= $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lunistring -lcrypt

WARN		:= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
		   -Wmissing-prototypes -Wmissing-declarations -Wpointer-arith \
		   -Wcast-qual -Wsign-compare -Wtype-limits -Wformat=2 -fno-common
STD		:= -std=c11 -D_GNU_SOURCE
OPT		?= -O2 -g

# Variant: plain (default) or asan.
VARIANT		?= plain
ifeq ($(VARIANT),asan)
SANITIZE	:= address,undefined
SAN_FLAGS	:= -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
# Kore's net_read64() loads a misaligned u_int64_t (large WebSocket
# frames): keep UBSan's alignment check out of Kore's own objects.
KORE_MAKE_SAN	:= SANITIZE="$(SANITIZE) -fno-sanitize=alignment"
OPT		:= -O1 -g
else
SAN_FLAGS	:=
KORE_MAKE_SAN	:=
endif

B		:= build/$(VARIANT)
KOREOBJ		:= $(abspath $(B)/kore)

APP_SRCS	:= $(wildcard src/app/*.c src/app/*/*.c)
SIO_SRCS	:= $(wildcard src/sio/*.c src/sio/*/*.c)
# src/util/: pure helpers below both layers, linked into every binary,
# unit test and fuzz target.
UTIL_SRCS	:= $(wildcard src/util/*.c)
SRC_HDRS	:= $(wildcard src/sio/*.h src/sio/*/*.h src/app/*.h src/app/*/*.h \
		    src/util/*.h)
FIX_SRCS	:= $(wildcard tests/fixture/*.c)
ASSETS		:= $(filter-out %~,$(wildcard assets/*.*))

APP_OBJS	:= $(APP_SRCS:%.c=$(B)/obj/%.o)
SIO_OBJS	:= $(SIO_SRCS:%.c=$(B)/obj/%.o)
UTIL_OBJS	:= $(UTIL_SRCS:%.c=$(B)/obj/%.o)
FIX_OBJS	:= $(FIX_SRCS:%.c=$(B)/obj/%.o)
asset_sym	= $(subst .,_,$(subst -,_,$(notdir $(1))))
ASSET_OBJS	:= $(foreach a,$(ASSETS),$(B)/assets/$(call asset_sym,$(a)).o)

SB_CFLAGS	= $(STD) $(OPT) $(WARN) $(SAN_FLAGS) -Isrc/sio -Isrc/app -Isrc/util \
		  -I$(KORE_TREE)/include $(PKG_CFLAGS) \
		  $(shell cat $(KOREOBJ)/features 2>/dev/null)
# Generated asset sources are not held to the warning set.
ASSET_CFLAGS	= $(STD) -O1 -I$(KORE_TREE)/include \
		  $(shell cat $(KOREOBJ)/features 2>/dev/null)
SB_LDFLAGS	= $(SAN_FLAGS) $(PKG_LIBS) $(shell cat $(KOREOBJ)/ldflags)

ifeq ($(VARIANT),asan)
KORIO		:= $(B)/korio
FIXTURE		:= $(B)/sio-fixture
else
KORIO		:= korio
FIXTURE		:= tests/fixture/sio-fixture
endif

mime_html	:= text/html; charset=utf-8
mime_js		:= application/javascript; charset=utf-8
mime_css	:= text/css; charset=utf-8
mime_svg	:= image/svg+xml
mime_ico	:= image/x-icon
mime_png	:= image/png
mime_json	:= application/json
mime_conf	:= text/plain
asset_mime	= $(or $(mime_$(subst .,,$(suffix $(1)))),text/plain)

.PHONY: all run test asan fuzz fuzz-run fuzz-smoke unit unit-mongo integ deps npm-deps \
	clean kodev-check check-layers kore-src deb

all: $(KORIO) $(FIXTURE)

# ---- Kore ------------------------------------------------------------------

# The patched copy, made again when a patch, the list of patches (one
# removed, too) or Debian's Kore changes; all of Kore is then rebuilt from
# it (the copy's files are all new).
KORE_PATCH_LIST	:= build/kore-patches
$(shell mkdir -p build && { echo "$(KORE_PATCHES)" | \
    cmp -s - $(KORE_PATCH_LIST) 2>/dev/null || \
    echo "$(KORE_PATCHES)" > $(KORE_PATCH_LIST); })

$(KORE_TREE)/.patched: $(KORE_PATCHES) $(KORE_PATCH_LIST) \
    conf/kore-patch.sh $(KORE_SOURCE)/RELEASE
	conf/kore-patch.sh $(KORE_SOURCE) $(KORE_TREE) $(KORE_PATCHES)

$(KORE_TREE)/src/%.c: $(KORE_TREE)/.patched ;

kore-src: $(KORE_TREE)/.patched

$(KOREOBJ)/ldflags: $(KORE_TREE)/.patched
	@mkdir -p $(KOREOBJ)
	$(MAKE) -s -C $(KORE_TREE) objects OBJDIR=$(KOREOBJ) \
	    KORE_SINGLE_BINARY=1 $(KORE_FLAVOR) $(KORE_MAKE_SAN)

# ---- version ---------------------------------------------------------------

# What `korio --version` knows only at build time (src/app/version.c): the
# commit, when this tree is a git checkout of its own ("unknown" in a plain
# copy), the Debian version of the Kore sources (when they are Debian's)
# with the number of patches on them, and libjwt's version (libjwt has no
# version call). build/version-info holds them and changes only when one
# of them does; version.o, which depends on it, is rebuilt then.
KORIO_COMMIT	:= $(or $(shell [ "$$(git rev-parse --show-toplevel \
		    2>/dev/null)" = "$(realpath $(CURDIR))" ] && \
		    git rev-parse --short HEAD 2>/dev/null),unknown)
KORE_PACKAGE	:= $(or $(if $(filter /usr/share/kore /usr/share/kore/,\
		    $(KORE_SOURCE)),$(shell dpkg-query -W -f='$${Version}' \
		    kore 2>/dev/null)),unknown)
LIBJWT_VERSION	:= $(or $(shell pkg-config --modversion libjwt \
		    2>/dev/null),unknown)
VERSION_DEFS	:= -DKORIO_COMMIT='"$(KORIO_COMMIT)"' \
		   -DKORIO_KORE_PACKAGE='"$(KORE_PACKAGE)"' \
		   -DKORIO_KORE_PATCHES=$(words $(KORE_PATCHES)) \
		   -DKORIO_LIBJWT_VERSION='"$(LIBJWT_VERSION)"'
VERSION_INFO	:= build/version-info
VERSION_FACTS	:= $(KORIO_COMMIT) $(KORE_PACKAGE) $(words $(KORE_PATCHES)) \
		   $(LIBJWT_VERSION)
$(shell mkdir -p build && { echo "$(VERSION_FACTS)" | \
    cmp -s - $(VERSION_INFO) 2>/dev/null || \
    echo "$(VERSION_FACTS)" > $(VERSION_INFO); })

$(B)/obj/src/app/version.o: $(VERSION_INFO)
$(B)/obj/src/app/version.o: SB_CFLAGS += $(VERSION_DEFS)

# ---- objects ---------------------------------------------------------------

$(B)/obj/%.o: %.c $(KOREOBJ)/ldflags $(SRC_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(SB_CFLAGS) -c $< -o $@

$(B)/assets/builtin_kore_conf.c: kore.conf conf/asset2c.sh
	@mkdir -p $(dir $@)
	conf/asset2c.sh $< builtin_kore_conf "text/plain" $@

$(B)/assets/fixture_kore_conf.c: tests/fixture/fixture.conf conf/asset2c.sh
	@mkdir -p $(dir $@)
	conf/asset2c.sh $< builtin_kore_conf "text/plain" $@

define asset_rule
$(B)/assets/$(call asset_sym,$(1)).c: $(1) conf/asset2c.sh
	@mkdir -p $$(dir $$@)
	conf/asset2c.sh $(1) $(call asset_sym,$(1)) "$(call asset_mime,$(1))" $$@
endef
$(foreach a,$(ASSETS),$(eval $(call asset_rule,$(a))))

# The Socket.IO browser client, from the npm package socket.io-client
# (tests/package.json), served at /socket.io/socket.io.min.js as a Node
# Socket.IO server does. Its source-map comment is dropped: no map is served.
SIO_CLIENT_JS	:= tests/node_modules/socket.io-client/dist/socket.io.min.js
ASSET_OBJS	+= $(B)/assets/socket_io_min_js.o

$(B)/assets-extra/socket.io.min.js: tests/node_modules/.package-lock.json
	@mkdir -p $(dir $@)
	sed '/^\/\/# sourceMappingURL=/d' $(SIO_CLIENT_JS) > $@.tmp && mv $@.tmp $@

$(B)/assets/socket_io_min_js.c: $(B)/assets-extra/socket.io.min.js conf/asset2c.sh
	@mkdir -p $(dir $@)
	conf/asset2c.sh $< socket_io_min_js "$(mime_js)" $@

# The Socket.IO Admin UI's page, from the npm package @socket.io/admin-ui
# (ui/dist, integrity-pinned in conf/admin-ui.sh, which also writes the
# table of its files), served at /admin-ui/ when the Admin UI is on
# (src/app/http/admin_ui.c). One copy for every variant.
ADMIN_UI_DIR	:= build/admin-ui
ASSET_OBJS	+= $(B)/assets/admin_ui_files.o

$(ADMIN_UI_DIR)/admin_ui_files.c: conf/admin-ui.sh
	conf/admin-ui.sh $(ADMIN_UI_DIR)

$(B)/assets/admin_ui_files.o: $(ADMIN_UI_DIR)/admin_ui_files.c
	@mkdir -p $(dir $@)
	$(CC) $(STD) -O1 $(SAN_FLAGS) -c $< -o $@

$(B)/assets/%.o: $(B)/assets/%.c $(KOREOBJ)/ldflags
	$(CC) $(ASSET_CFLAGS) $(SAN_FLAGS) -c $< -o $@

# ---- binaries --------------------------------------------------------------

$(KORIO): $(KOREOBJ)/ldflags $(APP_OBJS) $(SIO_OBJS) $(UTIL_OBJS) \
    $(ASSET_OBJS) $(B)/assets/builtin_kore_conf.o
	$(CC) -o $@ $(KOREOBJ)/*.o $(APP_OBJS) $(SIO_OBJS) $(UTIL_OBJS) \
	    $(ASSET_OBJS) $(B)/assets/builtin_kore_conf.o $(SB_LDFLAGS)

$(FIXTURE): $(KOREOBJ)/ldflags $(SIO_OBJS) $(UTIL_OBJS) $(FIX_OBJS) \
    $(B)/assets/fixture_kore_conf.o
	$(CC) -o $@ $(KOREOBJ)/*.o $(SIO_OBJS) $(UTIL_OBJS) $(FIX_OBJS) \
	    $(B)/assets/fixture_kore_conf.o $(SB_LDFLAGS)

asan:
	$(MAKE) VARIANT=asan all

# ---- dependencies ----------------------------------------------------------

deps:
	@conf/install-deps.sh

tests/node_modules/.package-lock.json: tests/package.json tests/package-lock.json
	cd tests && npm ci --no-audit --no-fund --loglevel=error

# The realtime module of the real @terreno/rtk 57.4.0, bundled for Node
# (tests/rtk/build.mjs: its tarball alone, integrity-pinned, and esbuild;
# none of its react-native/expo dependencies). Used by the integration
# test 35-terreno-rtk.
RTK_BUNDLE	:= build/rtk/terreno-rtk-realtime.mjs

$(RTK_BUNDLE): tests/rtk/build.mjs tests/rtk/stubs/expo-constants.mjs \
    tests/node_modules/.package-lock.json
	$(NODE) tests/rtk/build.mjs
	@touch $@

# The Node peer (bench/peer) for the cluster tests (61-peer-cluster): its
# modules without the optional better-sqlite3, whose native build takes
# minutes (the tests run the peer on MongoDB); the benchmarks add it.
PEER_MODULES	:= bench/peer/node_modules/.package-lock.json
PEER_SQLITE	:= bench/peer/node_modules/better-sqlite3/build/Release/better_sqlite3.node

$(PEER_MODULES): bench/peer/package.json bench/peer/package-lock.json
	cd bench/peer && npm ci --omit=optional --no-audit --no-fund \
	    --loglevel=error

npm-deps: tests/node_modules/.package-lock.json $(RTK_BUNDLE) $(PEER_MODULES)

# ---- run -------------------------------------------------------------------

run: deps
	@$(MAKE) --no-print-directory $(KORIO)
	./$(KORIO) -fnr

# ---- Debian package --------------------------------------------------------

# build/deb/korio_<version>_<arch>.deb, always of the plain build
# (conf/mkdeb.sh says what it holds; pkg/ has the unit, the environment
# file and the maintainer scripts).
DEB_DIR		:= build/deb

deb:
	@$(MAKE) --no-print-directory VARIANT=plain korio
	@conf/mkdeb.sh korio $(DEB_DIR)

# ---- tests -----------------------------------------------------------------

UNIT_TESTS :=
FUZZ_TARGETS :=
-include tests/unit/unit.mk
-include fuzz/fuzz.mk

UNIT_CFLAGS	= $(STD) $(OPT) $(WARN) $(SAN_FLAGS) -Isrc/sio -Isrc/app -Isrc/util \
		  -Itests/unit
UNIT_BIN	= $(B)/unit

define unit_rule
$(UNIT_BIN)/$(1): $$($(1)_SRCS) $$($(1)_DEPS) $(UTIL_SRCS) $(SRC_HDRS) \
    $(wildcard tests/unit/*.h)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(UNIT_CFLAGS) $$($(1)_CFLAGS) \
	    $$(shell pkg-config --cflags jansson $$($(1)_LIBS)) \
	    -o $$@ $$($(1)_SRCS) $(UTIL_SRCS) \
	    $$(shell pkg-config --libs jansson $$($(1)_LIBS)) \
	    $$($(1)_LDLIBS) -lpthread
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t))))

unit: $(UNIT_TESTS:%=$(UNIT_BIN)/%)
	@fail=0; for t in $(UNIT_TESTS); do \
		echo "== $(VARIANT) unit: $$t"; \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		    $(UNIT_BIN)/$$t || fail=1; \
	done; exit $$fail

# Every server log of the run is kept under INTEG_LOGS (the harness), and
# the last file, 99-log-secrets.test.mjs, scans them for the run's secrets.
INTEG_LOGS	= $(abspath $(B)/integ-logs)

# INTEG_MONGO=0 leaves out the MongoDB half (make test does for the ASan
# build, whose store code meets MongoDB in unit-mongo: CI's time).
# INTEG_JOBS test files run at once (each starts its own servers on free
# ports and temporary directories; the files mostly wait on the network
# and on timers, so two at a time nearly halve the run on 2 cores). The
# log scan (99-log-secrets) runs alone, after every other file.
INTEG_MONGO	?= 1
# INTEG_PROXY=0 leaves out the Socket.IO suites through nginx
# (run-proxy.mjs; about 50 s) and through a round-robin nginx over two
# fixture nodes joined by Redis (run-proxy.mjs --cluster; about 2 min);
# make test does for the ASan build.
INTEG_PROXY	?= 1
INTEG_JOBS	?= 2
INTEG_SCAN	:= tests/integ/99-log-secrets.test.mjs
INTEG_FILES	 = $(filter-out $(INTEG_SCAN),\
		    $(sort $(wildcard tests/integ/*.test.mjs)))
INTEG_ENV	 = KORIO_BIN=$(abspath $(KORIO)) \
		    FIXTURE_BIN=$(abspath $(FIXTURE)) KORIO_VARIANT=$(VARIANT)
integ: all npm-deps
	rm -rf $(INTEG_LOGS)
	$(INTEG_ENV) KORIO_TEST_LOG_DIR=$(INTEG_LOGS) \
	    $(NODE) --test --test-concurrency=$(INTEG_JOBS) $(INTEG_FILES)
	$(INTEG_ENV) KORIO_TEST_LOG_DIR=$(INTEG_LOGS) \
	    $(NODE) --test $(INTEG_SCAN)
	if [ "$(INTEG_MONGO)" != 0 ]; then \
		$(INTEG_ENV) INTEG_JOBS=$(INTEG_JOBS) \
		    $(NODE) tests/integ/run-mongo.mjs; \
	fi
	if [ "$(INTEG_PROXY)" != 0 ]; then \
		$(INTEG_ENV) INTEG_JOBS=$(INTEG_JOBS) \
		    $(NODE) tests/integ/run-proxy.mjs; \
		$(INTEG_ENV) INTEG_JOBS=$(INTEG_JOBS) \
		    $(NODE) tests/integ/run-proxy.mjs --cluster; \
	fi

# The store unit test once more, against MongoDB (CongoDB).
unit-mongo: $(UNIT_BIN)/test_store
	$(NODE) tests/integ/run-mongo.mjs --exec $(UNIT_BIN)/test_store

FUZZ_CC		?= clang
FUZZ_CFLAGS	:= $(STD) -g -O1 -fsanitize=fuzzer,address,undefined \
		   -fno-sanitize-recover=undefined \
		   -Isrc/sio -Isrc/app -Isrc/util
FUZZ_BIN	:= build/fuzz

# A target links jansson, the pkg-config packages in <target>_LIBS and
# the plain flags in <target>_LDLIBS (libraries without a .pc file).
define fuzz_rule
$(FUZZ_BIN)/$(1): $$($(1)_SRCS) $$($(1)_DEPS) $(UTIL_SRCS) $(SRC_HDRS)
	@mkdir -p $$(dir $$@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $$($(1)_CFLAGS) \
	    $$(shell pkg-config --cflags jansson $$($(1)_LIBS)) \
	    -o $$@ $$($(1)_SRCS) $(UTIL_SRCS) \
	    $$(shell pkg-config --libs jansson $$($(1)_LIBS)) $$($(1)_LDLIBS)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rule,$(t))))

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_BIN)/%)

# New inputs go to build/fuzz/corpus/<target>; fuzz/corpus/<target> (the
# tree's corpus) is read. make fuzz then merges (-merge=1) into the tree
# only the inputs that add coverage to what it holds: a small corpus that
# every later run, fuzz-smoke too, starts from.
fuzz-run: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz/corpus/$$t; \
		echo "== fuzz $$t ($(FUZZ_SECONDS)s)"; \
		$(FUZZ_BIN)/$$t -max_total_time=$(FUZZ_SECONDS) \
		    -print_final_stats=1 \
		    build/fuzz/corpus/$$t fuzz/corpus/$$t || exit 1; \
	done

fuzz: fuzz-run
	@for t in $(FUZZ_TARGETS); do \
		echo "== merge $$t into fuzz/corpus/$$t"; \
		mkdir -p fuzz/corpus/$$t; \
		$(FUZZ_BIN)/$$t -merge=1 fuzz/corpus/$$t \
		    build/fuzz/corpus/$$t || exit 1; \
	done

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz-run FUZZ_SECONDS=$(FUZZ_SMOKE)

test: deps
	@$(MAKE) --no-print-directory check-layers
	@$(MAKE) --no-print-directory npm-deps
	@$(MAKE) --no-print-directory all unit unit-mongo
	@$(MAKE) --no-print-directory integ
	@$(MAKE) --no-print-directory VARIANT=asan all unit unit-mongo
	@$(MAKE) --no-print-directory VARIANT=asan INTEG_MONGO=0 INTEG_PROXY=0 integ
	@$(MAKE) --no-print-directory -j2 --output-sync=recurse \
	    soak-ci fuzz-smoke kodev-check
	@echo "make test: all suites passed"

# The layering rules of src/ (conf/check-layers.sh says which).
check-layers:
	@conf/check-layers.sh

# kodev builds the same tree when the checkout is named korio: a copy of
# what kodev reads (the sources, assets and conf/), from a clone or from a
# plain copy of the tree alike, with Kore from the patched copy.
KODEV_DIR	?= build/kodev/korio
KODEV_TREE	:= src assets conf kore.conf
kodev-check: $(KORE_TREE)/.patched
	rm -rf $(KODEV_DIR) && mkdir -p $(KODEV_DIR)
	cp -RP $(KODEV_TREE) $(KODEV_DIR)/
	cd $(KODEV_DIR) && { KORE_SOURCE=$(KORE_TREE) kodev build \
	    > kodev.log 2>&1 || { cat kodev.log; exit 1; }; }
	@echo "kodev build: ok ($(KODEV_DIR)/korio)"

clean:
	rm -rf build korio tests/fixture/sio-fixture .objs

# ---- benchmarks (bench/; see bench/RESULTS.md) -----------------------------
#
#   make bench        korio vs the Node peer (one process, cluster of 2):
#                     fan-out to 1000 and 10000 sockets, CPU, RSS, REST, floor;
#                     korio's fan-out also on the sync protocol (korio-sync)
#                     and with recovery off (korio-norec)
#   make bench-quick  the same at N = 1000 only, shorter wrk runs (< 2 min)
#   make bench-cluster fan-out through Redis across two nodes, korio A+B
#                     (WORKERS=2 each) vs two Node peers with the Redis
#                     adapter, N = 1000 and 10000 split over the nodes, on
#                     CongoDB (bench/cluster.mjs, ~2 min; make bench runs
#                     it after bench/run.mjs)
#   make bench-up     100,000 idle authenticated sockets in one korio (6
#                     workers) and a fan-out to all of them; the Node peer
#                     at the 19,000 one process can hold and as a cluster
#                     of 6 at both N; the floor (bench/up.mjs, ~10 min;
#                     make bench runs it last)

BENCH_CFLAGS	:= -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wshadow

.PHONY: bench bench-quick bench-build bench-deps bench-cluster bench-up \
	bench-relay

bench/build/loadgen: bench/loadgen.c
	@mkdir -p bench/build
	$(CC) $(BENCH_CFLAGS) -o $@ $< -lcrypto

bench/build/probe: bench/probe.c
	@mkdir -p bench/build
	$(CC) $(BENCH_CFLAGS) -pthread -o $@ $<

# All of the peer's modules, better-sqlite3 built against Debian's node.
$(PEER_SQLITE): bench/peer/package.json bench/peer/package-lock.json
	cd bench/peer && npm_config_nodedir=/usr npm ci --no-audit --no-fund \
	    --loglevel=error
	@touch $@

# wrk (Debian) for the REST half; g++, python3, make build better-sqlite3.
bench-deps:
	@missing=""; \
	for p in wrk:wrk g++:g++ python3:python3 make:make; do \
		command -v $${p%%:*} >/dev/null 2>&1 || missing="$$missing $${p#*:}"; \
	done; \
	[ -f /usr/include/openssl/sha.h ] || missing="$$missing libssl-dev"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			    --no-install-recommends $$missing; \
		else \
			echo "bench: run: apt-get install$$missing"; exit 1; \
		fi; \
	fi

bench-build: bench-deps
	@$(MAKE) --no-print-directory VARIANT=plain korio
	@$(MAKE) --no-print-directory bench/build/loadgen bench/build/probe \
	    $(PEER_SQLITE)

bench: bench-build
	$(NODE) bench/run.mjs
	$(NODE) bench/cluster.mjs
	$(NODE) bench/relay.mjs
	$(NODE) bench/up.mjs

bench-quick: bench-build
	$(NODE) bench/run.mjs --quick

bench-up: bench-build
	$(NODE) bench/up.mjs

# The cluster peer runs on MongoDB: its modules without better-sqlite3 do.
bench-cluster: bench-deps
	@$(MAKE) --no-print-directory VARIANT=plain korio
	@$(MAKE) --no-print-directory bench/build/loadgen $(PEER_MODULES)
	$(NODE) bench/cluster.mjs

# make bench-relay: a long-polling round trip to the session's node and
# through the other node (relayed over Redis), fixture nodes (~1 min).
bench-relay: npm-deps
	@$(MAKE) --no-print-directory VARIANT=plain all
	$(NODE) bench/relay.mjs

# make soak: 5000 sockets churning against korio (WORKERS=2, SQLite) with
# REST writes for SOAK_MINUTES; RSS and fds of every korio process into
# bench/out/soak-*.csv and .png; fails when they grow (bench/soak.mjs).
# make soak-ci: the same for 2 minutes (make test).
SOAK_MINUTES	?= 30

.PHONY: soak soak-ci

soak: all npm-deps
	SOAK_MINUTES=$(SOAK_MINUTES) KORIO_BIN=$(abspath $(KORIO)) \
	    $(NODE) bench/soak.mjs

soak-ci:
	@$(MAKE) --no-print-directory soak SOAK_MINUTES=2
