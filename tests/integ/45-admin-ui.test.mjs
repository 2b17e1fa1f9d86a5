// The Socket.IO Admin UI: the page of the npm package @socket.io/admin-ui
// 0.5.1, served at /admin-ui/ when ADMIN_UI_USERNAME and
// ADMIN_UI_PASSWORD are set, and korio's "/admin" namespace it connects
// to, on two workers.
//
//  - off by default: /admin-ui/ is 404, a CONNECT to /admin is refused;
//  - with socket.io-client on /admin: credentials (plain and bcrypt),
//    session ids, config, server_stats from each worker, all_sockets
//    from both workers, live socket and room events, the UI's actions on
//    a socket of the other worker, production mode and read-only, the
//    attempt limits, hidden credential headers, nothing secret logged;
//  - in Chromium (playwright-core, Debian's chromium): the page's own
//    connection form, refused then accepted, then 2 servers, the sockets
//    of both workers, their rooms, events, and a connect, a join and a
//    disconnect showing live; the page's disconnect button works.
//
// Sockets spread over the workers by connecting in parallel: the first
// two hex digits of an Engine.IO id name the worker that owns it.
// socket.io-client forgets a socket's id once it is disconnected: the
// tests keep it as socket.sid.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { io } from "socket.io-client";
import { launch, shot, watchConsole } from "../browser/browser.mjs";
import { assertNoSecrets, SLOW, startKorio } from "./harness.mjs";
import { api, connect, emitAck, got, signup, sleep, until } from "./rt-util.mjs";
import { owner } from "./sio-util.mjs";

const T = 10000 * SLOW;
const LIVE = 3000 * SLOW;
const USER = "ops";
const PASSWORD = "admin-ui-test-password";
// @socket.io/admin-ui's README example ("changeit"), with the $2a$ prefix
// bcryptjs writes.
const BCRYPT = "$2a$10$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7ZOS";
const BCRYPT_PASSWORD = "changeit";

// An admin socket whose events are kept in socket.seen: [name, ...args].
function admin(srv, auth, opts = {}) {
  return new Promise((resolve, reject) => {
    const s = io(`${srv.url}/admin`, {
      forceNew: true,
      reconnection: false,
      timeout: 5000 * SLOW,
      transports: opts.transports ?? ["websocket"],
      auth,
    });
    s.seen = [];
    s.onAny((...a) => s.seen.push(a));
    s.once("connect", () => resolve(s));
    s.once("connect_error", (err) => {
      s.close();
      reject(err);
    });
  });
}

const seen = (s, name) => s.seen.filter((e) => e[0] === name).map((e) => e.slice(1));
const refusal = (p) =>
  p.then(
    (s) => {
      s.close();
      return "accepted";
    },
    (err) => err.message,
  );

// Sockets of user u until each worker owns at least `each` of them.
async function spread(srv, u, each, sockets, opts = {}) {
  const mine = [];
  for (let round = 0; round < 20; round++) {
    const batch = await Promise.all(Array.from({ length: 4 }, () => connect(srv, { token: u.token }, opts)));
    for (const s of batch) {
      s.worker = owner(s.io.engine.id);
      s.sid = s.id;
      sockets.push(s);
      mine.push(s);
    }
    const n = [1, 2].map((w) => mine.filter((s) => s.worker === w).length);
    if (n.every((k) => k >= each)) return mine;
  }
  throw new Error("the sockets did not reach both workers");
}

const ADMIN_ENV = {
  ADMIN_UI_USERNAME: USER,
  ADMIN_UI_PASSWORD: PASSWORD,
  LOGIN_FAILS_PER_ADDRESS: "100",
  LOGIN_FAILS_PER_ACCOUNT: "100",
};

