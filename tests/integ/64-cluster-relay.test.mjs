// No sticky sessions across nodes (issue 16): two nodes of the plugin's
// conformance server (tests/fixture, 2 workers each) joined by a real
// redis-server, behind Debian's nginx with a plain round-robin upstream
// (no ip_hash, no cookie: each request and each WebSocket to the next
// node). A session id names the node that owns the session; a polling
// request or a WebSocket for it that lands on the other node is relayed
// there over Redis (<prefix>-korio-relay#<tag>#). The fixture needs no
// store, so this runs in the plain run (and under ASan).
//
// The fixture's pingInterval is 300 ms and pingTimeout 200 ms: a client
// that stays connected for 2 s has answered about six pings, every one of
// them through the relay for about half of its requests.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { startRedis } from "./cluster-util.mjs";
import { startNginx } from "./nginx.mjs";
import {
  SLOW, sleep, startFixture, client, closeAll, connected, once, ack, request, eioUrl, pollOpen, pollGet,
  pollPost, decodePayload, RawWs, wsUrl,
} from "./sio-util.mjs";

const T = 5000 * SLOW;
const tagOf = (sid) => sid.slice(2, 6);

// The packets of one GET (pings answered by a POST of "3" first, as a
// client does), until one satisfies want or ms pass.
async function pollUntil(base, path, sid, want, ms = T) {
  const deadline = Date.now() + ms;
  const seen = [];
  while (Date.now() < deadline) {
    const r = await pollGet(base, path, sid);
    assert.equal(r.status, 200, `GET ${r.status} ${r.text}`);
    for (const p of decodePayload(r.text)) {
      seen.push(p);
      if (p === "2") assert.equal((await pollPost(base, path, sid, "3")).status, 200);
      if (want(p)) return seen;
    }
  }
  throw new Error(`not seen within ${ms} ms: ${JSON.stringify(seen)}`);
}

describe("Engine.IO across nodes without sticky sessions", { timeout: 120000 * SLOW }, () => {
  let redis;
  let a;
  let b;
  let px;
  const sockets = [];

  before(async () => {
    redis = await startRedis();
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: "relaytest" };
    [a, b] = await Promise.all([
      startFixture(2, { env, proxy: false, group: true }),
      startFixture(2, { env, proxy: false, group: true }),
    ]);
    px = await startNginx([a.port, b.port]);
    // Both subscribers are up once each node's relay channel has one.
    const deadline = Date.now() + T;
    for (;;) {
      const out = await redis.lines("PUBSUB", "CHANNELS", "relaytest-korio-relay#*");
      if (out.length === 2) break;
      if (Date.now() > deadline) throw new Error(`relay channels: ${out}`);
      await sleep(50);
    }
  });
  after(async () => {
    closeAll(sockets);
    await px?.stop();
    await Promise.all([a?.stop({ allowBadLog: true }), b?.stop({ allowBadLog: true })]);
    await redis?.stop();
  });

  test("a polling session opened on one node is served by the other, then upgraded there", async () => {
    const open = await pollOpen(a.url, "/engine.io/");
    const sid = open.sid;
    assert.match(sid, /^[0-9a-f]{2}[A-Za-z0-9_-]{18}$/);
    // The first GET (the open packet) is done; a message posted on B comes
    // back on a GET on B, both relayed to A.
    const post = await pollPost(b.url, "/engine.io/", sid, "4hello\x1ebAQID");
    assert.equal(post.status, 200);
    assert.equal(post.text, "ok");
    const seen = await pollUntil(b.url, "/engine.io/", sid, (p) => Buffer.isBuffer(p));
    assert.ok(seen.includes("4hello"), JSON.stringify(seen));
    assert.deepEqual([...seen.find((p) => Buffer.isBuffer(p))], [1, 2, 3]);

    // The upgrade WebSocket on B: probe, upgrade, then messages both ways.
    const ws = new RawWs(wsUrl(b.url, "/engine.io/", `&sid=${sid}`));
    try {
      await ws.opened;
      ws.send("2probe");
      assert.equal(await ws.next(), "3probe");
      ws.send("5");
      ws.send("4over ws");
      assert.equal(await ws.next(), "4over ws");
      ws.send(Buffer.from([9, 8, 7]));
      assert.deepEqual([...(await ws.next())], [9, 8, 7]);
      // Pings from A reach the client on B's WebSocket and its pongs go
      // back: the session outlives several ping timeouts.
      await sleep(1500);
      assert.ok(ws.pings >= 2, `${ws.pings} pings in 1.5 s`);
      ws.send("4still here");
      assert.equal(await ws.next(), "4still here");
      // A close packet on B ends the session on A.
      ws.send("1");
      await ws.waitClose(T);
    } finally {
      ws.close();
    }
    const gone = await pollPost(a.url, "/engine.io/", sid, "4late");
    assert.equal(gone.status, 400);
    assert.deepEqual(JSON.parse(gone.text), { code: 1, message: "Session ID unknown" });
  });

  test("polling-only socket.io clients behind a round-robin balancer stay connected", async () => {
    const N = 16;
    const list = [];
    for (let i = 0; i < N; i++) {
      list.push(client(px.url, { transports: ["polling"] }, sockets));
    }
    await Promise.all(list.map((s) => connected(s)));
    const tags = new Set(list.map((s) => tagOf(s.io.engine.id)));
    assert.equal(tags.size, 2, "sessions on both nodes");
    let lost = 0;
    for (const s of list) s.on("disconnect", () => { lost++; });

    // Acks and events both ways, several ping cycles long.
    for (let round = 0; round < 4; round++) {
      await Promise.all(list.map(async (s, i) => {
        assert.deepEqual(await ack(s, "message-with-ack", [round, i, { n: "é" }], T), [round, i, { n: "é" }]);
        const back = once(s, "message-back", T);
        s.emit("message", i, Buffer.from([round]));
        const got = await back;
        assert.equal(got[0], i);
        assert.deepEqual([...got[1]], [round]);
      }));
      await sleep(500);
    }
    assert.equal(lost, 0, "no client lost its session");
    for (const s of list) assert.equal(s.io.engine.transport.name, "polling");

    // Closing: the client's close packet goes through the balancer too; its
    // session is gone on its node, whichever node the POST went to.
    const sids = list.map((s) => s.io.engine.id);
    closeAll(sockets);
    await sleep(300);
    const tagA = tagOf((await pollOpen(a.url, "/engine.io/")).sid);
    for (const sid of sids) {
      const direct = tagOf(sid) === tagA ? a : b;
      const r = await pollPost(direct.url, "/socket.io/", sid, "40");
      assert.equal(r.status, 400, `session ${sid} still open`);
    }
  });

  test("socket.io clients upgrade to WebSocket through the balancer", async () => {
    const list = [];
    for (let i = 0; i < 10; i++) list.push(client(px.url, {}, sockets));
    await Promise.all(list.map((s) => connected(s)));
    await Promise.all(list.map((s) => (s.io.engine.transport.name === "websocket"
      ? null : once(s.io.engine, "upgrade", T))));
    let lost = 0;
    for (const s of list) s.on("disconnect", () => { lost++; });
    await sleep(1000);
    await Promise.all(list.map(async (s, i) => {
      assert.deepEqual(await ack(s, "message-with-ack", [i], T), [i]);
    }));
    assert.equal(lost, 0);
    closeAll(sockets);
  });

  test("a session id of no node, or of a node that died: 400 Session ID unknown at once", async () => {
    const tags = new Set([tagOf((await pollOpen(a.url, "/engine.io/")).sid),
      tagOf((await pollOpen(b.url, "/engine.io/")).sid)]);
    let tag = "Zz9_";
    while (tags.has(tag)) tag = tag.slice(1) + "Q";
    const fake = `01${tag}${"x".repeat(14)}`;
    for (const [what, r] of [
      ["GET", () => pollGet(a.url, "/engine.io/", fake)],
      ["POST", () => pollPost(a.url, "/engine.io/", fake, "4x")],
    ]) {
      const t0 = Date.now();
      const res = await r();
      assert.equal(res.status, 400, what);
      assert.deepEqual(JSON.parse(res.text), { code: 1, message: "Session ID unknown" }, what);
      // The relay's own expiry would take ping interval + timeout + 5 s.
      assert.ok(Date.now() - t0 < 3000 * SLOW, `${what} answered in ${Date.now() - t0} ms`);
    }
    const ws = new RawWs(wsUrl(a.url, "/engine.io/", `&sid=${fake}`));
    await assert.rejects(ws.opened, (e) => e.status === 400);

    // B dies with a session; a GET for it on A ends at once.
    const { sid } = await pollOpen(b.url, "/engine.io/");
    await b.kill9Group();
    const t0 = Date.now();
    const res = await pollGet(a.url, "/engine.io/", sid);
    assert.equal(res.status, 400);
    assert.ok(Date.now() - t0 < 3000 * SLOW, `answered in ${Date.now() - t0} ms`);
    // The balancer skips the dead node: clients still connect.
    const s = client(px.url, { transports: ["polling"] }, sockets);
    await connected(s);
    assert.deepEqual(await ack(s, "message-with-ack", ["after"], T), ["after"]);
    closeAll(sockets);
  });
});

