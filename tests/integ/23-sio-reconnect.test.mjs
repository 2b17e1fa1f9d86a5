// Socket.IO plugin: socket.io-client reconnects by itself after the server
// restarts on the same port, on every transport, and works afterwards.

import assert from "node:assert/strict";
import { after, afterEach, describe, test } from "node:test";
import {
  WORKER_COUNTS, SLOW, startFixture, client, closeAll, connected, once, ack,
  retryOnStall,
} from "./sio-util.mjs";

for (const workers of WORKER_COUNTS) {
  describe(`sio reconnect after a server restart (WORKERS=${workers})`, () => {
    let srv;
    const sockets = [];
    const it = (name, fn) => test(name, (t) => retryOnStall(() => fn(t), async () => {
      closeAll(sockets);
      await srv?.stop();
      srv = null;
    }));
    afterEach(() => closeAll(sockets));
    after(async () => {
      closeAll(sockets);
      await srv?.stop();
    });

    it("clients on each transport reconnect to the restarted server and work", async () => {
      srv = await startFixture(workers);
      const port = srv.port;
      const kinds = {
        default: {},
        websocket: { transports: ["websocket"] },
        polling: { transports: ["polling"], upgrade: false },
      };
      const clients = {};
      for (const [name, opts] of Object.entries(kinds)) {
        const s = client(srv.url, {
          ...opts,
          reconnection: true,
          reconnectionDelay: 100,
          reconnectionDelayMax: 300,
          randomizationFactor: 0,
          auth: { who: name },
        }, sockets);
        const auths = [];
        s.on("auth", (a) => auths.push(a));
        clients[name] = { s, auths, reasons: [] };
        s.on("disconnect", (r) => clients[name].reasons.push(r));
      }
      await Promise.all(Object.values(clients).map(({ s }) => connected(s)));
      const firstIds = {};
      for (const [name, { s }] of Object.entries(clients)) {
        firstIds[name] = { sid: s.id, eid: s.io.engine.id };
        assert.deepEqual(await ack(s, "message-with-ack", [name, 1]), [name, 1]);
      }

      const disconnected = Object.values(clients).map(({ s }) => once(s, "disconnect", 5000 * SLOW));
      await srv.stop();
      await Promise.all(disconnected);
      for (const { s, reasons } of Object.values(clients)) {
        assert.equal(s.connected, false);
        assert.ok(["transport close", "transport error", "ping timeout"].includes(reasons[0]), reasons[0]);
      }

      // Let a few reconnection attempts fail against the closed port.
      const attempts = Object.values(clients).map(({ s }) => once(s.io, "reconnect_attempt", 3000 * SLOW));
      await Promise.all(attempts);

      srv = await startFixture(workers, { port });
      const reconnected = Object.values(clients).map(({ s }) => once(s, "connect", 8000 * SLOW));
      await Promise.all(reconnected);
      for (const [name, { s, auths }] of Object.entries(clients)) {
        assert.equal(s.connected, true);
        assert.notEqual(s.id, firstIds[name].sid);
        assert.notEqual(s.io.engine.id, firstIds[name].eid);
        assert.deepEqual(await ack(s, "message-with-ack", [name, 2]), [name, 2]);
        const back = once(s, "message-back");
        s.emit("message", name, Buffer.from([9, 8, 7]));
        const [n, b] = await back;
        assert.equal(n, name);
        assert.deepEqual([...b], [9, 8, 7]);
        // the CONNECT payload again on the new connection
        assert.deepEqual(auths, [{ who: name }, { who: name }]);
      }
    });
  });
}
