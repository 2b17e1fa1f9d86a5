// Faults survived (issue 13): a worker killed with SIGKILL, and kill -9 of
// the whole process group during a write storm. (MongoDB unreachable and a
// full disk: 47-store-faults.) run-mongo.mjs runs this file on MongoDB too.
//
// A worker that dies takes its connections with it: Kore's parent reaps it
// and starts a new worker with the same number at once, which tells the
// other workers to forget its users (presence.c), so the presence others
// see drops them well within the ping timeout. Its clients see their
// connection close and reconnect by themselves (a socket kept for
// recovery died with the worker: they come back as new sessions), and a
// socket whose session and connection live on the other worker sees
// nothing. Store writes are made by threads of the worker that answers
// them, committed before the answer: nothing answered is lost.

import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import { after, describe, test } from "node:test";
import { io } from "socket.io-client";
import { BACKEND, checkLog, restClient, SLOW, startKorio, tempDir, VARIANT } from "./harness.mjs";
import { emitAck, got, signup, sleep, until } from "./rt-util.mjs";

const PING_INTERVAL = 5000;
const PING_TIMEOUT = 5000;
const T = 20000 * SLOW;

// The live child processes of pid (Kore's workers; no keymgr without TLS).
function children(pid) {
  const out = [];
  for (const p of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[1]) === pid && f[0] !== "Z") out.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return out.sort((a, b) => a - b);
}

// The store plays no part in it (every answer leaves after its commit):
// on SQLite only, for CI's time.
// One POST on a connection of its own; resolves to its status.
function postOnce(srv, token, body) {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = http.request(`${srv.url}/todos`, {
      method: "POST",
      agent: false,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
    }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(payload);
  });
}