describe("admin UI off (the default)", { timeout: 60000 * SLOW }, () => {
  let srv;
  before(async () => {
    srv = await startKorio({ workers: 1 });
  });
  after(async () => {
    await srv?.stop();
  });

  test("/admin-ui/ is 404 and a CONNECT to /admin is refused", async () => {
    for (const p of ["/admin-ui/", "/admin-ui", "/admin-ui/index.html", "/admin-ui/js/app.0d7d7845.js"]) {
      const r = await fetch(srv.url + p, { redirect: "manual" });
      assert.equal(r.status, 404, p);
      await r.arrayBuffer();
    }
    assert.equal(await refusal(admin(srv, { username: USER, password: PASSWORD })), "Invalid namespace");
    assert.equal(await refusal(admin(srv, {}, { transports: ["polling"] })), "Invalid namespace");
  });

  test("bad settings stop start-up, naming the setting and never the value", async () => {
    const cases = [
      [{ ADMIN_UI_USERNAME: USER }, /ADMIN_UI_USERNAME and ADMIN_UI_PASSWORD: set both/],
      [{ ADMIN_UI_PASSWORD: "Wq7-unpaired-secret" }, /ADMIN_UI_USERNAME and ADMIN_UI_PASSWORD: set both/],
      [{ ADMIN_UI_USERNAME: USER, ADMIN_UI_PASSWORD: "Wq7-sh" }, /ADMIN_UI_PASSWORD: expected a password of 8/],
      [{ ADMIN_UI_USERNAME: USER, ADMIN_UI_PASSWORD: PASSWORD, ADMIN_UI_MODE: "verbose" }, /ADMIN_UI_MODE: expected/],
    ];
    for (const [env, re] of cases) {
      const s = await startKorio({ workers: 1, env, wait: false });
      const { code } = await s.exited;
      assert.notEqual(code, 0, JSON.stringify(env));
      assert.match(s.logs(), re);
      assertNoSecrets(s.logs(), ["Wq7-unpaired-secret", "Wq7-sh", PASSWORD]);
    }
  });
});

