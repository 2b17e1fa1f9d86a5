/*
 * test_replay.c: unit tests for src/sio/codec/replay.c, the log that
 * connection-state recovery replays and the offsets on the wire.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/replay.h"
#include "codec/sbuf.h"
#include "test_help.h"

static void	add(struct replay_log *, uint64_t, const char *);
static int	seqs(const struct replay_log *, const uint64_t *, size_t);

static int	test_empty(void);
static int	test_add_keeps_order(void);
static int	test_count_bound(void);
static int	test_byte_bound(void);
static int	test_entry_larger_than_bound(void);
static int	test_late_entry(void);
static int	test_offset_parse(void);
static int	test_offset_append(void);

int
main(void)
{
	TEST_RUN(test_empty);
	TEST_RUN(test_add_keeps_order);
	TEST_RUN(test_count_bound);
	TEST_RUN(test_byte_bound);
	TEST_RUN(test_entry_larger_than_bound);
	TEST_RUN(test_late_entry);
	TEST_RUN(test_offset_parse);
	TEST_RUN(test_offset_append);

	return (TEST_REPORT("test_replay"));
}

static void
add(struct replay_log *log, uint64_t seq, const char *s)
{
	replay_log_add(log, seq, 7, s, strlen(s));
}

/* The log holds exactly the numbers of want, in that order. */
static int
seqs(const struct replay_log *log, const uint64_t *want, size_t n)
{
	const struct replay_entry	*e;
	size_t				i;

	i = 0;
	TAILQ_FOREACH(e, &log->entries, list) {
		if (i == n || e->seq != want[i])
			return (0);
		i++;
	}

	return (i == n && log->count == n);
}

/* A new worker's log: it covers only offsets it has seen past. */
static int
test_empty(void)
{
	struct replay_log	log;

	replay_log_init(&log, 10, 1000, 5);
	TEST_ASSERT(log.count == 0 && log.bytes == 0);
	/* Offset 4: the client missed 5 on, none fanned out yet. */
	TEST_ASSERT(replay_log_covers(&log, 4));
	/* Older: numbers below 5 were fanned out before this worker was. */
	TEST_ASSERT(!replay_log_covers(&log, 3));
	TEST_ASSERT(!replay_log_covers(&log, 0));
	/* This worker has not fanned out 5 yet: it may still come. */
	TEST_ASSERT(!replay_log_covers(&log, 5));
	TEST_ASSERT(!replay_log_covers(&log, UINT64_MAX));
	replay_log_free(&log);

	/* From the very first number. */
	replay_log_init(&log, 10, 1000, 0);
	TEST_ASSERT(!replay_log_covers(&log, 0));
	add(&log, 0, "a");
	TEST_ASSERT(replay_log_covers(&log, 0));
	replay_log_free(&log);

	return (0);
}

static int
test_add_keeps_order(void)
{
	struct replay_log		log;
	const struct replay_entry	*e;
	static const uint64_t		want[] = { 0, 1, 2 };

	replay_log_init(&log, 10, 10000, 0);
	add(&log, 0, "zero");
	add(&log, 1, "one");
	add(&log, 2, "two");
	TEST_ASSERT(seqs(&log, want, 3));
	TEST_ASSERT(log.next == 3 && log.floor == 0);
	TEST_ASSERT(log.bytes == replay_entry_size(4) + replay_entry_size(3) +
	    replay_entry_size(3));

	e = TAILQ_FIRST(&log.entries);
	TEST_ASSERT(e->type == 7 && TEST_MEMEQ(e->data, e->len, "zero"));
	e = TAILQ_NEXT(e, list);
	TEST_ASSERT(TEST_MEMEQ(e->data, e->len, "one"));

	TEST_ASSERT(replay_log_covers(&log, 0));
	TEST_ASSERT(replay_log_covers(&log, 2));
	TEST_ASSERT(!replay_log_covers(&log, 3));
	replay_log_free(&log);

	return (0);
}

/* Past max_count the oldest go, and offsets before them are not covered. */
static int
test_count_bound(void)
{
	struct replay_log	log;
	static const uint64_t	want[] = { 7, 8, 9 };
	uint64_t		i;

	replay_log_init(&log, 3, 1 << 20, 0);
	for (i = 0; i < 10; i++)
		add(&log, i, "x");
	TEST_ASSERT(seqs(&log, want, 3));
	TEST_ASSERT(log.evicted == 7);
	TEST_ASSERT(log.floor == 7);
	/* 6 was fanned out and dropped: a client at 6 misses only 7 on. */
	TEST_ASSERT(replay_log_covers(&log, 6));
	TEST_ASSERT(!replay_log_covers(&log, 5));
	TEST_ASSERT(replay_log_covers(&log, 9));
	replay_log_free(&log);

	/* Nothing kept at all: only a client that missed nothing. */
	replay_log_init(&log, 0, 1 << 20, 0);
	add(&log, 0, "x");
	add(&log, 1, "x");
	TEST_ASSERT(log.count == 0 && log.bytes == 0);
	TEST_ASSERT(replay_log_covers(&log, 1));
	TEST_ASSERT(!replay_log_covers(&log, 0));
	replay_log_free(&log);

	return (0);
}