describe("a worker killed with SIGKILL", {
  timeout: 120000 * SLOW,
  skip: BACKEND === "mongo" && "the store plays no part: run on SQLite",
}, () => {
  let srv;
  const sockets = [];
  after(async () => {
    for (const s of sockets) s.close();
    await srv?.stop({ allowBadLog: true });
  });

  test("its sockets leave presence within the ping timeout and reconnect; the other worker's see nothing; no write is lost", async () => {
    srv = await startKorio({
      workers: 2,
      env: {
        KORIO_DEBUG_ENDPOINTS: "true",
        SIO_PING_INTERVAL: String(PING_INTERVAL),
        SIO_PING_TIMEOUT: String(PING_TIMEOUT),
      },
    });
    const api = restClient(srv.url);
    const owner = await signup(srv, "fault-owner");
    const users = [];
    const proj = await api.post("/projects", { name: "faults" }, { token: owner.token });
    assert.equal(proj.status, 201);
    const pid = proj.body.data.id;

    // One user per socket, each a member of the project, its socket in
    // the project's room (joined again after each reconnect).
    const open = async (opts) => {
      const u = await signup(srv, "fault");
      users.push(u);
      const members = users.map((x) => x.id);
      assert.equal((await api.patch(`/projects/${pid}`, { members }, { token: owner.token })).status, 200);
      const s = io(srv.url, {
        forceNew: true,
        reconnection: true,
        // Slower than the dead worker's restart, so that its users are
        // seen gone before they are back.
        reconnectionDelay: 2000,
        randomizationFactor: 0,
        timeout: 5000,
        auth: { token: u.token },
        ...opts,
      });
      sockets.push(s);
      s.user = u;
      s.titles = [];
      s.presence = [];
      s.reasons = [];
      s.on("todo:created", (t) => s.titles.push(t.title));
      s.on("presence:update", (list) => s.presence.push({ at: Date.now(), list }));
      s.on("disconnect", (r) => s.reasons.push(r));
      s.on("connect", () => {
        s.joined = emitAck(s, "join:project", pid).then((a) => {
          assert.deepEqual(a, { ok: true });
          return emitAck(s, "debug:worker");
        }).then((w) => {
          s.worker = w.worker;
          s.pid = w.pid;
          s.firstId ??= s.id;
          return w;
        });
      });
      await new Promise((resolve, reject) => {
        s.once("connect", resolve);
        s.once("connect_error", reject);
      });
      await s.joined;
      return s;
    };

    // WebSocket-only sockets until both workers hold two at least: their
    // session and their connection are on the same worker.
    const ws = [];
    const on = (w) => ws.filter((s) => s.worker === w);
    for (let i = 0; i < 30 && (on(1).length < 2 || on(2).length < 2); i++) {
      ws.push(await open({ transports: ["websocket"] }));
    }
    assert.ok(on(1).length >= 2 && on(2).length >= 2, "sockets on both workers");
    // Default clients (polling, then the upgrade): a session and its
    // connection may be on different workers, relayed.
    const polling = [];
    for (let i = 0; i < 4; i++) polling.push(await open({}));

    const workers = children(srv.child.pid);
    assert.equal(workers.length, 2, `two workers: ${workers}`);
    const victimWorker = 1;
    const victimPid = on(victimWorker)[0].pid;
    assert.ok(workers.includes(victimPid), "the socket's worker is a child of korio's parent");
    // The dead worker's sessions: over WebSocket their connection dies
    // with it; a default client's may be held by the other worker
    // (relayed), which closes it when the new worker says hello.
    const victims = [...ws, ...polling].filter((s) => s.worker === victimWorker);
    const survivors = on(2);
    const relayed = polling.filter((s) => s.worker !== victimWorker);

    const everyone = () => [owner.id, ...users.map((u) => u.id)].sort();
    const lastPresence = (s) => s.presence.at(-1)?.list ?? [];
    await until(() => survivors.every((s) => JSON.stringify(lastPresence(s)) === JSON.stringify(everyone().filter((id) => id !== owner.id))),
      T, "everyone present");

    const before = Array.from({ length: 5 }, (_, i) => `before ${i}`);
    for (const title of before) {
      assert.equal((await api.post("/todos", { title, projectId: pid }, { token: owner.token })).status, 201);
    }
    await until(() => [...ws, ...polling].every((s) => s.titles.length === before.length), T, "the events before");

    // SIGKILL.
    const closed = victims.map((s) => new Promise((r) => s.once("disconnect", r)));
    const killedAt = Date.now();
    // Writes on their way while it dies (each on a connection of its own,
    // on either worker): those answered must be kept.
    const during = Array.from({ length: 10 }, (_, i) => `during ${i}`);
    const duringDone = Promise.all(during.map((title) => postOnce(srv, owner.token, { title, projectId: pid })
      .then((status) => (status === 201 ? title : null), () => null)));
    process.kill(victimPid, "SIGKILL");
    await Promise.all(closed);
    const disconnectedIn = Date.now() - killedAt;
    // Those relayed by the other worker too: it closes them when the
    // restarted worker says hello, not at their ping timeout.
    for (const s of victims) assert.ok(["transport close", "transport error"].includes(s.reasons[0]), s.reasons[0]);
    assert.ok(disconnectedIn < PING_TIMEOUT * SLOW, `every client of the dead worker knew in ${disconnectedIn} ms`);

    // The other worker's sockets see presence without the dead worker's
    // users within the ping timeout.
    const gone = new Set(victims.map((s) => s.user.id));
    const without = (s) => s.presence.find((p) => p.at >= killedAt && !p.list.some((id) => gone.has(id)));
    await until(() => survivors.every(without), PING_TIMEOUT * SLOW, "presence without the dead worker's users");
    for (const s of survivors) assert.ok(without(s).at - killedAt <= PING_TIMEOUT * SLOW);
    await srv.waitForLog(new RegExp(`worker ${victimWorker} started`), T);

    // Every client is connected again by itself (the dead worker's
    // sockets as new sessions), in the project's room again.
    await until(() => [...ws, ...polling].every((s) => s.connected), T, "every client reconnected");
    await Promise.all([...ws, ...polling].map((s) => s.joined));
    for (const s of victims) assert.notEqual(s.id, s.firstId);
    // A default client of the other worker whose connection was on the
    // dead one lost it: its session ended at once as a lost one (not at
    // its ping timeout), kept for recovery. It is recovered (the same
    // socket, what it missed) when it comes back on the worker that kept
    // it; the restarted worker has no broadcasts to replay yet, so there
    // it is a new session.
    const recovered = relayed.filter((s) => s.reasons.length && s.id === s.firstId);
    for (const s of relayed) {
      if (s.reasons.length) assert.deepEqual(s.reasons, ["transport close"]);
    }

    const afterKill = Array.from({ length: 5 }, (_, i) => `after ${i}`);
    for (const title of afterKill) {
      assert.equal((await api.post("/todos", { title, projectId: pid }, { token: owner.token })).status, 201);
    }
    try {
      await until(() => [...ws, ...polling].every((s) => afterKill.every((t) => s.titles.includes(t))), T, "the events after");
    } catch (e) {
      const state = [...ws, ...polling].map((s) => ({ w: s.worker, id: s.id, first: s.firstId, conn: s.connected, rec: s.recovered,
        reasons: s.reasons, titles: s.titles.join(), tr: s.io.engine?.transport?.name }));
      throw new Error(`${e.message}: ${JSON.stringify(state)}`);
    }
    await until(() => survivors.every((s) => JSON.stringify(lastPresence(s)) === JSON.stringify(everyone().filter((id) => id !== owner.id))),
      T, "everyone present again");
    await sleep(300);

    // Nothing written is lost: every write answered is in the store (one
    // on its way on the dead worker's connection may be there or not).
    const answeredDuring = (await duringDone).filter(Boolean);
    const list = await api.get(`/todos?projectId=${pid}&limit=500&sort=title`, { token: owner.token });
    assert.equal(list.status, 200);
    const stored = list.body.data.map((t) => t.title);
    for (const t of [...before, ...answeredDuring, ...afterKill]) assert.ok(stored.includes(t), `${t} is kept`);
    assert.deepEqual(stored.filter((t) => !t.startsWith("during ")).sort(), [...afterKill, ...before].sort());

    // The other worker's WebSockets saw nothing: no disconnect, the same
    // socket, every event once and in order: each write answered while
    // the worker died among them (its events leave before its answer),
    // none that was not stored.
    const once = (s, what) => {
      const mid = s.titles.slice(before.length, s.titles.length - afterKill.length);
      assert.deepEqual(s.titles.slice(0, before.length), before, what);
      assert.deepEqual(s.titles.slice(s.titles.length - afterKill.length), afterKill, what);
      assert.equal(new Set(mid).size, mid.length, what);
      for (const t of mid) assert.ok(stored.includes(t) && t.startsWith("during "), `${what}: ${t}`);
      for (const t of answeredDuring) assert.ok(mid.includes(t), `${what}: ${t}`);
    };
    for (const s of survivors) {
      assert.deepEqual(s.reasons, [], `socket on worker ${s.worker}`);
      assert.equal(s.id, s.firstId);
      once(s, `socket on worker ${s.worker}`);
    }
    for (const s of [...relayed.filter((x) => !x.reasons.length), ...recovered]) once(s, `default client: ${s.reasons}`);
    console.log(`# ${answeredDuring.length} of ${during.length} writes made as the worker died answered; ` +
      `${victims.length} sockets on it, ${recovered.length} default clients recovered`);

    // The log is clean but for the worker killed here.
    const out = await srv.stop({ allowBadLog: true });
    srv = null;
    checkLog(out.split("\n").filter((l) => !l.includes(`(${victimPid})`)).join("\n"));
  });
});

