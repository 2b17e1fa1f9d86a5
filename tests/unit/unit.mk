# tests/unit/unit.mk: unit test programs and their sources, included by
# the top-level Makefile (which owns the build rules). Keep it a flat
# list: one UNIT_TESTS line and one <name>_SRCS line per test.

UNIT_TESTS += test_utf8
test_utf8_SRCS = tests/unit/test_utf8.c

UNIT_TESTS += test_sbuf
test_sbuf_SRCS = tests/unit/test_sbuf.c src/sio/codec/sbuf.c

UNIT_TESTS += test_eio
test_eio_SRCS = tests/unit/test_eio.c src/sio/codec/eio.c src/sio/codec/sbuf.c

UNIT_TESTS += test_sio_packet
test_sio_packet_SRCS = tests/unit/test_sio_packet.c src/sio/codec/sio_packet.c src/sio/codec/sio_json.c src/sio/codec/sbuf.c

UNIT_TESTS += test_rooms
test_rooms_SRCS = tests/unit/test_rooms.c src/sio/codec/rooms.c src/sio/codec/sbuf.c

UNIT_TESTS += test_replay
test_replay_SRCS = tests/unit/test_replay.c src/sio/codec/replay.c src/sio/codec/sbuf.c

UNIT_TESTS += test_token
test_token_SRCS = tests/unit/test_token.c $(wildcard src/app/auth/token*.c)
test_token_LIBS = libjwt jansson libcrypto

UNIT_TESTS += test_password
test_password_SRCS = tests/unit/test_password.c src/app/auth/password.c
test_password_LIBS = libcrypto

UNIT_TESTS += test_store
test_store_SRCS = tests/unit/test_store.c $(wildcard src/app/store/store*.c)
test_store_LIBS = sqlite3 libmongoc-1.0 jansson

# server_order.c alone, its Kore calls and neighbours stubbed at link time.
UNIT_TESTS += test_order
test_order_SRCS = tests/unit/test_order.c tests/unit/stubs_order.c \
    src/sio/server/server_order.c src/sio/stats.c src/sio/codec/sbuf.c
test_order_CFLAGS = -I$(KORE_TREE)/include
test_order_DEPS = $(KORE_TREE)/.patched
test_order_LIBS = libcrypto

UNIT_TESTS += test_netaddr
test_netaddr_SRCS = tests/unit/test_netaddr.c src/app/netaddr.c

UNIT_TESTS += test_hmap
test_hmap_SRCS = tests/unit/test_hmap.c src/sio/codec/hmap.c src/sio/codec/sbuf.c

UNIT_TESTS += test_limit
test_limit_SRCS = tests/unit/test_limit.c src/app/realtime/limit.c

UNIT_TESTS += test_query
test_query_SRCS = tests/unit/test_query.c $(wildcard src/app/realtime/query*.c)

UNIT_TESTS += test_addrcount
test_addrcount_SRCS = tests/unit/test_addrcount.c src/app/addrcount.c src/app/netaddr.c

# libunistring has no pkg-config file: a plain -lunistring.
UNIT_TESTS += test_email
test_email_SRCS = tests/unit/test_email.c src/app/auth/email.c
test_email_LDLIBS = -lunistring

UNIT_TESTS += test_throttle
test_throttle_SRCS = tests/unit/test_throttle.c src/app/auth/throttle.c
test_throttle_LIBS = libcrypto

UNIT_TESTS += test_log
test_log_SRCS = tests/unit/test_log.c src/app/log/log_json.c src/app/log/log_reqid.c

# The pure half of the metrics; store_call_name() is stubbed in the test.
UNIT_TESTS += test_metrics
test_metrics_SRCS = tests/unit/test_metrics.c src/app/metrics/prom.c \
    src/app/metrics/metrics_render.c src/app/metrics/metrics_proc.c

UNIT_TESTS += test_admin_cred
test_admin_cred_SRCS = tests/unit/test_admin_cred.c src/app/auth/admin_cred.c
test_admin_cred_LIBS = libcrypto
test_admin_cred_LDLIBS = -lcrypt

# The Redis adapter's wire codec (pure); with --driver, the C end of
# tests/integ/50-cluster-codec.test.mjs (the notepack.io cross-check).
UNIT_TESTS += test_cluster_codec
test_cluster_codec_SRCS = tests/unit/test_cluster_codec.c \
    src/sio/cluster/cluster_codec.c src/sio/cluster/cluster_req.c \
    src/sio/cluster/cluster_mp.c src/sio/cluster/cluster_mpjs.c \
    src/sio/codec/sio_packet.c src/sio/codec/sio_json.c src/sio/codec/sbuf.c

UNIT_TESTS += test_cluster_url
test_cluster_url_SRCS = tests/unit/test_cluster_url.c \
    src/sio/cluster/cluster_url.c src/sio/codec/sbuf.c

# Cluster presence's sorted id sets (pure).
UNIT_TESTS += test_cluster_ids
test_cluster_ids_SRCS = tests/unit/test_cluster_ids.c \
    src/sio/cluster/cluster_ids.c src/sio/codec/sbuf.c

# The Engine.IO relay's messages between korio nodes (pure).
UNIT_TESTS += test_relay_msg
test_relay_msg_SRCS = tests/unit/test_relay_msg.c \
    src/sio/codec/relay_msg.c src/sio/codec/sbuf.c