static int
test_byte_bound(void)
{
	struct replay_log	log;
	static const uint64_t	want[] = { 3, 4 };
	char			big[101];

	memset(big, 'b', 100);
	big[100] = '\0';
	replay_log_init(&log, 100, 2 * replay_entry_size(100), 0);
	add(&log, 0, big);
	add(&log, 1, big);
	TEST_ASSERT(log.count == 2 && log.evicted == 0);
	add(&log, 2, big);
	TEST_ASSERT(log.count == 2 && log.evicted == 1 && log.floor == 1);
	/* Small ones fit beside a big one; the next big one pushes out. */
	add(&log, 3, "s");
	add(&log, 4, "s");
	TEST_ASSERT(log.count <= 3);
	add(&log, 5, big);
	TEST_ASSERT(log.bytes <= 2 * replay_entry_size(100));
	TEST_ASSERT(TAILQ_LAST(&log.entries, replay_list)->seq == 5);
	replay_log_free(&log);

	/* Without the big ones: the small ones stay in order. */
	replay_log_init(&log, 2, 1 << 20, 3);
	add(&log, 3, "s");
	add(&log, 4, "s");
	TEST_ASSERT(seqs(&log, want, 2));
	replay_log_free(&log);

	return (0);
}

/* An entry above max_bytes alone goes at once: floor moves past it. */
static int
test_entry_larger_than_bound(void)
{
	struct replay_log	log;
	char			big[201];

	memset(big, 'b', 200);
	big[200] = '\0';
	replay_log_init(&log, 100, replay_entry_size(50), 0);
	add(&log, 0, "a");
	add(&log, 1, big);
	TEST_ASSERT(log.count == 0 && log.bytes == 0);
	TEST_ASSERT(log.floor == 2 && log.next == 2);
	TEST_ASSERT(replay_log_covers(&log, 1));
	TEST_ASSERT(!replay_log_covers(&log, 0));
	replay_log_free(&log);

	return (0);
}

/*
 * A number given up on that comes after all is fanned out late, below
 * next: it is logged where it came, and its eviction moves floor no
 * lower.
 */
static int
test_late_entry(void)
{
	struct replay_log	log;
	static const uint64_t	want[] = { 1, 3, 2, 4 };

	replay_log_init(&log, 4, 1 << 20, 1);
	add(&log, 1, "a");
	add(&log, 3, "c");
	add(&log, 2, "b");
	add(&log, 4, "d");
	TEST_ASSERT(seqs(&log, want, 4));
	TEST_ASSERT(log.next == 5);
	add(&log, 5, "e");
	add(&log, 6, "f");
	/* 1 and 3 went: floor 4; then 2 goes, floor stays 4. */
	TEST_ASSERT(log.floor == 4);
	add(&log, 7, "g");
	TEST_ASSERT(log.floor == 4 && log.count == 4);
	TEST_ASSERT(TAILQ_FIRST(&log.entries)->seq == 4);
	add(&log, 8, "h");
	TEST_ASSERT(log.floor == 5);
	replay_log_free(&log);

	return (0);
}

static int
test_offset_parse(void)
{
	uint64_t	v;

	TEST_ASSERT(replay_offset_parse("0", &v) && v == 0);
	TEST_ASSERT(replay_offset_parse("17", &v) && v == 17);
	TEST_ASSERT(replay_offset_parse("18446744073709551615", &v) &&
	    v == UINT64_MAX);
	TEST_ASSERT(!replay_offset_parse("18446744073709551616", &v));
	TEST_ASSERT(!replay_offset_parse("99999999999999999999", &v));
	TEST_ASSERT(!replay_offset_parse("123456789012345678901", &v));
	TEST_ASSERT(!replay_offset_parse("", &v));
	TEST_ASSERT(!replay_offset_parse("01", &v));
	TEST_ASSERT(!replay_offset_parse("-1", &v));
	TEST_ASSERT(!replay_offset_parse("+1", &v));
	TEST_ASSERT(!replay_offset_parse(" 1", &v));
	TEST_ASSERT(!replay_offset_parse("1 ", &v));
	TEST_ASSERT(!replay_offset_parse("1e3", &v));
	/* socket.io's own offsets are yeast ids: not ours. */
	TEST_ASSERT(!replay_offset_parse("OqzA1b2", &v));

	return (0);
}

static int
test_offset_append(void)
{
	struct sbuf	b;
	const char	*p;

	sbuf_init(&b);
	p = "42[\"ev\",{\"a\":1}]";
	TEST_ASSERT(replay_offset_append(&b, (const uint8_t *)p, strlen(p),
	    17));
	TEST_ASSERT(TEST_MEMEQ(b.data, b.len, "42[\"ev\",{\"a\":1},\"17\"]"));

	sbuf_reset(&b);
	p = "42/admin,[\"ev\"]";
	TEST_ASSERT(replay_offset_append(&b, (const uint8_t *)p, strlen(p),
	    UINT64_MAX));
	TEST_ASSERT(TEST_MEMEQ(b.data, b.len,
	    "42/admin,[\"ev\",\"18446744073709551615\"]"));

	sbuf_reset(&b);
	p = "42[\"ev\",[]]";
	TEST_ASSERT(replay_offset_append(&b, (const uint8_t *)p, strlen(p), 0));
	TEST_ASSERT(TEST_MEMEQ(b.data, b.len, "42[\"ev\",[],\"0\"]"));

	/* Not an event array: left alone. */
	sbuf_reset(&b);
	TEST_ASSERT(!replay_offset_append(&b, (const uint8_t *)"40{}", 4, 1));
	TEST_ASSERT(!replay_offset_append(&b, (const uint8_t *)"42[]", 4, 1));
	TEST_ASSERT(!replay_offset_append(&b, (const uint8_t *)"]", 1, 1));
	TEST_ASSERT(b.len == 0);
	sbuf_free(&b);

	return (0);
}
