// korio's server CPU per fan-out with socket.io-client sockets on
// WebSocket only, and on the default transports (polling first, then the
// upgrade): with WORKERS=2 about half of those WebSockets land on the
// worker that does not own their session and are relayed. Also checks
// that every socket gets every event once, in order.
//
//   node bench/transports.mjs [N=1000] [rounds=3]
//
// Needs ./korio (or BENCH_KORIO=<binary>), bench/build/loadgen (make
// bench-build) and tests/node_modules.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(ROOT, 'tests', 'package.json'));
const { io } = require('socket.io-client');

const N = Number(process.argv[2] || 1000);
const ROUNDS = Number(process.argv[3] || 3);
const POSTS = 30;
const PORT = Number(process.env.BENCH_PORT || 4391);
const url = `http://127.0.0.1:${PORT}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'korio-transports-'));
const srv = spawn(process.env.BENCH_KORIO || path.join(ROOT, 'korio'), ['-fnr'], {
  cwd: dir, stdio: 'ignore',
  env: { ...process.env, PORT: String(PORT), BIND: '127.0.0.1', DATA_DIR: dir, WORKERS: '2',
    KORIO_ENV: 'development', TOKEN_EXPIRES_IN: '4h' },
});
const stop = () => { try { srv.kill('SIGTERM'); } catch { } };
process.on('exit', stop);
for (let i = 0; ; i++) {
  try { if ((await fetch(`${url}/healthz`)).ok) break; } catch { }
  if (i > 100) throw new Error('korio did not start');
  await sleep(100);
}

const state = path.join(dir, 'state.txt');
await new Promise((resolve, reject) => {
  const p = spawn(path.join(ROOT, 'bench', 'build', 'loadgen'), ['setup', '--port', String(PORT), '--users', '100',
    '--seed', '0', '--state', state, '--par', '8'], { stdio: 'ignore' });
  p.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`loadgen setup: exit ${c}`))));
});
const st = fs.readFileSync(state, 'utf8').split('\n');
const project = st.find((l) => l.startsWith('project ')).split(' ')[1];
const ownerTok = st.find((l) => l.startsWith('owner ')).split(' ')[2];
const users = st.filter((l) => l.startsWith('user ')).map((l) => l.split(' ')[2]);

// utime + stime of korio's parent and workers, in ms (10 ms ticks).
function cpu() {
  let t = 0;
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const s = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      if (Number(p) === srv.pid || Number(f[1]) === srv.pid) t += Number(f[11]) + Number(f[12]);
    } catch { /* gone */ }
  }
  return t * 10;
}

async function run(mode) {
  const socks = [];
  for (let i = 0; i < N; i++) {
    const s = io(url, { ...(mode === 'websocket' ? { transports: ['websocket'] } : {}),
      auth: { token: `Bearer ${users[i % users.length]}` }, forceNew: true, reconnection: false });
    s.titles = [];
    s.on('todo:created', (t) => s.titles.push(t.title));
    socks.push(s);
  }
  await Promise.all(socks.map((s) => new Promise((res, rej) => { s.on('connect', res); s.on('connect_error', rej); })));
  await Promise.all(socks.map((s) => (s.io.engine.transport.name === 'websocket' ? null
    : new Promise((res) => s.io.engine.once('upgrade', res)))));
  await Promise.all(socks.map((s) => s.emitWithAck('join:project', project)));
  await sleep(500);
  const titles = [];
  const c0 = cpu();
  for (let k = 0; k < POSTS; k++) {
    titles.push(`${mode}-${Date.now()}-${k}`);
    const r = await fetch(`${url}/todos`, { method: 'POST', body: JSON.stringify({ title: titles[k], projectId: project }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ownerTok}` } });
    if (r.status !== 201) throw new Error(`POST /todos: ${r.status}`);
    const t0 = Date.now();
    while (!socks.every((s) => s.titles.length > k)) {
      if (Date.now() - t0 > 10000) throw new Error(`${mode}: event ${k} did not reach every socket`);
      await sleep(1);
    }
  }
  const ms = (cpu() - c0) / POSTS;
  await sleep(200);
  const bad = socks.filter((s) => JSON.stringify(s.titles) !== JSON.stringify(titles)).length;
  for (const s of socks) s.close();
  if (bad) throw new Error(`${mode}: ${bad} sockets did not get every event once, in order`);
  await sleep(500);
  return ms;
}

const res = { websocket: [], default: [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const mode of ['websocket', 'default']) res[mode].push(await run(mode));
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(`korio WORKERS=2, N=${N} socket.io-client sockets in one project room, ${POSTS} POST /todos per round, ` +
  `${ROUNDS} rounds; server CPU per fan-out (ms, 10 ms ticks):`);
console.log(`  websocket only:               ${res.websocket.map((x) => x.toFixed(2)).join(' ')}  median ${med(res.websocket).toFixed(2)}`);
console.log(`  polling, then upgrade (~half relayed): ${res.default.map((x) => x.toFixed(2)).join(' ')}  median ${med(res.default).toFixed(2)}`);
console.log(`  ratio default / websocket: ${(med(res.default) / med(res.websocket)).toFixed(2)}x; every socket got every event once, in order`);
stop();
fs.rmSync(dir, { recursive: true, force: true });
process.exit(0);
