// The Node peer (bench/peer) as a cluster node (issue 16): two peer
// processes with one redis-server and one MongoDB database, through
// @socket.io/redis-adapter and korio's presence convention (section 10 of
// shared/docs/redis-adapter.md, bench/peer/presence.js):
//   - a user signed up on one node logs in on the other, tokens of either
//     are good on both;
//   - a todo created over REST on peer 1 reaches sockets on peer 2 (the
//     owner's todos: room and a project room joined on peer 2);
//   - presence: users of both nodes are listed on both;
//   - serverSideEmitWithAck('cluster:ping', x) is answered by the other
//     node, serverCount is 2;
//   - a Redis restart heals: the nodes write their presence again within a
//     heartbeat, and broadcasts cross again;
//   - SIGKILL one peer: its users leave the other's presence:update within
//     15 s.
// Then korio (MONGODB_URI, the same secrets, no REDIS_URL) and a peer share
// the database: a user signed up on either logs in on the other, either's
// tokens work on both, and the documents each writes have the same fields,
// order and BSON types.
//
// MongoDB only: run-mongo.mjs runs it (make integ); skipped without
// KORIO_TEST_MONGODB_URI. KORIO_CLUSTER_KINDS=korio,peer (default
// peer,peer) runs the first suite on other kinds of nodes
// (cluster-util.mjs's startCluster); a korio node must then answer the
// debug:cluster and debug:cluster-ping events as the peer does.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createRequire } from "node:module";
import path from "node:path";

import { restClient, startKorio, SLOW } from "./harness.mjs";
import { clusterSecrets, startCluster, startPeer, startRedis, stopAll } from "./cluster-util.mjs";
import { connect, emitAck, got, sleep, until } from "./rt-util.mjs";

const MONGO = process.env.KORIO_TEST_MONGODB_URI;
const SKIP = MONGO ? false : "MongoDB only (tests/integ/run-mongo.mjs)";
const PRESENCE = "socket.io-presence";
const KINDS = (process.env.KORIO_CLUSTER_KINDS || "peer,peer").split(",");

const sockets = [];
function track(s) {
  sockets.push(s);
  return s;
}
const closeAll = () => { for (const s of sockets.splice(0)) s.close(); };
const last = (s) => got(s, "presence:update").at(-1) ?? [];
const sorted = (...ids) => [...ids].sort();

