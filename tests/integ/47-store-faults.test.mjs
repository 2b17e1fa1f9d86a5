// Store faults (issue 13):
//
// MongoDB unreachable: this file starts its own CongoDB (tests/congo, as
// run-mongo.mjs does) with a persist file, stops it under a running
// korio, and checks that REST answers 503 with the error body and a
// Retry-After within 2 s (reads and writes), that /readyz answers 503 as
// fast, that an open Socket.IO connection stays up, and that everything
// works again, without restarting korio, once CongoDB is back on the same
// port with the same data.
//
// SQLite on a full disk: DATA_DIR on a 2 MB tmpfs (needs root and mount;
// skipped otherwise), filled up with a filler file: writes answer 507
// with the error body, reads go on, writes work again once the filler is
// gone, and PRAGMA integrity_check says ok after korio stopped.

import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { io } from "socket.io-client";
import { restClient, SLOW, startKorio, tempDir } from "./harness.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const congoDir = path.join(root, "tests/congo");
const LIMIT_MS = 2000;	// the bound on a failing answer

const cleanups = [];
after(async () => {
  for (const f of cleanups.reverse()) {
    try {
      await f();
    } catch (e) {
      console.error(`cleanup: ${e.message}`);
    }
  }
});

// Starts CongoDB on port (0: any) persisting to file; { child, port, uri }.
function startCongo(port, file) {
  const child = spawn(process.execPath, [path.join(congoDir, "launcher.mjs"), String(port), file], {
    cwd: congoDir,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("CongoDB did not start in 30 s")), 30000);
    child.on("exit", (code) => reject(new Error(`CongoDB exited (${code}) before READY`)));
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      const m = /^READY mongodb:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        resolve({ child, port: Number(m[1]), uri: `mongodb://127.0.0.1:${m[1]}/` });
      }
    });
  });
}

async function stopCongo(c) {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return;
  const exited = new Promise((r) => c.child.once("exit", r));
  c.child.kill("SIGTERM");
  await exited;
}

// A request and how long its answer took.
async function timed(fn) {
  const t0 = performance.now();
  const r = await fn();
  return { ...r, ms: performance.now() - t0 };
}

function assertUnavailable(r, what) {
  assert.equal(r.status, 503, `${what}: ${r.status} ${r.text}`);
  assert.ok(r.ms < LIMIT_MS, `${what} took ${Math.round(r.ms)} ms`);
  assert.equal(r.body.status, 503, what);
  assert.equal(r.body.title, "Service Unavailable", what);
  assert.equal(typeof r.body.detail, "string", what);
  assert.ok(Number(r.headers.get("retry-after")) > 0, `${what}: Retry-After`);
}

test("MongoDB unreachable: 503 within 2 s, sockets stay up, recovery by itself", { timeout: 120000 * SLOW }, async () => {
  const setup = spawnSync("sh", [path.join(congoDir, "setup.sh")], { stdio: ["ignore", "inherit", "inherit"] });
  assert.equal(setup.status, 0, "tests/congo/setup.sh failed");

  const T0 = Date.now();
  const step = (what) => console.log(`# ${what} at ${Date.now() - T0} ms`);
  const dir = tempDir("korio-congo-");
  const file = path.join(dir, "data.ejson");
  let congo = await startCongo(0, file);
  cleanups.push(() => stopCongo(congo));
  const port = congo.port;

  const srv = await startKorio({ workers: 1, env: { MONGODB_URI: `${congo.uri}korio_faults` } });
  cleanups.push(() => srv.stop());
  const api = restClient(srv.url);
  step("korio up");

  const u = await api.signup("faults@example.com");
  const t = await api.post("/todos", { title: "before" }, { token: u.token });
  assert.equal(t.status, 201, t.text);
  assert.equal((await api.get("/readyz")).status, 200);

  const sock = io(srv.url, { forceNew: true, reconnection: false, transports: ["websocket"], auth: { token: u.token } });
  cleanups.push(() => sock.disconnect());
  await new Promise((resolve, reject) => {
    sock.once("connect", resolve);
    sock.once("connect_error", reject);
  });
  let disconnected = null;
  sock.on("disconnect", (why) => { disconnected = why; });

  step("socket up");
  await stopCongo(congo);
  step("congo stopped");

  const auth = { token: u.token };
  assertUnavailable(await timed(() => api.get("/todos", auth)), "GET /todos");
  assertUnavailable(await timed(() => api.get(`/todos/${t.body.data.id}`, auth)), "GET /todos/:id");
  assertUnavailable(await timed(() => api.post("/todos", { title: "down" }, auth)), "POST /todos");
  assertUnavailable(await timed(() => api.patch(`/todos/${t.body.data.id}`, { completed: true }, auth)), "PATCH /todos/:id");
  assertUnavailable(await timed(() => api.get("/auth/me", auth)), "GET /auth/me");
  const ready = await timed(() => api.get("/readyz"));
  assert.equal(ready.status, 503, ready.text);
  assert.ok(ready.ms < LIMIT_MS, `/readyz took ${Math.round(ready.ms)} ms`);
  assert.equal((await api.get("/livez")).status, 200);

  // Concurrent requests all fail fast too.
  const many = await Promise.all(Array.from({ length: 6 }, () => timed(() => api.get("/todos", auth))));
  for (const r of many) assertUnavailable(r, "concurrent GET /todos");

  assert.equal(disconnected, null, "the socket stayed up");
  assert.ok(sock.connected);

  step("checks done");
  congo = await startCongo(port, file);
  step("congo restarted");
  const deadline = Date.now() + 20000 * SLOW;
  let list;
  for (;;) {
    list = await api.get("/todos", auth);
    if (list.status === 200 || Date.now() > deadline) break;
    await sleep(200);
  }
  assert.equal(list.status, 200, `no recovery: ${list.status} ${list.text}`);
  console.log(`# recovered ${Date.now() - (deadline - 20000 * SLOW)} ms after CongoDB restarted`);
  assert.deepEqual(list.body.data.map((x) => x.title), ["before"]);
  assert.equal((await api.get("/readyz")).status, 200);
  const again = await api.post("/todos", { title: "after" }, auth);
  assert.equal(again.status, 201, again.text);
  assert.equal(disconnected, null, "the socket stayed up");
  assert.ok(sock.connected);
  sock.disconnect();
});

