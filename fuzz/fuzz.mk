# fuzz/fuzz.mk: libFuzzer targets and their sources, included by the
# top-level Makefile (which owns the build rules; build with
# clang -g -O1 -fsanitize=fuzzer,address,undefined). Seed corpora live
# in fuzz/corpus/<target>/. Keep it a flat list: one FUZZ_TARGETS line
# and one <target>_SRCS line per target, and a <target>_LIBS line of
# pkg-config names when it needs more than jansson.

FUZZ_TARGETS += fuzz_eio_packet
fuzz_eio_packet_SRCS = fuzz/fuzz_eio_packet.c src/sio/codec/eio.c src/sio/codec/sbuf.c

FUZZ_TARGETS += fuzz_eio_payload
fuzz_eio_payload_SRCS = fuzz/fuzz_eio_payload.c src/sio/codec/eio.c src/sio/codec/sbuf.c

FUZZ_TARGETS += fuzz_sio_packet
fuzz_sio_packet_SRCS = fuzz/fuzz_sio_packet.c src/sio/codec/sio_packet.c src/sio/codec/sio_json.c src/sio/codec/sbuf.c

FUZZ_TARGETS += fuzz_sio_binary
fuzz_sio_binary_SRCS = fuzz/fuzz_sio_binary.c src/sio/codec/sio_packet.c src/sio/codec/sio_json.c src/sio/codec/sbuf.c

FUZZ_TARGETS += fuzz_netaddr
fuzz_netaddr_SRCS = fuzz/fuzz_netaddr.c src/app/netaddr.c

FUZZ_TARGETS += fuzz_token
fuzz_token_SRCS = fuzz/fuzz_token.c $(wildcard src/app/auth/token*.c)
fuzz_token_LIBS = libjwt libcrypto

FUZZ_TARGETS += fuzz_rest_query
fuzz_rest_query_SRCS = fuzz/fuzz_rest_query.c fuzz/rest_stubs.c src/app/http/rest_query.c

FUZZ_TARGETS += fuzz_query
fuzz_query_SRCS = fuzz/fuzz_query.c $(wildcard src/app/realtime/query*.c)

# Kore's request framing, from the patched Kore tree (patches/).
FUZZ_TARGETS += fuzz_http_framing
fuzz_http_framing_SRCS = fuzz/fuzz_http_framing.c $(KORE_TREE)/src/http_framing.c
fuzz_http_framing_CFLAGS = -I$(KORE_TREE)/include/kore
fuzz_http_framing_DEPS = $(KORE_TREE)/.patched

FUZZ_TARGETS += fuzz_email
fuzz_email_SRCS = fuzz/fuzz_email.c src/app/auth/email.c
fuzz_email_LDLIBS = -lunistring

FUZZ_TARGETS += fuzz_log
fuzz_log_SRCS = fuzz/fuzz_log.c src/app/log/log_json.c src/app/log/log_reqid.c

# The metrics' /proc parsers, escaping, numbers and histogram buckets.
FUZZ_TARGETS += fuzz_metrics
fuzz_metrics_SRCS = fuzz/fuzz_metrics.c src/app/metrics/prom.c \
    src/app/metrics/metrics_render.c src/app/metrics/metrics_proc.c \
    fuzz/metrics_stubs.c

# Connection-state recovery: a client's offset, offsets on the wire, the
# bounded replay log.
FUZZ_TARGETS += fuzz_replay
fuzz_replay_SRCS = fuzz/fuzz_replay.c src/sio/codec/replay.c \
    src/sio/codec/sbuf.c

# The Redis adapter's wire codec: broadcasts and requests (msgpack and
# JSON) decoded, encoded again and decoded to the same.
FUZZ_TARGETS += fuzz_cluster_codec
fuzz_cluster_codec_SRCS = fuzz/fuzz_cluster_codec.c \
    src/sio/cluster/cluster_codec.c src/sio/cluster/cluster_req.c \
    src/sio/cluster/cluster_mp.c src/sio/cluster/cluster_mpjs.c \
    src/sio/codec/sio_packet.c src/sio/codec/sio_json.c src/sio/codec/sbuf.c

# The Engine.IO relay between korio nodes: what another node (or anybody
# with the Redis) publishes on this node's relay channel.
FUZZ_TARGETS += fuzz_relay_msg
fuzz_relay_msg_SRCS = fuzz/fuzz_relay_msg.c src/sio/codec/relay_msg.c \
    src/sio/codec/sbuf.c
