/*
 * The backend-independent half of the store (see store.h): argument
 * checks, the schema table, value normalization, dispatch to the SQLite or
 * MongoDB backend, ObjectId generation and ISO 8601 dates.
 *
 * Every public operation validates its arguments here, so the backends
 * only ever see a collection in range, ids of 24 lowercase hex digits,
 * field names matching [A-Za-z0-9_]{1,64}, and filter values already
 * converted to what the schema says the field holds. A filter value that
 * cannot convert (a non-hex string for an ObjectId field, a date that
 * does not parse) makes the query match nothing without asking the
 * backend. get, find_one and delete are built on the backends' list and
 * delete_where.
 *
 * Dates are handled with proleptic Gregorian day arithmetic rather than
 * timegm()/gmtime_r(), so any instant from year 0000 to 9999 converts
 * exactly and without locale or time zone state.
 */

#include <sys/types.h>
#include <sys/random.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

#define STORE_NORM_KEEP		0	/* value usable as is */
#define STORE_NORM_NEW		1	/* a converted value was made */
#define STORE_NORM_NOMATCH	2	/* cannot convert: matches nothing */

#define STORE_MS_PER_DAY	86400000LL

struct store_field {
	const char	*name;
	enum store_kind	 kind;
};

static void	store_oid_seed(void);
static int	store_coll_ok(enum store_coll);
static int	store_field_ok(const char *);
static int	store_key_ok(const char *);
static int	store_scalar_ok(json_t *);
static int	store_id_norm(const char *, char [STORE_OID_LEN + 1]);
static int	store_norm_scalar(enum store_kind, json_t *, json_t **);
static int	store_norm_value(enum store_kind, json_t *, json_t **);
static int	store_doc_norm(enum store_coll, json_t *, json_t **);
static int	store_digits(const char *, int, int *);
static int	store_days_in_month(int, int);
static int64_t	store_days_from_civil(int64_t, int, int);
static void	store_civil_from_days(int64_t, int64_t *, int *, int *);
static enum store_result	store_find_id(struct store_conn *,
		    enum store_coll, const char *, json_t **);

static const struct store_backend	*store_be = NULL;
static void				(*store_log_cb)(int, const char *);

static uint8_t				store_oid_rand[5];
static atomic_uint			store_oid_counter;
static atomic_int			store_oid_seeded;

static const char	*store_coll_names[STORE_COLL_MAX] = {
	"users", "todos", "projects"
};

/* The schema: top-level fields that are not plain JSON values. */
static const struct store_field	store_schema_users[] = {
	{ "_id",	STORE_KIND_OID },
	{ "created",	STORE_KIND_DATE },
	{ "updated",	STORE_KIND_DATE },
	{ NULL,		STORE_KIND_PLAIN }
};

static const struct store_field	store_schema_todos[] = {
	{ "_id",	STORE_KIND_OID },
	{ "ownerId",	STORE_KIND_OID },
	{ "projectId",	STORE_KIND_OID },
	{ "created",	STORE_KIND_DATE },
	{ "updated",	STORE_KIND_DATE },
	{ NULL,		STORE_KIND_PLAIN }
};

static const struct store_field	store_schema_projects[] = {
	{ "_id",	STORE_KIND_OID },
	{ "ownerId",	STORE_KIND_OID },
	{ "members",	STORE_KIND_OID_ARRAY },
	{ "created",	STORE_KIND_DATE },
	{ "updated",	STORE_KIND_DATE },
	{ NULL,		STORE_KIND_PLAIN }
};

static const struct store_field	*store_schema[STORE_COLL_MAX] = {
	store_schema_users, store_schema_todos, store_schema_projects
};

enum store_result
store_global_init(const struct store_config *cfg)
{
	enum store_result	r;

	if (cfg == NULL || store_be != NULL)
		return (STORE_ERROR);

	store_log_cb = cfg->log;
	store_oid_seed();

	if (cfg->mongodb_uri != NULL)
		store_be = &store_mongo_backend;
	else
		store_be = &store_sqlite_backend;

	if ((r = store_be->init(cfg)) != STORE_OK)
		store_be = NULL;

	return (r);
}

