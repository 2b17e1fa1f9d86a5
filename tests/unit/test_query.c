/*
 * test_query.c: unit tests for src/app/realtime/query*.c (Terreno's
 * query matcher, queryId and todo query scope; JavaScript's String(),
 * JSON.stringify(), Number() and relational order). Every expected
 * value below was computed in Node.js (v20) with Terreno's own rules
 * (JSON.parse of the same text, then matchesQuery(), computeQueryId(),
 * String(), Number()) and pasted in as a literal.
 */

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "realtime/query.h"
#include "test_help.h"

struct match_case {
	const char	*query;
	int		 expect;
};

struct id_case {
	const char	*collection;
	const char	*query;
	const char	*expect;
};

struct num_case {
	uint64_t	 bits;
	const char	*expect;
};

struct str_num_case {
	const char	*s;
	double		 expect;	/* NAN: must be NaN */
};

static json_t	*parse(const char *);
static json_t	*nest(const char *, int);
static char	*number_text(double);
static double	 from_bits(uint64_t);

static int	test_id_table(void);
static int	test_id_scoped(void);
static int	test_id_values(void);
static int	test_id_refused(void);
static int	test_match_table(void);
static int	test_match_edges(void);
static int	test_match_depth(void);
static int	test_numbers(void);
static int	test_str_number(void);
static int	test_utf16(void);
static int	test_js_string(void);

/*
 * The document the match table runs against: a REST todo with a few
 * extra fields for the edge cases.
 */
static const char *const match_doc =
    "{\"_id\":\"65f0c0ffee0000000000abcd\",\"id\":\"65f0c0ffee000000000"
    "0abcd\",\"title\":\"Buy milk\",\"completed\":false,\"ownerId\":\"u"
    "1\",\"priority\":3,\"score\":1.5,\"tags\":[\"a\",\"b\"],\"meta\":{"
    "\"n\":1,\"s\":\"x\",\"deep\":{\"k\":\"v\"},\"nil\":null,\"arr\":[{"
    "\"b\":1,\"a\":2}]},\"empty\":\"\",\"zero\":0,\"big\":\"\\ud83d\\ud"
    "e00\",\"bmp\":\"\\uff61\",\"nums\":\"12\",\"0\":\"z\",\"1\":\"y\","
    "\"flag\":true,\"hex\":\"0x1f\",\"created\":\"2024-01-02T03:04:05.0"
    "00Z\"}";

