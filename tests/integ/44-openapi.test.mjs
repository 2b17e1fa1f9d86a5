// GET /openapi.json (src/app/http/openapi*.c): the REST contract as an
// OpenAPI 3.0 document in @terreno/api's shape, made from the tables the
// routes run on (rest_routes[] in src/app/http/rest_routes.c).
//
// What is checked:
//   - the answer: JSON, no token needed (a bad one ignored), CORS, an
//     ETag as Terreno's (sha256 of the bytes, 16 hex digits) and 304s;
//   - the document is valid OpenAPI 3.0 (@apidevtools/swagger-parser);
//   - it can't drift from the server: its paths are exactly kore.conf's
//     REST routes (/auth/*, /todos, /projects and their /:id forms: each
//     path reaches one such route, each such route is reached by one
//     path), each path's methods are exactly those the server answers
//     (the others get 405 with an Allow header naming the documented
//     ones), an operation needs a token exactly when the server asks for
//     one, and every answer the server gives in the tests below fits the
//     schema the document gives for its path, method and status (strictly:
//     a property the schema doesn't name fails);
//   - the operationIds are the names @rtk-query/codegen-openapi derives
//     from method and path itself (oazapfts' getOperationName), so a
//     Terreno app's hooks keep their names (useGetTodosQuery...);
//   - a Terreno app's generated SDK works against korio: the codegen,
//     run with @terreno/rtk's own config on korio's document, generates
//     an API slice; it is bundled with the real @terreno/rtk 57.4.0
//     emptySplitApi and generateAuthSlice (tests/rtk/sdk.mjs), and a
//     store made as rtk's README makes it signs up, logs in, and lists,
//     creates, updates and deletes todos and projects through the
//     generated endpoints (dispatching endpoints.X.initiate()), each
//     result equal to a direct REST read; its hooks, rendered with
//     react-test-renderer, read and write korio too.
//
// rtk's base query sends a request without a stored token only for its
// own emailSignUp/emailLogin (and a few others); for any other endpoint it
// logs the app out first. So the app signs up with rtk's emailSignUp, as
// Terreno apps do, and the generated postAuthSignup/postAuthLogin/
// postAuthRefreshToken are run once it holds a token (korio ignores the
// Authorization header on those routes, as Terreno does).

import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { after, before, describe, test } from "node:test";
import SwaggerParser from "@apidevtools/swagger-parser";
// The codegen's own naming (oazapfts is what @rtk-query/codegen-openapi
// names operations with; installed with it).
import { getOperationName } from "oazapfts/generate";
import { SLOW, objectIdHex, restClient, startKorio } from "./harness.mjs";
import { buildSdk } from "../rtk/sdk.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const T = 10000 * SLOW;
const METHODS = ["get", "post", "patch", "delete"];
const REST_ROUTE = /^\^?\/(auth|todos|projects)\b/;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Retries an async check until it passes or ms are up.
async function eventually(fn, ms = T) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(20);
    }
  }
}

// kore.conf's routes, in order: { pattern, handler, match(path) }. A
// pattern starting with "/" is matched exactly, any other is a regular
// expression (Kore's configure_route()).
function koreRoutes() {
  const conf = fs.readFileSync(path.join(root, "kore.conf"), "utf8");
  const routes = [];
  for (const line of conf.split("\n")) {
    const m = line.match(/^\s*route\s+(\S+)\s+(\S+)/);
    if (!m) continue;
    const [, pattern, handler] = m;
    const re = pattern.startsWith("/") ? null : new RegExp(pattern);
    routes.push({ pattern, handler, match: (p) => (re ? re.test(p) : p === pattern) });
  }
  return routes;
}

// A request path for a document path: {id} becomes a fresh ObjectId.
const sample = (p) => p.replace("{id}", objectIdHex());

