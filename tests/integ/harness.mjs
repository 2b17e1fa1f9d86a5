// Test harness: starts the real korio binary (or the Socket.IO fixture) on a
// free loopback port with a given environment, waits for it to answer, and
// stops it again, failing the test if the process logged a sanitizer report,
// a sandbox violation or a dead worker.
//
// With KORIO_TEST_LOG_DIR set (make integ sets it), every server log it
// captures is kept there when the server exits, with the secrets of that
// run: the token secrets of its DATA_DIR and environment, and every
// password the REST client sent and token it got. 99-log-secrets.test.mjs,
// the last file of the run, scans them all (scanLogSecrets()).

import { execFileSync, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

export const KORIO_BIN = path.resolve(process.env.KORIO_BIN ?? path.join(root, "korio"));
export const FIXTURE_BIN = path.resolve(process.env.FIXTURE_BIN ?? path.join(root, "tests/fixture/sio-fixture"));
export const VARIANT = process.env.KORIO_VARIANT ?? "plain";
// Sanitizer builds start and run slower.
export const SLOW = VARIANT === "asan" ? 4 : 1;

// KORIO_LAUNCH (JSON) starts KORIO_BIN as something else would, e.g. as
// its systemd unit does (tests/integ/43-package.test.mjs):
//   { "prefix": ["setpriv", "--no-new-privs", "--"], "args": ["-fnr"],
//     "env": { "NAME": "value" }, "uid": 65534, "gid": 65534 }
// prefix is the command line before the binary; args replace -fnr unless a
// test gives its own; env lies under the settings below (PORT, DATA_DIR,
// ... and a test's own env win); uid and gid are the user korio runs as,
// who is given each data directory. The fixture is started as usual.
const LAUNCH = process.env.KORIO_LAUNCH ? JSON.parse(process.env.KORIO_LAUNCH) : null;

const BAD_LOG = [
  /AddressSanitizer/,
  /LeakSanitizer/,
  /runtime error:/,
  /sandbox violation/,
  /died from/,
  // Kore: "worker [wrk 1] (1234) exited with status 11" for a crash.
  /worker \[wrk \d+\] \(\d+\) exited with status/,
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

// ---- the run's logs and secrets (KORIO_TEST_LOG_DIR) ----------------------

const LOG_DIR = process.env.KORIO_TEST_LOG_DIR;
const LOG_NAME = path.basename(process.argv[1] ?? "node").replace(/[^\w.-]/g, "_");
const runSecrets = new Set();
let logSeq = 0;

// A secret this run used (a password, token or key), for the final scan.
export function recordSecret(s) {
  if (LOG_DIR && typeof s === "string" && s !== "") runSecrets.add(s);
}

function writeSecrets() {
  if (!LOG_DIR || runSecrets.size === 0) return;
  fs.mkdirSync(LOG_DIR, { recursive: true });
  fs.writeFileSync(path.join(LOG_DIR, `${LOG_NAME}-${process.pid}.secrets.json`),
    JSON.stringify([...runSecrets]));
}
process.on("exit", writeSecrets);

// When a server exits: the secrets its DATA_DIR and environment held.
function keepSecrets(dataDir, env) {
  if (!LOG_DIR) return;
  for (const f of ["token_secret", "refresh_token_secret"]) {
    try {
      recordSecret(fs.readFileSync(path.join(dataDir, f), "utf8").trim());
    } catch {
      // none: production, or a server that never got that far
    }
  }
  recordSecret(env.TOKEN_SECRET);
  recordSecret(env.REFRESH_TOKEN_SECRET);
  writeSecrets();
}

// Once its output is all read: its log.
function keepLog(out) {
  if (!LOG_DIR) return;
  fs.mkdirSync(LOG_DIR, { recursive: true });
  fs.writeFileSync(path.join(LOG_DIR, `${LOG_NAME}-${process.pid}-${++logSeq}.log`), out);
}

// Passwords the test suites use outside restClient (rt-util.mjs signup).
export const KNOWN_PASSWORDS = ["correct horse battery"];

// What in text gives a secret away: any of secrets (those shorter than 8
// characters are too likely to occur by chance, and are not looked for),
// the known test passwords, and anything shaped like a JWT. Returns a list
// of findings, each { what, where }: where is the text around it, the
// secret itself blanked out; [] when clean.
export function scanLogSecrets(text, secrets = []) {
  const found = [];
  const near = (i, len) => JSON.stringify(text.slice(Math.max(0, i - 60), i) +
    "<secret>" + text.slice(i + len, i + len + 40));
  for (const s of new Set([...secrets, ...KNOWN_PASSWORDS])) {
    if (typeof s !== "string" || s.length < 8) continue;
    const i = text.indexOf(s);
    if (i !== -1) found.push({ what: `a secret (${s.length} characters)`, where: near(i, s.length) });
  }
  const jwt = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
  for (const m of text.matchAll(jwt)) found.push({ what: "a JWT", where: near(m.index, m[0].length) });
  return found;
}

// Returns a handle on a running server:
//   { url, port, dataDir, child, logs(), waitForLog(re), stop(), kill9(),
//     kill9Group() }
// Options: env (merged over a minimal environment), workers, dataDir, bin,
// launch (as KORIO_LAUNCH, for this server), port, wait (false: don't
// wait for /healthz), expectExit, mongo (false:
// never MongoDB), proxy (false: never behind KORIO_TEST_PROXY), dbName (the MongoDB database when
// KORIO_TEST_MONGODB_URI is set; default korio_<port>), group (true: the
// server leads its own process group, so kill9Group() can SIGKILL the
// parent and every worker at once).
export async function startServer(opts = {}) {
  const bin = opts.bin ?? KORIO_BIN;
  const launch = opts.launch ?? (bin === KORIO_BIN ? LAUNCH : null);
  const port = opts.port ?? (await freePort());
  const dataDir = opts.dataDir ?? tempDir();
  const env = {
    ...launch?.env,
    PATH: process.env.PATH,
    PORT: String(port),
    BIND: "127.0.0.1",
    WORKERS: String(opts.workers ?? 2),
    DATA_DIR: dataDir,
    // LeakSanitizer stops the world with ptrace(), which Kore's seccomp
    // sandbox (rightly) forbids in workers: leaks are checked by the unit
    // tests and by RSS/fd counts here, memory errors by ASan itself.
    // symbolize=0: the symbolizer is a forked program, which the sandbox
    // refuses; reports carry addresses (addr2line -e <binary> resolves them).
    ASAN_OPTIONS: "detect_leaks=0:abort_on_error=0:halt_on_error=1:symbolize=0",
    UBSAN_OPTIONS: "print_stacktrace=1:halt_on_error=1:symbolize=0",
    // stop() is a SIGTERM: let a test's leftover sockets go at once, not
    // over the default 10 s (48-drain sets its own).
    DRAIN_SECONDS: "0",
    ...(process.env.KORIO_TEST_MONGODB_URI && opts.mongo !== false
      ? { MONGODB_URI: process.env.KORIO_TEST_MONGODB_URI + (opts.dbName ?? `korio_${port}`) }
      : {}),
    ...opts.env,
  };
  if (PROXY === "cluster" && opts.proxy !== false && bin === FIXTURE_BIN) {
    const redis = await (clusterRedis ??= import("./cluster-util.mjs").then((m) => m.startRedis({ unref: true })).then((r) => {
      process.on("exit", () => r.kill9());
      return r;
    }));
    env.REDIS_URL = redis.url;
    env.REDIS_PREFIX = `rr${port}`;
  }
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];

  const argv = [...(launch?.prefix ?? []), bin, ...(opts.args ?? launch?.args ?? ["-fnr"])];
  if (launch?.uid !== undefined) fs.chownSync(dataDir, launch.uid, launch.gid);
  const child = spawn(argv[0], argv.slice(1), {
    cwd: opts.cwd ?? dataDir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: opts.group === true,
    uid: launch?.uid,
    gid: launch?.gid,
  });
  let out = "";
  const waiters = new Set();
  const onData = (d) => {
    out += d.toString();
    for (const w of waiters) w();
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const exited = new Promise((resolve) => {
    child.on("exit", (code, sig) => {
      keepSecrets(dataDir, env);
      resolve({ code, sig });
    });
    child.on("close", () => keepLog(out));
    child.on("error", (err) => {
      out += `spawn failed: ${err.message}\n`;
      resolve({ code: -1, sig: null });
    });
  });

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
        // Kore loses a SIGQUIT that reaches a worker between fork() and
        // its signal set-up; the parent then waits for it forever. Ask
        // lingering workers again, and at last kill them with the parent
        // (an orphaned worker would keep this process's pipes open).
        const again = setTimeout(() => signalChildren(child.pid, "SIGQUIT"), 3000 * SLOW);
        const t = setTimeout(() => {
          signalChildren(child.pid, "SIGKILL");
          child.kill("SIGKILL");
        }, 10000 * SLOW);
        await exited;
        clearTimeout(again);
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
    // SIGKILL to the whole process group (needs opts.group): the parent
    // and its workers die at once, as in a power cut of the process tree.
    async kill9Group() {
      if (opts.group !== true) throw new Error("kill9Group needs opts.group");
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch (e) {
        if (e.code !== "ESRCH") throw e;
      }
      await exited;
      const deadline = Date.now() + 5000 * SLOW;
      while (groupAlive(child.pid)) {
        if (Date.now() > deadline) throw new Error("process group survived SIGKILL");
        await sleep(20);
      }
    },
  };

  if (PROXY && opts.proxy !== false) await behindProxy(handle, opts);
  if (opts.wait === false) return handle;
  try {
    await waitHealthy(handle.url, exited, 15000 * SLOW);
  } catch (e) {
    child.kill("SIGKILL");
    throw new Error(`${e.message}\nserver log:\n${out}`);
  }
  return handle;
}

// KORIO_TEST_PROXY=nginx (tests/integ/run-proxy.mjs): every server is
// reached through nginx with the README's configuration (nginx.mjs):
// url is the proxy's, directUrl the server's own, port still the
// server's. A server started again on its port is behind the same proxy
// port, so clients find it again there.
//
// KORIO_TEST_PROXY=cluster (run-proxy.mjs --cluster): the same, but each
// conformance server (the fixture; korio's cluster mode needs MongoDB) is
// one of two nodes joined over a redis-server of this test process, and
// nginx round-robins over both, without sticky sessions: every session
// is used through both nodes (the relay of engine_remote.c).
export const PROXY = process.env.KORIO_TEST_PROXY ?? "";
if (PROXY !== "" && PROXY !== "nginx" && PROXY !== "cluster") {
  throw new Error(`KORIO_TEST_PROXY=${PROXY}: nginx or cluster`);
}
const proxyPorts = new Map();
let clusterRedis = null;

// The second node of a fixture's pair, on the Redis of this process.
async function clusterTwin(handle, opts) {
  const env = { ...opts.env, REDIS_URL: handle.env.REDIS_URL, REDIS_PREFIX: handle.env.REDIS_PREFIX };
  return startServer({ ...opts, port: undefined, env, proxy: false });
}

async function behindProxy(handle, opts) {
  const { startNginx } = await import("./nginx.mjs");
  let twin = null;
  if (PROXY === "cluster" && handle.env.REDIS_URL !== undefined) {
    twin = await clusterTwin(handle, opts);
    handle.twin = twin;
    // Ready as a pair once both nodes listen on their relay channels (a
    // node answers HTTP before its Redis links are up).
    const redis = await clusterRedis;
    const deadline = Date.now() + 10000 * SLOW;
    while ((await redis.lines("PUBSUB", "CHANNELS", `${handle.env.REDIS_PREFIX}-korio-relay#*`)).length < 2) {
      if (Date.now() > deadline) throw new Error("cluster pair: relay channels not subscribed within 10 s");
      await sleep(20);
    }
  }
  const upstream = twin ? [handle.port, twin.port] : handle.port;
  const px = await startNginx(upstream, { port: proxyPorts.get(handle.port) });
  proxyPorts.set(handle.port, px.port);
  handle.directUrl = handle.url;
  handle.url = px.url;
  handle.proxy = px;
  for (const name of ["stop", "kill9", "kill9Group"]) {
    const inner = handle[name];
    handle[name] = async (...args) => {
      try {
        return await inner(...args);
      } finally {
        await px.stop();
        if (twin) await twin[name](...args).catch(() => {});
      }
    };
  }
}

// Sends sig to every live child process of pid (Kore's workers).
function signalChildren(pid, sig) {
  for (const p of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[1]) === pid && f[0] !== "Z") process.kill(Number(p), sig);
    } catch {
      // gone meanwhile
    }
  }
}

