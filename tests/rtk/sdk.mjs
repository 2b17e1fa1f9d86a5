// Builds a Terreno app's generated API slice against korio, for
// tests/integ/44-openapi: what `bun run sdk` makes in a Terreno frontend,
// bundled for Node.
//
//   1. @rtk-query/codegen-openapi (pinned in tests/package.json) reads
//      korio's GET /openapi.json with the config @terreno/rtk's README
//      gives apps (CODEGEN_CONFIG below: apiFile "@terreno/rtk", apiImport
//      "emptySplitApi", hooks, tags, flattenArg, ...) and writes
//      openApiSdk.ts, the endpoints injected into emptySplitApi.
//   2. esbuild (pinned) bundles it with the real emptySplitApi of
//      @terreno/rtk 57.4.0: dist/emptyApi.js and dist/authSlice.js from
//      the tarball tests/rtk/build.mjs unpacks (sha512-pinned), with what
//      they import: rtk's own constants, platform, offline files, and the
//      npm packages rtk depends on (@reduxjs/toolkit, react, react-redux,
//      redux-persist, axios, axios-retry, async-mutex, jwt-decode, luxon,
//      qs; pinned in tests/package.json). Four modules that need a phone
//      are stubs (tests/rtk/stubs/): react-native (Platform.OS "ios"),
//      expo-constants (no extra settings), expo-secure-store (an
//      in-memory keychain) and AsyncStorage (unused on a native platform:
//      it throws). Any other import from rtk's files fails the build.
//   3. The bundle also exports what a test needs to run it as an app on
//      the same copies of the libraries: configureStore, react-redux's
//      Provider, React and react-test-renderer.
//
// The bundle is kept under build/openapi/<key>/ (sdk.mjs, with the
// document and the generated openApiSdk.ts next to it); the key hashes
// the document and everything else the bundle is made of, so a second
// run on the same document takes a few milliseconds. Older bundles are
// removed.
//
// Load the bundle after setting process.env.EXPO_PUBLIC_API_URL: rtk's
// constants.js reads its baseUrl from it when the module is evaluated.

import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { PKG_DIR, buildRtk } from "./build.mjs";

const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, "../..");
const testsDir = path.join(root, "tests");
const outRoot = path.join(root, "build/openapi");
const STUBS = {
  "react-native": path.join(here, "stubs/react-native.mjs"),
  "expo-constants": path.join(here, "stubs/expo-constants.mjs"),
  "expo-secure-store": path.join(here, "stubs/expo-secure-store.mjs"),
  "@react-native-async-storage/async-storage": path.join(here, "stubs/async-storage.mjs"),
};
// What rtk's emptyApi.js and authSlice.js (and the rtk files they import)
// may import from npm: rtk's own dependencies, installed.
const ALLOWED = new Set([
  "@reduxjs/toolkit",
  "async-mutex",
  "axios",
  "axios-retry",
  "jwt-decode",
  "luxon",
  "qs",
  "react",
  "react-redux",
  "redux-persist",
]);

// @terreno/rtk's README ("Generating an OpenAPI SDK"), as apps use it;
// schemaFile and outputFile are filled in per build.
export const CODEGEN_CONFIG = {
  apiFile: "@terreno/rtk",
  apiImport: "emptySplitApi",
  argSuffix: "Args",
  exportName: "openapi",
  flattenArg: true,
  hooks: true,
  responseSuffix: "Res",
  tag: true,
};

const sha256 = (data) => crypto.createHash("sha256").update(data).digest("hex");

function recipe() {
  return [
    JSON.stringify(CODEGEN_CONFIG),
    sha256(fs.readFileSync(new URL(import.meta.url))),
    ...Object.values(STUBS).map((f) => sha256(fs.readFileSync(f))),
    sha256(fs.readFileSync(path.join(testsDir, "package-lock.json"))),
    sha256(fs.readFileSync(path.join(PKG_DIR, "dist/emptyApi.js"))),
  ].join("\n");
}

