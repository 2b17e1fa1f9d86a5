// bench/soak.mjs: the soak run (make soak, make soak-ci; issue 13).
//
// Starts the real ./korio (WORKERS=2, the embedded SQLite store) and keeps
// SOAK_SOCKETS (5000) Socket.IO sockets churning for SOAK_MINUTES: each
// socket connects over WebSocket (raw Engine.IO 4 / Socket.IO 5 on the `ws`
// package, no socket.io-client: 5000 of those would take the CPU korio
// needs), authenticates as one of SOAK_USERS users (signed up and logged in
// at the start), sends subscribe:todos, join:project (its user's project)
// and Terreno's subscribe:model "todos", waits for the three acks, lives
// 15 to 45 s receiving events and answering pings, then leaves (half with a
// Socket.IO DISCONNECT and a WebSocket close, half by dropping the TCP
// connection) and comes back 0.2 to 2 s later. Sockets come from
// SOAK_ADDRS loopback addresses (127.0.0.2...) so no address nears
// MAX_CONNECTIONS_PER_ADDRESS (256). Two writers POST, PATCH and DELETE
// todos in the users' projects throughout (SOAK_WRITES_PER_S in all).
//
// The run is cut into cycles (5 minutes in a 30-minute run, 30 s in a
// 2-minute one); at the end of each the churn pauses: every socket leaves,
// the writers stop, and every korio process must come back to the file
// descriptors it had at the first pause (waited for, up to 30 s; the first
// cycle opens the store connections of the workers' threads for good).
// RSS and fds of every korio process (the parent and each worker, from
// /proc) are sampled every 10 s into bench/out/soak-<stamp>.csv, plotted
// into soak-<stamp>.png (gnuplot). After the warm-up (the first third of
// the run, at least 40 s) the bounds are:
//   - fds at every pause equal the first pause's, in every process;
//   - runs of 10 minutes or more: the least-squares RSS slope over the
//     churn samples after warm-up is under SOAK_SLOPE_MIB (1) MiB per 10
//     minutes, per process;
//   - every run: RSS at the last pause minus RSS at the first pause after
//     warm-up, per cycle between them, is under SOAK_CYCLE_MIB (2) MiB per
//     process (a 30-s cycle is ~7,000 connections, ~3,500 a worker: a
//     leak of 1 KiB per connection adds 3.4-4.0 MiB a cycle, a healthy
//     korio 0.3-0.6);
//   - no refused handshake, CONNECT_ERROR, nack, stuck handshake or
//     unexpected close; every REST write answered 2xx; events received;
//     no worker restarted; no crash or sanitizer line in korio's log.
// Exit 0 when all hold, 1 otherwise, with the reasons.