static const struct match_case match_cases[] = {
	{ "{}", 1 },
	{ "{\"completed\":false}", 1 },
	{ "{\"completed\":\"false\"}", 1 },
	{ "{\"completed\":true}", 0 },
	{ "{\"completed\":0}", 0 },
	{ "{\"completed\":null}", 0 },
	{ "{\"flag\":\"true\"}", 1 },
	{ "{\"flag\":1}", 0 },
	{ "{\"priority\":\"3\"}", 1 },
	{ "{\"priority\":3.0}", 1 },
	{ "{\"priority\":\"03\"}", 0 },
	{ "{\"priority\":\" 3\"}", 0 },
	{ "{\"score\":\"1.5\"}", 1 },
	{ "{\"score\":1.50}", 1 },
	{ "{\"score\":\"1.50\"}", 0 },
	{ "{\"ownerId\":\"u1\"}", 1 },
	{ "{\"ownerId\":\"u2\"}", 0 },
	{ "{\"ownerId\":\"u1\",\"completed\":false}", 1 },
	{ "{\"ownerId\":\"u1\",\"completed\":true}", 0 },
	{ "{\"_id\":\"65f0c0ffee0000000000abcd\"}", 1 },
	{ "{\"_id\":\"65F0C0FFEE0000000000ABCD\"}", 0 },
	{ "{\"missing\":null}", 0 },
	{ "{\"missing\":\"null\"}", 0 },
	{ "{\"missing\":\"undefined\"}", 1 },
	{ "{\"missing\":\"x\"}", 0 },
	{ "{\"missing\":0}", 0 },
	{ "{\"missing\":false}", 0 },
	{ "{\"meta.nil\":null}", 1 },
	{ "{\"meta.nil\":\"null\"}", 1 },
	{ "{\"meta.nil\":false}", 0 },
	{ "{\"meta.n\":1}", 1 },
	{ "{\"meta.n\":\"1\"}", 1 },
	{ "{\"meta.deep.k\":\"v\"}", 1 },
	{ "{\"meta.deep.k.z\":\"v\"}", 0 },
	{ "{\"meta.nil.x\":null}", 0 },
	{ "{\"meta.nil.x\":\"undefined\"}", 1 },
	{ "{\"meta..n\":1}", 0 },
	{ "{\"meta.\":1}", 0 },
	{ "{\".meta\":1}", 0 },
	{ "{\"meta.deep\":{\"k\":\"v\"}}", 0 },
	{ "{\"meta.deep\":{}}", 1 },
	{ "{\"meta\":\"[object Object]\"}", 1 },
	{ "{\"meta.arr.0.a\":2}", 1 },
	{ "{\"meta.arr\":[{\"b\":1,\"a\":2}]}", 1 },
	{ "{\"meta.arr\":[{\"a\":2,\"b\":1}]}", 0 },
	{ "{\"tags\":[\"a\",\"b\"]}", 1 },
	{ "{\"tags\":[\"b\",\"a\"]}", 0 },
	{ "{\"tags\":\"a,b\"}", 1 },
	{ "{\"tags\":\"a\"}", 0 },
	{ "{\"tags\":[]}", 0 },
	{ "{\"tags.0\":\"a\"}", 1 },
	{ "{\"tags.1\":\"b\"}", 1 },
	{ "{\"tags.2\":\"c\"}", 0 },
	{ "{\"tags.2\":\"undefined\"}", 1 },
	{ "{\"tags.01\":\"b\"}", 0 },
	{ "{\"title\":[\"Buy milk\"]}", 0 },
	{ "{\"missing\":[]}", 0 },
	{ "{\"priority\":[3]}", 0 },
	{ "{\"0\":\"z\"}", 1 },
	{ "{\"1\":\"y\",\"0\":\"z\"}", 1 },
	{ "{\"1\":\"x\",\"0\":\"z\"}", 0 },
	{ "{\"priority\":{\"$eq\":\"3\"}}", 1 },
	{ "{\"priority\":{\"$eq\":3}}", 1 },
	{ "{\"priority\":{\"$eq\":4}}", 0 },
	{ "{\"tags\":{\"$eq\":\"a,b\"}}", 1 },
	{ "{\"tags\":{\"$eq\":[\"a\",\"b\"]}}", 1 },
	{ "{\"meta\":{\"$eq\":{\"zz\":1}}}", 1 },
	{ "{\"priority\":{\"$ne\":3}}", 0 },
	{ "{\"priority\":{\"$ne\":\"3\"}}", 0 },
	{ "{\"priority\":{\"$ne\":4}}", 1 },
	{ "{\"missing\":{\"$ne\":null}}", 1 },
	{ "{\"missing\":{\"$ne\":\"undefined\"}}", 0 },
	{ "{\"meta.nil\":{\"$ne\":null}}", 0 },
	{ "{\"priority\":{\"$gt\":2}}", 1 },
	{ "{\"priority\":{\"$gt\":3}}", 0 },
	{ "{\"priority\":{\"$gte\":3}}", 1 },
	{ "{\"priority\":{\"$gte\":3.5}}", 0 },
	{ "{\"priority\":{\"$lt\":3}}", 0 },
	{ "{\"priority\":{\"$lt\":3.5}}", 1 },
	{ "{\"priority\":{\"$lte\":3}}", 1 },
	{ "{\"priority\":{\"$lte\":2.9}}", 0 },
	{ "{\"priority\":{\"$gt\":\"2\"}}", 1 },
	{ "{\"priority\":{\"$gt\":\"10\"}}", 0 },
	{ "{\"priority\":{\"$lt\":\"10\"}}", 1 },
	{ "{\"priority\":{\"$gt\":\"0x2\"}}", 1 },
	{ "{\"priority\":{\"$lt\":\"0x10\"}}", 1 },
	{ "{\"priority\":{\"$lt\":\"0X4\"}}", 1 },
	{ "{\"priority\":{\"$gt\":\"0b10\"}}", 1 },
	{ "{\"priority\":{\"$lt\":\"0o4\"}}", 1 },
	{ "{\"priority\":{\"$lt\":\"0b\"}}", 0 },
	{ "{\"priority\":{\"$gt\":\"-0x1\"}}", 0 },
	{ "{\"priority\":{\"$lt\":\" 12 \"}}", 1 },
	{ "{\"priority\":{\"$lt\":\"\\t\\n\\u000b\\f\\r\\u00a0\\ufeff\\"
	    "u1680\\u2000\\u200a\\u2028\\u2029\\u202f\\u205f\\u30004 \"}}", 1 },
	{ "{\"priority\":{\"$lt\":\"\\u180e4\"}}", 0 },
	{ "{\"priority\":{\"$lt\":\"\\u200b4\"}}", 0 },
	{ "{\"priority\":{\"$lt\":\"\\u00854\"}}", 0 },
	{ "{\"priority\":{\"$gt\":\"1e0\"}}", 1 },
	{ "{\"priority\":{\"$lt\":\"1e1\"}}", 1 },
	{ "{\"priority\":{\"$lt\":\"1E1\"}}", 1 },
	{ "{\"priority\":{\"$lt\":\".4e1\"}}", 1 },
	{ "{\"priority\":{\"$lt\":\"4.\"}}", 1 },
	{ "{\"priority\":{\"$lt\":\"+4\"}}", 1 },
	{ "{\"priority\":{\"$gt\":\"-4\"}}", 1 },
	{ "{\"priority\":{\"$lt\":\"Infinity\"}}", 1 },
	{ "{\"priority\":{\"$lt\":\"+Infinity\"}}", 1 },
	{ "{\"priority\":{\"$gt\":\"-Infinity\"}}", 1 },
	{ "{\"priority\":{\"$lt\":\"infinity\"}}", 0 },
	{ "{\"priority\":{\"$lt\":\"inf\"}}", 0 },
	{ "{\"priority\":{\"$lt\":\"1_0\"}}", 0 },
	{ "{\"priority\":{\"$lt\":\"1e\"}}", 0 },
	{ "{\"priority\":{\"$lt\":\".\"}}", 0 },
	{ "{\"priority\":{\"$lt\":\"4x\"}}", 0 },
	{ "{\"priority\":{\"$lt\":\"0x1p3\"}}", 0 },
	{ "{\"priority\":{\"$lt\":\"1e400\"}}", 1 },
	{ "{\"priority\":{\"$gt\":\"1e-400\"}}", 1 },
	{ "{\"priority\":{\"$gte\":\"\"}}", 1 },
	{ "{\"priority\":{\"$gte\":\"   \"}}", 1 },
	{ "{\"priority\":{\"$lt\":\"00012\"}}", 1 },
	{ "{\"priority\":{\"$lt\":\"0xffffffffffffffffffffffffffffffff"
	    "\"}}", 1 },
	{ "{\"priority\":{\"$gt\":null}}", 1 },
	{ "{\"priority\":{\"$gt\":true}}", 1 },
	{ "{\"priority\":{\"$lt\":true}}", 0 },
	{ "{\"priority\":{\"$gt\":false}}", 1 },
	{ "{\"priority\":{\"$gt\":[2]}}", 1 },
	{ "{\"priority\":{\"$lt\":[4]}}", 1 },
	{ "{\"priority\":{\"$gt\":[]}}", 1 },
	{ "{\"priority\":{\"$lt\":[1,2]}}", 0 },
	{ "{\"priority\":{\"$gt\":{}}}", 0 },
	{ "{\"priority\":{\"$lt\":{}}}", 0 },
	{ "{\"nums\":{\"$gt\":\"9\"}}", 0 },
	{ "{\"nums\":{\"$gt\":9}}", 1 },
	{ "{\"nums\":{\"$lt\":\"9\"}}", 1 },
	{ "{\"hex\":{\"$gt\":30}}", 1 },
	{ "{\"hex\":{\"$lt\":32}}", 1 },
	{ "{\"title\":{\"$gt\":\"A\"}}", 1 },
	{ "{\"title\":{\"$lt\":\"a\"}}", 1 },
	{ "{\"title\":{\"$gt\":\"Buy\"}}", 1 },
	{ "{\"title\":{\"$gte\":\"Buy milk\"}}", 1 },
	{ "{\"title\":{\"$lte\":\"Buy milk\"}}", 1 },
	{ "{\"title\":{\"$gt\":\"Buy milk\"}}", 0 },
	{ "{\"title\":{\"$gt\":0}}", 0 },
	{ "{\"title\":{\"$lt\":0}}", 0 },
	{ "{\"missing\":{\"$gt\":0}}", 0 },
	{ "{\"missing\":{\"$lt\":0}}", 0 },
	{ "{\"missing\":{\"$gte\":\"undefined\"}}", 0 },
	{ "{\"meta.nil\":{\"$gte\":0}}", 1 },
	{ "{\"meta.nil\":{\"$gt\":-1}}", 1 },
	{ "{\"meta.nil\":{\"$gt\":0}}", 0 },
	{ "{\"meta.nil\":{\"$gte\":\"null\"}}", 0 },
	{ "{\"completed\":{\"$lt\":1}}", 1 },
	{ "{\"completed\":{\"$gte\":0}}", 1 },
	{ "{\"flag\":{\"$gte\":1}}", 1 },
	{ "{\"empty\":{\"$gte\":0}}", 1 },
	{ "{\"empty\":{\"$lte\":0}}", 1 },
	{ "{\"empty\":{\"$lt\":\"a\"}}", 1 },
	{ "{\"zero\":{\"$gte\":\"-0\"}}", 1 },
	{ "{\"tags\":{\"$gt\":\"a\"}}", 1 },
	{ "{\"tags\":{\"$gt\":[2]}}", 1 },
	{ "{\"tags\":{\"$lt\":[\"a\",\"c\"]}}", 1 },
	{ "{\"meta\":{\"$gt\":0}}", 0 },
	{ "{\"meta\":{\"$gte\":\"[object Object]\"}}", 1 },
	{ "{\"big\":{\"$lt\":\"\\uff61\"}}", 1 },
	{ "{\"big\":{\"$gt\":\"\\uff61\"}}", 0 },
	{ "{\"bmp\":{\"$gt\":\"\\ud83d\\ude00\"}}", 1 },
	{ "{\"bmp\":{\"$gte\":\"\\uff61\"}}", 1 },
	{ "{\"bmp\":{\"$lt\":\"\\uff61\"}}", 0 },
	{ "{\"bmp\":{\"$lt\":\"\\ue000\"}}", 0 },
	{ "{\"big\":{\"$gt\":\"\\ud7ff\"}}", 1 },
	{ "{\"big\":{\"$lt\":\"\\ud83d\\ude01\"}}", 1 },
	{ "{\"big\":{\"$gt\":\"\\ud83c\\udfff\"}}", 1 },
	{ "{\"bmp\":{\"$gt\":\"\\uff60\"}}", 1 },
	{ "{\"bmp\":{\"$gt\":\"\\u00e9\"}}", 1 },
	{ "{\"priority\":{\"$gt\":1,\"$lt\":5}}", 1 },
	{ "{\"priority\":{\"$gt\":1,\"$lt\":2}}", 0 },
	{ "{\"priority\":{\"$in\":[1,\"3\"]}}", 1 },
	{ "{\"priority\":{\"$in\":[1,2]}}", 0 },
	{ "{\"priority\":{\"$in\":3}}", 0 },
	{ "{\"priority\":{\"$in\":\"3\"}}", 0 },
	{ "{\"priority\":{\"$in\":{\"0\":3}}}", 0 },
	{ "{\"priority\":{\"$in\":null}}", 0 },
	{ "{\"priority\":{\"$nin\":3}}", 0 },
	{ "{\"priority\":{\"$nin\":null}}", 0 },
	{ "{\"priority\":{\"$nin\":[1,2]}}", 1 },
	{ "{\"priority\":{\"$nin\":[\"3\"]}}", 0 },
	{ "{\"priority\":{\"$in\":[]}}", 0 },
	{ "{\"priority\":{\"$nin\":[]}}", 1 },
	{ "{\"missing\":{\"$in\":[null]}}", 0 },
	{ "{\"missing\":{\"$nin\":[null]}}", 1 },
	{ "{\"missing\":{\"$in\":[\"undefined\"]}}", 1 },
	{ "{\"meta.nil\":{\"$in\":[null]}}", 1 },
	{ "{\"meta.nil\":{\"$in\":[\"null\"]}}", 1 },
	{ "{\"tags\":{\"$in\":[\"a,b\"]}}", 1 },
	{ "{\"tags\":{\"$in\":[[\"a\",\"b\"]]}}", 1 },
	{ "{\"tags\":{\"$in\":[\"a\"]}}", 0 },
	{ "{\"completed\":{\"$in\":[\"false\"]}}", 1 },
	{ "{\"completed\":{\"$in\":[false,null]}}", 1 },
	{ "{\"_id\":{\"$in\":[\"65f0c0ffee0000000000abcd\",\"65f0c0ffee"
	    "0000000000abce\"]}}", 1 },
	{ "{\"title\":{\"$exists\":true}}", 1 },
	{ "{\"title\":{\"$exists\":false}}", 0 },
	{ "{\"missing\":{\"$exists\":false}}", 1 },
	{ "{\"missing\":{\"$exists\":true}}", 0 },
	{ "{\"meta.nil\":{\"$exists\":true}}", 1 },
	{ "{\"meta.nil\":{\"$exists\":false}}", 0 },
	{ "{\"meta.nil.x\":{\"$exists\":false}}", 1 },
	{ "{\"tags.5\":{\"$exists\":false}}", 1 },
	{ "{\"title\":{\"$exists\":1}}", 1 },
	{ "{\"title\":{\"$exists\":0}}", 0 },
	{ "{\"title\":{\"$exists\":0.0}}", 0 },
	{ "{\"title\":{\"$exists\":-0.0}}", 0 },
	{ "{\"title\":{\"$exists\":0.5}}", 1 },
	{ "{\"title\":{\"$exists\":\"\"}}", 0 },
	{ "{\"title\":{\"$exists\":\"false\"}}", 1 },
	{ "{\"title\":{\"$exists\":\"0\"}}", 1 },
	{ "{\"title\":{\"$exists\":null}}", 0 },
	{ "{\"missing\":{\"$exists\":null}}", 1 },
	{ "{\"title\":{\"$exists\":[]}}", 1 },
	{ "{\"title\":{\"$exists\":{}}}", 1 },
	{ "{\"priority\":{\"$not\":3}}", 0 },
	{ "{\"priority\":{\"$not\":\"3\"}}", 0 },
	{ "{\"priority\":{\"$not\":4}}", 1 },
	{ "{\"priority\":{\"$not\":{\"$gt\":5}}}", 1 },
	{ "{\"priority\":{\"$not\":{\"$gt\":2}}}", 0 },
	{ "{\"priority\":{\"$not\":{\"$not\":{\"$gt\":2}}}}", 1 },
	{ "{\"tags\":{\"$not\":[\"a\",\"b\"]}}", 0 },
	{ "{\"tags\":{\"$not\":[\"a\"]}}", 1 },
	{ "{\"missing\":{\"$not\":{\"$exists\":true}}}", 1 },
	{ "{\"missing\":{\"$not\":null}}", 1 },
	{ "{\"priority\":{\"$not\":{\"$regex\":\"x\"}}}", 1 },
	{ "{\"priority\":{\"$not\":{}}}", 0 },
	{ "{\"priority\":{\"$not\":{\"$in\":5}}}", 1 },
	{ "{\"title\":{\"$regex\":\"^B\"}}", 0 },
	{ "{\"tags\":{\"$elemMatch\":{\"$eq\":\"a\"}}}", 0 },
	{ "{\"tags\":{\"$size\":2}}", 0 },
	{ "{\"priority\":{\"$eq\":3,\"$foo\":1}}", 0 },
	{ "{\"priority\":{\"$EQ\":3}}", 0 },
	{ "{\"priority\":{\"eq\":3}}", 0 },
	{ "{\"title\":{}}", 1 },
	{ "{\"missing\":{}}", 1 },
	{ "{\"$where\":\"1\"}", 0 },
	{ "{\"$nor\":[{\"a\":1}]}", 0 },
	{ "{\"$text\":\"undefined\"}", 1 },
	{ "{\"$and\":[{\"completed\":false},{\"priority\":3}]}", 1 },
	{ "{\"$and\":[{\"completed\":false},{\"priority\":4}]}", 0 },
	{ "{\"$and\":[]}", 1 },
	{ "{\"$or\":[]}", 0 },
	{ "{\"$or\":[{\"priority\":4},{\"ownerId\":\"u1\"}]}", 1 },
	{ "{\"$or\":[{\"priority\":4},{\"ownerId\":\"u2\"}]}", 0 },
	{ "{\"$or\":[{\"priority\":4}],\"ownerId\":\"u1\"}", 0 },
	{ "{\"$and\":{\"completed\":false}}", 0 },
	{ "{\"$or\":{\"completed\":false}}", 0 },
	{ "{\"$or\":\"x\"}", 0 },
	{ "{\"$and\":null}", 0 },
	{ "{\"$and\":1}", 0 },
	{ "{\"$or\":[{\"$and\":[{\"priority\":3},{\"completed\":false}]"
	    "},{\"x\":1}]}", 1 },
	{ "{\"$or\":[{\"$or\":[{\"x\":1},{\"y\":2}]},{\"$and\":[{\"prio"
	    "rity\":{\"$gte\":3}}]}]}", 1 },
	{ "{\"$and\":[5]}", 1 },
	{ "{\"$and\":[true]}", 1 },
	{ "{\"$and\":[0,false]}", 1 },
	{ "{\"$or\":[5]}", 1 },
	{ "{\"$and\":[null]}", 0 },
	{ "{\"$or\":[null]}", 0 },
	{ "{\"$or\":[null,{\"priority\":3}]}", 0 },
	{ "{\"$or\":[{\"priority\":3},null]}", 1 },
	{ "{\"$and\":[{\"priority\":4},null]}", 0 },
	{ "{\"$or\":[{\"priority\":4,\"$and\":[null]},{\"priority\":3}]"
	    "}", 1 },
	{ "{\"$or\":[{\"$and\":[null],\"1\":\"x\"},{\"priority\":3}]}", 1 },
	{ "{\"$or\":[{\"$and\":[null],\"1\":\"y\"},{\"priority\":3}]}", 0 },
	{ "{\"$and\":[\"\"]}", 1 },
	{ "{\"$and\":[\"zy\"]}", 1 },
	{ "{\"$and\":[\"zx\"]}", 0 },
	{ "{\"$and\":[\"z\"]}", 1 },
	{ "{\"$and\":[\"\\ud83d\\ude00\"]}", 0 },
	{ "{\"$and\":[[\"z\",\"y\"]]}", 1 },
	{ "{\"$and\":[[\"z\",\"x\"]]}", 0 },
	{ "{\"$and\":[[\"z\",{\"$exists\":true}]]}", 1 },
	{ "{\"$or\":[[],{\"x\":1}]}", 1 },
	{ "{\"$AND\":[]}", 0 },
	{ "{\"$and\":[{\"$or\":[{\"tags.0\":\"a\"},{\"x\":1}]},{\"meta."
	    "deep.k\":{\"$in\":[\"v\",\"w\"]}},{\"score\":{\"$gt\":1,\"$l"
	    "te\":\"1.5\"}}]}", 1 },
};

