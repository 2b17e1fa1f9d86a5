// bench/lib.mjs: what the benchmark drivers (run.mjs, up.mjs, cluster.mjs)
// share: the command line and environment, the process tree under
// /proc, and number formatting for their tables.

import fs from 'node:fs';
import os from 'node:os';

export const args = process.argv.slice(2);

// The value after a --name on the command line, or def.
export const arg = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};

// An environment setting, or d when it is unset or empty.
export const env = (k, d) => (process.env[k] !== undefined && process.env[k] !== '' ? process.env[k] : d);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

export const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

// A number with d decimals for a table, '-' when there is none.
export const f = (v, d = 1) => (v === undefined || v === null || Number.isNaN(v) ? '-' : Number(v).toFixed(d));

// pid -> parent pid of every process.
export function procTable() {
  const t = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      t.set(Number(d), Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]));
    } catch { /* gone */ }
  }
  return t;
}

// Every process below pid (its children, theirs, ...).
export function descendants(pid) {
  const t = procTable();
  const out = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [p, pp] of t) if (!out.has(p) && out.has(pp)) { out.add(p); grew = true; }
  }
  out.delete(pid);
  return [...out];
}

// Stops a server started by a driver ({ proc, kids, exited }): SIGTERM,
// graceMs for it to exit, then SIGKILL, and every process it had below it.
export async function stopServer(s, graceMs) {
  s.stopping = true;
  s.kids = [...new Set([...(s.kids || []), ...descendants(s.proc.pid)])];
  if (!s.exited) s.proc.kill('SIGTERM');
  const t0 = Date.now();
  while (!s.exited && Date.now() - t0 < graceMs) await sleep(50);
  if (!s.exited) { s.proc.kill('SIGKILL'); await sleep(200); }
  for (let i = 0; i < 100 && s.kids.some(alive); i++) await sleep(50);
  for (const k of s.kids) if (alive(k)) { try { process.kill(k, 'SIGKILL'); } catch { } }
  s.stopped = true;
}
