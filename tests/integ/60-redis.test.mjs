// Cluster mode (REDIS_URL, issue 16): two korio processes (2 workers each)
// and one Node socket.io 4.8 node with @socket.io/redis-adapter 8.3 and an
// @socket.io/redis-emitter 5.1 (tests/integ/cluster/node-node.mjs), joined
// by a real redis-server on loopback. Needs MongoDB (the nodes share the
// store): run through run-mongo.mjs; skipped in the SQLite run.

import assert from "node:assert/strict";
import { fork } from "node:child_process";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { createClient } from "redis";
import { io as ioClient } from "socket.io-client";

import { startRedis, stopRedis } from "./cluster/redis-server.mjs";
import { SLOW, freePort, startServer, tempDir } from "./harness.mjs";
import { api, connect, got, signup, sleep, until } from "./rt-util.mjs";

const MONGO = process.env.KORIO_TEST_MONGODB_URI;
const here = path.dirname(new URL(import.meta.url).pathname);
const T = 10000 * SLOW;

function startNode(port, redisUrl) {
  const child = fork(path.join(here, "cluster/node-node.mjs"), [String(port), redisUrl],
    { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const pending = new Map();
  const node = { child, uncaught: [], url: `http://127.0.0.1:${port}`, seq: 0 };
  child.on("message", (m) => {
    if (m.uncaught) node.uncaught.push(m.uncaught);
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error) p.reject(new Error(m.error));
    else p.resolve(m.value);
  });
  node.call = (cmd, args = {}) => new Promise((resolve, reject) => {
    const id = ++node.seq;
    const t = setTimeout(() => {
      pending.delete(id);
      reject(new Error(`Node node: ${cmd} did not answer`));
    }, 3 * T);
    pending.set(id, {
      resolve: (v) => { clearTimeout(t); resolve(v); },
      reject: (e) => { clearTimeout(t); reject(e); },
    });
    child.send({ id, cmd, ...args });
  });
  node.stop = async () => {
    if (child.exitCode !== null) return;
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  };
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("Node node did not start")), T);
    child.on("message", (m) => {
      if (m.ready) {
        clearTimeout(t);
        resolve(node);
      }
    });
  });
}

// A Node-node client that records events (name -> array of argument lists).
function nodeClient(url) {
  return new Promise((resolve, reject) => {
    const s = ioClient(url, { forceNew: true, reconnection: false, transports: ["websocket"] });
    s.all = new Map();
    s.onAny((name, ...args) => {
      if (!s.all.has(name)) s.all.set(name, []);
      s.all.get(name).push(args);
    });
    s.once("connect", () => resolve(s));
    s.once("connect_error", reject);
  });
}

const count = (s, ev) => (s.all ? (s.all.get(ev) ?? []).length : got(s, ev).length);

