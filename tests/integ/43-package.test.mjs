// The Debian package (make deb: conf/mkdeb.sh, pkg/). Its environment
// file names every setting korio reads, commented out, with the README's
// defaults, so neither can drift. Then, as root on a machine without korio
// installed: `make deb`, a real `dpkg -i`, the installed unit passes
// `systemd-analyze verify`, the installed binary started as the unit
// starts it (its ExecStart, its Environment= and environment file with
// every default spelled out, an unprivileged user, no new privileges, its
// LimitNOFILE) passes the foundation suite, and `dpkg --purge` leaves
// nothing behind.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { VARIANT, startKorio } from "./harness.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const read = (f) => fs.readFileSync(path.join(root, f), "utf8");

// The settings korio reads: the names its sources pass to getenv() and to
// the helpers that read one (config_*(), rt_env_*()).
function settingsInSources() {
  const names = new Set();
  const walk = (dir) => {
    for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const f = path.join(dir, e.name);
      if (e.isDirectory()) walk(f);
      else if (f.endsWith(".c")) {
        const re = /\b(?:getenv|config_\w+|rt_env_\w+)\(\s*(?:&[\w.]+,\s*)?"([A-Z][A-Z0-9_]+)"/g;
        for (const m of read(f).matchAll(re)) names.add(m[1]);
      }
    }
  };
  walk("src/app");
  return names;
}

// NAME -> value of the "#NAME=value" lines of an environment file.
function commentedSettings(text) {
  const out = new Map();
  for (const m of text.matchAll(/^#([A-Z][A-Z0-9_]*)=(.*)$/gm)) {
    assert.ok(!out.has(m[1]), `${m[1]} twice`);
    out.set(m[1], m[2]);
  }
  return out;
}

describe("environment file (pkg/korio.env, /etc/default/korio)", () => {
  const env = read("pkg/korio.env");
  const settings = commentedSettings(env);

  test("names every setting korio reads, once each, all commented out", () => {
    const code = settingsInSources();
    assert.ok(code.size >= 30, `only ${code.size} settings found in src/app`);
    assert.deepEqual([...settings.keys()].sort(), [...code].sort());
    const live = env.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    assert.deepEqual(live, [], "lines that set something");
  });

  test("every setting is in the README, with the default of its table", () => {
    const readme = read("README.md");
    for (const name of settings.keys()) assert.match(readme, new RegExp(`\`${name}[\`=]`), `${name} not in README.md`);
    // | `NAME` | `default` | ...: the same default; a default that is not
    // a value (unset, number of CPUs, generated) is an empty one. DATA_DIR
    // is the package's: the unit's StateDirectory.
    let rows = 0;
    for (const m of readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| ([^|]+) \|/gm)) {
      if (!settings.has(m[1])) continue;
      rows++;
      const lit = /^`([^`]*)`$/.exec(m[2].trim());
      const want = m[1] === "DATA_DIR" ? "/var/lib/korio" : lit ? lit[1] : "";
      assert.equal(settings.get(m[1]), want, m[1]);
    }
    assert.ok(rows >= 20, `only ${rows} rows of the settings table read`);
  });
});

// Why the package part cannot run here, or null.
function packageSkip() {
  if (VARIANT !== "plain") return "the package holds the plain build";
  if (process.getuid?.() !== 0) return "dpkg -i needs root";
  for (const tool of ["dpkg-deb", "dpkg-shlibdeps", "systemd-analyze", "setpriv", "prlimit"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} is missing (make deps)`;
  }
  const q = spawnSync("dpkg-query", ["-W", "-f=${Status}", "korio"], { encoding: "utf8" });
  if (/installed/.test(q.stdout) && !/not-installed/.test(q.stdout))
    return "a korio package is installed on this machine already: not touching it (dpkg --purge korio to run this)";
  return null;
}

// The [Service] settings of a unit file: NAME -> [values].
function unitService(text) {
  const out = new Map();
  let section = "";
  for (const line of text.split("\n")) {
    const s = /^\[(\w+)\]$/.exec(line);
    if (s) section = s[1];
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (kv && section === "Service") out.set(kv[1], [...(out.get(kv[1]) ?? []), kv[2]]);
  }
  return out;
}

// systemd's EnvironmentFile syntax, as far as ours goes: NAME=value lines.
function envFile(text) {
  const env = {};
  for (const m of text.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/gm)) env[m[1]] = m[2];
  return env;
}