// A process of group pgid that is still running (zombies don't count:
// whether anything reaps them depends on what runs as PID 1).
function groupAlive(pgid) {
  for (const pid of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parens.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(f[2]) === pgid && f[0] !== "Z") return true;
  }
  return false;
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

// ---- REST helpers (the REST suites, tests 10-19) ---------------------------

// Which store the servers of this run use: KORIO_TEST_MONGODB_URI (set by
// run-mongo.mjs) means MongoDB, i.e. CongoDB in these tests.
export const BACKEND = process.env.KORIO_TEST_MONGODB_URI ? "mongo" : "sqlite";

// No response may carry a user's password hash or salt, anywhere.
export function assertNoHashSalt(v, where = "response") {
  if (Array.isArray(v)) {
    for (const x of v) assertNoHashSalt(x, where);
  } else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      if (k === "hash" || k === "salt") throw new Error(`${where} carries "${k}": ${JSON.stringify(v)}`);
      assertNoHashSalt(x, where);
    }
  }
}

// Fails if any of the given secrets (tokens, passwords, keys) is in text.
export function assertNoSecrets(text, secrets, where = "server log") {
  for (const s of secrets) {
    if (s && text.includes(s)) throw new Error(`${where} contains a secret (${s.slice(0, 6)}...)`);
  }
}