describe("cluster mode: start-up", () => {
  test("REDIS_URL without MONGODB_URI refuses to start, naming MONGODB_URI", async () => {
    const srv = await startServer({ workers: 1, mongo: false, wait: false,
      env: { REDIS_URL: "redis://127.0.0.1:1", MONGODB_URI: undefined } });
    const { code } = await srv.exited;
    assert.notEqual(code, 0);
    assert.match(srv.logs(), /REDIS_URL needs .*MONGODB_URI/);
  });

  test("a bad REDIS_URL refuses to start without showing it", async () => {
    const srv = await startServer({ workers: 1, mongo: false, wait: false,
      env: { REDIS_URL: "http://user:s3cretpw@x", MONGODB_URI: "mongodb://127.0.0.1:1/x" } });
    const { code } = await srv.exited;
    assert.notEqual(code, 0);
    assert.match(srv.logs(), /REDIS_URL: expected redis:\/\//);
    assert.doesNotMatch(srv.logs(), /s3cretpw/);
  });
});

describe("cluster mode: korio and Node nodes over Redis", {
  skip: MONGO ? false : "needs MongoDB: run through tests/integ/run-mongo.mjs",
  timeout: 240000 * SLOW,
}, () => {
  let redis, redisPort, redisDir, redisUrl, A, B, N, raw, user;
  const sockets = [];
  const env = () => ({
    TOKEN_SECRET: "cluster-token-secret-0123456789",
    REFRESH_TOKEN_SECRET: "cluster-refresh-secret-0123456789",
    REDIS_URL: redisUrl,
  });

  before(async () => {
    redisPort = await freePort();
    redisDir = tempDir("korio-redis-");
    redisUrl = `redis://127.0.0.1:${redisPort}`;
    redis = await startRedis(redisPort, redisDir);
    const dbName = `korio_cluster_${redisPort}`;
    // A: a small queue for Redis (REDIS_QUEUE_MAX), and its metrics.
    [A, B] = await Promise.all([
      startServer({ workers: 2, dbName, env: { ...env(), REDIS_QUEUE_MAX: "8", METRICS: "public" } }),
      startServer({ workers: 2, dbName, env: env() }),
    ]);
    N = await startNode(await freePort(), redisUrl);
    raw = createClient({ url: redisUrl });
    raw.on("error", () => {});
    await raw.connect();
    await A.waitForLog(/redis: connected to/, T);
    await B.waitForLog(/redis: connected to/, T);
    const deadline = Date.now() + T;
    while ((await N.call("serverCount")) !== 3) {
      if (Date.now() > deadline) throw new Error("serverCount never reached 3");
      await sleep(100);
    }
    user = await signup(A, "cluster");
  });

  after(async () => {
    for (const s of sockets) s.close();
    await raw?.quit().catch(() => {});
    await N?.stop();
    const logs = await Promise.all([A?.stop({ allowBadLog: true }), B?.stop({ allowBadLog: true })]);
    if (process.env.REDIS_TEST_LOGS) {
      const fs = await import("node:fs");
      fs.writeFileSync(`${process.env.REDIS_TEST_LOGS}/A.log`, logs[0] ?? "");
      fs.writeFileSync(`${process.env.REDIS_TEST_LOGS}/B.log`, logs[1] ?? "");
    }
    await stopRedis(redis);
    for (const l of logs) if (l) assert.doesNotMatch(l, /sandbox violation|AddressSanitizer|runtime error/);
  });

  const korioSocket = async (srv) => {
    const s = await connect(srv, { token: `Bearer ${user.token}` });
    sockets.push(s);
    return s;
  };
  const nodeSocket = async () => {
    const s = await nodeClient(N.url);
    sockets.push(s);
    return s;
  };

  test("serverCount counts each korio process once (NUMSUB)", async () => {
    assert.equal(await N.call("serverCount"), 3);
    const n = await raw.sendCommand(["PUBSUB", "NUMSUB", "socket.io-request#/#"]);
    assert.equal(Number(n[1]), 3);
  });

  test("a hook emit on korio A reaches korio B and the Node node, once each", async () => {
    const a1 = await korioSocket(A);
    const b1 = await korioSocket(B);
    const n1 = await nodeSocket();
    await n1.timeout(T).emitWithAck("join", `todos:${user.id}`);
    for (const s of [a1, b1]) await s.timeout(T).emitWithAck("subscribe:todos");
    const r = await api(A, "POST", "/todos", { token: user.token, body: { title: "across" } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await until(() => count(a1, "todo:created") && count(b1, "todo:created") && count(n1, "todo:created"),
      T, "todo:created everywhere");
    await sleep(300 * SLOW);
    assert.equal(count(a1, "todo:created"), 1);
    assert.equal(count(b1, "todo:created"), 1);
    assert.equal(count(n1, "todo:created"), 1);
    assert.equal(n1.all.get("todo:created")[0][0].title, "across");
    assert.deepEqual(N.uncaught, [], "the Node node decoded korio's messages");
    assert.equal(got(b1, "todo:created")[0].title, "across");
  });

  test("Terreno sync events (filtered broadcasts) cross korio nodes, once", async () => {
    const b1 = await korioSocket(B);
    const a1 = await korioSocket(A);
    for (const s of [a1, b1]) await s.timeout(T).emitWithAck("subscribe:model", "todos");
    const r = await api(A, "POST", "/todos", { token: user.token, body: { title: "synced" } });
    assert.equal(r.status, 201);
    await until(() => got(b1, "sync").length && got(a1, "sync").length, T, "sync on both nodes");
    await sleep(300 * SLOW);
    for (const s of [a1, b1]) {
      assert.equal(got(s, "sync").length, 1);
      assert.equal(got(s, "sync")[0].method, "create");
      assert.equal(got(s, "sync")[0].data.title, "synced");
    }
  });

  test("Node io.emit, room emits, binary and the emitter reach korio sockets once", async () => {
    const a1 = await korioSocket(A);
    const b1 = await korioSocket(B);
    await N.call("socketsJoin", { rooms: [a1.id], join: ["r1"] });
    await sleep(200 * SLOW);
    await N.call("emit", { event: "n-all", args: [1, "x", { d: 1.5 }] });
    await N.call("emit", { event: "n-r1", args: ["to-r1"], rooms: ["r1"] });
    await N.call("emit", { event: "n-bin", args: [{ $bin: "010203" }, "after"] });
    await N.call("emitter", { event: "e-all", args: ["from-emitter"] });
    await N.call("emitter", { event: "e-r1", args: [7], rooms: ["r1"] });
    await until(() => count(a1, "n-all") && count(b1, "n-all") && count(a1, "n-r1") && count(a1, "n-bin") &&
      count(b1, "n-bin") && count(a1, "e-all") && count(b1, "e-all") && count(a1, "e-r1"), T, "Node emits");
    await sleep(300 * SLOW);
    for (const ev of ["n-all", "n-bin", "e-all"]) {
      assert.equal(count(a1, ev), 1, `a1 ${ev}`);
      assert.equal(count(b1, ev), 1, `b1 ${ev}`);
    }
    assert.equal(count(a1, "n-r1"), 1);
    assert.equal(count(b1, "n-r1"), 0);
    assert.equal(count(a1, "e-r1"), 1);
    assert.equal(count(b1, "e-r1"), 0);
    assert.deepEqual(got(a1, "n-all")[0], 1);
    const bin = got(b1, "n-bin")[0];
    assert.ok(Buffer.isBuffer(bin) || bin instanceof ArrayBuffer, "a binary argument");
    assert.deepEqual([...Buffer.from(bin)], [1, 2, 3]);
  });

  test("fetchSockets and allRooms from the Node node include korio's sockets", async () => {
    const a1 = await korioSocket(A);
    const b1 = await korioSocket(B);
    await N.call("socketsJoin", { rooms: [b1.id], join: ["fetch-room"] });
    await sleep(200 * SLOW);
    const all = await N.call("fetchSockets", {});
    const ids = all.map((s) => s.id);
    assert.ok(ids.includes(a1.id) && ids.includes(b1.id), "both korio sockets");
    const inRoom = await N.call("fetchSockets", { rooms: ["fetch-room"] });
    assert.deepEqual(inRoom.map((s) => s.id), [b1.id]);
    assert.ok(inRoom[0].rooms.includes(b1.id) && inRoom[0].rooms.includes("fetch-room"));
    assert.equal(typeof inRoom[0].handshake.time, "string");
    assert.equal(inRoom[0].handshake.headers.authorization, undefined);
    const rooms = await N.call("allRooms");
    assert.ok(rooms.includes("fetch-room") && rooms.includes(a1.id), "rooms of both korio nodes");
    // A RemoteSocket's emit comes back on the socket's own room channel.
    await N.call("remoteEmit", { sid: b1.id, event: "remote", args: ["hi"] });
    await until(() => count(b1, "remote") === 1, T, "RemoteSocket.emit");
  });

  test("socketsJoin/Leave/disconnectSockets from Node and the emitter act on korio sockets", async () => {
    const a1 = await korioSocket(A);
    const b1 = await korioSocket(B);
    await N.call("socketsJoin", { rooms: [a1.id], join: ["j1"] });
    await N.call("emitterJoin", { rooms: [b1.id], join: ["j1"] });
    await sleep(300 * SLOW);
    let inJ1 = (await N.call("fetchSockets", { rooms: ["j1"] })).map((s) => s.id).sort();
    assert.deepEqual(inJ1, [a1.id, b1.id].sort());
    await N.call("socketsLeave", { rooms: ["j1"], leave: ["j1"], except: [b1.id] });
    await N.call("emitterLeave", { rooms: [b1.id], leave: ["j1"] });
    await sleep(300 * SLOW);
    inJ1 = await N.call("fetchSockets", { rooms: ["j1"] });
    assert.deepEqual(inJ1, []);
    const gone = new Promise((r) => b1.once("disconnect", r));
    await N.call("emitterDisconnect", { rooms: [b1.id], close: true });
    await gone;
    const gone2 = new Promise((r) => a1.once("disconnect", r));
    await N.call("disconnectSockets", { rooms: [a1.id] });
    assert.equal(await gone2, "io server disconnect");
  });

  test("serverSideEmitWithAck('cluster:ping') is answered by each korio", async () => {
    const replies = await N.call("serverSideEmitWithAck", { event: "cluster:ping", args: ["p-1"] });
    assert.deepEqual(replies, ["p-1", "p-1"]);
  });

  test("emitWithAck from Node collects korio clients' acks", async () => {
    const a1 = await korioSocket(A);
    const b1 = await korioSocket(B);
    a1.on("ask", (x, cb) => cb(`a1-${x}`));
    b1.on("ask", (x, cb) => cb(`b1-${x}`));
    await N.call("socketsJoin", { rooms: [a1.id, b1.id], join: ["askers"] });
    await sleep(200 * SLOW);
    const acks = await N.call("emitWithAck", { event: "ask", args: ["q"], rooms: ["askers"] });
    assert.deepEqual(acks.sort(), ["a1-q", "b1-q"]);
    const none = await N.call("emitWithAck", { event: "ask", args: ["q"], rooms: ["nobody-here"] });
    assert.deepEqual(none, []);
  });

  test("garbage on every channel does not crash korio", async () => {
    const b1 = await korioSocket(B);
    const a1 = await korioSocket(A);
    await b1.timeout(T).emitWithAck("subscribe:todos");
    for (const ch of ["socket.io#/#", `socket.io#/#todos:${user.id}#`, "socket.io-request#/#"]) {
      for (const hex of ["c1", "93a178", "93a1780102", "7b2274797065", "ffffffff", "7b7d", "dc0010"]) {
        await raw.publish(ch, Buffer.from(hex, "hex"));
      }
    }
    await raw.publish("socket.io-request#/#", '{"type":5,"requestId":"x","opts":{"rooms":5}}');
    await raw.publish("socket.io-request#/#", '{"type":7,"requestId":"x"}');
    await sleep(500 * SLOW);
    for (const s of [A, B]) assert.equal((await fetch(`${s.url}/livez`)).status, 200);
    const r = await api(A, "POST", "/todos", { token: user.token, body: { title: "still" } });
    assert.equal(r.status, 201);
    await until(() => got(b1, "todo:created").some((t) => t.title === "still"), T, "delivery after garbage");
    assert.ok(a1.connected && b1.connected);
    assert.match(A.logs(), /redis: dropped a/);
  });

  test("the worker holding the subscriber dies: Kore restarts it, it subscribes again", async () => {
    const { execFileSync } = await import("node:child_process");
    const ps = execFileSync("ps", ["-eo", "pid,ppid,args"], { encoding: "utf8" });
    const line = ps.split("\n").find((l) => {
      const f = l.trim().split(/\s+/);
      return Number(f[1]) === B.child.pid && l.includes("[wrk 1]");
    });
    assert.ok(line, "B's worker 1");
    const before = (B.logs().match(/redis: connected to/g) ?? []).length;
    process.kill(Number(line.trim().split(/\s+/)[0]), "SIGKILL");
    await until(() => (B.logs().match(/redis: connected to/g) ?? []).length > before, T, "a new subscriber");
    const deadline = Date.now() + T;
    while ((await N.call("serverCount")) !== 3) {
      if (Date.now() > deadline) throw new Error("serverCount not 3 after the restart");
      await sleep(100);
    }
    const b1 = await korioSocket(B);
    await N.call("emit", { event: "after-restart", args: [1] });
    await until(() => got(b1, "after-restart").length === 1, T, "delivery after the restart");
  });

  test("Redis restarts mid-traffic: korio serves its own sockets, logs once, recovers", async () => {
    const a1 = await korioSocket(A);
    const a2 = await korioSocket(A);
    const b1 = await korioSocket(B);
    for (const s of [a1, a2, b1]) await s.timeout(T).emitWithAck("subscribe:todos");
    await stopRedis(redis);
    await A.waitForLog(/redis: lost 127\.0\.0\.1/, T);
    // 12 todos, each a broadcast and a sync event for Redis: past
    // REDIS_QUEUE_MAX (8 a worker, 2 workers) some are dropped, counted.
    for (let i = 0; i < 12; i++) {
      const r = await api(A, "POST", "/todos", { token: user.token, body: { title: `down-${i}` } });
      assert.equal(r.status, 201);
    }
    await until(() => got(a2, "todo:created").filter((t) => t.title.startsWith("down-")).length === 12,
      T, "local delivery while Redis is down");
    assert.equal((A.logs().match(/redis: lost/g) ?? []).length, 1, "one log line per outage");
    const metric = async (name) => {
      const text = await (await fetch(`${A.url}/metrics`)).text();
      const m = new RegExp(`^${name} (\\d+)$`, "m").exec(text);
      return m ? Number(m[1]) : NaN;
    };
    assert.ok(await metric("korio_redis_dropped_total") >= 8, "dropped past the queue, counted");
    assert.equal(await metric("korio_redis_connected"), 0);
    redis = await startRedis(redisPort, redisDir);
    await A.waitForLog(/redis: 127\.0\.0\.1:\d+ is back/, T);
    await B.waitForLog(/redis: 127\.0\.0\.1:\d+ is back/, T);
    const r = await api(A, "POST", "/todos", { token: user.token, body: { title: "back" } });
    assert.equal(r.status, 201);
    await until(() => got(b1, "todo:created").some((t) => t.title === "back"), T, "cross-node after restart");
    assert.equal(await metric("korio_redis_connected"), 1);
    assert.ok(await metric("korio_redis_bad_messages_total") >= 1, "the garbage was counted");
    const deadline = Date.now() + T;
    while ((await N.call("serverCount").catch(() => 0)) !== 3) {
      if (Date.now() > deadline) throw new Error("serverCount not 3 after the restart");
      await sleep(200);
    }
  });
});
