#!/usr/bin/env node
// The "Up" benchmark of issue 16: one korio holding UP_N (100,000)
// authenticated idle Socket.IO sockets on this machine, and a fan-out to
// all of them; the Node peer (one process) at the largest N it can hold,
// in the same run. `make bench-up` builds everything and calls this.
//
//   node bench/up.mjs [--only korio,peer,peerc] [--out DIR]   (~10 min;
//   UP_PEER_CLUSTER=0: korio and the one-process peer, ~3 min)
//
// What limits the setup (bench/RESULTS.md, "Up"): a process may open at
// most 20000 files here (hard limit, no CAP_SYS_RESOURCE to raise it), so
//   - korio is one server (one parent, one port) with UP_WORKERS (6) Kore
//     workers of WORKER_MAX_CONNECTIONS=UP_WORKER_MAX (18000) each;
//   - the load generator is one loadgen fanout with --procs UP_PROCS
//     workers (N/16000 rounded up; socket i held by worker i % procs);
//   - each source address has ~28k ephemeral ports towards the server's one
//     address and port: sockets connect from UP_ADDRS addresses
//     127.0.0.2, 127.0.0.3, ... (N/20000 rounded up; --bind), and korio
//     runs with MAX_CONNECTIONS_PER_ADDRESS=0 (no cap);
//   - the peer, one Node process, holds at most ~19,900 sockets: it is
//     measured at UP_PEER_N (19000), and korio at that N too, in the same
//     loadgen run as korio's N, so the two compare at the same N; the peer
//     as a node:cluster of UP_PEER_CLUSTER (6) workers (@socket.io/sticky,
//     cluster adapter) is measured at both N, as korio;
//   - the kernel floor (bench/build/probe: one sender, N loopback TCP
//     pairs) needs 2 x N descriptors over its two processes: it runs at
//     UP_PEER_N, and its per-send CPU is scaled to N.
//
// Per server: loadgen setup (an owner, UP_USERS members, one project), then
// loadgen fanout: sockets connected in batches (UP_BATCH per loadgen worker
// at a time), each authenticated (40{"token":"Bearer ..."}), joined to the
// project and subscribed, then left idle (Engine.IO pings answered); RSS of
// the server's processes before the first socket and after all are ready;
// then UP_WARMUP + UP_POSTS sequential POST /todos into the project: request
// start -> last delivery p50/p99, server CPU per fan-out (every process of
// the server, 10 ms ticks). Every socket must get every event once.
//
// A lost or duplicated event, an HTTP error or a server that exits fails the
// run (exit 2). The peer failing at UP_PEER_N is recorded with the largest
// N it reached (UP_PEER_SIZES, ascending, each on a fresh loadgen).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { alive, arg, args, descendants, env, f, loadavg, sleep, stopServer } from './lib.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH, '..');

const N = Number(env('UP_N', 100000));
const PEER_N = Number(env('UP_PEER_N', 19000));
const CFG = {
  n: N,
  peer_n: PEER_N,
  peer_sizes: env('UP_PEER_SIZES', `10000,${PEER_N}`).split(',').map(Number).filter((x) => x <= PEER_N),
  workers: Number(env('UP_WORKERS', 6)),
  worker_max: Number(env('UP_WORKER_MAX', 18000)),
  procs: Number(env('UP_PROCS', Math.ceil(N / 16000))),
  addrs: Number(env('UP_ADDRS', Math.ceil(N / 20000))),
  users: Number(env('UP_USERS', 100)),
  posts: Number(env('UP_POSTS', 20)),
  warmup: Number(env('UP_WARMUP', 3)),
  batch: Number(env('UP_BATCH', 250)),
  probe_rounds: Number(env('UP_PROBE_ROUNDS', 20)),
  port: Number(env('UP_PORT', 4401)),
  peer_cluster: Number(env('UP_PEER_CLUSTER', 6)),
};
const ONLY = arg('--only', CFG.peer_cluster > 0 ? 'korio,peer,peerc' : 'korio,peer').split(',');
const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
const OUT = path.resolve(arg('--out', path.join(BENCH, 'out', `up-${stamp}`)));
fs.mkdirSync(OUT, { recursive: true });
const LOADGEN = path.join(BENCH, 'build', 'loadgen');
const PROBE = path.join(BENCH, 'build', 'probe');
const KORIO = path.resolve(env('BENCH_KORIO', path.join(ROOT, 'korio')));
const t_start = Date.now();
const BIND = Array.from({ length: CFG.addrs }, (_, i) => `127.0.0.${i + 2}`).join(',');

