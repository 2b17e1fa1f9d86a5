// Runs the integration suite's Socket.IO cases through nginx, configured
// with conf/nginx-korio.conf (the README's configuration): with
// KORIO_TEST_PROXY=nginx the harness puts an nginx in front of every
// server it starts and hands tests the proxy's URL (tests/integ/nginx.mjs).
//
//   node tests/integ/run-proxy.mjs [--cluster] [test files...]
//
// --cluster (KORIO_TEST_PROXY=cluster): each conformance server is two
// nodes joined by Redis behind a round-robin nginx, no sticky sessions
// (the plugin's suites 20-23 and 25 only: korio's own cluster mode needs
// MongoDB, and 65-cluster-balancer covers it).
//
// Default files: the plugin's transports, messages, namespaces, reconnect
// after a restart and Engine.IO over HTTP (20-23, 25; on two workers
// only), korio's realtime events and presence (30) and Terreno's sync
// protocol (36). Left out: 24 (pins connections to workers on korio's own
// port), 26 and 27 (the plugin's limits and leaks over raw TCP), 28
// (python-socketio's own HTTP stack; the same transports), 31-34 (worker
// kills, limits, revalidation and recovery cut connections on korio's
// port), 35 (rtk over the same events as 36). Cases of the chosen files
// that test korio's raw TCP behaviour skip themselves under the proxy,
// each with its reason.

import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { nginxBin } from "./nginx.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

function defaultFiles(cluster) {
  const dir = path.join(root, "tests/integ");
  const re = cluster ? /^(2[01235])-.*\.test\.mjs$/ : /^(2[01235]|30|36)-.*\.test\.mjs$/;
  return fs.readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

nginxBin();
let argv = process.argv.slice(2);
const cluster = argv[0] === "--cluster";
if (cluster) argv = argv.slice(1);
const files = argv.length ? argv : defaultFiles(cluster);
console.log(cluster
  ? "# through nginx round-robin over two nodes joined by Redis, no sticky sessions: Socket.IO suites"
  : "# through nginx (conf/nginx-korio.conf): Socket.IO suites");
const jobs = process.env.INTEG_JOBS ?? "1";
const child = spawn(process.execPath, ["--test", `--test-concurrency=${jobs}`, ...files], {
  stdio: "inherit",
  env: { ...process.env, KORIO_TEST_PROXY: cluster ? "cluster" : "nginx" },
});
child.on("exit", (code, sig) => process.exit(code ?? (sig ? 1 : 0)));