void
store_global_cleanup(void)
{
	if (store_be == NULL)
		return;

	store_be->cleanup();
	store_be = NULL;
}

const char *
store_backend_name(void)
{
	if (store_be == NULL)
		return ("none");

	return (store_be->name);
}

struct store_conn *
store_acquire(void)
{
	if (store_be == NULL)
		return (NULL);

	return (store_be->acquire());
}

void
store_release(struct store_conn *c)
{
	if (store_be == NULL || c == NULL)
		return;

	store_be->release(c);
}

void
store_log(int prio, const char *fmt, ...)
{
	va_list		args;
	char		msg[512];

	va_start(args, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);

	if (store_log_cb != NULL)
		store_log_cb(prio, msg);
	else
		fprintf(stderr, "store: %s\n", msg);
}

enum store_result
store_ping(struct store_conn *c)
{
	if (store_be == NULL || c == NULL)
		return (STORE_ERROR);

	return (store_be->ping(c));
}

enum store_result
store_insert(struct store_conn *c, enum store_coll coll, json_t *doc)
{
	json_t			*norm, *id;
	const char		*key;
	json_t			*val;
	enum store_result	 r;

	if (store_be == NULL || c == NULL || !store_coll_ok(coll) ||
	    !json_is_object(doc))
		return (STORE_ERROR);

	id = json_object_get(doc, "_id");
	if (!json_is_string(id) || !store_oid_valid(json_string_value(id)))
		return (STORE_ERROR);

	json_object_foreach(doc, key, val) {
		if (!store_key_ok(key))
			return (STORE_ERROR);
	}

	if (!store_doc_norm(coll, doc, &norm))
		return (STORE_ERROR);

	r = store_be->insert(c, coll, norm);
	json_decref(norm);

	return (r);
}

enum store_result
store_get(struct store_conn *c, enum store_coll coll, const char *id,
    json_t **doc)
{
	char		oid[STORE_OID_LEN + 1];

	if (doc != NULL)
		*doc = NULL;

	if (store_be == NULL || c == NULL || !store_coll_ok(coll) ||
	    doc == NULL)
		return (STORE_ERROR);

	if (!store_id_norm(id, oid))
		return (STORE_NOTFOUND);

	return (store_find_id(c, coll, oid, doc));
}

enum store_result
store_find_one(struct store_conn *c, enum store_coll coll,
    const char *field, json_t *value, json_t **doc)
{
	struct store_filter	f;
	struct store_query	q;
	json_t			*docs;
	enum store_result	 r;

	if (doc != NULL)
		*doc = NULL;

	if (doc == NULL)
		return (STORE_ERROR);

	memset(&q, 0, sizeof(q));
	f.field = field;
	f.op = STORE_EQ;
	f.value = value;
	q.filters = &f;
	q.nfilters = 1;
	q.limit = 1;

	if ((r = store_list(c, coll, &q, &docs, NULL)) != STORE_OK)
		return (r);

	if (json_array_size(docs) == 0) {
		r = STORE_NOTFOUND;
	} else {
		*doc = json_incref(json_array_get(docs, 0));
		r = STORE_OK;
	}

	json_decref(docs);

	return (r);
}

