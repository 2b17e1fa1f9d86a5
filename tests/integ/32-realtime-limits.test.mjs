// Budgets of the realtime half: CONNECT and DISCONNECT take from a
// connection's event budget (a client looping 41/40 on one session), the
// token bucket never holds more than the burst, presence updates reach a
// socket at most 4 times a second however many clients churn, and every
// new socket gets the current presence list at once.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { startKorio, SLOW } from "./harness.mjs";
import { connect, emitAck, got, signup, sleep, until } from "./rt-util.mjs";

const T = 10000 * SLOW;

describe("realtime budgets", { timeout: 120000 * SLOW }, () => {
  let srv;
  let alice;
  const sockets = [];
  const open = async (auth, opts) => {
    const s = await connect(srv, auth, opts);
    sockets.push(s);
    return s;
  };

  before(async () => {
    srv = await startKorio({ workers: 2, env: { KORIO_DEBUG_ENDPOINTS: "true" } });
    alice = await signup(srv, "alice");
  });
  after(async () => {
    for (const s of sockets) s.close();
    await srv?.stop();
  });

  test("connect churn on one session: CONNECTs past the budget are refused, then the session is closed", async () => {
    const ws = new WebSocket(`${srv.url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
    const seen = { connects: 0, refused: 0 };
    let closed = false;
    const done = new Promise((resolve) => ws.on("close", () => { closed = true; resolve(); }));
    await new Promise((resolve, reject) => {
      ws.once("message", resolve);
      ws.once("error", reject);
    });
    // The answer to each CONNECT, in order; pings answered.
    const replies = [];
    let wake = () => {};
    ws.on("message", (d) => {
      const m = d.toString();
      if (m === "2") ws.send("3");
      else if (m.startsWith("40{") || m.startsWith("44{")) {
        replies.push(m);
        wake();
      }
    });
    const hello = `40${JSON.stringify({ token: alice.token })}`;
    const started = Date.now();
    // A client that connects, disconnects and connects again as fast as
    // the server answers, until the server closes its session.
    while (!closed && Date.now() - started < T) {
      const got1 = new Promise((resolve) => { wake = resolve; });
      ws.send(hello);
      await Promise.race([got1, done, sleep(T)]);
      const m = replies.shift();
      if (m === undefined) break;
      if (m.startsWith("40{")) {
        seen.connects++;
        ws.send("41");
      } else {
        assert.equal(m, '44{"message":"Rate limit exceeded"}');
        seen.refused++;
      }
    }
    const secs = (Date.now() - started) / 1000;
    assert.ok(closed, `the abusing session was not closed: ${JSON.stringify({ ...seen, secs })}`);
    // Burst 40 and 20 a second, two tokens a cycle; 200 refusals in a row close.
    assert.ok(seen.connects <= 20 + 10 * (secs + 1), `${seen.connects} connects in ${secs} s`);
    assert.ok(seen.refused >= 150, `${seen.refused} refusals before the close`);
    // Everyone else is served.
    const s = await open({ token: alice.token });
    assert.deepEqual(await emitAck(s, "subscribe:todos"), { ok: true });
  });

  test("a socket idle for seconds gets no more than the burst before the limit", async () => {
    const s = await open({ token: alice.token });
    await sleep(3000);
    let ok = 0;
    const acks = [];
    for (let i = 0; i < 120; i++) {
      acks.push(s.timeout(2000).emitWithAck("subscribe:todos").then(() => ok++, () => {}));
    }
    await Promise.all(acks);
    // 40 from the full bucket, perhaps one more refilled while sending.
    assert.ok(ok >= 40 && ok <= 42, `${ok} events within the budget`);
    await until(() => got(s, "error").length >= 1, T, "rate limit error");
    assert.deepEqual(got(s, "error")[0], { message: "Rate limit exceeded" });
  });

  test("presence: at most 4 updates a second to a socket while 12 users churn", async () => {
    const users = await Promise.all(Array.from({ length: 12 }, (_, i) => signup(srv, `churn${i}`)));
    const watcher = await open({ token: alice.token });
    await sleep(600);
    const times = [];
    watcher.on("presence:update", () => times.push(Date.now()));
    const stop = Date.now() + 2500;
    await Promise.all(users.map(async (u) => {
      while (Date.now() < stop) {
        const s = await connect(srv, { token: u.token });
        await sleep(5);
        s.close();
        await sleep(5);
      }
    }));
    await sleep(600);
    const span = (times.at(-1) - times[0]) / 1000;
    assert.ok(times.length >= 2, "no presence updates during the churn");
    // 250 ms apart at least (a little slack for delivery).
    for (let i = 1; i < times.length; i++) {
      assert.ok(times[i] - times[i - 1] >= 200, `updates ${times[i] - times[i - 1]} ms apart`);
    }
    assert.ok(times.length <= 4 * span + 2, `${times.length} updates in ${span} s`);
  });

  test("every new socket gets the current list at once, a second tab too, on either worker", async () => {
    const bob = await signup(srv, "bob");
    const first = await open({ token: bob.token });
    await until(() => got(first, "presence:update").some((l) => l.includes(bob.id)), T, "bob present");
    await sleep(300);
    const workers = new Set();
    for (let i = 0; i < 16 && workers.size < 2; i++) {
      const tab = await open({ token: bob.token }, { transports: i % 2 ? ["polling"] : ["websocket"] });
      await until(() => got(tab, "presence:update").some((l) => l.includes(bob.id)), 2000 * SLOW,
        `tab ${i} got no list`);
      const list = got(tab, "presence:update")[0];
      assert.deepEqual(list, [...list].sort());
      workers.add((await emitAck(tab, "debug:worker")).worker);
    }
    assert.equal(workers.size, 2, "tabs reached one worker only");
  });
});
