// The HTTP edge facing clients directly (Kore itself, patched: patches/): body
// accounting and pipelining, error answers that reach a client still sending
// its body, request framing (Content-Length, Transfer-Encoding), header and
// body timeouts that spare held long polls, WebSocket PINGs held to the send
// budget, and the per-address connection cap. Every attack comes from outside,
// over raw sockets.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { restClient, SLOW, startKorio, VARIANT } from "./harness.mjs";

// ---- raw HTTP -----------------------------------------------------------------

// Opens a connection (from localAddress, default 127.0.0.1) and writes
// data (a string, a Buffer, or a list of them written gap ms apart). Resolves
// { text, closed } once the server closed, or after ms with closed false.
function exchange(port, data, { ms = 5000 * SLOW, localAddress, gap = 100 } = {}) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1", localAddress });
    let text = "";
    const done = (closed) => {
      clearTimeout(t);
      s.destroy();
      resolve({ text, closed });
    };
    const t = setTimeout(() => done(false), ms);
    s.on("data", (d) => { text += d.toString("latin1"); });
    s.on("error", () => {});
    s.on("close", () => done(true));
    s.on("connect", async () => {
      for (const [i, d] of [data].flat().entries()) {
        if (i > 0) await sleep(gap);
        if (!s.destroyed) s.write(d);
      }
    });
  });
}

// The status codes of the answers in text, in order (each read past its
// head and its content-length bytes of body).
function statuses(text) {
  const out = [];
  let at = 0;
  for (;;) {
    const m = /^HTTP\/1\.1 (\d{3}) [^\r]*\r\n/.exec(text.slice(at));
    if (m === null) return out;
    out.push(Number(m[1]));
    const end = text.indexOf("\r\n\r\n", at);
    if (end === -1) return out;
    const cl = /^content-length: *(\d+)/im.exec(text.slice(at, end));
    at = end + 4 + (cl ? Number(cl[1]) : 0);
  }
}

const head = (method, path, headers = {}) =>
  `${method} ${path} HTTP/1.1\r\nHost: korio.test\r\n` +
  Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";

const json = (o) => JSON.stringify(o);

// GET /healthz on a fresh connection from localAddress: { status, ms }.
async function healthz(port, localAddress) {
  const t0 = Date.now();
  const r = await exchange(port, head("GET", "/healthz", { Connection: "close" }), {
    ms: 10000 * SLOW, localAddress,
  });
  return { status: statuses(r.text)[0], ms: Date.now() - t0 };
}

// The server of one describe block's tests: started before them, stopped
// after them; ctx.srv once started.
function server(opts, onStart = async () => {}) {
  const ctx = {};
  before(async () => {
    ctx.srv = await startKorio(opts);
    await onStart(ctx.srv);
  });
  after(async () => {
    await ctx.srv?.stop({ allowBadLog: opts.allowBadLog === true });
  });
  return ctx;
}

// ---- body accounting and pipelining ------------------------------------------