import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { spawn, execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const WebSocket = createRequire(path.join(ROOT, "tests", "package.json"))("ws");

const num = (name, def) => {
  const v = process.env[name];
  if (v === undefined || v === "") return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}: not a number: ${v}`);
  return n;
};

const MINUTES = num("SOAK_MINUTES", 30);
const TOTAL_S = MINUTES * 60;
const SOCKETS = num("SOAK_SOCKETS", 5000);
const USERS = num("SOAK_USERS", 20);
const PROJECTS = num("SOAK_PROJECTS", 5);
const ADDRS = num("SOAK_ADDRS", 30);
const WRITES_PER_S = num("SOAK_WRITES_PER_S", 4);
const CYCLE_S = num("SOAK_CYCLE_S", Math.max(30, Math.min(300, Math.round(TOTAL_S / 6))));
const WARMUP_S = num("SOAK_WARMUP_S", Math.max(40, TOTAL_S / 3));
const SAMPLE_S = num("SOAK_SAMPLE_S", 10);
const SLOPE_MIB = num("SOAK_SLOPE_MIB", 1);
const CYCLE_MIB = num("SOAK_CYCLE_MIB", 2);
const LIFE_MIN_S = num("SOAK_LIFE_MIN_S", 15);
const LIFE_MAX_S = num("SOAK_LIFE_MAX_S", 45);
const INFLIGHT = num("SOAK_INFLIGHT", 100);
const SETTLE_S = 30;
const KORIO = path.resolve(process.env.KORIO_BIN ?? path.join(ROOT, "korio"));
const STAMP = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
const OUT = path.resolve(process.env.SOAK_OUT ?? path.join(ROOT, "bench", "out"));
const BASE = path.join(OUT, `soak-${MINUTES}min-${STAMP}`);
const PASSWORD = "soak horse battery staple";

const T0 = Date.now();
const elapsed = () => (Date.now() - T0) / 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rand = (a, b) => a + Math.random() * (b - a);
const log = (...a) => console.log(`soak [${elapsed().toFixed(0).padStart(5)}s]`, ...a);

fs.mkdirSync(OUT, { recursive: true });

// ---- korio ------------------------------------------------------------------

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const BAD_LOG = [/AddressSanitizer/, /LeakSanitizer/, /runtime error:/, /sandbox violation/,
  /died from/, /worker \[wrk \d+\] \(\d+\) exited with status/];

const port = await freePort();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "korio-soak-"));
const logFile = `${BASE}.log`;
const logFd = fs.openSync(logFile, "w");
const korio = spawn(KORIO, ["-fnr"], {
  cwd: dataDir,
  env: {
    PATH: process.env.PATH,
    PORT: String(port),
    BIND: "127.0.0.1",
    WORKERS: "2",
    DATA_DIR: dataDir,
    TOKEN_EXPIRES_IN: "24h",
    ...(process.env.SOAK_KORIO_ENV ? JSON.parse(process.env.SOAK_KORIO_ENV) : {}),
  },
  stdio: ["ignore", logFd, logFd],
});
let korioExit = null;
korio.on("exit", (code, sig) => { korioExit = { code, sig }; });
const BASE_URL = `http://127.0.0.1:${port}`;

function request(method, p, body, token) {
  return new Promise((resolve) => {
    const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
    const req = http.request({
      host: "127.0.0.1", port, method, path: p, agent: false,
      headers: {
        ...(data ? { "content-type": "application/json", "content-length": data.length } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        connection: "close",
      },
      timeout: 30000,
    }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
        resolve({ status: res.statusCode, json, text });
      });
      res.on("error", (e) => resolve({ status: 0, text: String(e) }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve({ status: 0, text: String(e) }));
    if (data) req.write(data);
    req.end();
  });
}

async function waitHealthy() {
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    if (korioExit) break;
    const r = await request("GET", "/healthz");
    if (r.status === 200) return;
    await sleep(100);
  }
  throw new Error(`korio did not become healthy; log: ${logFile}`);
}

// ---- /proc -------------------------------------------------------------------

function procStat(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return { state: f[0], ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
}

function korioProcs() {
  const procs = [{ pid: korio.pid, name: "parent" }];
  for (const p of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const st = procStat(p);
      if (st.ppid !== korio.pid || st.state === "Z") continue;
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, "utf8");
      const m = /\[([^\]]+)\]/.exec(cmd);
      procs.push({ pid: Number(p), name: m ? m[1].replace(/\s+/g, "") : `pid${p}` });
    } catch { /* gone */ }
  }
  return procs.sort((a, b) => a.name.localeCompare(b.name));
}

const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

function procSample(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
  return { rss, fds, cpu: procStat(pid).ticks / CLK_TCK };
}

// ---- users and projects ------------------------------------------------------

const users = [];   // { i, id, token, project }
const projects = [];

async function setup() {
  const queue = [...Array(USERS).keys()];
  await Promise.all([0, 1, 2, 3].map(async () => {
    while (queue.length) {
      const i = queue.shift();
      const email = `soak-${i}@example.com`;
      let r = await request("POST", "/auth/signup", { email, password: PASSWORD });
      if (r.status !== 200) throw new Error(`signup ${email}: ${r.status} ${r.text}`);
      r = await request("POST", "/auth/login", { email, password: PASSWORD });
      if (r.status !== 200) throw new Error(`login ${email}: ${r.status} ${r.text}`);
      users[i] = { i, id: r.json.data.userId, token: r.json.data.token, todos: [] };
    }
  }));
  for (let p = 0; p < PROJECTS; p++) {
    const members = users.filter((u) => u.i % PROJECTS === p);
    const r = await request("POST", "/projects",
      { name: `soak ${p}`, members: members.map((u) => u.id) }, members[0].token);
    if (r.status !== 201) throw new Error(`project ${p}: ${r.status} ${r.text}`);
    projects[p] = r.json.data.id;
    for (const u of members) u.project = projects[p];
  }
}

// ---- sockets -------------------------------------------------------------------

