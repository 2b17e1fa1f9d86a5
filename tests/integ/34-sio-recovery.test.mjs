// Connection-state recovery (Socket.IO 4.6+) with the real socket.io-client
// against korio with two workers: a client loses its connection mid-stream
// (its TCP connections are destroyed and the "network" stays down while
// REST writes go on), comes back on the same worker or the other one, and
// must get socket.recovered === true, the same socket id, its rooms, every
// event it missed exactly once and in order, then the live stream. The
// order of reference is a second socket of the same user that never lost
// anything: both must have the very same broadcasts (name, payload, offset).
//
// Also: the token is checked again on recovery, a client DISCONNECT is not
// kept, and past each bound (events, time, kept sockets) the client gets a
// normal new session (recovered false) and the server goes on.
//
// Which worker a connection reaches is chosen with sio-util's PinningAgent
// (socket.io-client's `agent` option serves polling and WebSocket alike);
// CutAgent adds the cut and the outage.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { io } from "socket.io-client";
import { openStore, SLOW, startKorio } from "./harness.mjs";
import { api, connect, emitAck, signup, sleep, until } from "./rt-util.mjs";
import { connected, owner, PinningAgent } from "./sio-util.mjs";

const T = 15000 * SLOW;

// A PinningAgent whose connections all go to worker `this.worker`, and
// whose network can go down: down() destroys every open connection and
// holds new ones (and fails those under way) until up().
class CutAgent extends PinningAgent {
  constructor(port, worker) {
    super(port, () => this.worker, "/socket.io/");
    this.worker = worker;
    this.live = new Set();
    this.gate = null;
    this.cuts = 0;
  }

  createConnection(opts, cb) {
    const go = () => {
      const cut = this.cuts;
      super.createConnection(opts, (err, sock) => {
        if (err) return cb(err);
        if (cut !== this.cuts) {
          sock.destroy();
          return cb(new Error("network down"));
        }
        this.live.add(sock);
        sock.once("close", () => this.live.delete(sock));
        cb(null, sock);
      });
    };
    if (this.gate) this.gate.then(go);
    else go();
    return undefined;
  }

  down() {
    this.cuts++;
    this.gate = new Promise((resolve) => (this.release = resolve));
    for (const s of this.live) s.destroy();
  }

  up(worker = this.worker) {
    this.worker = worker;
    const release = this.release;
    this.gate = null;
    release();
  }
}

// The broadcasts a socket got, in order: those with an offset (korio's
// direct emits, presence, have none).
const broadcasts = (s) => s.log.filter((e) => typeof e.args.at(-1) === "string" && e.args.length >= 2);
const key = (e) => `${e.name} ${JSON.stringify(e.args.slice(0, -1))} @${e.args.at(-1)}`;
const todoEvents = (s) => s.log.filter((e) => e.name.startsWith("todo:"));

// Lines of the server's log (WEBSOCKETS_DEBUG) saying socket id went with
// its connection.
const lostLines = (srv, id) => srv.logs().split("\n")
  .filter((l) => l.includes(`sio: socket ${id} disconnected: `) &&
    /disconnected: (transport close|transport error|ping timeout)/.test(l)).length;

