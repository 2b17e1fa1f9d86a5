#!/usr/bin/env node
// The "Out" benchmark of issue 16: fan-out through Redis across two nodes,
// korio against the Node peer, in one run. `make bench-cluster` builds
// everything and calls this.
//
//   node bench/cluster.mjs [--only korio,peer] [--out DIR]
//
// Per pair, one after the other, each on its own fresh redis-server
// (loopback, no persistence) and fresh CongoDB (tests/congo, the MongoDB
// test server; cluster mode needs a shared store):
//   korio  ./korio -fnr twice (A and B), WORKERS=2 each, REDIS_URL and
//          MONGODB_URI, the same token secrets
//   peer   bench/peer/server.js twice (P1 and P2), one process each
//          (BENCH_PEER_WORKERS), @socket.io/redis-adapter on the same Redis
//
// 1. loadgen setup on the first node: an owner, BENCH_USERS members, one
//    project with all of them (BENCH_SEED todos each).
// 2. For each N of BENCH_SIZES, a fresh loadgen fanout: N sockets, the even
//    ones on the first node, the odd ones on the second (--port2), each
//    authenticated, joined to the project and subscribed, so each must get
//    every todo:created once (an event published by the first node, relayed
//    through Redis to the second); then BENCH_WARMUP + BENCH_POSTS
//    sequential POST /todos on the first node. Reported: request start ->
//    last delivery p50/p99, and CPU per fan-out: utime+stime of both nodes'
//    processes (parents and every descendant) and of redis-server, before
//    and after the measured posts, / posts. CongoDB's CPU is not in it (the
//    same server for both sides; the POST's insert is the only store work).
//    Sockets are closed after each N.
// 3. One table: korio vs the peer and their ratio; results.{json,md,txt} in
//    bench/out/cluster-<stamp>/ with every log.
//
// A lost or duplicated event, a stray event, an HTTP error or a node that
// exits fails the run (exit 2). korio at any N and the peer at the first N
// must pass; the peer failing at a larger N for another reason (a socket
// refused or closed, a timeout while connecting) is recorded as the largest
// N it reached, with the reason, and the run goes on.

import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

import { alive, arg, args, descendants, env, f, loadavg, sleep } from './lib.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH, '..');

const CFG = {
  users: Number(env('BENCH_USERS', 100)),
  seed: Number(env('BENCH_SEED', 1)),
  posts: Number(env('BENCH_POSTS', 100)),
  warmup: Number(env('BENCH_WARMUP', 5)),
  sizes: env('BENCH_SIZES', '1000,10000').split(',').map(Number),
  korioWorkers: Number(env('BENCH_KORIO_WORKERS', 2)),
  peerWorkers: Number(env('BENCH_PEER_WORKERS', 1)),
  timeoutMs: Number(env('BENCH_TIMEOUT_MS', 60000)),
  // sockets connecting at once: the peer's MongoDB driver gave up
  // (join:project answered 'Service unavailable') with batches of 500
  // against CongoDB; both pairs get the same batches
  batch: Number(env('BENCH_BATCH', 100)),
  idleSeconds: Number(env('BENCH_IDLE_SECONDS', 5)),
};
const ONLY = arg('--only', 'korio,peer').split(',');
for (const k of ONLY) if (!['korio', 'peer'].includes(k)) {
  console.error(`unknown pair ${k} (korio, peer)`);
  process.exit(1);
}
const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
const OUT = path.resolve(arg('--out', path.join(BENCH, 'out', `cluster-${stamp}`)));
fs.mkdirSync(OUT, { recursive: true });
const LOADGEN = path.join(BENCH, 'build', 'loadgen');
const KORIO = path.resolve(env('BENCH_KORIO', path.join(ROOT, 'korio')));
const PEER = path.join(BENCH, 'peer', 'server.js');
const CONGO = path.join(ROOT, 'tests', 'congo');
const t_start = Date.now();

const RUNLOG = path.join(OUT, 'run.log');
const procs = [];        // every server process started: {name, proc, kids, stopping, logFile}
const tools = new Set(); // loadgen while it runs
const log = (...a) => {
  const l = [`[cluster ${((Date.now() - t_start) / 1000).toFixed(0).padStart(4)}s]`, ...a].join(' ');
  console.log(l);
  fs.appendFileSync(RUNLOG, l + '\n');
};
function fail(msg) {
  console.error(`\nBENCH FAIL: ${msg}`);
  killAll();
  process.exit(2);
}

