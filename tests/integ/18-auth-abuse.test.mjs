// REST: /auth/signup and /auth/login under abuse, from outside the real
// binary.
//   - Password hashing (PBKDF2, ~0.1 s of CPU) has its own small pool per
//     worker (HASH_THREADS) with a bounded queue (HASH_QUEUE): a full
//     queue answers 503 with Retry-After, hashing whose client hung up is
//     dropped before it starts, and GET /auth/me stays quick during a
//     flood of logins.
//   - Failed logins are limited per client address and per account: past
//     the limit, 429 with Retry-After, for the right password too, and
//     across the workers of one korio. The address is the peer's, or the
//     X-Forwarded-For client when the peer is a trusted proxy (127.0.0.1
//     by default, so these tests play many addresses from one machine).
//   - Look-alike emails: signup and login normalise emails to NFKC and
//     lowercase, and refuse invisible (format) characters.

import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { BACKEND, openStore, restClient, SLOW, startKorio } from "./harness.mjs";

const DUP = "A user with the given username is already registered";
const INCORRECT = { message: "Password or username is incorrect" };

// One request on a connection of its own (so that requests spread over
// the workers), with extra headers. Resolves to { status, headers, body }.
// With timeout (ms), a request not answered in time rejects.
function send(port, method, path, body, headers = {}, timeout = 0) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const r = http.request({
      host: "127.0.0.1", port, method, path, agent: false,
      headers: { ...(payload ? { "content-type": "application/json" } : {}), ...headers },
    }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => { text += d; });
      res.on("end", () => {
        let parsed;
        try {
          parsed = text === "" ? undefined : JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, body: parsed, text });
      });
    });
    r.on("error", reject);
    if (timeout > 0) r.setTimeout(timeout, () => r.destroy(new Error(`no answer in ${timeout} ms`)));
    r.end(payload);
  });
}

const login = (srv, email, password, from) =>
  send(srv.port, "POST", "/auth/login", { email, password }, from ? { "x-forwarded-for": from } : {});

// A login whose client hangs up after ms, before the answer.
function loginHangup(port, email, from, ms) {
  return new Promise((resolve) => {
    const payload = JSON.stringify({ email, password: "not the password" });
    const s = net.connect(port, "127.0.0.1", () => {
      s.write("POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n` +
        `X-Forwarded-For: ${from}\r\n\r\n${payload}`);
      setTimeout(() => { s.destroy(); resolve(); }, ms);
    });
    s.on("error", () => resolve());
  });
}

function assertRetry(r, status) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.body.status, status, r.text);
  assert.equal(typeof r.body.title, "string");
  assert.equal(typeof r.body.detail, "string");
  assert.match(r.headers["retry-after"] ?? "", /^[1-9][0-9]*$/, r.text);
  return Number(r.headers["retry-after"]);
}

let seq = 0;
const addr = () => { seq++; return `10.${(seq >> 16) & 255}.${(seq >> 8) & 255}.${seq & 255}`; };
const nobody = () => `nobody-${++seq}@example.com`;