/*
 * queryIds: key order (array indices first, then UTF-16 order), nested
 * keys in stored order, escapes, raw non-ASCII, numbers, __proto__.
 */
static const struct id_case id_cases[] = {
	{ "todos",
	    "{\"completed\":false}",
	    "todos:{\"completed\":false}" },
	{ "todos",
	    "{}",
	    "todos:{}" },
	{ "todos",
	    "{\"b\":1,\"a\":2,\"c\":{\"z\":1,\"y\":2}}",
	    "todos:{\"a\":2,\"b\":1,\"c\":{\"z\":1,\"y\":2}}" },
	{ "todos",
	    "{\"10\":1,\"2\":2,\"b\":3,\"a\":4,\"01\":5}",
	    "todos:{\"2\":2,\"10\":1,\"01\":5,\"a\":4,\"b\":3}" },
	{ "todos",
	    "{\"4294967295\":1,\"4294967294\":2,\"-1\":3,\"1.5\":4,\"0\":5,"
	    "\"00\":6,\" 1\":7,\"B\":8,\"_\":9,\"a\":10}",
	    "todos:{\"0\":5,\"4294967294\":2,\" 1\":7,\"-1\":3,\"00\":6,\"1"
	    ".5\":4,\"4294967295\":1,\"B\":8,\"_\":9,\"a\":10}" },
	{ "todos",
	    "{\"z\":{\"b\":1,\"a\":2,\"10\":3,\"9\":4},\"a\":[{\"y\":1,\"x"
	    "\":2,\"3\":0}]}",
	    "todos:{\"a\":[{\"3\":0,\"y\":1,\"x\":2}],\"z\":{\"9\":4,\"10\""
	    ":3,\"b\":1,\"a\":2}}" },
	{ "todos",
	    "{\"s\":\"q\\\"b\\\\/\\b\\f\\n\\r\\t\\u0000\\u0001\\u001f\\u007"
	    "f \\u0080\"}",
	    "todos:{\"s\":\"q\\\"b\\\\/\\b\\f\\n\\r\\t\\u0000\\u0001\\u001f"
	    "\177 \302\200\"}" },
	{ "todos",
	    "{\"é\":\"日本 \\ud83d\\ude00 \\u2028\\u2029 <>&'\"}",
	    "todos:{\"é\":\"日本 😀 \342\200\250\342\200\251 <>&'\"}" },
	{ "todos",
	    "{\"\\uff61\":1,\"\\ud83d\\ude00\":2,\"\\ue000\":3,\"\\ud7ff\":"
	    "4,\"a\":5,\"B\":6,\"\":7}",
	    "todos:{\"\":7,\"B\":6,\"a\":5,\"\355\237\277\":4,\"😀\":2,\""
	    "\356\200\200\":3,\"｡\":1}" },
	{ "todos",
	    "{\"n\":[1,0.5,-0.0,-0,1e21,1e20,123456789012,0.300000000000000"
	    "04,1.5e-7,5e-324,1.0,-1.5,2.5e-5,1e-7,1e-6,0.000001234,9007199"
	    "254740993,-9007199254740993,9007199254740992,1.797693134862315"
	    "7e308,2.2250738585072014e-308,5.960464477539063e-8,123e18,1234"
	    "e18,100,1e2,-1e-7,4.35,0.1,1e300,3.14159]}",
	    "todos:{\"n\":[1,0.5,0,0,1e+21,100000000000000000000,1234567890"
	    "12,0.30000000000000004,1.5e-7,5e-324,1,-1.5,0.000025,1e-7,0.00"
	    "0001,0.000001234,9007199254740992,-9007199254740992,9007199254"
	    "740992,1.7976931348623157e+308,2.2250738585072014e-308,5.96046"
	    "4477539063e-8,123000000000000000000,1.234e+21,100,100,-1e-7,4."
	    "35,0.1,1e+300,3.14159]}" },
	{ "todos",
	    "{\"__proto__\":{\"a\":1},\"b\":2}",
	    "todos:{\"b\":2}" },
	{ "todos",
	    "{\"__proto__\":5}",
	    "todos:{}" },
	{ "todos",
	    "{\"x\":{\"__proto__\":1}}",
	    "todos:{\"x\":{\"__proto__\":1}}" },
	{ "todos",
	    "{\"t\":true,\"f\":false,\"n\":null,\"e\":[],\"o\":{}}",
	    "todos:{\"e\":[],\"f\":false,\"n\":null,\"o\":{},\"t\":true}" },
	{ "my/coll é",
	    "{\"a\":\"b\"}",
	    "my/coll é:{\"a\":\"b\"}" },
	{ "",
	    "{\"a\":1}",
	    ":{\"a\":1}" },
	{ "todos",
	    "{\"$or\":[{\"b\":1,\"a\":2}],\"$and\":[],\"ownerId\":\"U\",\"c"
	    "ompleted\":{\"$ne\":true}}",
	    "todos:{\"$and\":[],\"$or\":[{\"b\":1,\"a\":2}],\"completed\":{"
	    "\"$ne\":true},\"ownerId\":\"U\"}" },
};

