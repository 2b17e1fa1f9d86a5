// Graceful drain on SIGTERM (issue 13; src/app/drain.c,
// src/sio/engine/engine_drain.c, patches/12-worker-drain.patch).
//
// 1. Right after SIGTERM /readyz answers 503 {"status":"draining"} while
//    /livez still answers 200 and the process is up (both asked on
//    connections opened before the signal: the listening socket is
//    closed, a new connection is refused), and a slow REST request in
//    flight at the signal (its body still coming) is answered 201; then
//    the process exits 0.
// 2. 500 socket.io-client sockets (460 WebSocket, 20 polling only, 20
//    polling then upgraded) on korio A, two workers. SIGTERM A; korio B
//    starts on the same port with the same DATA_DIR as soon as the port
//    is free. A's sockets are closed spread over DRAIN_SECONDS (the times
//    of their "disconnect" events, never "io server disconnect"), every
//    client reconnects to B by itself, and A exits 0 within DRAIN_SECONDS
//    + 5 s (its own deadline). REST writes (POST /todos) go on every 100 ms during all of it,
//    to whichever process answers (a refused or cut request is retried;
//    it was never answered, so never done).
//    "Delivered once to every client" is taken as Terreno clients see
//    it: on every connect a client subscribes (subscribe:todos, acked),
//    then fetches the list again (GET /todos). Every todo in the store at
//    the end must have reached every client, either as a live
//    todo:created or in the list of a re-sync made after it was written
//    (a write made while the client was between processes, or while it
//    was still on A and the write went to B, whose broadcasts reach only
//    B's sockets); and no client gets the same todo:created twice.
// 3. A second SIGTERM during a drain (DRAIN_SECONDS=30) ends the process
//    at once, exit code 0, with a log line saying so.
// 4. A request that never ends (its body stalls) does not hold the drain:
//    DRAIN_SECONDS + 5 s after the signal the process exits 0, saying so;
//    a bad DRAIN_SECONDS stops start-up with a message naming it.
// 5. The systemd unit waits longer than a drain with the default
//    DRAIN_SECONDS may take (DRAIN_SECONDS + 5 s) before its SIGKILL.
//
// About 25 s on an idle 2-core machine, most of it in 2.

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import readline from "node:readline";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { io } from "socket.io-client";
import { checkLog, KORIO_BIN, SLOW, startKorio, tempDir } from "./harness.mjs";

const DRAIN_SECONDS = 4;
const started = [];
const sockets = [];
let stopWriter = () => {};

// The writer: POST /todos every 100 ms until its stdin closes; prints the
// id of each todo made and when its answer came. A refused or cut
// request is tried again (never answered, so never done).
const WRITER = `
let n = 0, open = true;
process.stdin.on("end", () => { open = false; }).resume();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
while (open) {
  const title = "w" + n++;
  for (;;) {
    try {
      const r = await fetch(process.env.URL + "/todos", {
        method: "POST",
        headers: { authorization: "Bearer " + process.env.TOKEN, "content-type": "application/json" },
        body: JSON.stringify({ title }),
      });
      const j = await r.json();
      if (r.status === 201) {
        process.stdout.write(j.data.id + " " + Date.now() + "\\n");
        break;
      }
    } catch {}
    if (!open) break;
    await sleep(20);
  }
  await sleep(100);
}
`;

after(async () => {
  stopWriter();
  for (const s of sockets.splice(0)) {
    s.io.reconnection(false);
    s.disconnect();
  }
  for (const srv of started) {
    if (srv.child.exitCode === null && srv.child.signalCode === null)
      await srv.stop({ allowBadLog: true });
  }
});

async function korio(opts) {
  const srv = await startKorio(opts);
  started.push(srv);
  return srv;
}

// A keep-alive HTTP/1.1 connection asking one request at a time.
function rawConn(port) {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, "127.0.0.1", () => resolve(c));
    c.once("error", reject);
    c.setEncoding("latin1");
  });
}