describe(`look-alike emails (${BACKEND})`, () => {
  let srv, api, bob, carol;

  before(async () => {
    srv = await startKorio({ workers: 1 });
    api = restClient(srv.url);
    [bob, carol] = await Promise.all([
      api.signup("bob@x.com", "bob's password"),
      api.signup("carol@x.com", "carol's password"),
    ]);
  });

  after(async () => {
    await srv?.stop();
  });

  test("signup of an NFKC or case look-alike: the email is taken", async () => {
    for (const email of ["\uff42ob@x.com", "\uff22\uff2f\uff22@\uff38.\uff43\uff4f\uff4d", "BOB@X.COM",
      " bob@x.com ", "bob\uff20x.com", "bob@x.com\u3000"]) {
      const r = await api.post("/auth/signup", { email, password: "pw" });
      assert.equal(r.status, 400, JSON.stringify(email));
      assert.deepEqual(r.body, { status: 400, title: DUP }, JSON.stringify(email));
    }
  });

  test("signup with invisible (format) characters: 400 naming them", async () => {
    for (const [email, cp] of [["bob@x.com\u200b", "U+200B"], ["\u200dbob@x.com", "U+200D"],
      ["bob\ufeff@x.com", "U+FEFF"], ["bo\u2060b@x.com", "U+2060"], ["bob@x\u00ad.com", "U+00AD"],
      ["new\u200b@x.com", "U+200B"]]) {
      const r = await api.post("/auth/signup", { email, password: "pw" });
      assert.equal(r.status, 400, JSON.stringify(email));
      assert.equal(r.body.status, 400);
      assert.equal(r.body.title, "Validation failed");
      assert.match(r.body.detail, /invisible/, r.text);
      assert.ok(r.body.detail.includes(cp), r.text);
    }
  });

  test("one account: the store holds bob@x.com once and no look-alike", async () => {
    const store = await openStore(srv);
    try {
      assert.equal(await store.countUsers("bob@x.com"), 1);
      for (const e of ["bob@x.com\u200b", "\uff42ob@x.com", "\u200dbob@x.com"]) {
        assert.equal(await store.countUsers(e), 0, JSON.stringify(e));
      }
    } finally {
      await store.close();
    }
  });

  test("login as \uff22OB@X.COM is bob", async () => {
    for (const email of ["\uff22OB@X.COM", "\uff42\uff4f\uff42@x.com", "Bob@X.com"]) {
      const r = await api.post("/auth/login", { email, password: bob.password });
      assert.equal(r.status, 200, `${JSON.stringify(email)}: ${r.text}`);
      assert.equal(r.body.data.userId, bob.userId);
    }
    const r = await api.post("/auth/login", { email: "bob@x.com\u200b", password: bob.password });
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, INCORRECT);
  });

  test("a new email is stored in its normal form", async () => {
    const r = await api.post("/auth/signup", { email: "\uff24\uff21VE@X.com", password: "dave pw" });
    assert.equal(r.status, 200, r.text);
    const me = await api.get("/auth/me", { token: r.body.data.token });
    assert.equal(me.body.data.email, "dave@x.com");
  });

  test("PATCH /auth/me normalises the same way", async () => {
    let r = await api.patch("/auth/me", { email: "\uff42ob@x.com" }, { token: carol.token });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, { status: 400, title: DUP });
    r = await api.patch("/auth/me", { email: "carol\u200b@x.com" }, { token: carol.token });
    assert.equal(r.status, 400);
    assert.match(r.body.detail, /invisible.*U\+200B/);
    r = await api.patch("/auth/me", { email: "\uff23AROL2@x.com" }, { token: carol.token });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.email, "carol2@x.com");
  });
});