enum store_result
store_list(struct store_conn *c, enum store_coll coll,
    const struct store_query *q, json_t **docs, size_t *total)
{
	struct store_query	nq;
	struct store_filter	nf[STORE_FILTER_MAX];
	json_t			*owned[STORE_FILTER_MAX];
	size_t			 i, nowned;
	int			 norm, nomatch;
	enum store_result	 r;

	if (docs != NULL)
		*docs = NULL;
	if (total != NULL)
		*total = 0;

	if (store_be == NULL || c == NULL || !store_coll_ok(coll) ||
	    q == NULL || docs == NULL || q->nfilters > STORE_FILTER_MAX ||
	    (q->nfilters > 0 && q->filters == NULL) ||
	    (q->sort != NULL && !store_field_ok(q->sort)))
		return (STORE_ERROR);

	nq = *q;
	nq.filters = nf;
	nowned = 0;
	nomatch = 0;
	r = STORE_ERROR;

	for (i = 0; i < q->nfilters; i++) {
		nf[i] = q->filters[i];
		if (!store_field_ok(nf[i].field) ||
		    (nf[i].op != STORE_EQ && nf[i].op != STORE_CONTAINS) ||
		    !store_scalar_ok(nf[i].value))
			goto cleanup;

		norm = store_norm_scalar(store_field_kind(coll, nf[i].field),
		    nf[i].value, &nf[i].value);
		if (norm == STORE_NORM_NEW)
			owned[nowned++] = nf[i].value;
		else if (norm == STORE_NORM_NOMATCH)
			nomatch = 1;
	}

	if ((*docs = json_array()) == NULL)
		goto cleanup;

	if (nomatch)
		r = STORE_OK;
	else
		r = store_be->list(c, coll, &nq, *docs, total);

	if (r != STORE_OK) {
		json_decref(*docs);
		*docs = NULL;
		if (total != NULL)
			*total = 0;
	}

cleanup:
	for (i = 0; i < nowned; i++)
		json_decref(owned[i]);

	return (r);
}

enum store_result
store_update(struct store_conn *c, enum store_coll coll, const char *id,
    json_t *set, json_t **doc)
{
	char			 oid[STORE_OID_LEN + 1];
	const char		*key;
	json_t			*val, *norm, *after;
	enum store_result	 r;

	if (doc != NULL)
		*doc = NULL;

	if (store_be == NULL || c == NULL || !store_coll_ok(coll) ||
	    !json_is_object(set) || json_object_size(set) > STORE_SET_MAX)
		return (STORE_ERROR);

	json_object_foreach(set, key, val) {
		if (!store_field_ok(key) || strcmp(key, "_id") == 0)
			return (STORE_ERROR);
	}

	if (!store_id_norm(id, oid))
		return (STORE_NOTFOUND);

	after = NULL;
	if (json_object_size(set) == 0) {
		r = store_find_id(c, coll, oid, &after);
	} else {
		if (!store_doc_norm(coll, set, &norm))
			return (STORE_ERROR);
		r = store_be->update(c, coll, oid, norm, &after);
		json_decref(norm);
	}

	if (r == STORE_OK && doc != NULL)
		*doc = after;
	else if (r == STORE_OK)
		json_decref(after);

	return (r);
}

enum store_result
store_delete(struct store_conn *c, enum store_coll coll, const char *id)
{
	char			 oid[STORE_OID_LEN + 1];
	json_t			*val;
	size_t			 n;
	enum store_result	 r;

	if (store_be == NULL || c == NULL || !store_coll_ok(coll))
		return (STORE_ERROR);

	if (!store_id_norm(id, oid))
		return (STORE_NOTFOUND);

	if ((val = json_string(oid)) == NULL)
		return (STORE_ERROR);

	r = store_be->delete_where(c, coll, "_id", val, &n);
	json_decref(val);

	if (r == STORE_OK && n == 0)
		r = STORE_NOTFOUND;

	return (r);
}

enum store_result
store_delete_where(struct store_conn *c, enum store_coll coll,
    const char *field, json_t *value, size_t *n)
{
	size_t			 dummy;
	json_t			*norm;
	int			 how;
	enum store_result	 r;

	if (n == NULL)
		n = &dummy;
	*n = 0;

	if (store_be == NULL || c == NULL || !store_coll_ok(coll) ||
	    !store_field_ok(field) || !store_scalar_ok(value))
		return (STORE_ERROR);

	how = store_norm_scalar(store_field_kind(coll, field), value, &norm);
	if (how == STORE_NORM_NOMATCH)
		return (STORE_OK);

	r = store_be->delete_where(c, coll, field, norm, n);
	if (how == STORE_NORM_NEW)
		json_decref(norm);

	return (r);
}

