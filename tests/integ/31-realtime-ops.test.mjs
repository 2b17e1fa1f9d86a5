// Realtime operations: what an operator sees with WEBSOCKETS_DEBUG, and a
// worker that dies taking its sockets out of presence.

import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "node:test";
import { startKorio, SLOW } from "./harness.mjs";
import { connect, emitAck, got, signup, sleep, until } from "./rt-util.mjs";

const T = 10000 * SLOW;

describe("WEBSOCKETS_DEBUG", { timeout: 60000 * SLOW }, () => {
  let srv;
  before(async () => {
    srv = await startKorio({ workers: 2, env: { WEBSOCKETS_DEBUG: "true" } });
  });
  after(async () => {
    await srv?.stop();
  });

  test("logs handshakes, auth failures, joins and disconnect reasons, never a token", async () => {
    const u = await signup(srv, "dbg");
    await assert.rejects(connect(srv, { token: `Bearer ${u.token}tampered` }), /Invalid token/);
    const s = await connect(srv, { token: `Bearer ${u.token}` });
    const sid = s.id;
    assert.deepEqual(await emitAck(s, "join:project", "0123456789abcdef01234567"), { error: "Forbidden" });
    s.close();
    await srv.waitForLog(new RegExp(`socket ${sid} of user ${u.id} gone: client namespace disconnect|socket ${sid} of user ${u.id} gone: transport close`));
    const log = srv.logs();
    assert.match(log, /refused: Invalid token \(invalid signature\)/);
    assert.match(log, new RegExp(`socket ${sid} is user ${u.id}`));
    assert.match(log, new RegExp(`socket ${sid} may not join project 0123456789abcdef01234567`));
    assert.match(log, /eio: session \S+ open \(websocket\)/);
    assert.ok(!log.includes(u.token), "the token never reaches the log");
    assert.ok(!log.includes(u.token.split(".")[2]), "nor its signature");
  });
});

describe("a worker that dies", { timeout: 90000 * SLOW }, () => {
  let srv;
  before(async () => {
    srv = await startKorio({ workers: 2, env: { KORIO_DEBUG_ENDPOINTS: "true" } });
  });
  after(async () => {
    await srv?.stop({ allowBadLog: true });
  });

  test("takes its sockets out of presence; the restarted worker serves again", async () => {
    const watcherUser = await signup(srv, "watch");
    const users = await Promise.all(Array.from({ length: 6 }, () => signup(srv, "victim")));
    const all = [];
    let watcher;
    // Open sockets until both workers hold some.
    for (let i = 0; i < 40 && (!watcher || new Set(all.map((s) => s.worker)).size < 2); i++) {
      const u = users[i % users.length];
      const s = await connect(srv, { token: u.token });
      s.user = u;
      s.info = await emitAck(s, "debug:worker");
      s.worker = s.info.worker;
      all.push(s);
      if (!watcher) {
        const w = await connect(srv, { token: watcherUser.token });
        w.info = await emitAck(w, "debug:worker");
        if (w.info.worker !== s.worker) watcher = w;
        else w.close();
      }
    }
    assert.ok(watcher, "a watcher on the other worker");
    const victimWorker = all.find((s) => s.worker !== watcher.info.worker).worker;
    const doomed = all.filter((s) => s.worker === victimWorker);
    const survivors = all.filter((s) => s.worker !== victimWorker);
    const pid = doomed[0].info.pid;
    await until(
      () => users.every((u) => (got(watcher, "presence:update").at(-1) ?? []).includes(u.id) || !all.some((s) => s.user === u)),
      T,
      "everyone present",
    );

    const closed = doomed.map((s) => new Promise((r) => s.once("disconnect", r)));
    process.kill(pid, "SIGKILL");
    await Promise.all(closed);

    const stillThere = new Set(survivors.map((s) => s.user.id));
    const expected = [watcherUser.id, ...stillThere].sort();
    await until(
      () => JSON.stringify(got(watcher, "presence:update").at(-1)) === JSON.stringify(expected),
      T,
      `presence without the dead worker's users: want ${expected}`,
    );
    await srv.waitForLog(/worker \[wrk \d+\] \(\d+\) exited with status/);

    // The restarted worker accepts sockets again and presence counts them.
    await sleep(500);
    const back = [];
    for (let i = 0; i < 10; i++) {
      const s = await connect(srv, { token: users[0].token });
      back.push(s);
      if ((await emitAck(s, "debug:worker")).worker === victimWorker) break;
    }
    await until(() => (got(watcher, "presence:update").at(-1) ?? []).includes(users[0].id), T, "users[0] back");
    for (const s of [...all, ...back, watcher]) s.close();
  });

  // Kore 4.1's parent keeps the dead worker's message connection in its
  // list of destinations; the restarted worker's new one can take its
  // place in memory, and then gets every message between workers twice.
  test("after a restart, every socket gets each event once, in order", async () => {
    const u = await signup(srv, "restart");
    const open = async () => {
      const s = await connect(srv, { token: u.token });
      s.worker = (await emitAck(s, "debug:worker")).worker;
      s.pid = (await emitAck(s, "debug:worker")).pid;
      assert.deepEqual(await emitAck(s, "subscribe:todos"), { ok: true });
      s.titles = [];
      s.on("todo:created", (t) => s.titles.push(t.title));
      return s;
    };
    const first = [];
    for (let i = 0; i < 40 && new Set(first.map((s) => s.worker)).size < 2; i++) first.push(await open());
    const victim = first.find((s) => s.worker === 1) ?? first[0];
    const starts = () => (srv.logs().match(new RegExp(`worker ${victim.worker} started`, "g")) ?? []).length;
    const started = starts();
    const closed = first.filter((s) => s.worker === victim.worker).map((s) => new Promise((r) => s.once("disconnect", r)));
    process.kill(victim.pid, "SIGKILL");
    await Promise.all(closed);
    await until(() => starts() > started, T, "the worker's restart");

    // Kore's workers take turns at accepting, the restarted one once it is
    // in the rotation again: open sockets until one lands there.
    const live = first.filter((s) => s.worker !== victim.worker);
    const deadline = Date.now() + T;
    while (!live.some((s) => s.worker === victim.worker) && Date.now() < deadline) {
      live.push(await open());
      await sleep(20);
    }
    assert.ok(live.some((s) => s.worker === victim.worker), "a socket on the restarted worker");

    // Each POST on a new connection: Kore's workers take turns accepting,
    // so events start on both workers.
    const post = (title) => new Promise((resolve, reject) => {
      const body = JSON.stringify({ title });
      const req = http.request(`${srv.url}/todos`, {
        method: "POST", agent: false,
        headers: { authorization: `Bearer ${u.token}`, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      }, (res) => {
        res.resume();
        res.on("end", () => (res.statusCode === 201 ? resolve() : reject(new Error(`POST ${res.statusCode}`))));
      });
      req.on("error", reject);
      req.end(body);
    });
    const titles = Array.from({ length: 12 }, (_, k) => `after restart ${k}`);
    for (const t of titles) await post(t);
    await until(() => live.every((s) => s.titles.length >= titles.length), T, "all deliveries");
    await sleep(300);
    for (const s of live) assert.deepEqual(s.titles, titles, `socket on worker ${s.worker}`);
    for (const s of [...first, ...live]) s.close();
  });
});
