/*
 * The store's schema and the normalization of values to it (see store.h):
 * which top-level fields of each collection hold an ObjectId, an array of
 * them or a date, and the conversion of ids to 24 lowercase hex digits and
 * of dates to the canonical ISO form (parsed and formatted by
 * store_iso.c). store.c normalizes every document, update and filter
 * value through here (store_int.h) before a backend sees it; the MongoDB
 * backend reads the kinds (store_field_kind) to choose BSON types.
 */

#include <ctype.h>
#include <string.h>

#include "store/store.h"
#include "store/store_int.h"

struct store_field {
	const char	*name;
	enum store_kind	 kind;
};

static int	store_norm_value(enum store_kind, json_t *, json_t **);

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

int
store_coll_ok(enum store_coll coll)
{
	return ((int)coll >= 0 && coll < STORE_COLL_MAX);
}

/* Check an id and copy it lowercased; 0 if it is not 24 hex digits. */
int
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
int
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
int
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