// A fetch client for one server. Each call resolves to
// { status, headers, text, body } (body: parsed JSON or undefined) and
// checks that no response leaks hash or salt.
//   opts.token: a JWT, or null for the literal "Bearer null"
//   opts.body: JSON-encoded; opts.raw: sent as is; opts.headers: extra
//   restClient(url, { record: true }): api.seen keeps every response text.
export function restClient(url, { record = false } = {}) {
  const seen = [];
  async function req(method, path, opts = {}) {
    const headers = { ...(opts.headers ?? {}) };
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    let payload;
    if (opts.raw !== undefined) {
      payload = opts.raw;
    } else if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      headers["content-type"] ??= "application/json";
    }
    const r = await fetch(url + path, { method, headers, body: payload });
    const text = await r.text();
    let body;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    recordSecret(opts.token ?? undefined);
    recordSecret(opts.body?.password);
    recordSecret(body?.data?.token);
    recordSecret(body?.data?.refreshToken);
    if (body !== undefined) assertNoHashSalt(body, `${method} ${path}`);
    if (record) seen.push(text);
    return { status: r.status, headers: r.headers, text, body };
  }
  const api = {
    url,
    seen,
    req,
    get: (path, opts) => req("GET", path, opts),
    del: (path, opts) => req("DELETE", path, opts),
    post: (path, body, opts = {}) => req("POST", path, { ...opts, body }),
    patch: (path, body, opts = {}) => req("PATCH", path, { ...opts, body }),
    put: (path, body, opts = {}) => req("PUT", path, { ...opts, body }),
    // Signs up; resolves to { email, password, token, refreshToken, userId }.
    async signup(email, password = `pw-${email}-${Math.random()}`) {
      const r = await req("POST", "/auth/signup", { body: { email, password } });
      if (r.status !== 200) throw new Error(`signup ${email}: ${r.status} ${r.text}`);
      return { email: email.toLowerCase(), password, ...r.body.data };
    },
  };
  return api;
}