enum store_result
store_delete_project(struct store_conn *c, const char *id, size_t *ntodos)
{
	char		oid[STORE_OID_LEN + 1];
	size_t		dummy;

	if (ntodos == NULL)
		ntodos = &dummy;
	*ntodos = 0;

	if (store_be == NULL || c == NULL)
		return (STORE_ERROR);

	if (!store_id_norm(id, oid))
		return (STORE_NOTFOUND);

	return (store_be->delete_project(c, oid, ntodos));
}

void
store_oid_new(char out[STORE_OID_LEN + 1])
{
	static const char	hex[] = "0123456789abcdef";
	uint8_t			b[12];
	uint32_t		secs, cnt;
	int			i;

	if (!atomic_load(&store_oid_seeded))
		store_oid_seed();

	secs = (uint32_t)time(NULL);
	cnt = atomic_fetch_add(&store_oid_counter, 1);

	b[0] = (uint8_t)(secs >> 24);
	b[1] = (uint8_t)(secs >> 16);
	b[2] = (uint8_t)(secs >> 8);
	b[3] = (uint8_t)secs;
	memcpy(&b[4], store_oid_rand, sizeof(store_oid_rand));
	b[9] = (uint8_t)(cnt >> 16);
	b[10] = (uint8_t)(cnt >> 8);
	b[11] = (uint8_t)cnt;

	for (i = 0; i < 12; i++) {
		out[i * 2] = hex[b[i] >> 4];
		out[i * 2 + 1] = hex[b[i] & 0x0f];
	}
	out[STORE_OID_LEN] = '\0';
}

int
store_oid_valid(const char *s)
{
	size_t		i;

	if (s == NULL)
		return (0);

	for (i = 0; i < STORE_OID_LEN; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return (0);
	}

	return (s[STORE_OID_LEN] == '\0');
}

void
store_now_iso(char out[STORE_ISO_LEN])
{
	struct timespec		ts;
	int64_t			ms;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;

	if (!store_iso_format(ms, out))
		(void)snprintf(out, STORE_ISO_LEN, "1970-01-01T00:00:00.000Z");
}

int
store_iso_parse(const char *s, int64_t *ms)
{
	int		y, mo, d, h, mi, sec, oh, om, frac, ndig, off;
	const char	*p;

	if (s == NULL || ms == NULL)
		return (0);

	if (!store_digits(s, 4, &y) || s[4] != '-' ||
	    !store_digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !store_digits(s + 8, 2, &d) || s[10] != 'T' ||
	    !store_digits(s + 11, 2, &h) || s[13] != ':' ||
	    !store_digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !store_digits(s + 17, 2, &sec))
		return (0);

	if (mo < 1 || mo > 12 || d < 1 || d > store_days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 59)
		return (0);

	p = s + 19;
	frac = 0;
	if (*p == '.') {
		for (p++, ndig = 0; isdigit((unsigned char)*p); p++, ndig++) {
			if (ndig < 3)
				frac = frac * 10 + (*p - '0');
		}
		if (ndig == 0 || ndig > 9)
			return (0);
		for (; ndig < 3; ndig++)
			frac *= 10;
	}

	off = 0;
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		if (!store_digits(p + 1, 2, &oh) || p[3] != ':' ||
		    !store_digits(p + 4, 2, &om) || oh > 23 || om > 59)
			return (0);
		off = (oh * 60 + om) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return (0);
	}

	if (*p != '\0')
		return (0);

	*ms = store_days_from_civil(y, mo, d) * STORE_MS_PER_DAY +
	    ((int64_t)h * 3600 + mi * 60 + sec - (int64_t)off * 60) * 1000 +
	    frac;

	return (1);
}