describe(`cluster over Redis: ${KINDS.join(" + ")}`, { skip: SKIP }, () => {
  let redis, nodes, p1, p2, api1, api2;

  before(async () => {
    redis = await startRedis();
    nodes = await startCluster(KINDS, { redis });
    [p1, p2] = nodes;
    api1 = restClient(p1.url);
    api2 = restClient(p2.url);
  });

  after(async () => {
    closeAll();
    if (nodes) await stopAll(nodes);
    if (redis) await redis.stop();
  });

  test("a user signed up on peer 1 logs in on peer 2; tokens work on both", async () => {
    const u = await api1.signup(`Cross-${process.pid}@Example.com`);
    const r = await api2.post("/auth/login", { email: u.email, password: u.password });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.userId, u.userId);
    assert.equal((await api1.get("/todos", { token: r.body.data.token })).status, 200);
    assert.equal((await api2.get("/todos", { token: u.token })).status, 200);
    const dup = await api2.post("/auth/signup", { email: u.email, password: "x" });
    assert.equal(dup.status, 400);
  });

  test("a todo created over REST on peer 1 reaches sockets on peer 2", async () => {
    const a = await api1.signup(`todo-a-${process.pid}@example.com`);
    const b = await api2.signup(`todo-b-${process.pid}@example.com`);
    const sa = track(await connect(p2, { token: `Bearer ${a.token}` }));
    // Long-polling too: the peer's catch-all 404 used to answer it.
    const sb = track(await connect(p2, { token: `Bearer ${b.token}` }, { transports: ["polling"] }));
    assert.deepEqual(await emitAck(sa, "subscribe:todos"), { ok: true });

    const proj = await api1.post("/projects", { name: "shared", members: [b.userId] }, { token: a.token });
    assert.equal(proj.status, 201, proj.text);
    // Membership is read from the shared store by peer 2.
    assert.deepEqual(await emitAck(sb, "join:project", proj.body.data.id), { ok: true });

    const t = await api1.post("/todos", { title: "from peer 1", projectId: proj.body.data.id },
      { token: a.token });
    assert.equal(t.status, 201, t.text);
    await until(() => got(sa, "todo:created").length === 1 && got(sb, "todo:created").length === 1
      && got(sa, "notification").length === 1, 5000 * SLOW, "todo:created on peer 2");
    await sleep(300);
    assert.equal(got(sa, "todo:created").length, 1, "exactly once");
    assert.equal(got(sb, "todo:created").length, 1, "exactly once");
    assert.equal(got(sa, "todo:created")[0].id, t.body.data.id);
    assert.equal(got(sb, "todo:created")[0].title, "from peer 1");
    // And the list on peer 2 reads it from the shared store.
    const list = await api2.get(`/todos?projectId=${proj.body.data.id}`, { token: b.token });
    assert.deepEqual(list.body.data.map((x) => x.id), [t.body.data.id]);
    closeAll();
  });

  let userA, userB, sockA, sockB;

  test("presence: users of both nodes are listed on both", async () => {
    userA = await api1.signup(`pres-a-${process.pid}@example.com`);
    userB = await api2.signup(`pres-b-${process.pid}@example.com`);
    sockA = track(await connect(p1, { token: `Bearer ${userA.token}` }));
    await until(() => last(sockA).includes(userA.userId), 3000 * SLOW, "A's own presence");
    sockB = track(await connect(p2, { token: `Bearer ${userB.token}` }));
    const both = sorted(userA.userId, userB.userId);
    await until(() => JSON.stringify(last(sockA)) === JSON.stringify(both)
      && JSON.stringify(last(sockB)) === JSON.stringify(both), 5000 * SLOW,
      `both users on both nodes (A sees ${JSON.stringify(last(sockA))}, B ${JSON.stringify(last(sockB))})`);

    // The convention's keys: a hash per node with alive and its users.
    const infoA = await emitAck(sockA, "debug:cluster");
    const infoB = await emitAck(sockB, "debug:cluster");
    assert.match(infoA.nodeId, /^[0-9a-f]{16}$/);
    const members = await redis.lines("SMEMBERS", `${PRESENCE}#nodes`);
    assert.equal(members.length, KINDS.length);
    assert.ok(members.includes(infoA.nodeId) && members.includes(infoB.nodeId), String(members));
    assert.deepEqual((await redis.lines("HKEYS", `${PRESENCE}#${infoA.nodeId}#`)).sort(),
      sorted("alive", userA.userId));
    const ttl = Number((await redis.lines("PTTL", `${PRESENCE}#${infoB.nodeId}#`))[0]);
    assert.ok(ttl > 0 && ttl <= 8000, `hash TTL ${ttl}`);

    // B leaves and comes back: A sees it go and come.
    sockB.close();
    await until(() => JSON.stringify(last(sockA)) === JSON.stringify([userA.userId]), 5000 * SLOW,
      "B gone from A's list");
    sockB = track(await connect(p2, { token: `Bearer ${userB.token}` }));
    await until(() => JSON.stringify(last(sockA)) === JSON.stringify(both), 5000 * SLOW,
      "B back in A's list");
  });

  test("cluster:ping is answered by every other node; serverCount counts the nodes", async () => {
    const others = (x) => ({ replies: KINDS.slice(1).map(() => x) });
    const info = await emitAck(sockA, "debug:cluster");
    assert.equal(info.serverCount, KINDS.length);
    assert.deepEqual(await emitAck(sockA, "debug:cluster-ping", { probe: 42 }), others({ probe: 42 }));
    assert.deepEqual(await emitAck(sockB, "debug:cluster-ping", "x"), others("x"));
  });

  test("a Redis restart heals presence within a heartbeat, broadcasts cross again", async () => {
    const both = sorted(userA.userId, userB.userId);
    const nodeA = (await emitAck(sockA, "debug:cluster")).nodeId;
    const nodeB = (await emitAck(sockB, "debug:cluster")).nodeId;
    const marks = [got(sockA, "presence:update").length, got(sockB, "presence:update").length];

    await redis.restart();
    const t0 = Date.now();
    // Everything Redis held is gone; each node writes its hash again.
    let healed = false;
    while (Date.now() - t0 < 6000 * SLOW) {
      const m = await redis.lines("SMEMBERS", `${PRESENCE}#nodes`);
      const ha = (await redis.lines("HKEYS", `${PRESENCE}#${nodeA}#`)).sort();
      const hb = (await redis.lines("HKEYS", `${PRESENCE}#${nodeB}#`)).sort();
      if (m.includes(nodeA) && m.includes(nodeB) && m.length === KINDS.length
          && JSON.stringify(ha) === JSON.stringify(sorted("alive", userA.userId))
          && JSON.stringify(hb) === JSON.stringify(sorted("alive", userB.userId))) {
        healed = true;
        break;
      }
      await sleep(100);
    }
    const took = Date.now() - t0;
    assert.ok(healed, "presence hashes written again after the restart");
    console.log(`# presence healed ${took} ms after the Redis restart`);
    assert.ok(took <= 2000 * SLOW + 1000, `healed in ${took} ms, more than a heartbeat`);

    // Lists settle on both users on both nodes (a restart is no departure).
    await sleep(1500);
    assert.deepEqual(last(sockA), both);
    assert.deepEqual(last(sockB), both);
    const after = [got(sockA, "presence:update").slice(marks[0]), got(sockB, "presence:update").slice(marks[1])];
    for (const updates of after)
      for (const u of updates) assert.deepEqual(u, both, "no flicker while the nodes heal");

    // Broadcasts cross again (the adapter's clients resubscribed).
    assert.deepEqual(await emitAck(sockB, "subscribe:todos"), { ok: true });
    const deadline = Date.now() + 5000 * SLOW;
    let t;
    while (Date.now() < deadline) {
      t = await api1.post("/todos", { title: "after restart" }, { token: userB.token });
      assert.equal(t.status, 201);
      await sleep(300);
      if (got(sockB, "todo:created").some((x) => x.title === "after restart")) break;
    }
    assert.ok(got(sockB, "todo:created").some((x) => x.title === "after restart"),
      "a todo from peer 1 reached peer 2 after the restart");
    assert.deepEqual(await emitAck(sockA, "debug:cluster-ping", "again"),
      { replies: KINDS.slice(1).map(() => "again") });
  });

  test("SIGKILL one peer: its users leave the other's presence within 15 s", async () => {
    const nodeB = (await emitAck(sockB, "debug:cluster")).nodeId;
    const both = sorted(userA.userId, userB.userId);
    assert.deepEqual(last(sockA), both);
    const t0 = Date.now();
    await p2.kill9();
    await until(() => JSON.stringify(last(sockA)) === JSON.stringify([userA.userId]),
      15000, "B gone from A's presence:update");
    const took = Date.now() - t0;
    console.log(`# a killed node's users gone ${took} ms after SIGKILL`);
    assert.ok(took <= 15000);
    // Its hash expired and it was taken off the node set.
    assert.deepEqual(await redis.lines("EXISTS", `${PRESENCE}#${nodeB}#`), ["0"]);
    assert.ok(!(await redis.lines("SMEMBERS", `${PRESENCE}#nodes`)).includes(nodeB));
    assert.equal((await emitAck(sockA, "debug:cluster")).serverCount, KINDS.length - 1);
  });
});

