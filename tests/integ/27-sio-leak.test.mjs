// Socket.IO plugin: thousands of sessions come and go without leaking.
// Most are raw WebSockets (open, CONNECT, close or drop), some polling
// sessions closed by the client, some upgraded from polling, some simply
// abandoned (the heartbeat frees them). Afterwards every Kore worker holds
// the same number of file descriptors as before and its RSS grew by less
// than 8 MiB. LeakSanitizer cannot run in Kore's sandboxed workers, hence
// these counts.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import {
  SLOW, sleep, startFixture, childStats, owner, request, eioUrl, decodePayload, wsUrl,
} from "./sio-util.mjs";
import { VARIANT } from "./harness.mjs";

const SESSIONS = VARIANT === "asan" ? 1000 : 5000;
const BATCH = 200;
const WARMUP = 300;
const RSS_SLACK_KIB = 8 * 1024;
const FD_SLACK = 4;

describe("sio sessions leave nothing behind (WORKERS=2)", () => {
  let srv;
  const owners = new Map();
  before(async () => {
    srv = await startFixture(2);
  });
  after(async () => {
    await srv?.stop();
  });

  const seen = (sid) => owners.set(owner(sid), (owners.get(owner(sid)) ?? 0) + 1);

  // open, read the open packet, CONNECT, read the reply, then close
  // cleanly or drop the TCP connection
  function wsSession(i) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl(srv.url, "/socket.io/"), { perMessageDeflate: false });
      let n = 0;
      const t = setTimeout(() => { ws.terminate(); reject(new Error(`ws session ${i}: timeout after ${n} messages`)); }, 10000 * SLOW);
      ws.on("message", (d) => {
        const m = d.toString();
        if (n++ === 0) {
          if (m[0] !== "0") return reject(new Error(`ws session ${i}: ${m}`));
          seen(JSON.parse(m.slice(1)).sid);
          ws.send(i % 7 === 0 ? '40/custom,{"i":1}' : "40");
        } else if (m.startsWith("40")) {
          if (i % 2) ws.close();
          else ws.terminate();
        }
      });
      ws.on("error", () => {});
      ws.on("close", () => {
        clearTimeout(t);
        n >= 2 ? resolve() : reject(new Error(`ws session ${i}: closed after ${n} messages`));
      });
    });
  }

  // handshake, CONNECT, read the reply and the "auth" event, close with "1"
  async function pollingSession(i) {
    const base = `${srv.url}/socket.io/`;
    const r = await request(eioUrl(srv.url, "/socket.io/"));
    const { sid } = JSON.parse(r.text.slice(1));
    seen(sid);
    const q = `${base}?EIO=4&transport=polling&sid=${sid}`;
    await request(q, { method: "POST", body: "40" });
    // A ping may come first when the machine is slow (pingInterval 300
    // ms): answer it and read on.
    const got = [];
    while (got.length < 2) {
      for (const p of decodePayload((await request(q)).text)) {
        if (p === "2") await request(q, { method: "POST", body: "3" });
        else got.push(p);
      }
    }
    assert.match(got[0], /^40/, `polling session ${i}`);
    if (i % 3) await request(q, { method: "POST", body: "1" });
    // else: abandoned, the heartbeat frees it
  }

  // polling, then upgraded to a WebSocket, then dropped
  async function upgradedSession() {
    const r = await request(eioUrl(srv.url, "/socket.io/"));
    const { sid } = JSON.parse(r.text.slice(1));
    seen(sid);
    const q = eioUrl(srv.url, "/socket.io/", `&sid=${sid}`);
    await request(q, { method: "POST", body: "40" });
    await new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl(srv.url, "/socket.io/", `&sid=${sid}`), { perMessageDeflate: false });
      ws.on("open", () => ws.send("2probe"));
      ws.on("message", (d) => {
        if (d.toString() === "3probe") {
          request(q).then(() => {
            ws.send("5");
            ws.send('42["message",1]');
          }, reject);
        } else if (d.toString().startsWith('42["message-back"')) {
          ws.terminate();
        }
      });
      ws.on("error", () => {});
      ws.on("close", resolve);
    });
  }

  async function run(total) {
    for (let done = 0; done < total; done += BATCH) {
      const n = Math.min(BATCH, total - done);
      await Promise.all(Array.from({ length: n }, (_, k) => {
        const i = done + k;
        if (i % 50 === 0) return upgradedSession();
        if (i % 10 === 5) return pollingSession(i);
        return wsSession(i);
      }));
    }
  }

  // after pingInterval + pingTimeout and a margin, abandoned sessions are gone
  const settle = () => sleep(1200 * Math.min(SLOW, 2));

  test(`${SESSIONS} sessions: fds back to the baseline, RSS growth < 8 MiB per worker`, async () => {
    const t0 = Date.now();
    await run(WARMUP);
    await settle();
    const base = childStats(srv.child.pid);
    assert.equal(base.length, 2, `workers: ${JSON.stringify(base)}`);

    await run(SESSIONS);
    const mid = childStats(srv.child.pid);
    await settle();
    const end = childStats(srv.child.pid);
    const report = JSON.stringify({ base, mid, end, owners: Object.fromEntries(owners), ms: Date.now() - t0 });
    process.stderr.write(`sio leak check: ${report}\n`);

    assert.deepEqual([...owners.keys()].sort(), [1, 2], `sessions on both workers: ${report}`);
    assert.deepEqual(end.map((w) => w.pid), base.map((w) => w.pid), `no worker restarted: ${report}`);
    for (let k = 0; k < base.length; k++) {
      assert.ok(Math.abs(end[k].fds - base[k].fds) <= FD_SLACK, `fds of worker pid ${base[k].pid}: ${report}`);
      assert.ok(end[k].rssKiB - base[k].rssKiB < RSS_SLACK_KIB, `RSS of worker pid ${base[k].pid}: ${report}`);
    }
    // the server still serves
    const r = await request(eioUrl(srv.url, "/socket.io/"));
    assert.equal(r.status, 200);
  });
});
