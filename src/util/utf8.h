/*
 * utf8.h: one UTF-8 sequence reader (RFC 3629) for every layer: the
 * plugin's codecs (sbuf.c), the JSON log lines (log_json.c) and the
 * query matcher's UTF-16 semantics (query_order.c).
 *
 * Pure C, no includes of korio's own: src/util/ sits below both the
 * plugin and the app (conf/check-layers.sh).
 */

#ifndef KORIO_UTF8_H
#define KORIO_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* utf8.c */
size_t	utf8_seq(const uint8_t *, size_t);
size_t	utf8_decode(const uint8_t *, size_t, uint32_t *);

#endif /* !KORIO_UTF8_H */
