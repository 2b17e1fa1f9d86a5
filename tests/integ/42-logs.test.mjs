// Logs (issue 15). With LOG_FORMAT=json every line korio writes, Kore's own
// and the parent's included, is one JSON object {ts, level, msg, worker,
// req_id?, sid?}; text stays the default. Every answer carries an
// X-Request-ID, the client's X-Request-ID, X-Correlation-ID or traceparent
// trace-id when valid, else a new UUID, and the lines a request causes
// carry it as req_id, on the worker and on its pool threads; socket lines
// carry the socket's sid. Secrets, tokens and passwords never appear, in
// either format.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import {
  assertNoSecrets, BACKEND, jwtSign, objectIdHex, restClient, SLOW, startKorio,
} from "./harness.mjs";
import { io } from "socket.io-client";
import { connect, devSecret, emitAck, sleep, until } from "./rt-util.mjs";
import { rawHttp } from "./sio-util.mjs";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const LEVELS = new Set(["fatal", "error", "warn", "info", "debug"]);
const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT = `00-${TRACE}-00f067aa0ba902b7-01`;
const JWT_SHAPE = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\./;

// Every line of out as an object; fails on the first that is not one
// JSON object with the required fields.
function jsonLines(out) {
  const lines = out.split("\n").filter((l) => l !== "");
  assert.ok(lines.length > 0, "no log lines");
  return lines.map((l) => {
    let o;
    try {
      o = JSON.parse(l);
    } catch (e) {
      throw new Error(`log line is not JSON (${e.message}): ${JSON.stringify(l)}`);
    }
    assert.equal(typeof o, "object", l);
    assert.match(o.ts, ISO, l);
    assert.ok(LEVELS.has(o.level), l);
    assert.equal(typeof o.msg, "string", l);
    assert.ok(Number.isInteger(o.worker) && o.worker >= 0, l);
    for (const k of ["req_id", "sid"]) {
      if (k in o) assert.ok(typeof o[k] === "string" && o[k] !== "", l);
    }
    for (const k of Object.keys(o)) {
      assert.ok(["ts", "level", "msg", "worker", "req_id", "sid"].includes(k), `field ${k}: ${l}`);
    }
    return o;
  });
}

// The X-Request-ID of a raw HTTP/1.1 answer (lowercase header, as korio
// sends it), or undefined.
function rawId(answer) {
  const m = /\r\nx-request-id: ([^\r\n]*)\r\n/i.exec(answer);
  return m?.[1];
}

