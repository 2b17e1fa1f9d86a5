// nginx in front of a test server, configured with conf/nginx-korio.conf
// (the README's configuration, the same text): Debian's nginx run as the
// test user in the foreground, with its own prefix, temporary files, pid
// file and error log in a temporary directory, listening on a free
// loopback port.
//
//   const px = await startNginx(upstreamPort or [port, port...], { port });
//   px.url, px.port, px.logs(), await px.stop()
//
// The harness puts one in front of every server it starts when
// KORIO_TEST_PROXY=nginx (tests/integ/run-proxy.mjs sets it).

import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { freePort } from "./harness.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
export const NGINX_CONF = path.join(root, "conf/nginx-korio.conf");

export function nginxBin() {
  for (const p of [process.env.NGINX_BIN, "/usr/sbin/nginx", "/usr/local/sbin/nginx"]) {
    if (p && fs.existsSync(p)) return p;
  }
  throw new Error("nginx is needed (apt-get install nginx; conf/install-deps.sh lists it)");
}


// The README's server configuration with its placeholders filled in.
export function korioConf(listen, upstream) {
  return fs.readFileSync(NGINX_CONF, "utf8")
    .replaceAll("@LISTEN@", listen)
    .replaceAll("@KORIO@", upstream);
}

function mainConf(dir) {
  // As root, nginx would run its workers as nobody, who can't write the
  // temporary directory.
  const user = process.getuid?.() === 0 ? "user root;\n" : "";
  const tmp = (name) => `${name}_temp_path ${path.join(dir, name)};`;
  return `${user}worker_processes 1;
worker_rlimit_nofile 8192;
pid ${path.join(dir, "nginx.pid")};
error_log ${path.join(dir, "error.log")} notice;
events { worker_connections 4096; }
http {
    access_log off;
    ${tmp("client_body")}
    ${tmp("proxy")}
    ${tmp("fastcgi")}
    ${tmp("uwsgi")}
    ${tmp("scgi")}
    include ${path.join(dir, "korio.conf")};
}
`;
}

// upstream: a port, or several (round-robin over them, nginx's default:
// each request and each WebSocket to the next; no sticky sessions).
export async function startNginx(upstream, { port } = {}) {
  const bin = nginxBin();
  port ??= await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "korio-nginx-"));
  let conf;
  if (Array.isArray(upstream)) {
    const servers = upstream.map((p) => `    server 127.0.0.1:${p};\n`).join("");
    conf = `upstream korio_nodes {\n${servers}}\n` + korioConf(`127.0.0.1:${port}`, "korio_nodes");
  } else {
    conf = korioConf(`127.0.0.1:${port}`, `127.0.0.1:${upstream}`);
  }
  fs.writeFileSync(path.join(dir, "korio.conf"), conf);
  fs.writeFileSync(path.join(dir, "nginx.conf"), mainConf(dir));
  const child = spawn(bin, ["-p", dir, "-c", path.join(dir, "nginx.conf"), "-e", path.join(dir, "error.log"),
    "-g", "daemon off;"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => { out += d; });
  child.stderr.on("data", (d) => { out += d; });
  const exited = new Promise((r) => child.on("exit", (code, sig) => r({ code, sig })));
  const logs = () => {
    let log = "";
    try {
      log = fs.readFileSync(path.join(dir, "error.log"), "utf8");
    } catch {
      // not written yet
    }
    return out + log;
  };

  // Ready once it accepts on its port.
  const deadline = Date.now() + 10000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`nginx exited at start:\n${logs()}`);
    }
    const ok = await new Promise((r) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => { s.destroy(); r(true); });
      s.once("error", () => r(false));
    });
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`nginx not listening on ${port} within 10 s:\n${logs()}`);
    }
    await sleep(20);
  }

  const stopOnExit = () => child.kill("SIGKILL");
  process.on("exit", stopOnExit);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    child,
    logs,
    async stop() {
      process.off("exit", stopOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        // SIGTERM: fast shutdown, open connections closed.
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(t);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