describe(`password hashing has its own bounded queue (${BACKEND})`, () => {
  test("a full hash queue answers 503 with Retry-After; the queue drains", async () => {
    const srv = await startKorio({ workers: 1, env: { HASH_THREADS: "1", HASH_QUEUE: "2" } });
    try {
      const api = restClient(srv.url);
      const u = await api.signup("queue@example.com", "queue pw");
      const rs = await Promise.all(Array.from({ length: 16 }, () => login(srv, nobody(), "x", addr())));
      const busy = rs.filter((r) => r.status === 503);
      assert.ok(busy.length > 0, `no 503 in ${rs.map((r) => r.status)}`);
      assert.ok(rs.every((r) => r.status === 503 || r.status === 401), rs.map((r) => r.status).join());
      for (const r of busy) assert.equal(assertRetry(r, 503), 1);
      // Signup hashes on the same pool.
      const su = await Promise.all(Array.from({ length: 12 }, () =>
        send(srv.port, "POST", "/auth/signup", { email: nobody(), password: "pw" })));
      assert.ok(su.some((r) => r.status === 503), su.map((r) => r.status).join());
      assert.ok(su.every((r) => r.status === 503 || r.status === 200), su.map((r) => r.status).join());
      // Afterwards everything goes through again.
      const ok = await login(srv, "queue@example.com", u.password, addr());
      assert.equal(ok.status, 200, ok.text);
    } finally {
      await srv.stop();
    }
  });

  test("hashing whose client hung up is dropped before it starts", async () => {
    const srv = await startKorio({ workers: 1, env: { HASH_THREADS: "1", HASH_QUEUE: "4" } });
    try {
      // One hash runs (~0.1 s), four wait; all five clients hang up.
      await Promise.all(Array.from({ length: 5 }, () => loginHangup(srv.port, nobody(), addr(), 40)));
      await sleep(10);
      // The four waiting ones are gone from the queue: four more fit.
      const rs = await Promise.all(Array.from({ length: 4 }, () => login(srv, nobody(), "x", addr())));
      assert.deepEqual(rs.map((r) => r.status), [401, 401, 401, 401]);
    } finally {
      await srv.stop();
    }
  });

  test("GET /auth/me answers during a flood of logins whose clients hang up", async () => {
    const srv = await startKorio({ workers: 2 });
    try {
      const api = restClient(srv.url);
      const u = await api.signup("flood@example.com", "flood pw");
      let stop = false;
      let failed = null;
      const flooders = Array.from({ length: 40 }, async () => {
        while (!stop) await loginHangup(srv.port, nobody(), addr(), 100);
      });
      await sleep(300);
      const times = [];
      for (let i = 0; i < 10; i++) {
        const t0 = performance.now();
        const r = await send(srv.port, "GET", "/auth/me", undefined, { authorization: `Bearer ${u.token}` },
          2000 * SLOW).catch((e) => ({ status: 0, text: e.message }));
        times.push(Math.round(performance.now() - t0));
        if (r.status !== 200) {
          failed = `GET /auth/me: ${r.status} ${r.text}`;
          break;
        }
        await sleep(100);
      }
      stop = true;
      await Promise.all(flooders);
      assert.equal(failed, null, `${failed} (times ${times.join(", ")} ms)`);
      assert.ok(Math.max(...times) < 2000 * SLOW, `GET /auth/me took ${times.join(", ")} ms`);
    } finally {
      await srv.stop();
    }
  });
});

describe(`failed logins are limited per address and per account (${BACKEND})`, () => {
  let srv, api, alice, bob, carol;

  before(async () => {
    srv = await startKorio({ workers: 2 });
    api = restClient(srv.url);
    [alice, bob, carol] = await Promise.all([
      api.signup("alice@example.com", "alice pw"),
      api.signup("bob@example.com", "bob pw"),
      api.signup("carol@example.com", "carol pw"),
    ]);
  });

  after(async () => {
    await srv?.stop();
  });

  test("per address: 10 failures a minute, then 429 for any account, across workers", async () => {
    const a = addr();
    for (let i = 0; i < 10; i++) {
      const r = await login(srv, nobody(), "wrong", a);
      assert.equal(r.status, 401, `attempt ${i + 1}: ${r.text}`);
      assert.deepEqual(r.body, INCORRECT);
    }
    for (let i = 0; i < 6; i++) {
      const r = await login(srv, nobody(), "wrong", a);
      const wait = assertRetry(r, 429);
      assert.ok(wait <= 60, String(wait));
    }
    // The right password is refused too while the address is blocked...
    const blocked = await login(srv, "bob@example.com", bob.password, a);
    assertRetry(blocked, 429);
    // ...and works from another address.
    const ok = await login(srv, "bob@example.com", bob.password, addr());
    assert.equal(ok.status, 200, ok.text);
  });

  test("per account: 5 failures, then 429 from any address, with the right password too", async () => {
    for (let i = 0; i < 5; i++) {
      const r = await login(srv, i % 2 ? "ALICE@example.com" : "\uff41lice@example.com", "wrong", addr());
      assert.equal(r.status, 401, `attempt ${i + 1}: ${r.text}`);
    }
    const r = await login(srv, "alice@example.com", alice.password, addr());
    const wait = assertRetry(r, 429);
    assert.ok(wait > 60 && wait <= 900, String(wait));
    // Another account is not affected.
    const c = await login(srv, "carol@example.com", carol.password, addr());
    assert.equal(c.status, 200, c.text);
  });

  test("a success does not reset the count of the address", async () => {
    const a = addr();
    for (let i = 0; i < 9; i++) assert.equal((await login(srv, nobody(), "wrong", a)).status, 401);
    // A login of one's own account: allowed, and not a failure...
    assert.equal((await login(srv, "carol@example.com", carol.password, a)).status, 200);
    // ...nor a reset: one more failure, then the address is blocked.
    assert.equal((await login(srv, nobody(), "wrong", a)).status, 401);
    assertRetry(await login(srv, "carol@example.com", carol.password, a), 429);
  });

  test("many attempts at once do not get past the limit", async () => {
    const a = addr();
    const rs = await Promise.all(Array.from({ length: 30 }, () => login(srv, nobody(), "wrong", a)));
    const n401 = rs.filter((r) => r.status === 401).length;
    const n429 = rs.filter((r) => r.status === 429).length;
    assert.equal(n401 + rs.filter((r) => r.status === 503).length + n429, 30, rs.map((r) => r.status).join());
    assert.ok(n401 <= 10, `${n401} attempts got past a limit of 10`);
    assert.ok(n429 >= 20, rs.map((r) => r.status).join());
  });
});

