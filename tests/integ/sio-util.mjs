// Shared helpers of the Socket.IO plugin suites (20-29-sio-*): start the
// conformance fixture, socket.io-client sockets that never reconnect unless
// asked, raw Engine.IO over plain HTTP (a fresh TCP connection per request)
// and over WebSocket, Kore's accept lock, and per-worker resource counts.

import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { after, afterEach, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { io } from "socket.io-client";
import WebSocket from "ws";
import { startServer, FIXTURE_BIN, PROXY, SLOW } from "./harness.mjs";

export { SLOW, sleep };

// Every plugin suite runs against one and two workers; behind a proxy
// (run-proxy.mjs) against two, the case with relays between workers.
export const WORKER_COUNTS = PROXY ? [2] : [1, 2];

// The fixture's heartbeat is tight (pingInterval 300 ms, pingTimeout 200
// ms): when this process stalls for longer (a loaded machine, GC), its
// sessions time out for no fault of the server. Runs fn(attempt); if it
// fails while this process's event loop stalled for STALL_MS or more, or
// with an error marked heartbeatOnly (every loss was a ping timeout), runs
// it again (after cleanup()), up to `tries` times. Other failures are
// reported at once, with the longest stall seen.
export const STALL_MS = 150;
export async function retryOnStall(fn, cleanup = () => {}, tries = 3) {
  for (let attempt = 1; ; attempt++) {
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    try {
      return await fn(attempt);
    } catch (e) {
      h.disable();
      const stall = Math.round(h.max / 1e6);
      if (attempt < tries && (stall >= STALL_MS || e?.heartbeatOnly)) {
        const why = e?.heartbeatOnly ? "only heartbeat losses" : `a ${stall} ms event-loop stall`;
        process.stderr.write(`retry after ${why}: ${e.message.split("\n")[0]}\n`);
        await cleanup();
        await sleep(200);
        continue;
      }
      if (e && typeof e === "object") e.message = `${e.message} [attempt ${attempt}, longest event-loop stall ${stall} ms]`;
      throw e;
    } finally {
      h.disable();
    }
  }
}

export const startFixture = (workers, opts = {}) =>
  startServer({ ...opts, bin: FIXTURE_BIN, workers });

// The hooks of a describe() around one fixture: started before its tests
// (onStart gets it), the suite's client sockets closed after each test and
// at the end, then the fixture stopped. Returns those sockets and `it`, a
// test retried when the machine stalls.
export function fixtureSuite(workers, opts, onStart) {
  let srv;
  const sockets = [];
  before(async () => {
    srv = await startFixture(workers, opts);
    onStart(srv);
  });
  afterEach(() => closeAll(sockets));
  after(async () => {
    closeAll(sockets);
    await srv?.stop();
  });
  const it = (name, fn) => test(name, (t) => retryOnStall(() => fn(t), () => closeAll(sockets)));
  return { sockets, it };
}

// A socket.io-client socket on its own Manager, without reconnection unless
// the caller turns it on. `sockets` collects them for closeAll().
export function client(url, opts = {}, sockets) {
  const s = io(url, {
    forceNew: true,
    reconnection: false,
    timeout: 3000 * SLOW,
    ...opts,
  });
  sockets?.push(s);
  return s;
}

export function closeAll(sockets) {
  for (const s of sockets.splice(0)) {
    s.io.opts.reconnection = false;
    s.io.reconnection(false);
    s.disconnect();
    s.io.engine?.close();
  }
}

// Resolves with the arguments of the next `ev` on `em`; rejects after ms.
export function once(em, ev, ms = 2000 * SLOW) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      em.off(ev, on);
      reject(new Error(`no "${ev}" within ${ms} ms`));
    }, ms);
    const on = (...args) => {
      clearTimeout(t);
      resolve(args);
    };
    em.once(ev, on);
  });
}

// Waits for "connect"; a connect_error rejects with that error.
export function connected(s, ms = 3000 * SLOW) {
  if (s.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => done(new Error(`not connected within ${ms} ms`)), ms);
    const ok = () => done();
    const bad = (e) => done(e instanceof Error ? Object.assign(e, { message: describeError(e) }) : new Error(String(e)));
    function done(err) {
      clearTimeout(t);
      s.off("connect", ok);
      s.off("connect_error", bad);
      err ? reject(err) : resolve();
    }
    s.on("connect", ok);
    s.on("connect_error", bad);
  });
}

