// Cluster-wide presence (issue 16, korio's convention: section 10 of
// shared/docs/redis-adapter.md): two korio processes (2 workers each) on
// one real redis-server on loopback and one MongoDB database.
//   - users of korio A and B are in both nodes' presence:update, on every
//     worker; the keys are the convention's (node set, per-node hash with
//     alive and the ids, TTL <= 8 s); a user leaving B leaves A's list;
//   - Redis down: each node keeps its own presence current; Redis back
//     (empty): each node writes its hash again (heartbeat: alive is new)
//     and the lists heal with the users who came meanwhile;
//   - A's worker 1 (which holds presence's Redis side) killed: Kore
//     restarts it with the same node id, A's hash and both lists follow
//     the sockets that lived;
//   - SIGKILL of B's whole process group: its users leave A's list within
//     15 s, its hash expires and it is taken off the node set.
// Needs MongoDB (the nodes share the store): run through run-mongo.mjs;
// skipped in the SQLite run.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { createClient } from "redis";

import { startRedis, stopRedis } from "./cluster/redis-server.mjs";
import { SLOW, freePort, startServer, tempDir } from "./harness.mjs";
import { connect, emitAck, got, signup, sleep, until } from "./rt-util.mjs";

const MONGO = process.env.KORIO_TEST_MONGODB_URI;
const T = 10000 * SLOW;
const P = "socket.io-presence";

const last = (s) => got(s, "presence:update").at(-1) ?? [];
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const sorted = (...ids) => [...ids].sort();