describe(`limits: windows, settings and untrusted peers (${BACKEND})`, () => {
  test("the window ends: attempts are allowed again after it", async () => {
    const window = 2 * SLOW;
    const srv = await startKorio({
      workers: 2,
      env: { LOGIN_FAILS_PER_ADDRESS: "3", LOGIN_FAILS_ADDRESS_WINDOW: `${window}s` },
    });
    try {
      const a = addr();
      for (let i = 0; i < 3; i++) assert.equal((await login(srv, nobody(), "wrong", a)).status, 401);
      const wait = assertRetry(await login(srv, nobody(), "wrong", a), 429);
      assert.ok(wait <= window, String(wait));
      await sleep(window * 1000 + 100);
      assert.equal((await login(srv, nobody(), "wrong", a)).status, 401);
    } finally {
      await srv.stop();
    }
  });

  test("from a peer that is not a trusted proxy, X-Forwarded-For is ignored", async () => {
    const srv = await startKorio({ workers: 2, env: { TRUSTED_PROXIES: "192.0.2.1" } });
    try {
      for (let i = 0; i < 10; i++) assert.equal((await login(srv, nobody(), "wrong", addr())).status, 401);
      // Every attempt counted against 127.0.0.1, whatever it claimed.
      assertRetry(await login(srv, nobody(), "wrong", addr()), 429);
      assertRetry(await login(srv, nobody(), "wrong"), 429);
    } finally {
      await srv.stop();
    }
  });

  test("bad settings are start-up errors naming the variable", async () => {
    for (const [k, v] of [["HASH_THREADS", "0"], ["HASH_QUEUE", "lots"], ["LOGIN_FAILS_PER_ADDRESS", "-1"],
      ["LOGIN_FAILS_PER_ACCOUNT", "x"], ["LOGIN_FAILS_ADDRESS_WINDOW", "soon"], ["LOGIN_FAILS_ACCOUNT_WINDOW", "0"]]) {
      const s = await startKorio({ env: { [k]: v }, wait: false });
      const res = await Promise.race([s.exited, sleep(10000 * SLOW).then(() => null)]);
      if (res === null) await s.stop({ allowBadLog: true });
      assert.ok(res !== null && res.code !== 0, `${k}=${v}: started`);
      assert.match(s.logs(), new RegExp(`${k}: expected`), `${k}=${v}`);
    }
  });
});
