// The Redis adapter's wire codec (src/sio/cluster/cluster_codec.c) against
// the real thing: notepack.io 3.0.1 (what @socket.io/redis-adapter encodes
// and decodes with) and socket.io-parser (what a Node node sends its
// clients). ../shared/docs/redis-adapter.md, sections 3 and 4.
//
// The C end is the unit test program in driver mode
// (build/<variant>/unit/test_cluster_codec --driver: a command a line in,
// a JSON answer a line out), built here if `make unit` has not.
//
//  - Node -> korio: [uid, {type:2, data, nsp}, opts] encoded by notepack.io
//    (or hand-made msgpack that notepack.io decodes) must decode in C to the
//    very text packet and attachments socket.io-parser writes for what
//    notepack.io decoded, with the rooms, except and flags Node would use.
//  - korio -> Node: what C encodes from socket.io-parser's text packet must
//    decode in notepack.io to the original values, in the same bytes
//    notepack.io itself writes for them.
//  - Requests: notepack.io's type 7 and 9, JSON types 0-8, and C's type 9.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const notepack = require("notepack.io");
const { Encoder } = require("socket.io-parser");

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const VARIANT = process.env.KORIO_VARIANT || "plain";
const DRIVER = `build/${VARIANT}/unit/test_cluster_codec`;

let drv, lines;

async function ask(cmd) {
	drv.stdin.write(cmd + "\n");
	const { value, done } = await lines.next();
	assert.ok(!done, "driver exited");
	return JSON.parse(value);
}

const hex = (b) => Buffer.from(b).toString("hex");

// What a Node node sends its clients for a broadcast it received.
function nodeSends(bytes) {
	const [, packet] = notepack.decode(bytes);
	const out = new Encoder().encode({ type: 2, data: packet.data,
	    nsp: packet.nsp ?? "/" });
	return { text: out[0], att: out.slice(1).map(hex) };
}

async function decodesLikeNode(bytes, what) {
	const r = await ask("B " + hex(bytes));
	assert.equal(r.ok, true, `${what}: refused`);
	const want = nodeSends(bytes);
	assert.equal(r.packet, want.text, what);
	assert.deepEqual(r.att, want.att, what);
	return r;
}

const BIG = 2 ** 53 + 2;
const DATA = [
	["ev", "x", 1, -1, 0, true, false, null],
	["nums", 0.1, 1.5, 1e21, -0, NaN, Infinity, -Infinity, 1e-7, 5e-324,
	    1.7976931348623157e308, 123456789.123, -(2 ** 31) - 1, 2 ** 32, BIG,
	    -BIG, 2 ** 63, -(2 ** 63), 2 ** 64 - 2048],
	["str", "", "é€😀", "a\u0000b\u001f\"\\/\u2028\u007f", "x".repeat(40),
	    "y".repeat(300), "z".repeat(70000)],
	["obj", { a: 1, b: { c: [1, { d: null }] }, "": "empty" },
	    { b: 1, 2: 2, a: 3, 1: 4, "01": 5, 4294967294: 6, 4294967295: 7 }],
	["arr", [], [[[]]], new Array(17).fill(3), new Array(70000).fill(0)],
	["bin", Buffer.from([1, 2, 3]), { n: new Uint8Array([0xff, 0]) },
	    Buffer.alloc(0), Buffer.alloc(300, 7), Buffer.alloc(70000, 9)],
	["abuf", new Uint8Array([4, 5]).buffer, [{ deep: Buffer.from("hi") }]],
	["dates", new Date(0), new Date(1700000000123), new Date(-1),
	    new Date(-62198755200000), new Date(8.64e15), new Date(-8.64e15),
	    new Date(4294967296000), new Date(17179869184000), { at: new Date(5) }],
	["undef", [undefined, 1], { u: undefined, v: 1 }],
	[42, "number event"],
];

// Hand-made msgpack Node accepts: keys JS turns into strings, duplicates,
// __proto__, bad UTF-8, float32, ext types, legacy formats.
const RAW = [
	"92 a1'e' 87 01 a1'i' cb 3ff8000000000000 a1'f' c0 a1'n' c3 a1't' " +
	    "92 01 c0 a1'a' 80 a1'm' c4 01 6b a1'b'",
	"92 a1'e' 84 a1'a' 01 a1'b' 02 a1'a' 03 a9'__proto__' 81 a1'x' 01",
	"92 a1'e' 84 a1'a' 01 a9'__proto__' c0 a1'2' 02 a1'a' c4 01 00",
	"92 a1'e' 82 a1'z' c4 01 aa a1'0' c4 01 bb",
	"94 a1'e' a6 ff 61 e282 62 ed a3 eda080 a4 f4908080",
	"93 a1'e' ca 3dcccccd ca 7f800000",
	"95 a1'e' d5 05 abcd d4 ff 01 c8 0001 fe 02 d8 07 " + "00".repeat(16),
	"93 a1'e' c7 02 00 abcd d4 00 00",
	"94 a1'e' d7 00 00000000 000003e9 c7 0c ff 1dcd6500 ffffffff ffffffff " +
	    "d7 ff 1d6f3454 6553f100",
	"93 a1'e' c7 0c ff 00000000 7fffffff 00000000 d6 ff ffffffff",
	"92 a1'e' 81 cb 444b1ae4d6e2ef50 01",
	"92 a1'e' 82 cf ffffffffffffffff 01 d3 8000000000000000 02",
];