// An Engine.IO client error with what the transport saw (HTTP status, body).
export function describeError(e) {
  const d = e?.description;
  const parts = [e?.message ?? String(e)];
  if (d !== undefined) parts.push(`description: ${d?.message ?? d}`);
  const ctx = e?.context;
  if (ctx?.status !== undefined) parts.push(`status ${ctx.status} ${JSON.stringify(ctx.responseText ?? "")}`);
  return parts.join("; ");
}

// Records every event of a socket, so nothing is lost between awaits.
export function recorder(s, ev) {
  const got = [];
  const waiters = [];
  s.on(ev, (...args) => {
    got.push(args);
    for (const w of waiters.splice(0)) w();
  });
  return {
    got,
    async until(n, ms = 3000 * SLOW) {
      const deadline = Date.now() + ms;
      while (got.length < n) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`"${ev}": ${got.length}/${n} within ${ms} ms`);
        await new Promise((r) => {
          const t = setTimeout(r, left);
          waiters.push(() => { clearTimeout(t); r(); });
        });
      }
      return got;
    },
  };
}

// Emits with an acknowledgement callback; resolves with all its arguments.
export function ack(s, ev, args, ms = 2000 * SLOW) {
  return new Promise((resolve, reject) => {
    s.timeout(ms).emit(ev, ...args, (err, ...res) => (err ? reject(err) : resolve(res)));
  });
}

// ---- raw Engine.IO over HTTP ------------------------------------------------

// One HTTP request on a fresh TCP connection (agent: false), so that Kore
// may hand it to any worker. Resolves { status, headers, body (Buffer), text }.
export function request(url, { method = "GET", body, headers = {}, timeout = 5000 * SLOW } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false, headers, timeout }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const b = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: res.headers, body: b, text: b.toString() });
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${url}: timeout`)));
    req.on("error", reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

// Writes `head` (and nothing more) on a fresh connection and resolves with
// whatever the server answers before closing (or within ms).
export function rawHttp(port, head, ms = 2000 * SLOW) {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    let got = "";
    const t = setTimeout(() => sock.destroy(), ms);
    sock.on("data", (d) => { got += d; });
    sock.on("error", () => {});
    sock.on("close", () => {
      clearTimeout(t);
      resolve(got);
    });
    sock.write(head);
  });
}

export const eioUrl = (base, path, q = "") =>
  `${base}${path}?EIO=4&transport=polling${q}`;

// Polling handshake; returns the open packet's object.
export async function pollOpen(base, path = "/socket.io/") {
  const r = await request(eioUrl(base, path));
  if (r.status !== 200 || r.text[0] !== "0") {
    throw new Error(`handshake: ${r.status} ${r.text}`);
  }
  return JSON.parse(r.text.slice(1));
}

export async function pollGet(base, path, sid) {
  return request(eioUrl(base, path, `&sid=${sid}`));
}

export async function pollPost(base, path, sid, body) {
  return request(eioUrl(base, path, `&sid=${sid}`), {
    method: "POST",
    body,
    headers: { "content-type": "text/plain;charset=UTF-8" },
  });
}

// "4hello\x1ebAQID" -> ["4hello", Buffer<01 02 03>]
export function decodePayload(text) {
  return text.split("\x1e").map((p) => (p[0] === "b" ? Buffer.from(p.slice(1), "base64") : p));
}

// The worker owning an Engine.IO session: the first two hex digits of its id.
export const owner = (sid) => parseInt(sid.slice(0, 2), 16);

// ---- raw WebSocket ------------------------------------------------------------

// A WebSocket whose messages queue up for next(). Text frames come back as
// strings, binary frames as Buffers. With autoPong (the default) Engine.IO
// pings ("2") are answered at once and counted in .pings, not queued.
export class RawWs {
  constructor(url, { autoPong = true, ...opts } = {}) {
    this.ws = new WebSocket(url, { perMessageDeflate: false, ...opts });
    this.queue = [];
    this.waiters = [];
    this.pings = 0;
    this.closeCode = null;
    this.error = null;
    this.ws.on("message", (data, isBinary) => {
      if (autoPong && !isBinary && data.length === 1 && data[0] === 0x32) {
        this.pings++;
        this.send("3");
        return;
      }
      this.queue.push(isBinary ? Buffer.from(data) : data.toString());
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      this.ws.on("close", (code) => {
        this.closeCode = code;
        this.wake();
        resolve(code);
      });
    });
    this.ws.on("error", (e) => {
      this.error = e;
      this.wake();
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", resolve);
      this.ws.once("error", reject);
      this.ws.once("unexpected-response", (req, res) =>
        reject(Object.assign(new Error(`unexpected response ${res.statusCode}`), { status: res.statusCode })));
    });
    this.opened.catch(() => {});
  }

  wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  // The next message, or an error if none comes within ms or it closed.
  async next(ms = 2000 * SLOW) {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.queue.length) return this.queue.shift();
      if (this.closeCode !== null) throw new Error(`closed (${this.closeCode}) while waiting`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message within ${ms} ms`);
      await new Promise((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }

  send(data) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(data);
  }

  // Resolves with the close code, or rejects if still open after ms.
  async waitClose(ms = 2000 * SLOW) {
    let t;
    const timeout = new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(t);
    }
  }

  close() {
    this.ws.terminate();
  }
}