for (const [f, what] of [[LOADGEN, 'bench/build/loadgen'], [KORIO, './korio'],
  [path.join(BENCH, 'peer', 'node_modules', '@socket.io', 'redis-adapter'), 'bench/peer/node_modules (npm ci)']]) {
  if (!fs.existsSync(f)) fail(`${what} is missing: run make bench-cluster`);
}
if (spawnSync('redis-server', ['--version']).error) fail('redis-server is missing (conf/install-deps.sh installs it)');

/* ---- processes ------------------------------------------------------------ */

// utime+stime in ms of pid and all its descendants
function cpuMs(pid) {
  let ticks = 0;
  for (const p of [pid, ...descendants(pid)]) {
    try {
      const s = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch { /* gone */ }
  }
  return ticks * 10;  // USER_HZ = 100 on Linux
}

function killAll() {
  for (const t of tools) { try { t.kill('SIGKILL'); } catch { } }
  for (const s of procs) {
    if (s.stopped) continue;
    s.stopping = true;
    for (const p of [s.proc.pid, ...new Set([...(s.kids || []), ...descendants(s.proc.pid)])]) {
      if (alive(p)) { try { process.kill(p, 'SIGKILL'); } catch { } }
    }
  }
}
process.on('SIGINT', () => fail('interrupted'));
process.on('SIGTERM', () => fail('terminated'));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

// Spawns a long-running process with its output in OUT/<name>.log; it
// failing while not being stopped fails the run.
function launch(name, cmd, argv, opts = {}) {
  const logFile = path.join(OUT, `${name}.log`);
  const fd = fs.openSync(logFile, 'w');
  const proc = spawn(cmd, argv, { cwd: opts.cwd || OUT, env: { ...process.env, ...(opts.env || {}) },
    stdio: ['ignore', opts.pipe ? 'pipe' : fd, fd] });
  fs.closeSync(fd);
  const s = { name, proc, logFile, exited: false };
  proc.on('exit', (code, sig) => {
    s.exited = true;
    if (!s.stopping) fail(`${name} exited unexpectedly (${sig || code}); see ${logFile}`);
  });
  procs.push(s);
  return s;
}

async function stop(s) {
  if (!s || s.stopped) return;
  s.stopping = true;
  s.kids = [...new Set([...(s.kids || []), ...descendants(s.proc.pid)])];
  if (!s.exited) s.proc.kill('SIGTERM');
  const t0 = Date.now();
  while (!s.exited && Date.now() - t0 < 20000) await sleep(50);
  if (!s.exited) { s.proc.kill('SIGKILL'); await sleep(200); }
  for (let i = 0; i < 100 && s.kids.some(alive); i++) await sleep(50);
  for (const k of s.kids) if (alive(k)) { try { process.kill(k, 'SIGKILL'); } catch { } }
  s.stopped = true;
}

async function startRedis(tag) {
  const port = await freePort();
  const dir = path.join(OUT, `redis-${tag}`);
  fs.mkdirSync(dir, { recursive: true });
  const s = launch(`redis-${tag}`, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1',
    '--save', '', '--appendonly', 'no', '--dir', dir]);
  const t0 = Date.now();
  while (!/Ready to accept connections/.test(fs.readFileSync(s.logFile, 'utf8'))) {
    if (Date.now() - t0 > 10000) fail(`redis-server not ready in 10 s; see ${s.logFile}`);
    await sleep(50);
  }
  s.url = `redis://127.0.0.1:${port}`;
  log(`redis-${tag}: pid ${s.proc.pid}, ${s.url}`);
  return s;
}

async function startCongo(tag) {
  const setup = spawnSync('sh', [path.join(CONGO, 'setup.sh')], { encoding: 'utf8' });
  if (setup.status !== 0) fail(`tests/congo/setup.sh failed:\n${setup.stdout}${setup.stderr}`);
  const s = launch(`congo-${tag}`, process.execPath, [path.join(CONGO, 'launcher.mjs'), '0'], { cwd: CONGO, pipe: true });
  s.uri = await new Promise((resolve) => {
    const t = setTimeout(() => fail('CongoDB did not start in 30 s'), 30000);
    readline.createInterface({ input: s.proc.stdout }).on('line', (line) => {
      const m = /^READY (mongodb:\/\/\S+)/.exec(line);
      if (m) { clearTimeout(t); resolve(m[1].replace(/\/?$/, '/')); }
    });
  });
  log(`congo-${tag}: pid ${s.proc.pid}, ${s.uri}`);
  return s;
}