function raw(notation) {
	const parts = notation.match(/'[^']*'|[0-9a-f]{2}/g);
	return Buffer.concat(parts.map((p) => p.startsWith("'") ?
	    Buffer.from(p.slice(1, -1)) : Buffer.from(p, "hex")));
}

function bcastAround(data, nsp = "/") {
	return Buffer.concat([
		raw("93 a6'HMEnjj' 83 a4'type' 02 a4'data'"), data,
		raw("a3'nsp'"), notepack.encode(nsp),
		raw("83 a5'rooms' 90 a6'except' 90 a5'flags' 80"),
	]);
}

// Random values (a fixed seed: the same ones every run).
function rng(seed) {
	let x = seed >>> 0;
	return () => {
		x ^= x << 13; x >>>= 0;
		x ^= x >>> 17;
		x ^= x << 5; x >>>= 0;
		return x / 4294967296;
	};
}

function randomValue(r, depth, json) {
	const pick = Math.floor(r() * (depth > 3 ? 7 : 10));
	const str = () => {
		let s = "";
		const n = Math.floor(r() * 6);
		for (let i = 0; i < n; i++) {
			const c = [0x41 + Math.floor(r() * 26), Math.floor(r() * 32),
			    0xe9, 0x20ac, 0x1f600, json ? 0x61 : 0xd800][
			    Math.floor(r() * 6)];
			s += String.fromCodePoint(c);
		}
		return s;
	};
	switch (pick) {
	case 0: return str();
	case 1: return Math.floor((r() - 0.5) * 2 ** Math.floor(r() * 64));
	case 2: return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
	case 3: return [true, false, null][Math.floor(r() * 3)];
	case 4: return json ? str() : Buffer.from(str());
	case 5: return json ? 0 : new Date(Math.floor((r() - 0.5) * 2 ** 45));
	case 6: return String(Math.floor(r() * 100));
	case 7: case 8: {
		const a = [];
		for (let n = Math.floor(r() * 5); n > 0; n--)
			a.push(randomValue(r, depth + 1, json));
		return a;
	}
	default: {
		const o = {};
		for (let n = Math.floor(r() * 5); n > 0; n--) {
			// jansson, korio's JSON parser, takes no NUL in keys.
			const k = r() < 0.3 ? String(Math.floor(r() * 20)) :
			    str().replace(/\0/g, "");
			o[k] = randomValue(r, depth + 1, json);
		}
		return o;
	}
	}
}

