// GET /metrics: who may read it (METRICS, METRICS_TOKEN), valid Prometheus
// text with Prometheus's naming practice, and counts that move by exactly
// what was done, summed over both workers: requests are sent on
// keep-alive connections pinned to worker 1 or worker 2 (a handshake on
// the connection tells its worker, sio-util.mjs), and the metrics are read
// through each worker in turn, which must agree.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { io } from "socket.io-client";
import { assertNoSecrets, BACKEND, startKorio, SLOW } from "./harness.mjs";
import { CONTENT_TYPE, checkExposition, histOf, parseMetrics, valueOf } from "./prom-util.mjs";
import { api, emitAck, signup, sleep, until } from "./rt-util.mjs";
import { childStats, dropPinned, owner, pinned, PinningAgent, releasePinned } from "./sio-util.mjs";

const TOKEN = "metrics-token-0123456789abcdef";
const T = 10000 * SLOW;
const S = "/socket.io/";
// The store's label: SQLite, or MongoDB under run-mongo.mjs.
const STORE = BACKEND === "mongo" ? "mongodb" : "sqlite";

const VERSION = /#define\s+KORIO_VERSION\s+"([^"]+)"/.exec(
  fs.readFileSync(path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../src/app/app.h"), "utf8"),
)[1];

// Every family korio writes, with its type.
const FAMILIES = {
  process_cpu_seconds_total: "counter",
  process_resident_memory_bytes: "gauge",
  process_open_fds: "gauge",
  process_start_time_seconds: "gauge",
  korio_build_info: "gauge",
  korio_workers: "gauge",
  korio_http_requests_total: "counter",
  korio_http_request_duration_seconds: "histogram",
  korio_store_operation_duration_seconds: "histogram",
  korio_job_queue_depth: "gauge",
  korio_sockets: "gauge",
  korio_relayed_sessions: "gauge",
  korio_relayed_requests_total: "counter",
  korio_rooms: "gauge",
  korio_sio_events_received_total: "counter",
  korio_sio_events_sent_total: "counter",
  korio_broadcasts_total: "counter",
  korio_broadcast_fanout_seconds: "histogram",
  korio_rate_limit_drops_total: "counter",
  korio_redis_connected: "gauge",
  korio_redis_published_total: "counter",
  korio_redis_received_total: "counter",
  korio_redis_dropped_total: "counter",
  korio_redis_bad_messages_total: "counter",
  korio_redis_relayed_total: "counter",
};

const get = (srv, headers = {}) => fetch(`${srv.url}/metrics`, { headers });