describe("a body is Content-Length bytes; what follows is the next request", () => {
  const ctx = server({ workers: 2 });

  // POST Content-Length: 1 with "AB" in the first read, then mib MiB more
  // as fast as the server takes them. Resolves { text, closed } once the
  // server closed, or after a bounded wait with closed false.
  async function overlong(mib) {
    const s = net.connect(ctx.srv.port, "127.0.0.1");
    let text = "";
    let closed = false;
    s.on("data", (d) => { text += d.toString("latin1"); });
    s.on("error", () => {});
    const gone = new Promise((r) => s.on("close", () => { closed = true; r(); }));
    await new Promise((r) => s.on("connect", r));
    s.write(head("POST", "/auth/login", { "Content-Type": "application/json", "Content-Length": 1 }) + "AB");
    const chunk = Buffer.alloc(256 * 1024, 0x41);
    for (let i = 0; i < mib * 4 && !closed; i++) {
      if (!s.write(chunk)) await Promise.race([new Promise((r) => s.once("drain", r)), gone]);
    }
    await Promise.race([gone, sleep(10000 * SLOW)]);
    s.destroy();
    return { text, closed };
  }

  test("Content-Length: 1 with 'AB' and 2 MiB after: the byte is the body, the rest a bad request", async () => {
    // Before: no answer, every byte kept as body, the connection open
    // until the 60 s body timeout.
    const r = await overlong(2);
    assert.ok(r.closed, `connection still open; got ${JSON.stringify(r.text.slice(0, 200))}`);
    assert.deepEqual(statuses(r.text), [400, 431], r.text.slice(0, 600));
    assert.match(r.text, /Malformed JSON/);
  });

  test("... and 16 MiB after: the connection is closed, the server answers others meanwhile", async () => {
    const blast = overlong(16);
    const h = await healthz(ctx.srv.port);
    assert.equal(h.status, 200);
    const r = await blast;
    assert.ok(r.closed, "connection still open");
    assert.ok(statuses(r.text).every((x) => x === 400 || x === 431), r.text.slice(0, 600));
  });

  test("pipelined: a POST with its body, then a GET, in one write: both answered, in order", async () => {
    const body = json({ email: "nobody@example.com", password: "wrong password" });
    const r = await exchange(ctx.srv.port,
      head("POST", "/auth/login", { "Content-Type": "application/json", "Content-Length": body.length }) + body +
      head("GET", "/healthz", { Connection: "close" }));
    assert.deepEqual(statuses(r.text), [401, 200], r.text);
    assert.ok(r.closed);
  });

  test("pipelined GETs in one write are all answered", async () => {
    const r = await exchange(ctx.srv.port,
      head("GET", "/healthz") + head("GET", "/favicon.svg") + head("GET", "/healthz", { Connection: "close" }));
    assert.deepEqual(statuses(r.text), [200, 200, 200], r.text);
  });

  test("a body in pieces, then the next request: answered in order", async () => {
    const body = json({ email: "nobody@example.com", password: "wrong password" });
    const r = await exchange(ctx.srv.port, [
      head("POST", "/auth/login", { "Content-Type": "application/json", "Content-Length": body.length }) + body.slice(0, 5),
      body.slice(5, 20),
      body.slice(20) + head("GET", "/healthz"),
      head("GET", "/healthz", { Connection: "close" }),
    ]);
    assert.deepEqual(statuses(r.text), [401, 200, 200], r.text);
  });
});

// ---- error answers reach the client ------------------------------------------