const stats = {
  connects: 0, leaves: 0, clean: 0, dropped: 0, refused: 0, wsErrors: 0, connectErrors: 0,
  nacks: 0, unexpectedClose: 0, stuck: 0, serverDisconnects: 0, pings: 0,
  events: {}, eventsTotal: 0, writes: 0, writeErrors: 0,
};
const problems = [];
function problem(what) {
  if (problems.length < 20) problems.push(`${elapsed().toFixed(0)}s ${what}`);
}

let running = false;    // sockets may (re)connect
let inflight = 0;       // handshakes under way
const waiting = [];     // slots waiting for a handshake slot
const slots = [];
let open = 0;           // sockets past their three acks

function startSlot(s) {
  if (!running || s.ws) return;
  if (inflight >= INFLIGHT) {
    if (!s.queued) { s.queued = true; waiting.push(s); }
    return;
  }
  inflight++;
  s.handshaking = true;
  s.acks = 0;
  s.ready = false;
  s.leaving = false;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, {
    localAddress: `127.0.0.${2 + (s.i % ADDRS)}`,
    perMessageDeflate: false,
    handshakeTimeout: 30000,
  });
  s.ws = ws;
  s.stuck = setTimeout(() => {
    stats.stuck++;
    problem(`socket ${s.i}: no CONNECT and acks within 30 s`);
    leave(s, false);
  }, 30000);
  ws.on("message", (data) => onPacket(s, data.toString()));
  ws.on("unexpected-response", (_req, res) => {
    stats.refused++;
    problem(`socket ${s.i}: handshake answered ${res.statusCode}`);
    s.leaving = true;
    ws.terminate();
  });
  ws.on("error", (e) => {
    if (s.leaving) return;
    stats.wsErrors++;
    problem(`socket ${s.i}: ${e.message}`);
  });
  ws.on("close", () => {
    if (!s.leaving) {
      stats.unexpectedClose++;
      problem(`socket ${s.i}: closed by the server (ready=${s.ready})`);
    }
    handshakeDone(s);
    clearTimeout(s.stuck);
    clearTimeout(s.life);
    if (s.ready) open--;
    s.ready = false;
    s.ws = null;
    if (running) s.again = setTimeout(() => startSlot(s), rand(200, 2000));
    if (onAllClosed && open === 0 && slots.every((x) => !x.ws)) onAllClosed();
  });
}

function handshakeDone(s) {
  if (!s.handshaking) return;
  s.handshaking = false;
  inflight--;
  while (inflight < INFLIGHT && waiting.length) {
    const n = waiting.shift();
    n.queued = false;
    startSlot(n);
  }
}

function onPacket(s, p) {
  const ws = s.ws;
  if (!ws) return;
  if (p === "2") { stats.pings++; ws.send("3"); return; }
  if (p[0] === "0") {
    ws.send(`40${JSON.stringify({ token: `Bearer ${s.user.token}` })}`);
    return;
  }
  if (p.startsWith("40")) {
    ws.send('420["subscribe:todos"]');
    ws.send(`421["join:project",${JSON.stringify(s.user.project)}]`);
    ws.send('422["subscribe:model","todos"]');
    return;
  }
  if (p.startsWith("44")) {
    stats.connectErrors++;
    problem(`socket ${s.i}: CONNECT_ERROR ${p.slice(2, 120)}`);
    leave(s, false);
    return;
  }
  if (p.startsWith("43")) {
    const m = /^43(\d+)(.*)$/.exec(p);
    let arg = null;
    try { arg = JSON.parse(m[2])[0]; } catch { /* below */ }
    if (!arg || arg.error !== undefined) {
      stats.nacks++;
      problem(`socket ${s.i}: ack ${p.slice(0, 120)}`);
    }
    if (++s.acks === 3) {
      s.ready = true;
      open++;
      stats.connects++;
      clearTimeout(s.stuck);
      handshakeDone(s);
      s.life = setTimeout(() => leave(s, Math.random() < 0.5), rand(LIFE_MIN_S, LIFE_MAX_S) * 1000);
    }
    return;
  }
  if (p.startsWith("42")) {
    const m = /^42\["([^"]+)"/.exec(p);
    const name = m ? m[1] : "?";
    stats.events[name] = (stats.events[name] ?? 0) + 1;
    stats.eventsTotal++;
    return;
  }
  if (p.startsWith("41")) { stats.serverDisconnects++; return; }
}