const RUNLOG = path.join(OUT, 'run.log');
const servers = [];
const tools = new Set();
const log = (...a) => {
  const l = [`[up ${((Date.now() - t_start) / 1000).toFixed(0).padStart(4)}s]`, ...a].join(' ');
  console.log(l);
  fs.appendFileSync(RUNLOG, l + '\n');
};
function fail(msg) {
  console.error(`\nBENCH FAIL: ${msg}`);
  stopAll();
  process.exit(2);
}

const needs = [[LOADGEN, 'bench/build/loadgen'], [PROBE, 'bench/build/probe'], [KORIO, './korio']];
if (ONLY.includes('peer')) {
  needs.push([path.join(BENCH, 'peer', 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'),
    'bench/peer\'s better-sqlite3']);
}
for (const [f, what] of needs) if (!fs.existsSync(f)) fail(`${what} is missing: run make bench-up`);
if (CFG.procs < 1 || CFG.procs > 32 || Math.ceil(N / CFG.procs) > 19500) {
  fail(`UP_PROCS=${CFG.procs}: each loadgen worker may hold at most 19500 of the ${N} sockets, and at most 32 workers`);
}
if (CFG.addrs < 1 || CFG.addrs > 64 || N / CFG.addrs > 28000) fail(`UP_ADDRS=${CFG.addrs}: at most 28000 sockets per source address`);

/* ---- processes (as bench/run.mjs) ---------------------------------------- */

function stopAll() {
  for (const t of tools) { try { t.kill('SIGKILL'); } catch { } }
  for (const s of servers) {
    if (s.stopped) continue;
    for (const p of [s.proc.pid, ...new Set([...(s.kids || []), ...descendants(s.proc.pid)])]) {
      if (alive(p)) { try { process.kill(p, 'SIGKILL'); } catch { } }
    }
  }
}
process.on('SIGINT', () => fail('interrupted'));
process.on('SIGTERM', () => fail('terminated'));

async function startServer(spec, port) {
  const dataDir = path.join(OUT, `data-${spec.name}`);
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const logFile = path.join(OUT, `${spec.name}.log`);
  const fd = fs.openSync(logFile, 'w');
  const e = { ...process.env, PORT: String(port), BIND: '127.0.0.1', DATA_DIR: dataDir,
    TOKEN_EXPIRES_IN: '4h', KORIO_ENV: 'development', ...spec.env };
  const proc = spawn(spec.cmd, spec.args, { cwd: dataDir, env: e, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const s = { ...spec, port, proc, logFile, dataDir, exited: false };
  proc.on('exit', (code, sig) => {
    s.exited = true;
    if (!s.stopping) fail(`${spec.name} exited unexpectedly (${sig || code}); see ${logFile}`);
  });
  servers.push(s);
  const t0 = Date.now();
  for (;;) {
    if (Date.now() - t0 > 60000) fail(`${spec.name} did not answer /healthz on port ${port} in 60 s; see ${logFile}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { Connection: 'close' } });
      if (r.status === 200) break;
    } catch { /* not yet */ }
    await sleep(100);
  }
  s.kids = descendants(proc.pid);
  log(`${spec.name}: pid ${proc.pid}, ${s.kids.length} child process(es), port ${port}, up in ${Date.now() - t0} ms`);
  return s;
}

function run(cmd, argv) {
  return new Promise((resolve) => {
    const p = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    tools.add(p);
    let out = '', err = '', part = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => {
      err += d;
      const lines = (part + d).split('\n');
      part = lines.pop();
      for (const l of lines) if (l.startsWith('loadgen: ') || l.startsWith('LOADGEN')) log(`  ${l}`);
    });
    p.on('exit', (code, sig) => { tools.delete(p); resolve({ code, sig, out, err }); });
  });
}

const sh = (c) => spawnSync('sh', ['-c', c]).stdout.toString().trim();

/* ---- the pieces ------------------------------------------------------------ */

// korio as one server: its parent, UP_WORKERS workers, one port.
const SPECS = {
  korio: { name: 'korio', cmd: KORIO, args: ['-fnr'],
    env: { WORKERS: String(CFG.workers), WORKER_MAX_CONNECTIONS: String(CFG.worker_max),
      MAX_CONNECTIONS_PER_ADDRESS: '0' },
    sizes: [PEER_N, N].filter((x, i, a) => a.indexOf(x) === i).sort((a, b) => a - b) },
  peer: { name: 'peer', cmd: process.execPath, args: [path.join(BENCH, 'peer', 'server.js')],
    env: { WORKERS: '1', NODE_ENV: 'production' }, sizes: CFG.peer_sizes, fresh: true },
};
// UP_PEER_CLUSTER=K (6; 0: none): the peer as a node:cluster of K workers
// too (sticky primary, cluster adapter), at PEER_N and N in one loadgen
// run, as korio.
if (CFG.peer_cluster > 0) {
  SPECS.peerc = { name: 'peerc', cmd: process.execPath, args: [path.join(BENCH, 'peer', 'server.js')],
    env: { WORKERS: String(CFG.peer_cluster), NODE_ENV: 'production' }, sizes: SPECS.korio.sizes };
}

async function setup(s) {
  const state = path.join(OUT, `state-${s.name}.txt`);
  const r = await run(LOADGEN, ['setup', '--port', String(s.port), '--users', String(CFG.users), '--seed', '1',
    '--state', state, '--par', '8']);
  fs.writeFileSync(path.join(OUT, `loadgen-setup-${s.name}.log`), r.out + r.err);
  if (r.code !== 0) fail(`loadgen setup against ${s.name}: ${(r.err || r.out).trim().split('\n').pop()}`);
  return state;
}

// One loadgen fanout over sizes; resolves the JSON, or { failed } with the
// loadgen's LOADGEN FAIL line.
async function fanout(s, state, sizes, tag) {
  const json = path.join(OUT, `fanout-${tag}.json`);
  const la = loadavg();
  const r = await run(LOADGEN, ['fanout', '--port', String(s.port), '--state', state, '--pid', String(s.proc.pid),
    '--sizes', sizes.join(','), '--posts', String(CFG.posts), '--warmup', String(CFG.warmup),
    '--batch', String(CFG.batch), '--procs', String(Math.max(1, Math.min(CFG.procs, Math.ceil(sizes[sizes.length - 1] / 16000)))),
    '--bind', BIND, '--timeout-ms', '120000', '--json', json, '--label', tag]);
  fs.writeFileSync(path.join(OUT, `loadgen-fanout-${tag}.log`), r.out + r.err);
  if (r.code !== 0) {
    return { failed: r.err.trim().split('\n').find((l) => l.startsWith('LOADGEN FAIL')) || `exit ${r.code ?? r.sig}` };
  }
  const res = JSON.parse(fs.readFileSync(json, 'utf8'));
  res.loadavg_before = la;
  res.loadavg_after = loadavg();
  return res;
}

/* ---- the run ----------------------------------------------------------------- */

const results = {
  started: new Date().toISOString(), config: CFG, bind: BIND,
  machine: {
    cpus: os.cpus().length, cpu: os.cpus()[0]?.model, mem_gib: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: os.release(), node: process.version,
    nofile_soft: sh('ulimit -Sn'), nofile_hard: sh('ulimit -Hn'),
    nr_open: sh('cat /proc/sys/fs/nr_open'), port_range: sh('cat /proc/sys/net/ipv4/ip_local_port_range').replace(/\s+/g, '-'),
  },
  servers: {},
};
results.loadavg_start = loadavg();
log(`output in ${path.relative(ROOT, OUT)}; load average ${results.loadavg_start}`);
log(`config: ${JSON.stringify(CFG)}; source addresses ${BIND}; open files ${results.machine.nofile_soft}/` +
  `${results.machine.nofile_hard} per process`);

// 1. the floor at PEER_N (2 x PEER_N descriptors over the probe's two processes)
{
  const json = path.join(OUT, 'probe.json');
  const r = await run(PROBE, ['--sizes', String(PEER_N), '--rounds', String(CFG.probe_rounds), '--warmup', '3',
    '--senders', '1', '--json', json]);
  for (const l of r.err.trim().split('\n')) if (l) log(l);
  if (r.code !== 0) fail(`probe failed (exit ${r.code ?? r.sig})`);
  results.probe = JSON.parse(fs.readFileSync(json, 'utf8')).sizes[0];
}

// 2. korio, then the peer, one at a time on fresh servers
let port = CFG.port;
const CRASH = /exited with status (?!0\b)\d+|\(hdlr: [^)]*\) gone|worker \d+ died|Segmentation|Aborted|FATAL ERROR/;
async function finish(s) {
  await sleep(2000);
  await stopServer(s, 30000);
  const crash = fs.readFileSync(s.logFile, 'utf8').split('\n').filter((l) => CRASH.test(l));
  if (crash.length) fail(`${s.name} crashed: ${crash.join(' | ')}`);
  fs.rmSync(s.dataDir, { recursive: true, force: true });
}
for (const name of ONLY) {
  const spec = SPECS[name];
  if (!spec) fail(`unknown server ${name} (${Object.keys(SPECS).join(', ')})`);
  const res = { sizes: [], runs: [] };
  if (!spec.fresh) {
    // korio: all sizes in one loadgen run (sockets added, never dropped)
    const s = await startServer(spec, port++);
    const r = await fanout(s, await setup(s), spec.sizes, name);
    if (r.failed && name === 'korio') fail(`loadgen fanout against korio: ${r.failed}`);
    if (r.failed) {
      res.limit = { n: spec.sizes[spec.sizes.length - 1], why: r.failed, largest_n: 0 };
      log(`${name}: failed: ${r.failed}`);
    } else {
      res.sizes = r.sizes;
      res.runs.push(r);
    }
    await finish(s);
  } else {
    // the peer: each size on a fresh server (V8's heap from the run before
    // would be counted otherwise) and a fresh loadgen; the largest N
    // reached is known if one fails
    for (const n of spec.sizes) {
      const s = await startServer({ ...spec, name: `${name}-${n}` }, port++);
      const r = await fanout(s, await setup(s), [n], `${name}-${n}`);
      await finish(s);
      if (r.failed) {
        res.limit = { n, why: r.failed, largest_n: res.sizes.length ? res.sizes[res.sizes.length - 1].n : 0 };
        log(`${name}: N=${n} not reached: ${r.failed}`);
        break;
      }
      res.sizes.push(...r.sizes);
      res.runs.push(r);
    }
  }
  results.servers[name] = { env: spec.env, ...res };
}

results.finished = new Date().toISOString();
results.seconds = Math.round((Date.now() - t_start) / 1000);
results.loadavg_end = loadavg();

/* ---- the table ------------------------------------------------------------------ */

const fx = (a, b) => (a === undefined || b === undefined || !b ? '-' : `${(a / b).toFixed(2)}x`);
const K = results.servers.korio, P = results.servers.peer, PC = results.servers.peerc, pr = results.probe;
const at = (srv, n) => srv?.sizes.find((x) => x.n === n);
// the floor: the probe's CPU per send at PEER_N, times n
const floorCpu = (n) => (pr ? (pr.cpu_ms / pr.n) * n : undefined);
const bound = (n) => (pr ? ((pr.cpu_ms + pr.reader_cpu_ms) / pr.n) * n / 2 : undefined);
const rows = [];
// One metric: korio, the peer, korio/peer; with UP_PEER_CLUSTER the
// cluster peer and korio/cluster peer after them.
const row = (metric, v, d, ratio = true) => {
  const [k, p, c] = [K, P, PC].map(v);
  const r = [metric, f(k, d), f(p, d), ratio ? fx(k, p) : ''];
  if (PC) r.push(f(c, d), ratio ? fx(k, c) : '');
  rows.push(r);
};
const text = (metric, ...cells) => rows.push([metric, ...cells, ...Array(PC ? 5 : 3).fill('')].slice(0, PC ? 6 : 4));
for (const n of [N, PEER_N].filter((x, i, a) => a.indexOf(x) === i)) {
  const get = (field, scale = 1) => (srv) => { const x = at(srv, n)?.[field]; return x === undefined ? undefined : x * scale; };
  row(`N=${n}: connecting the sockets added since the N before (s)`, get('connect_s'), 1, false);
  row(`N=${n}: server RSS before the first socket (MiB)`, get('rss_base_kib', 1 / 1024), 1, false);
  row(`N=${n}: server RSS with N idle sockets (MiB)`, get('rss_kib', 1 / 1024), 1);
  row(`N=${n}: RSS per idle socket (KiB)`, get('rss_per_conn_kib'), 2);
  row(`N=${n}: fan-out, request -> last delivery p50 (ms)`, get('p50_ms'), 1);
  row(`N=${n}: fan-out, request -> last delivery p99 (ms)`, get('p99_ms'), 1);
  row(`N=${n}: deliveries per second`, get('deliveries_per_s'), 0);
  row(`N=${n}: server CPU per fan-out, all processes (ms)`, get('cpu_ms_per_fanout'), 1);
  text(`N=${n}: kernel floor, the probe's send CPU${n === PEER_N ? '' : ` at N=${PEER_N}, scaled to N`} (ms)`, f(floorCpu(n), 1));
  const cpu = (srv) => at(srv, n)?.cpu_ms_per_fanout;
  text(`N=${n}: server CPU per fan-out / floor`, fx(cpu(K), floorCpu(n)), fx(cpu(P), floorCpu(n)), '',
    fx(cpu(PC), floorCpu(n)));
  text(`N=${n}: 2-core bound, (send + receive CPU) / 2 (ms)`, f(bound(n), 1));
  row(`N=${n}: loadgen CPU per fan-out, all its processes (ms)`, get('loadgen_cpu_ms_per_fanout'), 1, false);
}
const cols = [`korio (1 server, ${CFG.workers} workers)`, 'peer (1 process)', 'korio/peer',
  ...(PC ? [`peer (cluster of ${CFG.peer_cluster})`, 'korio/peer cluster'] : [])];
let md = `| metric | ${cols.join(' | ')} |\n|${' --- |'.repeat(cols.length + 1)}\n` +
  rows.map((r) => `| ${r.join(' | ')} |`).join('\n') + '\n';
if (P?.limit) md += `\nthe peer: N=${P.limit.n} not reached (largest N reached: ${P.limit.largest_n}): ${P.limit.why}\n`;
if (PC?.limit) md += `\nthe cluster peer: failed on the way to N=${PC.limit.n}: ${PC.limit.why}\n`;
const kproc = K?.runs[0];
md += `\n${results.seconds} s, load average ${results.loadavg_start} at the start, ${results.loadavg_end} at the end; ` +
  `korio WORKERS=${CFG.workers} WORKER_MAX_CONNECTIONS=${CFG.worker_max} MAX_CONNECTIONS_PER_ADDRESS=0; ` +
  `loadgen ${kproc?.loadgen_procs ?? '-'} processes from ${CFG.addrs} source addresses; ` +
  `${CFG.warmup} + ${CFG.posts} posts per N; open files ${results.machine.nofile_soft}/${results.machine.nofile_hard} ` +
  `per process; probe at N=${pr?.n}: ${f(pr?.per_send_us, 2)} us of sender CPU per send, last read p50 ${f(pr?.last_p50_ms, 1)} ms\n`;
fs.writeFileSync(path.join(OUT, 'results.md'), md);
fs.writeFileSync(path.join(OUT, 'results.json'), JSON.stringify(results, null, 2) + '\n');
console.log('\n' + md);
try { fs.rmSync(path.join(BENCH, 'out', 'up-latest'), { force: true }); fs.symlinkSync(OUT, path.join(BENCH, 'out', 'up-latest')); } catch { }
log(`done in ${results.seconds} s: ${path.relative(ROOT, OUT)}/results.md`);
process.exit(0);