describe("LOG_FORMAT=json", { timeout: 120000 * SLOW }, () => {
  let srv;
  let api;
  let alice;

  before(async () => {
    srv = await startKorio({ workers: 2, env: { LOG_FORMAT: "json", WEBSOCKETS_DEBUG: "true" } });
    api = restClient(srv.url);
    alice = await api.signup("log-alice@example.com");
  });
  after(async () => {
    if (srv?.child.exitCode === null) await srv.stop();
  });

  test("X-Request-ID is taken, echoed on every answer, errors and 404s too", async () => {
    const id = "req-0b4f7a8e-8d2c-4d1a";
    const h = { "x-request-id": id };
    const answers = [
      await api.get("/healthz", { headers: h }),
      await api.get("/livez", { headers: h }),
      await api.get("/todos", { headers: h }),
      await api.get("/todos", { headers: h, token: alice.token }),
      await api.get(`/todos/${objectIdHex()}`, { headers: h, token: alice.token }),
      await api.put(`/todos/${objectIdHex()}`, {}, { headers: h, token: alice.token }),
      await api.post("/auth/login", { email: alice.email, password: "wrong password" }, { headers: h }),
      await api.req("OPTIONS", "/todos", { headers: h }),
      await api.get("/no/such/route", { headers: h }),
      await api.get("/", { headers: h }),
    ];
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 401, 200, 404, 405, 401, 204, 404, 200]);
    for (const r of answers) assert.equal(r.headers.get("x-request-id"), id);

    const nf = answers[8];
    assert.deepEqual(nf.body, { status: 404, title: "Not Found" });

    const poll = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling`, { headers: h });
    await poll.text();
    assert.equal(poll.headers.get("x-request-id"), id);
  });

  test("else X-Correlation-ID, else traceparent's trace-id, else a new UUID", async () => {
    const get = async (headers) => (await api.get("/livez", { headers })).headers.get("x-request-id");

    assert.equal(await get({ "x-correlation-id": "corr-42" }), "corr-42");
    assert.equal(await get({ traceparent: TRACEPARENT }), TRACE);
    assert.equal(await get({ "x-request-id": "first", "x-correlation-id": "second", traceparent: TRACEPARENT }), "first");
    assert.equal(await get({ "x-correlation-id": "second", traceparent: TRACEPARENT }), "second");

    const a = await get({});
    const b = await get({});
    assert.match(a, UUID);
    assert.match(b, UUID);
    assert.notEqual(a, b);

    // A traceparent that is not valid is no source.
    assert.match(await get({ traceparent: `00-${"0".repeat(32)}-00f067aa0ba902b7-01` }), UUID);
    assert.match(await get({ traceparent: "ff-" + TRACEPARENT.slice(3) }), UUID);
  });

  test("an id a client could abuse is replaced by a new one", async () => {
    const bad = [
      'quote"and\\backslash',
      "with space",
      "x".repeat(129),
      "y".repeat(3000),
      "semi;colon,comma",
      "<script>alert(1)</script>",
      "eyJhbGciOiJIUzI1NiJ9.eyJpZCI6IjEifQ.c2ln",
    ];
    for (const v of bad) {
      const h = v.length < 200 ? { "x-request-id": v, "x-correlation-id": v } : { "x-request-id": v };
      const r = await api.get("/livez", { headers: h });
      assert.equal(r.status, 200);
      assert.match(r.headers.get("x-request-id"), UUID, v.slice(0, 40));
    }
    assert.equal((await api.get("/livez", { headers: { "x-request-id": "x".repeat(128) } }))
      .headers.get("x-request-id"), "x".repeat(128));

    // Bytes fetch() would not send (control characters, non-ASCII, a
    // line break and a forged JSON line): Kore refuses such a head (400,
    // patches/03) before any route; were one let through, its id would
    // be a new one. Either way it is neither echoed nor logged.
    const forged = 'a"}\x0b{"level":"fatal","msg":"forged';
    for (const v of [forged, "tab\there", "caf\xc3\xa9", "nul\x01byte", "del\x7f", "a\r\nb"]) {
      const answer = await rawHttp(srv.port,
        `GET /livez HTTP/1.1\r\nHost: x\r\nX-Request-ID: ${v}\r\nConnection: close\r\n\r\n`);
      const id = rawId(answer);
      if (id !== undefined) assert.match(id, UUID, JSON.stringify(v));
      else assert.match(answer, /^HTTP\/1\.1 400 /, JSON.stringify(v));
    }
    assert.doesNotMatch(srv.logs(), /forged/);
  });

  test("a request's lines carry its id: the worker's and its pool thread's", { skip: BACKEND !== "sqlite" }, async () => {
    // A stored todo that is not an object: its read fails in the store,
    // on a pool thread ("sqlite: bad stored document"), and the answer is
    // 500, logged on the worker ("rest: load todo: ...").
    const id = objectIdHex();
    execFileSync("sqlite3", ["-cmd", ".timeout 5000", path.join(srv.dataDir, "korio.db"),
      `INSERT INTO todos (id, doc) VALUES ('${id}', '[]')`]);

    const rid = "corrupt-read-1";
    const r = await api.get(`/todos/${id}`, { token: alice.token, headers: { "x-request-id": rid } });
    assert.equal(r.status, 500);
    assert.equal(r.headers.get("x-request-id"), rid);

    await srv.waitForLog(/rest: load todo/);
    const lines = jsonLines(srv.logs());
    const store = lines.filter((l) => l.msg.startsWith("store: sqlite: bad stored document"));
    const rest = lines.filter((l) => l.msg.startsWith("rest: load todo"));
    assert.ok(store.length >= 1 && rest.length === 1, JSON.stringify(lines.slice(-5)));
    for (const l of [...store, ...rest]) {
      assert.equal(l.req_id, rid, JSON.stringify(l));
      assert.equal(l.level, "error");
      assert.ok(l.worker >= 1);
    }
    assert.equal(store[0].worker, rest[0].worker);
  });

  test("socket lines carry the sid; a polling request's lines its req_id too", async () => {
    const rid = "poll-req-7";
    const s = io(srv.url, {
      forceNew: true,
      reconnection: false,
      transports: ["polling"],
      extraHeaders: { "x-request-id": rid },
      auth: { token: `Bearer ${alice.token}` },
    });
    await new Promise((resolve, reject) => {
      s.once("connect", resolve);
      s.once("connect_error", reject);
    });
    const eid = s.io.engine.id;
    const sid = s.id;
    assert.deepEqual(await emitAck(s, "subscribe:todos"), { ok: true });
    s.close();

    await srv.waitForLog(new RegExp(`socket ${sid} of user \\w+ gone`));
    const lines = jsonLines(srv.logs());
    const open = lines.find((l) => l.msg === `eio: session ${eid} open (polling)`);
    assert.ok(open, "session open line");
    assert.equal(open.sid, eid);
    assert.equal(open.req_id, rid);

    const user = lines.find((l) => /^realtime: socket \S+ is user /.test(l.msg) && l.msg.includes(sid));
    assert.ok(user, "is user line");
    assert.equal(user.sid, sid);
    const gone = lines.find((l) => l.msg.startsWith(`realtime: socket ${sid} of user`) && l.msg.includes("gone"));
    assert.equal(gone.sid, sid);

    // Refused handshakes are logged with the socket's sid too.
    await assert.rejects(connect(srv, { token: "Bearer not.a.jwt" }), /Invalid token/);
    await srv.waitForLog(/refused: Invalid token/);
    const refused = jsonLines(srv.logs()).filter((l) => /realtime: socket \S+ refused: Invalid token/.test(l.msg));
    assert.ok(refused.length >= 1 && refused.every((l) => typeof l.sid === "string" && l.msg.includes(l.sid)));
  });

  test("every line is JSON, Kore's and the parent's included, start-up to goodbye", async () => {
    const out = await srv.stop();
    const lines = jsonLines(out);
    const has = (re, worker) => lines.some((l) => re.test(l.msg) && (worker === undefined || l.worker === worker));
    assert.ok(has(/^korio is starting up$/, 0), "Kore: starting up");
    assert.ok(has(/^seccomp sandbox enabled$/, 0), "Kore: seccomp");
    assert.ok(has(/^korio: development mode/, 0), "korio: mode");
    assert.ok(has(/^development: TOKEN_SECRET not set/, 0), "korio: dev secret");
    assert.ok(has(/^worker 1 started/, 1), "Kore: worker 1");
    assert.ok(has(/^worker 2 started/, 2), "Kore: worker 2");
    assert.ok(has(/^goodbye$/, 0), "Kore: goodbye");
    // Lines outside any request have no req_id.
    assert.ok(lines.filter((l) => /started|goodbye|starting up/.test(l.msg)).every((l) => !("req_id" in l)));
    assert.doesNotMatch(out, JWT_SHAPE);
  });

  test("a start-up error is a JSON line too", async () => {
    const s = await startKorio({ env: { LOG_FORMAT: "json", PORT: "99999" }, wait: false });
    const { code } = await s.exited;
    assert.notEqual(code, 0);
    const lines = jsonLines(s.logs());
    const fatal = lines.find((l) => l.level === "fatal");
    assert.ok(fatal, s.logs());
    assert.equal(fatal.msg, "PORT: expected a number from 1 to 65535, got '99999'");
    assert.equal(fatal.worker, 0);
  });

  test("LOG_FORMAT is text or json", async () => {
    const s = await startKorio({ env: { LOG_FORMAT: "yaml" }, wait: false });
    const { code } = await s.exited;
    assert.notEqual(code, 0);
    assert.match(s.logs(), /LOG_FORMAT: expected text or json/);
  });
});

describe("text stays the default", { timeout: 60000 * SLOW }, () => {
  test("Kore's format, and X-Request-ID all the same", async () => {
    const srv = await startKorio({ workers: 2 });
    try {
      const r = await fetch(`${srv.url}/nope`, { headers: { "x-request-id": "text-1" } });
      assert.equal(r.status, 404);
      assert.equal(r.headers.get("x-request-id"), "text-1");
      assert.match((await fetch(`${srv.url}/livez`)).headers.get("x-request-id"), UUID);
    } finally {
      const out = await srv.stop();
      for (const l of out.split("\n").filter((x) => x !== "")) {
        assert.match(l, /^(\[parent\]|\[wrk \d+\]): /, l);
      }
      assert.match(out, /\[parent\]: korio is starting up/);
      assert.match(out, /\[wrk 1\]: worker 1 started/);
    }
  });
});

// A realistic session with debug logging (WEBSOCKETS_DEBUG): none of the
// token secrets, tokens (good, refreshed, forged, expired) or passwords
// may be in the log, in either format.
for (const format of ["json", "text"]) {
  describe(`no secrets in the log (LOG_FORMAT=${format})`, { timeout: 120000 * SLOW }, () => {
    test("signup, logins, refresh, sockets, bad tokens", async () => {
      const srv = await startKorio({ workers: 2, env: { LOG_FORMAT: format, WEBSOCKETS_DEBUG: "true" } });
      const secrets = [];
      let out;
      try {
        const api = restClient(srv.url);
        const password = `pw-${format}-Sup3r-Secret-${process.pid}`;
        const u = await api.signup(`secret-${format}@example.com`, password);
        secrets.push(password, u.token, u.refreshToken);

        const wrong = `wrong-${format}-Passw0rd-${process.pid}`;
        secrets.push(wrong);
        assert.equal((await api.post("/auth/login", { email: u.email, password: wrong })).status, 401);
        assert.equal((await api.post("/auth/login", { email: `nobody-${format}@example.com`, password: wrong })).status, 401);
        const login = await api.post("/auth/login", { email: u.email, password });
        assert.equal(login.status, 200);
        secrets.push(login.body.data.token, login.body.data.refreshToken);
        const dup = await api.post("/auth/signup", { email: u.email, password: `${password}-again` });
        assert.equal(dup.status, 400);
        secrets.push(`${password}-again`);

        const ref = await api.post("/auth/refresh_token", { refreshToken: login.body.data.refreshToken });
        assert.equal(ref.status, 200);
        secrets.push(ref.body.data.token, ref.body.data.refreshToken);

        const secret = devSecret(srv);
        const refreshSecret = fs.readFileSync(path.join(srv.dataDir, "refresh_token_secret"), "utf8").trim();
        secrets.push(secret, refreshSecret);
        const now = Math.floor(Date.now() / 1000);
        const expired = jwtSign({ id: u.userId, sub: u.userId, sid: "s", iat: now - 100, exp: now - 10 }, secret);
        const forged = jwtSign({ id: u.userId, sub: u.userId, sid: "s", iat: now, exp: now + 600 }, "not-the-secret-at-all");
        const badRefresh = jwtSign({ id: u.userId, iat: now, exp: now + 600 }, "not-the-refresh-secret");
        secrets.push(expired, forged, badRefresh);
        assert.equal((await api.post("/auth/refresh_token", { refreshToken: badRefresh })).status, 401);
        assert.equal((await api.get("/auth/me", { token: expired })).status, 401);
        assert.equal((await api.get("/auth/me", { token: forged })).status, 401);
        assert.equal((await api.get("/auth/me", { token: ref.body.data.token })).status, 200);
        assert.equal((await api.post("/todos", { title: "t" }, { token: ref.body.data.token })).status, 201);
        // A token where a request id goes is not taken (nor logged).
        const asId = await api.get("/livez", { headers: { "x-request-id": u.token } });
        assert.match(asId.headers.get("x-request-id"), UUID);

        for (const transports of [["websocket"], ["polling"]]) {
          const s = await connect(srv, { token: `Bearer ${login.body.data.token}` }, { transports });
          assert.deepEqual(await emitAck(s, "subscribe:todos"), { ok: true });
          s.close();
          for (const bad of [expired, forged, `${u.token}x`]) {
            await assert.rejects(connect(srv, { token: `Bearer ${bad}` }, { transports }), /Invalid token/);
          }
        }
        await srv.waitForLog(/refused: Invalid token/);
        await until(() => (srv.logs().match(/is user/g) ?? []).length >= 2, 5000 * SLOW, "socket lines");
        await sleep(100);
      } finally {
        out = await srv.stop();
      }

      // The session was logged (the check is not vacuous)...
      assert.match(out, /socket \S+ is user [0-9a-f]{24}/);
      assert.match(out, /refused: Invalid token/);
      assert.match(out, /eio: session \S+ open/);
      // ...and none of its secrets.
      assertNoSecrets(out, secrets);
      assert.doesNotMatch(out, JWT_SHAPE);
      if (format === "json") jsonLines(out);
    });
  });
}