function rawAsk(c, head, body = "", ms = 5000 * SLOW) {
  return new Promise((resolve, reject) => {
    let buf = "";
    const t = setTimeout(() => done(new Error(`no answer to ${head.split("\r\n")[0]}; got ${JSON.stringify(buf)}`)), ms);
    const on = (d) => {
      buf += d;
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const len = Number(/content-length: *(\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
      if (buf.length >= end + 4 + len) done(null);
    };
    const closed = () => done(new Error(`closed before an answer; got ${JSON.stringify(buf)}`));
    function done(err) {
      clearTimeout(t);
      c.off("data", on);
      c.off("close", closed);
      if (err) return reject(err);
      const end = buf.indexOf("\r\n\r\n");
      resolve({
        status: Number(buf.slice(9, 12)),
        head: buf.slice(0, end).toLowerCase(),
        body: buf.slice(end + 4),
      });
    }
    c.on("data", on);
    c.once("close", closed);
    c.write(head + body);
  });
}

const get = (p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`;

// Whether a TCP connection to port is refused (nothing listens).
function refused(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, "127.0.0.1");
    c.once("connect", () => { c.destroy(); resolve(false); });
    c.once("error", () => resolve(true));
  });
}

// The spread of times (ms): first to last, and the most in one eighth of
// the drain's window.
function spreadOf(times) {
  const at = [...times].sort((x, y) => x - y);
  const bucket = (DRAIN_SECONDS * 1000) / 8;
  const counts = new Map();
  for (const ms of at) counts.set(Math.floor(ms / bucket), (counts.get(Math.floor(ms / bucket)) ?? 0) + 1);
  return { first: at[0], spread: at[at.length - 1] - at[0], bucket, busiest: Math.max(...counts.values()) };
}

async function signup(url) {
  const email = `drain-${process.pid}-${Date.now()}@example.com`;
  const r = await fetch(`${url}/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: "correct horse battery" }),
  });
  assert.equal(r.status, 200);
  return (await r.json()).data.token;
}