export const wsUrl = (base, path = "/socket.io/", q = "") =>
  `${base.replace(/^http/, "ws")}${path}?EIO=4&transport=websocket${q}`;

// A WebSocket session on `path` past its open packet: { ws, open }.
export async function wsOpen(base, path = "/socket.io/", opts = {}) {
  const ws = new RawWs(wsUrl(base, path), opts);
  await ws.opened;
  const m = await ws.next();
  if (typeof m !== "string" || m[0] !== "0") throw new Error(`open packet expected, got ${m}`);
  return { ws, open: JSON.parse(m.slice(1)) };
}

// Whether a client WebSocket frame over 64 KiB (Kore's 64-bit frame length
// path) reaches the plugin: a 70 kB message echoed by /engine.io/. Resolves
// { ok, log } with what the server logged about it otherwise.
export async function bigFrameReaches(srv) {
  const { ws } = await wsOpen(srv.url, "/engine.io/");
  const m = "4" + "x".repeat(70000);
  ws.send(m);
  let ok = false;
  try {
    ok = (await ws.next(3000 * SLOW)) === m;
  } catch {
    // closed
  } finally {
    ws.close();
  }
  await sleep(ok ? 0 : 200);
  const log = srv.logs().split("\n").filter((l) => /runtime error|died from|exited with|AddressSanitizer/.test(l)).slice(0, 4);
  return { ok, log: log.join(" | ") };
}

// ---- choosing the worker of a request ------------------------------------------

// Kore's workers take turns accepting connections, unpredictably. A
// keep-alive connection stays on the worker that accepted it, and a
// handshake on it tells which worker that is (a new session's id starts
// with its worker's id). A Pinned connection is such a connection: its
// further requests, or the WebSocket it is handed to, certainly reach
// `worker`, whatever worker owns the session they are about.
export class Pinned {
  constructor(sock, port) {
    this.sock = sock;
    this.port = port;
    this.worker = null;
    this.buf = Buffer.alloc(0);
    this.pending = null;
    this.onData = (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.parse();
    };
    this.onEnd = () => this.fail(new Error("connection closed"));
    sock.on("data", this.onData);
    sock.on("close", this.onEnd);
    sock.on("error", this.onEnd);
    sock.setNoDelay(true);
  }

  static connect(port) {
    return new Promise((resolve, reject) => {
      const sock = net.connect(port, "127.0.0.1");
      sock.once("connect", () => resolve(new Pinned(sock, port)));
      sock.once("error", reject);
    });
  }

  fail(e) {
    const p = this.pending;
    this.pending = null;
    p?.reject(e);
  }

  parse() {
    if (!this.pending) return;
    const end = this.buf.indexOf("\r\n\r\n");
    if (end < 0) return;
    const head = this.buf.subarray(0, end).toString();
    const [status, ...lines] = head.split("\r\n");
    const headers = {};
    for (const l of lines) {
      const k = l.indexOf(":");
      headers[l.slice(0, k).trim().toLowerCase()] = l.slice(k + 1).trim();
    }
    const len = Number(headers["content-length"] ?? 0);
    if (this.buf.length < end + 4 + len) return;
    const body = Buffer.from(this.buf.subarray(end + 4, end + 4 + len));
    this.buf = this.buf.subarray(end + 4 + len);
    const p = this.pending;
    this.pending = null;
    p.resolve({ status: Number(status.split(" ")[1]), headers, body, text: body.toString() });
  }