function sh(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: exit ${r.status}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

describe("Debian package", { skip: packageSkip() ?? false }, () => {
  const version = /^#define KORIO_VERSION "(.*)"$/m.exec(read("src/app/app.h"))[1];
  let installed = false;

  before(() => {
    // A make of our own, not one of the make that may be running us.
    const env = { ...process.env };
    for (const k of ["MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"]) delete env[k];
    const made = spawnSync("make", ["-C", root, "--no-print-directory", "deb"], { env, encoding: "utf8" });
    assert.equal(made.status, 0, `make deb:\n${made.stdout}${made.stderr}`);
    assert.match(made.stdout, /systemd-analyze verify korio\.service: ok/);
    const arch = sh("dpkg", ["--print-architecture"]).trim();
    sh("dpkg", ["-i", path.join(root, `build/deb/korio_${version}_${arch}.deb`)]);
    installed = true;
  });

  after(() => {
    if (installed) spawnSync("dpkg", ["--purge", "korio"]);
  });

  test("installs the binary, the unit, the environment file (a conffile); depends on its libraries", () => {
    assert.equal(sh("dpkg-query", ["-W", "-f=${Version}", "korio"]), version);
    const files = sh("dpkg", ["-L", "korio"]).split("\n");
    for (const f of ["/usr/bin/korio", "/lib/systemd/system/korio.service", "/etc/default/korio"])
      assert.ok(files.includes(f), `${f} not in the package`);
    assert.match(sh("dpkg-query", ["-W", "-f=${Conffiles}", "korio"]), /\/etc\/default\/korio [0-9a-f]{32}/);
    assert.equal(fs.statSync("/etc/default/korio").mode & 0o777, 0o600);
    assert.equal(fs.readFileSync("/etc/default/korio", "utf8"), read("pkg/korio.env"));
    const depends = sh("dpkg-query", ["-W", "-f=${Depends}", "korio"]);
    for (const lib of ["libc6", "libjansson4", "libjwt", "libmongoc-1.0-0", "libsqlite3-0", "libssl3", "libunistring"])
      assert.match(depends, new RegExp(`(^|, )${lib.replace(/[.+]/g, "\\$&")}[^,]* \\(>= `), `${lib} in Depends: ${depends}`);
    assert.match(sh("/usr/bin/korio", ["--version"]), new RegExp(`^korio ${version.replace(/\./g, "\\.")} \\(commit ([0-9a-f]{7,}|unknown)\\)$`, "m"));
  });

  test("the unit passes systemd-analyze verify, and is hardened", () => {
    const r = spawnSync("systemd-analyze", ["verify", "/lib/systemd/system/korio.service"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout + r.stderr, "", "systemd-analyze verify has something to say");
    const unit = unitService(fs.readFileSync("/lib/systemd/system/korio.service", "utf8"));
    const want = {
      DynamicUser: "yes",
      ProtectSystem: "strict",
      StateDirectory: "korio",
      NoNewPrivileges: "yes",
      Restart: "on-failure",
      EnvironmentFile: "-/etc/default/korio",
    };
    for (const [k, v] of Object.entries(want)) assert.deepEqual(unit.get(k), [v], k);
    assert.ok(Number(unit.get("LimitNOFILE")?.[0]) >= 100000, "LimitNOFILE for 100k sockets");
    assert.match(unit.get("Environment").join(" "), /\bDATA_DIR=\/var\/lib\/korio\b/);
  });

  // How the unit starts korio, as far as it can be done without systemd:
  // { exe, launch } (launch: as KORIO_LAUNCH, harness.mjs).
  function asTheUnit() {
    const unit = unitService(fs.readFileSync("/lib/systemd/system/korio.service", "utf8"));
    const [exe, ...args] = unit.get("ExecStart")[0].split(/\s+/);
    assert.equal(exe, "/usr/bin/korio");
    // Environment= first, then the environment file, every default in it
    // uncommented (the values it shows must be ones korio takes).
    const env = {};
    for (const line of unit.get("Environment")) Object.assign(env, envFile(line.split(/\s+/).join("\n")));
    const file = unit.get("EnvironmentFile")[0].replace(/^-/, "");
    Object.assign(env, envFile(fs.readFileSync(file, "utf8").replace(/^#([A-Z][A-Z0-9_]*=)/gm, "$1")));
    assert.equal(Object.keys(env).length, settingsInSources().size);
    // DynamicUser: an unprivileged user of its own; here nobody.
    const uid = Number(sh("id", ["-u", "nobody"]));
    const gid = Number(sh("id", ["-g", "nobody"]));
    // LimitNOFILE, as far as this machine's hard limit lets root go.
    const hard = Number(sh("sh", ["-c", "ulimit -Hn"]));
    const nofile = Math.min(Number(unit.get("LimitNOFILE")[0]), hard);
    const launch = {
      prefix: ["setpriv", "--no-new-privs", "--", "prlimit", `--nofile=${nofile}:${nofile}`, "--"],
      args,
      env,
      uid,
      gid,
    };
    return { exe, launch, nofile };
  }

  test("started as the unit starts it, korio and its workers run unprivileged", async () => {
    const { exe, launch, nofile } = asTheUnit();
    const srv = await startKorio({ bin: exe, launch, workers: 2 });
    try {
      const pids = [srv.child.pid];
      for (const p of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
        try {
          const st = fs.readFileSync(`/proc/${p}/stat`, "utf8");
          if (Number(st.slice(st.lastIndexOf(")") + 2).split(" ")[1]) === srv.child.pid) pids.push(Number(p));
        } catch {
          // gone meanwhile
        }
      }
      assert.equal(pids.length, 3, "the parent and two workers");
      for (const pid of pids) {
        const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
        assert.match(status, new RegExp(`^Uid:\\t${launch.uid}\\t${launch.uid}\\t${launch.uid}\\t${launch.uid}$`, "m"));
        assert.match(status, /^NoNewPrivs:\t1$/m);
        assert.match(status, /^CapEff:\t0+$/m);
      }
      // The parent keeps the unit's limit; Kore sets each worker's own.
      assert.match(fs.readFileSync(`/proc/${srv.child.pid}/limits`, "utf8"), new RegExp(`^Max open files +${nofile} +${nofile} `, "m"));
      assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
    } finally {
      await srv.stop();
    }
  });

  test("started as the unit starts it, the installed binary passes the foundation suite", { timeout: 600000 }, () => {
    const { exe, launch } = asTheUnit();
    const testEnv = { ...process.env, KORIO_BIN: exe, KORIO_LAUNCH: JSON.stringify(launch) };
    delete testEnv.NODE_TEST_CONTEXT;
    const r = spawnSync(process.execPath, ["--test", "--test-concurrency=1", path.join(root, "tests/integ/00-foundation.test.mjs")], {
      env: testEnv,
      encoding: "utf8",
      timeout: 540000,
    });
    const out = r.stdout + r.stderr;
    assert.equal(r.status, 0, `foundation suite against ${exe}:\n${out}`);
    assert.match(out, /^# fail 0$/m);
    assert.doesNotMatch(out, /^# pass 0$/m);
  });

  test("dpkg --purge leaves nothing behind", () => {
    sh("dpkg", ["--purge", "korio"]);
    installed = false;
    for (const f of ["/usr/bin/korio", "/lib/systemd/system/korio.service", "/etc/default/korio"])
      assert.ok(!fs.existsSync(f), `${f} is still there`);
    assert.notEqual(spawnSync("dpkg-query", ["-W", "-f=${Status}", "korio"], { encoding: "utf8" }).stdout, "install ok installed");
  });
});
