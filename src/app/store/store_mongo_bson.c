/*
 * The MongoDB backend's conversion between the store's JSON documents and
 * BSON (see store_mongo.c): documents, $set/$unset updates and filters on
 * the way in, documents on the way out. store_mongo_ops.c calls it
 * (store_mongo.h); the schema kinds come from store_schema.c and the dates
 * from store_iso.c, through store.h.
 *
 * Documents are stored the way Terreno's mongoose models store them, so
 * korio and an existing Terreno deployment can share a database: the
 * schema's ObjectId fields (_id, ownerId, projectId, members[]) as BSON
 * ObjectId, its date fields (created, updated) as BSON Date, integers as
 * int32 when they fit (int64 otherwise), reals as double. Reading converts
 * back to the REST shape: every ObjectId, wherever it is, becomes its hex
 * string, every Date an ISO string with milliseconds, integral doubles
 * become JSON integers (as JSON.stringify prints them), Decimal128 a
 * string; other BSON types (binary, regex, ...) read as null. Fields the
 * schema does not name pass through ("__v" stays an int32 because updates
 * only $set the fields they are given).
 *
 * Filters convert through the same schema, so projectId=P matches
 * ObjectId(P). Several filters on distinct fields make one flat filter
 * document, repeated fields go under $and.
 */

#include <string.h>

#include "store/store.h"
#include "store/store_mongo.h"

#define STORE_MONGO_SAFE_INT	9007199254740992.0	/* 2^53 */

static int			 store_mongo_append(bson_t *, const char *,
				    enum store_kind, json_t *);
static json_t			*store_mongo_value(bson_iter_t *);
static json_t			*store_mongo_array(bson_iter_t *);

/*
 * Append one JSON value under key, converting per the schema kind: a
 * 24-hex string for an ObjectId field becomes an ObjectId, a parseable
 * string for a date field a Date; anything else is stored as its JSON
 * type. Elements of an ObjectId array convert like ObjectId fields.
 */
static int
store_mongo_append(bson_t *b, const char *key, enum store_kind kind,
    json_t *v)
{
	bson_t		 child;
	bson_oid_t	 oid;
	const char	*s, *ikey;
	char		 ibuf[16];
	const char	*k;
	json_t		*e;
	json_int_t	 i;
	int64_t		 ms;
	size_t		 idx;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		(void)bson_append_document_begin(b, key, -1, &child);
		json_object_foreach(v, k, e) {
			if (!store_mongo_append(&child, k, STORE_KIND_PLAIN,
			    e))
				return (0);
		}
		return (bson_append_document_end(b, &child));
	case JSON_ARRAY:
		(void)bson_append_array_begin(b, key, -1, &child);
		json_array_foreach(v, idx, e) {
			(void)bson_uint32_to_string((uint32_t)idx, &ikey, ibuf,
			    sizeof(ibuf));
			if (!store_mongo_append(&child, ikey,
			    kind == STORE_KIND_OID_ARRAY ? STORE_KIND_OID :
			    STORE_KIND_PLAIN, e))
				return (0);
		}
		return (bson_append_array_end(b, &child));
	case JSON_STRING:
		s = json_string_value(v);
		if ((kind == STORE_KIND_OID || kind == STORE_KIND_OID_ARRAY) &&
		    store_oid_valid(s)) {
			bson_oid_init_from_string(&oid, s);
			return (bson_append_oid(b, key, -1, &oid));
		}
		if (kind == STORE_KIND_DATE && store_iso_parse(s, &ms))
			return (bson_append_date_time(b, key, -1, ms));
		return (bson_append_utf8(b, key, -1, s,
		    (int)json_string_length(v)));
	case JSON_INTEGER:
		i = json_integer_value(v);
		if (i >= INT32_MIN && i <= INT32_MAX)
			return (bson_append_int32(b, key, -1, (int32_t)i));
		return (bson_append_int64(b, key, -1, (int64_t)i));
	case JSON_REAL:
		return (bson_append_double(b, key, -1, json_real_value(v)));
	case JSON_TRUE:
		return (bson_append_bool(b, key, -1, true));
	case JSON_FALSE:
		return (bson_append_bool(b, key, -1, false));
	case JSON_NULL:
		return (bson_append_null(b, key, -1));
	}

	return (0);
}

int
store_mongo_append_doc(bson_t *b, enum store_coll coll, json_t *doc)
{
	const char	*key;
	json_t		*val;

	json_object_foreach(doc, key, val) {
		if (!store_mongo_append(b, key, store_field_kind(coll, key),
		    val))
			return (0);
	}

	return (1);
}

/* {$set: {non-null members of set}, $unset: {null members: ""}} */
int
store_mongo_update_doc(bson_t *update, enum store_coll coll, json_t *set)
{
	bson_t		 sub;
	const char	*key;
	json_t		*val;
	size_t		 nunset;

	nunset = 0;
	json_object_foreach(set, key, val)
		nunset += json_is_null(val);

	if (nunset < json_object_size(set)) {
		(void)bson_append_document_begin(update, "$set", -1, &sub);
		json_object_foreach(set, key, val) {
			if (json_is_null(val))
				continue;
			if (!store_mongo_append(&sub, key,
			    store_field_kind(coll, key), val))
				return (0);
		}
		(void)bson_append_document_end(update, &sub);
	}

	if (nunset > 0) {
		(void)bson_append_document_begin(update, "$unset", -1, &sub);
		json_object_foreach(set, key, val) {
			if (json_is_null(val))
				(void)bson_append_utf8(&sub, key, -1, "", 0);
		}
		(void)bson_append_document_end(update, &sub);
	}

	return (1);
}

