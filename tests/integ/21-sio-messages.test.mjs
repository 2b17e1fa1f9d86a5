// Socket.IO plugin: events and acknowledgements with text and binary
// arguments, byte-exact, over polling (binary as base64 "b" packets) and
// over WebSocket (binary frames). The fixture answers "message" with
// "message-back" and the same arguments, and acknowledges
// "message-with-ack" with its arguments.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import { after, afterEach, before, describe, test } from "node:test";
import {
  WORKER_COUNTS, sleep, startFixture, client, closeAll, connected, once, recorder, ack,
  retryOnStall, bigFrameReaches,
} from "./sio-util.mjs";

// Binary values compare by their bytes, whatever their type.
function norm(x) {
  if (Buffer.isBuffer(x) || ArrayBuffer.isView(x)) {
    return { bytes: Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString("hex") };
  }
  if (x instanceof ArrayBuffer) return { bytes: Buffer.from(x).toString("hex") };
  if (Array.isArray(x)) return x.map(norm);
  if (x && typeof x === "object") {
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, norm(v)]));
  }
  return x;
}

function isBinaryLike(x) {
  return Buffer.isBuffer(x) || ArrayBuffer.isView(x) || x instanceof ArrayBuffer;
}

const bytes = (n, seed = 0) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255));

const TRANSPORTS = {
  polling: { transports: ["polling"], upgrade: false },
  websocket: { transports: ["websocket"] },
};

// One fixture per describe: a test that kills a worker (see "large
// payloads") does not take the others down with it.
function suite(title, workers, tname, topts, body) {
  describe(`${title} over ${tname} (WORKERS=${workers})`, () => {
    const ctx = { srv: null, s: null, sockets: [] };
    const it = (name, fn) => test(name, (t) => retryOnStall(() => fn(t), () => closeAll(ctx.sockets)));
    before(async () => {
      ctx.srv = await startFixture(workers);
    });
    afterEach(() => closeAll(ctx.sockets));
    after(async () => {
      closeAll(ctx.sockets);
      await ctx.srv?.stop();
    });

    ctx.open = async () => {
      ctx.s = client(ctx.srv.url, topts, ctx.sockets);
      await connected(ctx.s);
      assert.equal(ctx.s.io.engine.transport.name, tname);
      return ctx.s;
    };

    // The "message-back" answer; a disconnect meanwhile fails at once.
    ctx.roundTrip = async (args) => {
      const s = ctx.s;
      let onDisc;
      const lost = new Promise((_, reject) => {
        onDisc = (r) => reject(new Error(`disconnected (${r}) instead of "message-back"`));
        s.once("disconnect", onDisc);
      });
      const back = once(s, "message-back");
      s.emit("message", ...args);
      try {
        return await Promise.race([back, lost]);
      } finally {
        s.off("disconnect", onDisc);
      }
    };

    body(it, ctx);
  });
}

