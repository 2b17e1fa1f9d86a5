// REST: users as Terreno stores them. Password hashes made by Node's
// crypto (passport-local-mongoose's algorithm) and written straight into
// the store log in through korio (the other way round is in 10-auth). The
// same
// server has SIGNUP_DISABLED, no TOKEN_ISSUER and a bare-number
// TOKEN_EXPIRES_IN (seconds). Runs against SQLite (sqlite3 tool) or
// MongoDB (npm mongodb driver), whichever this run uses.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  assertNoSecrets, BACKEND, jwtDecode, objectIdHex, openStore, plmHash, restClient, startKorio,
} from "./harness.mjs";

describe(`users in the store (${BACKEND})`, () => {
  let srv, api, store;
  const secrets = [];

  before(async () => {
    srv = await startKorio({
      workers: 1,
      env: { SIGNUP_DISABLED: "true", TOKEN_EXPIRES_IN: "120", REFRESH_TOKEN_EXPIRES_IN: "2h" },
    });
    api = restClient(srv.url);
    store = await openStore(srv);
  });

  after(async () => {
    await store?.close();
    const out = await srv?.stop();
    if (out) assertNoSecrets(out, secrets);
  });

  test("SIGNUP_DISABLED: signup is 403 and creates nobody", async () => {
    const r = await api.post("/auth/signup", { email: "new@example.com", password: "pw" });
    assert.equal(r.status, 403);
    assert.equal(r.body.status, 403);
    assert.equal(await store.countUsers("new@example.com"), 0);
  });

  test("a user hashed by Node (passport-local-mongoose scheme) logs in", async () => {
    const password = "s3cret ünïcødé ✓";
    const { salt, hash } = plmHash(password);
    const _id = objectIdHex();
    secrets.push(password, hash);
    await store.insertUser({ _id, email: "terreno@example.com", hash, salt });

    const r = await api.post("/auth/login", { email: "Terreno@Example.com", password });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.userId, _id);
    secrets.push(r.body.data.token, r.body.data.refreshToken);

    const bad = await api.post("/auth/login", { email: "terreno@example.com", password: password + "x" });
    assert.equal(bad.status, 401);

    const me = await api.get("/auth/me", { token: r.body.data.token });
    assert.equal(me.status, 200);
    assert.equal(me.body.data._id, _id);
    assert.equal(me.body.data.email, "terreno@example.com");
    assert.equal(me.body.data.__v, 0);
  });

  test("no TOKEN_ISSUER: no iss claim; TOKEN_EXPIRES_IN=120 means seconds", async () => {
    const password = "pw-issuer";
    const { salt, hash } = plmHash(password);
    await store.insertUser({ _id: objectIdHex(), email: "iss@example.com", hash, salt });
    const r = await api.post("/auth/login", { email: "iss@example.com", password });
    assert.equal(r.status, 200);
    const a = jwtDecode(r.body.data.token).payload;
    assert.equal(a.iss, undefined);
    assert.equal(a.exp - a.iat, 120);
    const rt = jwtDecode(r.body.data.refreshToken).payload;
    assert.equal(rt.exp - rt.iat, 7200);
    secrets.push(r.body.data.token, r.body.data.refreshToken);
  });

  test("an admin flag set in the store is honoured and never settable by PATCH", async () => {
    const password = "pw-admin";
    const { salt, hash } = plmHash(password);
    const _id = objectIdHex();
    await store.insertUser({ _id, email: "root@example.com", hash, salt, admin: true });
    const r = await api.post("/auth/login", { email: "root@example.com", password });
    const me = await api.patch("/auth/me", { admin: false }, { token: r.body.data.token });
    assert.equal(me.status, 200);
    assert.equal(me.body.data.admin, true);
  });

  test("a user without a hash (e.g. created elsewhere) can't log in", async () => {
    await store.insertUser({ _id: objectIdHex(), email: "nohash@example.com" });
    const r = await api.post("/auth/login", { email: "nohash@example.com", password: "anything" });
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, { message: "Password or username is incorrect" });
  });
});