// A minimal JSON Schema check for the subset the document uses ($ref,
// type, properties, required, items, enum, pattern, minLength, maxLength,
// format date-time, nullable). Objects are strict: a property the schema
// doesn't name is an error, so a field the server adds can't go
// undocumented. Returns the list of errors.
function conform(doc, schema, v, where = "body", errs = []) {
  if (schema.$ref) {
    const name = schema.$ref.replace("#/components/schemas/", "");
    return conform(doc, doc.components.schemas[name], v, `${where}<${name}>`, errs);
  }
  if (v === null) {
    if (!schema.nullable) errs.push(`${where}: null`);
    return errs;
  }
  const type = Array.isArray(v) ? "array" : Number.isInteger(v) ? "integer" : typeof v;
  if (schema.type && schema.type !== type && !(schema.type === "number" && type === "integer")) {
    errs.push(`${where}: ${type}, not ${schema.type}`);
    return errs;
  }
  if (schema.enum && !schema.enum.includes(v)) errs.push(`${where}: ${JSON.stringify(v)} not in the enum`);
  if (type === "string") {
    if (schema.pattern && !new RegExp(schema.pattern).test(v)) errs.push(`${where}: ${v} !~ ${schema.pattern}`);
    if (schema.minLength !== undefined && v.length < schema.minLength) errs.push(`${where}: shorter than minLength`);
    if (schema.maxLength !== undefined && v.length > schema.maxLength) errs.push(`${where}: longer than maxLength`);
    if (schema.format === "date-time" && Number.isNaN(Date.parse(v))) errs.push(`${where}: ${v} is no date-time`);
  }
  if (type === "array" && schema.items) v.forEach((x, i) => conform(doc, schema.items, x, `${where}[${i}]`, errs));
  if (type === "object" && schema.properties) {
    for (const k of schema.required ?? []) if (!(k in v)) errs.push(`${where}: no ${k}`);
    for (const [k, x] of Object.entries(v)) {
      if (!(k in schema.properties)) errs.push(`${where}: ${k} is not documented`);
      else conform(doc, schema.properties[k], x, `${where}.${k}`, errs);
    }
  }
  return errs;
}