/*
 * Doubles (as their bits) and what String() gives: random bit patterns,
 * powers of two (an asymmetric rounding interval), the usual suspects.
 */
static const struct num_case num_cases[] = {
	{ 0x1c0d57f10c894254ULL, "1.4830122828920016e-173" },
	{ 0x43f04a6ece53d613ULL, "18781959765316678000" },
	{ 0xe2b8410510668fa6ULL, "-3.575532127436644e+167" },
	{ 0xd5f2e30a9e501b7dULL, "-1.0829258728928171e+106" },
	{ 0x535c8ea8a4e05948ULL, "3.7230187291668613e+93" },
	{ 0x8f7b1bac9609eaf7ULL, "-4.262874002980358e-234" },
	{ 0xcb3af636587957baULL, "-2.5824242072052563e+54" },
	{ 0x6438f14dfe833301ULL, "6.169062368256605e+174" },
	{ 0xd0af9825c659f77cULL, "-4.682717518917287e+80" },
	{ 0x302bd02b522a861bULL, "1.2009957333271821e-76" },
	{ 0xfd70522e931f790eULL, "-1.6677967842578716e+296" },
	{ 0xfba9a1630e23bac5ULL, "-4.878446657335358e+287" },
	{ 0x29616ccb5e0010f0ULL, "2.318589285015657e-109" },
	{ 0xd37bf421a1818b7fULL, "-1.4577297053362402e+94" },
	{ 0x7a5b1baa844c07a2ULL, "2.4603368763737895e+281" },
	{ 0x552e421879d836c9ULL, "2.1178316544328792e+102" },
	{ 0xa92e8eaf3493d9a4ULL, "-2.5412503051231247e-110" },
	{ 0x5fe48bdeead11f23ULL, "8.60880578948587e+153" },
	{ 0x618d3e487ffb5776ULL, "8.222691106237041e+161" },
	{ 0x5cd158ba16a76b0dULL, "1.29107691235244e+139" },
	{ 0x07727df42b81c598ULL, "8.54570675525937e-273" },
	{ 0x16e635e91fb5a507ULL, "2.3213088696070116e-198" },
	{ 0x38c4ac26c846fc8aULL, "3.1104470921459883e-35" },
	{ 0x8ade8c37577c5b91ULL, "-2.5430944865444634e-256" },
	{ 0xa7e5b8ad611588ccULL, "-1.722738704669676e-116" },
	{ 0x83785723e5c9c12bULL, "-6.097780315332402e-292" },
	{ 0xdab33022a4b9cadeULL, "-8.312822724526027e+128" },
	{ 0x41b96ab112ea4c55ULL, "426422546.91522723" },
	{ 0x4b0e14fa2fee1740ULL, "3.601597095685222e+53" },
	{ 0x7402f3fb0a0a578fULL, "6.784931974924426e+250" },
	{ 0xf33082c146e3d672ULL, "-7.215120195549942e+246" },
	{ 0x087799f31d30c159ULL, "7.14794175889519e-268" },
	{ 0x0c996e223db1a4f4ULL, "5.6829459783155954e-248" },
	{ 0xe7860860627a8c33ULL, "-4.908348627938077e+190" },
	{ 0xc360b934d02e7346ULL, "-37657888876108340" },
	{ 0x48a12d9e7a7f7e9dULL, "7.482161107104073e+41" },
	{ 0x7c5b2a840d01a5e8ULL, "1.0589678202639377e+291" },
	{ 0x36aed0278207c317ULL, "2.698647105952319e-45" },
	{ 0x2f32df6d0cf0355aULL, "2.487004346447123e-81" },
	{ 0x11aadb8d2d7a8821ULL, "1.4511783911351778e-223" },
	{ 0xd75f5767c6aece1cULL, "-7.537323673202209e+112" },
	{ 0x4a8fc827e2ada03bULL, "1.4863756283822065e+51" },
	{ 0x2a0254f4b8c0f0aeULL, "2.497802242622384e-106" },
	{ 0x0e3ac880e5fe21e5ULL, "4.0166704951275935e-240" },
	{ 0xcc8f347b2e2d1190ULL, "-6.2680636295350096e+60" },
	{ 0x52db68d069da079fULL, "1.3958498820165765e+91" },
	{ 0xda3685c1600db942ULL, "-3.811487003186698e+126" },
	{ 0x02e560ba1422cfe9ULL, "1.0460153613400835e-294" },
	{ 0x0000000000000001ULL, "5e-324" },
	{ 0x00a0000000000000ULL, "1.1392378155556871e-305" },
	{ 0x0470000000000000ULL, "2.626903552830961e-287" },
	{ 0x0840000000000000ULL, "6.057227193173887e-269" },
	{ 0x0c10000000000000ULL, "1.3967014978599092e-250" },
	{ 0x0fe0000000000000ULL, "3.220574384798567e-232" },
	{ 0x13b0000000000000ULL, "7.426138930840468e-214" },
	{ 0x1780000000000000ULL, "1.712351053912815e-195" },
	{ 0x1b50000000000000ULL, "3.9484127069845653e-177" },
	{ 0x1f20000000000000ULL, "9.104419837890877e-159" },
	{ 0x22f0000000000000ULL, "2.0993362836147152e-140" },
	{ 0x26c0000000000000ULL, "4.840739893561648e-122" },
	{ 0x2a90000000000000ULL, "1.1161986242990967e-103" },
	{ 0x2e60000000000000ULL, "2.5737787947340145e-85" },
	{ 0x3230000000000000ULL, "5.934729841099874e-67" },
	{ 0x3600000000000000ULL, "1.3684555315672042e-48" },
	{ 0x39d0000000000000ULL, "3.1554436208840472e-30" },
	{ 0x3da0000000000000ULL, "7.275957614183426e-12" },
	{ 0x4170000000000000ULL, "16777216" },
	{ 0x4540000000000000ULL, "3.8685626227668134e+25" },
	{ 0x4910000000000000ULL, "8.92029807941225e+43" },
	{ 0x4ce0000000000000ULL, "2.0568806966515076e+62" },
	{ 0x50b0000000000000ULL, "4.7428439751604714e+80" },
	{ 0x5480000000000000ULL, "1.093625362391506e+99" },
	{ 0x5850000000000000ULL, "2.5217283965692467e+117" },
	{ 0x5c20000000000000ULL, "5.814709794364855e+135" },
	{ 0x5ff0000000000000ULL, "1.3407807929942597e+154" },
	{ 0x63c0000000000000ULL, "3.091630018413807e+172" },
	{ 0x6790000000000000ULL, "7.12881346503468e+190" },
	{ 0x6b60000000000000ULL, "1.6437924692338667e+209" },
	{ 0x6f30000000000000ULL, "3.790327373781028e+227" },
	{ 0x7300000000000000ULL, "8.739899877464283e+245" },
	{ 0x76d0000000000000ULL, "2.0152837033678636e+264" },
	{ 0x7aa0000000000000ULL, "4.646927838993072e+282" },
	{ 0x7e70000000000000ULL, "1.0715086071862673e+301" },
	{ 0x3ff0000000000000ULL, "1" },
	{ 0x3fe0000000000000ULL, "0.5" },
	{ 0x8000000000000000ULL, "0" },
	{ 0x444b1ae4d6e2ef50ULL, "1e+21" },
	{ 0x4415af1d78b58c40ULL, "100000000000000000000" },
	{ 0x423cbe991a140000ULL, "123456789012" },
	{ 0x3fd3333333333334ULL, "0.30000000000000004" },
	{ 0x3e8421f5f40d8376ULL, "1.5e-7" },
	{ 0x0000000000000001ULL, "5e-324" },
	{ 0x3e70000000000000ULL, "5.960464477539063e-8" },
	{ 0x7fefffffffffffffULL, "1.7976931348623157e+308" },
	{ 0x0000000000000001ULL, "5e-324" },
	{ 0x0010000000000000ULL, "2.2250738585072014e-308" },
	{ 0x3e7ad7f29abcaf48ULL, "1e-7" },
	{ 0x3eb0c6f7a0b5ed8dULL, "0.000001" },
	{ 0x3c36b082c2148b8eULL, "1.23e-18" },
	{ 0xbff8000000000000ULL, "-1.5" },
	{ 0x3eb4b3fd5942cd96ULL, "0.000001234" },
	{ 0x4341c37937e08000ULL, "10000000000000000" },
	{ 0x4450bb448ec2f608ULL, "1.2345678901234568e+21" },
	{ 0x4340000000000000ULL, "9007199254740992" },
	{ 0x4011666666666666ULL, "4.35" },
	{ 0x3fb999999999999aULL, "0.1" },
	{ 0x3fd5555555555555ULL, "0.3333333333333333" },
	{ 0x3fe5555555555555ULL, "0.6666666666666666" },
	{ 0x4059000000000000ULL, "100" },
	{ 0x44b52d02c7e14af6ULL, "1e+23" },
	{ 0x3ea0c6f7a0b5ed8dULL, "5e-7" },
	{ 0x447c7e83209e90b2ULL, "8.41e+21" },
	{ 0x43e0000000000000ULL, "9223372036854776000" },
	{ 0xc450000000000000ULL, "-1.1805916207174113e+21" },
	{ 0x444b1ae4d6e2ef4fULL, "999999999999999900000" },
	{ 0x444b1ae4d6e2ef50ULL, "1e+21" },
};