describe("cluster codec against notepack.io and socket.io-parser", () => {
	before(async () => {
		// Up to date after `make unit`: then make does nothing.
		execFileSync("make", ["-s", `VARIANT=${VARIANT}`, DRIVER],
		    { cwd: ROOT, stdio: "inherit" });
		drv = spawn(join(ROOT, DRIVER), ["--driver"],
		    { stdio: ["pipe", "pipe", "inherit"] });
		lines = createInterface({ input: drv.stdout })[
		    Symbol.asyncIterator]();
	});

	after(() => {
		drv.stdin.end();
	});

	test("Node's broadcasts decode to what a Node node sends", async () => {
		for (const data of DATA) {
			for (const nsp of ["/", "/admin"]) {
				const msg = notepack.encode(["HMEnjj",
				    { type: 2, data, nsp },
				    { rooms: [], except: [], flags: {} }]);
				const r = await decodesLikeNode(msg,
				    `${String(data[0])} in ${nsp}`);
				assert.equal(r.uid, "HMEnjj");
				assert.equal(r.nsp, nsp);
			}
		}
	});

	test("hand-made msgpack decodes as Node decodes it", async () => {
		for (const n of RAW)
			await decodesLikeNode(bcastAround(raw(n)), n);
	});

	test("opts: rooms, except and flags as Node reads them", async () => {
		const cases = [
			[{ rooms: ["r1", "r2"], except: ["r3"], flags: {} },
			    ["r1", "r2"], ["r3"], {}],
			// The emitter's order; numbers are their strings.
			[{ rooms: [7, -1, 1.5], flags: { volatile: true },
			    except: [2 ** 64 - 2048] },
			    ["7", "-1", "1.5"], ["18446744073709550000"],
			    { volatile: true }],
			[{ rooms: [], except: [], flags: { volatile: true,
			    compress: false } }, [], [], { volatile: true,
			    compress: 0 }],
			[{ rooms: [], except: [], flags: { timeout: 1500 } }, [],
			    [], { timeout: 1500 }],
			[{ rooms: ["s"], except: [], flags:
			    { expectSingleResponse: true } }, ["s"], [],
			    { expectSingleResponse: true }],
			[{}, [], [], {}],
		];
		for (const [opts, rooms, except, flags] of cases) {
			const msg = notepack.encode(["emitter",
			    { type: 2, data: ["e", 1], nsp: "/" }, opts]);
			const r = await ask("B " + hex(msg));
			assert.equal(r.ok, true);
			assert.deepEqual(r.rooms, rooms);
			assert.deepEqual(r.except, except);
			assert.deepEqual(r.flags, { volatile: false, compress: -1,
			    timeout: -1, expectSingleResponse: false, ...flags });
		}
	});

	test("what crashed Node servers is refused", async () => {
		for (const h of ["c1", "93a178", "93a1780102", "",
		    hex(notepack.encode(["u", { type: 2, data: ["e"] }, {}])) + "00"]) {
			const r = await ask("B " + h);
			assert.equal(r.ok, false, h);
		}
	});

	test("korio's broadcasts are notepack.io's bytes", async () => {
		const opts = { rooms: ["r1"], except: ["r3"], flags: {} };
		for (const data of DATA) {
			// Dates and undefined do not come out of korio's JSON,
			// numbers are the next test.
			if (["nums", "dates", "undef"].includes(data[0]))
				continue;
			for (const nsp of ["/", "/admin"]) {
				const enc = new Encoder().encode({ type: 2, data,
				    nsp });
				const r = await ask("E " + JSON.stringify({
				    uid: "korio1", packet: enc[0],
				    att: enc.slice(1).map(hex), ...opts }));
				assert.equal(r.ok, true, String(data[0]));
				const bytes = Buffer.from(r.hex, "hex");
				const want = ["korio1", { type: 2,
				    data: JSON.parse(JSON.stringify(data, (k, v) =>
				    v && v.type === "Buffer" ? undefined : v)), nsp },
				    opts];
				const got = notepack.decode(bytes);
				assert.equal(got[0], "korio1");
				assert.equal(got[1].nsp, nsp);
				// Byte for byte what notepack.io writes for it.
				const back = notepack.encode(["korio1",
				    { type: 2, data: got[1].data, nsp }, opts]);
				assert.equal(r.hex, hex(back), String(data[0]));
				if (enc.length === 1)
					assert.deepEqual(got, want);
			}
		}
	});

	test("numbers: JSON text to the JS number notepack.io writes",
	    async () => {
		const nums = [0, -0, 1, -1, 127, 128, 255, 256, 65535, 65536,
		    2 ** 32 - 1, 2 ** 32, -32, -33, -128, -129, -32768, -32769,
		    -(2 ** 31), -(2 ** 31) - 1, 0.1, 1.5, -2.5, 1e-7, 5e-324,
		    2 ** 53, BIG, 2 ** 63, -(2 ** 63), 2 ** 64 - 2048];
		const text = "2" + JSON.stringify(["n", ...nums]);
		const r = await ask("E " + JSON.stringify({ uid: "u",
		    packet: text, att: [] }));
		assert.equal(r.ok, true);
		const want = notepack.encode(["u", { type: 2,
		    data: JSON.parse(text.slice(1)), nsp: "/" },
		    { rooms: [], except: [], flags: {} }]);
		assert.equal(r.hex, hex(want));
		// Integers JSON writes in full past 2^53 are the doubles JS
		// holds; integral numbers past [-2^63, 2^64), which notepack.io
		// wraps (1e21 comes back as 3875820019684212736), are float64.
		const r2 = await ask("E " + JSON.stringify({ uid: "u",
		    packet: '2["n",9007199254740993,18446744073709551615,1e21,' +
		    '-1e300]', att: [] }));
		const got = notepack.decode(Buffer.from(r2.hex, "hex"));
		assert.deepEqual(got[1].data, ["n", 9007199254740992,
		    18446744073709551616, 1e21, -1e300]);
		assert.notEqual(notepack.decode(notepack.encode(1e21)), 1e21);
	});

	test("encode(decode(x)) == x for notepack.io's broadcasts", async () => {
		for (const data of DATA) {
			// What JSON cannot hold: NaN, Infinity, 1e21 as notepack.io
			// wraps it; Dates; undefined.
			if (["nums", "dates", "undef"].includes(data[0]))
				continue;
			const msg = notepack.encode(["HMEnjj",
			    { type: 2, data, nsp: "/" },
			    { rooms: ["a", "b"], except: ["c"],
			    flags: { volatile: true, compress: false } }]);
			const r = await ask("B " + hex(msg));
			assert.equal(r.re, hex(msg), String(data[0]));
		}
	});

	test("random values, both ways", async () => {
		const r = rng(16);
		for (let i = 0; i < 300; i++) {
			const data = ["r", randomValue(r, 0, false),
			    randomValue(r, 0, false)];
			const msg = notepack.encode(["n", { type: 2, data,
			    nsp: "/" }, { rooms: [], except: [], flags: {} }]);
			await decodesLikeNode(msg, JSON.stringify(data));
		}
		for (let i = 0; i < 300; i++) {
			const data = ["r", randomValue(r, 0, true),
			    randomValue(r, 0, true)];
			const text = new Encoder().encode({ type: 2, data,
			    nsp: "/" })[0];
			const a = await ask("E " + JSON.stringify({ uid: "k",
			    packet: text, att: [] }));
			assert.equal(a.ok, true, text);
			assert.equal(a.hex, hex(notepack.encode(["k", { type: 2,
			    data, nsp: "/" }, { rooms: [], except: [],
			    flags: {} }])), text);
		}
	});

	test("requests and replies, JSON and msgpack", async () => {
		const json = [
			{ uid: "HMEnjj", requestId: "S6mvXx", type: 1 },
			{ uid: "HMEnjj", type: 2, opts: { rooms: ["r1"], except: [] },
			    rooms: ["j1", "j2"] },
			{ type: 3, opts: { rooms: ["r1"], except: [] }, rooms: ["j1"] },
			{ type: 4, opts: { rooms: ["r3"], except: [] }, close: true },
			{ uid: "HMEnjj", requestId: "qcOePh", type: 5,
			    opts: { rooms: ["r2"], except: ["r3"] } },
			{ uid: "emitter", type: 6, data: ["hello", "from-emitter"] },
			{ type: 8, requestId: "h-77CQ", clientCount: 3 },
			{ requestId: "S6mvXx", rooms: ["a", "b"] },
		];
		for (const m of json) {
			const r = await ask("R " + hex(JSON.stringify(m)));
			assert.equal(r.ok, true);
			assert.equal(r.type, m.type ?? -1);
			assert.equal(r.uid, m.uid ?? null);
			assert.equal(r.requestId, m.requestId ?? null);
			assert.deepEqual(r.rooms, m.opts?.rooms ?? []);
			assert.deepEqual(r.except, m.opts?.except ?? []);
			assert.deepEqual(r.targets, m.rooms ?? []);
			assert.equal(r.close, m.close ?? false);
			assert.equal(r.clientCount, m.clientCount ?? -1);
		}

		// Type 7 as io.timeout(1500).emitWithAck() publishes it.
		const t7 = notepack.encode({ uid: "HMEnjj", requestId: "h-77CQ",
		    type: 7, packet: { type: 2, data: ["ask", 1,
		    Buffer.from([5])], nsp: "/" }, opts: { rooms: ["r"],
		    except: [], flags: { timeout: 1500 } } });
		let r = await ask("R " + hex(t7));
		assert.equal(r.type, 7);
		assert.equal(r.requestId, "h-77CQ");
		assert.equal(r.packet, nodeSends(notepack.encode([0,
		    notepack.decode(t7).packet])).text);
		assert.deepEqual(r.att, ["05"]);
		assert.deepEqual(r.rooms, ["r"]);
		assert.equal(r.flags.timeout, 1500);

		// Type 9 acks: Node's, and korio's decoded by notepack.io.
		for (const arg of ["ack-b1", { x: [1, 0.5, null] },
		    Buffer.from([1, 2]), { b: Buffer.from([3]) }, 7]) {
			const t9 = notepack.encode({ type: 9, requestId: "id",
			    packet: arg });
			r = await ask("R " + hex(t9));
			assert.equal(r.type, 9);
			const enc = new Encoder().encode({ type: 3, id: 0,
			    data: [arg], nsp: "/" });
			// socket.io-parser's ack "30[...]" / "6n-0[...]": arg's JSON.
			const text = enc[0].replace(/^(3|6\d+-)0/, "");
			assert.equal("[" + r.packet + "]", text);
			assert.deepEqual(r.att, enc.slice(1).map(hex));

			const a = await ask("A " + JSON.stringify({ rid: "id",
			    arg: r.packet, att: r.att }));
			assert.equal(a.hex, hex(t9));
			assert.deepEqual(notepack.decode(Buffer.from(a.hex,
			    "hex")), { type: 9, requestId: "id", packet: arg });
		}
		// An undefined ack argument: notepack.io leaves the key out.
		const a = await ask("A " + JSON.stringify({ rid: "id",
		    arg: null, att: [] }));
		assert.equal(a.hex, hex(notepack.encode({ type: 9,
		    requestId: "id", packet: undefined })));
	});
});