describe("GET /openapi.json", { timeout: 180000 * SLOW }, () => {
  let srv;
  let rest;
  let text;
  let doc;
  let user;
  const seen = []; // [docPath, method, response]: checked against the schemas

  before(async () => {
    srv = await startKorio({ workers: 2 });
    rest = restClient(srv.url);
    const r = await fetch(`${srv.url}/openapi.json`);
    assert.equal(r.status, 200);
    text = await r.text();
    doc = JSON.parse(text);
    user = await rest.signup(`oa-${process.pid}-${Date.now()}@example.com`);
  });
  after(async () => {
    await srv?.stop();
  });

  // Every operation: [path, method, operation].
  const ops = () => Object.entries(doc.paths).flatMap(([p, item]) =>
    METHODS.filter((m) => item[m]).map((m) => [p, m, item[m]]));
  // A request; the answers of documented operations are kept for the
  // schema test.
  const call = async (docPath, method, reqPath, opts) => {
    const r = await rest.req(method.toUpperCase(), reqPath, opts);
    if (doc.paths[docPath]?.[method]) seen.push([docPath, method, r]);
    return r;
  };

  test("is JSON, needs no token, has CORS, an ETag and 304s", async () => {
    let r = await fetch(`${srv.url}/openapi.json`, { headers: { authorization: "Bearer not-a-token" } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "application/json");
    assert.equal(r.headers.get("access-control-allow-origin"), "*");
    assert.equal(await r.text(), text, "the same bytes every time, on every worker");
    const etag = r.headers.get("etag");
    const want = `"${crypto.createHash("sha256").update(text).digest("hex").slice(0, 16)}"`;
    assert.equal(etag, want, "Terreno's ETag: the first 16 hex digits of the body's SHA-256");

    for (const inm of [etag, `W/${etag}`, `"x", ${etag}`, "*"]) {
      r = await fetch(`${srv.url}/openapi.json`, { headers: { "if-none-match": inm } });
      assert.equal(r.status, 304, inm);
      assert.equal(await r.text(), "");
    }
    r = await fetch(`${srv.url}/openapi.json`, { headers: { "if-none-match": '"0000000000000000"' } });
    assert.equal(r.status, 200);
    await r.text();

    r = await fetch(`${srv.url}/openapi.json`, { method: "HEAD" });
    assert.equal(r.status, 200);
    assert.equal(await r.text(), "");
    r = await fetch(`${srv.url}/openapi.json`, {
      method: "OPTIONS",
      headers: { origin: "http://app.example", "access-control-request-method": "GET" },
    });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get("access-control-allow-origin"), "*");
    r = await fetch(`${srv.url}/openapi.json`, { method: "POST", body: "{}" });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get("allow"), "GET, HEAD, OPTIONS");
    assert.deepEqual(await r.json(), { status: 405, title: "Method not allowed" });
  });

  test("is a valid OpenAPI 3.0 document", async () => {
    assert.equal(doc.openapi, "3.0.0");
    const version = fs.readFileSync(path.join(root, "src/app/app.h"), "utf8").match(/KORIO_VERSION\s+"([^"]+)"/)[1];
    assert.deepEqual([doc.info.title, doc.info.version], ["korio", version]);
    const api = await SwaggerParser.validate(structuredClone(doc));
    assert.equal(api.openapi, "3.0.0");
    assert.deepEqual(doc.components.securitySchemes.bearerAuth,
      { ...doc.components.securitySchemes.bearerAuth, type: "http", scheme: "bearer", bearerFormat: "JWT" });
    for (const s of ["Todo", "Project", "User", "TodoList", "ProjectList", "APIError", "AuthTokens", "AuthMessage"]) {
      assert.ok(doc.components.schemas[s], s);
    }
  });

  test("its paths are exactly kore.conf's REST routes", () => {
    const routes = koreRoutes();
    const restRoutes = routes.filter((r) => REST_ROUTE.test(r.pattern));
    assert.ok(restRoutes.length >= 8, `REST routes in kore.conf: ${restRoutes.map((r) => r.pattern)}`);
    const reached = new Map();
    for (const p of Object.keys(doc.paths)) {
      // Kore takes the first route that matches.
      const r = routes.find((x) => x.match(sample(p)));
      assert.ok(r, `${p}: no kore.conf route`);
      assert.ok(REST_ROUTE.test(r.pattern), `${p} reaches ${r.pattern} ${r.handler}, not a REST route`);
      assert.ok(!reached.has(r.pattern), `${p} and ${reached.get(r.pattern)} reach the same route ${r.pattern}`);
      reached.set(r.pattern, p);
    }
    for (const r of restRoutes) {
      assert.ok(reached.has(r.pattern), `kore.conf's ${r.pattern} (${r.handler}) is not documented`);
    }
  });

  test("each path's methods are exactly those the server answers", async () => {
    for (const [p, item] of Object.entries(doc.paths)) {
      const reqPath = sample(p);
      const documented = METHODS.filter((m) => item[m]);
      const allow = [...documented.flatMap((m) => (m === "get" ? ["GET", "HEAD"] : [m.toUpperCase()])), "OPTIONS"];
      for (const m of [...METHODS, "put"]) {
        const body = m === "post" || m === "patch" || m === "put" ? {} : undefined;
        const r = await call(p, m, reqPath, { token: user.token, body });
        if (documented.includes(m)) {
          assert.notEqual(r.status, 405, `${m} ${p}: ${r.text}`);
          assert.ok(item[m].responses[r.status], `${m} ${p}: ${r.status} is not documented (${r.text})`);
        } else {
          assert.equal(r.status, 405, `${m} ${p} is not documented: ${r.status} ${r.text}`);
          assert.deepEqual(r.headers.get("allow").split(", ").sort(), allow.sort(), `${m} ${p}: Allow`);
        }
      }
      const r = await fetch(srv.url + reqPath, {
        method: "OPTIONS",
        headers: { origin: "http://app.example", "access-control-request-method": "GET" },
      });
      assert.equal(r.status, 204, `OPTIONS ${p}`);
    }
  });

  test("an operation needs a token exactly when the server asks for one", async () => {
    for (const [p, m, op] of ops()) {
      const needs = (op.security ?? doc.security ?? []).some((s) => "bearerAuth" in s);
      const body = m === "post" || m === "patch" ? {} : undefined;
      if (needs) {
        const r = await call(p, m, sample(p), { body });
        assert.equal(r.status, 401, `${m} ${p} without a token`);
        assert.deepEqual(r.body, { status: 401, title: "Unauthorized" });
        assert.ok(op.responses["401"], `${m} ${p}: 401 documented`);
      } else {
        // The token routes never look at the Authorization header.
        const r = await call(p, m, sample(p), { body, token: "not-a-token" });
        assert.notDeepEqual(r.body, { status: 401, title: "Unauthorized" }, `${m} ${p}`);
      }
    }
  });

  test("its operationIds are the names the codegen derives from method and path", () => {
    const want = {
      "post /auth/signup": "postAuthSignup",
      "post /auth/login": "postAuthLogin",
      "post /auth/refresh_token": "postAuthRefreshToken",
      "get /auth/me": "getAuthMe",
      "patch /auth/me": "patchAuthMe",
      "get /todos/": "getTodos",
      "post /todos/": "postTodos",
      "get /todos/{id}": "getTodosById",
      "patch /todos/{id}": "patchTodosById",
      "delete /todos/{id}": "deleteTodosById",
      "get /projects/": "getProjects",
      "post /projects/": "postProjects",
      "get /projects/{id}": "getProjectsById",
      "patch /projects/{id}": "patchProjectsById",
      "delete /projects/{id}": "deleteProjectsById",
    };
    const got = {};
    for (const [p, m, op] of ops()) {
      got[`${m} ${p}`] = op.operationId;
      // Without an operationId the codegen names it the same way.
      assert.equal(getOperationName(m, p), op.operationId, `${m} ${p}`);
    }
    assert.deepEqual(got, want);
  });

  test("the schemas fit what the server answers", async () => {
    const tok = { token: user.token };
    const su = await call("/auth/signup", "post", "/auth/signup", {
      body: { email: `oa-other-${process.pid}-${Date.now()}@example.com`, password: "correct horse battery" },
    });
    const other = su.body.data;
    await call("/auth/signup", "post", "/auth/signup", { body: { email: user.email, password: "x" } });
    await call("/auth/login", "post", "/auth/login", { body: { email: user.email, password: user.password } });
    await call("/auth/login", "post", "/auth/login", { body: { email: user.email, password: "wrong" } });
    await call("/auth/refresh_token", "post", "/auth/refresh_token", { body: { refreshToken: user.refreshToken } });
    await call("/auth/refresh_token", "post", "/auth/refresh_token", { body: { refreshToken: "junk" } });
    await call("/auth/me", "get", "/auth/me", tok);
    await call("/auth/me", "patch", "/auth/me", { ...tok, body: { email: 42 } });

    const P = (await call("/projects/", "post", "/projects/", { ...tok, body: { name: "P", members: [other.userId] } })).body.data;
    await call("/projects/", "get", "/projects/?sort=-name&page=1&limit=2", tok);
    await call("/projects/{id}", "get", `/projects/${P.id}`, tok);
    await call("/projects/{id}", "patch", `/projects/${P.id}`, { token: other.token, body: { name: "mine" } });
    const t = (await call("/todos/", "post", "/todos/", { ...tok, body: { title: "a", projectId: P.id } })).body.data;
    await call("/todos/", "post", "/todos/", { ...tok, body: { title: "" } });
    const tb = (await call("/todos/", "post", "/todos/", { token: other.token, body: { title: "b" } })).body.data;
    await call("/todos/", "get", `/todos/?projectId=${P.id}&completed=false&sort=-title&page=1`, tok);
    await call("/todos/", "get", "/todos/?limit=junk", tok);
    await call("/todos/{id}", "get", `/todos/${t.id}`, { token: other.token });
    await call("/todos/{id}", "get", `/todos/${tb.id}`, tok);
    await call("/todos/{id}", "patch", `/todos/${t.id}`, {
      ...tok, body: { completed: true }, headers: { "if-unmodified-since": "Thu, 01 Jan 2015 00:00:00 GMT" },
    });
    await call("/todos/{id}", "patch", `/todos/${t.id}`, { ...tok, body: { projectId: null } });
    await call("/todos/{id}", "delete", `/todos/${t.id}`, tok);
    await call("/todos/{id}", "get", `/todos/${t.id}`, tok);
    await call("/projects/{id}", "delete", `/projects/${P.id}`, tok);

    const statuses = new Set();
    for (const [p, m, r] of seen) {
      const res = doc.paths[p][m].responses[r.status];
      assert.ok(res, `${m} ${p}: ${r.status} is not documented (${r.text})`);
      statuses.add(`${m} ${p} ${r.status}`);
      const schema = res.content?.["application/json"]?.schema;
      if (!schema) {
        assert.equal(r.text, "", `${m} ${p} ${r.status}: a body the document doesn't describe`);
        continue;
      }
      // A document goes out as {"data": doc} (x-korio-envelope).
      const body = res["x-korio-envelope"] === "data" ? r.body?.data : r.body;
      if (res["x-korio-envelope"] === "data") assert.deepEqual(Object.keys(r.body), ["data"], `${m} ${p}`);
      assert.deepEqual(conform(doc, schema, body), [], `${m} ${p} ${r.status}: ${r.text}`);
    }
    // The answers above covered these.
    for (const s of ["post /auth/signup 200", "post /auth/signup 400", "post /auth/login 200", "post /auth/login 401",
      "post /auth/refresh_token 200", "post /auth/refresh_token 401", "get /auth/me 200", "patch /auth/me 200",
      "patch /auth/me 400", "get /todos/ 200", "get /todos/ 400", "post /todos/ 201", "post /todos/ 400",
      "get /todos/{id} 403", "get /todos/{id} 404", "patch /todos/{id} 200", "patch /todos/{id} 409",
      "delete /todos/{id} 204", "get /projects/ 200", "post /projects/ 201", "get /projects/{id} 200",
      "patch /projects/{id} 403", "delete /projects/{id} 204"]) {
      assert.ok(statuses.has(s), `not seen: ${s}`);
    }
  });

  describe("an API slice generated from it on @terreno/rtk's emptySplitApi", () => {
    let sdk; // buildSdk()'s result
    let m; // the bundle: the generated slice, rtk, redux, react
    let store;
    let me; // the user the app signed up
    const noise = []; // what rtk logs with console.debug and console.warn
    const { debug, warn } = console;
    // Runs an endpoint once, as a component that unmounts after its first
    // answer: a query's cache is not kept subscribed (a subscribed cache
    // is refetched whenever a write invalidates its tag; one of a todo
    // deleted since would be retried for seconds by rtk's base query).
    const run = async (endpoint, arg) => {
      const sub = store.dispatch(m.openapi.endpoints[endpoint].initiate(arg));
      try {
        return await sub;
      } finally {
        sub.unsubscribe?.();
      }
    };
    // The app's answer, or its error.
    async function ok(endpoint, arg) {
      const r = await run(endpoint, arg);
      assert.equal(r.error, undefined, `${endpoint}(${JSON.stringify(arg)}): ${JSON.stringify(r.error)}`);
      return r.data;
    }
    const read = async (p) => {
      const r = await rest.get(p, { token: me.token });
      assert.equal(r.status, 200, `GET ${p}: ${r.text}`);
      return "more" in r.body ? r.body : r.body.data;
    };

    before(async () => {
      sdk = await buildSdk(srv.url);
      // rtk reads its baseUrl when the bundle loads, and says so.
      process.env.EXPO_PUBLIC_API_URL = srv.url;
      console.debug = (...a) => noise.push(a);
      console.warn = (...a) => noise.push(a);
      m = await import(`${pathToFileURL(sdk.bundle).href}?port=${srv.port}`);
      const { authReducer, middleware } = m.generateAuthSlice(m.openapi);
      store = m.configureStore({
        reducer: { auth: authReducer, [m.openapi.reducerPath]: m.openapi.reducer },
        middleware: (gdm) => gdm({ serializableCheck: false, immutableCheck: false })
          .concat(m.openapi.middleware, ...middleware),
      });
    });
    after(() => {
      // No cache timer may outlive the test.
      store?.dispatch(m.openapi.util.resetApiState());
      console.debug = debug;
      console.warn = warn;
    });

    test("is generated from this document, with the hooks a Terreno app uses", () => {
      assert.deepEqual(sdk.doc, doc);
      assert.match(sdk.source, /import \{ emptySplitApi as api \} from "@terreno\/rtk";/);
      assert.equal(m.openapi.reducerPath, "terreno-rtk", "rtk's emptySplitApi");
      for (const [, method, op] of ops()) {
        const name = op.operationId;
        assert.ok(m.openapi.endpoints[name], `endpoint ${name}`);
        const Name = name[0].toUpperCase() + name.slice(1);
        const hook = method === "get" ? `use${Name}Query` : `use${Name}Mutation`;
        assert.equal(typeof m[hook], "function", `${hook}, exported`);
        if (method === "get") assert.equal(typeof m.openapi[`useLazy${Name}Query`], "function", `useLazy${Name}Query`);
      }
      for (const e of ["emailSignUp", "emailLogin"]) assert.ok(m.openapi.endpoints[e], `rtk's own ${e}`);
    });

    test("signs up with rtk's emailSignUp, then uses the generated auth endpoints", async () => {
      const email = `oa-app-${process.pid}-${Date.now()}@example.com`;
      const password = "correct horse battery";
      const su = await ok("emailSignUp", { email, password });
      me = { email, password, ...su };
      assert.ok(me.token && me.refreshToken && me.userId);
      await eventually(() => assert.equal(store.getState().auth.userId, me.userId, "rtk's login listener"));
      assert.equal(await m.getAuthToken(), me.token, "rtk keeps the token it got");

      assert.deepEqual(await ok("getAuthMe"), await read("/auth/me"));
      const login = await ok("postAuthLogin", { email, password });
      assert.equal(login.userId, me.userId);
      assert.ok(login.token && login.refreshToken);
      const refreshed = await ok("postAuthRefreshToken", { refreshToken: login.refreshToken });
      assert.ok(refreshed.token && refreshed.refreshToken);
      assert.equal(refreshed.userId, undefined);
      const second = await ok("postAuthSignup", { email: `2-${email}`, password });
      assert.notEqual(second.userId, me.userId);

      const changed = await ok("patchAuthMe", { email: `new-${email}` });
      assert.equal(changed.email, `new-${email}`);
      assert.deepEqual(changed, await read("/auth/me"));

      // A wrong password, the way an app sends it: rtk's emailLogin (no
      // retries, no refresh) puts the server's message in auth.error.
      // (A generated endpoint would be retried, and refreshed on its 401.)
      const bad = await run("emailLogin", { email: changed.email, password: "wrong" });
      assert.equal(bad.error.status, 401);
      assert.deepEqual(bad.error.data, { message: "Password or username is incorrect" });
      assert.equal(store.getState().auth.error, "Password or username is incorrect");
      const again = await ok("emailLogin", { email: changed.email, password });
      assert.equal(again.userId, me.userId);
      await eventually(async () => assert.equal(await m.getAuthToken(), again.token));
      me.token = again.token;
    });

    test("lists, creates, updates and deletes todos through the generated endpoints", async () => {
      // A list cache that stays subscribed: its tag is invalidated by
      // each write, and it refetches.
      const live = store.dispatch(m.openapi.endpoints.getTodos.initiate({ sort: "title" }));
      assert.deepEqual((await live).data, await read("/todos/?sort=title"));
      const listed = () => m.openapi.endpoints.getTodos.select({ sort: "title" })(store.getState()).data;

      const a = await ok("postTodos", { title: "b todo" });
      assert.deepEqual(a, await read(`/todos/${a.id}`));
      const b = await ok("postTodos", { title: "a todo", completed: true });
      assert.deepEqual(b, await read(`/todos/${b.id}`));
      await eventually(async () => assert.deepEqual(listed(), await read("/todos/?sort=title")));
      assert.deepEqual(listed().data.map((t) => t.title), ["a todo", "b todo"]);

      assert.deepEqual(await ok("getTodos", {}), await read("/todos/"));
      assert.deepEqual(await ok("getTodos", { completed: true }), await read("/todos/?completed=true"));
      assert.deepEqual(await ok("getTodos", { sort: "-created", limit: 1, page: 2 }),
        await read("/todos/?sort=-created&limit=1&page=2"));
      assert.deepEqual(await ok("getTodosById", a.id), await read(`/todos/${a.id}`));

      const u = await ok("patchTodosById", { id: a.id, body: { completed: true, title: "c todo" } });
      assert.equal(u.title, "c todo");
      assert.deepEqual(u, await read(`/todos/${a.id}`));
      await eventually(async () => assert.deepEqual(listed(), await read("/todos/?sort=title")));

      assert.equal(await ok("deleteTodosById", a.id), null, "204: rtk's base query gives null");
      assert.equal((await rest.get(`/todos/${a.id}`, { token: me.token })).status, 404);
      await eventually(async () => assert.deepEqual(listed(), await read("/todos/?sort=title")));
      assert.deepEqual(listed().data.map((t) => t.id), [b.id]);

      const gone = await run("deleteTodosById", a.id);
      assert.equal(gone.error.status, 404);
      assert.deepEqual(conform(doc, doc.components.schemas.APIError, gone.error.data), []);
      const invalid = await run("postTodos", { title: "" });
      assert.equal(invalid.error.status, 400);
      assert.match(invalid.error.data.detail, /title/);
      live.unsubscribe();
    });

    test("and projects, with a todo in one", async () => {
      const p = await ok("postProjects", { name: "Generated" });
      assert.deepEqual(p, await read(`/projects/${p.id}`));
      assert.deepEqual(p.members, [me.userId]);
      assert.deepEqual(await ok("getProjects", {}), await read("/projects/"));
      assert.deepEqual(await ok("getProjectsById", p.id), await read(`/projects/${p.id}`));
      const t = await ok("postTodos", { title: "in P", projectId: p.id });
      assert.deepEqual(await ok("getTodos", { projectId: p.id }), await read(`/todos/?projectId=${p.id}`));
      const renamed = await ok("patchProjectsById", { id: p.id, body: { name: "Renamed" } });
      assert.deepEqual(renamed, await read(`/projects/${p.id}`));
      const out = await ok("patchTodosById", { id: t.id, body: { projectId: null } });
      assert.equal("projectId" in out, false);
      assert.deepEqual(out, await read(`/todos/${t.id}`));
      assert.equal(await ok("deleteProjectsById", p.id), null);
      assert.equal((await rest.get(`/projects/${p.id}`, { token: me.token })).status, 404);
    });

    test("its hooks, rendered in a React tree, read and write korio", async () => {
      const { React, TestRenderer, Provider } = m;
      const view = {};
      function Todos() {
        view.list = m.useGetTodosQuery({ sort: "title", limit: 50 });
        [view.patch] = m.usePatchTodosByIdMutation();
        view.renders = (view.renders ?? 0) + 1;
        return null;
      }
      // react-test-renderer 19 says it is deprecated, once.
      const { error } = console;
      console.error = (...a) => {
        if (!/react-test-renderer is deprecated/.test(String(a[0]))) error(...a);
      };
      let tree;
      try {
        tree = TestRenderer.create(React.createElement(Provider, { store }, React.createElement(Todos)));
      } finally {
        console.error = error;
      }
      try {
        await eventually(async () => {
          assert.equal(view.list.isSuccess, true, JSON.stringify(view.list.error));
          assert.deepEqual(view.list.data, await read("/todos/?sort=title&limit=50"));
        });
        const first = view.list.data.data[0];
        const r = await view.patch({ id: first.id, body: { title: "zz renamed by a hook" } });
        assert.equal(r.error, undefined, JSON.stringify(r.error));
        assert.deepEqual(r.data, await read(`/todos/${first.id}`));
        // The mutation invalidated the list's tag: the hook refetched.
        await eventually(async () => {
          assert.deepEqual(view.list.data, await read("/todos/?sort=title&limit=50"));
          assert.equal(view.list.data.data.at(-1).title, "zz renamed by a hook");
        });
      } finally {
        tree.unmount();
      }
    });

    test("rtk used korio's URL and always had a token", () => {
      const said = noise.map((a) => String(a[0]));
      assert.ok(said.some((s) => s.startsWith(`Base URL set to ${srv.url}`)), said.join("\n"));
      assert.ok(!said.some((s) => /No token found/.test(s)), said.join("\n"));
    });
  });
});
