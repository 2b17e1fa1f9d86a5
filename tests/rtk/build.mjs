// Builds build/rtk/terreno-rtk-realtime.mjs: the realtime half of the real
// @terreno/rtk 57.4.0 (dist/realtime.js: realtimeList, realtimeDocument,
// setRealtimeSocket) bundled for Node, for tests/integ/35-terreno-rtk.
//
// @terreno/rtk is not a dependency in tests/package.json: its dependency
// tree (react-native, expo, better-auth, ai, ...) is large and none of it
// runs on the realtime code path. So, as tests/congo/setup.sh does for
// smartmongo, its tarball alone comes from `npm pack` (npm's cache when
// warm), is checked against the registry's sha512 pinned below and
// unpacked under build/rtk/. esbuild (pinned in tests/package.json)
// bundles dist/realtime.js with what it imports: dist/constants.js, luxon
// (pinned in tests/package.json) and expo-constants, replaced by
// stubs/expo-constants.mjs ({expoConfig: {extra: {}}}: no debug logging,
// as in an app without WEBSOCKETS_DEBUG). Any other module the rtk files
// import makes the build fail, so a stub can never hide code the tests
// rely on. The RTK Query store (@reduxjs/toolkit) and the socket
// (socket.io-client) are not bundled: the tests import them and hand the
// socket to setRealtimeSocket(), as an app does.
//
// Idempotent: when build/rtk/stamp matches the pins, this file, the stub
// and tests/package-lock.json, it does nothing.
//
//   node tests/rtk/build.mjs      (make npm-deps runs it)

import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export const RTK_PACKAGE = "@terreno/rtk";
export const RTK_VERSION = "57.4.0";
const INTEGRITY = "sha512-D6UElQEvE1g0R12orOUYJZiE+ShmHRTCzK+otLlNmvGdA3DcpB+8OvaCiIhR+mAOZJc9iqK1GBXPcpPQZhtJTA==";

const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, "../..");
const testsDir = path.join(root, "tests");
const outDir = path.join(root, "build/rtk");
const pkgDir = path.join(outDir, "package");
export const BUNDLE = path.join(outDir, "terreno-rtk-realtime.mjs");
const STAMP = path.join(outDir, "stamp");
const STUB = path.join(here, "stubs/expo-constants.mjs");

const sha256 = (file) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

function wanted() {
  return [
    `${RTK_PACKAGE}@${RTK_VERSION} ${INTEGRITY}`,
    sha256(new URL(import.meta.url).pathname),
    sha256(STUB),
    sha256(path.join(testsDir, "package-lock.json")),
  ].join("\n");
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status ?? r.signal})`);
  return r.stdout;
}

export async function buildRtk({ quiet = false } = {}) {
  const want = wanted();
  if (fs.existsSync(BUNDLE) && fs.existsSync(STAMP) && fs.readFileSync(STAMP, "utf8") === want) {
    if (!quiet) console.log("rtk: up to date");
    return BUNDLE;
  }
  const esbuildDir = path.join(testsDir, "node_modules/esbuild");
  if (!fs.existsSync(esbuildDir)) throw new Error("rtk: tests/node_modules/esbuild missing: run make npm-deps");

  fs.mkdirSync(outDir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(outDir, "tmp-"));
  try {
    const tgz = run("npm", ["pack", "--silent", "--prefer-offline", "--pack-destination", tmp,
      `${RTK_PACKAGE}@${RTK_VERSION}`]).trim().split("\n").pop();
    const file = path.join(tmp, tgz);
    const got = `sha512-${crypto.createHash("sha512").update(fs.readFileSync(file)).digest("base64")}`;
    if (got !== INTEGRITY) throw new Error(`rtk: ${RTK_PACKAGE}@${RTK_VERSION} integrity mismatch: ${got}`);
    fs.rmSync(pkgDir, { recursive: true, force: true });
    fs.mkdirSync(pkgDir, { recursive: true });
    run("tar", ["xzf", file, "-C", pkgDir, "--strip-components=1"]);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const meta = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8"));
  if (meta.name !== RTK_PACKAGE || meta.version !== RTK_VERSION) {
    throw new Error(`rtk: unpacked ${meta.name}@${meta.version}`);
  }

  const { build } = await import(path.join(esbuildDir, "lib/main.js"));
  const allowed = new Set(["luxon"]);
  const result = await build({
    stdin: {
      contents: [
        `export * from "./dist/realtime.js";`,
        `export const RTK_PACKAGE = ${JSON.stringify(meta.name)};`,
        `export const RTK_VERSION = ${JSON.stringify(meta.version)};`,
      ].join("\n"),
      resolveDir: pkgDir,
      sourcefile: "entry.mjs",
    },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: BUNDLE,
    nodePaths: [path.join(testsDir, "node_modules")],
    logLevel: "error",
    metafile: true,
    banner: { js: `// ${meta.name}@${meta.version} dist/realtime.js for Node, built by tests/rtk/build.mjs: do not edit` },
    plugins: [{
      name: "korio-rtk-stubs",
      setup(b) {
        b.onResolve({ filter: /^expo-constants$/ }, () => ({ path: STUB }));
        // Every other bare import must be one we install (luxon); fail
        // loudly on anything else instead of bundling a stand-in.
        b.onResolve({ filter: /^[^./]/ }, (args) => {
          const name = args.path.startsWith("@") ? args.path.split("/").slice(0, 2).join("/") : args.path.split("/")[0];
          if (allowed.has(name)) return undefined;
          return { errors: [{ text: `rtk: ${args.importer} imports ${args.path}, which is neither installed nor stubbed` }] };
        });
      },
    }],
  });
  // The bundle must hold the realtime code itself, not a stand-in.
  const inputs = Object.keys(result.metafile.inputs);
  for (const f of ["dist/realtime.js", "dist/constants.js"]) {
    if (!inputs.some((i) => i.endsWith(`build/rtk/package/${f}`))) throw new Error(`rtk: ${f} not in the bundle`);
  }
  fs.writeFileSync(STAMP, want);
  if (!quiet) console.log(`rtk: built ${path.relative(root, BUNDLE)} from ${meta.name}@${meta.version}`);
  return BUNDLE;
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  try {
    await buildRtk();
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