describe("GET /metrics: access", { timeout: 120000 * SLOW }, () => {
  test("off by default: 404, token or not", async () => {
    const srv = await startKorio({ workers: 1, env: { METRICS_TOKEN: undefined, METRICS: undefined } });
    try {
      assert.equal((await get(srv)).status, 404);
      assert.equal((await get(srv, { authorization: `Bearer ${TOKEN}` })).status, 404);
      assert.equal((await fetch(`${srv.url}/metrics`, { method: "POST" })).status, 404);
    } finally {
      await srv.stop();
    }
  });

  test("METRICS=public: anyone, valid text, every family with its type", async () => {
    const srv = await startKorio({ workers: 2, env: { METRICS: "public" } });
    try {
      const r = await get(srv);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("content-type"), CONTENT_TYPE);
      const text = await r.text();
      const fams = checkExposition(text);
      for (const [name, type] of Object.entries(FAMILIES)) {
        assert.equal(fams.get(name)?.type, type, `${name} is a ${type}`);
        assert.ok(fams.get(name).help.length > 10, `${name} has help`);
      }
      for (const name of fams.keys()) assert.ok(name in FAMILIES, `${name} is expected`);
      const parsed = await parseMetrics(text);
      const info = parsed.get("korio_build_info").data[0];
      assert.equal(info.value, 1);
      assert.equal(info.labels.version, VERSION);
      assert.match(info.labels.kore, /^4\.1/);
      for (const lib of ["jansson", "sqlite", "mongoc", "openssl"]) assert.match(info.labels[lib], /^\d+\.\d+/, lib);
      assert.equal(valueOf(parsed, "korio_workers"), 2);
      assert.equal((await fetch(`${srv.url}/metrics`, { method: "POST" })).status, 405);
      const head = await fetch(`${srv.url}/metrics`, { method: "HEAD" });
      assert.equal(head.status, 200);
    } finally {
      await srv.stop();
    }
  });

  test("METRICS_TOKEN: Bearer <token> only, compared whole; 401 otherwise; the token never logged", async () => {
    const srv = await startKorio({ workers: 2, env: { METRICS_TOKEN: TOKEN, WEBSOCKETS_DEBUG: "true" } });
    try {
      for (const headers of [
        {},
        { authorization: "Bearer" },
        { authorization: "Bearer " },
        { authorization: `Bearer ${TOKEN}x` },
        { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
        { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}` },
        { authorization: TOKEN },
        { authorization: "Bearer wrong-token-of-the-same-len" },
      ]) {
        const r = await get(srv, headers);
        assert.equal(r.status, 401, JSON.stringify(headers));
        assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="metrics"');
        assert.doesNotMatch(await r.text(), /korio_/);
      }
      for (const auth of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER  ${TOKEN}`]) {
        const r = await get(srv, { authorization: auth });
        assert.equal(r.status, 200, auth);
        await parseMetrics(await r.text());
      }
      await srv.stop();
      assertNoSecrets(srv.logs(), [TOKEN]);
    } finally {
      await srv.stop();
    }
  });

  test("settings that contradict each other stop start-up, naming the variable, not the token", async () => {
    for (const [env, re] of [
      [{ METRICS: "public", METRICS_TOKEN: TOKEN }, /METRICS=public and METRICS_TOKEN/],
      [{ METRICS_TOKEN: "short" }, /METRICS_TOKEN must be at least 16/],
      [{ METRICS: "token" }, /METRICS=token needs METRICS_TOKEN/],
      [{ METRICS: "yes please" }, /METRICS: expected off, public or token/],
    ]) {
      const srv = await startKorio({ workers: 1, env, wait: false });
      const { code } = await srv.exited;
      assert.notEqual(code, 0, JSON.stringify(env));
      assert.match(srv.logs(), re);
      assertNoSecrets(srv.logs(), [env.METRICS_TOKEN === "short" ? null : env.METRICS_TOKEN]);
    }
  });
});

