/*
 * replay.c: the log that connection-state recovery replays, and the
 * offsets of broadcasts on the wire (pure: libc only).
 *
 * Every broadcast (and every socketsLeave) takes a number from one
 * counter all workers share, and every worker fans them out in that
 * order (server/server_order.c). That number is the broadcast's offset:
 * with recovery on, it goes on the wire as the last argument of the event,
 * a decimal string (replay_offset_append(): 42["ev",{...},"17"]), and a
 * client that lost its connection says the last one it got.
 *
 * Each worker logs the numbered messages it fans out, in the order it
 * does, as the bytes the bus carried (type and bytes, not frames: a kind
 * of broadcast whose payload is made per socket at delivery makes it
 * again when replayed). The log is bounded by a number of entries and by
 * their bytes (each entry counts its header too, replay_entry_size());
 * past either, the oldest go. floor tells what is gone: every message
 * numbered from floor on that this worker fanned out is still there.
 *
 * A client whose last offset is o missed, on this worker's view, the
 * messages numbered above o. The log can replay them when nothing above
 * o was dropped (o + 1 >= floor) and this worker has fanned out o itself
 * (o < next): otherwise some of them would be missing, or come twice
 * (replayed now, fanned out live later). replay_log_covers() says so.
 */

#include <stdlib.h>
#include <string.h>

#include "replay.h"

static void	replay_log_evict(struct replay_log *);

/*
 * An empty log keeping at most max_count entries and max_bytes bytes;
 * first is the number of the first message this worker will fan out.
 */
void
replay_log_init(struct replay_log *log, size_t max_count, size_t max_bytes,
    uint64_t first)
{
	memset(log, 0, sizeof(*log));
	TAILQ_INIT(&log->entries);
	log->max_count = max_count;
	log->max_bytes = max_bytes;
	log->floor = first;
	log->next = first;
}

void
replay_log_free(struct replay_log *log)
{
	struct replay_entry	*e;

	while ((e = TAILQ_FIRST(&log->entries)) != NULL) {
		TAILQ_REMOVE(&log->entries, e, list);
		free(e);
	}
	log->count = log->bytes = 0;
}

/* What an entry of len bytes counts against max_bytes. */
size_t
replay_entry_size(size_t len)
{
	return (sizeof(struct replay_entry) + len);
}

/* Message seq of type, len bytes at data, was fanned out: keep a copy. */
void
replay_log_add(struct replay_log *log, uint64_t seq, uint8_t type,
    const void *data, size_t len)
{
	struct replay_entry	*e;

	if (seq >= log->next)
		log->next = seq + 1;

	e = sbuf_xmalloc(sizeof(*e) + len);
	e->seq = seq;
	e->type = type;
	e->len = len;
	if (len > 0)
		memcpy(e->data, data, len);
	TAILQ_INSERT_TAIL(&log->entries, e, list);
	log->count++;
	log->bytes += replay_entry_size(len);

	replay_log_evict(log);
}

/* The oldest go while the log is past a bound (the new one too, maybe). */
static void
replay_log_evict(struct replay_log *log)
{
	struct replay_entry	*e;

	while ((e = TAILQ_FIRST(&log->entries)) != NULL &&
	    (log->count > log->max_count || log->bytes > log->max_bytes)) {
		TAILQ_REMOVE(&log->entries, e, list);
		log->count--;
		log->bytes -= replay_entry_size(e->len);
		log->evicted++;
		if (e->seq >= log->floor)
			log->floor = e->seq + 1;
		free(e);
	}
}

/* Whether the log holds every message a client at offset o missed. */
int
replay_log_covers(const struct replay_log *log, uint64_t o)
{
	if (o == UINT64_MAX)
		return (0);

	return (o + 1 >= log->floor && o < log->next);
}

/*
 * An offset as a client sends it back: the decimal digits of a uint64_t,
 * without sign, spaces or leading zeros. 1 and *out set, or 0.
 */
int
replay_offset_parse(const char *s, uint64_t *out)
{
	uint64_t	v;
	size_t		i, len;

	len = strlen(s);
	if (len == 0 || len > REPLAY_OFFSET_MAX || (s[0] == '0' && len > 1))
		return (0);

	v = 0;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (0);
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return (0);
		v = v * 10 + (uint64_t)(s[i] - '0');
	}

	*out = v;
	return (1);
}

/*
 * An encoded event packet (pkt, len bytes: its JSON array last) with
 * offset seq appended as its last argument, into out: ...,"seq"]. 0 if
 * the packet does not end with a non-empty array.
 */
int
replay_offset_append(struct sbuf *out, const uint8_t *pkt, size_t len,
    uint64_t seq)
{
	if (len < 2 || pkt[len - 1] != ']' || pkt[len - 2] == '[')
		return (0);

	sbuf_reserve(out, len + REPLAY_OFFSET_MAX + 3);
	sbuf_append(out, pkt, len - 1);
	sbuf_appendf(out, ",\"%llu\"]", (unsigned long long)seq);

	return (1);
}