int
store_iso_format(int64_t ms, char out[STORE_ISO_LEN])
{
	int64_t		days, rem, y;
	int		m, d;

	/* 0000-01-01 .. 9999-12-31, which also keeps the math in range. */
	if (ms < -62167219200000LL || ms > 253402300799999LL)
		return (0);

	days = ms / STORE_MS_PER_DAY;
	rem = ms % STORE_MS_PER_DAY;
	if (rem < 0) {
		rem += STORE_MS_PER_DAY;
		days--;
	}

	store_civil_from_days(days, &y, &m, &d);

	/* The modulos only tell the compiler the ranges checked above. */
	(void)snprintf(out, STORE_ISO_LEN,
	    "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned int)y % 10000,
	    (unsigned int)m % 100, (unsigned int)d % 100,
	    (unsigned int)(rem / 3600000) % 100,
	    (unsigned int)(rem / 60000 % 60), (unsigned int)(rem / 1000 % 60),
	    (unsigned int)(rem % 1000));

	return (1);
}

const char *
store_coll_name(enum store_coll coll)
{
	if (!store_coll_ok(coll))
		return (NULL);

	return (store_coll_names[coll]);
}

enum store_kind
store_field_kind(enum store_coll coll, const char *field)
{
	const struct store_field	*f;

	if (!store_coll_ok(coll) || field == NULL)
		return (STORE_KIND_PLAIN);

	for (f = store_schema[coll]; f->name != NULL; f++) {
		if (strcmp(f->name, field) == 0)
			return (f->kind);
	}

	return (STORE_KIND_PLAIN);
}

const char *
store_result_str(enum store_result r)
{
	switch (r) {
	case STORE_OK:
		return ("ok");
	case STORE_NOTFOUND:
		return ("not found");
	case STORE_DUPLICATE:
		return ("duplicate");
	case STORE_ERROR:
		return ("error");
	}

	return ("unknown");
}

/*
 * Draw the 5 per-process random bytes and a random counter start. Racing
 * first calls may each draw: any of the draws is as good as another.
 */
static void
store_oid_seed(void)
{
	uint8_t		buf[8];
	size_t		off;
	ssize_t		n;

	for (off = 0; off < sizeof(buf); off += (size_t)n) {
		n = getrandom(buf + off, sizeof(buf) - off, 0);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			/* No entropy source: fall back to time and pid. */
			store_log(STORE_LOG_WARNING, "getrandom failed: %s",
			    strerror(errno));
			n = (ssize_t)(sizeof(buf) - off);
			memset(buf + off, 0, (size_t)n);
			buf[0] ^= (uint8_t)getpid();
			buf[7] ^= (uint8_t)time(NULL);
		}
	}

	memcpy(store_oid_rand, buf, sizeof(store_oid_rand));
	atomic_store(&store_oid_counter,
	    (unsigned int)buf[5] << 16 | (unsigned int)buf[6] << 8 | buf[7]);
	atomic_store(&store_oid_seeded, 1);
}

static int
store_coll_ok(enum store_coll coll)
{
	return ((int)coll >= 0 && coll < STORE_COLL_MAX);
}

/* Names that go into filters, sorts and updates: [A-Za-z0-9_]{1,64}. */
static int
store_field_ok(const char *f)
{
	size_t		i;

	if (f == NULL)
		return (0);

	for (i = 0; f[i] != '\0'; i++) {
		if (i >= STORE_FIELD_MAX)
			return (0);
		if (!isalnum((unsigned char)f[i]) && f[i] != '_')
			return (0);
	}

	return (i > 0);
}

/* Keys of inserted documents: what MongoDB accepts at the top level. */
static int
store_key_ok(const char *k)
{
	return (k[0] != '\0' && k[0] != '$' && strchr(k, '.') == NULL);
}

static int
store_scalar_ok(json_t *v)
{
	return (json_is_string(v) || json_is_number(v) ||
	    json_is_boolean(v) || json_is_null(v));
}

/* Check an id and copy it lowercased; 0 if it is not 24 hex digits. */
static int
store_id_norm(const char *id, char out[STORE_OID_LEN + 1])
{
	size_t		i;

	if (!store_oid_valid(id))
		return (0);

	for (i = 0; i <= STORE_OID_LEN; i++)
		out[i] = (char)tolower((unsigned char)id[i]);

	return (1);
}