static const struct str_num_case str_num_cases[] = {
	{ "", 0 },
	{ " 12 ", 12 },
	{ "\t\n\v\f\r \xc2\xa0" "12" "\xe3\x80\x80\xe2\x80\xa8", 12 },
	{ "\xe1\xa0\x8e" "12", NAN },	/* U+180E is not white space */
	{ "\xe2\x80\x8b" "12", NAN },	/* nor U+200B */
	{ "0x10", 16 },
	{ "0X1F", 31 },
	{ "0b101", 5 },
	{ "0o17", 15 },
	{ "1e3", 1000 },
	{ "1E3", 1000 },
	{ ".5", 0.5 },
	{ "5.", 5 },
	{ "+.5e-1", 0.05 },
	{ "00012", 12 },
	{ "0.1", 0.1 },
	{ "9007199254740993", 9007199254740992.0 },
	{ "Infinity", INFINITY },
	{ "+Infinity", INFINITY },
	{ "-Infinity", -INFINITY },
	{ "1e400", INFINITY },
	{ "-1e400", -INFINITY },
	{ "1e-400", 0 },
	{ "0x1fffffffffffff1", 144115188075855856.0 },
	{ "0x20000000000001", 9007199254740992.0 },	/* a tie: even */
	{ "0x20000000000003", 9007199254740996.0 },
	/* Past 64 bits: the sticky bit breaks the tie upwards. */
	{ "0x200000000000010000000000000001", 0x20000000000002p64 },
	{ "0x200000000000010000000000000000", 0x20000000000000p64 },
	{ "0b1111111111111111111111111111111111111111111111111111111111111111"
	    "111111", 0x1p70 },
	{ "0o777777777777777777777777777777", 0x1p90 },
	{ "-0x10", NAN },
	{ "0x", NAN },
	{ "0x1g", NAN },
	{ "0b2", NAN },
	{ "0o8", NAN },
	{ "infinity", NAN },
	{ "inf", NAN },
	{ "nan", NAN },
	{ "1_0", NAN },
	{ "1e", NAN },
	{ ".", NAN },
	{ "-", NAN },
	{ "e5", NAN },
	{ "12abc", NAN },
	{ "1.2.3", NAN },
	{ "0x1p3", NAN },
	{ "1 2", NAN },
};

