// Test harness: starts the real korio binary (or the Socket.IO fixture) on a
// free loopback port with a given environment, waits for it to answer, and
// stops it again, failing the test if the process logged a sanitizer report,
// a sandbox violation or a dead worker.

import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

export const KORIO_BIN = process.env.KORIO_BIN ?? path.join(root, "korio");
export const FIXTURE_BIN = process.env.FIXTURE_BIN ?? path.join(root, "tests/fixture/sio-fixture");
export const VARIANT = process.env.KORIO_VARIANT ?? "plain";
// Sanitizer builds start and run slower.
export const SLOW = VARIANT === "asan" ? 4 : 1;

const BAD_LOG = [
  /AddressSanitizer/,
  /LeakSanitizer/,
  /runtime error:/,
  /sandbox violation/,
  /died from/,
  /worker \d+ \(\d+\) exited/,
];

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix = "korio-test-") {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// Returns a handle on a running server:
//   { url, port, dataDir, child, logs(), waitForLog(re), stop() }
// Options: env (merged over a minimal environment), workers, dataDir, bin,
// port, wait (false: don't wait for /healthz), expectExit.
export async function startServer(opts = {}) {
  const bin = opts.bin ?? KORIO_BIN;
  const port = opts.port ?? (await freePort());
  const dataDir = opts.dataDir ?? tempDir();
  const env = {
    PATH: process.env.PATH,
    PORT: String(port),
    BIND: "127.0.0.1",
    WORKERS: String(opts.workers ?? 2),
    DATA_DIR: dataDir,
    // LeakSanitizer stops the world with ptrace(), which Kore's seccomp
    // sandbox (rightly) forbids in workers: leaks are checked by the unit
    // tests and by RSS/fd counts here, memory errors by ASan itself.
    ASAN_OPTIONS: "detect_leaks=0:abort_on_error=0:halt_on_error=1",
    UBSAN_OPTIONS: "print_stacktrace=1:halt_on_error=1",
    ...(process.env.KORIO_TEST_MONGODB_URI && opts.mongo !== false
      ? { MONGODB_URI: process.env.KORIO_TEST_MONGODB_URI + `korio_${port}` }
      : {}),
    ...opts.env,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];

  const child = spawn(bin, opts.args ?? ["-fnr"], {
    cwd: opts.cwd ?? dataDir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const waiters = new Set();
  const onData = (d) => {
    out += d.toString();
    for (const w of waiters) w();
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const exited = new Promise((resolve) => child.on("exit", (code, sig) => resolve({ code, sig })));

  const url = `http://127.0.0.1:${port}`;
  const handle = {
    url,
    port,
    dataDir,
    child,
    env,
    exited,
    logs: () => out,
    async waitForLog(re, ms = 5000 * SLOW) {
      const deadline = Date.now() + ms;
      while (!re.test(out)) {
        if (Date.now() > deadline) throw new Error(`log ${re} not seen; log:\n${out}`);
        await new Promise((r) => {
          const t = setTimeout(r, 50);
          const w = () => { clearTimeout(t); waiters.delete(w); r(); };
          waiters.add(w);
        });
      }
    },
    async stop({ allowBadLog = false } = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 10000 * SLOW);
        await exited;
        clearTimeout(t);
      }
      if (!allowBadLog) checkLog(out);
      return out;
    },
    async kill9() {
      child.kill("SIGKILL");
      await exited;
      // Workers are separate processes: make sure none is left behind.
      await sleep(200);
    },
  };

  if (opts.wait === false) return handle;
  try {
    await waitHealthy(url, exited, 15000 * SLOW);
  } catch (e) {
    child.kill("SIGKILL");
    throw new Error(`${e.message}\nserver log:\n${out}`);
  }
  return handle;
}

export function checkLog(out) {
  for (const re of BAD_LOG) {
    if (re.test(out)) throw new Error(`server log matches ${re}:\n${out}`);
  }
}

export async function waitHealthy(url, exited, ms) {
  const deadline = Date.now() + ms;
  let done = false;
  exited?.then(() => { done = true; });
  while (Date.now() < deadline) {
    if (done) throw new Error("server exited during start-up");
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`server at ${url} not healthy within ${ms} ms`);
}

export const startKorio = (opts = {}) => startServer({ ...opts, bin: opts.bin ?? KORIO_BIN });