test("SQLite on a full disk: 507 for writes, reads go on, intact, writes again once freed", { timeout: 120000 * SLOW }, async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip("needs root to mount a tmpfs");
    return;
  }
  const dataDir = tempDir("korio-full-");
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", dataDir], { stdio: "pipe" });
  } catch (e) {
    t.skip(`cannot mount a tmpfs: ${String(e.stderr ?? e.message).trim()}`);
    return;
  }
  cleanups.push(() => execFileSync("umount", ["-l", dataDir]));

  const srv = await startKorio({ workers: 1, dataDir, mongo: false, env: { MONGODB_URI: undefined } });
  let stopped = false;
  cleanups.push(() => (stopped ? undefined : srv.stop()));
  const api = restClient(srv.url);
  const u = await api.signup("full@example.com");
  const auth = { token: u.token };
  const first = await api.post("/todos", { title: "kept" }, auth);
  assert.equal(first.status, 201, first.text);

  // Fill what is left with a filler file (tmpfs refuses past its size).
  const filler = path.join(dataDir, "filler");
  const fd = fs.openSync(filler, "w");
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (e) {
    assert.equal(e.code, "ENOSPC");
  }
  fs.closeSync(fd);

  // Big titles so the WAL needs new space soon.
  const title = (i) => `${i} ${"x".repeat(480)}`;
  let full = null;
  const ok = [];
  for (let i = 0; i < 200 && full === null; i++) {
    const r = await api.post("/todos", { title: title(i) }, auth);
    if (r.status === 201) ok.push(r.body.data);
    else full = r;
  }
  assert.ok(full !== null, "no write failed on a full disk");
  assert.equal(full.status, 507, full.text);
  assert.equal(full.body.status, 507);
  assert.equal(full.body.title, "Insufficient Storage");
  assert.match(full.body.detail, /space/);
  // Updates and deletes need space too.
  for (const r of [
    await api.patch(`/todos/${first.body.data.id}`, { title: title("patched") }, auth),
    await api.del(`/todos/${first.body.data.id}`, auth),
  ]) {
    assert.equal(r.status, 507, r.text);
    assert.equal(r.body.title, "Insufficient Storage");
  }

  // Reads go on, and see every acknowledged write.
  const list = await api.get("/todos?limit=500", auth);
  assert.equal(list.status, 200, list.text);
  assert.equal(list.body.total, 1 + ok.length);
  const one = await api.get(`/todos/${first.body.data.id}`, auth);
  assert.equal(one.status, 200, one.text);
  assert.equal((await api.get("/auth/me", auth)).status, 200);

  fs.unlinkSync(filler);
  const again = await api.post("/todos", { title: "after" }, auth);
  assert.equal(again.status, 201, again.text);
  const patched = await api.patch(`/todos/${first.body.data.id}`, { completed: true }, auth);
  assert.equal(patched.status, 200, patched.text);

  await srv.stop();
  stopped = true;
  const check = execFileSync("sqlite3", [path.join(dataDir, "korio.db"), "PRAGMA integrity_check"], { encoding: "utf8" });
  assert.equal(check.trim(), "ok");
  const n = execFileSync("sqlite3", [path.join(dataDir, "korio.db"), "SELECT count(*) FROM todos"], { encoding: "utf8" });
  assert.equal(Number(n.trim()), 2 + ok.length);
});