describe("cluster presence over Redis", {
  skip: MONGO ? false : "needs MongoDB: run through tests/integ/run-mongo.mjs",
  timeout: 180000 * SLOW,
}, () => {
  let redis, redisPort, redisDir, raw, A, B, nodeA, nodeB, uA, uB, uC;
  const sockets = [];
  const env = () => ({
    TOKEN_SECRET: "presence-token-secret-0123456789",
    REFRESH_TOKEN_SECRET: "presence-refresh-secret-0123456789",
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    KORIO_DEBUG_ENDPOINTS: "true",
  });
  const sock = async (srv, user) => {
    const s = await connect(srv, { token: `Bearer ${user.token}` });
    sockets.push(s);
    return s;
  };
  // Sockets of user on srv until both of its workers hold one.
  const onBothWorkers = async (srv, user) => {
    const byWorker = new Map();
    for (let i = 0; i < 12 && byWorker.size < 2; i++) {
      const s = await sock(srv, user);
      const w = (await emitAck(s, "debug:worker")).worker;
      if (!byWorker.has(w)) byWorker.set(w, s);
    }
    assert.equal(byWorker.size, 2, "sockets on both workers");
    return [...byWorker.values()];
  };
  const hkeys = async (node) => (await raw.hKeys(`${P}#${node}#`)).sort();

  before(async () => {
    redisPort = await freePort();
    redisDir = tempDir("korio-redis-");
    redis = await startRedis(redisPort, redisDir);
    const dbName = `korio_presence_${redisPort}`;
    [A, B] = await Promise.all([
      startServer({ workers: 2, dbName, env: env(), group: true }),
      startServer({ workers: 2, dbName, env: env(), group: true }),
    ]);
    raw = createClient({ url: `redis://127.0.0.1:${redisPort}` });
    raw.on("error", () => {});
    await raw.connect();
    await A.waitForLog(/redis: connected to .* node [0-9a-f]{16}/, T);
    await B.waitForLog(/redis: connected to .* node [0-9a-f]{16}/, T);
    nodeA = /redis: connected to .* node ([0-9a-f]{16})/.exec(A.logs())[1];
    nodeB = /redis: connected to .* node ([0-9a-f]{16})/.exec(B.logs())[1];
    assert.notEqual(nodeA, nodeB);
    uA = await signup(A, "presence-a");
    uB = await signup(B, "presence-b");
  });

  after(async () => {
    for (const s of sockets) s.close();
    await raw?.quit().catch(() => {});
    const logs = await Promise.all([A?.stop({ allowBadLog: true }), B?.stop({ allowBadLog: true })]);
    if (redis) await stopRedis(redis);
    for (const l of logs) if (l) assert.doesNotMatch(l, /sandbox violation|AddressSanitizer|runtime error/);
  });

  let a1, a2, b1, c1;

  test("users of A and B are in both nodes' presence:update, on every worker", async () => {
    [a1, a2] = await onBothWorkers(A, uA);
    b1 = await sock(B, uB);
    const both = sorted(uA.id, uB.id);
    await until(() => [a1, a2, b1].every((s) => same(last(s), both)), T,
      `both users everywhere (a1 ${JSON.stringify(last(a1))}, b1 ${JSON.stringify(last(b1))})`);

    // The convention's keys.
    assert.deepEqual((await raw.sMembers(`${P}#nodes`)).sort(), sorted(nodeA, nodeB));
    assert.deepEqual(await hkeys(nodeA), sorted("alive", uA.id));
    assert.deepEqual(await hkeys(nodeB), sorted("alive", uB.id));
    const alive = Number(await raw.hGet(`${P}#${nodeA}#`, "alive"));
    assert.ok(Math.abs(Date.now() - alive) < 10000, `alive ${alive}`);
    const ttl = await raw.pTTL(`${P}#${nodeB}#`);
    assert.ok(ttl > 0 && ttl <= 8000, `hash TTL ${ttl}`);

    // B's user leaves: gone from A's lists (HDEL, then a change message).
    b1.close();
    await until(() => same(last(a1), [uA.id]) && same(last(a2), [uA.id]), T, "B's user gone from A");
    assert.deepEqual(await hkeys(nodeB), ["alive"]);
    b1 = await sock(B, uB);
    await until(() => same(last(a1), both) && same(last(a2), both) && same(last(b1), both), T,
      "B's user back on A");
  });

  test("Redis down: each node's own presence goes on; Redis back: the lists heal", async () => {
    uC = await signup(A, "presence-c");
    const mark = got(a1, "presence:update").length;
    await stopRedis(redis);
    await A.waitForLog(/redis: lost 127\.0\.0\.1/, T);
    // A new user on A while Redis is away: A's own sockets see it.
    c1 = await sock(A, uC);
    const three = sorted(uA.id, uB.id, uC.id);
    await until(() => same(last(a1), three) && same(last(c1), three), T, "A's own presence while Redis is down");

    redis = await startRedis(redisPort, redisDir);
    const t0 = Date.now();
    // Redis is empty: each node writes its hash again.
    let healed = false;
    while (Date.now() - t0 < 3 * T) {
      const members = await raw.sMembers(`${P}#nodes`).catch(() => []);
      if (same(members.sort(), sorted(nodeA, nodeB))
          && same(await hkeys(nodeA).catch(() => []), sorted("alive", uA.id, uC.id))
          && same(await hkeys(nodeB).catch(() => []), sorted("alive", uB.id))) {
        healed = true;
        break;
      }
      await sleep(100);
    }
    const took = Date.now() - t0;
    assert.ok(healed, "presence hashes written again after the restart");
    console.log(`# presence keys back ${took} ms after Redis started again`);
    await until(() => [a1, a2, b1, c1].every((s) => same(last(s), three)), T,
      `healed lists (b1 ${JSON.stringify(last(b1))})`);
    // B's user was never gone from A's lists meanwhile (no flicker).
    assert.ok(got(a1, "presence:update").slice(mark).every((l) => l.includes(uB.id)),
      `B's user stayed in A's list: ${JSON.stringify(got(a1, "presence:update").slice(mark))}`);
  });

  test("A's worker 1 (presence's Redis side) dies: same node id, its hash and the lists follow", async () => {
    const { execFileSync } = await import("node:child_process");
    const ps = execFileSync("ps", ["-eo", "pid,ppid,args"], { encoding: "utf8" });
    const line = ps.split("\n").find((l) => {
      const f = l.trim().split(/\s+/);
      return Number(f[1]) === A.child.pid && l.includes("[wrk 1]");
    });
    assert.ok(line, "A's worker 1");
    const re = /redis: connected to .* node ([0-9a-f]{16})/g;
    const before = [...A.logs().matchAll(re)].length;
    process.kill(Number(line.trim().split(/\s+/)[0]), "SIGKILL");
    await until(() => [...A.logs().matchAll(re)].length > before, T, "worker 1 connected again");
    assert.deepEqual([...new Set([...A.logs().matchAll(re)].map((m) => m[1]))], [nodeA], "one node id");
    // The sockets worker 1 owned died with it; uA keeps one on worker 2.
    await until(() => !a1.connected || !a2.connected, T, "worker 1's socket gone");
    assert.ok(a1.connected || a2.connected);
    const onA = sorted(uA.id, ...(c1.connected ? [uC.id] : []));
    const want = sorted(...onA, uB.id);
    const live = a1.connected ? a1 : a2;
    await until(() => same(last(b1), want) && same(last(live), want), 2 * T,
      `lists after the restart (b1 ${JSON.stringify(last(b1))}, A ${JSON.stringify(last(live))})`);
    assert.deepEqual(await hkeys(nodeA), sorted("alive", ...onA));
    a1 = a2 = live;
  });

  test("SIGKILL of B's process group: its users leave A's list within 15 s", async () => {
    const both = sorted(uA.id, uB.id);
    c1.close();
    await until(() => same(last(a1), both), T, "A's list before the kill");
    const t0 = Date.now();
    await B.kill9Group();
    await until(() => same(last(a1), [uA.id]), 15000, "B's user gone from A within 15 s");
    const took = Date.now() - t0;
    console.log(`# a killed node's users gone from A ${took} ms after SIGKILL`);
    assert.equal(await raw.exists(`${P}#${nodeB}#`), 0, "B's hash expired");
    assert.deepEqual(await raw.sMembers(`${P}#nodes`), [nodeA], "B taken off the node set");
  });
});