// Writers in lanes, each with one request in flight at a time: a lane
// POSTs new todos and PATCHes its own (a todo is only ever changed by its
// lane, one PATCH at a time), so that every document's state after the
// kill is either what its last answer said or, when a request on it was
// in flight, what that request asked for.
describe(`kill -9 of the process group during a write storm (${BACKEND})`, {
  timeout: 120000 * SLOW,
  skip: VARIANT === "asan" && "durability is the store's, not memory's: the plain and MongoDB runs (CI's time)",
}, () => {
  let srv;
  after(async () => {
    await srv?.stop();
  });

  test("after a restart every write answered 2xx is in the store, exactly as answered", async () => {
    const LANES = 24;
    const dataDir = tempDir();
    const dbName = `korio_storm_${process.pid}_${Date.now()}`;
    srv = await startKorio({ workers: 2, dataDir, dbName, group: true });
    let api = restClient(srv.url);
    const owners = [await api.signup("storm-a@example.com"), await api.signup("storm-b@example.com")];

    const posts = new Map(); // title -> { lane, owner, body, answer?, failed? }
    const todos = new Map(); // id -> { post, acked, pending, answers }
    const statuses = [];
    let stop = false;
    let answered = 0;
    const lane = async (n) => {
      const owner = owners[n % owners.length];
      const mine = [];
      for (let k = 0; !stop; k++) {
        if (mine.length === 0 || k % 2 === 0) {
          const body = { title: `lane ${n} todo ${k}`, completed: false };
          const p = { lane: n, owner, body };
          posts.set(body.title, p);
          let r;
          try {
            r = await api.post("/todos", body, { token: owner.token });
          } catch {
            p.failed = true;
            return;
          }
          statuses.push(r.status);
          if (r.status !== 201) return;
          p.answer = r.body.data;
          todos.set(p.answer.id, { post: p, acked: p.answer, pending: null, answers: 1 });
          mine.push(p.answer.id);
        } else {
          const id = mine[k % mine.length];
          const t = todos.get(id);
          const body = { title: `lane ${n} todo ${k} (${t.acked.title})`.slice(0, 200), completed: !t.acked.completed };
          t.pending = body;
          let r;
          try {
            r = await api.patch(`/todos/${id}`, body, { token: owner.token });
          } catch {
            return; // in flight at the kill: pending stays
          }
          statuses.push(r.status);
          if (r.status !== 200) return;
          t.acked = r.body.data;
          t.pending = null;
          t.answers++;
        }
        answered++;
      }
    };
    const lanes = Array.from({ length: LANES }, (_, n) => lane(n));
    await until(() => answered >= 300 || statuses.some((s) => s >= 300), 60000 * SLOW, "300 answered writes");
    // Every lane has a request in flight now.
    await srv.kill9Group();
    stop = true;
    await Promise.all(lanes);
    assert.ok(statuses.every((s) => s === 200 || s === 201), `only 2xx before the kill: ${[...new Set(statuses)]}`);
    const inFlight = [...posts.values()].filter((p) => p.failed).length +
      [...todos.values()].filter((t) => t.pending).length;
    assert.ok(inFlight > 0, "requests were in flight at the kill");

    srv = await startKorio({ workers: 2, dataDir, dbName, group: true });
    api = restClient(srv.url);
    const stored = new Map();
    for (const owner of owners) {
      for (let page = 1; ; page++) {
        const r = await api.get(`/todos?limit=500&page=${page}&sort=created`, { token: owner.token });
        assert.equal(r.status, 200);
        for (const t of r.body.data) stored.set(t.id, t);
        if (!r.body.more) break;
      }
    }

    let kept = 0;
    for (const [id, t] of todos) {
      const s = stored.get(id);
      assert.ok(s, `an answered POST is in the store: ${t.post.body.title}`);
      if (t.pending && s.title === t.pending.title) {
        // The PATCH in flight at the kill was committed, not answered.
        const { updated: _u1, ...rest } = s;
        const { updated: _u2, ...was } = t.acked;
        assert.deepEqual(rest, { ...was, ...t.pending });
      } else {
        assert.deepEqual(s, t.acked, `as answered: ${t.acked.title}`);
        kept++;
      }
    }
    // Anything else stored is a POST in flight at the kill, as sent.
    const answeredIds = new Set(todos.keys());
    for (const s of stored.values()) {
      if (answeredIds.has(s.id)) continue;
      const p = posts.get(s.title);
      assert.ok(p && p.failed, `a todo nobody asked for: ${s.title}`);
      assert.equal(s.completed, p.body.completed);
      assert.equal(s.ownerId, p.owner.userId);
    }
    console.log(`# ${BACKEND}: ${answered} writes answered (${todos.size} todos), ${inFlight} in flight at the kill; ` +
      `${kept} as answered, ${todos.size - kept} with the PATCH in flight applied, ` +
      `${stored.size - todos.size} unanswered POSTs stored`);
  });
});
