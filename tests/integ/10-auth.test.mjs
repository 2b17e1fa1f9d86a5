// REST: /auth/* (contract "Auth"): signup, login, refresh_token, me;
// the tokens' claims and what the server accepts as a bearer token; the
// hash and salt a signup stores, checked with Node's crypto.
// One server with TOKEN_ISSUER set; users are shared across tests (each
// signup costs a PBKDF2, ~110 ms, ~4x under ASan).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  assertNoSecrets, jwtDecode, jwtSign, jwtVerifies, objectIdHex, openStore, plmHash, restClient, startKorio,
} from "./harness.mjs";

const TOKEN_SECRET = "access-secret-for-tests-0123456789";
const REFRESH_SECRET = "refresh-secret-for-tests-9876543210";
const ISSUER = "korio-test-issuer";
const DUP = "A user with the given username is already registered";

describe("auth", () => {
  let srv, api, alice, bob, dave;
  const secrets = [TOKEN_SECRET, REFRESH_SECRET];
  const now = () => Math.floor(Date.now() / 1000);
  const mint = (payload, opts = {}) => jwtSign(
    { iat: now(), exp: now() + 600, iss: ISSUER, ...payload }, opts.secret ?? TOKEN_SECRET, opts.header);

  before(async () => {
    srv = await startKorio({
      env: { TOKEN_SECRET, REFRESH_TOKEN_SECRET: REFRESH_SECRET, TOKEN_ISSUER: ISSUER },
    });
    api = restClient(srv.url, { record: true });
    [alice, bob] = await Promise.all([
      api.signup("Alice@Example.COM", "alice password ✓"),
      api.signup("bob@example.com", "bob-pw"),
    ]);
    secrets.push(alice.password, bob.password, alice.token, alice.refreshToken, bob.token);
  });

  after(async () => {
    const out = await srv?.stop();
    if (out) assertNoSecrets(out, secrets);
    // Responses carry tokens, but never a secret or a password.
    assertNoSecrets(api.seen.join("\n"), [TOKEN_SECRET, REFRESH_SECRET, alice.password, bob.password, "dave-pw"],
      "responses");
  });

  describe("signup", () => {
    test("returns 200 {data:{token, refreshToken, userId}}", async () => {
      assert.deepEqual(Object.keys(alice).sort(),
        ["email", "password", "refreshToken", "token", "userId"]);
      assert.match(alice.userId, /^[0-9a-f]{24}$/);
    });

    test("access token: HS256 {id, sub, sid, iat, exp, iss}, TOKEN_EXPIRES_IN 15m by default", () => {
      const { header, payload } = jwtDecode(alice.token);
      assert.equal(header.alg, "HS256");
      assert.deepEqual(Object.keys(payload).sort(), ["exp", "iat", "id", "iss", "sid", "sub"]);
      assert.equal(payload.id, alice.userId);
      assert.equal(payload.sub, alice.userId);
      assert.equal(payload.iss, ISSUER);
      assert.equal(payload.exp - payload.iat, 15 * 60);
      assert.ok(Math.abs(payload.iat - now()) < 60);
      assert.ok(jwtVerifies(alice.token, TOKEN_SECRET));
    });

    test("refresh token: the same claims without iss, REFRESH_TOKEN_SECRET, 30d, same sid", () => {
      const a = jwtDecode(alice.token).payload;
      const { header, payload } = jwtDecode(alice.refreshToken);
      assert.equal(header.alg, "HS256");
      assert.deepEqual(Object.keys(payload).sort(), ["exp", "iat", "id", "sid", "sub"]);
      assert.equal(payload.sid, a.sid);
      assert.match(payload.sid, /^[0-9a-f-]{36}$/);
      assert.equal(payload.exp - payload.iat, 30 * 86400);
      assert.ok(jwtVerifies(alice.refreshToken, REFRESH_SECRET));
      assert.ok(!jwtVerifies(alice.refreshToken, TOKEN_SECRET));
    });

    test("the email is stored lowercased; the user has no hash or salt on the wire", async () => {
      const r = await api.get("/auth/me", { token: alice.token });
      assert.equal(r.status, 200);
      const u = r.body.data;
      assert.deepEqual(Object.keys(u).sort(), ["_id", "admin", "created", "email", "id", "updated"]);
      assert.equal(u.email, "alice@example.com");
      assert.equal(u._id, alice.userId);
      assert.equal(u.id, alice.userId);
      assert.equal(u.admin, false);
      assert.match(u.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.match(u.updated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    });

    test("a taken email (any case) is 400 with Terreno's title", async () => {
      const r = await api.post("/auth/signup", { email: "ALICE@example.com", password: "other" });
      assert.equal(r.status, 400);
      assert.deepEqual(r.body, { status: 400, title: DUP });
      // The original password still works: nothing was overwritten.
      const l = await api.post("/auth/login", { email: alice.email, password: alice.password });
      assert.equal(l.status, 200);
    });

    test("bad input is 400 {status, title, detail} and creates nobody", async () => {
      const cases = [
        [{ password: "x" }, /email/],
        [{ email: "nobody1@example.com" }, /password/],
        [{ email: 42, password: "x" }, /email/],
        [{ email: "nobody2@example.com", password: 42 }, /password/],
        [{ email: "not-an-email", password: "x" }, /email/],
        [{ email: "nobody3@example.com", password: "" }, /password/],
        [{ email: "nobody4@example.com", password: "x".repeat(1025) }, /password/],
        [{ email: `${"a".repeat(250)}@example.com`, password: "x" }, /email/],
      ];
      for (const [body, detail] of cases) {
        const r = await api.post("/auth/signup", body);
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(r.body.status, 400);
        assert.equal(typeof r.body.title, "string");
        assert.match(r.body.detail, detail);
      }
      const store = await openStore(srv);
      try {
        for (const email of ["nobody1@example.com", "nobody2@example.com", "nobody3@example.com", "nobody4@example.com"])
          assert.equal(await store.countUsers(email), 0, email);
      } finally {
        await store.close();
      }
    });

    test("extra fields, admin included, are not applied", async () => {
      const r = await api.post("/auth/signup", { email: "carol@example.com", password: "carol-pw", admin: true, name: "C" });
      assert.equal(r.status, 200);
      const me = await api.get("/auth/me", { token: r.body.data.token });
      assert.equal(me.body.data.admin, false);
      assert.equal(me.body.data.name, undefined);
      secrets.push(r.body.data.token);
    });

    test("hash and salt in the store are passport-local-mongoose's: Node verifies them", async () => {
      const store = await openStore(srv);
      let doc;
      try {
        doc = await store.findUser("alice@example.com");
      } finally {
        await store.close();
      }
      assert.ok(doc, "alice is in the store");
      assert.equal(doc._id, alice.userId);
      assert.equal(doc.admin, false);
      assert.match(doc.salt, /^[0-9a-f]{64}$/);
      assert.match(doc.hash, /^[0-9a-f]{1024}$/);
      assert.equal(plmHash(alice.password, doc.salt).hash, doc.hash);
      assert.notEqual(plmHash("other", doc.salt).hash, doc.hash);
      assert.ok(!Number.isNaN(Date.parse(doc.created)));
      secrets.push(doc.hash, doc.salt);
    });

    test("a bad Authorization header is ignored", async () => {
      const r = await api.post("/auth/signup", { email: "dave@example.com", password: "dave-pw" },
        { token: "not.a.jwt" });
      assert.equal(r.status, 200);
      dave = r.body.data;
    });
  });

  describe("login", () => {
    test("200 {data:{token, refreshToken, userId}}, email in any case, a new session", async () => {
      const r = await api.post("/auth/login", { email: " ALICE@example.com ", password: alice.password });
      assert.equal(r.status, 200);
      assert.deepEqual(Object.keys(r.body.data).sort(), ["refreshToken", "token", "userId"]);
      assert.equal(r.body.data.userId, alice.userId);
      const p = jwtDecode(r.body.data.token).payload;
      assert.equal(p.sub, alice.userId);
      assert.notEqual(p.sid, jwtDecode(alice.token).payload.sid);
      assert.equal(jwtDecode(r.body.data.refreshToken).payload.sid, p.sid);
      secrets.push(r.body.data.token, r.body.data.refreshToken);
    });

    test("a wrong password or unknown email: 401 Password or username is incorrect", async () => {
      const bodies = [
        { email: alice.email, password: "wrong" },
        { email: "nobody@example.com", password: "whatever" },
        { email: alice.email, password: 12345 },
        { email: ["x"], password: "x" },
      ];
      const rs = await Promise.all(bodies.map((body) => api.post("/auth/login", body)));
      for (const [i, r] of rs.entries()) {
        assert.equal(r.status, 401, JSON.stringify(bodies[i]));
        assert.deepEqual(r.body, { message: "Password or username is incorrect" });
      }
    });

    test("a missing field: 401 Missing credentials", async () => {
      for (const body of [{}, { email: alice.email }, { password: "x" }, { email: "", password: "x" },
        { email: alice.email, password: null }]) {
        const r = await api.post("/auth/login", body);
        assert.equal(r.status, 401, JSON.stringify(body));
        assert.deepEqual(r.body, { message: "Missing credentials" });
      }
      const r = await api.req("POST", "/auth/login");
      assert.equal(r.status, 401);
      assert.deepEqual(r.body, { message: "Missing credentials" });
    });

    test("a stale or invalid Authorization header is ignored", async () => {
      const expired = mint({ id: alice.userId, sub: alice.userId, sid: "s", iat: now() - 100, exp: now() - 50 });
      const r = await api.post("/auth/login", { email: alice.email, password: alice.password }, { token: expired });
      assert.equal(r.status, 200);
      // Without a PBKDF2: a failed login still answers 401 {message}, not the bearer 401.
      const bad = await api.post("/auth/login", { email: alice.email }, { token: "garbage" });
      assert.deepEqual(bad.body, { message: "Missing credentials" });
    });
  });

  describe("refresh_token", () => {
    test("200 {data:{token, refreshToken}}, no userId, the same sid", async () => {
      const r = await api.post("/auth/refresh_token", { refreshToken: alice.refreshToken },
        { token: "expired.or.garbage" });
      assert.equal(r.status, 200);
      assert.deepEqual(Object.keys(r.body.data).sort(), ["refreshToken", "token"]);
      const sid = jwtDecode(alice.token).payload.sid;
      const a = jwtDecode(r.body.data.token).payload;
      assert.equal(a.sid, sid);
      assert.equal(a.sub, alice.userId);
      assert.equal(a.iss, ISSUER);
      assert.equal(jwtDecode(r.body.data.refreshToken).payload.sid, sid);
      const me = await api.get("/auth/me", { token: r.body.data.token });
      assert.equal(me.status, 200);
      secrets.push(r.body.data.token, r.body.data.refreshToken);
    });

    test("a Terreno refresh token (id only, no sub) is accepted", async () => {
      const rt = jwtSign({ id: bob.userId, sid: "terreno-sid", iat: now(), exp: now() + 600 }, REFRESH_SECRET);
      const r = await api.post("/auth/refresh_token", { refreshToken: rt });
      assert.equal(r.status, 200);
      assert.equal(jwtDecode(r.body.data.token).payload.sid, "terreno-sid");
    });

    test("bad refresh tokens are 401 {message}", async () => {
      const cases = [
        {},
        { refreshToken: "" },
        { refreshToken: 42 },
        { refreshToken: "garbage" },
        { refreshToken: alice.token },
        { refreshToken: jwtSign({ id: alice.userId, sid: "s", iat: now() - 100, exp: now() - 10 }, REFRESH_SECRET) },
        { refreshToken: jwtSign({ id: objectIdHex(), sid: "s", iat: now(), exp: now() + 600 }, REFRESH_SECRET) },
        { refreshToken: jwtSign({ id: alice.userId, sid: "s", iat: now(), exp: now() + 600 }, REFRESH_SECRET,
          { alg: "HS512", typ: "JWT" }) },
      ];
      for (const body of cases) {
        const r = await api.post("/auth/refresh_token", body);
        assert.equal(r.status, 401, JSON.stringify(body));
        assert.equal(typeof r.body.message, "string");
        assert.deepEqual(Object.keys(r.body), ["message"]);
      }
    });
  });

  describe("bearer tokens", () => {
    test("no token, Bearer null, Bearer undefined: 401 {status:401,title:Unauthorized}", async () => {
      // (An empty header value is a 400 from Kore itself.)
      for (const headers of [{}, { authorization: "Bearer null" }, { authorization: "Bearer undefined" },
        { authorization: "Bearer" }, { authorization: "Bearer " }]) {
        const r = await api.get("/auth/me", { headers });
        assert.equal(r.status, 401, JSON.stringify(headers));
        assert.deepEqual(r.body, { status: 401, title: "Unauthorized" });
      }
    });

    test("a Terreno token ({id} only, no sub) is accepted; the scheme is case-insensitive", async () => {
      const t = mint({ id: bob.userId, sid: "x" });
      let r = await api.get("/auth/me", { token: t });
      assert.equal(r.status, 200);
      assert.equal(r.body.data.id, bob.userId);
      r = await api.get("/auth/me", { headers: { authorization: `bearer ${t}` } });
      assert.equal(r.status, 200);
    });

    test("sub wins over id", async () => {
      const r = await api.get("/auth/me", { token: mint({ id: alice.userId, sub: bob.userId }) });
      assert.equal(r.status, 200);
      assert.equal(r.body.data.id, bob.userId);
    });

    test("tokens failing verification are 401", async () => {
      const base = { id: alice.userId, sub: alice.userId, sid: "s" };
      const tampered = alice.token.slice(0, -3) + (alice.token.endsWith("AAA") ? "BBB" : "AAA");
      const cases = {
        expired: mint({ ...base, iat: now() - 100, exp: now() - 1 }),
        "no exp": jwtSign({ ...base, iss: ISSUER, iat: now() }, TOKEN_SECRET),
        "wrong secret": mint(base, { secret: "another-secret-0123456789" }),
        "the refresh secret": mint(base, { secret: REFRESH_SECRET }),
        "a refresh token": alice.refreshToken,
        "alg none": mint(base, { header: { alg: "none", typ: "JWT" } }),
        HS512: mint(base, { header: { alg: "HS512", typ: "JWT" } }),
        "wrong issuer": mint({ ...base, iss: "someone-else" }),
        "no issuer": jwtSign({ ...base, iat: now(), exp: now() + 600 }, TOKEN_SECRET),
        "tampered signature": tampered,
        "a user that does not exist": mint({ id: objectIdHex(), sub: objectIdHex() }),
        "a user id that is no ObjectId": mint({ id: "alice", sub: "alice" }),
        garbage: "abc.def.ghi",
      };
      for (const [what, token] of Object.entries(cases)) {
        const r = await api.get("/auth/me", { token });
        assert.equal(r.status, 401, what);
        assert.equal(r.body.status, 401, what);
      }
      const r = await api.get("/auth/me", { headers: { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` } });
      assert.equal(r.status, 401);
    });
  });

  describe("me", () => {
    test("PATCH sets the email only (lowercased); admin, hash and salt are ignored", async () => {
      const r = await api.patch("/auth/me", {
        email: "Dave.New@Example.com", admin: true, hash: "00", salt: "00",
      }, { token: dave.token });
      assert.equal(r.status, 200);
      assert.equal(r.body.data.email, "dave.new@example.com");
      assert.equal(r.body.data.admin, false);
      assert.ok(r.body.data.updated >= r.body.data.created);
      // The password is untouched.
      const [l, old] = await Promise.all([
        api.post("/auth/login", { email: "dave.new@example.com", password: "dave-pw" }),
        api.post("/auth/login", { email: "dave@example.com", password: "dave-pw" }),
      ]);
      assert.equal(l.status, 200);
      assert.equal(old.status, 401);
    });

    test("PATCH back the whole document works", async () => {
      const me = await api.get("/auth/me", { token: bob.token });
      const r = await api.patch("/auth/me", me.body.data, { token: bob.token });
      assert.equal(r.status, 200);
      assert.equal(r.body.data.email, bob.email);
      assert.equal(r.body.data.created, me.body.data.created);
    });

    test("PATCH to a taken email is 400 and changes nothing", async () => {
      const r = await api.patch("/auth/me", { email: "ALICE@example.com" }, { token: bob.token });
      assert.equal(r.status, 400);
      assert.equal(r.body.title, DUP);
      const me = await api.get("/auth/me", { token: bob.token });
      assert.equal(me.body.data.email, bob.email);
    });

    test("PATCH with a bad body is 400 naming the field", async () => {
      for (const [body, re] of [
        [{ email: 42 }, /email/], [{ email: "nope" }, /email/], [{ name: "Bob" }, /name/],
        [{ email: null }, /email/],
      ]) {
        const r = await api.patch("/auth/me", body, { token: bob.token });
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.match(r.body.detail, re);
      }
      const r = await api.req("PATCH", "/auth/me", { token: bob.token, raw: "{nope", headers: { "content-type": "application/json" } });
      assert.equal(r.status, 400);
    });

    test("PATCH without a valid token is 401", async () => {
      const r = await api.patch("/auth/me", { email: "x@example.com" }, { token: "null" });
      assert.equal(r.status, 401);
    });

    test("methods /auth/* lack: 405 (after the auth check on /auth/me)", async () => {
      let r = await api.post("/auth/me", {}, { token: bob.token });
      assert.equal(r.status, 405);
      assert.equal(r.body.status, 405);
      r = await api.del("/auth/me", { token: bob.token });
      assert.equal(r.status, 405);
      r = await api.post("/auth/me", {});
      assert.equal(r.status, 401);
      for (const p of ["/auth/login", "/auth/signup", "/auth/refresh_token"]) {
        r = await api.get(p);
        assert.equal(r.status, 405, p);
      }
    });
  });
});