/*
 * Convert one scalar to the form the schema kind asks for. For an
 * ObjectId (or an element of an ObjectId array) that is a lowercase
 * 24-hex string; for a date the canonical ISO form. null stays null.
 * Returns STORE_NORM_KEEP (*out = v, borrowed), STORE_NORM_NEW (*out a
 * new reference), or STORE_NORM_NOMATCH (*out = v).
 */
static int
store_norm_scalar(enum store_kind kind, json_t *v, json_t **out)
{
	char		buf[STORE_ISO_LEN];
	const char	*s;
	int64_t		ms;

	*out = v;

	if (kind == STORE_KIND_PLAIN || json_is_null(v))
		return (STORE_NORM_KEEP);

	if (!json_is_string(v))
		return (STORE_NORM_NOMATCH);
	s = json_string_value(v);

	if (kind == STORE_KIND_OID || kind == STORE_KIND_OID_ARRAY) {
		if (!store_id_norm(s, buf))
			return (STORE_NORM_NOMATCH);
	} else {
		if (!store_iso_parse(s, &ms) || !store_iso_format(ms, buf))
			return (STORE_NORM_NOMATCH);
	}

	if (strcmp(buf, s) == 0)
		return (STORE_NORM_KEEP);

	if ((*out = json_string(buf)) == NULL) {
		*out = v;
		return (STORE_NORM_NOMATCH);
	}

	return (STORE_NORM_NEW);
}

/*
 * Normalize a document field's value; values that cannot convert are
 * kept as they are. Returns 1 with *out a new reference if anything
 * changed, else 0 with *out = v.
 */
static int
store_norm_value(enum store_kind kind, json_t *v, json_t **out)
{
	json_t		*elem, *conv, *copy;
	size_t		 i;

	*out = v;

	if (kind != STORE_KIND_OID_ARRAY || !json_is_array(v))
		return (store_norm_scalar(kind, v, out) == STORE_NORM_NEW);

	copy = NULL;
	json_array_foreach(v, i, elem) {
		if (store_norm_scalar(kind, elem, &conv) != STORE_NORM_NEW)
			continue;
		if (copy == NULL && (copy = json_copy(v)) == NULL) {
			json_decref(conv);
			return (0);
		}
		(void)json_array_set_new(copy, i, conv);
	}

	if (copy == NULL)
		return (0);

	*out = copy;
	return (1);
}

/*
 * Normalize the schema fields of a document (or an update's set). *out
 * is a new reference: doc itself, or a shallow copy with converted values.
 */
static int
store_doc_norm(enum store_coll coll, json_t *doc, json_t **out)
{
	const struct store_field	*f;
	json_t				*val, *conv, *copy;

	copy = NULL;

	for (f = store_schema[coll]; f->name != NULL; f++) {
		if ((val = json_object_get(doc, f->name)) == NULL)
			continue;
		if (!store_norm_value(f->kind, val, &conv))
			continue;
		if (copy == NULL && (copy = json_copy(doc)) == NULL) {
			json_decref(conv);
			return (0);
		}
		(void)json_object_set_new(copy, f->name, conv);
	}

	*out = (copy != NULL) ? copy : json_incref(doc);

	return (1);
}

static enum store_result
store_find_id(struct store_conn *c, enum store_coll coll, const char *oid,
    json_t **doc)
{
	json_t			*val;
	enum store_result	 r;

	if ((val = json_string(oid)) == NULL)
		return (STORE_ERROR);

	r = store_find_one(c, coll, "_id", val, doc);
	json_decref(val);

	return (r);
}

static int
store_digits(const char *s, int n, int *out)
{
	int		i;

	*out = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return (0);
		*out = *out * 10 + (s[i] - '0');
	}

	return (1);
}

static int
store_days_in_month(int y, int m)
{
	static const int	days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return (29);

	return (days[m - 1]);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
store_days_from_civil(int64_t y, int m, int d)
{
	int64_t		era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return (era * 146097 + doe - 719468);
}

static void
store_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t		era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}
