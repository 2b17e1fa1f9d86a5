/*
 * CongoDB launcher for korio tests.
 *
 * CongoDB is the pure TypeScript MongoDB wire-protocol server shipped in
 * @push.rocks/smartmongo 2.2.0 (unpacked into node_modules by setup.sh).
 * Stock, it differs from mongod in ways libmongoc code notices, so this
 * launcher patches the exported classes before starting the server
 * (the package files stay untouched):
 *
 *  1. MemoryStorageAdapter keys documents by the type of their _id
 *     (ObjectId -> hex, anything else -> 'k:' + canonical EJSON), so an _id
 *     of any BSON type is kept; a duplicate _id throws code 11000.
 *  2. insertOne/updateById first check every unique non-_id index
 *     (dotted paths, sparse skips documents lacking all key fields, a
 *     missing field counts as null) and throw E11000 code 11000.
 *  3. IndexEngine re-reads index specifications from storage on every
 *     index command (stock caches them across a drop), and createIndex
 *     with unique over existing duplicates fails with 11000.
 *  4. Sorting follows MongoDB: BSON type order across types and binary
 *     (UTF-8 byte) order for strings (stock uses localeCompare).
 *  5. Optional persistence: canonical EJSON written through a *.tmp file
 *     and rename, every 5 s when something changed and on SIGTERM/SIGINT.
 *  6. hello answers with one topologyVersion for the server's life (stock
 *     makes a new processId each time), and an awaitable hello (one that
 *     carries topologyVersion and maxAwaitTimeMS: the streaming monitors
 *     of libmongoc's pools and of the Node driver) is answered after
 *     maxAwaitTimeMS (at most 10 s), as mongod does while nothing changes.
 *     Stock answers at once and libmongoc's monitor asks again at once:
 *     each korio process whose pool had been used spun 250-500 ms of CPU
 *     a second (bench/cluster.mjs measured it).
 *
 * Usage: node launcher.mjs [port [persist-file]]
 *   port 0 (the default) picks a free port. Binds 127.0.0.1 only. Prints
 *   "READY mongodb://127.0.0.1:PORT" on stdout once accepting connections,
 *   and exits 0 after a graceful stop on SIGTERM or SIGINT (at most 1 s
 *   after the data is saved, even if clients keep connections open).
 *
 * Not fixable here (trust a real mongod): transactions, SCRAM auth (use a
 * URI without credentials), TTL, exact error texts, performance.
 */