static json_t *
parse(const char *text)
{
	json_error_t	err;
	json_t		*j;

	j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (j == NULL)
		printf("bad JSON in the test: %s: %s\n", text, err.text);

	return (j);
}

/* depth levels of {"k": ...} around leaf (a JSON text). */
static json_t *
nest(const char *leaf, int depth)
{
	json_t		*j, *outer;
	int		 i;

	if ((j = parse(leaf)) == NULL)
		return (NULL);
	for (i = 0; i < depth; i++) {
		outer = json_object();
		json_object_set_new(outer, "k", j);
		j = outer;
	}

	return (j);
}

static char *
number_text(double v)
{
	FILE		*f;
	char		*buf;
	size_t		 len;

	buf = NULL;
	if ((f = open_memstream(&buf, &len)) == NULL)
		abort();
	query_js_number(f, v);
	fclose(f);

	return (buf);
}

static double
from_bits(uint64_t bits)
{
	double		d;

	memcpy(&d, &bits, sizeof(d));

	return (d);
}

static int
test_id_table(void)
{
	json_t		*q;
	char		*id;
	size_t		 i;

	for (i = 0; i < sizeof(id_cases) / sizeof(id_cases[0]); i++) {
		q = parse(id_cases[i].query);
		TEST_ASSERT(q != NULL);
		id = query_id(id_cases[i].collection, q);
		if (id == NULL || strcmp(id, id_cases[i].expect) != 0)
			printf("query %s\n got %s\nwant %s\n",
			    id_cases[i].query, id ? id : "(null)",
			    id_cases[i].expect);
		TEST_ASSERT(id != NULL && strcmp(id, id_cases[i].expect) == 0);
		free(id);
		json_decref(q);
	}

	return (0);
}

/* Section 8's effective todo query, and the doc's scoped example. */
static int
test_id_scoped(void)
{
	const json_t	*project;
	json_t		*q, *s;
	char		*id;

	q = parse("{\"completed\":false}");
	s = query_scope_todos(q, "U", &project);
	TEST_ASSERT(s != NULL && s != q && project == NULL);
	id = query_id("todos", s);
	TEST_ASSERT(strcmp(id, "todos:{\"completed\":false,\"ownerId\":\"U\"}")
	    == 0);
	free(id);
	/* The client's query is copied, not changed. */
	TEST_ASSERT(json_object_size(q) == 1);
	json_decref(s);
	json_decref(q);

	/* An ownerId from the client is replaced. */
	q = parse("{\"ownerId\":\"someone\",\"a\":{\"$in\":[1]}}");
	s = query_scope_todos(q, "me", &project);
	TEST_ASSERT(s != NULL && project == NULL);
	id = query_id("todos", s);
	TEST_ASSERT(strcmp(id, "todos:{\"a\":{\"$in\":[1]},\"ownerId\":\"me\"}")
	    == 0);
	free(id);
	json_decref(s);
	json_decref(q);

	/* A projectId keeps the query as it is and is handed back. */
	q = parse("{\"projectId\":\"65f0c0ffee0000000000abcd\",\"ownerId\":1}");
	s = query_scope_todos(q, "me", &project);
	TEST_ASSERT(s != NULL && json_is_string(project));
	TEST_ASSERT(strcmp(json_string_value(project),
	    "65f0c0ffee0000000000abcd") == 0);
	TEST_ASSERT(json_equal(s, q));
	json_decref(s);
	json_decref(q);

	/* Whatever its type: the caller refuses what is not 24-hex. */
	q = parse("{\"projectId\":{\"$ne\":null}}");
	s = query_scope_todos(q, "me", &project);
	TEST_ASSERT(s != NULL && json_is_object(project));
	json_decref(s);
	json_decref(q);

	q = parse("[1]");
	TEST_ASSERT(query_scope_todos(q, "me", &project) == NULL);
	TEST_ASSERT(project == NULL);
	json_decref(q);

	return (0);
}