for (const workers of WORKER_COUNTS) {
  for (const [tname, topts] of Object.entries(TRANSPORTS)) {
    suite("sio messages", workers, tname, topts, (it, ctx) => {
      const open = () => ctx.open();
      const roundTrip = (args) => ctx.roundTrip(args);
      it("text arguments come back verbatim", async () => {
        const s = await open();
        assert.deepEqual(await roundTrip([1, "2", { 3: [true] }]), [1, "2", { 3: [true] }]);
        assert.deepEqual(await roundTrip(["héllo ✓ 😀", null, false, 0, -1.5, 1e21, [], {}]),
          ["héllo ✓ 😀", null, false, 0, -1.5, 1e21, [], {}]);
        // key order, escapes and control characters survive
        const obj = { z: 1, a: { y: [1, { b: "\u0001\u001e\n\t\"\\/" }], x: "</script>" }, m: "\u2028" };
        const [back] = await roundTrip([obj]);
        assert.equal(JSON.stringify(back), JSON.stringify(obj));
        // numbers as JavaScript sees them (doubles)
        assert.deepEqual(await roundTrip([2 ** 64, 2 ** 53 + 2, -0, 0.1, 1e-7, Number.MAX_VALUE]),
          [2 ** 64, 2 ** 53 + 2, 0, 0.1, 1e-7, Number.MAX_VALUE]);
        // no arguments at all
        assert.deepEqual(await roundTrip([]), []);
        // a large string, still under 64 KiB per WebSocket frame
        const big = crypto.randomBytes(45000).toString("base64");
        assert.deepEqual(await roundTrip(["big", big]), ["big", big]);
      });

      it('NUL characters (JSON "\\u0000") in string values come back verbatim', async () => {
        // JSON.parse accepts "\u0000"; socket.io echoes it.
        await open();
        assert.deepEqual(await roundTrip(["a\u0000b", ["\u0000"], { k: "\u0000" }]), ["a\u0000b", ["\u0000"], { k: "\u0000" }]);
        const s = ctx.s;
        assert.deepEqual(await ack(s, "message-with-ack", ["x\u0000y"]), ["x\u0000y"]);
      });

      // Known limit: jansson's parser refuses NUL in object keys (NUL in
      // values is fine), so korio treats such a packet as malformed: that
      // session is closed, nobody else is touched.
      it("a NUL character in an object key closes only that session (known limit)", async () => {
        const s = await open();
        const other = await open();
        const gone = new Promise((resolve) => s.once("disconnect", resolve));
        s.emit("message", { "k\u0000": 1 });
        assert.equal(await gone, "transport close");
        assert.deepEqual(await roundTrip(["still", "here"]), ["still", "here"]);
        assert.equal(other.connected, true);
      });

      it('an event named "message\\u0000x" is not "message"', async () => {
        // socket.io looks event names up as JavaScript strings: nothing
        // listens to "message\u0000x", so nothing comes back for it.
        const s = await open();
        const back = recorder(s, "message-back");
        s.emit("message\u0000x", "wrong");
        s.emit("message", "right");
        await back.until(1);
        await sleep(100);
        assert.deepEqual(back.got, [["right"]]);
        assert.equal(s.connected, true);
      });

      it("client -> server ack with the same arguments", async () => {
        const s = await open();
        assert.deepEqual(await ack(s, "message-with-ack", [1, "2", { 3: [true] }]), [1, "2", { 3: [true] }]);
        assert.deepEqual(await ack(s, "message-with-ack", []), []);
        // Many in flight at once: each callback gets its own answer.
        const res = await Promise.all(Array.from({ length: 40 }, (_, i) => ack(s, "message-with-ack", [i, `n${i}`])));
        assert.deepEqual(res, Array.from({ length: 40 }, (_, i) => [i, `n${i}`]));
      });

      it("binary: one Buffer and one Uint8Array, byte-exact", async () => {
        const s = await open();
        const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        const [b] = await roundTrip([all]);
        assert.ok(isBinaryLike(b));
        assert.equal(Buffer.from(b).toString("hex"), all.toString("hex"));

        const u8 = new Uint8Array([1, 2, 3, 0, 255, 254]);
        const back = await roundTrip(["u8", u8]);
        assert.deepEqual(norm(back), norm(["u8", u8]));
      });

      it("binary: nested, several attachments, mixed with text", async () => {
        const s = await open();
        const args = [
          "nested",
          { a: [bytes(3, 1), { b: bytes(1000, 2) }], c: "x", d: [1, [bytes(7, 3)]] },
          bytes(30000, 4),
          [bytes(2, 5), "t", bytes(5, 6)],
          42,
        ];
        const back = await roundTrip(args);
        assert.deepEqual(norm(back), norm(args));
        // positions keep their types
        assert.ok(isBinaryLike(back[2]));
        assert.ok(isBinaryLike(back[1].a[1].b));
        assert.equal(back[3][1], "t");
      });

      it("binary: ten attachments in one event (the parser's maximum)", async () => {
        const s = await open();
        const args = Array.from({ length: 10 }, (_, i) => bytes(i + 1, i));
        assert.deepEqual(norm(await roundTrip(args)), norm(args));
      });

      it("binary: an empty Buffer is an attachment too", async () => {
        const s = await open();
        const args = ["empty", Buffer.alloc(0), bytes(3)];
        assert.deepEqual(norm(await roundTrip(args)), norm(args));
      });

      it("binary ack (BINARY_ACK) with several attachments", async () => {
        const s = await open();
        const args = [bytes(16, 9), { k: [bytes(300, 8)] }, "s"];
        const res = await ack(s, "message-with-ack", args);
        assert.deepEqual(norm(res), norm(args));
        assert.ok(isBinaryLike(res[0]));
      });

      it("interleaved text and binary events arrive exactly once, in order", async () => {
        const s = await open();
        const back = recorder(s, "message-back");
        const sent = [];
        for (let i = 0; i < 60; i++) {
          const args = i % 3 === 0 ? [i, bytes(i + 1, i)] : i % 3 === 1 ? [i, { t: `text-${i}` }] : [i, [bytes(2, i), bytes(3, i)]];
          sent.push(args);
          s.emit("message", ...args);
        }
        // acks interleaved with the events keep working
        const acks = Promise.all([0, 1, 2].map((k) => ack(s, "message-with-ack", [k, bytes(k + 1)])));
        await back.until(60);
        await sleep(100);
        assert.equal(back.got.length, 60);
        assert.deepEqual(norm(back.got), norm(sent));
        assert.deepEqual(norm(await acks), norm([0, 1, 2].map((k) => [k, bytes(k + 1)])));
      });
    });

    // WebSocket frames from the client over 64 KiB take Kore's 64-bit
    // length path. In the ASan+UBSan build Kore's net_read64() (a
    // misaligned u_int64_t load, /usr/share/kore/src/net.c) kills the worker
    // there: the probe test fails, the others skip.
    suite("sio large payloads", workers, tname, topts, (it, ctx) => {
      let bigOk = true;
      if (tname === "websocket") {
        it("a client WebSocket frame over 64 KiB reaches the plugin (Kore's 64-bit frame length)", async () => {
          const r = await bigFrameReaches(ctx.srv);
          bigOk = r.ok;
          assert.ok(r.ok, `a 70 kB frame was not echoed; server: ${r.log}`);
        });
      }
      const needsBig = (t) => !bigOk && t.skip("a frame over 64 KiB does not reach the plugin (test above)");

      it("a 150 kB string argument", async (t) => {
        if (needsBig(t) !== false) return;
        await ctx.open();
        const big = crypto.randomBytes(112500).toString("base64");
        assert.deepEqual(await ctx.roundTrip(["big", big]), ["big", big]);
      });

      it("binary: 70 kB attachment among nested ones", async (t) => {
        if (needsBig(t) !== false) return;
        await ctx.open();
        const args = ["nested", { a: [bytes(3, 1), { b: bytes(70000, 2) }] }, bytes(5, 3)];
        assert.deepEqual(norm(await ctx.roundTrip(args)), norm(args));
      });

      it("binary: 600 kB in one attachment", async (t) => {
        if (needsBig(t) !== false) return;
        await ctx.open();
        const big = crypto.randomBytes(600000);
        const back = await ctx.roundTrip(["big", big]);
        assert.ok(Buffer.from(back[1]).equals(big));
      });
    });
  }
}
