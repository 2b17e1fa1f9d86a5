// REST: bad input and the HTTP edges: malformed JSON, bodies that are no
// objects, invalid UTF-8, duplicate keys, the body limit (413), CORS and
// preflights, unknown routes, racing signups, and no secrets in the log.
// The server runs with BODY_LIMIT=4096 and a FRONTEND_URL.

import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { assertNoSecrets, BACKEND, openStore, restClient, startKorio } from "./harness.mjs";

const ORIGIN = "http://app.example.test";
const LIMIT = 4096;

// A raw HTTP/1.1 exchange, for what fetch won't send: the head, then the
// body, or with bodyAfterReply the body only if the server has not
// answered the head alone within 3 s (the answer ends the exchange).
function rawRequest(port, head, body = Buffer.alloc(0), bodyAfterReply = false) {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    let data = "";
    let timer = null;
    s.on("data", (d) => {
      data += d.toString("latin1");
      if (bodyAfterReply && /\r\n\r\n/.test(data)) {
        clearTimeout(timer);
        s.destroy();
        resolve(data);
      }
    });
    s.on("error", () => resolve(data));
    s.on("close", () => resolve(data));
    s.write(head);
    if (!bodyAfterReply) s.end(body);
    else timer = setTimeout(() => s.end(body), 3000);
  });
}