describe("admin UI over socket.io-client (2 workers)", { timeout: 120000 * SLOW }, () => {
  let srv;
  let alice;
  let project;
  let before1; // sockets open before any admin connects, on both workers
  const sockets = [];

  before(async () => {
    srv = await startKorio({ workers: 2, env: ADMIN_ENV });
    alice = await signup(srv, "adm-alice");
    const r = await api(srv, "POST", "/projects", { token: alice.token, body: { name: "ops" } });
    assert.equal(r.status, 201);
    project = r.body.data.id;
    before1 = await spread(srv, alice, 2, sockets);
    for (const s of before1.slice(0, 3)) assert.deepEqual(await emitAck(s, "join:project", project), { ok: true });
  });
  after(async () => {
    for (const s of sockets) s.close();
    const out = await srv?.stop();
    if (out) assertNoSecrets(out, [PASSWORD]);
  });

  test("wrong or missing credentials and forged session ids are refused", async () => {
    const open = (auth, transports) => refusal(admin(srv, auth, { transports }));
    assert.equal(await open({ username: USER, password: "wrong password" }), "invalid credentials");
    assert.equal(await open({ username: "root", password: PASSWORD }), "invalid credentials");
    assert.equal(await open({ username: USER }, ["polling"]), "invalid credentials");
    assert.equal(await open(undefined), "invalid credentials");
    assert.equal(await open({ username: USER, password: PASSWORD.slice(0, -1) }), "invalid credentials");
    assert.equal(await open({ username: USER, password: `${PASSWORD}\u0000` }), "invalid credentials");
    assert.equal(await open({ sessionId: "0".repeat(16) + "." + "0".repeat(64) }), "invalid credentials");
    assert.equal(await open({ sessionId: "ffffffffffffffff." + "a".repeat(64) }), "invalid credentials");
    // A user's token is no admin credential.
    assert.equal(await open({ token: `Bearer ${alice.token}` }), "invalid credentials");
  });

  test("an admin gets session, config, all_sockets from both workers and server_stats from each", async () => {
    const a = await admin(srv, { username: USER, password: PASSWORD });
    try {
      await until(() => seen(a, "server_stats").length >= 2 && seen(a, "all_sockets").length === 1, T, "stats");
      const [session] = seen(a, "session")[0];
      assert.match(session, /^[0-9a-f]{16}\.[0-9a-f]{64}$/);
      assert.deepEqual(seen(a, "config"), [[{
        supportedFeatures: ["JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS", "ALL_EVENTS"],
      }]]);
      // session and config come first, all_sockets before anything it covers.
      assert.deepEqual(a.seen.slice(0, 3).map((e) => e[0]), ["session", "config", "all_sockets"]);

      const stats = seen(a, "server_stats").map((e) => e[0]);
      const ids = new Set(stats.map((s) => s.serverId));
      assert.equal(ids.size, 2, "one server per worker");
      for (const s of stats) {
        assert.deepEqual(Object.keys(s).sort(), ["aggregatedEvents", "clientsCount", "hostname", "namespaces",
          "pid", "pollingClientsCount", "serverId", "uptime"]);
        assert.equal(s.serverId, `${s.hostname}#${s.pid}`);
        assert.ok(Number.isInteger(s.pid) && s.pid > 0);
        assert.equal(typeof s.uptime, "number");
        assert.ok(Number.isInteger(s.clientsCount) && Number.isInteger(s.pollingClientsCount));
        assert.ok(Array.isArray(s.aggregatedEvents));
        for (const e of s.aggregatedEvents) {
          assert.ok(Number.isInteger(e.timestamp) && e.timestamp % 1000 === 0, JSON.stringify(e));
          assert.ok(["rawConnection", "rawDisconnection", "packetsIn", "packetsOut", "bytesIn", "bytesOut"].includes(e.type));
          assert.ok(e.count > 0);
        }
        assert.deepEqual(s.namespaces.map((n) => n.name), ["/", "/admin"]);
      }
      // Each worker counts its own: together, every open socket of "/".
      const latest = [...ids].map((id) => stats.filter((s) => s.serverId === id).at(-1));
      const total = latest.reduce((n, s) => n + s.namespaces.find((x) => x.name === "/").socketsCount, 0);
      assert.equal(total, sockets.filter((s) => s.connected).length);
      assert.ok(latest.every((s) => s.namespaces.find((x) => x.name === "/").socketsCount > 0), "both workers have some");

      const [all] = seen(a, "all_sockets")[0];
      const root = all.filter((s) => s.nsp === "/");
      assert.deepEqual(root.map((s) => s.id).sort(), sockets.filter((s) => s.connected).map((s) => s.id).sort());
      const mine = all.find((s) => s.nsp === "/admin" && s.id === a.id);
      assert.ok(mine, "the admin socket itself is listed");
      for (const s of root) {
        const c = sockets.find((x) => x.id === s.id);
        assert.equal(s.clientId, c.io.engine.id.slice(0, 12));
        assert.equal(s.transport, "websocket");
        assert.deepEqual(s.data, {});
        assert.equal(s.handshake.address, "127.0.0.1");
        assert.equal(typeof s.handshake.time, "string");
        assert.ok(Number.isInteger(s.handshake.issued));
        assert.equal(s.handshake.secure, false);
        assert.equal(s.handshake.query.EIO, "4");
        assert.equal(s.handshake.query.transport, "websocket");
        assert.match(s.handshake.url, /^\/socket\.io\/\?EIO=4&transport=websocket/);
        assert.equal(typeof s.handshake.headers, "object");
        const rooms = [s.id, `user:${alice.id}`, "authenticated"];
        if (before1.slice(0, 3).some((x) => x.id === s.id)) rooms.push(`project:${project}`);
        assert.deepEqual([...s.rooms].sort(), rooms.sort());
      }
    } finally {
      a.close();
    }
  });

  test("socket connects, joins, events and disconnects of either worker show live", async () => {
    const a = await admin(srv, { username: USER, password: PASSWORD });
    try {
      await until(() => seen(a, "all_sockets").length === 1, T, "all_sockets");
      const fresh = await spread(srv, alice, 1, sockets, { transports: ["polling", "websocket"] });
      for (const s of fresh) {
        await until(() => seen(a, "socket_connected").some(([x]) => x.id === s.id), LIVE, `socket_connected ${s.id}`);
      }
      const one = fresh[0];
      const [conn, when] = seen(a, "socket_connected").find(([x]) => x.id === one.id);
      assert.equal(conn.nsp, "/");
      assert.ok(!Number.isNaN(Date.parse(when)));
      await until(() => seen(a, "room_joined").filter(([, , id]) => id === one.id).length === 3, LIVE, "rooms");
      assert.deepEqual(seen(a, "room_joined").filter(([, , id]) => id === one.id).map(([nsp, room]) => [nsp, room]), [
        ["/", one.id],
        ["/", `user:${alice.id}`],
        ["/", "authenticated"],
      ]);
      // The first thing sent to a new socket: presence.
      await until(() => seen(a, "event_sent").some(([, id, args]) => id === one.id && args[0] === "presence:update"),
        LIVE, "event_sent");
      // Polling sessions move to WebSocket: socket_updated.
      await until(() => seen(a, "socket_updated").some(([x]) => x.id === one.id && x.transport === "websocket"),
        LIVE, "socket_updated");

      for (const s of fresh) {
        assert.deepEqual(await emitAck(s, "join:project", project), { ok: true });
        await until(() => seen(a, "room_joined").some(([, room, id]) => id === s.id && room === `project:${project}`),
          LIVE, "room_joined");
        assert.ok(seen(a, "event_received").some(([nsp, id, args]) =>
          nsp === "/" && id === s.id && args[0] === "join:project" && args[1] === project));
      }

      for (const s of fresh) s.close();
      for (const s of fresh) {
        await until(() => seen(a, "socket_disconnected").some(([, id]) => id === s.sid), LIVE, "socket_disconnected");
        await until(() => seen(a, "room_left").filter(([, , id]) => id === s.sid).length === 4, LIVE, "room_left");
      }
      const [nsp, , reason] = seen(a, "socket_disconnected").find(([, id]) => id === one.sid);
      assert.equal(nsp, "/");
      assert.match(reason, /^(client namespace disconnect|transport close)$/);
      // Nothing of the admin namespace's own traffic is reported as events.
      assert.ok(!seen(a, "event_sent").some(([n]) => n === "/admin"));
    } finally {
      a.close();
    }
  });

  test("the UI's actions reach a socket on the other worker: join, leave, disconnect", async () => {
    const a = await admin(srv, { username: USER, password: PASSWORD });
    try {
      await until(() => seen(a, "all_sockets").length === 1, T, "all_sockets");
      const home = owner(a.io.engine.id);
      const t = sockets.find((s) => s.connected && s.worker !== home);
      assert.ok(t, "a socket on the other worker");

      a.emit("join", "/", "vip", t.id);
      await until(() => seen(a, "room_joined").some(([, room, id]) => room === "vip" && id === t.id), LIVE, "join");
      a.emit("leave", "/", "vip", t.id);
      await until(() => seen(a, "room_left").some(([, room, id]) => room === "vip" && id === t.id), LIVE, "leave");

      // Every socket of a room leaves it (MLEAVE), on both workers.
      const inProject = sockets.filter((s) => s.connected).length;
      a.emit("join", "/", "everyone");
      await until(() => seen(a, "room_joined").filter(([, room]) => room === "everyone").length === inProject,
        LIVE, "everyone joined");
      a.emit("leave", "/", "everyone");
      await until(() => seen(a, "room_left").filter(([, room]) => room === "everyone").length === inProject,
        LIVE, "everyone left");

      // Nonsense is ignored.
      a.emit("_disconnect", "/nope", false, t.id);
      a.emit("_disconnect", "/", "yes", t.id);
      a.emit("join", "/", "", t.id);
      a.emit("join", "/", { room: 1 }, t.id);
      a.emit("emit", "/", t.id, "todo:created", { title: "fake" });
      await sleep(300);
      assert.equal(t.connected, true);
      assert.equal(got(t, "todo:created").length, 0);

      const gone = new Promise((r) => t.once("disconnect", r));
      a.emit("_disconnect", "/", false, t.sid);
      assert.equal(await gone, "io server disconnect");
      await until(() => seen(a, "socket_disconnected").some(([, id, reason]) =>
        id === t.sid && reason === "server namespace disconnect"), LIVE, "socket_disconnected");
    } finally {
      a.close();
    }
  });

  test("a session id logs in again, on either worker, without the password", async () => {
    const a = await admin(srv, { username: USER, password: PASSWORD });
    await until(() => seen(a, "session").length === 1, T, "session");
    const [sessionId] = seen(a, "session")[0];
    a.close();
    const workers = new Set();
    for (let i = 0; i < 8 && workers.size < 2; i++) {
      const b = await admin(srv, { sessionId }, { transports: i % 2 ? ["polling"] : ["websocket"] });
      workers.add(owner(b.io.engine.id));
      await until(() => seen(b, "config").length === 1, T, "config");
      assert.equal(seen(b, "session").length, 0);
      b.close();
    }
    // A tampered one is refused.
    const bad = sessionId.slice(0, -1) + (sessionId.at(-1) === "0" ? "1" : "0");
    assert.equal(await refusal(admin(srv, { sessionId: bad })), "invalid credentials");
  });

  test("headers that carry credentials are hidden; the client address is korio's", async () => {
    const a = await admin(srv, { username: USER, password: PASSWORD });
    try {
      await until(() => seen(a, "all_sockets").length === 1, T, "all_sockets");
      const t = io(srv.url, {
        forceNew: true,
        reconnection: false,
        transports: ["websocket"],
        auth: { token: alice.token },
        extraHeaders: { authorization: `Bearer ${alice.token}`, cookie: "sid=secret", "x-forwarded-for": "203.0.113.9" },
      });
      await new Promise((r, j) => {
        t.once("connect", r);
        t.once("connect_error", j);
      });
      sockets.push(t);
      await until(() => seen(a, "socket_connected").some(([x]) => x.id === t.id), LIVE, "socket_connected");
      const [x] = seen(a, "socket_connected").find(([y]) => y.id === t.id);
      assert.equal(x.handshake.headers.authorization, "(hidden)");
      assert.equal(x.handshake.headers.cookie, "(hidden)");
      assert.equal(x.handshake.headers["x-forwarded-for"], "203.0.113.9");
      // 127.0.0.1 is a trusted proxy (TRUSTED_PROXIES' default): it names the client.
      assert.equal(x.handshake.address, "203.0.113.9");
      assert.ok(!JSON.stringify(a.seen).includes(alice.token), "no token reaches the admin");
    } finally {
      a.close();
    }
  });
});

