#!/usr/bin/env node
// Login flood: how quickly GET /auth/me answers while logins pour in,
// each client hanging up after 100 ms (PBKDF2 costs ~0.1 s of CPU a login).
//
//   node bench/login_flood.mjs [--bin ./korio] [--seconds 10] [--conc 100]
//       [--workers 2] [--hangup 100] [--one-address]
//
// Starts the binary on a free loopback port with a fresh DATA_DIR, signs
// up one user, measures GET /auth/me idle (100 probes), then floods: --conc
// clients each loop on POST /auth/login for an unknown email, hanging up
// after --hangup ms, for --seconds. Each login claims its own client
// address (X-Forwarded-For from 127.0.0.1, a trusted proxy by default) so
// that the failed-login limits don't turn it away: this measures the
// hashing, not the limits (--one-address: all from 127.0.0.1, to see the
// limits at work). Meanwhile a probe sends GET /auth/me every 50 ms on a
// connection of its own and records its latency. Prints p50, p90, p99 and
// max of both, and how the logins that got an answer before hanging up
// were answered. A probe unanswered after 60 s counts as failed; the exit
// status is non-zero if any failed.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const BIN = path.resolve(arg('--bin', path.join(ROOT, 'korio')));
const SECONDS = Number(arg('--seconds', 10));
const CONC = Number(arg('--conc', 100));
const WORKERS = Number(arg('--workers', 2));
const HANGUP = Number(arg('--hangup', 100));
const ONE_ADDRESS = args.includes('--one-address');
const PROBE_EVERY = 50;
const PROBE_TIMEOUT = 60000;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function request(port, method, p, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const r = http.request({
      host: '127.0.0.1', port, method, path: p, agent: false,
      headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...headers },
    }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    r.setTimeout(PROBE_TIMEOUT, () => r.destroy(new Error('timeout')));
    r.on('error', reject);
    r.end(payload);
  });
}

// One login that hangs up after HANGUP ms; resolves to the status it got
// before that, or 0.
let seq = 0;
function floodOne(port) {
  return new Promise((resolve) => {
    seq++;
    const payload = JSON.stringify({ email: `nobody-${seq}@example.com`, password: 'wrong' });
    const xff = ONE_ADDRESS ? '' : `X-Forwarded-For: 10.${(seq >> 16) & 255}.${(seq >> 8) & 255}.${seq & 255}\r\n`;
    let status = 0;
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(`POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(payload)}\r\n${xff}\r\n${payload}`);
    });
    s.on('data', (d) => {
      const m = /^HTTP\/1\.1 (\d+)/.exec(d.toString('latin1'));
      if (m && status === 0) status = Number(m[1]);
    });
    s.on('error', () => {});
    setTimeout(() => { s.destroy(); resolve(status); }, HANGUP);
  });
}

async function probe(port, token) {
  const t0 = performance.now();
  const r = await request(port, 'GET', '/auth/me', undefined, { authorization: `Bearer ${token}` });
  if (r.status !== 200) throw new Error(`GET /auth/me: ${r.status} ${r.text}`);
  return performance.now() - t0;
}

function summary(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  const f = (v) => (v < 10 ? v.toFixed(2) : v.toFixed(0));
  return `n=${s.length} p50=${f(q(0.5))} ms p90=${f(q(0.9))} ms p99=${f(q(0.99))} ms max=${f(s[s.length - 1])} ms`;
}

const port = await freePort();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'korio-flood-'));
const child = spawn(BIN, ['-fnr'], {
  cwd: dataDir,
  env: { PATH: process.env.PATH, PORT: String(port), BIND: '127.0.0.1', WORKERS: String(WORKERS), DATA_DIR: dataDir },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let log = '';
child.stdout.on('data', (d) => { log += d; });
child.stderr.on('data', (d) => { log += d; });

let code = 0;
try {
  for (let i = 0; ; i++) {
    try {
      if ((await request(port, 'GET', '/healthz')).status === 200) break;
    } catch {
      // not yet listening
    }
    if (i > 200) throw new Error(`korio did not start:\n${log}`);
    await sleep(50);
  }
  const su = await request(port, 'POST', '/auth/signup', { email: 'probe@example.com', password: 'probe pw' });
  if (su.status !== 200) throw new Error(`signup: ${su.status} ${su.text}`);
  const { token } = JSON.parse(su.text).data;

  const idle = [];
  for (let i = 0; i < 100; i++) idle.push(await probe(port, token));

  const answers = new Map();
  let sent = 0;
  let stop = false;
  const flooders = Array.from({ length: CONC }, async () => {
    while (!stop) {
      const st = await floodOne(port);
      sent++;
      answers.set(st, (answers.get(st) ?? 0) + 1);
    }
  });
  const during = [];
  const probes = [];
  let failed = 0;
  const end = Date.now() + SECONDS * 1000;
  await sleep(200);
  while (Date.now() < end) {
    probes.push(probe(port, token).then((ms) => during.push(ms), () => { failed++; }));
    await sleep(PROBE_EVERY);
  }
  stop = true;
  await Promise.all(flooders);
  await Promise.all(probes);

  const got = [...answers.entries()].sort((a, b) => a[0] - b[0])
    .map(([st, n]) => `${st === 0 ? 'none (hung up first)' : st}: ${n}`).join(', ');
  console.log(`korio ${BIN}, WORKERS=${WORKERS}, ${os.cpus().length} CPUs`);
  console.log(`flood: ${CONC} clients, ${SECONDS} s, hang-up after ${HANGUP} ms, ` +
    `${ONE_ADDRESS ? 'one address' : 'one address per login'}: ${sent} logins (${got})`);
  console.log(`GET /auth/me idle:         ${summary(idle)}`);
  console.log(`GET /auth/me during flood: ${during.length ? summary(during) : 'none answered'}` +
    (failed ? `, ${failed} failed` : ''));
  if (failed) code = 1;
} catch (e) {
  console.error(e.message);
  code = 1;
} finally {
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10000);
  await new Promise((r) => child.once('exit', r));
  clearTimeout(t);
  fs.rmSync(dataDir, { recursive: true, force: true });
}
process.exit(code);