describe("connection-state recovery, two workers", { timeout: 600000 * SLOW }, () => {
  let srv;
  let store;
  const sockets = [];

  before(async () => {
    // A heartbeat short enough that a polling session whose client went
    // between two polls is seen gone soon (ping timeout, also recoverable).
    srv = await startKorio({
      workers: 2,
      env: { WEBSOCKETS_DEBUG: "1", KORIO_DEBUG_ENDPOINTS: "true", SIO_PING_INTERVAL: "2000", SIO_PING_TIMEOUT: "2000" },
    });
    store = await openStore(srv);
  });
  after(async () => {
    for (const s of sockets) s.close();
    await store?.close();
    await srv?.stop();
  });

  // A socket that reconnects by itself (as socket.io-client does by
  // default), through a CutAgent to `worker`, recording every event.
  async function lossy(token, transport, worker) {
    const agent = new CutAgent(srv.port, worker);
    const s = io(srv.url, {
      forceNew: true,
      transports: [transport],
      upgrade: false,
      agent,
      auth: { token },
      timeout: 5000 * SLOW,
      reconnectionDelay: 50,
      reconnectionDelayMax: 50,
      randomizationFactor: 0,
    });
    s.log = [];
    s.onAny((name, ...args) => s.log.push({ name, args }));
    s.agent = agent;
    sockets.push(s);
    await connected(s, T);
    return s;
  }

  async function reference(token) {
    const s = await connect(srv, { token });
    s.log = [];
    s.onAny((name, ...args) => s.log.push({ name, args }));
    sockets.push(s);
    assert.deepEqual(await emitAck(s, "subscribe:todos"), { ok: true });
    return s;
  }

  // The network of s goes down; resolves when client and server saw it.
  async function cut(s) {
    const id = s.id;
    const seen = lostLines(srv, id);
    const gone = new Promise((resolve) => s.once("disconnect", resolve));
    s.agent.down();
    const reason = await gone;
    // No request under way at the cut (polling between two polls): the
    // client sees the loss by its heartbeat.
    assert.match(reason, /^(transport (close|error)|ping timeout)$/);
    await until(() => lostLines(srv, id) > seen, T, `the server to lose socket ${id}`);
  }

  // The network comes back (to `worker`); resolves at the next connect.
  async function back(s, worker) {
    const again = new Promise((resolve, reject) => {
      s.once("connect", resolve);
      s.once("connect_error", reject);
    });
    s.agent.up(worker);
    await again;
  }

  const write = async (token, title, extra = {}) => {
    const r = await api(srv, "POST", "/todos", { token, body: { title, ...extra } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.data;
  };

  // One event first: a client sends its pid back only with an offset.
  async function seen(s, token) {
    await write(token, "seen");
    await until(() => todoEvents(s).length === 1, T, "an event, so that there is an offset");
    assert.equal(typeof s._lastOffset, "string");
  }

  for (const transport of ["websocket", "polling"]) {
    for (const [from, to] of [[1, 2], [2, 1], [1, 1]]) {
      test(`${transport}, lost on worker ${from}, back on worker ${to}: every missed event once, in order, then live`, async () => {
        const user = await signup(srv, "rec");
        const ref = await reference(user.token);
        const s = await lossy(user.token, transport, from);
        assert.equal(s.recovered, false);
        assert.equal(typeof s._pid, "string", "the CONNECT reply carries a pid");
        assert.equal(owner(s.io.engine.id), from);
        assert.deepEqual(await emitAck(s, "subscribe:todos"), { ok: true });
        const id = s.id;
        const pid = s._pid;

        // The live stream, then writes in flight while the connection goes.
        for (let i = 0; i < 3; i++) await write(user.token, `before ${i}`);
        await until(() => todoEvents(s).length >= 3, T, "the first events");
        const burst = Promise.all(Array.from({ length: 8 }, (_, i) => write(user.token, `burst ${i}`)));
        await until(() => todoEvents(s).length >= 5, T, "part of the burst");
        if (transport === "polling") await sleep(50); // its next poll reaches the server
        await cut(s);
        await burst;
        const seenBefore = todoEvents(s).length;

        // While it is away: creations, an update, a deletion.
        const away = [];
        for (let i = 0; i < 4; i++) away.push(await write(user.token, `away ${i}`));
        assert.equal((await api(srv, "PATCH", `/todos/${away[0].id}`, { token: user.token, body: { completed: true } })).status, 200);
        assert.equal((await api(srv, "DELETE", `/todos/${away[1].id}`, { token: user.token })).status, 204);
        await until(() => todoEvents(ref).length === 3 + 8 + 4 + 2, T, "the reference to have them");
        assert.equal(todoEvents(s).length, seenBefore, "nothing reaches a client whose network is down");

        await back(s, to);
        assert.equal(s.recovered, true);
        assert.equal(s.id, id, "the same socket id");
        assert.equal(s._pid, pid);
        assert.equal(owner(s.io.engine.id), to, "the new session lives on the chosen worker");
        assert.equal(s.io.engine.transport.name, transport);

        // Live again, without subscribing again: its rooms came back.
        for (let i = 0; i < 2; i++) await write(user.token, `after ${i}`);
        const total = 3 + 8 + 4 + 2 + 2;
        await until(() => todoEvents(ref).length === total && todoEvents(s).length >= total, T, "every event");
        await sleep(300); // duplicates would come now

        const mine = broadcasts(s).map(key);
        const want = broadcasts(ref).map(key);
        assert.equal(new Set(mine).size, mine.length, "no broadcast twice");
        assert.deepEqual(mine, want, "the same broadcasts as a socket that lost nothing, in the same order");
        assert.ok(todoEvents(s).length - seenBefore >= 6, "it missed events and got them");
        // Each broadcast: its arguments, then a decimal offset, growing.
        const offsets = broadcasts(s).map((e) => BigInt(e.args.at(-1)));
        for (let i = 1; i < offsets.length; i++) assert.ok(offsets[i] > offsets[i - 1]);
        for (const e of todoEvents(s)) assert.equal(e.args.length, 2);

        assert.equal(s.connected, true);
        s.close();
        ref.close();
      });
    }
  }

  test("rooms come back as they were: a project left while away stays left", async () => {
    const alice = await signup(srv, "rec-owner");
    const bob = await signup(srv, "rec-member");
    const proj = await api(srv, "POST", "/projects", { token: alice.token, body: { name: "away", members: [bob.id] } });
    assert.equal(proj.status, 201);
    const pid = proj.body.data.id;

    const ref = await reference(bob.token);
    const s = await lossy(bob.token, "websocket", 1);
    for (const x of [ref, s]) assert.deepEqual(await emitAck(x, "join:project", pid), { ok: true });

    await write(alice.token, "seen", { projectId: pid });
    await until(() => todoEvents(s).length === 1, T, "the first event");
    await cut(s);
    await write(alice.token, "missed", { projectId: pid });
    const upd = await api(srv, "PATCH", `/projects/${pid}`, { token: alice.token, body: { members: [] } });
    assert.equal(upd.status, 200);
    await write(alice.token, "not for bob", { projectId: pid });
    await until(() => ref.log.some((e) => e.name === "project:updated"), T, "the update");
    await write(alice.token, "marker");
    await back(s, 2);
    assert.equal(s.recovered, true);
    await sleep(500);

    const titles = todoEvents(s).map((e) => e.args[0].title);
    assert.deepEqual(titles, ["seen", "missed"]);
    assert.deepEqual(todoEvents(ref).map((e) => e.args[0].title), ["seen", "missed"]);
    assert.deepEqual(broadcasts(s).map(key), broadcasts(ref).map(key));
    assert.equal(s.log.filter((e) => e.name === "project:updated").length, 1);
    s.close();
    ref.close();
  });

  // Terreno's sync events are filtered broadcasts: replayed through korio's
  // filter, which must see the socket's query subscription as it was.
  test("sync subscriptions come back: missed sync events once, in order, as a socket that lost nothing got them", async () => {
    const user = await signup(srv, "rec-sync");
    const ref = await reference(user.token);
    const s = await lossy(user.token, "polling", 2);
    const query = { collection: "todos", query: { completed: false } };
    for (const x of [ref, s]) {
      const n = x.log.filter((e) => e.name === "query:subscribed").length;
      assert.deepEqual(await x.timeout(T).emitWithAck("subscribe:query", query), { ok: true });
      await until(() => x.log.filter((e) => e.name === "query:subscribed").length > n, T, "query:subscribed");
    }
    const syncs = (x) => x.log.filter((e) => e.name === "sync");

    await write(user.token, "seen");
    await until(() => syncs(s).length === 1, T, "a sync event, so that there is an offset");
    await sleep(50);
    await cut(s);
    const a = await write(user.token, "open a");
    await write(user.token, "open b");
    await write(user.token, "done already", { completed: true });
    const done = await api(srv, "PATCH", `/todos/${a.id}`, { token: user.token, body: { completed: true } });
    assert.equal(done.status, 200);
    await until(() => syncs(ref).length === 4, T, "the reference's sync events");
    assert.equal(syncs(s).length, 1);

    await back(s, 1);
    assert.equal(s.recovered, true);
    await write(user.token, "open c");
    await until(() => syncs(ref).length === 5 && syncs(s).length >= 5, T, "every sync event");
    await sleep(300);

    const methods = syncs(s).map((e) => `${e.args[0].method} ${e.args[0].data?.title ?? e.args[0].id}`);
    assert.deepEqual(methods, ["create seen", "create open a", "create open b", `delete ${a.id}`, "create open c"]);
    assert.deepEqual(syncs(s).map(key), syncs(ref).map(key));
    for (const e of syncs(s)) assert.match(e.args.at(-1), /^\d+$/, "a sync event carries its offset");
    s.close();
    ref.close();
  });

  test("the token is checked again: a user deleted while away is refused, nothing replayed", async () => {
    const user = await signup(srv, "rec-gone");
    const s = await lossy(user.token, "websocket", 1);
    assert.deepEqual(await emitAck(s, "subscribe:todos"), { ok: true });
    await seen(s, user.token);
    await cut(s);
    await write(user.token, "missed");
    await store.deleteUser(user.id);
    await assert.rejects(back(s, 2), (err) => {
      assert.equal(err.message, "User not found");
      return true;
    });
    await sleep(300);
    assert.equal(todoEvents(s).length, 1);
    assert.equal(s.connected, false);
    s.close();
  });

  test("the token is checked again: a bad token with the right pid is refused, and the kept socket is used up", async () => {
    const user = await signup(srv, "rec-token");
    const s = await lossy(user.token, "websocket", 2);
    assert.deepEqual(await emitAck(s, "subscribe:todos"), { ok: true });
    await seen(s, user.token);
    const id = s.id;
    const pid = s._pid;
    await cut(s);
    await write(user.token, "missed");
    s.auth = { token: "Bearer not.a.token" };
    await assert.rejects(back(s, 1), (err) => {
      assert.equal(err.message, "Invalid token");
      return true;
    });
    assert.equal(todoEvents(s).length, 1);

    s.auth = { token: user.token };
    s.connect();
    await connected(s, T);
    assert.equal(s.recovered, false);
    assert.notEqual(s.id, id);
    assert.notEqual(s._pid, pid);
    await sleep(300);
    assert.equal(todoEvents(s).length, 1, "a new session gets nothing it missed");
    s.close();
  });

  test("another user's token with the pid: a new session, none of the first user's events", async () => {
    const alice = await signup(srv, "rec-a");
    const mallory = await signup(srv, "rec-m");
    const ref = await reference(alice.token);
    const s = await lossy(alice.token, "websocket", 1);
    assert.deepEqual(await emitAck(s, "subscribe:todos"), { ok: true });
    await seen(s, alice.token);
    const id = s.id;
    await cut(s);
    await write(alice.token, "private 1");
    s.auth = { token: mallory.token };
    await back(s, 2);
    assert.equal(s.recovered, false);
    assert.notEqual(s.id, id);
    await write(alice.token, "private 2");
    await until(() => todoEvents(ref).length === 3, T, "alice's events");
    await sleep(300);
    assert.deepEqual(todoEvents(s).map((e) => e.args[0].title), ["seen"]);
    const notes = s.log.filter((e) => e.name === "notification").map((e) => e.args[0].message);
    assert.ok(notes.every((m) => !/private/.test(m)), `notifications: ${JSON.stringify(notes)}`);
    s.close();
    ref.close();
  });

  test("a client's own DISCONNECT is not kept: connecting again is a new session", async () => {
    const user = await signup(srv, "rec-bye");
    const s = await lossy(user.token, "websocket", 1);
    assert.deepEqual(await emitAck(s, "subscribe:todos"), { ok: true });
    const id = s.id;
    await write(user.token, "one");
    await until(() => todoEvents(s).length === 1, T, "an event, so that there is an offset");
    s.disconnect();
    await write(user.token, "while gone");
    s.connect();
    await connected(s, T);
    assert.equal(s.recovered, false);
    assert.notEqual(s.id, id);
    await sleep(300);
    assert.equal(todoEvents(s).length, 1);
    s.close();
  });
});

describe("connection-state recovery past its bounds", { timeout: 300000 * SLOW }, () => {
  const sockets = [];
  after(() => {
    for (const s of sockets) s.close();
  });

  async function lossy(srv, token, worker) {
    const agent = new CutAgent(srv.port, worker);
    const s = io(srv.url, {
      forceNew: true, transports: ["websocket"], agent, auth: { token }, timeout: 5000 * SLOW,
      reconnectionDelay: 50, reconnectionDelayMax: 50, randomizationFactor: 0,
    });
    s.log = [];
    s.onAny((name, ...args) => s.log.push({ name, args }));
    s.agent = agent;
    sockets.push(s);
    await connected(s, T);
    assert.deepEqual(await emitAck(s, "subscribe:todos"), { ok: true });
    await api(srv, "POST", "/todos", { token, body: { title: "first" } });
    await until(() => todoEvents(s).length === 1, T, "an event, so that there is an offset");
    return s;
  }

  async function cut(srv, s) {
    const id = s.id;
    const seen = lostLines(srv, id);
    const gone = new Promise((resolve) => s.once("disconnect", resolve));
    s.agent.down();
    await gone;
    await until(() => lostLines(srv, id) > seen, T, `the server to lose socket ${id}`);
  }

  async function back(s, worker) {
    const again = new Promise((resolve, reject) => {
      s.once("connect", resolve);
      s.once("connect_error", reject);
    });
    s.agent.up(worker);
    await again;
  }

  // A new session after all: new id and pid, and the server works on.
  async function fresh(srv, s, was, token) {
    assert.equal(s.recovered, false);
    assert.notEqual(s.id, was.id);
    assert.notEqual(s._pid, was.pid);
    assert.deepEqual(await emitAck(s, "subscribe:todos"), { ok: true });
    const n = todoEvents(s).length;
    await api(srv, "POST", "/todos", { token, body: { title: "live again" } });
    await until(() => todoEvents(s).length === n + 1, T, "the live stream");
    assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
  }

  test("more events while away than RECOVERY_MAX_EVENTS: a new session", async () => {
    const srv = await startKorio({ workers: 2, env: { WEBSOCKETS_DEBUG: "1", RECOVERY_MAX_EVENTS: "4" } });
    try {
      const user = await signup(srv, "rec-many");
      // Control: within the bound it recovers.
      const ok = await lossy(srv, user.token, 1);
      await cut(srv, ok);
      await api(srv, "POST", "/todos", { token: user.token, body: { title: "one" } });
      await back(ok, 2);
      assert.equal(ok.recovered, true);
      ok.close();

      const s = await lossy(srv, user.token, 1);
      const was = { id: s.id, pid: s._pid };
      await cut(srv, s);
      for (let i = 0; i < 5; i++) await api(srv, "POST", "/todos", { token: user.token, body: { title: `many ${i}` } });
      await back(s, 2);
      await fresh(srv, s, was, user.token);
      s.close();
    } finally {
      await srv.stop();
    }
  });

  test("away longer than RECOVERY_MAX_DISCONNECTION_MS: a new session", async () => {
    const srv = await startKorio({ workers: 2, env: { WEBSOCKETS_DEBUG: "1", RECOVERY_MAX_DISCONNECTION_MS: "400" } });
    try {
      const user = await signup(srv, "rec-late");
      const s = await lossy(srv, user.token, 2);
      const was = { id: s.id, pid: s._pid };
      await cut(srv, s);
      await sleep(1200);
      await back(s, 1);
      await fresh(srv, s, was, user.token);
      s.close();
    } finally {
      await srv.stop();
    }
  });

  test("more lost sockets than RECOVERY_MAX_SESSIONS on a worker: the oldest starts anew, the newest recovers", async () => {
    const srv = await startKorio({ workers: 2, env: { WEBSOCKETS_DEBUG: "1", RECOVERY_MAX_SESSIONS: "1" } });
    try {
      const user = await signup(srv, "rec-bound");
      const first = await lossy(srv, user.token, 1);
      const second = await lossy(srv, user.token, 1);
      const was = { id: first.id, pid: first._pid };
      await cut(srv, first);
      await cut(srv, second);
      await back(second, 2);
      assert.equal(second.recovered, true);
      await back(first, 2);
      await fresh(srv, first, was, user.token);
      first.close();
      second.close();
    } finally {
      await srv.stop();
    }
  });

  test("RECOVERY_MAX_DISCONNECTION_MS=0 turns it off: no pid, events carry their arguments only", async () => {
    const srv = await startKorio({ workers: 2, env: { WEBSOCKETS_DEBUG: "1", RECOVERY_MAX_DISCONNECTION_MS: "0" } });
    try {
      const user = await signup(srv, "rec-off");
      const s = await lossy(srv, user.token, 1);
      assert.equal(s._pid, undefined);
      const created = todoEvents(s)[0];
      assert.equal(created.args.length, 1);
      assert.equal(created.args[0].title, "first");
      const was = { id: s.id, pid: s._pid };
      await cut(srv, s);
      await back(s, 2);
      assert.ok(!s.recovered);
      assert.equal(s._pid, undefined);
      assert.notEqual(s.id, was.id);
      s.close();
    } finally {
      await srv.stop();
    }
  });
});