describe("an error answer reaches a client still sending its body", () => {
  test("POST /todos with 2 MiB and 8 MiB from fetch: 413 every time, on fresh servers", async () => {
    for (let run = 0; run < 3; run++) {
      const srv = await startKorio({ workers: 2 });
      try {
        const api = restClient(srv.url);
        const u = await api.signup(`big${run}@example.com`);
        for (const mib of [2, 8]) {
          const body = json({ title: "x".repeat(mib * 1024 * 1024) });
          const r = await fetch(`${srv.url}/todos`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${u.token}` },
            body,
          }).then((res) => res.status, (e) => `${e.message} (${e.cause?.code ?? e.cause})`);
          assert.equal(r, 413, `run ${run}, ${mib} MiB`);
        }
      } finally {
        await srv.stop();
      }
    }
  });

  // A client that sends the whole request, then reads (before: the server
  // closed after its 413 with the body still coming, the kernel answered
  // the rest with a reset, and the client's write failed before it read).
  function sendThenRead(port, data) {
    return new Promise((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      let text = "";
      s.pause();
      s.on("data", (d) => { text += d.toString("latin1"); });
      s.on("error", () => {});
      s.on("close", () => resolve(text));
      s.on("connect", () => s.write(data, () => s.resume()));
    });
  }

  test("a 413 reaches a client that sends all of its body before it reads", async () => {
    const srv = await startKorio({ workers: 2 });
    try {
      const size = 4 * 1024 * 1024;
      const req = Buffer.concat([
        Buffer.from(head("POST", "/todos", { "Content-Type": "application/json", "Content-Length": size })),
        Buffer.alloc(size, 0x20),
      ]);
      for (let run = 0; run < 5; run++) {
        const text = await sendThenRead(srv.port, req);
        assert.deepEqual(statuses(text), [413], `run ${run}: ${JSON.stringify(text.slice(0, 80))}`);
      }
    } finally {
      await srv.stop();
    }
  });
});

// ---- request framing ----------------------------------------------------------

describe("request framing (RFC 9112): one reading of where a request ends", () => {
  let api, alice;
  const ctx = server({ workers: 2 }, async (srv) => {
    api = restClient(srv.url);
    alice = await api.signup("alice@example.com");
  });

  const todos = async () => (await api.get("/todos", { token: alice.token })).body.total;
  const post = (headers, body) =>
    exchange(ctx.srv.port, head("POST", "/todos", {
      Authorization: `Bearer ${alice.token}`, "Content-Type": "application/json", ...headers,
    }) + body);

  test("two different Content-Length values: 400, closed, nothing written", async () => {
    const n = await todos();
    const body = json({ title: "smuggled" });
    for (const cl of [[body.length, 5], [5, body.length]]) {
      // Two fields (a proxy taking the last one would frame it otherwise).
      const r = await exchange(ctx.srv.port,
        `POST /todos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice.token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${cl[0]}\r\nContent-Length: ${cl[1]}\r\n\r\n${body}`);
      assert.deepEqual(statuses(r.text), [400], r.text);
      assert.ok(r.closed);
    }
    for (const v of [`${body.length}, 5`, `+${body.length}`, `${body.length}x`, `0x${body.length.toString(16)}`, ""]) {
      const r = await post({ "Content-Length": v }, body);
      assert.deepEqual(statuses(r.text), [400], `${JSON.stringify(v)}: ${r.text}`);
      assert.ok(r.closed);
    }
    assert.equal(await todos(), n);
  });

  test("the same value twice is that value", async () => {
    const n = await todos();
    const body = json({ title: "twice" });
    const r = await post({ "Content-Length": `${body.length}, ${body.length}`, Connection: "close" }, body);
    assert.deepEqual(statuses(r.text), [201], r.text);
    assert.equal(await todos(), n + 1);
  });

  test("Transfer-Encoding: with Content-Length 400, chunked 411, other codings 501; closed", async () => {
    const n = await todos();
    const body = json({ title: "chunked" });
    const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    const cases = [
      [{ "Content-Length": chunked.length, "Transfer-Encoding": "chunked" }, 400],
      [{ "Transfer-Encoding": "chunked" }, 411],
      [{ "Transfer-Encoding": "gzip, chunked" }, 501],
      [{ "Transfer-Encoding": "chunked, gzip" }, 400],
    ];
    for (const [h, want] of cases) {
      const r = await post(h, chunked);
      assert.deepEqual(statuses(r.text), [want], `${JSON.stringify(h)}: ${r.text}`);
      assert.ok(r.closed);
    }
    // On a GET too: its body is not the next request.
    const r = await exchange(ctx.srv.port, head("GET", "/healthz", { "Transfer-Encoding": "chunked" }) +
      "0\r\n\r\n" + head("GET", "/healthz"));
    assert.deepEqual(statuses(r.text), [411], r.text);
    assert.equal(await todos(), n);
  });

  test("a GET with a Content-Length has a body, never taken for a request", async () => {
    const inner = head("DELETE", "/todos/0123456789abcdef01234567");
    const r = await exchange(ctx.srv.port,
      head("GET", "/healthz", { "Content-Length": inner.length }) + inner +
      head("GET", "/healthz", { Connection: "close" }));
    assert.deepEqual(statuses(r.text), [200, 200], r.text);
  });

  test("bare CR, a folded line, two Host fields, too many or too long fields: 4xx, closed", async () => {
    const cases = [
      ["GET /healthz HTTP/1.1\r\nHost: x\rContent-Length: 5\r\n\r\n", 400],
      ["GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n", 400],
      ["GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400],
      [`GET /healthz HTTP/1.1\r\nHost: x\r\n${"X-A: b\r\n".repeat(80)}\r\n`, 431],
      [`GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: ${"b".repeat(5000)}\r\n\r\n`, 431],
    ];
    for (const [req, want] of cases) {
      const r = await exchange(ctx.srv.port, req);
      assert.deepEqual(statuses(r.text), [want], `${JSON.stringify(req.slice(0, 60))}: ${r.text}`);
      assert.ok(r.closed);
    }
  });
});

// ---- header and body timeouts -----------------------------------------------

describe("header and body timeouts (HTTP_HEADER_TIMEOUT=1, HTTP_BODY_TIMEOUT=2)", () => {
  const ctx = server({
    workers: 2,
    env: { HTTP_HEADER_TIMEOUT: "1", HTTP_BODY_TIMEOUT: "2", SIO_PING_INTERVAL: "5000", SIO_PING_TIMEOUT: "5000" },
  });

  test("a head that never ends: 408, closed", async () => {
    const r = await exchange(ctx.srv.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n", { ms: 6000 * SLOW });
    assert.ok(r.closed, "still open");
    assert.deepEqual(statuses(r.text), [408], r.text);
  });

  test("a body that never ends: 408, closed", async () => {
    const r = await exchange(ctx.srv.port,
      head("POST", "/auth/login", { "Content-Type": "application/json", "Content-Length": 100 }) + "{",
      { ms: 8000 * SLOW });
    assert.ok(r.closed, "still open");
    assert.deepEqual(statuses(r.text), [408], r.text);
  });

  test("a held long poll outlives both timeouts; a kept-alive connection gets no 408", async () => {
    const open = await fetch(`${ctx.srv.url}/socket.io/?EIO=4&transport=polling`).then((r) => r.text());
    assert.equal(open[0], "0", open);
    const { sid } = JSON.parse(open.slice(1));

    // The poll is held until the server's ping (5 s), past both timeouts.
    const t0 = Date.now();
    const r = await exchange(ctx.srv.port,
      head("GET", `/socket.io/?EIO=4&transport=polling&sid=${sid}`, { Connection: "close" }),
      { ms: 15000 * SLOW });
    assert.deepEqual(statuses(r.text), [200], r.text);
    assert.match(r.text, /\r\n\r\n2$/);
    assert.ok(Date.now() - t0 >= 3000, `poll answered after ${Date.now() - t0} ms`);

    // Idle between two requests for longer than the header timeout.
    const k = await exchange(ctx.srv.port, [head("GET", "/healthz"), head("GET", "/healthz", { Connection: "close" })],
      { gap: 2500 });
    assert.deepEqual(statuses(k.text), [200, 200], k.text);
  });

  test("a new connection that sends its first request after the header timeout is answered (browser preconnect)", async () => {
    const r = await new Promise((resolve) => {
      const s = net.connect({ port: ctx.srv.port, host: "127.0.0.1" });
      let text = "";
      let closedEarly = false;
      s.on("data", (d) => { text += d.toString("latin1"); });
      s.on("error", () => {});
      s.on("close", () => { closedEarly = text === ""; resolve({ text, closedEarly }); });
      s.on("connect", async () => {
        await sleep(2500);
        if (!s.destroyed) s.write(head("GET", "/healthz", { Connection: "close" }));
      });
    });
    assert.equal(r.closedEarly, false, "closed before its first request");
    assert.deepEqual(statuses(r.text), [200], r.text);
  });
});

// Pids of the server's workers (the children of its parent process).
function workerPids(srv) {
  const pids = [];
  for (const p of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[1]) === srv.child.pid && f[0] !== "Z") pids.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

// Resident memory of a process, in bytes.
function rss(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB/m);
  return Number(m[1]) * 1024;
}

// ---- WebSocket PINGs within the send budget ----------------------------------

// A raw WebSocket to /socket.io/ that has read its 101 and open packet.
async function wsRaw(port) {
  const s = net.connect(port, "127.0.0.1");
  s.on("error", () => {});
  await new Promise((r) => s.on("connect", r));
  s.write(head("GET", "/socket.io/?EIO=4&transport=websocket", {
    Upgrade: "websocket", Connection: "Upgrade",
    "Sec-WebSocket-Key": crypto.randomBytes(16).toString("base64"), "Sec-WebSocket-Version": 13,
  }));
  let got = Buffer.alloc(0);
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("no 101 and open packet")), 5000 * SLOW);
    const on = (d) => {
      got = Buffer.concat([got, d]);
      const end = got.indexOf("\r\n\r\n");
      if (end !== -1 && got.length > end + 4 + 2) {
        clearTimeout(t);
        s.off("data", on);
        resolve();
      }
    };
    s.on("data", on);
  });
  assert.match(got.toString("latin1"), /^HTTP\/1\.1 101 /);
  return s;
}

// count masked PING frames of 125 bytes each.
function pings(count) {
  const payload = Buffer.alloc(125, 0x70);
  const mask = crypto.randomBytes(4);
  const frame = Buffer.alloc(2 + 4 + 125);
  frame[0] = 0x89;
  frame[1] = 0x80 | 125;
  mask.copy(frame, 2);
  for (let i = 0; i < 125; i++) frame[6 + i] = payload[i] ^ mask[i % 4];
  return Buffer.concat(Array(count).fill(frame));
}

describe("WebSocket PINGs from a client that never reads", () => {
  const ctx = server({ workers: 1 });

  test("closed once the PONGs waiting pass SIO_MAX_BUFFER (4 MiB); the worker's memory comes back", async () => {
    const [pid] = workerPids(ctx.srv);
    assert.ok(pid, "no worker");
    const s = await wsRaw(ctx.srv.port);
    s.pause();
    await sleep(200);
    const base = rss(pid);

    let closed = false;
    const gone = new Promise((r) => s.on("close", () => { closed = true; r(); }));
    const chunk = pings(8000); // 1 MiB
    let sent = 0;
    const limit = 96 * 1024 * 1024;
    while (!closed && sent < limit) {
      const ok = s.write(chunk);
      sent += chunk.length;
      if (!ok) await Promise.race([new Promise((r) => s.once("drain", r)), gone, sleep(3000 * SLOW)]);
    }
    // The server closes the connection (before: never, and 79 MB of PINGs
    // had grown the worker by 250 MB).
    await Promise.race([gone, sleep(5000 * SLOW)]);
    s.destroy();
    assert.ok(closed, `still open after ${sent >> 20} MiB of PINGs; worker at ${rss(pid) >> 20} MiB`);
    assert.ok(sent < limit, "every PING was taken");

    // The memory coming back is a plain build's figure: under ASan the
    // worker's RSS holds ASan's quarantine of freed blocks (up to 256 MiB).
    if (VARIANT !== "asan") {
      await sleep(500);
      const grown = rss(pid) - base;
      assert.ok(grown < 24 * 1024 * 1024, `worker grew by ${grown >> 20} MiB and kept it`);
    }
    // The worker's line can reach the log a moment after the client saw
    // the close (under ASan in one make test run): wait for it.
    await ctx.srv.waitForLog(/websocket: more than 4194304 bytes queued/);
  });
});

// ---- the per-address connection cap -----------------------------------------

// n connections from localAddress that each send a POST head and never
// their body. Resolves { socks, refused(): count closed by the server }.
async function stalled(port, n, localAddress) {
  const socks = [];
  let refused = 0;
  const opened = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect({ port, host: "127.0.0.1", localAddress });
    s.on("error", () => {});
    s.resume();
    s.on("close", () => { s.gone = true; refused++; });
    opened.push(new Promise((r) => {
      s.once("connect", () => {
        s.write(head("POST", "/auth/login", { "Content-Type": "application/json", "Content-Length": 1000 }) + "{");
        r();
      });
      s.once("close", r);
    }));
    socks.push(s);
    if (i % 200 === 199) await Promise.all(opened.splice(0));
  }
  await Promise.all(opened);
  return { socks, refused: () => refused, close: () => socks.forEach((s) => s.destroy()) };
}

describe("one address flooding with half-sent requests", () => {
  // One worker: its 4000 request slots (kore.conf) are all there is.
  const ctx = server({ workers: 1, env: { HTTP_BODY_TIMEOUT: "3" } });

  test("4,100 stalled connections from 127.0.0.2: capped at 256, /healthz answers others at once", async () => {
    const flood = await stalled(ctx.srv.port, 4100, "127.0.0.2");
    try {
      // Past the cap connections are refused (before: all kept, every
      // request slot taken, 503 or no answer for everyone else).
      const deadline = Date.now() + 10000 * SLOW;
      while (flood.refused() < 4100 - 256 && Date.now() < deadline) await sleep(100);
      assert.ok(flood.refused() >= 4100 - 256, `${4100 - flood.refused()} connections kept`);

      for (const addr of ["127.0.0.3", "127.0.0.4"]) {
        const h = await healthz(ctx.srv.port, addr);
        assert.equal(h.status, 200, `from ${addr}`);
        assert.ok(h.ms < 1000 * SLOW, `/healthz from ${addr} took ${h.ms} ms`);
      }
      assert.match(ctx.srv.logs(), /connlimit: 127\.0\.0\.2 has 256 connections/);

      // The kept ones go at the body timeout (3 s), freeing the address.
      const end = Date.now() + 10000 * SLOW;
      while (flood.refused() < 4100 && Date.now() < end) await sleep(100);
      assert.equal(flood.refused(), 4100, "stalled bodies not cut by HTTP_BODY_TIMEOUT");
      assert.equal((await healthz(ctx.srv.port, "127.0.0.2")).status, 200);
    } finally {
      flood.close();
    }
  });

  test("TRUSTED_PROXIES (127.0.0.1) are not capped", async () => {
    const many = await stalled(ctx.srv.port, 300, "127.0.0.1");
    try {
      await sleep(500);
      assert.equal(many.refused(), 0);
    } finally {
      many.close();
    }
  });
});

describe("MAX_CONNECTIONS_PER_ADDRESS across workers", () => {
  const ctx = server({ workers: 2, env: { MAX_CONNECTIONS_PER_ADDRESS: "20" } });

  test("20 per address over both workers; closing some lets as many in", async () => {
    const a = await stalled(ctx.srv.port, 50, "127.0.0.5");
    try {
      await sleep(500);
      assert.equal(50 - a.refused(), 20);
      const b = await stalled(ctx.srv.port, 5, "127.0.0.6");
      await sleep(300);
      assert.equal(b.refused(), 0);
      b.close();

      // Free 5 of the 20: 5 more get in, no more.
      a.socks.filter((s) => !s.gone).slice(0, 5).forEach((s) => s.destroy());
      await sleep(300);
      const c = await stalled(ctx.srv.port, 10, "127.0.0.5");
      await sleep(500);
      assert.equal(10 - c.refused(), 5);
      c.close();
    } finally {
      a.close();
    }
  });
});

// A kept-alive connection from 127.0.0.9 with one GET /livez on it:
// answered resolves once its answer came (the connection was accepted).
function keptAlive(port) {
  const sock = net.connect({ port, host: "127.0.0.1", localAddress: "127.0.0.9" });
  sock.on("error", () => {});
  let text = "";
  const answered = new Promise((resolve) => {
    sock.on("data", (d) => {
      text += d.toString("latin1");
      if (/^HTTP\/1\.1 200 /.test(text)) resolve(true);
    });
  });
  sock.once("connect", () => sock.write(head("GET", "/livez")));
  return { sock, answered };
}

const within = (p, ms) => Promise.race([p, sleep(ms, false)]);

describe("WORKER_MAX_CONNECTIONS: what each worker takes", () => {
  // Two workers (one alone keeps Kore's accept lock for good).
  const ctx = server({ workers: 2, env: { WORKER_MAX_CONNECTIONS: "16" } });

  test("2 x 16 connections fill korio; the next waits until one closes, on either worker", async () => {
    const open = [];
    let waiter;
    try {
      // Kept-alive connections until one is not answered: korio is full
      // (the harness's own kept-alive connection may hold a place too).
      for (let i = 0; i < 40 && waiter === undefined; i++) {
        const c = keptAlive(ctx.srv.port);
        if (await within(c.answered, 1000 * SLOW)) open.push(c);
        else waiter = c;
      }
      assert.ok(waiter !== undefined, "40 connections all accepted with 2 workers of 16");
      assert.ok(open.length >= 30 && open.length <= 32, `${open.length} accepted`);

      // Kore's accepts alternate between the workers: closing the first
      // four accepted frees places on both. Each time the waiting
      // connection gets in, and the next one waits again.
      for (let round = 0; round < 4; round++) {
        open.shift().sock.destroy();
        assert.equal(await within(waiter.answered, 5000 * SLOW), true,
          `round ${round}: a place is free and the waiting connection is still not accepted`);
        open.push(waiter);
        waiter = keptAlive(ctx.srv.port);
        assert.equal(await within(waiter.answered, 1000 * SLOW), false, `round ${round}: accepted past the limit`);
      }
    } finally {
      open.forEach((c) => c.sock.destroy());
      waiter?.sock.destroy();
    }
  });
});

describe("a worker that dies with connections counted", () => {
  const ctx = server({ workers: 1, env: { MAX_CONNECTIONS_PER_ADDRESS: "10" }, allowBadLog: true });

  test("its successor takes them out of the count", async () => {
    const a = await stalled(ctx.srv.port, 12, "127.0.0.8");
    try {
      await sleep(500);
      assert.equal(12 - a.refused(), 10);
      const [pid] = workerPids(ctx.srv);
      process.kill(pid, "SIGKILL");
      await ctx.srv.waitForLog(/worker 1 started[^]*worker 1 started/, 10000 * SLOW);
      const deadline = Date.now() + 5000 * SLOW;
      while (a.refused() < 12 && Date.now() < deadline) await sleep(50);
      assert.equal(a.refused(), 12, "connections of the dead worker still open");
    } finally {
      a.close();
    }

    // Before: the dead worker's 10 stayed counted, and the address was
    // refused for good.
    const b = await stalled(ctx.srv.port, 12, "127.0.0.8");
    try {
      await sleep(500);
      assert.equal(12 - b.refused(), 10);
    } finally {
      b.close();
    }
  });
});
