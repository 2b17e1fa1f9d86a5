// A real redis-server for the cluster tests (60-redis, 62-redis-presence):
// on loopback, on the given port, without persistence, in dir. Resolves to
// the child once it accepts connections; stopRedis() kills it (a crash:
// what it held is gone), and startRedis() on the same port and dir is a
// restart.

import { spawn } from "node:child_process";

import { SLOW } from "../harness.mjs";

export function startRedis(port, dir) {
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "",
    "--appendonly", "no", "--dir", dir], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => { out += d; });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10000 * SLOW);
    const check = () => {
      if (/Ready to accept connections/.test(out)) {
        clearTimeout(t);
        resolve(child);
      }
    };
    child.stdout.on("data", check);
    child.on("exit", (c) => reject(new Error(`redis-server exited ${c}: ${out}`)));
  });
}

export async function stopRedis(child) {
  if (child.exitCode !== null) return;
  child.removeAllListeners("exit");
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
}
