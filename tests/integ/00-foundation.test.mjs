// Foundation: the binary starts from the environment, keeps dev secrets,
// refuses to start in production without them, answers /healthz, logs each
// line once, and keeps Kore's sandbox on; --version and --help answer
// without starting anything.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { startKorio, tempDir, freePort, SLOW, KORIO_BIN } from "./harness.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

describe("foundation", () => {
  let srv;
  before(async () => {
    srv = await startKorio({ workers: 2 });
  });
  after(async () => {
    await srv?.stop();
  });

  test("GET /healthz answers 200 {status:ok}", async () => {
    const r = await fetch(`${srv.url}/healthz`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type"), /application\/json/);
    assert.deepEqual(await r.json(), { status: "ok" });
  });

  test("GET /livez and /readyz answer 200 {status:ok}, whatever the Authorization header", async () => {
    for (const path of ["/livez", "/readyz"]) {
      for (const headers of [{}, { authorization: "Bearer not.a.token" }]) {
        const r = await fetch(`${srv.url}${path}`, { headers });
        assert.equal(r.status, 200, path);
        assert.deepEqual(await r.json(), { status: "ok" });
      }
    }
  });

  test("GET /realtime/health answers as Terreno's: clients, debug, status", async () => {
    const r = await fetch(`${srv.url}/realtime/health`, { headers: { authorization: "Bearer x" } });
    assert.equal(r.status, 200);
    const body = await r.json();
    assert.deepEqual(Object.keys(body).sort(), ["clients", "debug", "status"]);
    assert.equal(body.status, "running");
    assert.equal(body.debug, false);
    assert.equal(typeof body.clients, "number");
    // A handshake opens an Engine.IO session that counts.
    const h = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(h.status, 200);
    const after = await (await fetch(`${srv.url}/realtime/health`)).json();
    assert.ok(after.clients >= 1, JSON.stringify(after));
  });

  test("GET /healthz refuses a bad token (401) and ignores Bearer null", async () => {
    const bad = await fetch(`${srv.url}/healthz`, { headers: { authorization: "Bearer not.a.token" } });
    assert.equal(bad.status, 401);
    assert.deepEqual(await bad.json(), { status: 401, title: "Unauthorized" });
    const none = await fetch(`${srv.url}/healthz`, { headers: { authorization: "Bearer null" } });
    assert.equal(none.status, 200);
  });

  test("an unknown route is 404", async () => {
    const r = await fetch(`${srv.url}/no/such/route`);
    assert.equal(r.status, 404);
  });

  test("dev mode generates token secrets under DATA_DIR, mode 0600, and says so", async () => {
    for (const f of ["token_secret", "refresh_token_secret"]) {
      const p = path.join(srv.dataDir, f);
      const st = fs.statSync(p);
      assert.equal(st.mode & 0o777, 0o600);
      assert.match(fs.readFileSync(p, "utf8"), /^[0-9a-f]{64}\n$/);
    }
    assert.match(srv.logs(), /TOKEN_SECRET not set, generated one and kept it in/);
    // The secret itself never reaches the log.
    const secret = fs.readFileSync(path.join(srv.dataDir, "token_secret"), "utf8").trim();
    assert.ok(!srv.logs().includes(secret));
  });

  test("start-up lines are logged once, not once per worker", () => {
    const lines = srv.logs().split("\n").filter((l) => /korio: development mode/.test(l));
    assert.equal(lines.length, 1, srv.logs());
  });

  test("the workers run sandboxed (seccomp filter loaded)", async () => {
    // Several requests across both workers; a sandbox violation kills the
    // worker, which stop() reports from the log.
    await Promise.all(Array.from({ length: 20 }, () => fetch(`${srv.url}/healthz`).then((r) => r.text())));
    assert.doesNotMatch(srv.logs(), /seccomp_tracing|sandbox violation/);
  });
});

describe("start-up settings", () => {
  test("dev secrets are reused on the next start", async () => {
    const dataDir = tempDir();
    const a = await startKorio({ dataDir, workers: 1 });
    await a.stop();
    const first = fs.readFileSync(path.join(dataDir, "token_secret"), "utf8");
    const b = await startKorio({ dataDir, workers: 1 });
    const out = await b.stop();
    assert.equal(fs.readFileSync(path.join(dataDir, "token_secret"), "utf8"), first);
    assert.match(out, /using the one kept in/);
  });

  test("production refuses to start without TOKEN_SECRET", async () => {
    const s = await startKorio({ env: { KORIO_ENV: "production" }, wait: false });
    const { code } = await s.exited;
    assert.notEqual(code, 0);
    assert.match(s.logs(), /TOKEN_SECRET is required when KORIO_ENV=production/);
  });

  test("production starts with both secrets from the environment", async () => {
    const s = await startKorio({
      workers: 1,
      env: {
        KORIO_ENV: "production",
        TOKEN_SECRET: "a".repeat(32),
        REFRESH_TOKEN_SECRET: "b".repeat(32),
      },
    });
    const out = await s.stop();
    assert.match(out, /production mode/);
    assert.ok(!fs.existsSync(path.join(s.dataDir, "token_secret")));
  });

  test("a bad PORT is a clear start-up error", async () => {
    const s = await startKorio({ env: { PORT: "99999" }, wait: false });
    const { code } = await s.exited;
    assert.notEqual(code, 0);
    assert.match(s.logs(), /PORT: expected a number from 1 to 65535, got '99999'/);
  });

  test("a bad duration is a clear start-up error", async () => {
    const s = await startKorio({ env: { TOKEN_EXPIRES_IN: "soon" }, wait: false });
    const { code } = await s.exited;
    assert.notEqual(code, 0);
    assert.match(s.logs(), /TOKEN_EXPIRES_IN: expected a duration/);
  });

  test("WORKERS sets the number of worker processes", async () => {
    const s = await startKorio({ workers: 3 });
    const out = await s.stop();
    const started = new Set([...out.matchAll(/\[wrk (\d+)\]/g)].map((m) => m[1]));
    assert.equal(started.size, 3, out);
  });

  test("GET /healthz answers 503 when the store is unreachable", { timeout: 60000 * SLOW }, async () => {
    const closed = await freePort();
    const s = await startKorio({
      workers: 1,
      wait: false,
      mongo: false,
      env: { MONGODB_URI: `mongodb://127.0.0.1:${closed}/korio?serverSelectionTimeoutMS=300&connectTimeoutMS=300` },
    });
    let status = 0;
    const deadline = Date.now() + 20000 * SLOW;
    while (Date.now() < deadline) {
      try {
        const r = await fetch(`${s.url}/healthz`);
        status = r.status;
        assert.deepEqual(await r.json(), { status: "unavailable" });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    // /readyz says so too; /livez does not check the store.
    const ready = await fetch(`${s.url}/readyz`);
    const live = await fetch(`${s.url}/livez`);
    await s.stop();
    assert.equal(status, 503);
    assert.equal(ready.status, 503);
    assert.deepEqual(await ready.json(), { status: "unavailable" });
    assert.equal(live.status, 200);
  });
});

describe("command line", () => {
  // The binary alone: no setting, a scratch working directory that must
  // stay empty (no data directory, no kore.pid).
  function korio(...args) {
    const cwd = tempDir();
    const r = spawnSync(KORIO_BIN, args, { cwd, env: { PATH: process.env.PATH }, encoding: "utf8", timeout: 10000 * SLOW });
    const left = fs.readdirSync(cwd);
    fs.rmSync(cwd, { recursive: true });
    assert.deepEqual(left, [], `korio ${args.join(" ")} left files behind`);
    return r;
  }

  test("--version names korio's version and commit, Kore and each library with its version", () => {
    const version = /^#define KORIO_VERSION "(.*)"$/m.exec(fs.readFileSync(path.join(root, "src/app/app.h"), "utf8"))[1];
    const r = korio("--version");
    assert.equal(r.status, 0, r.stderr);
    const m = /^korio (\S+) \(commit (\S+)\)$/m.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.equal(m[1], version);
    // In a git checkout, one of its commits (the binary may predate
    // HEAD); in a plain copy of the tree, "unknown".
    let git = true;
    try {
      execFileSync("git", ["-C", root, "rev-parse", "--git-dir"], { stdio: "ignore" });
    } catch {
      git = false;
    }
    if (git) {
      assert.match(m[2], /^[0-9a-f]{7,40}$/);
      execFileSync("git", ["-C", root, "cat-file", "-e", `${m[2]}^{commit}`]);
    } else {
      assert.match(m[2], /^([0-9a-f]{7,40}|unknown)$/);
    }
    for (const lib of ["kore", "jansson", "libjwt", "libmongoc", "sqlite", "openssl", "libunistring"]) {
      assert.match(r.stdout, new RegExp(`^${lib} \\d+\\.\\d+(\\.\\d+)?\\b`, "m"), `${lib} in:\n${r.stdout}`);
    }
    assert.equal(korio("-v").stdout, r.stdout);
  });

  test("--help prints the usage and exits 0; an unknown option is an error", () => {
    for (const flag of ["--help", "-h"]) {
      const r = korio(flag);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^Usage: korio /);
      assert.match(r.stdout, /--version/);
    }
    for (const flag of ["--verbose", "-x", "-fz"]) {
      const r = korio(flag);
      assert.equal(r.status, 1, flag);
      assert.match(r.stderr, new RegExp(`unknown option ${flag}`));
      assert.match(r.stderr, /Usage: korio /);
      assert.equal(r.stdout, "");
    }
  });
});