async function startNode(name, kind, port, common) {
  const dataDir = path.join(OUT, `data-${name}`);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const e = { PORT: String(port), BIND: '127.0.0.1', DATA_DIR: dataDir, TOKEN_EXPIRES_IN: '4h',
    KORIO_ENV: 'development', ...common };
  const s = kind === 'korio'
    ? launch(name, KORIO, ['-fnr'], { cwd: dataDir, env: { ...e, WORKERS: String(CFG.korioWorkers) } })
    : launch(name, process.execPath, [PEER], { cwd: dataDir,
      env: { ...e, WORKERS: String(CFG.peerWorkers), NODE_ENV: 'production' } });
  const t0 = Date.now();
  for (;;) {
    if (Date.now() - t0 > 30000) fail(`${name} did not answer /healthz on port ${port} in 30 s; see ${s.logFile}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.status === 200) break;
    } catch { /* not yet */ }
    await sleep(100);
  }
  s.port = port;
  s.kids = descendants(s.proc.pid);
  log(`${name}: pid ${s.proc.pid}, ${s.kids.length} child process(es), port ${port}, up in ${Date.now() - t0} ms`);
  return s;
}

function run(cmd, argv) {
  return new Promise((resolve) => {
    const p = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    tools.add(p);
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code, sig) => { tools.delete(p); resolve({ code, sig, out, err }); });
  });
}

// Redis serverCount as the nodes see it: both nodes' subscribers are up
// before any socket connects.
async function waitSubscribers(redis, want) {
  const port = redis.url.split(':').pop();
  const t0 = Date.now();
  for (;;) {
    const r = spawnSync('redis-cli', ['-p', port, 'PUBSUB', 'NUMSUB', 'socket.io-request#/#'], { encoding: 'utf8' });
    const n = Number((r.stdout || '').trim().split('\n')[1]);
    if (n >= want) return n;
    if (Date.now() - t0 > 20000) fail(`only ${n} of ${want} nodes subscribed to Redis in 20 s`);
    await sleep(100);
  }
}

/* ---- one pair --------------------------------------------------------------- */

const LOSS = /LOST|DUPLICATE|stray|deliveries to|the POST made|HTTP|exited/;

async function pair(kind) {
  const tag = kind;
  const redis = await startRedis(tag);
  const congo = await startCongo(tag);
  const common = {
    REDIS_URL: redis.url,
    MONGODB_URI: `${congo.uri}bench_cluster_${kind}`,
    TOKEN_SECRET: crypto.randomBytes(24).toString('hex'),
    REFRESH_TOKEN_SECRET: crypto.randomBytes(24).toString('hex'),
  };
  const names = kind === 'korio' ? ['korio-A', 'korio-B'] : ['peer-P1', 'peer-P2'];
  const a = await startNode(names[0], kind, await freePort(), common);
  const b = await startNode(names[1], kind, await freePort(), common);
  const subs = await waitSubscribers(redis, kind === 'korio' ? 2 : 2 * Math.max(1, CFG.peerWorkers));
  log(`${kind}: ${subs} subscriber(s) on socket.io-request#/# (serverCount)`);

  const state = path.join(OUT, `state-${kind}.txt`);
  let r = await run(LOADGEN, ['setup', '--port', String(a.port), '--users', String(CFG.users),
    '--seed', String(CFG.seed), '--state', state, '--par', '8']);
  fs.writeFileSync(path.join(OUT, `loadgen-setup-${kind}.log`), r.out + r.err);
  if (r.code !== 0) fail(`loadgen setup against ${names[0]}: ${(r.err || r.out).trim().split('\n').pop()}`);
  log(`${kind}: ${r.err.trim().split('\n').join('; ').replace(/loadgen: /g, '')}`);

  // Background CPU with nothing to do (after the setup's requests, no
  // socket): against CongoDB the MongoDB drivers' monitoring is not idle.
  const idleS = CFG.idleSeconds, roots = [a.proc.pid, b.proc.pid, redis.proc.pid];
  const i0 = roots.map(cpuMs);
  await sleep(idleS * 1000);
  const idle = roots.map((p, i) => (cpuMs(p) - i0[i]) / idleS);
  log(`${kind}: idle CPU over ${idleS} s: ${names[0]} ${idle[0].toFixed(1)}, ${names[1]} ${idle[1].toFixed(1)}, ` +
    `redis ${idle[2].toFixed(1)} ms/s`);

  const res = { kind, nodes: names, idle_cpu_ms_per_s: { first: idle[0], second: idle[1], redis: idle[2] }, workers_per_node: kind === 'korio' ? CFG.korioWorkers : CFG.peerWorkers,
    pids: { [names[0]]: a.proc.pid, [names[1]]: b.proc.pid, redis: redis.proc.pid }, sizes: [], limit: null };
  for (const n of CFG.sizes) {
    const json = path.join(OUT, `fanout-${kind}-${n}.json`);
    const la = loadavg();
    r = await run(LOADGEN, ['fanout', '--port', String(a.port), '--port2', String(b.port), '--state', state,
      '--pid', [a.proc.pid, b.proc.pid, redis.proc.pid].join(','), '--sizes', String(n),
      '--posts', String(CFG.posts), '--warmup', String(CFG.warmup), '--timeout-ms', String(CFG.timeoutMs),
      '--batch', String(CFG.batch), '--json', json, '--label', `${kind}-${n}`]);
    fs.writeFileSync(path.join(OUT, `loadgen-fanout-${kind}-${n}.log`), r.out + r.err);
    for (const l of r.err.trim().split('\n')) if (l) log(`${kind} N=${n}: ${l.replace(/^loadgen: /, '')}`);
    if (r.code !== 0) {
      const why = r.err.trim().split('\n').find((l) => l.startsWith('LOADGEN FAIL')) || `loadgen exit ${r.code ?? r.sig}`;
      if (kind === 'korio' || n === CFG.sizes[0] || LOSS.test(why)) fail(`${kind} at N=${n}: ${why}`);
      res.limit = { n, why, largest_n: res.sizes.length ? res.sizes[res.sizes.length - 1].n : 0 };
      log(`${kind}: N=${n} not reached: ${why}; recorded, going on`);
      break;
    }
    const fo = JSON.parse(fs.readFileSync(json, 'utf8'));
    const z = fo.sizes[0];
    z.loadavg_before = la;
    z.loadavg_after = loadavg();
    const by = z.cpu_ms_per_fanout_by_pid || {};
    z.cpu_first_ms = by[a.proc.pid];
    z.cpu_second_ms = by[b.proc.pid];
    z.cpu_redis_ms = by[redis.proc.pid];
    // the same less the idle rate over the measured posts' wall time
    z.cpu_net_ms = z.cpu_ms_per_fanout - (idle[0] + idle[1] + idle[2]) * z.window_s / z.posts;
    z.offsets = fo.recovery_offsets;
    z.other_events = fo.other_events;
    res.sizes.push(z);
    await sleep(3000); // the disconnects settle (presence, Redis) before the next N
  }
  for (const s of [a, b]) {
    const l = fs.readFileSync(s.logFile, 'utf8').split('\n').filter((x) => CRASH.test(x));
    if (l.length) res.crashes = [...(res.crashes || []), `${s.name}: ${l.join(' | ')}`];
  }
  await stop(a);
  await stop(b);
  await stop(redis);
  await stop(congo);
  if (env('BENCH_KEEP_DATA', '0') === '0') {
    for (const nm of names) fs.rmSync(path.join(OUT, `data-${nm}`), { recursive: true, force: true });
    fs.rmSync(path.join(OUT, `redis-${tag}`), { recursive: true, force: true });
  }
  return res;
}

// Kore restarts a crashed worker and Node keeps going: only the log says.
const CRASH = /exited with status (?!0\b)\d+|\(hdlr: [^)]*\) gone|died from sandbox|worker \d+ died|Segmentation|Aborted|FATAL ERROR/;

/* ---- the run ---------------------------------------------------------------- */

const results = {
  started: new Date().toISOString(), config: CFG,
  machine: {
    cpus: os.cpus().length, cpu: os.cpus()[0]?.model, mem_gib: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: os.release(), node: process.version,
    nofile: spawnSync('sh', ['-c', 'ulimit -n']).stdout.toString().trim(),
    redis: spawnSync('redis-server', ['--version']).stdout.toString().trim(),
  },
  loadavg_start: loadavg(), uptime_start: spawnSync('uptime').stdout.toString().trim(), pairs: {},
};
log(`output in ${path.relative(ROOT, OUT)}; ${results.uptime_start}`);
log(`config: ${JSON.stringify(CFG)}; korio: ${KORIO}`);
for (const kind of ONLY) results.pairs[kind] = await pair(kind);
results.finished = new Date().toISOString();
results.seconds = Math.round((Date.now() - t_start) / 1000);
results.loadavg_end = loadavg();
results.uptime_end = spawnSync('uptime').stdout.toString().trim();

/* ---- the table ---------------------------------------------------------------- */

const K = results.pairs.korio, P = results.pairs.peer;
const at = (p, n) => p?.sizes.find((x) => x.n === n);
const fx = (a, b) => (a === undefined || b === undefined || !b ? '-' : `${(a / b) < 0.1 ? (a / b).toFixed(3) : (a / b).toFixed(2)}x`);
const rows = [];
for (const n of CFG.sizes) {
  for (const [metric, field, d] of [
    ['request -> last delivery p50 (ms)', 'p50_ms', 2],
    ['request -> last delivery p99 (ms)', 'p99_ms', 2],
    ['request -> first delivery p50 (ms)', 'first_p50_ms', 2],
    ['POST response p50 (ms)', 'resp_p50_ms', 2],
    ['deliveries per second', 'deliveries_per_s', 0],
    ['CPU per fan-out, both nodes + redis (ms)', 'cpu_ms_per_fanout', 2],
    ['  less the idle CPU over the posts\' time (ms)', 'cpu_net_ms', 2],
    ['  of which the first node, A / P1 (POSTs) (ms)', 'cpu_first_ms', 2],
    ['  of which the second node, B / P2 (ms)', 'cpu_second_ms', 2],
    ['  of which redis-server (ms)', 'cpu_redis_ms', 2],
    ['RSS per idle socket, both nodes + redis (KiB)', 'rss_per_conn_kib', 2],
    ['sockets connected in (s)', 'connect_s', 1],
  ]) {
    const k = at(K, n)?.[field], p = at(P, n)?.[field];
    rows.push([`N=${n}: ${metric}`, f(k, d), P?.limit && P.limit.n <= n ? 'not reached' : f(p, d), fx(k, p)]);
  }
}
const head = ['metric', 'korio A+B', 'Node P1+P2', 'korio/Node'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
const line = (r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
const md = (r) => `| ${r.join(' | ')} |`;

let text = `fan-out through Redis across two nodes (issue 16 "Out"), ${results.started}\n`;
text += `machine: ${results.machine.cpus} x ${results.machine.cpu}, ${results.machine.mem_gib} GiB, ` +
  `kernel ${results.machine.kernel}, node ${results.machine.node}, ulimit -n ${results.machine.nofile}; ${results.machine.redis}\n`;
text += `korio A+B = ./korio, WORKERS=${CFG.korioWorkers} each, REDIS_URL + MONGODB_URI (CongoDB)\n`;
text += `Node P1+P2 = bench/peer/server.js, WORKERS=${CFG.peerWorkers} each, @socket.io/redis-adapter, MONGODB_URI (CongoDB)\n`;
text += `sockets split half/half over the two nodes; ${CFG.users} members, all in one project, each socket joined ` +
  `and subscribed; ${CFG.warmup} warm-up + ${CFG.posts} measured sequential POST /todos on the first node; ` +
  `CPU = utime+stime of both nodes' processes and redis-server (not CongoDB)\n`;
for (const [kind, p] of Object.entries(results.pairs)) {
  const i = p.idle_cpu_ms_per_s;
  text += `idle CPU, ${kind} (ms per s, after the setup, no socket): ${p.nodes[0]} ${f(i.first)}, ` +
    `${p.nodes[1]} ${f(i.second)}, redis ${f(i.redis)}\n`;
}
text += '\n';
text += line(head) + '\n' + line(widths.map((w) => '-'.repeat(w))) + '\n' + rows.map(line).join('\n') + '\n';
if (P?.limit) text += `\nthe Node pair: N=${P.limit.n} not reached (largest N reached: ${P.limit.largest_n}): ${P.limit.why}\n`;
const crashes = Object.values(results.pairs).flatMap((p) => p.crashes || []);
if (crashes.length) text += `\nSERVER CRASH during the run (results are suspect):\n  ${crashes.join('\n  ')}\n`;
text += `\nload: ${results.uptime_start} at the start; ${results.uptime_end} at the end; run took ${results.seconds} s\n`;
for (const [kind, p] of Object.entries(results.pairs)) {
  for (const z of p.sizes) text += `  ${kind} N=${z.n}: load ${z.loadavg_before} before, ${z.loadavg_after} after\n`;
}
results.crashes = crashes;
fs.writeFileSync(path.join(OUT, 'results.json'), JSON.stringify(results, null, 2));
fs.writeFileSync(path.join(OUT, 'results.txt'), text);
fs.writeFileSync(path.join(OUT, 'results.md'), `${md(head)}\n${md(head.map(() => '---'))}\n${rows.map(md).join('\n')}\n`);
console.log('\n' + text);
log(`results in ${path.relative(ROOT, OUT)}/results.{txt,md,json}`);
if (crashes.length) {
  console.error('BENCH FAIL: a server process crashed during the run');
  process.exit(3);
}
