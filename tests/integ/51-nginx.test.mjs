// korio behind nginx with the README's configuration (conf/nginx-korio.conf,
// run by tests/integ/nginx.mjs): the README shows that file as it is, and
// the per-address limits count the client nginx names in X-Forwarded-For,
// not nginx. Clients reach nginx from 127.0.0.2 and 127.0.0.3; nginx
// reaches korio from 127.0.0.1, the default TRUSTED_PROXIES. (The
// Socket.IO suites through nginx: tests/integ/run-proxy.mjs.)

import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { after, describe, test } from "node:test";
import { startKorio, SLOW, VARIANT } from "./harness.mjs";
import { io } from "socket.io-client";
import { NGINX_CONF, startNginx } from "./nginx.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

test("the README's nginx configuration is conf/nginx-korio.conf, verbatim", () => {
  const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
  const conf = fs.readFileSync(NGINX_CONF, "utf8");
  const blocks = [...readme.matchAll(/^```nginx\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  assert.equal(blocks.length, 1, "one nginx block in the README");
  assert.equal(blocks[0], conf);
});

// A request from a given source address, on a connection of its own.
function request(port, from, method, p, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({
      host: "127.0.0.1", port, method, path: p, localAddress: from, agent: false,
      headers: { ...headers, ...(payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}) },
    }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => { text += d; });
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on("error", reject);
    req.end(payload);
  });
}

let seq = 0;
const nobody = () => `nobody-${process.pid}-${seq++}@example.com`;

for (const trusted of [true, false]) {
  describe(`login throttle behind nginx, TRUSTED_PROXIES ${trusted ? "default (nginx)" : "empty"}`, {
    timeout: 60000 * SLOW,
    skip: VARIANT === "asan" && "nginx's configuration and TRUSTED_PROXIES, not memory: the plain run (CI's time)",
  }, () => {
    let srv;
    let px;
    after(async () => {
      await px?.stop();
      await srv?.stop();
    });

    test(trusted
      ? "one client's failed logins throttle it, not another client behind the same nginx"
      : "without nginx trusted, every client behind it is one address", async () => {
      srv = await startKorio({
        workers: 2,
        proxy: false,
        env: {
          LOGIN_FAILS_PER_ADDRESS: "3",
          LOGIN_FAILS_PER_ACCOUNT: "0",
          ...(trusted ? { MAX_CONNECTIONS_PER_ADDRESS: "2" } : { TRUSTED_PROXIES: "" }),
        },
      });
      px = await startNginx(srv.port);
      const login = (from, headers) => request(px.port, from, "POST", "/auth/login",
        { email: nobody(), password: "wrong password" }, headers);

      // Client A (127.0.0.2) fails three times, then is throttled, also
      // when it sends an X-Forwarded-For of its own (nginx replaces it).
      for (let i = 0; i < 3; i++) assert.equal((await login("127.0.0.2")).status, 401);
      const blocked = await login("127.0.0.2");
      assert.equal(blocked.status, 429, blocked.text);
      assert.ok(Number(blocked.headers["retry-after"]) > 0);
      assert.equal((await login("127.0.0.2", { "x-forwarded-for": "198.51.100.7" })).status, 429);

      // Client B (127.0.0.3) is its own address only when korio trusts
      // nginx's X-Forwarded-For.
      const b = await login("127.0.0.3");
      assert.equal(b.status, trusted ? 401 : 429, b.text);
      if (trusted) {
        const ok = await request(px.port, "127.0.0.3", "GET", "/healthz");
        assert.equal(ok.status, 200);
        assert.match(ok.headers.server ?? "", /^nginx/, "answered through nginx");

        // nginx's own connections are not capped (MAX_CONNECTIONS_PER_ADDRESS
        // is 2 here): six WebSockets through it at once.
        const su = await request(px.port, "127.0.0.3", "POST", "/auth/signup",
          { email: nobody(), password: "correct horse battery" });
        assert.equal(su.status, 200, su.text);
        const { token } = JSON.parse(su.text).data;
        const socks = Array.from({ length: 6 }, () => io(px.url, {
          forceNew: true, reconnection: false, timeout: 10000 * SLOW, transports: ["websocket"], auth: { token },
        }));
        try {
          await Promise.all(socks.map((s) => new Promise((resolve, reject) => {
            s.once("connect", resolve);
            s.once("connect_error", reject);
          })));
          assert.ok(socks.every((s) => s.connected));
        } finally {
          for (const s of socks) s.close();
        }
      }
    });
  });
}