// clean: a Socket.IO DISCONNECT and a WebSocket close; otherwise the TCP
// connection is dropped (as a vanished client: a lost session for
// Socket.IO's connection-state recovery).
function leave(s, clean) {
  const ws = s.ws;
  if (!ws || s.leaving) return;
  s.leaving = true;
  stats.leaves++;
  if (clean && ws.readyState === WebSocket.OPEN) {
    stats.clean++;
    ws.send("41");
    ws.close(1000);
    setTimeout(() => { if (s.ws === ws) ws.terminate(); }, 10000);
  } else {
    stats.dropped++;
    ws.terminate();
  }
}

let onAllClosed = null;

async function pauseSockets() {
  running = false;
  for (const s of slots) {
    clearTimeout(s.again);
    s.queued = false;
  }
  waiting.length = 0;
  if (slots.every((x) => !x.ws)) return;
  const done = new Promise((r) => { onAllClosed = r; });
  for (const s of slots) if (s.ws) leave(s, s.ready);
  const t = setTimeout(() => { problem("sockets still open 30 s after the pause"); onAllClosed?.(); }, 30000);
  await done;
  clearTimeout(t);
  onAllClosed = null;
}

function resumeSockets() {
  running = true;
  for (const s of slots) startSlot(s);
}

// ---- REST writers ----------------------------------------------------------------

let writing = false;
let writers = [];

async function writer(w) {
  const nw = 2;
  while (writing) {
    const t = Date.now();
    const u = users[Math.floor(Math.random() * users.length)];
    const live = u.todos.length;
    let r, what;
    if (live < 3 || Math.random() < 0.4) {
      what = "POST";
      r = await request("POST", "/todos",
        { title: `soak ${w} ${stats.writes}`, projectId: u.project }, u.token);
      if (r.status === 201) u.todos.push({ id: r.json.data.id, completed: false });
    } else if (Math.random() < 0.5) {
      what = "PATCH";
      const td = u.todos[Math.floor(Math.random() * live)];
      td.completed = !td.completed;
      r = await request("PATCH", `/todos/${td.id}`, { completed: td.completed }, u.token);
    } else {
      what = "DELETE";
      const k = Math.floor(Math.random() * live);
      const td = u.todos[k];
      u.todos.splice(k, 1);
      r = await request("DELETE", `/todos/${td.id}`, undefined, u.token);
    }
    stats.writes++;
    if (r.status < 200 || r.status > 299) {
      stats.writeErrors++;
      problem(`${what} /todos: ${r.status} ${r.text.slice(0, 120)}`);
    }
    const wait = (nw / WRITES_PER_S) * 1000 - (Date.now() - t);
    if (wait > 0) await sleep(wait);
  }
}

function startWriters() {
  writing = true;
  writers = [0, 1].map((w) => writer(w));
}

async function stopWriters() {
  writing = false;
  await Promise.all(writers);
}

// ---- samples ------------------------------------------------------------------

let procs = [];
const samples = [];   // { t, phase, open, connects, writes, events, cpu, self, p: [{rss, fds, cpu}] }
let phase = "setup";
let csv = null;

function checkProcs() {
  const now = korioProcs();
  const same = now.length === procs.length && now.every((p, k) => p.pid === procs[k].pid);
  if (!same) {
    problem(`korio's processes changed: ${JSON.stringify(procs)} -> ${JSON.stringify(now)}`);
    return false;
  }
  return true;
}

function sample(ph = phase) {
  if (korioExit) return null;
  let p;
  try {
    p = procs.map((x) => procSample(x.pid));
  } catch (e) {
    problem(`sampling korio: ${e.message}`);
    return null;
  }
  const self = process.cpuUsage();
  const s = {
    t: elapsed(), phase: ph, open, connects: stats.connects, writes: stats.writes,
    events: stats.eventsTotal, cpu: p.reduce((a, x) => a + x.cpu, 0),
    self: (self.user + self.system) / 1e6, p,
  };
  samples.push(s);
  csv.write([s.t.toFixed(1), s.phase, s.open, s.connects, s.writes, s.events,
    s.cpu.toFixed(2), s.self.toFixed(2), ...p.flatMap((x) => [x.rss, x.fds])].join(",") + "\n");
  return s;
}

