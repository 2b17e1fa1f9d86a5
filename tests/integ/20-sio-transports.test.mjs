// Socket.IO plugin: the three ways socket.io-client 4.8 connects to the
// fixture (default: polling then upgrade to WebSocket; WebSocket only;
// polling only), each with messages flowing across the whole life of the
// connection and heartbeats keeping it up.

import assert from "node:assert/strict";
import { describe } from "node:test";
import {
  WORKER_COUNTS, SLOW, sleep, fixtureSuite, client, connected, once, recorder, ack,
} from "./sio-util.mjs";

for (const workers of WORKER_COUNTS) {
  describe(`sio transports (WORKERS=${workers})`, () => {
    let srv;
    const { sockets, it } = fixtureSuite(workers, {}, (s) => { srv = s; });

    it("default transports: polling first, then upgraded to websocket; messages before, during and after", async () => {
      const s = client(srv.url, {}, sockets);
      const engine = s.io.engine;
      assert.equal(engine.transport.name, "polling");
      const back = recorder(s, "message-back");
      const phases = [];
      let n = 0;
      const send = (phase) => {
        phases.push(phase);
        s.emit("message", n++, phase);
      };
      // Buffered by the client until the namespace is connected.
      for (let i = 0; i < 5; i++) send("before-connect");
      const upgrading = once(engine, "upgrading", 3000 * SLOW);
      const upgraded = once(engine, "upgrade", 3000 * SLOW);
      engine.once("upgrading", () => {
        for (let i = 0; i < 5; i++) send("upgrading");
      });
      await connected(s);
      for (let i = 0; i < 5; i++) send(`connected-${engine.transport.name}`);
      // A steady stream across the upgrade.
      const stream = setInterval(() => send(`stream-${engine.transport.name}`), 3);
      try {
        await upgrading;
        const [t] = await upgraded;
        assert.equal(t.name, "websocket");
        await sleep(50);
      } finally {
        clearInterval(stream);
      }
      assert.equal(engine.transport.name, "websocket");
      assert.equal(s.io.engine, engine, "same Engine.IO session after the upgrade");
      for (let i = 0; i < 5; i++) send("after-upgrade");

      await back.until(n);
      await sleep(100); // anything duplicated would show up now
      assert.deepEqual(back.got, phases.map((p, i) => [i, p]));
      assert.ok(phases.includes("upgrading"));
      assert.ok(phases.includes("stream-websocket"));
    });

    it("default transports: the session keeps its id across the upgrade and survives heartbeats", async () => {
      const s = client(srv.url, {}, sockets);
      const engine = s.io.engine;
      let disconnected = null;
      s.on("disconnect", (r) => { disconnected = r; });
      const upgraded = once(engine, "upgrade", 3000 * SLOW);
      await connected(s);
      const sid = engine.id;
      const [t] = await upgraded;
      assert.equal(t.name, "websocket");
      assert.equal(engine.id, sid);
      // Several pingInterval + pingTimeout periods: server pings keep it alive.
      let pings = 0;
      engine.on("ping", () => pings++);
      await sleep(1300);
      assert.equal(disconnected, null);
      assert.ok(pings >= 3, `pings: ${pings}`);
      assert.deepEqual(await ack(s, "message-with-ack", ["still", "here"]), ["still", "here"]);
    });

    it('transports:["websocket"]: websocket from the start, no upgrade', async () => {
      const s = client(srv.url, { transports: ["websocket"] }, sockets);
      const engine = s.io.engine;
      let upgraded = false;
      engine.on("upgrade", () => { upgraded = true; });
      const back = recorder(s, "message-back");
      for (let i = 0; i < 5; i++) s.emit("message", i, "early");
      await connected(s);
      assert.equal(engine.transport.name, "websocket");
      for (let i = 5; i < 50; i++) s.emit("message", i, "late");
      await back.until(50);
      await sleep(50);
      assert.deepEqual(back.got, Array.from({ length: 50 }, (_, i) => [i, i < 5 ? "early" : "late"]));
      let disconnected = null;
      s.on("disconnect", (r) => { disconnected = r; });
      await sleep(1000);
      assert.equal(disconnected, null);
      assert.equal(upgraded, false);
      assert.deepEqual(await ack(s, "message-with-ack", [1, "2", { 3: [true] }]), [1, "2", { 3: [true] }]);
    });

    it('transports:["polling"], upgrade:false: stays on polling, heartbeats and messages', async () => {
      const s = client(srv.url, { transports: ["polling"], upgrade: false }, sockets);
      const engine = s.io.engine;
      const back = recorder(s, "message-back");
      let disconnected = null;
      s.on("disconnect", (r) => { disconnected = r; });
      for (let i = 0; i < 5; i++) s.emit("message", i, "early");
      await connected(s);
      assert.equal(engine.transport.name, "polling");
      for (let i = 5; i < 30; i++) s.emit("message", i, "late");
      await back.until(30);
      let pings = 0;
      engine.on("ping", () => pings++);
      // Messages keep flowing while the server pings.
      const stream = [];
      for (let i = 30; i < 60; i++) {
        s.emit("message", i, "during-heartbeats");
        stream.push(i);
        await sleep(40);
      }
      await back.until(60);
      await sleep(100);
      assert.equal(disconnected, null);
      assert.ok(pings >= 3, `pings: ${pings}`);
      assert.equal(engine.transport.name, "polling");
      assert.deepEqual(back.got.map(([i]) => i), Array.from({ length: 60 }, (_, i) => i));
      assert.deepEqual(await ack(s, "message-with-ack", ["polling", { ok: true }]), ["polling", { ok: true }]);
    });

    it("client disconnect is clean on every transport (no errors, server keeps serving)", async () => {
      for (const opts of [{}, { transports: ["websocket"] }, { transports: ["polling"], upgrade: false }]) {
        const s = client(srv.url, opts, sockets);
        await connected(s);
        const reason = once(s, "disconnect");
        s.disconnect();
        assert.deepEqual(await reason, ["io client disconnect", undefined]);
      }
      const s = client(srv.url, {}, sockets);
      await connected(s);
      assert.deepEqual(await ack(s, "message-with-ack", ["again"]), ["again"]);
    });
  });
}