// HS256 (or HS384/HS512, or "none") JWTs made here, to test what the
// server accepts without trusting its own minting.
export function jwtSign(payload, secret, header = { alg: "HS256", typ: "JWT" }) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const data = `${b64(header)}.${b64(payload)}`;
  const algo = { HS256: "sha256", HS384: "sha384", HS512: "sha512" }[header.alg];
  const sig = algo ? crypto.createHmac(algo, secret).update(data).digest("base64url") : "";
  return `${data}.${sig}`;
}

export function jwtDecode(token) {
  const [h, p] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(h, "base64url").toString()),
    payload: JSON.parse(Buffer.from(p, "base64url").toString()),
  };
}

export function jwtVerifies(token, secret) {
  const [h, p, sig] = token.split(".");
  const want = crypto.createHmac("sha256", secret).update(`${h}.${p}`).digest("base64url");
  return sig === want;
}

// passport-local-mongoose's scheme, computed by Node: salt = 32 random
// bytes as hex, hash = hex PBKDF2-HMAC-SHA256(password, salt hex text,
// 25000 iterations, 512 bytes).
export function plmHash(password, salt = crypto.randomBytes(32).toString("hex")) {
  const hash = crypto.pbkdf2Sync(password, salt, 25000, 512, "sha256").toString("hex");
  return { salt, hash };
}