// Waits until every korio process is back to its baseline fd count (or,
// without a baseline, until the counts hold still for 2 s).
async function settleFds(baseline) {
  const deadline = Date.now() + SETTLE_S * 1000;
  let p, prev = null, still = 0;
  for (;;) {
    p = procs.map((x) => procSample(x.pid).fds);
    if (baseline && p.every((n, k) => n === baseline[k])) break;
    still = prev && p.every((n, k) => n === prev[k]) ? still + 1 : 0;
    if (!baseline && still >= 4) break;
    if (Date.now() > deadline) break;
    prev = p;
    await sleep(500);
  }
  return p;
}

// What a process's fds are: { "socket": n, "anon_inode:[eventpoll]": n,
// "/path": n, ... }, to name what a pause left open.
function fdKinds(pid) {
  const kinds = {};
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let t;
    try { t = fs.readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { continue; }
    t = t.replace(/^(socket|pipe):\[\d+\]$/, "$1");
    kinds[t] = (kinds[t] ?? 0) + 1;
  }
  return kinds;
}

function fdDiff(a, b) {
  const d = [];
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
    if ((a[k] ?? 0) !== (b[k] ?? 0)) d.push(`${k} ${a[k] ?? 0}->${b[k] ?? 0}`);
  return d.join(", ");
}

// ---- analysis ------------------------------------------------------------------

function fit(points) {
  const n = points.length;
  if (n < 3) return null;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let sxy = 0, sxx = 0;
  for (const [x, y] of points) { sxy += (x - mx) * (y - my); sxx += (x - mx) ** 2; }
  return sxx ? sxy / sxx : null;
}

function plot(file, png) {
  const warm = ((samples[0]?.t ?? 0) + WARMUP_S) / 60;
  const cols = procs.map((x, k) => ({ name: x.name, rss: 9 + 2 * k, fds: 10 + 2 * k }));
  const gp = [
    "set terminal png size 1100,800",
    `set output '${png}'`,
    "set datafile separator ','",
    "set key outside right",
    "set grid",
    "set multiplot layout 2,1 title " +
      `'korio soak: ${SOCKETS} sockets churning, ${MINUTES} min, WORKERS=2, SQLite (warm-up ${(WARMUP_S / 60).toFixed(1)} min)'`,
    `set arrow 1 from first ${warm}, graph 0 to first ${warm}, graph 1 nohead dt 2`,
    "set ylabel 'RSS (MiB)'",
    "plot " + cols.map((c) => `'${file}' every ::1 using ($1/60):($${c.rss}/1024) with lines lw 2 title '${c.name}'`).join(", "),
    "set xlabel 'minutes'",
    "set ylabel 'open fds'",
    "set y2label 'sockets'",
    "set y2tics",
    "plot " + cols.map((c) => `'${file}' every ::1 using ($1/60):${c.fds} with lines lw 2 title '${c.name} fds'`).join(", ") +
      `, '${file}' every ::1 using ($1/60):3 axes x1y2 with lines lc rgb 'gray' title 'sockets (right)'`,
    "unset multiplot",
  ];
  try {
    execFileSync("gnuplot", [], { input: gp.join("\n") + "\n" });
    return true;
  } catch (e) {
    problem(`gnuplot: ${e.message}`);
    return false;
  }
}

// ---- the run ------------------------------------------------------------------

let failed = false;
const fail = (why) => { failed = true; console.log(`SOAK FAIL: ${why}`); };
let result = {};