/* Values jansson holds that a JSON text would not give the same way. */
static int
test_id_values(void)
{
	json_t		*q;
	char		*id;

	q = json_object();
	json_object_set_new(q, "i", json_integer(9007199254740993LL));
	json_object_set_new(q, "min", json_integer(INT64_MIN));
	json_object_set_new(q, "max", json_integer(INT64_MAX));
	json_object_set_new(q, "r", json_real(0.1 + 0.2));
	json_object_set_new(q, "z", json_real(-0.0));
	json_object_set_new(q, "s", json_stringn("x\0y", 3));
	json_object_setn_new(q, "a\0b", 3, json_true());
	id = query_id("c", q);
	TEST_ASSERT(id != NULL);
	TEST_ASSERT(strcmp(id, "c:{\"a\\u0000b\":true,\"i\":9007199254740992,"
	    "\"max\":9223372036854776000,\"min\":-9223372036854776000,"
	    "\"r\":0.30000000000000004,\"s\":\"x\\u0000y\",\"z\":0}") == 0);
	free(id);
	json_decref(q);

	return (0);
}

static int
test_id_refused(void)
{
	json_t		*q;
	char		*id;

	q = parse("[{\"a\":1}]");
	TEST_ASSERT(query_id("todos", q) == NULL);
	json_decref(q);
	q = parse("\"x\"");
	TEST_ASSERT(query_id("todos", q) == NULL);
	json_decref(q);
	TEST_ASSERT(query_id("todos", NULL) == NULL);
	q = parse("{}");
	TEST_ASSERT(query_id(NULL, q) == NULL);
	json_decref(q);

	/* QUERY_MAX_DEPTH levels are fine, one more is refused. */
	q = nest("{}", QUERY_MAX_DEPTH - 1);
	id = query_id("t", q);
	TEST_ASSERT(id != NULL && strlen(id) == 2 + 5 * (QUERY_MAX_DEPTH - 1)
	    + 2 + QUERY_MAX_DEPTH - 1);
	free(id);
	json_decref(q);
	q = nest("[]", QUERY_MAX_DEPTH);
	TEST_ASSERT(query_id("t", q) == NULL);
	json_decref(q);

	return (0);
}

static int
test_match_table(void)
{
	json_t		*doc, *q;
	size_t		 i;
	int		 got;

	doc = parse(match_doc);
	TEST_ASSERT(doc != NULL);
	for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		q = parse(match_cases[i].query);
		TEST_ASSERT(q != NULL);
		got = query_match(q, doc);
		if (got != match_cases[i].expect)
			printf("query %s: got %d, want %d\n",
			    match_cases[i].query, got, match_cases[i].expect);
		TEST_ASSERT(got == match_cases[i].expect);
		json_decref(q);
	}
	json_decref(doc);

	return (0);
}

static int
test_match_edges(void)
{
	json_t		*doc, *q;

	/* Only an object is a query; a document may be anything. */
	doc = parse("{\"a\":1}");
	q = parse("\"\"");
	TEST_ASSERT(query_match(q, doc) == 0);
	json_decref(q);
	q = parse("[]");
	TEST_ASSERT(query_match(q, doc) == 0);
	json_decref(q);
	q = parse("{}");
	TEST_ASSERT(query_match(q, doc) == 1);
	TEST_ASSERT(query_match(q, NULL) == 0);
	TEST_ASSERT(query_match(NULL, doc) == 0);
	json_decref(q);
	json_decref(doc);

	doc = parse("[5]");
	q = parse("{\"0\":\"5\",\"1\":{\"$exists\":false}}");
	TEST_ASSERT(query_match(q, doc) == 1);
	json_decref(doc);
	doc = parse("null");
	TEST_ASSERT(query_match(q, doc) == 0);
	json_decref(doc);
	json_decref(q);

	/*
	 * A string sub-query: its UTF-16 code units are conditions on the
	 * keys "0", "1", ...; half of a surrogate pair equals nothing.
	 */
	doc = parse("{\"0\":\"\\u00e9\",\"1\":\"x\",\"2\":\"\\ud83d\\ude00\"}");
	q = parse("{\"$and\":[\"\\u00e9x\"]}");
	TEST_ASSERT(query_match(q, doc) == 1);
	json_decref(q);
	q = parse("{\"$and\":[\"\\u00e9y\"]}");
	TEST_ASSERT(query_match(q, doc) == 0);
	json_decref(q);
	json_object_set_new(doc, "0", json_string("\xf0\x9f\x98\x80"));
	q = parse("{\"$and\":[\"\\ud83d\\ude00\"]}");
	TEST_ASSERT(query_match(q, doc) == 0);
	json_decref(q);
	json_decref(doc);

	/* Keys with a NUL byte are whole keys, not cut at the NUL. */
	doc = json_object();
	json_object_setn_new(doc, "a\0b", 3, json_integer(1));
	q = json_object();
	json_object_setn_new(q, "a\0b", 3, json_string("1"));
	TEST_ASSERT(query_match(q, doc) == 1);
	json_object_set_new(q, "a", json_integer(1));
	TEST_ASSERT(query_match(q, doc) == 0);
	json_decref(q);
	q = json_object();
	json_object_setn_new(q, "$eq\0", 4, json_integer(1));
	json_object_set_new(doc, "x", q);
	q = parse("{\"x\":{}}");
	json_object_set(q, "x", json_object_get(doc, "x"));
	TEST_ASSERT(query_match(q, doc) == 0);
	json_decref(q);
	json_decref(doc);

	return (0);
}

/* Nothing recurses past QUERY_MAX_DEPTH: deeper fails closed. */
static int
test_match_depth(void)
{
	json_t		*doc, *q, *not;
	int		 i, k;

	doc = parse("{\"a\":1}");
	q = nest("1", QUERY_MAX_DEPTH);
	TEST_ASSERT(query_match(q, doc) == 0);
	json_decref(q);

	/* {"a": {"$not": {"$not": ... 1}}}: 31 levels match, 32 refused. */
	for (i = QUERY_MAX_DEPTH - 2; i <= QUERY_MAX_DEPTH + 1000;
	    i += i < QUERY_MAX_DEPTH ? 1 : 1000) {
		not = json_integer(i % 2 ? 2 : 1);
		for (k = 0; k < i; k++) {
			q = json_object();
			json_object_set_new(q, "$not", not);
			not = q;
		}
		q = json_object();
		json_object_set_new(q, "a", not);
		TEST_ASSERT(query_match(q, doc) ==
		    (i < QUERY_MAX_DEPTH ? 1 : 0));
		json_decref(q);
	}
	json_decref(doc);

	/* A document nested deeper than that never matches, even {}. */
	q = parse("{}");
	doc = nest("1", QUERY_MAX_DEPTH);
	TEST_ASSERT(query_match(q, doc) == 1);
	json_decref(doc);
	doc = nest("[]", QUERY_MAX_DEPTH);
	TEST_ASSERT(query_match(q, doc) == 0);
	TEST_ASSERT(query_depth_ok(doc, 0) == 0);
	TEST_ASSERT(query_depth_ok(json_object_get(doc, "k"), 1) == 0);
	TEST_ASSERT(query_depth_ok(json_object_get(doc, "k"), 0) == 1);
	json_decref(doc);
	json_decref(q);

	return (0);
}