export function objectIdHex() {
  const t = Math.floor(Date.now() / 1000).toString(16).padStart(8, "0");
  return t + crypto.randomBytes(8).toString("hex");
}

// Direct access to the users of a running server's store, bypassing korio:
// SQLite through the sqlite3 command line tool (the WAL database under
// DATA_DIR), MongoDB through the npm mongodb driver.
//   insertUser({_id, email, hash, salt, admin}), findUser(email),
//   countUsers(email), setAdmin(id, bool), close()
export async function openStore(srv) {
  if (srv.env.MONGODB_URI) return openMongoStore(srv.env.MONGODB_URI);
  return openSqliteStore(path.join(srv.dataDir, "korio.db"));
}

function openSqliteStore(dbPath) {
  const q = (s) => `'${String(s).replace(/'/g, "''")}'`;
  const run = (sql) => {
    let out;
    try {
      out = execFileSync("sqlite3", ["-json", "-cmd", ".timeout 5000", dbPath, sql], { encoding: "utf8" });
    } catch (e) {
      if (e.code === "ENOENT") throw new Error("the sqlite3 command line tool is needed (apt-get install sqlite3)");
      throw e;
    }
    return out.trim() === "" ? [] : JSON.parse(out);
  };
  const byEmail = (email) => `json_extract(doc, '$.email') = ${q(email)}`;
  return {
    async insertUser(u) {
      const now = new Date().toISOString();
      const doc = { admin: false, created: now, updated: now, __v: 0, ...u };
      run(`INSERT INTO users (id, doc) VALUES (${q(doc._id)}, ${q(JSON.stringify(doc))})`);
    },
    async findUser(email) {
      const rows = run(`SELECT doc FROM users WHERE ${byEmail(email)}`);
      return rows.length ? JSON.parse(rows[0].doc) : null;
    },
    async countUsers(email) {
      return run(`SELECT count(*) AS n FROM users WHERE ${byEmail(email)}`)[0].n;
    },
    async setAdmin(id, admin = true) {
      run(`UPDATE users SET doc = json_set(doc, '$.admin', json(${q(admin)})) WHERE id = ${q(id)}`);
    },
    async deleteUser(id) {
      run(`DELETE FROM users WHERE id = ${q(id)}`);
    },
    async close() {},
  };
}

async function openMongoStore(uri) {
  const { MongoClient, ObjectId } = await import("mongodb");
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const users = client.db().collection("users");
  const plain = (d) => d && { ...d, _id: d._id.toHexString(), created: d.created?.toISOString(), updated: d.updated?.toISOString() };
  return {
    async insertUser(u) {
      const now = new Date();
      await users.insertOne({ admin: false, created: now, updated: now, __v: 0, ...u, _id: new ObjectId(u._id) });
    },
    async findUser(email) {
      return plain(await users.findOne({ email }));
    },
    async countUsers(email) {
      return users.countDocuments({ email });
    },
    async setAdmin(id, admin = true) {
      await users.updateOne({ _id: new ObjectId(id) }, { $set: { admin } });
    },
    async deleteUser(id) {
      await users.deleteOne({ _id: new ObjectId(id) });
    },
    async close() {
      await client.close();
    },
  };
}