async function run() {
  await waitHealthy();
  await sleep(500);
  procs = korioProcs();
  log(`korio on ${BASE_URL}, pid ${korio.pid}, processes ${procs.map((p) => `${p.name}=${p.pid}`).join(" ")}`);
  csv = fs.createWriteStream(`${BASE}.csv`);
  csv.write(["t_s", "phase", "sockets", "connects", "writes", "events", "korio_cpu_s", "driver_cpu_s",
    ...procs.flatMap((p) => [`${p.name}_rss_kib`, `${p.name}_fds`])].join(",") + "\n");

  await setup();
  log(`${USERS} users signed up and logged in, ${PROJECTS} projects`);
  await sleep(1000);
  const before = await settleFds(null);
  const beforeKinds = procs.map((p) => fdKinds(p.pid));
  sample("baseline");
  log(`fds before the first socket ${procs.map((p, k) => `${p.name}=${before[k]}`).join(" ")}`);
  let baseline = null;
  let baseKinds = null;

  for (let i = 0; i < SOCKETS; i++) slots.push({ i, user: users[i % USERS] });

  const sampler = setInterval(() => {
    sample();
    if (!checkProcs() || korioExit) stop = true;
  }, SAMPLE_S * 1000);
  let stop = false;
  let churned = 0;
  const pauses = [];
  while (churned < TOTAL_S && !stop) {
    const len = Math.min(CYCLE_S, TOTAL_S - churned);
    phase = "churn";
    resumeSockets();
    startWriters();
    const until = Date.now() + len * 1000;
    let last = 0;
    while (Date.now() < until && !stop && !korioExit) {
      await sleep(1000);
      if (Date.now() - last >= 30000) {
        last = Date.now();
        log(`churn: ${open} sockets open, ${stats.connects} connects, ${stats.leaves} leaves, ` +
          `${stats.writes} writes, ${stats.eventsTotal} events`);
      }
    }
    churned += len;
    phase = "pause";
    await stopWriters();
    await pauseSockets();
    if (korioExit) break;
    const fds = await settleFds(baseline);
    if (!baseline) {
      // The first pause is the baseline: the first cycle opens what korio
      // keeps for good (the store's connections in each worker's threads).
      baseline = fds;
      baseKinds = procs.map((p) => fdKinds(p.pid));
      procs.forEach((p, k) => {
        const d = fdDiff(beforeKinds[k], baseKinds[k]);
        if (d) log(`${p.name}: fds opened by the first cycle: ${d}`);
      });
    } else {
      procs.forEach((p, k) => {
        if (fds[k] !== baseline[k]) problem(`${p.name} at the pause: ${fdDiff(baseKinds[k], fdKinds(p.pid))}`);
      });
    }
    const s = sample("pause");
    pauses.push({ t: elapsed(), churned, fds, rss: s.p.map((x) => x.rss) });
    log(`pause after ${churned}s of churn: fds ${procs.map((p, k) => `${p.name}=${fds[k]}`).join(" ")}, ` +
      `rss ${procs.map((p, k) => `${p.name}=${(s.p[k].rss / 1024).toFixed(1)}MiB`).join(" ")}`);
  }
  clearInterval(sampler);
  await new Promise((r) => csv.end(r));

  // ---- verdict ----
  if (korioExit) fail(`korio exited: ${JSON.stringify(korioExit)}`);
  checkProcs();
  if (!baseline) fail("no pause: no fd baseline");
  else for (const pz of pauses) {
    pz.fds.forEach((n, k) => {
      if (n !== baseline[k]) fail(`${procs[k].name}: ${n} fds at the pause after ${pz.churned}s, baseline ${baseline[k]}`);
    });
  }
  const perProc = procs.map((p, k) => {
    const pts = samples.filter((s) => s.phase === "churn" && s.t >= WARMUP_S + (samples[0]?.t ?? 0))
      .map((s) => [s.t, s.p[k].rss]);
    const slope = fit(pts);   // KiB per second
    const after = pauses.filter((pz) => pz.churned >= WARMUP_S);
    let perCycle = null;
    if (after.length >= 2) {
      const a = after[0], b = after[after.length - 1];
      const cycles = (b.churned - a.churned) / CYCLE_S;
      perCycle = (b.rss[k] - a.rss[k]) / 1024 / cycles;
    }
    return {
      name: p.name,
      rss_mib_start: samples[0] ? samples[0].p[k].rss / 1024 : null,
      rss_mib_end: samples.length ? samples[samples.length - 1].p[k].rss / 1024 : null,
      rss_mib_max: Math.max(...samples.map((s) => s.p[k].rss)) / 1024,
      slope_mib_per_10min: slope === null ? null : (slope * 600) / 1024,
      slope_points: pts.length,
      pause_rss_mib: pauses.map((pz) => +(pz.rss[k] / 1024).toFixed(2)),
      pause_growth_mib_per_cycle: perCycle,
      fds_before_first_socket: before[k],
      baseline_fds: baseline?.[k] ?? null,
      pause_fds: pauses.map((pz) => pz.fds[k]),
      max_fds: Math.max(...samples.map((s) => s.p[k].fds)),
    };
  });
  for (const r of perProc) {
    if (TOTAL_S >= 600) {
      if (r.slope_mib_per_10min === null) fail(`${r.name}: too few samples after warm-up for a slope`);
      else if (r.slope_mib_per_10min > SLOPE_MIB)
        fail(`${r.name}: RSS slope ${r.slope_mib_per_10min.toFixed(3)} MiB per 10 min after warm-up (bound ${SLOPE_MIB})`);
    }
    if (r.pause_growth_mib_per_cycle === null) fail(`${r.name}: fewer than two pauses after warm-up`);
    else if (r.pause_growth_mib_per_cycle > CYCLE_MIB)
      fail(`${r.name}: RSS at the pauses grew ${r.pause_growth_mib_per_cycle.toFixed(2)} MiB per cycle (bound ${CYCLE_MIB})`);
  }
  for (const k of ["refused", "wsErrors", "connectErrors", "nacks", "stuck", "unexpectedClose", "writeErrors", "serverDisconnects"])
    if (stats[k]) fail(`${stats[k]} ${k}`);
  if (stats.eventsTotal === 0 || !stats.events["todo:created"] || !stats.events.sync)
    fail(`events missing: ${JSON.stringify(stats.events)}`);
  if (stats.connects < SOCKETS) fail(`only ${stats.connects} connects`);

  const last = samples[samples.length - 1];
  result = {
    minutes: MINUTES, sockets: SOCKETS, users: USERS, projects: PROJECTS, addresses: ADDRS,
    cycle_s: CYCLE_S, warmup_s: WARMUP_S, wall_s: +elapsed().toFixed(0),
    bounds: { slope_mib_per_10min: TOTAL_S >= 600 ? SLOPE_MIB : "not held (run < 10 min)", pause_growth_mib_per_cycle: CYCLE_MIB, fds: "every pause equals the first" },
    stats, korio_cpu_s: last ? +last.cpu.toFixed(1) : null, driver_cpu_s: last ? +last.self.toFixed(1) : null,
    processes: perProc, problems,
  };
}

