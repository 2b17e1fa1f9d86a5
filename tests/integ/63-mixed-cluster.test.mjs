// A mixed cluster (issue 16): korio node A (2 workers) and the Node peer P
// (bench/peer, @socket.io/redis-adapter, presence.js) on one redis-server
// and one MongoDB database, with the same token secrets. Users signed up
// on either node, sockets of different users on both (WebSocket and
// long-polling):
//   - every socket's presence:update converges to the same sorted list of
//     all connected users: korio's presence and the peer's agree (section
//     10 of shared/docs/redis-adapter.md), and the Redis keys are the
//     convention's;
//   - a user leaving P leaves A's lists, a user leaving A leaves P's;
//   - a todo created over REST on A reaches its owner's and a project
//     member's sockets on P once, and one created on P reaches theirs on
//     A once (todo:created to todos:<user> and project:<id>, notification
//     to user:<owner>: the same payloads from both); users with a socket
//     on each node stay listed when one of them closes, and a new socket's
//     first list already has the other node's users;
//   - serverSideEmitWithAck('cluster:ping', x) from the peer is answered
//     x by korio (its only other node);
//   - P killed with SIGKILL: its users leave A's lists within 15 s.
// MongoDB only: run-mongo.mjs runs it (make integ); skipped without
// KORIO_TEST_MONGODB_URI.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { restClient, SLOW } from "./harness.mjs";
import { startCluster, startRedis } from "./cluster-util.mjs";
import { connect, emitAck, got, sleep, until } from "./rt-util.mjs";

const MONGO = process.env.KORIO_TEST_MONGODB_URI;
const SKIP = MONGO ? false : "MongoDB only (tests/integ/run-mongo.mjs)";
const PRESENCE = "socket.io-presence";
const T = 10000 * SLOW;

const last = (s) => got(s, "presence:update").at(-1) ?? [];
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const sorted = (...ids) => [...ids].sort();
const show = (socks) => socks.map((s) => `${s.label} ${JSON.stringify(last(s))}`).join("; ");

// Until every socket of socks has want as its last presence:update; on a
// timeout the message shows their lists then.
async function converge(socks, want, what, ms = T) {
  try {
    await until(() => socks.every((s) => same(last(s), want)), ms, what);
  } catch (e) {
    throw new Error(`${e.message}: ${show(socks)}`);
  }
}