static int
test_numbers(void)
{
	const char	*e;
	char		*s, want[40];
	size_t		 i;
	double		 v;

	for (i = 0; i < sizeof(num_cases) / sizeof(num_cases[0]); i++) {
		v = from_bits(num_cases[i].bits);
		s = number_text(v);
		if (strcmp(s, num_cases[i].expect) != 0)
			printf("%.17g: got %s, want %s\n", v, s,
			    num_cases[i].expect);
		TEST_ASSERT(strcmp(s, num_cases[i].expect) == 0);
		free(s);
		/* And the opposite sign (but -0 is 0). */
		e = num_cases[i].expect;
		if (v == 0)
			snprintf(want, sizeof(want), "0");
		else if (e[0] == '-')
			snprintf(want, sizeof(want), "%s", e + 1);
		else
			snprintf(want, sizeof(want), "-%s", e);
		s = number_text(-v);
		TEST_ASSERT(strcmp(s, want) == 0);
		free(s);
	}

	/* What JSON.stringify() makes of numbers JSON cannot hold. */
	s = number_text(NAN);
	TEST_ASSERT(strcmp(s, "null") == 0);
	free(s);
	s = number_text(-INFINITY);
	TEST_ASSERT(strcmp(s, "null") == 0);
	free(s);

	return (0);
}

static int
test_str_number(void)
{
	const struct str_num_case	*c;
	size_t				 i;
	double				 v;

	for (i = 0; i < sizeof(str_num_cases) / sizeof(str_num_cases[0]);
	    i++) {
		c = &str_num_cases[i];
		v = query_order_number(c->s, strlen(c->s));
		if (isnan(c->expect) ? !isnan(v) : v != c->expect)
			printf("Number(\"%s\"): got %.17g, want %.17g\n",
			    c->s, v, c->expect);
		TEST_ASSERT(isnan(c->expect) ? isnan(v) : v == c->expect);
	}

	/* A NUL byte is not white space. */
	TEST_ASSERT(isnan(query_order_number("1\0", 2)));
	TEST_ASSERT(query_order_number("-0", 2) == 0 &&
	    signbit(query_order_number("-0", 2)));

	return (0);
}

/* UTF-16 code unit order, which UTF-8 byte order gets wrong above U+FFFF. */
static int
test_utf16(void)
{
	/* U+FF61, U+E000, U+D7FF, U+1F600, U+1F601, U+10000 */
	static const char	ff61[] = "\xef\xbd\xa1";
	static const char	e000[] = "\xee\x80\x80";
	static const char	d7ff[] = "\xed\x9f\xbf";
	static const char	smile[] = "\xf0\x9f\x98\x80";
	static const char	smile1[] = "\xf0\x9f\x98\x81";
	static const char	u10000[] = "\xf0\x90\x80\x80";

	/* The byte order says U+FF61 < U+1F600, UTF-16 the opposite. */
	TEST_ASSERT(memcmp(ff61, smile, 1) < 0);
	TEST_ASSERT(query_order_utf16_cmp(smile, 4, ff61, 3) < 0);
	TEST_ASSERT(query_order_utf16_cmp(ff61, 3, smile, 4) > 0);
	TEST_ASSERT(query_order_utf16_cmp(e000, 3, u10000, 4) > 0);
	TEST_ASSERT(query_order_utf16_cmp(d7ff, 3, u10000, 4) < 0);
	TEST_ASSERT(query_order_utf16_cmp(smile, 4, smile1, 4) < 0);
	TEST_ASSERT(query_order_utf16_cmp(smile, 4, smile, 4) == 0);
	TEST_ASSERT(query_order_utf16_cmp("a", 1, "b", 1) < 0);
	TEST_ASSERT(query_order_utf16_cmp("B", 1, "a", 1) < 0);
	TEST_ASSERT(query_order_utf16_cmp("ab", 2, "a", 1) > 0);
	TEST_ASSERT(query_order_utf16_cmp("", 0, "a", 1) < 0);
	TEST_ASSERT(query_order_utf16_cmp("a\0b", 3, "a\0c", 3) < 0);
	TEST_ASSERT(query_order_utf16_cmp("a\0", 2, "a", 1) > 0);
	TEST_ASSERT(query_order_utf16_cmp("\xc3\xa9", 2, "z", 1) > 0);
	/* Differing in a continuation byte of one character. */
	TEST_ASSERT(query_order_utf16_cmp("x\xef\xbd\xa1", 4,
	    "x\xef\xbd\xa2", 4) < 0);

	return (0);
}

/* String() of values loose equality reads; array indices. */
static int
test_js_string(void)
{
	json_t		*v;
	char		*s;
	size_t		 len;

	v = parse("[1,[2,[3,null]],{},true,\"x\",0.5,-0.0]");
	s = query_js_string_new(v, &len);
	TEST_ASSERT(TEST_MEMEQ(s, len, "1,2,3,,[object Object],true,x,0.5,0"));
	free(s);
	json_decref(v);
	s = query_js_string_new(NULL, &len);
	TEST_ASSERT(TEST_MEMEQ(s, len, "undefined"));
	free(s);
	v = parse("[]");
	s = query_js_string_new(v, &len);
	TEST_ASSERT(len == 0);
	free(s);
	json_decref(v);

	TEST_ASSERT(query_js_index("0", 1) == 0);
	TEST_ASSERT(query_js_index("42", 2) == 42);
	TEST_ASSERT(query_js_index("4294967294", 10) == 4294967294LL);
	TEST_ASSERT(query_js_index("4294967295", 10) == -1);
	TEST_ASSERT(query_js_index("9999999999", 10) == -1);
	TEST_ASSERT(query_js_index("01", 2) == -1);
	TEST_ASSERT(query_js_index("", 0) == -1);
	TEST_ASSERT(query_js_index("-1", 2) == -1);
	TEST_ASSERT(query_js_index("1a", 2) == -1);

	return (0);
}

int
main(void)
{
	TEST_RUN(test_id_table);
	TEST_RUN(test_id_scoped);
	TEST_RUN(test_id_values);
	TEST_RUN(test_id_refused);
	TEST_RUN(test_match_table);
	TEST_RUN(test_match_edges);
	TEST_RUN(test_match_depth);
	TEST_RUN(test_numbers);
	TEST_RUN(test_str_number);
	TEST_RUN(test_utf16);
	TEST_RUN(test_js_string);

	return (TEST_REPORT("test_query"));
}