describe("admin UI: bcrypt password, production mode, read-only, attempt limits", { timeout: 90000 * SLOW }, () => {
  let srv;
  const sockets = [];
  before(async () => {
    srv = await startKorio({
      workers: 2,
      env: {
        ADMIN_UI_USERNAME: USER,
        ADMIN_UI_PASSWORD: BCRYPT,
        ADMIN_UI_MODE: "production",
        ADMIN_UI_READONLY: "true",
        LOGIN_FAILS_PER_ADDRESS: "3",
        LOGIN_FAILS_ADDRESS_WINDOW: "4s",
      },
    });
  });
  after(async () => {
    for (const s of sockets) s.close();
    await srv?.stop();
  });

  test("past LOGIN_FAILS_PER_ADDRESS failures, even the right password waits", async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal(await refusal(admin(srv, { username: USER, password: `guess ${i}` })), "invalid credentials");
    }
    const err = await admin(srv, { username: USER, password: BCRYPT_PASSWORD }).then(
      (s) => (s.close(), null),
      (e) => e,
    );
    assert.ok(err, "refused");
    assert.equal(err.message, "Too many attempts");
    assert.ok(err.data.retryAfter >= 1 && err.data.retryAfter <= 4, JSON.stringify(err.data));
    await sleep((err.data.retryAfter * 1000 + 300) * SLOW);
    const a = await admin(srv, { username: USER, password: BCRYPT_PASSWORD });
    sockets.push(a);
    assertNoSecrets(srv.logs(), [BCRYPT_PASSWORD, "guess 0"]);
  });

  test("a bcrypt hash (as admin-ui's instrument() takes it) checks the password", async () => {
    assert.equal(await refusal(admin(srv, { username: USER, password: BCRYPT })), "invalid credentials");
    const a = await admin(srv, { username: USER, password: BCRYPT_PASSWORD });
    sockets.push(a);
    assert.match(srv.logs(), /Admin UI on .*production mode, read-only, bcrypt password/);
  });

  test("production mode: server stats only; read-only: no actions", async () => {
    const u = await signup(srv, "adm-prod");
    const a = await admin(srv, { username: USER, password: BCRYPT_PASSWORD });
    sockets.push(a);
    await until(() => seen(a, "server_stats").length >= 2, T, "server_stats");
    assert.deepEqual(seen(a, "config"), [[{ supportedFeatures: ["AGGREGATED_EVENTS"] }]]);
    const s = await connect(srv, { token: u.token });
    sockets.push(s);
    a.emit("_disconnect", "/", false, s.id);
    a.emit("_disconnect", "/", true);
    await sleep(2500 * SLOW);
    assert.equal(s.connected, true, "read-only: nothing disconnected");
    const names = new Set(a.seen.map((e) => e[0]));
    assert.deepEqual([...names].sort(), ["config", "server_stats", "session"]);
    const stats = seen(a, "server_stats").map(([x]) => x);
    assert.equal(new Set(stats.map((x) => x.serverId)).size, 2);
  });
});

