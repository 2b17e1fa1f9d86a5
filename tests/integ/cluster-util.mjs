// Clusters over Redis for the tests: a real redis-server on loopback,
// started and stopped by the test, and nodes of either kind, the Node peer
// (bench/peer/server.js, @socket.io/redis-adapter) or korio, sharing one
// Redis, one MongoDB database (KORIO_TEST_MONGODB_URI, set by
// run-mongo.mjs) and one pair of token secrets.
//
//   const redis = await startRedis();
//   const nodes = await startCluster(["peer", "peer", "korio"], { redis });
//   ... nodes[i].url, nodes[i].kind, nodes[i].kill9(), nodes[i].stop()
//   await stopAll(nodes); await redis.stop();

import { execFile, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { promisify } from "node:util";

import { freePort, startServer, tempDir, SLOW } from "./harness.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
export const PEER_JS = path.join(root, "bench/peer/server.js");
const run = promisify(execFile);

// Starts redis-server on a free loopback port (or opts.port), without
// persistence, and resolves once it accepts connections. The handle:
//   { url, port, cli(...args) -> stdout, lines(...args) -> [line], kill9(),
//     start(), restart(), stop() }
// restart() is a crash and a new server on the same port: the data is gone.
export async function startRedis(opts = {}) {
  const port = opts.port ?? (await freePort());
  const dir = tempDir("korio-redis-");
  let child = null;
  let log = "";

  async function start() {
    log = "";
    child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1",
      "--save", "", "--appendonly", "no", "--dir", dir], { stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.exited = exited;
    const ready = new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`redis-server not ready in 10 s:\n${log}`)), 10000 * SLOW);
      const onLine = (line) => {
        log += line + "\n";
        if (/Ready to accept connections/.test(line)) {
          clearTimeout(t);
          resolve();
        }
      };
      readline.createInterface({ input: child.stdout }).on("line", onLine);
      readline.createInterface({ input: child.stderr }).on("line", onLine);
      child.once("error", (e) => {
        clearTimeout(t);
        reject(new Error(`redis-server: ${e.message} (conf/install-deps.sh installs it)`));
      });
      exited.then((code) => {
        clearTimeout(t);
        reject(new Error(`redis-server exited (${code}):\n${log}`));
      });
    });
    await ready;
    // Kept in the background (a harness's shared server): nothing of it
    // holds this process open; its exit handler kills it.
    if (opts.unref) {
      child.stdout.destroy();
      child.stderr.destroy();
      child.unref();
    }
  }

  async function kill9() {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await child.exited;
    }
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async cli(...args) {
      const { stdout } = await run("redis-cli", ["-p", String(port), "--no-raw", ...args]);
      return stdout;
    },
    async lines(...args) {
      // --raw prints one element a line: enough for SMEMBERS, HKEYS.
      const { stdout } = await run("redis-cli", ["-p", String(port), "--raw", ...args]);
      return stdout.split("\n").filter((l) => l !== "");
    },
    start,
    kill9,
    async restart() {
      await kill9();
      await start();
    },
    async stop() {
      await kill9();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Secrets every node of a cluster shares.
export function clusterSecrets() {
  return {
    TOKEN_SECRET: crypto.randomBytes(24).toString("hex"),
    REFRESH_TOKEN_SECRET: crypto.randomBytes(24).toString("hex"),
  };
}

// The Node peer as a cluster node: one process (opts.workers: node:cluster
// workers, each a node), REDIS_URL when opts.redis is given, MongoDB
// database opts.dbName, the debug events on.
export function startPeer(opts = {}) {
  return startServer({
    ...opts,
    bin: process.execPath,
    args: [PEER_JS],
    workers: opts.workers ?? 1,
    env: {
      KORIO_DEBUG_ENDPOINTS: "true",
      ...(opts.redis ? { REDIS_URL: opts.redis.url } : {}),
      ...opts.secrets,
      ...opts.env,
    },
  });
}

// korio as a cluster node: the same settings (opts.workers, default 2),
// leading its own process group (kill9() below takes its workers too).
export function startKorioNode(opts = {}) {
  return startServer({
    ...opts,
    group: true,
    workers: opts.workers ?? 2,
    env: {
      KORIO_DEBUG_ENDPOINTS: "true",
      ...(opts.redis ? { REDIS_URL: opts.redis.url } : {}),
      ...opts.secrets,
      ...opts.env,
    },
  });
}

// Starts one node per entry of kinds ("peer" or "korio"), two at a time, on
// one Redis, one database and one pair of secrets. Resolves to the handles
// (startServer's), each with .kind, plus .secrets and .dbName on the
// array; if any fails to start, the others are stopped.
export async function startCluster(kinds, { redis, secrets = clusterSecrets(),
  dbName = `korio_cluster_${process.pid}_${Date.now()}`, env = {} } = {}) {
  const starts = { peer: startPeer, korio: startKorioNode };
  for (const kind of kinds) if (!starts[kind]) throw new Error(`unknown node kind ${kind}`);
  const settled = [];
  // Two at a time: more starting at once on two cores can take past the
  // harness's start-up timeout.
  for (let i = 0; i < kinds.length; i += 2) {
    settled.push(...await Promise.allSettled(kinds.slice(i, i + 2).map(async (kind) => {
      const node = await starts[kind]({ redis, secrets, dbName, env });
      node.kind = kind;
      // A crash of the whole node: korio's workers die with its parent.
      if (kind === "korio") node.kill9 = node.kill9Group;
      return node;
    })));
    if (settled.some((r) => r.status === "rejected")) break;
  }
  const nodes = settled.filter((r) => r.status === "fulfilled").map((r) => r.value);
  const failed = settled.find((r) => r.status === "rejected");
  if (failed) {
    await stopAll(nodes);
    throw failed.reason;
  }
  nodes.secrets = secrets;
  nodes.dbName = dbName;
  return nodes;
}

export async function stopAll(nodes) {
  await Promise.all(nodes.map((n) => n.stop({ allowBadLog: true }).catch(() => {})));
}