// Resolves to { bundle, dir, doc, source }: the bundle's path, its
// directory, the document it was generated from (parsed) and the text of
// the generated openApiSdk.ts. url: korio's base URL.
export async function buildSdk(url) {
  await buildRtk({ quiet: true });
  if (!fs.existsSync(path.join(PKG_DIR, "dist/emptyApi.js"))) {
    // The realtime bundle is there but its sources are gone: unpack again.
    fs.rmSync(path.join(path.dirname(PKG_DIR), "stamp"), { force: true });
    await buildRtk({ quiet: true });
  }

  const schemaFile = `${url}/openapi.json`;
  const r = await fetch(schemaFile);
  if (r.status !== 200) throw new Error(`sdk: GET ${schemaFile}: ${r.status}`);
  const text = await r.text();
  const key = sha256(`${text}\n${recipe()}`).slice(0, 16);
  const dir = path.join(outRoot, key);
  const bundle = path.join(dir, "sdk.mjs");
  const result = () => ({
    bundle,
    dir,
    doc: JSON.parse(fs.readFileSync(path.join(dir, "openapi.json"), "utf8")),
    source: fs.readFileSync(path.join(dir, "openApiSdk.ts"), "utf8"),
  });
  if (fs.existsSync(bundle)) return result();

  fs.mkdirSync(outRoot, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(outRoot, "tmp-"));
  try {
    await generate(schemaFile, text, tmp);
    await bundleSdk(tmp);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  for (const old of fs.readdirSync(outRoot)) {
    if (old !== key && !old.startsWith("tmp-")) fs.rmSync(path.join(outRoot, old), { recursive: true, force: true });
  }
  return result();
}

// Step 1: what the codegen's command line does with a config file
// (parseConfig, then generateEndpoints for each output), in this process.
async function generate(schemaFile, text, dir) {
  const codegen = await import(path.join(testsDir, "node_modules/@rtk-query/codegen-openapi/lib/index.mjs"));
  fs.writeFileSync(path.join(dir, "openapi.json"), text);
  const config = { ...CODEGEN_CONFIG, schemaFile, outputFile: path.join(dir, "openApiSdk.ts") };
  for (const c of codegen.parseConfig(config)) await codegen.generateEndpoints(c);
}

// Step 2 and 3.
async function bundleSdk(dir) {
  const { build } = await import(path.join(testsDir, "node_modules/esbuild/lib/main.js"));
  const rtk = (f) => JSON.stringify(path.join(PKG_DIR, "dist", f));
  const result = await build({
    stdin: {
      contents: [
        `export * from "./openApiSdk.ts";`,
        `export { emptySplitApi } from "@terreno/rtk";`,
        `export { generateAuthSlice, getAuthToken } from "@terreno/rtk";`,
        `export { configureStore } from "@reduxjs/toolkit";`,
        `export { Provider } from "react-redux";`,
        `export { default as React } from "react";`,
        `export { default as TestRenderer, act } from "react-test-renderer";`,
      ].join("\n"),
      resolveDir: dir,
      sourcefile: "entry.mjs",
      loader: "js",
    },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: path.join(dir, "sdk.mjs"),
    nodePaths: [path.join(testsDir, "node_modules")],
    logLevel: "error",
    metafile: true,
    // CommonJS packages in an ES module bundle require Node's own modules.
    banner: {
      js: [
        "// korio's generated API slice on @terreno/rtk's emptySplitApi, built by tests/rtk/sdk.mjs: do not edit",
        `import { createRequire as __korioRequire } from "node:module";`,
        "const require = __korioRequire(import.meta.url);",
      ].join("\n"),
    },
    plugins: [{
      name: "korio-terreno-rtk",
      setup(b) {
        // What the generated file imports emptySplitApi from: the
        // package's two files that define it, not dist/index.js (which
        // pulls in ai, better-auth, openfeature, ...).
        b.onResolve({ filter: /^@terreno\/rtk$/ }, () => ({ path: "terreno-rtk", namespace: "korio" }));
        b.onLoad({ filter: /.*/, namespace: "korio" }, () => ({
          contents: [
            `export { emptySplitApi } from ${rtk("emptyApi.js")};`,
            `export { generateAuthSlice, getAuthToken } from ${rtk("authSlice.js")};`,
          ].join("\n"),
          resolveDir: PKG_DIR,
          loader: "js",
        }));
        for (const [name, file] of Object.entries(STUBS)) {
          const re = new RegExp(`^${name.replace(/[/.]/g, "\\$&")}$`);
          b.onResolve({ filter: re }, () => ({ path: file }));
        }
        // rtk's files may import only rtk's own dependencies; the
        // packages themselves resolve theirs as usual.
        b.onResolve({ filter: /^[^./]/ }, (args) => {
          if (!args.importer.startsWith(PKG_DIR + path.sep)) return undefined;
          const name = args.path.startsWith("@") ? args.path.split("/").slice(0, 2).join("/") : args.path.split("/")[0];
          if (ALLOWED.has(name)) return undefined;
          return { errors: [{ text: `sdk: ${args.importer} imports ${args.path}, which is neither allowed nor stubbed` }] };
        });
      },
    }],
  });
  const inputs = Object.keys(result.metafile.inputs);
  for (const f of ["dist/emptyApi.js", "dist/authSlice.js", "dist/constants.js"]) {
    if (!inputs.some((i) => i.endsWith(`build/rtk/package/${f}`))) throw new Error(`sdk: rtk's ${f} not in the bundle`);
  }
  if (!inputs.some((i) => i.endsWith("openApiSdk.ts"))) throw new Error("sdk: the generated slice is not in the bundle");
}