  // One request at a time on this connection.
  request(path, { method = "GET", body, headers = {}, timeout = 5000 * SLOW } = {}) {
    if (this.pending) throw new Error("one request at a time");
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => this.fail(new Error(`${method} ${path}: timeout`)), timeout);
      this.pending = {
        resolve: (r) => { clearTimeout(t); resolve(r); },
        reject: (e) => { clearTimeout(t); reject(e); },
      };
      const b = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
      let head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${this.port}\r\n`;
      for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
      if (method !== "GET" || b.length) head += `Content-Length: ${b.length}\r\n`;
      this.sock.write(Buffer.concat([Buffer.from(head + "\r\n"), b]));
      this.parse();
    });
  }

  get(path) {
    return this.request(path);
  }

  post(path, body) {
    return this.request(path, { method: "POST", body, headers: { "Content-Type": "text/plain;charset=UTF-8" } });
  }

  // Hands the bare socket over (to ws, or to an http.Agent's caller).
  detach() {
    this.sock.off("data", this.onData);
    this.sock.off("close", this.onEnd);
    this.sock.off("error", this.onEnd);
    return this.sock;
  }

  close() {
    this.sock.destroy();
  }
}

const spare = new Map(); // port -> { worker: [Pinned] }

// A keep-alive connection accepted by `worker`.
export async function pinned(port, worker, tries = 200, probe = "/engine.io/") {
  const pool = spare.get(port) ?? {};
  spare.set(port, pool);
  for (let i = 0; i < tries; i++) {
    const ready = pool[worker]?.pop();
    if (ready && !ready.sock.destroyed) return ready;
    const conns = await Promise.all([0, 1, 2].map(() => Pinned.connect(port)));
    await Promise.all(conns.map(async (c) => {
      const r = await c.get(`${probe}?EIO=4&transport=polling`);
      c.worker = owner(JSON.parse(r.text.slice(1)).sid);
      (pool[c.worker] ??= []).push(c);
    }));
  }
  throw new Error(`no connection accepted by worker ${worker} in ${tries} tries`);
}

// Gives a Pinned connection back for reuse (when its last request is done).
export function releasePinned(c) {
  if (!c.sock.destroyed && !c.pending) spare.get(c.port)?.[c.worker]?.push(c);
}

export function dropPinned(port) {
  for (const list of Object.values(spare.get(port) ?? {})) for (const c of list) c.close();
  spare.delete(port);
}

// An http.Agent (socket.io-client's public `agent` option serves polling
// requests and the WebSocket alike) that sends its n-th connection (from 0)
// to worker pick(n). probe: the Engine.IO path that tells a connection's
// worker (korio has /socket.io/ only).
export class PinningAgent extends http.Agent {
  constructor(port, pick, probe = "/engine.io/") {
    super({ keepAlive: false });
    Object.assign(this, { port, pick, probe, count: 0, workers: [] });
  }

  createConnection(opts, cb) {
    const w = this.pick(this.count++);
    this.workers.push(w);
    pinned(this.port, w, 200, this.probe).then((c) => cb(null, c.detach()), cb);
    return undefined;
  }
}

// A raw WebSocket whose upgrade request reaches `worker`.
export async function pinnedWs(base, port, worker, path, q = "") {
  const c = await pinned(port, worker);
  const sock = c.detach();
  return new RawWs(wsUrl(base, path, q), { createConnection: () => sock });
}

// ---- processes ------------------------------------------------------------------

// The pid of Kore worker `id`, from its start-up line in the log.
export function workerPid(srv, id) {
  const m = new RegExp(`worker ${id} started \\(cpu#\\d+, pid#(\\d+)\\)`).exec(srv.logs());
  if (!m) throw new Error(`worker ${id} not in the log`);
  return Number(m[1]);
}

// { pid, rssKiB, fds } of every child of `ppid` (Kore's workers).
export function childStats(ppid) {
  const out = [];
  for (const p of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, "utf8");
      const ppidOf = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppidOf !== ppid) continue;
      const status = fs.readFileSync(`/proc/${p}/status`, "utf8");
      const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
      const fds = fs.readdirSync(`/proc/${p}/fd`).length;
      out.push({ pid: Number(p), rssKiB, fds });
    } catch {
      // gone meanwhile
    }
  }
  return out.sort((a, b) => a.pid - b.pid);
}

// A socket.io-client connection that must keep working while a test
// misbehaves on other sessions of the same fixture.
export function bystanderOf(getUrl, sockets) {
  let b;
  return {
    async start() {
      b = client(getUrl(), {}, sockets);
      await connected(b);
      return b;
    },
    async works(tag) {
      assert.equal(b.connected, true, `bystander disconnected (${tag})`);
      assert.deepEqual(await ack(b, "message-with-ack", [tag]), [tag]);
    },
  };
}