import { rename, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import {
	CongoServer, MemoryStorageAdapter, IndexEngine, QueryEngine, plugins,
} from './node_modules/@push.rocks/smartmongo/dist_ts/congodb/index.js';
import { HelloHandler } from
    './node_modules/@push.rocks/smartmongo/dist_ts/congodb/server/handlers/HelloHandler.js';

const { ObjectId, EJSON } = plugins.bson;
const MSA = MemoryStorageAdapter.prototype;
const port = Number(process.argv[2] ?? 0);
const persistPath = process.argv[3] || '';
let dirty = 0;

function
keyOf(id)
{
	if (id instanceof ObjectId)
		return (id.toHexString());
	return ('k:' + EJSON.stringify({ v: id }, { relaxed: false }));
}

function
getPath(doc, path)
{
	let cur = doc;

	for (const part of path.split('.')) {
		if (cur === null || typeof cur !== 'object')
			return (undefined);
		cur = cur[part];
	}
	return (cur);
}

/* Index key of a document as comparable text, or null if sparse-skipped. */
function
indexKey(doc, spec)
{
	const fields = Object.keys(spec.key);
	const vals = fields.map((f) => getPath(doc, f));

	if (spec.sparse && vals.every((v) => v === undefined))
		return (null);
	return (EJSON.stringify(vals.map((v) => v === undefined ? null : v),
	    { relaxed: false }));
}

function
dupError(db, coll, name, doc, spec)
{
	const kv = {};

	for (const f of Object.keys(spec.key))
		kv[f] = getPath(doc, f) ?? null;
	const err = new Error(`E11000 duplicate key error collection: ` +
	    `${db}.${coll} index: ${name} dup key: ${EJSON.stringify(kv)}`);
	err.code = 11000;
	err.codeName = 'DuplicateKey';
	return (err);
}

/*
 * Patch 2: unique non-_id indexes, checked against every other document.
 * Synchronous on purpose: check and store must not interleave with another
 * connection's write (an await in between would let two racing inserts of
 * the same key both pass).
 */
function
checkUnique(storage, db, coll, doc, selfKey)
{
	const specs = (storage.indexes.get(db)?.get(coll) ?? [])
	    .filter((s) => s.unique && s.name !== '_id_');
	const docs = storage.ensureCollection(db, coll);

	for (const spec of specs) {
		const k = indexKey(doc, spec);
		if (k === null)
			continue;
		for (const [id, other] of docs) {
			if (id !== selfKey && indexKey(other, spec) === k)
				throw dupError(db, coll, spec.name, doc, spec);
		}
	}
}

/* Patch 1: documents keyed by the type of their _id. */
MSA.insertOne = async function (db, coll, doc) {
	const docs = this.ensureCollection(db, coll);
	const stored = { ...doc };

	if (stored._id === undefined)
		stored._id = new ObjectId();
	const k = keyOf(stored._id);
	if (docs.has(k)) {
		throw dupError(db, coll, '_id_', stored,
		    { key: { _id: 1 } });
	}
	checkUnique(this, db, coll, stored, k);
	docs.set(k, stored);
	dirty++;
	return (stored);
};
MSA.findById = async function (db, coll, id) {
	return (this.ensureCollection(db, coll).get(keyOf(id)) || null);
};
MSA.updateById = async function (db, coll, id, doc) {
	const docs = this.ensureCollection(db, coll);
	const k = keyOf(id);

	if (!docs.has(k))
		return (false);
	checkUnique(this, db, coll, doc, k);
	docs.set(k, doc);
	dirty++;
	return (true);
};
MSA.deleteById = async function (db, coll, id) {
	const gone = this.ensureCollection(db, coll).delete(keyOf(id));

	if (gone)
		dirty++;
	return (gone);
};
MSA.deleteByIds = async function (db, coll, ids) {
	let n = 0;

	for (const id of ids)
		n += (await this.deleteById(db, coll, id)) ? 1 : 0;
	return (n);
};
for (const m of ['createCollection', 'dropCollection', 'dropDatabase',
    'renameCollection', 'saveIndex', 'dropIndex']) {
	const orig = MSA[m];
	MSA[m] = async function (...args) {
		dirty++;
		return (orig.apply(this, args));
	};
}

/* Patch 6: one topologyVersion; awaitable hellos wait, as mongod's. */
const topologyVersion = {
	processId: new ObjectId(),
	counter: plugins.bson.Long.fromNumber(0),
};
const helloHandle = HelloHandler.prototype.handle;

HelloHandler.prototype.handle = async function (context) {
	const r = await helloHandle.call(this, context);
	const c = context.command;
	const wait = Number(c.maxAwaitTimeMS);

	r.topologyVersion = topologyVersion;
	if (c.topologyVersion && Number.isFinite(wait) && wait > 0)
		await new Promise((res) =>
		    setTimeout(res, Math.min(wait, 10000)).unref());
	return (r);
};

/* Patch 3: index specs always come from storage, never a stale cache. */
IndexEngine.prototype.initialize = async function () {
	const specs = await this.storage.getIndexes(this.dbName, this.collName);

	this.indexes = new Map();
	for (const s of specs) {
		this.indexes.set(s.name, { name: s.name, key: s.key,
		    unique: s.unique || false, sparse: s.sparse || false,
		    expireAfterSeconds: s.expireAfterSeconds,
		    entries: new Map() });
	}
	this.initialized = true;
};
IndexEngine.prototype.createIndex = async function (key, options) {
	const name = options?.name || Object.entries(key)
	    .map(([f, d]) => `${f}_${d}`).join('_');
	const spec = { key, unique: options?.unique,
	    sparse: options?.sparse,
	    expireAfterSeconds: options?.expireAfterSeconds };
	const seen = new Set();

	await this.initialize();
	if (this.indexes.has(name))
		return (name);
	if (spec.unique) {
		const docs = await this.storage.findAll(this.dbName,
		    this.collName);
		for (const doc of docs) {
			const k = indexKey(doc, spec);
			if (k === null)
				continue;
			if (seen.has(k)) {
				throw dupError(this.dbName, this.collName,
				    name, doc, spec);
			}
			seen.add(k);
		}
	}
	await this.storage.saveIndex(this.dbName, this.collName, name, spec);
	await this.initialize();
	return (name);
};

/* Patch 4: MongoDB sort order. */
const TYPE_ORDER = (v) => {
	if (v === undefined || v === null)
		return (1);
	if (typeof v === 'number' || typeof v === 'bigint' ||
	    ['Long', 'Double', 'Int32', 'Decimal128'].includes(v._bsontype))
		return (2);
	if (typeof v === 'string')
		return (3);
	if (v instanceof ObjectId)
		return (7);
	if (typeof v === 'boolean')
		return (8);
	if (v instanceof Date)
		return (9);
	if (Array.isArray(v))
		return (5);
	if (v._bsontype === 'Binary')
		return (6);
	return (4);
};
QueryEngine.compareValues = function (a, b) {
	const ta = TYPE_ORDER(a), tb = TYPE_ORDER(b);

	if (ta !== tb)
		return (ta - tb);
	switch (ta) {
	case 1:
		return (0);
	case 2:
		return (Number(a) - Number(b));
	case 3:
		return (Buffer.compare(Buffer.from(a), Buffer.from(b)));
	case 7:
		return (Buffer.compare(Buffer.from(a.id), Buffer.from(b.id)));
	case 8:
		return (Number(a) - Number(b));
	case 9:
		return (a.getTime() - b.getTime());
	default:
		return (Buffer.compare(Buffer.from(EJSON.stringify(a)),
		    Buffer.from(EJSON.stringify(b))));
	}
};

/* Patch 5: canonical EJSON persistence. */
MSA.persist = async function () {
	if (!this.persistPath || dirty === 0)
		return;
	const seen = dirty;
	const data = { databases: {}, indexes: {} };

	for (const [db, colls] of this.databases) {
		data.databases[db] = {};
		for (const [c, docs] of colls)
			data.databases[db][c] = Array.from(docs.values());
	}
	for (const [db, colls] of this.indexes)
		data.indexes[db] = Object.fromEntries(colls);
	await writeFile(this.persistPath + '.tmp',
	    EJSON.stringify(data, { relaxed: false }));
	await rename(this.persistPath + '.tmp', this.persistPath);
	if (dirty === seen)
		dirty = 0;
};
/*
 * Canonical EJSON parses to Int32/Double wrappers and Longs; turn them into
 * what the wire decoder (bson.deserialize, promoteLongs) hands CongoDB:
 * plain numbers, and Long only past 2^53.
 */
function
promote(v)
{
	if (v === null || typeof v !== 'object')
		return (v);
	if (v._bsontype === 'Int32' || v._bsontype === 'Double')
		return (v.valueOf());
	if (v._bsontype === 'Long') {
		const n = v.toNumber();
		return (Number.isSafeInteger(n) ? n : v);
	}
	if (Array.isArray(v))
		return (v.map(promote));
	if (v._bsontype !== undefined || v instanceof Date)
		return (v);
	for (const k of Object.keys(v))
		v[k] = promote(v[k]);
	return (v);
}

MSA.restore = async function () {
	if (!this.persistPath || !existsSync(this.persistPath))
		return;
	const data = promote(EJSON.parse(await readFile(this.persistPath,
	    'utf8'), { relaxed: false }));

	for (const [db, colls] of Object.entries(data.databases)) {
		const m = new Map();
		for (const [c, docs] of Object.entries(colls))
			m.set(c, new Map(docs.map((d) => [keyOf(d._id), d])));
		this.databases.set(db, m);
	}
	for (const [db, colls] of Object.entries(data.indexes))
		this.indexes.set(db, new Map(Object.entries(colls)));
};

const server = new CongoServer({ port, host: '127.0.0.1' });
const storage = server.getStorage();
let timer = null;
let stopping = false;

storage.persistPath = persistPath || undefined;

async function
stop()
{
	if (stopping)
		return;
	stopping = true;
	if (timer !== null)
		clearInterval(timer);
	try {
		/*
		 * Persist first: stop() waits for clients to close their
		 * connections (a mongoc pool keeps them for a minute), so
		 * exit anyway 1 s later, data saved, as a stopped mongod does.
		 */
		await storage.persist();
		setTimeout(() => process.exit(0), 1000).unref();
		await server.stop();	/* stop() persists through close() */
	} catch (err) {
		console.error('congo: stop failed:', err);
		process.exit(1);
	}
	process.exit(0);
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
await server.start();
if (persistPath) {
	timer = setInterval(() => {
		storage.persist().catch((err) =>
		    console.error('congo: persist failed:', err));
	}, 5000);
}
console.log(`READY mongodb://127.0.0.1:${server.server.address().port}`);
