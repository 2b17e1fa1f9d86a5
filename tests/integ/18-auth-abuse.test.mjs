// REST: /auth/signup and /auth/login under abuse, from outside the real
// binary.
//   - Password hashing (PBKDF2, ~0.1 s of CPU) has its own small pool per
//     worker (HASH_THREADS) with a bounded queue (HASH_QUEUE): a full
//     queue answers 503 with Retry-After, hashing whose client hung up is
//     dropped before it starts, and GET /auth/me stays quick during a
//     flood of logins.
//     Each login claims a client address of its own (X-Forwarded-For from
//     127.0.0.1, a trusted proxy by default).
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

describe(`hashing settings (${BACKEND})`, () => {
  test("bad settings are start-up errors naming the variable", async () => {
    for (const [k, v] of [["HASH_THREADS", "0"], ["HASH_QUEUE", "lots"]]) {
      const s = await startKorio({ env: { [k]: v }, wait: false });
      const res = await Promise.race([s.exited, sleep(10000 * SLOW).then(() => null)]);
      if (res === null) await s.stop({ allowBadLog: true });
      assert.ok(res !== null && res.code !== 0, `${k}=${v}: started`);
      assert.match(s.logs(), new RegExp(`${k}: expected`), `${k}=${v}`);
    }
  });
});
