// python-socketio (Debian's python3-socketio 5.7) as a client of korio:
// it drops a session whose polling response carries more than 16 packets,
// so a burst of events must come in several responses, in order, and the
// client must keep its session. korio offers connection-state recovery, so
// each event has its offset after its arguments (a handler taking one
// argument would fail, as with Node's socket.io): the same arguments as a
// Node client gets, then one decimal string, growing.

import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import readline from "node:readline";
import { startKorio } from "./harness.mjs";
import { api, connect, emitAck, got, signup, until } from "./rt-util.mjs";

const PYTHON = "/usr/bin/python3";
const SCRIPT = new URL("./py/polling_burst.py", import.meta.url).pathname;

// Runs the client; resolves with its "ready" line's promise and its result.
function pythonClient(url, token, want, secs) {
  const child = spawn(PYTHON, [SCRIPT, url, token, String(want), String(secs)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const lines = readline.createInterface({ input: child.stdout });
  const out = [];
  let onReady;
  const ready = new Promise((resolve) => (onReady = resolve));
  const result = new Promise((resolve, reject) => {
    lines.on("line", (l) => {
      const msg = JSON.parse(l);
      out.push(msg);
      if (msg.ready) onReady(msg);
    });
    child.on("exit", (code) => {
      const last = out.find((m) => m.received !== undefined);
      if (code !== 0 || !last) reject(new Error(`python client exited ${code}: ${stderr}`));
      else resolve(last);
    });
  });
  return { ready, result };
}

describe("python-socketio on polling", () => {
  let srv;
  before(async () => {
    srv = await startKorio();
  });
  after(async () => {
    await srv?.stop();
  });

  it("a burst of 40 todo events: every one arrives, in order, and the session lives", async () => {
    const user = await signup(srv, "py");
    // A WebSocket client of the same user: the order of reference.
    const ref = await connect(srv, { token: user.token });
    await emitAck(ref, "subscribe:todos");
    const client = pythonClient(srv.url, user.token, 40, 15);
    const ready = await client.ready;
    assert.deepEqual(ready.ack, { ok: true });

    // 40 writes at once: 80 events (todo:created and a notification each)
    // queue up for the client's next GET.
    const made = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        api(srv, "POST", "/todos", { token: user.token, body: { title: `burst ${i}` } }),
      ),
    );
    for (const r of made) assert.equal(r.status, 201);

    const res = await client.result;
    assert.equal(res.disconnects, 0, "the client lost its session");
    assert.equal(res.connected, true);
    assert.equal(res.received.length, 40);
    assert.deepEqual(new Set(res.received), new Set(made.map((r) => r.body.data.id)));
    await until(() => got(ref, "todo:created").length === 40);
    assert.deepEqual(res.received, got(ref, "todo:created").map((t) => t.id));
    assert.equal(res.extra.length, 40);
    for (const rest of res.extra) {
      assert.equal(rest.length, 1, `arguments after the todo: ${JSON.stringify(rest)}`);
      assert.match(rest[0], /^(0|[1-9][0-9]*)$/);
    }
    const offsets = res.extra.map((r) => BigInt(r[0]));
    for (let i = 1; i < offsets.length; i++) assert.ok(offsets[i] > offsets[i - 1], "offsets grow");
    ref.close();
  });
});