test("SIGTERM: /readyz 503 at once, /livez 200, a request in flight answered, exit 0", async () => {
  const a = await korio({ workers: 1, env: { DRAIN_SECONDS: "3" } });
  const token = await signup(a.url);
  const probeReady = await rawConn(a.port);
  const probeLive = await rawConn(a.port);
  assert.equal((await rawAsk(probeReady, get("/readyz"))).status, 200);
  assert.equal((await rawAsk(probeLive, get("/livez"))).status, 200);

  // A POST whose head and half its body are in before the signal.
  const body = JSON.stringify({ title: "slow upload ".padEnd(200, "x") });
  const slow = await rawConn(a.port);
  const head = `POST /todos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
  slow.write(head + body.slice(0, 100));
  await sleep(200);

  const t0 = Date.now();
  a.child.kill("SIGTERM");
  await a.waitForLog(/drain: started, \d+ sockets, 1 requests in flight/);
  const ready = await rawAsk(probeReady, get("/readyz"));
  assert.equal(ready.status, 503);
  assert.deepEqual(JSON.parse(ready.body), { status: "draining" });
  assert.match(ready.head, /connection: close/);
  const live = await rawAsk(probeLive, get("/livez"));
  assert.equal(live.status, 200);
  assert.equal(a.child.exitCode, null, "still running");
  assert.ok(await refused(a.port), "the listening socket is closed");

  // The rest of the body, a second later: the answer is the usual one.
  await sleep(1000);
  const done = await rawAsk(slow, "", body.slice(100));
  assert.equal(done.status, 201, done.body);
  assert.equal(JSON.parse(done.body).data.title, JSON.parse(body).title);

  const { code, sig } = await a.exited;
  assert.equal(sig, null);
  assert.equal(code, 0);
  assert.ok(Date.now() - t0 < 3000 + 3000 * SLOW, `exited after ${Date.now() - t0} ms`);
  assert.match(a.logs(), /drain: done in \d+\.\d s/);
  checkLog(a.logs());
});

test("SIGTERM: 500 sockets move to the next korio spread over DRAIN_SECONDS, every write delivered once", async () => {
  const env = { DRAIN_SECONDS: String(DRAIN_SECONDS), MAX_CONNECTIONS_PER_ADDRESS: "0" };
  // A logs each session it closes, with the time (JSON lines).
  const a = await korio({ workers: 2, env: { ...env, LOG_FORMAT: "json", WEBSOCKETS_DEBUG: "true" } });
  const dataDir = a.dataDir;
  const token = await signup(a.url);
  const listUrl = `${a.url}/todos?limit=500`;

  // Terreno-style clients: on every connect, subscribe then re-sync.
  const clients = [];
  const N = 500;
  for (let i = 0; i < N; i++) {
    const transports = i < 460 ? ["websocket"] : i < 480 ? ["polling"] : ["polling", "websocket"];
    const s = io(a.url, {
      forceNew: true,
      transports,
      auth: { token: `Bearer ${token}` },
      reconnectionDelay: 300,
      reconnectionDelayMax: 2000,
      timeout: 10000 * SLOW,
    });
    sockets.push(s);
    const cl = { s, transports, live: new Map(), synced: new Set(), connects: 0, drops: [], syncs: 0 };
    s.on("todo:created", (t) => cl.live.set(t.id, (cl.live.get(t.id) ?? 0) + 1));
    s.on("disconnect", (reason) => cl.drops.push({ at: Date.now(), reason }));
    s.on("connect", async () => {
      cl.connects++;
      try {
        const ack = await s.timeout(20000 * SLOW).emitWithAck("subscribe:todos");
        assert.deepEqual(ack, { ok: true });
        for (let tries = 0; ; tries++) {
          try {
            const r = await fetch(listUrl, { headers: { authorization: `Bearer ${token}` } });
            const j = await r.json();
            for (const t of j.data) cl.synced.add(t.id);
            cl.syncs++;
            break;
          } catch (e) {
            if (tries > 50) throw e;
            await sleep(100);
          }
        }
      } catch (e) {
        cl.error = e;
      }
    });
    clients.push(cl);
    if (i % 50 === 49) await sleep(50);
  }
  const deadline = Date.now() + 30000 * SLOW;
  while (clients.some((c) => c.syncs < 1)) {
    assert.ok(Date.now() < deadline, `${clients.filter((c) => c.syncs < 1).length} clients never synced`);
    await sleep(50);
  }

  // Writes, continuously, to whichever process answers, from a process
  // of their own (this one is busy with 500 clients).
  const writer = spawn(process.execPath, ["--input-type=module", "-e", WRITER], {
    env: { ...process.env, URL: a.url, TOKEN: token },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const written = [];
  readline.createInterface({ input: writer.stdout }).on("line", (l) => {
    const [id, at] = l.split(" ");
    written.push({ id, at: Number(at) });
  });
  const writerDone = new Promise((r) => writer.once("exit", r));
  stopWriter = () => writer.stdin.end();
  await sleep(300);

  const t0 = Date.now();
  a.child.kill("SIGTERM");
  while (!(await refused(a.port))) {
    assert.ok(Date.now() - t0 < 2000 * SLOW, "A still listens");
    await sleep(20);
  }
  const b = await korio({ workers: 2, env: { ...env, DRAIN_SECONDS: "1" }, dataDir, port: a.port });
  const { code, sig } = await a.exited;
  const exitMs = Date.now() - t0;
  assert.equal(sig, null);
  assert.equal(code, 0, a.logs());
  // Its own deadline is DRAIN_SECONDS + 5 s; on a quiet machine it is done
  // a few hundred ms after the last socket.
  assert.ok(exitMs < DRAIN_SECONDS * 1000 + 5000 * SLOW, `A exited after ${exitMs} ms; log:\n${a.logs()}`);
  assert.match(a.logs(), /"drain: started, \d+ sockets/);
  assert.match(a.logs(), /drain: done in/);
  checkLog(a.logs());

  // Every client back (on B), re-synced, then a few more writes on B.
  const back = Date.now() + 30000 * SLOW;
  while (clients.some((c) => c.syncs < 2 || !c.s.connected)) {
    const left = clients.filter((c) => c.syncs < 2 || !c.s.connected);
    assert.ok(Date.now() < back, `${left.length} clients not back on B: ` + JSON.stringify(left.slice(0, 5).map((c) => ({
      t: c.transports.join(","), connected: c.s.connected, connects: c.connects, syncs: c.syncs,
      drops: c.drops.map((d) => `${d.reason}@${d.at - t0}`), error: c.error?.message,
    }))));
    await sleep(50);
  }
  await sleep(500);
  stopWriter();
  await writerDone;

  const r = await fetch(listUrl, { headers: { authorization: `Bearer ${token}` } });
  const all = (await r.json()).data.map((t) => t.id);
  for (const w of written) assert.ok(all.includes(w.id), `written ${w.id} is in the store`);
  const during = written.filter((w) => w.at >= t0 && w.at <= t0 + exitMs).length;
  assert.ok(during >= 10, `only ${during} writes during the drain`);

  // Wait until each todo reached each client, live or in a re-sync.
  const missing = () => clients.reduce((n, c) => n + all.filter((id) => !c.live.has(id) && !c.synced.has(id)).length, 0);
  const settle = Date.now() + 5000 * SLOW;
  while (missing() > 0 && Date.now() < settle) await sleep(100);
  assert.equal(missing(), 0, "every write reached every client");
  for (const c of clients) {
    assert.equal(c.error, undefined);
    for (const [id, n] of c.live) assert.equal(n, 1, `todo ${id} received ${n} times`);
  }

  // How A let them go: by closing the transport, spread over the drain,
  // as A closed them (its log) and as the clients saw it (later, when
  // this busy process got to it).
  const drops = clients.map((c) => c.drops[0]);
  assert.ok(drops.every((d) => d !== undefined), "every client was disconnected");
  for (const d of drops) assert.notEqual(d.reason, "io server disconnect");
  const closed = a.logs().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
    .filter((l) => /^eio: session \S+ closed: server shutting down$/.test(l.msg)).map((l) => Date.parse(l.ts) - t0);
  assert.equal(closed.length, N, "A closed every session itself");
  const seen = spreadOf(drops.map((d) => d.at - t0));
  const made = spreadOf(closed);
  process.stderr.write(`48-drain: A closed ${N} sessions over ${made.spread} ms (first ${made.first} ms, busiest ` +
    `${made.bucket} ms: ${made.busiest}), clients saw it over ${seen.spread} ms (busiest: ${seen.busiest}); ` +
    `${written.length} writes, ${during} during the drain; A exited after ${exitMs} ms: ` +
    a.logs().split("\n").filter((l) => /drain: (sockets|done)/.test(l)).map((l) => JSON.parse(l).msg).join("; ") + "\n");
  assert.ok(made.spread >= DRAIN_SECONDS * 1000 * 0.75, `closes spread over ${made.spread} ms only`);
  assert.ok(made.busiest <= N * 0.25, `${made.busiest} of ${N} closes within ${made.bucket} ms`);
  assert.ok(seen.spread >= DRAIN_SECONDS * 1000 * 0.5, `disconnects seen over ${seen.spread} ms only`);

  for (const s of sockets.splice(0)) {
    s.io.reconnection(false);
    s.disconnect();
  }
  await b.stop();
});

test("SIGTERM twice: the second one ends the drain at once, exit 0", async () => {
  const a = await korio({ workers: 2, env: { DRAIN_SECONDS: "30" } });
  const token = await signup(a.url);
  const mine = [];
  for (let i = 0; i < 20; i++) {
    const s = io(a.url, { forceNew: true, transports: ["websocket"], reconnection: false, auth: { token: `Bearer ${token}` } });
    sockets.push(s);
    mine.push(s);
  }
  await Promise.all(mine.map((s) => new Promise((res) => (s.connected ? res() : s.once("connect", res)))));

  a.child.kill("SIGTERM");
  await a.waitForLog(/drain: started/);
  await sleep(300);
  assert.equal(a.child.exitCode, null, "draining");
  const t1 = Date.now();
  a.child.kill("SIGTERM");
  const { code, sig } = await a.exited;
  assert.equal(sig, null);
  assert.equal(code, 0);
  assert.ok(Date.now() - t1 < 2000 * SLOW, `exited ${Date.now() - t1} ms after the second SIGTERM`);
  assert.match(a.logs(), /drain: cut short by a signal after \d+\.\d s, \d+ sockets/);
  checkLog(a.logs());
});

test("SIGTERM: a stalled request holds the drain DRAIN_SECONDS + 5 s at most; a bad DRAIN_SECONDS is refused", async () => {
  const a = await korio({ workers: 1, env: { DRAIN_SECONDS: "0", HTTP_BODY_TIMEOUT: "60" } });
  const token = await signup(a.url);
  const stalled = await rawConn(a.port);
  stalled.write(`POST /todos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
    `Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"title":`);
  await sleep(200);
  const t0 = Date.now();
  a.child.kill("SIGTERM");
  const { code, sig } = await a.exited;
  const ms = Date.now() - t0;
  assert.equal(sig, null);
  assert.equal(code, 0);
  assert.ok(ms >= 4500 && ms < 5000 + 3000 * SLOW, `exited after ${ms} ms`);
  assert.match(a.logs(), /drain: timed out after 5\.\d s, 0 sockets and 1 requests left/);
  checkLog(a.logs());
  stalled.destroy();

  const dir = tempDir();
  const bad = spawnSync(KORIO_BIN, ["-fnr"], {
    env: { PATH: process.env.PATH, DATA_DIR: dir, PORT: "1", DRAIN_SECONDS: "-1" },
    cwd: dir, encoding: "utf8", timeout: 10000 * SLOW,
  });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stdout + bad.stderr, /DRAIN_SECONDS: expected a number from 0 to 3600, got '-1'/);
});

test("the systemd unit's TimeoutStopSec is above the default drain", () => {
  const root = new URL("../../", import.meta.url).pathname;
  const unit = fs.readFileSync(`${root}pkg/korio.service`, "utf8");
  const env = fs.readFileSync(`${root}pkg/korio.env`, "utf8");
  const stop = Number(/^TimeoutStopSec=(\d+)s$/m.exec(unit)?.[1]);
  const drain = Number(/^#DRAIN_SECONDS=(\d+)$/m.exec(env)?.[1]);
  assert.ok(drain > 0 && stop > drain + 5, `TimeoutStopSec=${stop}s, DRAIN_SECONDS=${drain}`);
});