describe("mixed cluster: korio and the Node peer", { skip: SKIP, timeout: 120000 * SLOW }, () => {
  let redis, nodes, A, P, apiA, apiP, nodeA, nodeP;
  // Users: a and b signed up on A, c and d on P.
  let ua, ub, uc, ud;
  const sockets = [];

  // A socket of user on node, labelled for the messages.
  const sock = async (node, user, label, transports = ["websocket"]) => {
    const s = await connect(node, { token: `Bearer ${user.token}` }, { transports });
    s.label = label;
    sockets.push(s);
    return s;
  };

  before(async () => {
    redis = await startRedis();
    nodes = await startCluster(["korio", "peer"], { redis });
    [A, P] = nodes;
    apiA = restClient(A.url);
    apiP = restClient(P.url);
    const re = /redis: connected to .* node ([0-9a-f]{16})/;
    await A.waitForLog(re, T);
    nodeA = re.exec(A.logs())[1];
    const tag = `${process.pid}-${Date.now()}`;
    [ua, ub, uc, ud] = await Promise.all([
      apiA.signup(`mixed-a-${tag}@example.com`),
      apiA.signup(`mixed-b-${tag}@example.com`),
      apiP.signup(`mixed-c-${tag}@example.com`),
      apiP.signup(`mixed-d-${tag}@example.com`),
    ]);
  });

  after(async () => {
    for (const s of sockets) s.close();
    const logs = nodes ? await Promise.all(nodes.map((n) => n.stop({ allowBadLog: true }).catch(() => ""))) : [];
    if (redis) await redis.stop();
    for (const l of logs) if (l) assert.doesNotMatch(l, /sandbox violation|AddressSanitizer|runtime error/);
  });

  let a1, a2, b1, c1, d1;

  test("presence: korio's and the peer's lists converge on every socket", async () => {
    // On A: a over WebSocket on both workers, b over long-polling; on P:
    // c over WebSocket, d over long-polling.
    a1 = await sock(A, ua, "a1@A");
    const w1 = (await emitAck(a1, "debug:worker")).worker;
    for (let i = 0; i < 12; i++) {
      const s = await sock(A, ua, "a2@A");
      if ((await emitAck(s, "debug:worker")).worker !== w1) {
        a2 = s;
        break;
      }
      s.close();
    }
    assert.ok(a2, "a socket on each of A's workers");
    b1 = await sock(A, ub, "b1@A", ["polling"]);
    c1 = await sock(P, uc, "c1@P");
    d1 = await sock(P, ud, "d1@P", ["polling"]);
    const all = sorted(ua.userId, ub.userId, uc.userId, ud.userId);
    const everyone = [a1, a2, b1, c1, d1];
    await converge(everyone, all, "the same list everywhere");
    // Once converged, no socket's list drops anyone while nothing changes.
    const marks = everyone.map((s) => got(s, "presence:update").length);
    await sleep(1500);
    everyone.forEach((s, i) => {
      for (const l of got(s, "presence:update").slice(marks[i])) assert.deepEqual(l, all, s.label);
    });

    // The convention's keys, written by both kinds of node.
    nodeP = (await emitAck(c1, "debug:cluster")).nodeId;
    assert.match(nodeP, /^[0-9a-f]{16}$/);
    assert.notEqual(nodeP, nodeA);
    assert.deepEqual((await redis.lines("SMEMBERS", `${PRESENCE}#nodes`)).sort(), sorted(nodeA, nodeP));
    assert.deepEqual((await redis.lines("HKEYS", `${PRESENCE}#${nodeA}#`)).sort(),
      sorted("alive", ua.userId, ub.userId));
    assert.deepEqual((await redis.lines("HKEYS", `${PRESENCE}#${nodeP}#`)).sort(),
      sorted("alive", uc.userId, ud.userId));
    for (const n of [nodeA, nodeP]) {
      const alive = Number((await redis.lines("HGET", `${PRESENCE}#${n}#`, "alive"))[0]);
      assert.ok(Math.abs(Date.now() - alive) < 10000, `${n} alive ${alive}`);
      const ttl = Number((await redis.lines("PTTL", `${PRESENCE}#${n}#`))[0]);
      assert.ok(ttl > 0 && ttl <= 8000, `${n} hash TTL ${ttl}`);
    }
  });

  test("a user leaving P leaves A's lists, and one leaving A leaves P's", async () => {
    const all = sorted(ua.userId, ub.userId, uc.userId, ud.userId);
    const everyone = () => [a1, a2, b1, c1, d1];

    d1.close();
    const noD = sorted(ua.userId, ub.userId, uc.userId);
    await converge([a1, a2, b1, c1], noD, "d gone everywhere");
    d1 = await sock(P, ud, "d1@P", ["polling"]);
    await converge(everyone(), all, "d back");

    b1.close();
    const noB = sorted(ua.userId, uc.userId, ud.userId);
    await converge([a1, a2, c1, d1], noB, "b gone everywhere");
    assert.deepEqual((await redis.lines("HKEYS", `${PRESENCE}#${nodeA}#`)).sort(), sorted("alive", ua.userId));
    b1 = await sock(A, ub, "b1@A", ["polling"]);
    await converge(everyone(), all, "b back");
  });

  test("a todo created on either node reaches its readers' sockets on the other, once", async () => {
    // Project of a with c a member. Readers: a (owner of the project and
    // of the todo from A; member for the todo from P) and c; b and d may
    // read neither todo. Sockets of a and c on the other node as well;
    // they add no user, so presence stays as it is.
    const proj = await apiA.post("/projects", { name: "mixed", members: [uc.userId] }, { token: ua.token });
    assert.equal(proj.status, 201, proj.text);
    const pid = proj.body.data.id;
    const aP = await sock(P, ua, "a@P", ["polling"]);
    const cA = await sock(A, uc, "c@A", ["polling"]);
    // Each gets the whole list, the other node's users in it, right away.
    const all = sorted(ua.userId, ub.userId, uc.userId, ud.userId);
    await until(() => got(aP, "presence:update").length > 0 && got(cA, "presence:update").length > 0, T,
      "the list on connect");
    assert.deepEqual(got(aP, "presence:update")[0], all, "a@P's first list");
    assert.deepEqual(got(cA, "presence:update")[0], all, "c@A's first list");
    const subscribed = [a1, a2, b1, c1, d1, aP, cA];
    for (const s of subscribed) assert.deepEqual(await emitAck(s, "subscribe:todos"), { ok: true }, s.label);
    // The project's room too (members only, checked in the shared store):
    // a socket in both rooms gets each event once.
    assert.deepEqual(await emitAck(c1, "join:project", pid), { ok: true });
    assert.deepEqual(await emitAck(a1, "join:project", pid), { ok: true });
    assert.deepEqual(await emitAck(d1, "join:project", pid), { error: "Forbidden" });
    assert.deepEqual(await emitAck(b1, "join:project", pid), { error: "Forbidden" });

    const readers = [a1, a2, aP, c1, cA];
    const want = (t) => ({ id: t.id, title: t.title, completed: false, ownerId: t.ownerId, projectId: pid });

    // On A, by a: to a's sockets on both workers and on P, to c's on both.
    const r1 = await apiA.post("/todos", { title: "from korio", projectId: pid }, { token: ua.token });
    assert.equal(r1.status, 201, r1.text);
    await until(() => readers.every((s) => got(s, "todo:created").length >= 1)
      && [a1, a2, aP].every((s) => got(s, "notification").length >= 1), T,
      "todo:created from A on every reader");
    // r2 on P, by c: to the same readers; notification to c's sockets.
    const r2 = await apiP.post("/todos", { title: "from the peer", projectId: pid }, { token: uc.token });
    assert.equal(r2.status, 201, r2.text);
    await until(() => readers.every((s) => got(s, "todo:created").length >= 2)
      && [c1, cA].every((s) => got(s, "notification").length >= 1), T,
      "todo:created from P on every reader");
    await sleep(500);

    for (const s of readers)
      assert.deepEqual(got(s, "todo:created"), [want(r1.body.data), want(r2.body.data)], `${s.label}: each once`);
    for (const s of [b1, d1]) assert.deepEqual(got(s, "todo:created"), [], `${s.label} reads neither`);
    const note = (title) => ({ type: "todo_created", message: `Todo "${title}" created` });
    for (const s of [a1, a2, aP]) assert.deepEqual(got(s, "notification"), [note("from korio")], s.label);
    for (const s of [c1, cA]) assert.deepEqual(got(s, "notification"), [note("from the peer")], s.label);
    for (const s of [b1, d1]) assert.deepEqual(got(s, "notification"), [], s.label);

    // a and c keep a socket on each node: closing one changes nobody's
    // presence (a user with tabs on two nodes stays listed).
    const stay = [a1, a2, b1, c1, d1];
    const marks = stay.map((s) => got(s, "presence:update").length);
    aP.close();
    cA.close();
    await sleep(1500);
    stay.forEach((s, i) => {
      for (const l of got(s, "presence:update").slice(marks[i])) assert.deepEqual(l, all, s.label);
      assert.deepEqual(last(s), all, s.label);
    });
  });

  test("serverSideEmitWithAck('cluster:ping', x) from the peer: korio answers x", async () => {
    assert.equal((await emitAck(c1, "debug:cluster")).serverCount, 2);
    assert.deepEqual(await emitAck(c1, "debug:cluster-ping", { probe: [1, "two", null] }),
      { replies: [{ probe: [1, "two", null] }] });
    assert.deepEqual(await emitAck(d1, "debug:cluster-ping", "x"), { replies: ["x"] });
  });

  test("P killed with SIGKILL: its users leave A's lists within 15 s", async () => {
    const all = sorted(ua.userId, ub.userId, uc.userId, ud.userId);
    const onA = [a1, a2, b1];
    await converge(onA, all, "all four before the kill");
    const t0 = Date.now();
    await P.kill9();
    const left = sorted(ua.userId, ub.userId);
    await converge(onA, left, "P's users gone from A", 15000);
    const took = Date.now() - t0;
    console.log(`# the peer's users gone from korio's lists ${took} ms after SIGKILL`);
    assert.equal(Number((await redis.lines("EXISTS", `${PRESENCE}#${nodeP}#`))[0]), 0, "P's hash expired");
    assert.deepEqual(await redis.lines("SMEMBERS", `${PRESENCE}#nodes`), [nodeA], "P off the node set");
  });
});
