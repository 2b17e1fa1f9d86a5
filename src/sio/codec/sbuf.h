/*
 * sbuf.h: the small shared toolbox of the pure Socket.IO modules
 * (eio.c, sio_packet.c, rooms.c): a growable byte buffer, base64 as
 * Engine.IO's "b" prefix uses it, UTF-8 and JSON string helpers, and
 * allocation wrappers that abort() instead of returning NULL.
 *
 * No Kore headers: everything here is plain libc so the unit tests
 * and fuzzers link it alone and ASan sees every allocation.
 */

#ifndef SIO_SBUF_H
#define SIO_SBUF_H

#include <stddef.h>
#include <stdint.h>

/*
 * A growable byte buffer. An all-zero struct (or sbuf_init()) is an
 * empty buffer that owns nothing. data may be NULL while cap is 0.
 * All append functions grow the buffer geometrically (amortised O(1)
 * per byte) and abort() when memory runs out.
 */
struct sbuf {
	uint8_t		*data;
	size_t		 len;
	size_t		 cap;
};

/* sbuf.c: buffer */
void		 sbuf_init(struct sbuf *);
void		 sbuf_reserve(struct sbuf *, size_t);
void		 sbuf_append(struct sbuf *, const void *, size_t);
void		 sbuf_append_byte(struct sbuf *, uint8_t);
void		 sbuf_append_str(struct sbuf *, const char *);
void		 sbuf_appendf(struct sbuf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 sbuf_reset(struct sbuf *);
void		 sbuf_free(struct sbuf *);
uint8_t		*sbuf_release(struct sbuf *, size_t *);
char		*sbuf_cstr(struct sbuf *);

/* sbuf.c: base64 (RFC 4648 standard alphabet, with padding) */
size_t		 sbuf_b64_len(size_t);
void		 sbuf_b64_encode(struct sbuf *, const uint8_t *, size_t);
int		 sbuf_b64_decode(struct sbuf *, const uint8_t *, size_t);

/* sbuf.c: text helpers */
int		 sbuf_utf8_valid(const uint8_t *, size_t);
void		 sbuf_append_jstr(struct sbuf *, const char *, size_t);

/* sbuf.c: allocation, abort() on failure, never NULL */
void		 sbuf_oom(void) __attribute__((noreturn));
void		*sbuf_xmalloc(size_t);
void		*sbuf_xcalloc(size_t, size_t);
void		*sbuf_xrealloc(void *, size_t);
void		*sbuf_xreallocarray(void *, size_t, size_t);
char		*sbuf_xstrdup(const char *);
char		*sbuf_xstrndup(const char *, size_t);
void		*sbuf_xmemdup(const void *, size_t);

#endif /* !SIO_SBUF_H */
