/*
 * fuzz_replay.c: libFuzzer target for what connection-state recovery
 * reads from a client and writes on the wire (src/sio/codec/replay.c).
 * The input's first byte picks:
 *
 *   even: the rest is an offset as a client sends it back in its CONNECT
 *         (auth.offset). replay_offset_parse() accepts exactly the
 *         decimal digits of a uint64_t without leading zeros, and what it
 *         accepts prints back to the same text.
 *   odd:  the rest is an encoded packet; replay_offset_append() either
 *         refuses it or writes it with ,"<offset>"] in place of its last
 *         ']' (the bytes before it unchanged).
 *
 * Then a bounded log takes a few entries made from the input and must
 * keep its bounds and answer replay_log_covers() consistently.
 */

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/replay.h"
#include "codec/sbuf.h"

#define FUZZ_CHECK(x)	do { if (!(x)) abort(); } while (0)

int		LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_offset(const uint8_t *d, size_t len)
{
	char		*s, back[32];
	uint64_t	o;

	s = malloc(len + 1);
	FUZZ_CHECK(s != NULL);
	memcpy(s, d, len);
	s[len] = '\0';
	if (replay_offset_parse(s, &o)) {
		(void)snprintf(back, sizeof(back), "%" PRIu64, o);
		FUZZ_CHECK(strcmp(back, s) == 0);
	}
	free(s);
}

static void
fuzz_append(const uint8_t *d, size_t len)
{
	struct sbuf	out;
	char		tail[40];
	size_t		tl;

	sbuf_init(&out);
	if (replay_offset_append(&out, d, len, 1234567)) {
		tl = (size_t)snprintf(tail, sizeof(tail), ",\"%d\"]", 1234567);
		FUZZ_CHECK(len > 0 && d[len - 1] == ']');
		FUZZ_CHECK(out.len == len - 1 + tl);
		FUZZ_CHECK(memcmp(out.data, d, len - 1) == 0);
		FUZZ_CHECK(memcmp(out.data + len - 1, tail, tl) == 0);
	}
	sbuf_free(&out);
}

static void
fuzz_log(const uint8_t *d, size_t len)
{
	struct replay_log	log;
	size_t			i, n;
	uint64_t		seq;

	replay_log_init(&log, 4, 256, 10);
	seq = 10;
	for (i = 0; i < len && i < 64; i++) {
		/* Mostly in order, sometimes a number skipped. */
		seq += (d[i] & 3) == 0 ? 2 : 1;
		n = d[i] % 97;
		replay_log_add(&log, seq, d[i], d, n < len ? n : len);
		FUZZ_CHECK(log.count <= 4);
		FUZZ_CHECK(log.bytes <= 256 || log.count <= 1);
	}
	FUZZ_CHECK(!replay_log_covers(&log, seq + 1000));
	replay_log_free(&log);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return (0);
	if ((data[0] & 1) == 0)
		fuzz_offset(data + 1, size - 1);
	else
		fuzz_append(data + 1, size - 1);
	fuzz_log(data + 1, size - 1);
	return (0);
}