let code = 0;
try {
  await run();
} catch (e) {
  fail(e.stack ?? String(e));
}
await stopWriters();
running = false;
for (const s of slots) { clearTimeout(s.again); clearTimeout(s.life); clearTimeout(s.stuck); s.ws?.terminate(); }
if (!korioExit) {
  korio.kill("SIGTERM");
  const t = setTimeout(() => korio.kill("SIGKILL"), 15000);
  await new Promise((r) => (korioExit ? r() : korio.on("exit", r)));
  clearTimeout(t);
}
const text = fs.readFileSync(logFile, "utf8");
for (const re of BAD_LOG) if (re.test(text)) fail(`korio's log matches ${re} (${logFile})`);
if (samples.length && plot(`${BASE}.csv`, `${BASE}.png`)) result.png = `${BASE}.png`;
result.csv = `${BASE}.csv`;
result.log = logFile;
result.pass = !failed;
fs.writeFileSync(`${BASE}.json`, JSON.stringify(result, null, 2) + "\n");
for (const p of problems) console.log(`  problem: ${p}`);
for (const r of result.processes ?? [])
  console.log(`soak: ${r.name}: rss ${r.rss_mib_start?.toFixed(1)} -> ${r.rss_mib_end?.toFixed(1)} MiB (max ${r.rss_mib_max.toFixed(1)}), ` +
    `slope after warm-up ${r.slope_mib_per_10min?.toFixed(3)} MiB/10 min (${r.slope_points} samples), ` +
    `pauses ${r.pause_rss_mib.join("/")} MiB (${r.pause_growth_mib_per_cycle?.toFixed(2)} MiB/cycle), ` +
    `fds ${r.fds_before_first_socket} before the first socket, ${r.pause_fds.join("/")} at pauses, max ${r.max_fds}`);
console.log(`soak: ${stats.connects} connects, ${stats.leaves} leaves (${stats.clean} clean, ${stats.dropped} dropped), ` +
  `${stats.writes} writes, ${stats.eventsTotal} events ${JSON.stringify(stats.events)}, ` +
  `korio CPU ${result.korio_cpu_s} s, driver CPU ${result.driver_cpu_s} s`);
console.log(`soak: ${BASE}.{csv,png,json,log}`);
if (failed) code = 1;
console.log(failed ? "soak: FAIL" : "soak: PASS");
fs.rmSync(dataDir, { recursive: true, force: true });
process.exit(code);
