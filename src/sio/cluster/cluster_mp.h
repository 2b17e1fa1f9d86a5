/*
 * cluster_mp.h: the insides of the Redis adapter's wire codec (pure;
 * cluster_codec.h is its interface). cluster_mp.c's reader turns a
 * message into a flat tree of nodes that point into the input and its
 * writer speaks notepack.io's encoding choices; cluster_mpjs.c writes a
 * node as the JSON text a Node server would send for it after
 * notepack.io's decode; cluster_codec.c's helpers are shared with
 * cluster_req.c.
 */

#ifndef SIO_CLUSTER_MP_H
#define SIO_CLUSTER_MP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "codec/sbuf.h"

struct cc_bin;

/* What notepack.io's decode() makes of a msgpack value. */
#define MP_NIL		0	/* null */
#define MP_UNDEF	1	/* undefined (legacy d4 00 xx) */
#define MP_FALSE	2
#define MP_TRUE		3
#define MP_INT		4	/* v.i */
#define MP_UINT		5	/* v.u, above INT64_MAX too */
#define MP_FLOAT	6	/* v.d */
#define MP_STR		7	/* p, len: bytes as sent */
#define MP_BIN		8	/* a Buffer: p, len */
#define MP_ABUF		9	/* an ArrayBuffer (ext 0): p, len */
#define MP_EXT		10	/* [ext, Buffer]: ext, p, len */
#define MP_DATE		11	/* a Date: v.d ms since the epoch, NaN invalid */
#define MP_ARRAY	12	/* n elements follow */
#define MP_MAP		13	/* n key, value pairs follow */

/*
 * One node of a decoded tree; the tree is an array in pre-order: the
 * children of a container at i start at i + 1, and `end` is the index
 * past a node's subtree (the next sibling).
 */
struct mp_node {
	uint8_t		 kind;
	int8_t		 ext;
	uint32_t	 n;
	uint32_t	 end;
	size_t		 len;
	const uint8_t	*p;
	union {
		int64_t	 i;
		uint64_t u;
		double	 d;
	} v;
};

/* Where mp_js_value() writes: JSON to out, Buffers to att. */
struct mp_js {
	const struct mp_node	*nodes;
	struct sbuf		*out;
	struct sbuf		*att;	/* struct cc_bin[] */
	struct sbuf		*keys;	/* a stack of map keys */
	struct sbuf		*ents;	/* a stack of map entries */
};

/* cluster_mp.c: reader */
int		 mp_parse(struct sbuf *, const uint8_t *, size_t);
uint32_t	 mp_map_get(const struct mp_node *, uint32_t, const char *);
int		 mp_truthy(const struct mp_node *);
int		 mp_is_number(const struct mp_node *);
double		 mp_number(const struct mp_node *);

/* cluster_mpjs.c */
int		 mp_js_value(struct mp_js *, uint32_t);
int		 mp_js_key(struct sbuf *, const struct mp_node *, uint32_t);
void		 mp_js_utf8(struct sbuf *, const uint8_t *, size_t);
void		 mp_js_number(struct sbuf *, double);

/* cluster_mp.c: writer (notepack.io's choices) */
void		 mp_put_nil(struct sbuf *);
void		 mp_put_bool(struct sbuf *, int);
void		 mp_put_number(struct sbuf *, double);
void		 mp_put_uint(struct sbuf *, uint64_t);
void		 mp_put_int(struct sbuf *, int64_t);
void		 mp_put_str(struct sbuf *, const void *, size_t);
void		 mp_put_bin(struct sbuf *, const void *, size_t);
void		 mp_put_array(struct sbuf *, size_t);
void		 mp_put_map(struct sbuf *, size_t);
int		 mp_put_json(struct sbuf *, const json_t *,
		    const struct cc_bin *, size_t, int);

/* A list of names being decoded: where it starts in mem.ptrs, how long. */
struct cc_list {
	size_t		first;
	size_t		n;
};

/* cluster_codec.c: shared with cluster_req.c */
extern const struct cc_flags cc_flags_none;
void		 cc_mem_reset(struct cc_mem *);
void		 cc_mem_free(struct cc_mem *);
size_t		 cc_name(struct cc_mem *, const char *, size_t);
void		 cc_list_add(struct cc_mem *, struct cc_list *, size_t);
const char *const *cc_list_ptr(struct cc_mem *, const struct cc_list *);
const char	*cc_str(struct cc_mem *, size_t);
void		 cc_fixup(struct cc_mem *);
struct mp_js	 cc_js(struct cc_mem *);
int		 cc_packet_node(struct cc_mem *, const struct mp_node *,
		    uint32_t, size_t *);
int		 cc_put_packet(struct sbuf *, const struct cc_bcast *);
void		 cc_put_opts(struct sbuf *, const struct cc_bcast *);
void		 cc_put_key(struct sbuf *, const char *);

#endif /* !SIO_CLUSTER_MP_H */