describe("GET /metrics: counts, both workers", { timeout: 180000 * SLOW }, () => {
  let srv;
  let alice;
  const conns = {};
  const sockets = [];

  // The metrics as worker w answers them.
  const scrape = async (w) => {
    const r = await conns[w].request("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(r.status, 200);
    assert.equal(r.headers["content-type"], CONTENT_TYPE);
    return parseMetrics(r.text);
  };
  // Both workers' answers, which must agree on the series given.
  const scrapeBoth = async (check) => {
    const a = await scrape(1);
    const b = await scrape(2);
    for (const [name, labels] of check) {
      assert.equal(valueOf(a, name, labels), valueOf(b, name, labels), `${name} ${JSON.stringify(labels)}: workers agree`);
    }
    return b;
  };

  // A socket.io-client socket whose connections all go to worker w (or
  // the handshake to w and the rest to the other: relayed); w 0: wherever
  // Kore puts them. It counts the events it gets, by name too.
  const open = (w, transports, relayed = false) => new Promise((resolve, reject) => {
    const agent = w === 0 ? undefined : new PinningAgent(srv.port, (n) => (relayed && n > 0 ? 3 - w : w), S);
    const s = io(srv.url, {
      forceNew: true, reconnection: false, timeout: T, agent, transports,
      upgrade: transports.length > 1, auth: { token: `Bearer ${alice.token}` },
    });
    s.seen = 0;
    s.byName = {};
    s.limited = 0;
    s.onAny((name, arg) => {
      s.seen++;
      s.byName[name] = (s.byName[name] ?? 0) + 1;
      if (name === "error" && arg?.message === "Rate limit exceeded") s.limited++;
    });
    sockets.push(s);
    s.once("connect", () => resolve(s));
    s.once("connect_error", reject);
  });
  const seenByClients = () => sockets.reduce((n, s) => n + s.seen, 0);

  // Connections pinned to each worker, made now: finding one makes
  // Engine.IO sessions (a handshake tells the worker), which must not
  // happen while sessions are being counted.
  const spare = async (want) => {
    const got = [];
    for (const [w, n] of Object.entries(want)) {
      for (let i = 0; i < n; i++) got.push(await pinned(srv.port, Number(w), 200, S));
    }
    for (const c of got) releasePinned(c);
  };

  before(async () => {
    srv = await startKorio({
      workers: 2,
      // A budget that refills slowly enough to count drops exactly.
      env: { METRICS_TOKEN: TOKEN, RATE_LIMIT_RATE: "0.1", RATE_LIMIT_BURST: "20" },
    });
    alice = await signup(srv, "metrics");
    conns[1] = await pinned(srv.port, 1, 200, S);
    conns[2] = await pinned(srv.port, 2, 200, S);
  });
  after(async () => {
    for (const s of sockets) s.close();
    dropPinned(srv?.port);
    await srv?.stop();
  });

  test("process_* cover the parent and both workers", async () => {
    const m = await scrape(1);
    const kids = childStats(srv.child.pid);
    assert.equal(kids.length, 2);
    const fds = kids.reduce((n, k) => n + k.fds, 0) + fs.readdirSync(`/proc/${srv.child.pid}/fd`).length;
    const nfds = valueOf(m, "process_open_fds");
    assert.ok(Math.abs(nfds - fds) <= 8, `process_open_fds ${nfds}, /proc says ${fds}`);
    const rss = kids.reduce((n, k) => n + k.rssKiB * 1024, 0);
    const got = valueOf(m, "process_resident_memory_bytes");
    assert.ok(got > rss * 0.8 && got < rss * 3, `RSS ${got}, workers alone ${rss}`);
    assert.ok(got > Math.max(...kids.map((k) => k.rssKiB * 1024)), "more than one worker's");
    assert.ok(valueOf(m, "process_cpu_seconds_total") > 0);
    const start = valueOf(m, "process_start_time_seconds");
    assert.ok(start > Date.now() / 1000 - 300 && start <= Date.now() / 1000 + 1, `start ${start}`);
  });

  test("requests by route template, method and status, summed over both workers", async () => {
    const todo = await api(srv, "POST", "/todos", { token: alice.token, body: { title: "counted" } });
    assert.equal(todo.status, 201);
    const id = todo.body.data.id;
    const missing = "0123456789abcdef01234567";
    const auth = { authorization: `Bearer ${alice.token}` };
    const series = [
      ["korio_http_requests_total", { route: "/todos/:id", method: "GET", status: "200" }],
      ["korio_http_requests_total", { route: "/todos/:id", method: "GET", status: "404" }],
      ["korio_http_requests_total", { route: "/todos/:id", method: "PUT", status: "405" }],
      ["korio_http_requests_total", { route: "/todos", method: "GET", status: "401" }],
      ["korio_http_requests_total", { route: "other", method: "GET", status: "404" }],
    ];
    const before0 = await scrapeBoth(series);
    const storeBefore = histOf(before0, "korio_store_operation_duration_seconds", { backend: STORE, op: "list" });

    const plan = [[1, 3, 1, 1, 0], [2, 2, 1, 2, 1]]; // worker, 200s, 404s, 401s, 405s
    for (const [w, ok, nf, unauth, bad] of plan) {
      for (let i = 0; i < ok; i++) assert.equal((await conns[w].request(`/todos/${id}`, { headers: auth })).status, 200);
      for (let i = 0; i < nf; i++) assert.equal((await conns[w].request(`/todos/${missing}`, { headers: auth })).status, 404);
      for (let i = 0; i < unauth; i++) assert.equal((await conns[w].request("/todos")).status, 401);
      for (let i = 0; i < bad; i++) {
        assert.equal((await conns[w].request(`/todos/${id}`, { method: "PUT", headers: auth, body: "{}" })).status, 405);
      }
    }
    // Kore closes the connection of a path no route takes: fresh ones.
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${srv.url}/no/such/path`)).status, 404);

    // Kore counts a request when it frees it, which can be just after
    // the client has read the answer: wait (briefly) for the last ones
    // to be counted, then check both workers' exact figures.
    const want = [5, 2, 1, 3, 3];
    const lat = (m) => histOf(m, "korio_http_request_duration_seconds", { route: "/todos/:id", method: "GET" });
    const counted = (m) => want.every((n, i) => valueOf(m, ...series[i]) - valueOf(before0, ...series[i]) >= n) &&
      lat(m).count - lat(before0).count >= 7;
    for (const t0 = Date.now(); !counted(await scrape(1)) && Date.now() - t0 < 5000 * SLOW;) await sleep(20);
    const now = await scrapeBoth(series);
    const delta = (i) => valueOf(now, ...series[i]) - valueOf(before0, ...series[i]);
    assert.equal(delta(0), 5, "GET /todos/:id 200");
    assert.equal(delta(1), 2, "GET /todos/:id 404");
    assert.equal(delta(2), 1, "PUT /todos/:id 405");
    assert.equal(delta(3), 3, "GET /todos 401");
    assert.equal(delta(4), 3, "GET other 404");
    for (const p of [`/todos/${id}`, `/todos/${missing}`, "/no/such/path"]) {
      assert.doesNotMatch(JSON.stringify(now.get("korio_http_requests_total").data), new RegExp(p), "no concrete path");
    }
    assert.equal(lat(now).count - lat(before0).count, 7, "latency observations of GET /todos/:id");
    assert.ok(lat(now).sum > lat(before0).sum);
    // Each GET loads the caller and the todo from the store.
    const store = histOf(now, "korio_store_operation_duration_seconds", { backend: STORE, op: "list" });
    assert.ok(store.count - storeBefore.count >= 14, `store list calls ${store.count - storeBefore.count}`);
    // The scrapes count too: the four before this one, on both workers.
    assert.ok(valueOf(now, "korio_http_requests_total", { route: "/metrics", method: "GET", status: "200" }) >= 3);
  });

  test("sockets by transport, relayed sessions, rooms, events in and out, broadcasts, fan-out, drops", async () => {
    await spare({ 1: 4, 2: 14 });
    const base = await scrapeBoth([["korio_sio_events_received_total", {}]]);
    const d = (m, name, labels = {}) => valueOf(m, name, labels) - valueOf(base, name, labels);

    // A WebSocket on each worker, two polling sockets wherever Kore puts
    // them, and one session whose polls and WebSocket go through the
    // worker that does not own it.
    const ws = [await open(1, ["websocket"]), await open(2, ["websocket"])];
    const polling = [await open(0, ["polling"]), await open(0, ["polling"])];
    const relayed = await open(1, ["polling", "websocket"], true);
    if (relayed.io.engine.transport.name !== "websocket") {
      await new Promise((resolve) => relayed.io.engine.once("upgrade", resolve));
    }
    assert.equal(owner(relayed.io.engine.id), 1);
    assert.equal(owner(ws[0].io.engine.id), 1);
    assert.equal(owner(ws[1].io.engine.id), 2);
    const all = [...ws, ...polling, relayed];
    let emitted = 0;
    for (const s of all) {
      assert.deepEqual(await emitAck(s, "subscribe:todos"), { ok: true });
      emitted++;
    }
    await sleep(600); // presence updates are coalesced (4 a second)

    let m = await scrape(1);
    assert.equal(d(m, "korio_sockets", { transport: "websocket" }), 3, "websockets");
    assert.equal(d(m, "korio_sockets", { transport: "polling" }), 2, "polling");
    const health = await api(srv, "GET", "/realtime/health");
    m = await scrape(2);
    assert.equal(valueOf(m, "korio_sockets", { transport: "websocket" }) + valueOf(m, "korio_sockets", { transport: "polling" }),
      health.body.clients, "korio_sockets adds up to /realtime/health's clients");
    assert.equal(d(m, "korio_relayed_sessions"), 1, "relayed sessions");
    assert.ok(d(m, "korio_relayed_requests_total") >= 2, "relayed requests");
    assert.equal(d(m, "korio_sio_events_received_total"), emitted);

    // A new room on one worker only: one more room.
    const rooms = valueOf(m, "korio_rooms");
    assert.ok(rooms - valueOf(base, "korio_rooms") >= 4, "user: and todos: rooms on both workers");
    const proj = await api(srv, "POST", "/projects", { token: alice.token, body: { name: "metrics" } });
    assert.equal(proj.status, 201);
    assert.deepEqual(await emitAck(ws[0], "join:project", proj.body.data.id), { ok: true });
    emitted++;
    m = await scrape(2);
    assert.equal(valueOf(m, "korio_rooms") - rooms, 1, "one room more");

    // A REST write broadcasts; each broadcast is fanned out on both workers.
    const before1 = await scrape(1);
    const created = await api(srv, "POST", "/todos", { token: alice.token, body: { title: "fan out" } });
    assert.equal(created.status, 201);
    await until(() => all.every((s) => s.byName["todo:created"] === 1), T, "todo:created on every socket");
    const bd = (x) => valueOf(x, "korio_broadcasts_total") - valueOf(before1, "korio_broadcasts_total");
    const fd = (x) => histOf(x, "korio_broadcast_fanout_seconds").count - histOf(before1, "korio_broadcast_fanout_seconds").count;
    let after1;
    for (let i = 0; ; i++) {
      after1 = await scrape(i % 2 + 1);
      if (fd(after1) === 2 * bd(after1) || i > 20) break;
      await sleep(100);
    }
    assert.ok(bd(after1) >= 1, "a broadcast");
    assert.equal(fd(after1), 2 * bd(after1), "one fan-out per broadcast and worker");
    assert.ok(histOf(after1, "korio_broadcast_fanout_seconds").sum > histOf(before1, "korio_broadcast_fanout_seconds").sum);
    assert.ok(histOf(after1, "korio_store_operation_duration_seconds", { backend: STORE, op: "insert" }).count >
      histOf(before1, "korio_store_operation_duration_seconds", { backend: STORE, op: "insert" }).count);

    // Past the budget (20, refilling 0.1 a second): a new socket's CONNECT
    // takes one, so 19 of 30 events pass and 11 are dropped.
    const flood = await open(2, ["websocket"]);
    for (let i = 0; i < 30; i++) flood.emit("metrics:noise", i);
    emitted += 30;
    const dropsBefore = valueOf(before1, "korio_rate_limit_drops_total");
    await until(() => flood.limited === 1, T, "the rate-limit notice");
    await sleep(600);

    // Every event sent reached one of these sockets, and the other way round.
    let final;
    for (let i = 0; ; i++) {
      final = await scrapeBoth([["korio_sio_events_sent_total", {}], ["korio_rate_limit_drops_total", {}]]);
      if (d(final, "korio_sio_events_sent_total") === seenByClients() || i > 20) break;
      await sleep(100);
    }
    assert.equal(valueOf(final, "korio_rate_limit_drops_total") - dropsBefore, 11, "drops");
    assert.equal(d(final, "korio_sio_events_received_total"), emitted, "events received");
    assert.equal(d(final, "korio_sio_events_sent_total"), seenByClients(), "events sent = events the clients got");

    // All closed: the gauges come back.
    for (const s of sockets) s.close();
    for (let i = 0; ; i++) {
      m = await scrape(1 + (i % 2));
      const back = ["websocket", "polling"].every((t) => valueOf(m, "korio_sockets", { transport: t }) <=
        valueOf(base, "korio_sockets", { transport: t })) &&
        valueOf(m, "korio_relayed_sessions") === valueOf(base, "korio_relayed_sessions") &&
        valueOf(m, "korio_rooms") === valueOf(base, "korio_rooms");
      if (back) break;
      if (i > 50) assert.fail(`gauges did not come back: ${JSON.stringify(m.get("korio_sockets").data)}`);
      await sleep(100);
    }
  });
});