/*
 * Build the filter document. EQ and CONTAINS are both {field: value} in
 * MongoDB (equality matches array elements). Repeated fields go under
 * $and, since a document can't hold the same key twice.
 */
int
store_mongo_filter(bson_t *b, enum store_coll coll,
    const struct store_filter *f, size_t nf)
{
	bson_t		 and, sub;
	const char	*ikey;
	char		 ibuf[16];
	size_t		 i, j;
	int		 repeated;

	repeated = 0;
	for (i = 0; i < nf; i++) {
		for (j = i + 1; j < nf; j++) {
			if (strcmp(f[i].field, f[j].field) == 0)
				repeated = 1;
		}
	}

	if (!repeated) {
		for (i = 0; i < nf; i++) {
			if (!store_mongo_append(b, f[i].field,
			    store_field_kind(coll, f[i].field), f[i].value))
				return (0);
		}
		return (1);
	}

	(void)bson_append_array_begin(b, "$and", -1, &and);
	for (i = 0; i < nf; i++) {
		(void)bson_uint32_to_string((uint32_t)i, &ikey, ibuf,
		    sizeof(ibuf));
		(void)bson_append_document_begin(&and, ikey, -1, &sub);
		if (!store_mongo_append(&sub, f[i].field,
		    store_field_kind(coll, f[i].field), f[i].value))
			return (0);
		(void)bson_append_document_end(&and, &sub);
	}

	return (bson_append_array_end(b, &and));
}

static json_t *
store_mongo_value(bson_iter_t *it)
{
	char		 buf[BSON_DECIMAL128_STRING];
	bson_decimal128_t dec;
	const char	*s;
	json_t		*v;
	uint32_t	 len, t, inc;
	double		 d;

	switch (bson_iter_type(it)) {
	case BSON_TYPE_OID:
		bson_oid_to_string(bson_iter_oid(it), buf);
		return (json_string(buf));
	case BSON_TYPE_DATE_TIME:
		if (store_iso_format(bson_iter_date_time(it), buf))
			return (json_string(buf));
		return (json_integer(bson_iter_date_time(it)));
	case BSON_TYPE_UTF8:
		s = bson_iter_utf8(it, &len);
		v = json_stringn(s, len);
		break;
	case BSON_TYPE_INT32:
		return (json_integer(bson_iter_int32(it)));
	case BSON_TYPE_INT64:
		return (json_integer(bson_iter_int64(it)));
	case BSON_TYPE_DOUBLE:
		d = bson_iter_double(it);
		if (d >= -STORE_MONGO_SAFE_INT && d <= STORE_MONGO_SAFE_INT &&
		    (double)(json_int_t)d == d)
			return (json_integer((json_int_t)d));
		v = json_real(d);	/* NULL for NaN and infinities */
		break;
	case BSON_TYPE_BOOL:
		return (json_boolean(bson_iter_bool(it)));
	case BSON_TYPE_DOCUMENT:
		return (store_mongo_object(it));
	case BSON_TYPE_ARRAY:
		return (store_mongo_array(it));
	case BSON_TYPE_DECIMAL128:
		if (!bson_iter_decimal128(it, &dec))
			return (json_null());
		bson_decimal128_to_string(&dec, buf);
		return (json_string(buf));
	case BSON_TYPE_TIMESTAMP:
		bson_iter_timestamp(it, &t, &inc);
		return (json_integer(t));
	default:
		return (json_null());
	}

	return (v != NULL ? v : json_null());
}

json_t *
store_mongo_object(bson_iter_t *it)
{
	bson_iter_t	 child;
	json_t		*obj, *v;

	if (!bson_iter_recurse(it, &child) || (obj = json_object()) == NULL)
		return (NULL);

	while (bson_iter_next(&child)) {
		if ((v = store_mongo_value(&child)) == NULL ||
		    json_object_set_new(obj, bson_iter_key(&child), v) == -1) {
			json_decref(obj);
			return (NULL);
		}
	}

	return (obj);
}

static json_t *
store_mongo_array(bson_iter_t *it)
{
	bson_iter_t	 child;
	json_t		*arr, *v;

	if (!bson_iter_recurse(it, &child) || (arr = json_array()) == NULL)
		return (NULL);

	while (bson_iter_next(&child)) {
		if ((v = store_mongo_value(&child)) == NULL ||
		    json_array_append_new(arr, v) == -1) {
			json_decref(arr);
			return (NULL);
		}
	}

	return (arr);
}

json_t *
store_mongo_doc(const bson_t *b)
{
	bson_iter_t	 it;
	json_t		*obj, *v;

	if (!bson_iter_init(&it, b) || (obj = json_object()) == NULL)
		return (NULL);

	while (bson_iter_next(&it)) {
		if ((v = store_mongo_value(&it)) == NULL ||
		    json_object_set_new(obj, bson_iter_key(&it), v) == -1) {
			json_decref(obj);
			return (NULL);
		}
	}

	return (obj);
}
