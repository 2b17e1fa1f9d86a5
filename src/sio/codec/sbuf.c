/*
 * sbuf.c: growable byte buffer, base64, UTF-8 and JSON string helpers,
 * and the abort-on-OOM allocation wrappers shared by the pure Socket.IO
 * modules.
 *
 * Base64 is RFC 4648 section 4 (standard alphabet "+/", "=" padding),
 * which is what Engine.IO v4 uses for binary packets on long-polling
 * ("b" + base64). The decoder is strict where Node's Buffer.from() is
 * lenient: it rejects characters outside the alphabet (including
 * whitespace and the URL-safe "-_"), a length that is not a multiple
 * of four, misplaced padding and non-zero bits in the last symbol.
 * Every conforming encoder (Buffer.toString("base64"), btoa) produces
 * canonical output, so only garbage is refused.
 *
 * sbuf_append_jstr() escapes a string the way JavaScript's
 * JSON.stringify() does, byte for byte, so packets we emit look like
 * the ones the Node reference server emits.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"
#include "utf8.h"

#define SBUF_MIN_CAP	64

static void	sbuf_grow(struct sbuf *, size_t);
static int	sbuf_b64_value(uint8_t);

static const char sbuf_b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/*
 * The one place where the pure modules stop on allocation failure
 * (also used for jansson constructors returning NULL): nothing here
 * can recover from it, and callers never see NULL.
 */
void
sbuf_oom(void)
{
	abort();
}

void *
sbuf_xmalloc(size_t len)
{
	void		*p;

	if ((p = malloc(len == 0 ? 1 : len)) == NULL)
		sbuf_oom();

	return (p);
}

void *
sbuf_xcalloc(size_t n, size_t size)
{
	void		*p;

	if (n == 0 || size == 0)
		n = size = 1;
	if ((p = calloc(n, size)) == NULL)
		sbuf_oom();

	return (p);
}

void *
sbuf_xrealloc(void *old, size_t len)
{
	void		*p;

	if ((p = realloc(old, len == 0 ? 1 : len)) == NULL)
		sbuf_oom();

	return (p);
}

void *
sbuf_xreallocarray(void *old, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		sbuf_oom();

	return (sbuf_xrealloc(old, n * size));
}

void *
sbuf_xmemdup(const void *src, size_t len)
{
	void		*p;

	p = sbuf_xmalloc(len);
	if (len > 0)
		memcpy(p, src, len);

	return (p);
}

char *
sbuf_xstrndup(const char *src, size_t len)
{
	char		*p;

	if (len == SIZE_MAX)
		sbuf_oom();
	p = sbuf_xmalloc(len + 1);
	if (len > 0)
		memcpy(p, src, len);
	p[len] = '\0';

	return (p);
}

char *
sbuf_xstrdup(const char *src)
{
	return (sbuf_xstrndup(src, strlen(src)));
}

void
sbuf_init(struct sbuf *sb)
{
	sb->data = NULL;
	sb->len = 0;
	sb->cap = 0;
}

/* Make room for at least need bytes in total, doubling the capacity. */
static void
sbuf_grow(struct sbuf *sb, size_t need)
{
	size_t		cap;

	cap = sb->cap < SBUF_MIN_CAP ? SBUF_MIN_CAP : sb->cap;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			sbuf_oom();
		cap *= 2;
	}

	sb->data = sbuf_xrealloc(sb->data, cap);
	sb->cap = cap;
}

/* Ensure that extra more bytes fit without another reallocation. */
void
sbuf_reserve(struct sbuf *sb, size_t extra)
{
	if (extra > SIZE_MAX - sb->len)
		sbuf_oom();
	if (sb->len + extra > sb->cap)
		sbuf_grow(sb, sb->len + extra);
}

void
sbuf_append(struct sbuf *sb, const void *data, size_t len)
{
	if (len == 0)
		return;

	sbuf_reserve(sb, len);
	memcpy(sb->data + sb->len, data, len);
	sb->len += len;
}

void
sbuf_append_byte(struct sbuf *sb, uint8_t c)
{
	if (sb->len == sb->cap)
		sbuf_reserve(sb, 1);
	sb->data[sb->len++] = c;
}

void
sbuf_append_str(struct sbuf *sb, const char *s)
{
	sbuf_append(sb, s, strlen(s));
}

void
sbuf_appendf(struct sbuf *sb, const char *fmt, ...)
{
	va_list		ap, aq;
	int		n;
	size_t		room;

	va_start(ap, fmt);
	va_copy(aq, ap);

	room = sb->cap - sb->len;
	n = vsnprintf(room ? (char *)sb->data + sb->len : NULL, room, fmt, ap);
	if (n < 0)
		sbuf_oom();

	if ((size_t)n >= room) {
		sbuf_reserve(sb, (size_t)n + 1);
		n = vsnprintf((char *)sb->data + sb->len, (size_t)n + 1, fmt, aq);
		if (n < 0)
			sbuf_oom();
	}

	sb->len += (size_t)n;
	va_end(aq);
	va_end(ap);
}

/* Forget the contents but keep the memory for reuse. */
void
sbuf_reset(struct sbuf *sb)
{
	sb->len = 0;
}

