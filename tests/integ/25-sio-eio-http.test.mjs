// Socket.IO plugin, Engine.IO level, over plain HTTP and raw WebSockets:
// the /engine.io/ echo endpoint (polling payloads, the upgrade dance), the
// HTTP errors engine.io gives ({"code":N,"message":"..."}), CORS.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  WORKER_COUNTS, SLOW, sleep, startFixture, request, eioUrl, pollOpen, pollGet, pollPost,
  decodePayload, RawWs, wsUrl, wsOpen,
  retryOnStall,
} from "./sio-util.mjs";

const E = "/engine.io/";

for (const workers of WORKER_COUNTS) {
  describe(`Engine.IO over HTTP and raw WebSocket (WORKERS=${workers})`, () => {
    let srv;
    const it = (name, fn) => test(name, (t) => retryOnStall(() => fn(t)));
    before(async () => {
      srv = await startFixture(workers);
    });
    after(async () => {
      await srv?.stop();
    });

    it("polling handshake: open packet, content type, CORS", async () => {
      for (const path of [E, "/socket.io/"]) {
        const r = await request(eioUrl(srv.url, path, "&t=abc123&foo=bar"), { headers: { origin: "http://example.com" } });
        assert.equal(r.status, 200);
        assert.match(r.headers["content-type"], /^text\/plain; ?charset=UTF-8$/i);
        assert.equal(r.headers["access-control-allow-origin"], "*");
        assert.equal(r.text[0], "0");
        const open = JSON.parse(r.text.slice(1));
        assert.deepEqual(Object.keys(open).sort(), ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"]);
        assert.equal(typeof open.sid, "string");
        assert.deepEqual(open.upgrades, ["websocket"]);
        assert.equal(open.pingInterval, 300);
        assert.equal(open.pingTimeout, 200);
        assert.equal(open.maxPayload, 1000000);
      }
    });

    it("websocket handshake: open packet with no upgrades", async () => {
      const { ws, open } = await wsOpen(srv.url, E);
      assert.deepEqual(Object.keys(open).sort(), ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"]);
      assert.deepEqual(open.upgrades, []);
      ws.send("4hello");
      assert.equal(await ws.next(), "4hello");
      ws.send(Buffer.from([1, 2, 3, 4]));
      assert.deepEqual(await ws.next(), Buffer.from([1, 2, 3, 4]));
      ws.close();
    });

    it('raw echo over polling: POST "4hello", GET returns "4hello"; batches and binary', async () => {
      const { sid } = await pollOpen(srv.url, E);
      let r = await pollPost(srv.url, E, sid, "4hello");
      assert.equal(r.status, 200);
      assert.equal(r.text, "ok");
      assert.equal(r.headers["access-control-allow-origin"], "*");
      r = await pollGet(srv.url, E, sid);
      assert.equal(r.status, 200);
      assert.equal(r.headers["access-control-allow-origin"], "*");
      assert.match(r.headers["content-type"], /^text\/plain; ?charset=UTF-8$/i);
      assert.equal(r.text, "4hello");
      // several packets in one POST, text as text and binary as binary
      r = await pollPost(srv.url, E, sid, "4a\x1e4\x1ebAQIDBA==\x1e4héllo ✓");
      assert.equal(r.status, 200);
      r = await pollGet(srv.url, E, sid);
      assert.deepEqual(decodePayload(r.text), ["4a", "4", Buffer.from([1, 2, 3, 4]), "4héllo ✓"]);
      // a pending GET is answered when data arrives
      const pending = pollGet(srv.url, E, sid);
      await sleep(50);
      await pollPost(srv.url, E, sid, "4late");
      assert.equal((await pending).text, "4late");
    });

    it("polling heartbeat: server pings, pong keeps the session, missing pong ends it", async () => {
      const { sid } = await pollOpen(srv.url, E);
      for (let i = 0; i < 3; i++) {
        const t0 = Date.now();
        const r = await pollGet(srv.url, E, sid);
        assert.equal(r.text, "2");
        assert.ok(Date.now() - t0 < 1000 * SLOW);
        assert.equal((await pollPost(srv.url, E, sid, "3")).status, 200);
      }
      // no pong: gone after pingInterval + pingTimeout
      assert.equal((await pollGet(srv.url, E, sid)).text, "2");
      await sleep(600);
      const r = await pollGet(srv.url, E, sid);
      assert.equal(r.status, 400);
      assert.deepEqual(JSON.parse(r.text), { code: 1, message: "Session ID unknown" });
    });

    it('polling close: POST "1" answers a pending GET with "6", then the sid is unknown', async () => {
      const { sid } = await pollOpen(srv.url, E);
      const pending = pollGet(srv.url, E, sid);
      await sleep(50);
      assert.equal((await pollPost(srv.url, E, sid, "1")).status, 200);
      const g = await pending;
      assert.equal(g.status, 200);
      assert.equal(g.text, "6");
      const r = await pollGet(srv.url, E, sid);
      assert.equal(r.status, 400);
    });

    it("polling: an invalid packet is a 400 and ends the session", async () => {
      const { sid } = await pollOpen(srv.url, E);
      const r = await pollPost(srv.url, E, sid, "abc");
      assert.equal(r.status, 400);
      assert.equal((await pollGet(srv.url, E, sid)).status, 400);
    });

    it("polling: a second concurrent GET is refused and the session closed", async () => {
      const { sid } = await pollOpen(srv.url, E);
      const first = pollGet(srv.url, E, sid);
      await sleep(50);
      const second = await pollGet(srv.url, E, sid);
      assert.ok([400, 500].includes(second.status), `second GET: ${second.status}`);
      const f = await first;
      assert.equal(f.text, "1");
      assert.equal((await pollGet(srv.url, E, sid)).status, 400);
    });

    it("upgrade: 2probe/3probe, pending GET gets 6, 5; then polling on that sid is 400, a second WS is closed", async () => {
      const { sid } = await pollOpen(srv.url, E);
      // a GET waiting when the upgrade starts
      const pending = pollGet(srv.url, E, sid);
      await sleep(30);
      const ws = new RawWs(wsUrl(srv.url, E, `&sid=${sid}`));
      await ws.opened;
      ws.send("2probe");
      assert.equal(await ws.next(), "3probe");
      const g = await pending;
      assert.equal(g.status, 200);
      assert.equal(g.text, "6");
      ws.send("5");
      ws.send("4hello");
      assert.equal(await ws.next(), "4hello");
      ws.send(Buffer.from([0, 255]));
      assert.deepEqual(await ws.next(), Buffer.from([0, 255]));

      const r = await pollGet(srv.url, E, sid);
      assert.equal(r.status, 400);
      const r2 = await pollPost(srv.url, E, sid, "4nope");
      assert.equal(r2.status, 400);

      const again = new RawWs(wsUrl(srv.url, E, `&sid=${sid}`));
      await again.opened.catch(() => {});
      await again.waitClose();
      // the upgraded WS is untouched, heartbeat included
      await sleep(400);
      ws.send("4still");
      assert.equal(await ws.next(), "4still");
      ws.close();
    });

    it("upgrade without a pending GET: the next GET gets 6", async () => {
      const { sid } = await pollOpen(srv.url, E);
      const ws = new RawWs(wsUrl(srv.url, E, `&sid=${sid}`));
      await ws.opened;
      ws.send("2probe");
      assert.equal(await ws.next(), "3probe");
      const g = await pollGet(srv.url, E, sid);
      assert.equal(g.text, "6");
      ws.send("5");
      ws.send("4x");
      assert.equal(await ws.next(), "4x");
      ws.close();
    });

    for (const path of [E, "/socket.io/"]) {
      it(`HTTP errors on ${path}`, async () => {
        const base = `${srv.url}${path}`;
        const cases = [
          [`${base}?EIO=3&transport=polling`, "GET", 400, 5, "Unsupported protocol version"],
          [`${base}?EIO=abc&transport=polling`, "GET", 400, 5, "Unsupported protocol version"],
          [`${base}?transport=polling`, "GET", 400, 5, "Unsupported protocol version"],
          [`${base}?EIO=4&transport=foo`, "GET", 400, 0, "Transport unknown"],
          [`${base}?EIO=4`, "GET", 400, 0, "Transport unknown"],
          [`${base}?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA`, "GET", 400, 1, "Session ID unknown"],
          [`${base}?EIO=4&transport=polling&sid=00AAAAAAAAAAAAAAAAAA`, "POST", 400, 1, "Session ID unknown"],
          [`${base}?EIO=4&transport=polling&sid=x`, "GET", 400, 1, "Session ID unknown"],
          [`${base}?EIO=4&transport=polling`, "POST", 400, 2, "Bad handshake method"],
          [`${base}?EIO=4&transport=polling`, "PUT", 400, 2, "Bad handshake method"],
          [`${base}?EIO=4&transport=websocket`, "GET", 400, 3, "Bad request"],
        ];
        for (const [url, method, status, code, message] of cases) {
          const r = await request(url, { method, body: method === "GET" ? undefined : "4x" });
          assert.equal(r.status, status, `${method} ${url}`);
          assert.match(r.headers["content-type"] ?? "", /^application\/json/, `${method} ${url}`);
          assert.deepEqual(JSON.parse(r.text), { code, message }, `${method} ${url}`);
        }
        // a sid that never existed, with a valid owner prefix
        const r = await request(`${base}?EIO=4&transport=polling&sid=01AAAAAAAAAAAAAAAAAA`);
        assert.equal(r.status, 400);
        assert.deepEqual(JSON.parse(r.text), { code: 1, message: "Session ID unknown" });
      });

      it(`failed WebSocket upgrades on ${path}`, async () => {
        for (const q of ["", "&sid=AAAAAAAAAAAAAAAAAAAA", "&sid=01AAAAAAAAAAAAAAAAAA"]) {
          for (const eio of ["3", "x"]) {
            const url = `${srv.url.replace("http", "ws")}${path}?EIO=${eio}&transport=websocket${q}`;
            const ws = new RawWs(url);
            const err = await ws.opened.then(() => null, (e) => e);
            if (err) assert.equal(err.status, 400, url);
            else await ws.waitClose();
          }
          const url = wsUrl(srv.url, path, q);
          if (q) {
            const ws = new RawWs(url);
            const err = await ws.opened.then(() => null, (e) => e);
            if (err) assert.equal(err.status, 400, url);
            else await ws.waitClose();
          }
        }
      });
    }

    it("OPTIONS preflight: 204 with CORS headers", async () => {
      for (const path of [E, "/socket.io/"]) {
        const r = await request(eioUrl(srv.url, path), {
          method: "OPTIONS",
          headers: {
            origin: "http://example.com",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type,x-custom",
          },
        });
        assert.equal(r.status, 204);
        assert.equal(r.headers["access-control-allow-origin"], "*");
        assert.match(r.headers["access-control-allow-methods"] ?? "", /GET/);
        assert.match(r.headers["access-control-allow-methods"] ?? "", /POST/);
        assert.match(r.headers["access-control-allow-headers"] ?? "", /content-type/i);
        assert.equal(r.text, "");
      }
    });

    it("CORS header on error responses too (engine.io applies cors before verifying)", async () => {
      const r = await request(`${srv.url}/socket.io/?EIO=3&transport=polling`, { headers: { origin: "http://example.com" } });
      assert.equal(r.status, 400);
      assert.equal(r.headers["access-control-allow-origin"], "*");
    });
  });
}
