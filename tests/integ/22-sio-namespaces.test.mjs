// Socket.IO plugin: namespaces multiplexed on one Engine.IO session, the
// CONNECT payload (auth) echoed by the fixture's "auth" event, and the
// CONNECT_ERROR for an unknown namespace.

import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { Manager } from "socket.io-client";
import {
  WORKER_COUNTS, SLOW, sleep, startFixture, client, closeAll, connected, once, recorder, ack,
  retryOnStall,
} from "./sio-util.mjs";

for (const workers of WORKER_COUNTS) {
  describe(`sio namespaces and auth (WORKERS=${workers})`, () => {
    let srv;
    const sockets = [];
    const it = (name, fn) => test(name, (t) => retryOnStall(() => fn(t), () => cleanupAll()));
    const managers = [];
    before(async () => {
      srv = await startFixture(workers);
    });
    function cleanupAll() {
      closeAll(sockets);
      for (const m of managers.splice(0)) {
        m.reconnection(false);
        m.engine?.close();
      }
    }
    afterEach(cleanupAll);
    after(async () => {
      await srv?.stop();
    });

    const manager = (opts = {}) => {
      const m = new Manager(srv.url, { reconnection: false, timeout: 3000 * SLOW, ...opts });
      managers.push(m);
      return m;
    };

    it('"/" and "/custom" share one Engine.IO session, each with its own socket id and auth', async () => {
      for (const transports of [["polling", "websocket"], ["websocket"], ["polling"]]) {
        const m = manager({ transports, upgrade: transports.length > 1 });
        const root = m.socket("/");
        const custom = m.socket("/custom", { auth: { token: "abc", n: [1, { x: null }] } });
        const rootAuth = once(root, "auth");
        const customAuth = once(custom, "auth");
        await Promise.all([connected(root), connected(custom)]);
        assert.deepEqual(await rootAuth, [{}]);
        assert.deepEqual(await customAuth, [{ token: "abc", n: [1, { x: null }] }]);
        assert.equal(typeof root.id, "string");
        assert.equal(typeof custom.id, "string");
        assert.notEqual(root.id, custom.id);
        assert.notEqual(root.id, m.engine.id);
        assert.notEqual(custom.id, m.engine.id);

        // Events go to the right namespace: "/custom" has no "message"
        // handler, "/" answers.
        const customBack = recorder(custom, "message-back");
        custom.emit("message", "to-custom");
        assert.deepEqual(await ack(root, "message-with-ack", ["to-root"]), ["to-root"]);
        const back = once(root, "message-back");
        root.emit("message", "root", Buffer.from([1, 2]));
        const [a, b] = await back;
        assert.equal(a, "root");
        assert.deepEqual([...b], [1, 2]);
        await sleep(100);
        assert.equal(customBack.got.length, 0);
        m.engine.close();
      }
    });

    it("auth payload on the default namespace is echoed", async () => {
      const auth = { token: "123", nested: { a: [1, 2, "3"], b: true }, s: "é✓" };
      const s = client(srv.url, { auth }, sockets);
      const got = once(s, "auth");
      await connected(s);
      assert.deepEqual(await got, [auth]);
    });

    it("no auth: the server sees {}", async () => {
      const s = client(srv.url, { transports: ["websocket"] }, sockets);
      const got = once(s, "auth");
      await connected(s);
      assert.deepEqual(await got, [{}]);
    });

    it("a namespace alone on its Manager (no implicit \"/\")", async () => {
      const s = client(`${srv.url}/custom`, { auth: { only: "custom" } }, sockets);
      const got = once(s, "auth");
      await connected(s);
      assert.deepEqual(await got, [{ only: "custom" }]);
      assert.equal(s.nsp, "/custom");
    });

    it('unknown namespace: connect_error "Invalid namespace", no retry', async () => {
      for (const transports of [["polling", "websocket"], ["websocket"]]) {
        const s = client(`${srv.url}/random`, { transports }, sockets);
        const [err] = await once(s, "connect_error");
        assert.equal(err.message, "Invalid namespace");
        assert.equal(s.active, false);
        assert.equal(s.connected, false);
      }
    });

    it("an unknown namespace beside a connected one leaves the session and the other namespace working", async () => {
      const m = manager({ transports: ["websocket"] });
      const root = m.socket("/");
      await connected(root);
      const engineId = m.engine.id;
      const bad = m.socket("/nope");
      const [err] = await once(bad, "connect_error");
      assert.equal(err.message, "Invalid namespace");
      assert.equal(m.engine.id, engineId);
      assert.equal(root.connected, true);
      assert.deepEqual(await ack(root, "message-with-ack", ["alive"]), ["alive"]);
    });

    it("leaving one namespace keeps the session and the other namespace; rejoining gets a new id", async () => {
      const m = manager();
      const root = m.socket("/");
      const custom = m.socket("/custom");
      await Promise.all([connected(root), connected(custom)]);
      const engineId = m.engine.id;
      const firstId = custom.id;
      custom.disconnect();
      await sleep(100);
      assert.equal(m.engine.id, engineId);
      assert.equal(root.connected, true);
      assert.deepEqual(await ack(root, "message-with-ack", ["after-leave"]), ["after-leave"]);
      const auth = once(custom, "auth");
      custom.connect();
      await connected(custom);
      assert.deepEqual(await auth, [{}]);
      assert.notEqual(custom.id, firstId);
      assert.equal(m.engine.id, engineId);
      // The root namespace can leave and come back too, on the same session.
      root.disconnect();
      const back = once(root, "auth");
      root.connect();
      await connected(root);
      await back;
      assert.equal(m.engine.id, engineId);
      assert.deepEqual(await ack(root, "message-with-ack", ["rejoined"]), ["rejoined"]);
    });

    it("many sockets on many Managers, each gets its own auth back", async () => {
      const all = Array.from({ length: 20 }, (_, i) =>
        client(i % 2 ? `${srv.url}/custom` : srv.url, { auth: { i }, transports: i % 3 ? ["websocket"] : ["polling", "websocket"] }, sockets));
      const auths = all.map((s) => once(s, "auth", 4000 * SLOW));
      await Promise.all(all.map((s) => connected(s)));
      assert.deepEqual(await Promise.all(auths), all.map((_, i) => [{ i }]));
      assert.equal(new Set(all.map((s) => s.id)).size, 20);
    });
  });
}