void
sbuf_free(struct sbuf *sb)
{
	free(sb->data);
	sbuf_init(sb);
}

/*
 * Hand the bytes over to the caller, who must free() them. The result
 * is never NULL and is NUL-terminated (the NUL is not counted in *len).
 * The sbuf is left empty and may be reused.
 */
uint8_t *
sbuf_release(struct sbuf *sb, size_t *len)
{
	uint8_t		*data;

	sbuf_cstr(sb);
	data = sb->data;
	if (len != NULL)
		*len = sb->len;
	sbuf_init(sb);

	return (data);
}

/* NUL-terminate the contents (not counted in len) and return them. */
char *
sbuf_cstr(struct sbuf *sb)
{
	sbuf_reserve(sb, 1);
	sb->data[sb->len] = '\0';

	return ((char *)sb->data);
}

/* Length of the base64 text for len bytes. */
size_t
sbuf_b64_len(size_t len)
{
	if (len / 3 >= SIZE_MAX / 4)
		sbuf_oom();

	return (((len + 2) / 3) * 4);
}

void
sbuf_b64_encode(struct sbuf *sb, const uint8_t *in, size_t len)
{
	uint8_t		*out;
	uint32_t	 v;
	size_t		 i;

	if (len == 0)
		return;

	sbuf_reserve(sb, sbuf_b64_len(len));
	out = sb->data + sb->len;

	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*out++ = sbuf_b64_alphabet[v >> 18];
		*out++ = sbuf_b64_alphabet[(v >> 12) & 0x3f];
		*out++ = sbuf_b64_alphabet[(v >> 6) & 0x3f];
		*out++ = sbuf_b64_alphabet[v & 0x3f];
	}

	if (i < len) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		*out++ = sbuf_b64_alphabet[v >> 18];
		*out++ = sbuf_b64_alphabet[(v >> 12) & 0x3f];
		*out++ = i + 1 < len ? sbuf_b64_alphabet[(v >> 6) & 0x3f] : '=';
		*out++ = '=';
	}

	sb->len = (size_t)(out - sb->data);
}

static int
sbuf_b64_value(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (c - '0' + 52);
	if (c == '+')
		return (62);
	if (c == '/')
		return (63);

	return (-1);
}

/*
 * Append the bytes encoded by in[0..len) to sb. Returns 1 on success,
 * 0 on invalid input, in which case sb is left as it was.
 */
int
sbuf_b64_decode(struct sbuf *sb, const uint8_t *in, size_t len)
{
	uint8_t		*out;
	uint32_t	 v;
	size_t		 i, j, pad, start;
	int		 d;

	if (len % 4 != 0)
		return (0);
	if (len == 0)
		return (1);

	pad = 0;
	if (in[len - 1] == '=')
		pad = in[len - 2] == '=' ? 2 : 1;

	v = 0;
	start = sb->len;
	sbuf_reserve(sb, len / 4 * 3);
	out = sb->data + sb->len;

	for (i = 0; i < len; i += 4) {
		v = 0;
		for (j = 0; j < 4; j++) {
			if (i + j >= len - pad) {
				v <<= 6;
				continue;
			}
			if ((d = sbuf_b64_value(in[i + j])) == -1)
				goto fail;
			v = v << 6 | (uint32_t)d;
		}
		*out++ = (uint8_t)(v >> 16);
		*out++ = (uint8_t)(v >> 8);
		*out++ = (uint8_t)v;
	}

	/* Bits below the last symbol must be zero (canonical form). */
	if ((pad == 1 && (v & 0xff) != 0) || (pad == 2 && (v & 0xffff) != 0))
		goto fail;

	sb->len = (size_t)(out - sb->data) - pad;
	return (1);

fail:
	sb->len = start;
	return (0);
}

/* 1 if s[0..len) is well-formed UTF-8 (NUL bytes allowed), else 0. */
int
sbuf_utf8_valid(const uint8_t *s, size_t len)
{
	size_t		i, n;

	i = 0;
	while (i < len) {
		if ((n = utf8_seq(s + i, len - i)) == 0)
			return (0);
		i += n;
	}

	return (1);
}

/*
 * Append s[0..len) as a quoted JSON string, escaped exactly like
 * JSON.stringify(): '"' and '\\', the short forms \b \f \n \r \t, other
 * bytes below 0x20 as \u00xx (lower-case hex); everything else,
 * including '/', DEL and non-ASCII UTF-8, is copied verbatim. Runs of
 * plain bytes are copied in one go.
 */
void
sbuf_append_jstr(struct sbuf *sb, const char *s, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	const uint8_t		*p;
	size_t			 i, run;
	uint8_t			 c;
	char			 esc[6];

	p = (const uint8_t *)s;
	sbuf_reserve(sb, len + 2);
	sbuf_append_byte(sb, '"');

	run = 0;
	for (i = 0; i < len; i++) {
		c = p[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		sbuf_append(sb, p + run, i - run);
		run = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			sbuf_append(sb, esc, 6);
			continue;
		}
		sbuf_append(sb, esc, 2);
	}

	sbuf_append(sb, p + run, len - run);
	sbuf_append_byte(sb, '"');
}