describe("korio and the peer share MongoDB and tokens", { skip: SKIP }, () => {
  let korio, peer, kapi, papi, mongo;
  const dbName = `korio_share_${process.pid}_${Date.now()}`;

  before(async () => {
    const secrets = clusterSecrets();
    const [k, p] = await Promise.allSettled([
      startKorio({ dbName, env: secrets }),
      startPeer({ dbName, secrets }),
    ]);
    korio = k.value;
    peer = p.value;
    for (const r of [k, p]) if (r.status === "rejected") throw r.reason;
    kapi = restClient(korio.url);
    papi = restClient(peer.url);
    const require = createRequire(path.join(process.cwd(), "tests/package.json"));
    const { MongoClient } = require("mongodb");
    mongo = new MongoClient(MONGO);
    await mongo.connect();
  });

  after(async () => {
    closeAll();
    await mongo?.close();
    await korio?.stop({ allowBadLog: false });
    await peer?.stop();
  });

  test("signed up on korio, logs in on the peer; and the other way round", async () => {
    const k = await kapi.signup(`k-${process.pid}@example.com`);
    const p = await papi.signup(`p-${process.pid}@example.com`);

    const onPeer = await papi.post("/auth/login", { email: k.email, password: k.password });
    assert.equal(onPeer.status, 200, onPeer.text);
    assert.equal(onPeer.body.data.userId, k.userId);
    const onKorio = await kapi.post("/auth/login", { email: p.email, password: p.password });
    assert.equal(onKorio.status, 200, onKorio.text);
    assert.equal(onKorio.body.data.userId, p.userId);
    const wrong = await papi.post("/auth/login", { email: k.email, password: "not it" });
    assert.equal(wrong.status, 401);

    // Tokens minted by either are good on both, REST and Socket.IO.
    const me = await kapi.get("/auth/me", { token: onPeer.body.data.token });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.data.email, k.email);
    assert.equal((await papi.get("/todos", { token: k.token })).status, 200);
    track(await connect(peer, { token: `Bearer ${k.token}` }));
    track(await connect(korio, { token: `Bearer ${onKorio.body.data.token}` }));

    // What each wrote, each read by the other.
    const kt = await kapi.post("/todos", { title: "by korio" }, { token: k.token });
    const pt = await papi.post("/todos", { title: "by peer" }, { token: onPeer.body.data.token });
    assert.equal(kt.status, 201);
    assert.equal(pt.status, 201);
    const pl = await papi.get("/todos", { token: k.token });
    assert.deepEqual(pl.body.data.map((t) => t.title).sort(), ["by korio", "by peer"]);
    const kl = await kapi.get("/todos", { token: k.token });
    assert.deepEqual(kl.body.data.map((t) => t.title).sort(), ["by korio", "by peer"]);
    const pp = await papi.post("/projects", { name: "by peer", members: [p.userId] }, { token: k.token });
    assert.equal(pp.status, 201);
    const kp = await kapi.get(`/projects/${pp.body.data.id}`, { token: p.token });
    assert.equal(kp.status, 200, kp.text);
    assert.deepEqual(kp.body.data.members.sort(), sorted(k.userId, p.userId));
    const kp2 = await kapi.post("/projects", { name: "by korio" }, { token: k.token });
    assert.equal(kp2.status, 201);

    // The documents: same fields, same order, same BSON types.
    const db = mongo.db(dbName);
    const shape = (d) => Object.entries(d).map(([key, v]) => `${key}:${v === null ? "null"
      : v instanceof Date ? "Date" : Array.isArray(v) ? `[${v.map((e) => e?._bsontype ?? typeof e)}]`
      : v._bsontype ?? typeof v}`).join(",");
    const users = db.collection("users");
    const ObjectId = (await users.findOne({}))._id.constructor;
    const oid = (h) => new ObjectId(h);
    assert.equal(shape(await users.findOne({ _id: oid(p.userId) })),
      shape(await users.findOne({ _id: oid(k.userId) })));
    const todos = db.collection("todos");
    assert.equal(shape(await todos.findOne({ _id: oid(pt.body.data.id) })),
      shape(await todos.findOne({ _id: oid(kt.body.data.id) })));
    const projects = db.collection("projects");
    const kdoc = await projects.findOne({ _id: oid(kp2.body.data.id) });
    const pdoc = await projects.findOne({ _id: oid(pp.body.data.id) });
    assert.equal(shape({ ...pdoc, members: pdoc.members.slice(0, 1) }), shape(kdoc));
  });
});
