// Session re-validation (Terreno's sweep, both protocols): every
// REALTIME_REVALIDATE_MS each socket is checked again; an expired token or
// a deleted user gets "sync:auth-expired" {reason}, then the Socket.IO
// DISCONNECT ("io server disconnect", no reconnection).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { openStore, startKorio, SLOW } from "./harness.mjs";
import { connect, devSecret, got, mint, signup, sleep, until } from "./rt-util.mjs";

const T = 10000 * SLOW;

function gone(s) {
  return new Promise((resolve) => s.once("disconnect", resolve));
}

describe("session re-validation", { timeout: 60000 * SLOW }, () => {
  let srv;
  const sockets = [];
  before(async () => {
    srv = await startKorio({ workers: 2, env: { REALTIME_REVALIDATE_MS: "300" } });
  });
  after(async () => {
    for (const s of sockets) s.close();
    await srv?.stop();
  });

  for (const transports of [["websocket"], ["polling"]]) {
    test(`an expired token: sync:auth-expired {reason: expired}, then io server disconnect (${transports})`, async () => {
      const u = await signup(srv, "exp");
      const now = Math.floor(Date.now() / 1000);
      const token = mint(devSecret(srv), { id: u.id, sub: u.id, sid: "s1", iat: now, exp: now + 2 });
      const s = await connect(srv, { token }, { transports });
      sockets.push(s);
      const reason = gone(s);
      assert.equal(await Promise.race([reason, sleep(T).then(() => "still connected")]), "io server disconnect");
      assert.deepEqual(got(s, "sync:auth-expired"), [{ reason: "expired" }]);
      assert.ok(Date.now() / 1000 >= now + 2, "disconnected before the token expired");
    });
  }

  test("a deleted user: sync:auth-expired {reason: invalid-session}; other users stay", async () => {
    const doomed = await signup(srv, "doomed");
    const kept = await signup(srv, "kept");
    const a = await connect(srv, { token: doomed.token });
    const b = await connect(srv, { token: doomed.token }, { transports: ["polling"] });
    const c = await connect(srv, { token: kept.token });
    sockets.push(a, b, c);
    await sleep(700);
    assert.ok(a.connected && b.connected && c.connected, "a valid session was cut");

    const store = await openStore(srv);
    await store.deleteUser(doomed.id);
    await store.close();

    const reasons = await Promise.all([gone(a), gone(b)]);
    assert.deepEqual(reasons, ["io server disconnect", "io server disconnect"]);
    for (const s of [a, b]) assert.deepEqual(got(s, "sync:auth-expired"), [{ reason: "invalid-session" }]);
    await sleep(700);
    assert.ok(c.connected);
    assert.deepEqual(got(c, "sync:auth-expired"), []);
  });
});

describe("session re-validation off", { timeout: 60000 * SLOW }, () => {
  test("REALTIME_REVALIDATE_MS=0: an expired token's socket stays", async () => {
    const srv = await startKorio({ workers: 1, env: { REALTIME_REVALIDATE_MS: "0" } });
    try {
      const u = await signup(srv, "off");
      const now = Math.floor(Date.now() / 1000);
      const token = mint(devSecret(srv), { id: u.id, sub: u.id, sid: "s1", iat: now, exp: now + 1 });
      const s = await connect(srv, { token });
      await sleep(2500);
      assert.ok(s.connected);
      assert.deepEqual(got(s, "sync:auth-expired"), []);
      s.close();
    } finally {
      await srv.stop();
    }
  });
});