describe(`bad input and HTTP edges (${BACKEND})`, () => {
  let srv, api, alice;
  const secrets = [];

  before(async () => {
    srv = await startKorio({ workers: 2, env: { BODY_LIMIT: String(LIMIT), FRONTEND_URL: ORIGIN } });
    api = restClient(srv.url);
    alice = await api.signup("alice@example.com", "alice's password");
    secrets.push(alice.password, alice.token, alice.refreshToken);
  });

  after(async () => {
    const out = await srv?.stop();
    if (out) assertNoSecrets(out, secrets);
  });

  const count = async () => {
    const r = await api.get("/todos", { token: alice.token });
    assert.equal(r.status, 200, r.text);
    return r.body.total;
  };
  const post = (raw, path = "/todos", token = alice.token) =>
    api.req("POST", path, { token, raw, headers: { "content-type": "application/json" } });

  test("malformed JSON: 400 {status, title, detail}, nothing written", async () => {
    const n = await count();
    for (const raw of ["{", "{\"title\": }", "{'title':'x'}", "{\"title\":\"x\"} trailing", "nul",
      "{\"title\":\"x\",}", "\u0000", " "]) {
      const r = await post(raw);
      assert.equal(r.status, 400, JSON.stringify(raw));
      assert.equal(r.body.status, 400);
      assert.equal(typeof r.body.title, "string");
    }
    assert.equal(await count(), n);
    for (const path of ["/auth/signup", "/auth/login", "/auth/refresh_token"]) {
      const r = await post("{nope", path, undefined);
      assert.equal(r.status, 400, path);
    }
  });

  test("bodies that are not objects, duplicate keys, NUL escapes: 400", async () => {
    const n = await count();
    for (const raw of ["[]", "[{\"title\":\"x\"}]", "\"title\"", "42", "true", "null",
      "{\"title\":\"a\",\"title\":\"b\"}", "{\"title\":\"a\\u0000b\"}", "{\"title\":\"x\",\"completed\":tru}"]) {
      const r = await post(raw);
      assert.equal(r.status, 400, raw);
    }
    assert.equal(await count(), n);
  });

  test("invalid UTF-8 is 400; valid UTF-8 and \\u escapes round-trip", async () => {
    const bad = Buffer.concat([Buffer.from("{\"title\":\""), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from("\"}")]);
    assert.equal((await post(bad)).status, 400);
    const r = await post("{\"title\":\"caf\\u00e9 \\ud83d\\ude00 \u2713\"}");
    assert.equal(r.status, 201);
    assert.equal(r.body.data.title, "café 😀 ✓");
    const lone = await post("{\"title\":\"\\ud83d\"}");
    assert.equal(lone.status, 400);
  });

  test("a body over BODY_LIMIT: 413 JSON, nothing written; at the limit: fine", async () => {
    const n = await count();
    const over = JSON.stringify({ title: "x", pad: "y".repeat(LIMIT) });
    let r = await post(over);
    assert.equal(r.status, 413);
    assert.equal(r.body.status, 413);
    assert.equal(r.headers.get("access-control-allow-origin"), ORIGIN);
    r = await api.req("PATCH", "/auth/me", { token: alice.token, raw: over });
    assert.equal(r.status, 413);
    r = await post(over, "/auth/signup", undefined);
    assert.equal(r.status, 413);
    assert.equal(await count(), n);
    // Exactly LIMIT bytes is allowed (and then judged on its content).
    const title = "z".repeat(400);
    const fill = LIMIT - JSON.stringify({ title }).length;
    r = await post(JSON.stringify({ title }) + " ".repeat(fill));
    assert.equal(r.status, 201);
    assert.equal(await count(), n + 1);
  });

  test("a body past Kore's own 1 MiB cap is refused with 413", async () => {
    const size = 2 * 1024 * 1024;
    const head = `POST /todos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice.token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n`;
    const res = await rawRequest(srv.port, head, Buffer.alloc(size, 0x20), true);
    assert.match(res, /^HTTP\/1\.1 413 /);
  });

  test("a POST without Content-Length is refused (411), nothing written", async () => {
    const n = await count();
    const head = `POST /todos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice.token}\r\n` +
      "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    const res = await rawRequest(srv.port, head, Buffer.from("e\r\n{\"title\":\"x\"}\r\n0\r\n\r\n"), true);
    assert.match(res, /^HTTP\/1\.1 4\d\d /);
    assert.equal(await count(), n);
  });

  test("OPTIONS preflight: 204 with CORS headers, no auth needed", async () => {
    for (const path of ["/todos", "/todos/0123456789abcdef01234567", "/projects", "/auth/login", "/auth/me"]) {
      const r = await fetch(srv.url + path, {
        method: "OPTIONS",
        headers: {
          origin: ORIGIN,
          "access-control-request-method": "PATCH",
          "access-control-request-headers": "authorization,content-type,app-version",
        },
      });
      assert.equal(r.status, 204, path);
      assert.equal(await r.text(), "");
      assert.equal(r.headers.get("access-control-allow-origin"), ORIGIN);
      assert.match(r.headers.get("access-control-allow-methods"), /PATCH/);
      assert.match(r.headers.get("access-control-allow-methods"), /DELETE/);
      assert.equal(r.headers.get("access-control-allow-headers"), "authorization,content-type,app-version");
    }
  });

  test("every REST answer carries the CORS origin, errors included", async () => {
    for (const r of [
      await api.get("/todos"),
      await api.get("/todos", { token: alice.token }),
      await api.get("/todos?foo=1", { token: alice.token }),
      await api.get("/todos/nope", { token: alice.token }),
      await api.put("/todos/nope", {}, { token: alice.token }),
      await api.post("/auth/login", {}),
    ]) {
      assert.equal(r.headers.get("access-control-allow-origin"), ORIGIN);
      assert.match(r.headers.get("vary") ?? "", /Origin/);
    }
  });

  test("unknown routes are 404", async () => {
    for (const path of ["/todo", "/todos/a/b", "/auth", "/auth/logout", "/api/todos", "/projects/x/y"]) {
      const r = await api.get(path, { token: alice.token });
      assert.equal(r.status, 404, path);
    }
  });

  test("racing signups with one email: exactly one wins, one user stored", async () => {
    const N = 4;
    const email = "race@example.com";
    const passwords = Array.from({ length: N }, (_, i) => `race-password-${i}`);
    secrets.push(...passwords);
    const rs = await Promise.all(passwords.map((password, i) =>
      api.post("/auth/signup", { email: i % 2 ? email.toUpperCase() : email, password })));
    const wins = rs.filter((r) => r.status === 200);
    assert.equal(wins.length, 1, rs.map((r) => r.status).join(","));
    for (const r of rs.filter((x) => x.status !== 200)) {
      assert.equal(r.status, 400);
      assert.equal(r.body.title, "A user with the given username is already registered");
    }
    const winner = rs.indexOf(wins[0]);
    const store = await openStore(srv);
    try {
      assert.equal(await store.countUsers(email), 1);
      assert.equal((await store.findUser(email))._id, wins[0].body.data.userId);
    } finally {
      await store.close();
    }
    const ok = await api.post("/auth/login", { email, password: passwords[winner] });
    assert.equal(ok.status, 200);
    const other = await api.post("/auth/login", { email, password: passwords[(winner + 1) % N] });
    assert.equal(other.status, 401);
    secrets.push(ok.body.data.token, wins[0].body.data.token);
  });

  test("racing creates are all stored, once each", async () => {
    const n = await count();
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      api.post("/todos", { title: `par ${i}` }, { token: alice.token })));
    assert.ok(rs.every((r) => r.status === 201));
    assert.equal(new Set(rs.map((r) => r.body.data.id)).size, 20);
    assert.equal(await count(), n + 20);
  });
});
