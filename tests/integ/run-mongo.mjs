// Runs tests against MongoDB: prepares and starts CongoDB (tests/congo),
// runs the given command with the server's URI, stops CongoDB, and exits
// with the command's status.
//
//   node tests/integ/run-mongo.mjs [test files...]
//       node --test on the files (default: the foundation and REST suites,
//       00-* and 1[0-9]-*, the sync-event suites 35-* and 36-*, and the
//       write storm killed with kill -9 of 49-faults, and the cluster
//       suites 6[0-9]-*, which need MongoDB),
//       with KORIO_TEST_MONGODB_URI set so the harness starts every korio
//       on its own database; INTEG_JOBS files at once (default 1).
//   node tests/integ/run-mongo.mjs --exec program [args...]
//       program with MONGODB_URI set (the C store unit test).

import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const congo = path.join(root, "tests/congo");

function startCongo() {
  const setup = spawnSync("sh", [path.join(congo, "setup.sh")], { stdio: ["ignore", "inherit", "inherit"] });
  if (setup.status !== 0) throw new Error("tests/congo/setup.sh failed");

  const child = spawn(process.execPath, [path.join(congo, "launcher.mjs"), "0"], {
    cwd: congo,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("CongoDB did not start in 30 s")), 30000);
    child.on("exit", (code) => reject(new Error(`CongoDB exited (${code}) before READY`)));
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      const m = /^READY (mongodb:\/\/\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ child, uri: m[1].replace(/\/?$/, "/") });
      }
    });
  });
}

function defaultFiles() {
  const dir = path.join(root, "tests/integ");
  return fs.readdirSync(dir)
    .filter((f) => /^(00|1\d|3[56]|49|6[0-35-9])-.*\.test\.mjs$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

function run(cmd, args, env) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: "inherit", env: { ...process.env, ...env } });
    child.on("exit", (code, sig) => resolve(code ?? (sig ? 1 : 0)));
  });
}

const argv = process.argv.slice(2);
const { child, uri } = await startCongo();
let status;
try {
  if (argv[0] === "--exec") {
    console.log(`# CongoDB at ${uri}: ${argv.slice(1).join(" ")}`);
    status = await run(argv[1], argv.slice(2), { MONGODB_URI: uri });
  } else {
    const files = argv.length ? argv : defaultFiles();
    console.log(`# CongoDB at ${uri}: REST suites against MongoDB`);
    const jobs = process.env.INTEG_JOBS ?? "1";
    status = await run(process.execPath, ["--test", `--test-concurrency=${jobs}`, ...files], {
      KORIO_TEST_MONGODB_URI: uri,
    });
  }
} finally {
  child.removeAllListeners("exit");
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
}
process.exit(status);