describe("admin UI in Chromium (2 workers)", { timeout: 180000 * SLOW }, () => {
  let srv;
  let browser;
  let page;
  let con;
  let alice;
  let project;
  const sockets = [];

  // The steps build on each other: after one fails, the rest are skipped.
  let failed = null;
  const step = (name, fn) =>
    test(name, { timeout: 60000 * SLOW }, async (t) => {
      if (failed) return t.skip(`after "${failed}" failed`);
      try {
        await fn(t);
      } catch (e) {
        failed = name;
        t.diagnostic(`server log (last lines):\n${srv?.logs().split("\n").slice(-30).join("\n")}`);
        t.diagnostic(`console: ${JSON.stringify(con?.errors)}`);
        if (page && !page.isClosed()) await shot(page, `admin-ui-failed-${name.slice(0, 30).replace(/\W+/g, "-")}`).catch(() => {});
        throw e;
      }
    });

  const nav = async (name) => {
    await page.getByRole("navigation").getByRole("link", { name, exact: true }).click();
    await page.waitForFunction((h) => location.hash.startsWith(h), `#/${name.toLowerCase()}`, { timeout: T });
    // The view left behind stays until its transition is over.
    await page.waitForFunction(() => document.querySelectorAll(".v-data-table").length === 1, null, { timeout: T });
  };
  const rows = () => page.locator(".v-data-table tbody tr");
  const rowOf = (text) => rows().filter({ hasText: text });
  // Waits until the table has n rows (the view that was left may linger
  // for the length of its transition).
  const rowCount = (n, timeout = T) =>
    page.waitForFunction((k) => document.querySelectorAll(".v-data-table tbody tr").length === k, n, { timeout });
  // Waits until the Rooms table says room has n sockets (its third column).
  const roomCount = (room, n, timeout = T) =>
    page.waitForFunction(([r, k]) => [...document.querySelectorAll(".v-data-table tbody tr")]
      .some((tr) => tr.cells[0]?.textContent.trim() === r && tr.cells[2]?.textContent.trim() === String(k)),
    [room, n], { timeout });

  before(async () => {
    [srv, browser] = await Promise.all([startKorio({ workers: 2, env: ADMIN_ENV }), launch()]);
    alice = await signup(srv, "adm-ui");
    const r = await api(srv, "POST", "/projects", { token: alice.token, body: { name: "ui" } });
    assert.equal(r.status, 201);
    project = r.body.data.id;
  });
  after(async () => {
    for (const s of sockets) s.close();
    await browser?.close();
    const out = await srv?.stop();
    if (out) assertNoSecrets(out, [PASSWORD]);
  });

  step("the page is served from the binary", async () => {
    const r = await fetch(`${srv.url}/admin-ui`, { redirect: "manual" });
    assert.equal(r.status, 301);
    assert.equal(r.headers.get("location"), "/admin-ui/");
    const index = await fetch(`${srv.url}/admin-ui/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get("content-type"), /^text\/html/);
    assert.equal(index.headers.get("x-frame-options"), "DENY");
    const html = await index.text();
    assert.match(html, /<title>Socket\.IO Admin UI<\/title>/);
    const files = [...html.matchAll(/(?:href|src)="((?:js|css)\/[^"]+)"/g)].map((m) => m[1]);
    assert.equal(new Set(files).size, 4);
    for (const src of new Set(files)) {
      const f = await fetch(`${srv.url}/admin-ui/${src}`);
      assert.equal(f.status, 200, src);
      assert.doesNotMatch(await f.text(), /sourceMappingURL/, src);
    }
    const miss = await fetch(`${srv.url}/admin-ui/js/app.0d7d7845.js.map`);
    assert.equal(miss.status, 404);
    await miss.arrayBuffer();
  });

  step("sockets of both workers, some in a project room, before the UI connects", async () => {
    const mine = await spread(srv, alice, 2, sockets);
    for (const s of mine.slice(0, 3)) assert.deepEqual(await emitAck(s, "join:project", project), { ok: true });
  });

  step("the connection form refuses a wrong password, then connects", async () => {
    const ctx = await browser.newContext({ viewport: { width: 1300, height: 900 } });
    page = await ctx.newPage();
    con = watchConsole(page, "admin");
    // The page's index.html loads its font and icons from CDNs: none here.
    await page.route(/^https?:\/\/(fonts\.googleapis\.com|cdn\.jsdelivr\.net)\//, (r) => r.abort());
    con.allowed.push(/fonts\.googleapis\.com|cdn\.jsdelivr\.net|Failed to load resource/);
    await page.goto(`${srv.url}/admin-ui/`);

    await page.getByLabel("Server URL").fill(srv.url);
    await page.getByLabel("Username").fill(USER);
    await page.getByLabel("Password").fill("not the password");
    await page.getByText("Advanced options").click();
    await page.getByLabel("Admin namespace").fill("/admin");
    await page.getByLabel("Path").fill("/socket.io");
    await shot(page, "admin-ui-01-form");
    await page.getByRole("button", { name: "Connect" }).click();
    await page.getByText("Invalid credentials").waitFor({ timeout: T });

    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Connect" }).click();
    await page.getByText("connected", { exact: true }).first().waitFor({ timeout: T });
    await page.getByLabel("Password").waitFor({ state: "hidden", timeout: T });
  });

  step("Servers: one per worker, healthy", async () => {
    await nav("Servers");
    await page.waitForFunction(() => document.querySelectorAll(".v-data-table tbody tr").length === 2 &&
      [...document.querySelectorAll(".v-data-table tbody tr")].every((r) => /healthy/i.test(r.textContent)),
    null, { timeout: T });
    const pids = await rows().evaluateAll((rs) => rs.map((r) => r.cells[2].textContent.trim()));
    assert.equal(new Set(pids).size, 2);
    for (const pid of pids) assert.match(await rowOf(pid).first().textContent(), new RegExp(`#${pid}`));
    await shot(page, "admin-ui-02-servers");
  });

  step("Sockets: every socket of both workers, with its address and transport", async () => {
    await nav("Sockets");
    const open = sockets.filter((s) => s.connected);
    for (const s of open) await rowOf(s.id).waitFor({ timeout: T });
    await rowCount(open.length);
    assert.match(await rowOf(open[0].id).textContent(), /127\.0\.0\.1.*WebSocket/);
    await shot(page, "admin-ui-03-sockets");
  });

  step("Rooms: the project room and the user's room, with their socket counts", async () => {
    await nav("Rooms");
    await roomCount(`project:${project}`, 3);
    await roomCount(`user:${alice.id}`, sockets.filter((s) => s.connected).length);
    await roomCount("authenticated", sockets.filter((s) => s.connected).length);
    await shot(page, "admin-ui-04-rooms");
  });

  step("a new socket, its join and its disconnect show live", async () => {
    await nav("Sockets");
    const [s] = await spread(srv, alice, 1, sockets).then((m) => m.slice(-1));
    await rowOf(s.id).waitFor({ timeout: LIVE });
    assert.deepEqual(await emitAck(s, "join:project", project), { ok: true });
    await nav("Rooms");
    await roomCount(`project:${project}`, 4, LIVE);
    await nav("Events");
    await rowOf("join:project").first().waitFor({ timeout: LIVE });
    assert.match(await rowOf("join:project").first().textContent(), /Event received/);
    await shot(page, "admin-ui-05-events");

    await nav("Sockets");
    s.close();
    await rowOf(s.sid).waitFor({ state: "detached", timeout: LIVE });
    await rowCount(sockets.filter((x) => x.connected).length);
  });

  step("the disconnect button of a socket's row disconnects it, on whichever worker", async () => {
    const t = sockets.find((s) => s.connected);
    const gone = new Promise((r) => t.once("disconnect", r));
    await rowOf(t.sid).getByRole("button").click();
    assert.equal(await gone, "io server disconnect");
    // The click reaches the row too, which opens the socket's page.
    await nav("Sockets");
    await rowOf(t.sid).waitFor({ state: "detached", timeout: LIVE });
    await rowCount(sockets.filter((x) => x.connected).length);
    assert.deepEqual(con.errors, []);
  });
});