describe("the relay when Redis restarts", { timeout: 120000 * SLOW }, () => {
  let redis;
  let a;
  let b;

  before(async () => {
    redis = await startRedis();
    const env = { REDIS_URL: redis.url };
    [a, b] = await Promise.all([
      startFixture(2, { env, proxy: false }),
      startFixture(2, { env, proxy: false }),
    ]);
  });
  after(async () => {
    await Promise.all([a?.stop({ allowBadLog: true }), b?.stop({ allowBadLog: true })]);
    await redis?.stop();
  });

  // A session opened on A and used through B: a round trip of a message.
  async function crossNode() {
    const { sid } = await pollOpen(a.url, "/engine.io/");
    const post = await pollPost(b.url, "/engine.io/", sid, "4across");
    if (post.status !== 200) return false;
    await pollUntil(b.url, "/engine.io/", sid, (p) => p === "4across", 2000 * SLOW);
    return true;
  }

  test("relayed requests fail while Redis is down (400, not a hang) and work again after", async () => {
    const deadline = Date.now() + T;
    while (!(await crossNode().catch(() => false))) {
      if (Date.now() > deadline) throw new Error("relay never worked");
      await sleep(100);
    }
    await redis.kill9();
    const { sid } = await pollOpen(a.url, "/engine.io/");
    const t0 = Date.now();
    const r = await request(eioUrl(b.url, "/engine.io/", `&sid=${sid}`), { timeout: 20000 * SLOW });
    // Not kept for when Redis is back (the client would be long gone):
    // 400 at once, as for a session of no node; the client makes a new
    // session, on a node of its own.
    assert.equal(r.status, 400);
    assert.deepEqual(JSON.parse(r.text), { code: 1, message: "Session ID unknown" });
    assert.ok(Date.now() - t0 < 3000 * SLOW, `answered in ${Date.now() - t0} ms`);
    await redis.start();
    const again = Date.now() + 20000 * SLOW;
    while (!(await crossNode().catch(() => false))) {
      if (Date.now() > again) throw new Error("relay did not come back after Redis restarted");
      await sleep(200);
    }
    assert.equal(a.child.exitCode, null);
    assert.equal(b.child.exitCode, null);
  });
});
