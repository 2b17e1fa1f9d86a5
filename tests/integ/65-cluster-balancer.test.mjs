// korio without sticky sessions (issue 16): two korio nodes (2 workers
// each) on one redis-server and one MongoDB database, behind Debian's
// nginx with a plain round-robin upstream over both (conf/nginx-korio.conf
// with `upstream { server A; server B; }`: each request and each WebSocket
// to the next node). Polling-only socket.io clients of several users,
// signed up and writing through the same balancer:
//   - connect (CONNECT with the token relayed to the session's node) and
//     stay connected;
//   - every todo a user creates over REST reaches that user's sockets
//     exactly once, whichever node wrote it and whichever node holds the
//     socket's session;
//   - both nodes relayed requests (korio_redis_relayed_total > 0);
//   - a client's close ends its session on its node.
// The engine-level cases (upgrade on the other node, pings, unknown and
// dead nodes, Redis down) are in 64-cluster-relay with the conformance
// server. MongoDB only: run-mongo.mjs runs it (make integ); skipped
// without KORIO_TEST_MONGODB_URI.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { restClient, SLOW } from "./harness.mjs";
import { startCluster, startRedis } from "./cluster-util.mjs";
import { startNginx } from "./nginx.mjs";
import { connect, emitAck, got, sleep, until } from "./rt-util.mjs";
import { parseMetrics, valueOf } from "./prom-util.mjs";

const MONGO = process.env.KORIO_TEST_MONGODB_URI;
const SKIP = MONGO ? false : "MongoDB only (tests/integ/run-mongo.mjs)";
const T = 10000 * SLOW;
const USERS = 6;

describe("korio nodes behind a round-robin balancer", { skip: SKIP, timeout: 120000 * SLOW }, () => {
  let redis, nodes, px, api;
  const users = [];
  const sockets = [];

  before(async () => {
    redis = await startRedis();
    nodes = await startCluster(["korio", "korio"], { redis, env: { METRICS: "public" } });
    const re = /redis: connected to/;
    await Promise.all(nodes.map((n) => n.waitForLog(re, T)));
    px = await startNginx(nodes.map((n) => n.port));
    api = restClient(px.url);
    const tag = `${process.pid}-${Date.now()}`;
    for (let i = 0; i < USERS; i++) users.push(await api.signup(`rr-${i}-${tag}@example.com`));
  });

  after(async () => {
    for (const s of sockets) s.close();
    await px?.stop();
    const logs = nodes ? await Promise.all(nodes.map((n) => n.stop({ allowBadLog: true }).catch(() => ""))) : [];
    if (redis) await redis.stop();
    for (const l of logs) if (l) assert.doesNotMatch(l, /sandbox violation|AddressSanitizer|runtime error/);
  });

  test("polling-only clients: connected, each todo once, requests relayed by both nodes", async () => {
    // Two polling sockets per user, all through the balancer.
    for (const u of users) {
      for (let k = 0; k < 2; k++) {
        const s = await connect(px, { token: `Bearer ${u.token}` }, { transports: ["polling"] });
        s.user = u;
        sockets.push(s);
      }
    }
    const tags = new Set(sockets.map((s) => s.io.engine.id.slice(2, 6)));
    assert.equal(tags.size, 2, "sessions on both nodes");
    let lost = 0;
    for (const s of sockets) s.on("disconnect", () => { lost++; });
    for (const s of sockets) assert.deepEqual(await emitAck(s, "subscribe:todos"), { ok: true });

    // Each user writes two todos through the balancer (so on both nodes).
    const made = new Map();
    for (const u of users) {
      made.set(u.userId, []);
      for (let k = 0; k < 2; k++) {
        const r = await api.post("/todos", { title: `rr ${u.email} ${k}` }, { token: u.token });
        assert.equal(r.status, 201, r.text);
        made.get(u.userId).push(r.body.data.id);
      }
    }
    await until(() => sockets.every((s) => got(s, "todo:created").length >= 2), T, "every todo on its owner's sockets");
    await sleep(500);
    for (const s of sockets) {
      const ids = got(s, "todo:created").map((t) => t.id);
      assert.deepEqual(ids, made.get(s.user.userId), "each of the owner's todos once, in order, no one else's");
    }
    assert.equal(lost, 0, "no socket lost its session");

    // Both nodes relayed requests to the other.
    for (const n of nodes) {
      const m = await parseMetrics(await (await fetch(`${n.url}/metrics`)).text());
      assert.ok(valueOf(m, "korio_redis_relayed_total") > 0, `${n.url} relayed nothing`);
    }
  });

  test("a client's close ends its session on its node", async () => {
    const s = sockets[0];
    const sid = s.io.engine.id;
    s.close();
    // Whichever node the close went to, the session is gone on both (a
    // noop posted to each: 400 once no node has it).
    const deadline = Date.now() + T;
    for (;;) {
      const codes = await Promise.all(nodes.map(async (n) =>
        (await fetch(`${n.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
          method: "POST", body: "6", headers: { "content-type": "text/plain" },
        })).status));
      if (codes.every((c) => c === 400)) break;
      if (Date.now() > deadline) throw new Error(`session still open: ${codes}`);
      await sleep(100);
    }
  });
});
