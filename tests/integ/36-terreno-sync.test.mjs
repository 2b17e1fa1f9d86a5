// Terreno's realtime protocol (`sync` events) on the wire, with plain
// socket.io-client: ../shared/docs/terreno-realtime.md sections 2 and 3
// (client events, caps, queryIds) and section 8 (korio's mapping: which
// socket gets which event for each REST write, exactly one or none).
//
// Expectations are built from REST answers (ids, documents before and after
// each write), never written out. A socket that must get nothing is checked
// with a marker: every tracked socket also holds document:todos:<M>, and
// after the writes of a step the marker todo M is updated; events follow
// REST write order, so once a socket has the marker's event it has every
// earlier one, and what came before the marker must be exactly what the
// step expects. Sockets that may hold no subscription at all are checked
// after a quiet period instead.
//
// A sync payload is read as the first argument of the event; any trailing
// arguments (a connection-state-recovery offset) are ignored.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { openStore, SLOW, startKorio } from "./harness.mjs";
import { api, connect, signup, sleep, until } from "./rt-util.mjs";
import { owner as sidOwner } from "./sio-util.mjs";

const T = 10000 * SLOW;
const QUIET = 300 * SLOW;
const MODEL = { todos: "Todo", projects: "Project" };

// ---- expectations ------------------------------------------------------------

// Section 3: the collection, ":", the JSON of a copy of the query with its
// top-level keys in JavaScript's default sort (the engine puts array-index
// keys first, as it must).
function queryId(collection, query) {
  const sorted = {};
  for (const k of Object.keys(query).sort()) sorted[k] = query[k];
  return `${collection}:${JSON.stringify(sorted)}`;
}

// updatedFields of section 8: the top-level fields of the new state whose
// value changed, plus `updated` (removed fields are not listed).
function changedFields(before, after) {
  const f = new Set(["updated"]);
  for (const k of Object.keys(after)) if (JSON.stringify(before[k]) !== JSON.stringify(after[k])) f.add(k);
  return [...f].sort();
}

const ev = {
  create: (collection, doc) => ({ model: MODEL[collection], collection, method: "create", id: doc.id, data: doc }),
  update: (collection, before, after) => ({
    model: MODEL[collection],
    collection,
    method: "update",
    id: after.id,
    data: after,
    updatedFields: changedFields(before, after),
  }),
  del: (collection, id) => ({ model: MODEL[collection], collection, method: "delete", id }),
};
// A group of events whose order among themselves is not specified.
const anyOrder = (...events) => ({ anyOrder: events });

// A received sync payload without its timestamp (checked here: epoch
// milliseconds), updatedFields sorted.
function norm(p) {
  assert.ok(p !== null && typeof p === "object" && !Array.isArray(p), `sync payload ${JSON.stringify(p)}`);
  const { timestamp, ...rest } = p;
  assert.ok(Number.isInteger(timestamp) && Math.abs(timestamp - Date.now()) < 10 * 60 * 1000,
    `timestamp in epoch milliseconds: ${JSON.stringify(p)}`);
  if (Array.isArray(rest.updatedFields)) rest.updatedFields = [...rest.updatedFields].sort();
  return rest;
}

const idOf = (e) => `${e.method} ${e.collection}/${e.id}`;

function assertEvents(got, want, what) {
  const actual = got.map(norm);
  const flat = [];
  let i = 0;
  for (const w of want) {
    if (w.anyOrder) {
      const part = actual.slice(i, i + w.anyOrder.length);
      const key = (e) => JSON.stringify(e);
      const sortBy = (l) => [...l].sort((a, b) => key(a).localeCompare(key(b)));
      flat.push(...sortBy(w.anyOrder));
      actual.splice(i, part.length, ...sortBy(part));
      i += w.anyOrder.length;
    } else {
      flat.push(w);
      i++;
    }
  }
  assert.deepEqual(actual, flat,
    `${what}: got [${actual.map(idOf).join(", ")}], want [${flat.map(idOf).join(", ")}]`);
}

// ---- sockets -----------------------------------------------------------------

describe("terreno sync protocol", { timeout: 180000 * SLOW }, () => {
  let srv;
  let A; // owner
  let B; // project member
  let C; // stranger
  let D; // admin
  const sockets = [];

  // A connected socket keeping every event, in order, in s.log.
  async function open(user, label, transports = ["websocket"]) {
    const s = await connect(srv, { token: `Bearer ${user.token}` }, { transports });
    s.label = `${label} (worker ${sidOwner(s.io.engine.id)})`;
    s.log = [];
    s.cp = 0;
    s.onAny((name, ...args) => s.log.push({ name, args }));
    sockets.push(s);
    return s;
  }
  const all = (s, name) => s.log.filter((e) => e.name === name).map((e) => e.args[0]);
  const syncs = (s) => all(s, "sync");
  const since = (s) => s.log.slice(s.cp).filter((e) => e.name === "sync").map((e) => e.args[0]);

  // An event with an ack: section 8 acks {"ok":true} whatever happened. The
  // ack also tells that every earlier event of the socket has been handled.
  async function ack(s, event, ...args) {
    const r = await s.timeout(T).emitWithAck(event, ...args);
    assert.deepEqual(r, { ok: true }, `${event} ${JSON.stringify(args)} ack`);
  }

  // subscribe:query, waiting for its query:subscribed (the room is joined
  // by then). Resolves with the reply.
  async function subQuery(s, payload) {
    const n = all(s, "query:subscribed").length;
    await ack(s, "subscribe:query", payload);
    await until(() => all(s, "query:subscribed").length > n, T, `${s.label}: query:subscribed`);
    assert.equal(all(s, "query:subscribed").length, n + 1, `${s.label}: one reply`);
    return all(s, "query:subscribed")[n];
  }

  const rest = async (user, method, p, body) => api(srv, method, p, { token: user.token, body });
  async function mkTodo(user, body) {
    const r = await rest(user, "POST", "/todos", body);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.data;
  }
  async function mkProject(user, body) {
    const r = await rest(user, "POST", "/projects", body);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.data;
  }
  // PATCH; resolves with [before, after], the REST documents (before read
  // with `reader`'s token just ahead of the write).
  async function patch(user, coll, id, body, reader = user) {
    const b = await rest(reader, "GET", `/${coll}/${id}`);
    assert.equal(b.status, 200, JSON.stringify(b.body));
    const r = await rest(user, "PATCH", `/${coll}/${id}`, body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return [b.body.data, r.body.data];
  }
  async function del(user, coll, id) {
    const r = await rest(user, "DELETE", `/${coll}/${id}`);
    assert.equal(r.status, 204, JSON.stringify(r.body));
  }

  before(async () => {
    // Cap tests send hundreds of events per socket: no rate limit here.
    srv = await startKorio({ workers: 2, env: { RATE_LIMIT_RATE: "100000", RATE_LIMIT_BURST: "100000" } });
    [A, B, C, D] = await Promise.all(["owner", "member", "stranger", "admin"].map((p) => signup(srv, `sync-${p}`)));
    const store = await openStore(srv);
    await store.setAdmin(D.id, true);
    await store.close();
  });
  after(async () => {
    for (const s of sockets) s.close();
    await srv?.stop();
  });

  test("every subscribe and unsubscribe event is acked {ok:true}, accepted or refused, and no error event follows", async () => {
    const s = await open(A, "acks");
    const hex = "0123456789abcdef01234567";
    const calls = [
      ["subscribe:model", "todos"], ["subscribe:model", 42], ["subscribe:model", null], ["subscribe:model", "users"],
      ["unsubscribe:model", "todos"], ["unsubscribe:model", ""], ["unsubscribe:model", {}],
      ["subscribe:document", { collection: "todos", id: hex }], ["subscribe:document", { collection: "todos", id: "x" }],
      ["subscribe:document", "todos"], ["unsubscribe:document", { collection: "todos", id: hex }],
      ["unsubscribe:document", null],
      ["subscribe:query", { collection: "todos", query: {} }], ["subscribe:query", { collection: "todos", query: [] }],
      ["subscribe:query", { collection: "projects", query: {} }], ["subscribe:query", null],
      ["unsubscribe:query", { queryId: "todos:{}" }], ["unsubscribe:query", {}], ["unsubscribe:query", 7],
    ];
    for (const [event, payload] of calls) await ack(s, event, payload);
    await until(() => all(s, "query:subscribed").length === 1, T, "the one accepted query's reply");
    await sleep(QUIET);
    assert.deepEqual(all(s, "error"), [], "no error event");
    assert.equal(all(s, "query:subscribed").length, 1);
  });

  test("sync payloads: exact shape, data equal to the REST document, todos and projects", async () => {
    const s = await open(A, "shape");
    await ack(s, "subscribe:model", "todos");
    await ack(s, "subscribe:model", "projects");

    const todo = await mkTodo(A, { title: "shape of a sync" });
    await until(() => syncs(s).length === 1, T, "create");
    const got = (await rest(A, "GET", `/todos/${todo.id}`)).body.data;
    assert.deepEqual(todo, got, "POST and GET agree");
    let e = syncs(s)[0];
    assert.deepEqual(Object.keys(e).sort(), ["collection", "data", "id", "method", "model", "timestamp"]);
    assert.deepEqual(norm(e), ev.create("todos", got));

    const [b4, aft] = await patch(A, "todos", todo.id, { completed: true });
    await until(() => syncs(s).length === 2, T, "update");
    assert.deepEqual(aft, (await rest(A, "GET", `/todos/${todo.id}`)).body.data, "PATCH and GET agree");
    e = syncs(s)[1];
    assert.deepEqual(Object.keys(e).sort(), ["collection", "data", "id", "method", "model", "timestamp", "updatedFields"]);
    assert.deepEqual(norm(e), ev.update("todos", b4, aft));
    assert.ok(e.updatedFields.includes("completed") && !e.updatedFields.includes("title"), JSON.stringify(e));

    await del(A, "todos", todo.id);
    await until(() => syncs(s).length === 3, T, "delete");
    e = syncs(s)[2];
    assert.deepEqual(Object.keys(e).sort(), ["collection", "id", "method", "model", "timestamp"]);
    assert.deepEqual(norm(e), ev.del("todos", todo.id));

    const p = await mkProject(A, { name: "shape project" });
    await until(() => syncs(s).length === 4, T, "project create");
    assert.deepEqual(norm(syncs(s)[3]), ev.create("projects", (await rest(A, "GET", `/projects/${p.id}`)).body.data));
    const [pb, pa] = await patch(A, "projects", p.id, { name: "renamed", members: [A.id, B.id] });
    await until(() => syncs(s).length === 5, T, "project update");
    assert.deepEqual(norm(syncs(s)[4]), ev.update("projects", pb, pa));
    assert.deepEqual(syncs(s)[4].updatedFields.sort(), ["members", "name", "updated"]);
    await del(A, "projects", p.id);
    await until(() => syncs(s).length === 6, T, "project delete");
    assert.deepEqual(norm(syncs(s)[5]), ev.del("projects", p.id));
    await sleep(QUIET);
    assert.equal(syncs(s).length, 6);
  });

  test("query:subscribed: {clientQueryId?, collection, queryId}, queryId per section 3 after section 8's scoping", async () => {
    const s = await open(A, "queryIds");
    const proj = await mkProject(A, { name: "qid", members: [B.id] });
    const scoped = (q) => queryId("todos", { ...q, ownerId: A.id });

    let q = { completed: false };
    assert.deepEqual(await subQuery(s, { collection: "todos", query: q, queryId: queryId("todos", q) }),
      { clientQueryId: queryId("todos", q), collection: "todos", queryId: scoped(q) });
    assert.equal(scoped(q), `todos:{"completed":false,"ownerId":"${A.id}"}`, "the doc's own example");

    // No client id: the key is left out.
    const r = await subQuery(s, { collection: "todos", query: { completed: true } });
    assert.deepEqual(r, { collection: "todos", queryId: scoped({ completed: true }) });
    assert.ok(!("clientQueryId" in r));

    // The client's id is echoed as given, whatever it is.
    assert.deepEqual(await subQuery(s, { collection: "todos", query: {}, queryId: "mine/1" }),
      { clientQueryId: "mine/1", collection: "todos", queryId: scoped({}) });

    // ownerId is the socket's user, whatever the client sent.
    q = { ownerId: B.id, title: "x" };
    assert.deepEqual(await subQuery(s, { collection: "todos", query: q, queryId: queryId("todos", q) }),
      { clientQueryId: queryId("todos", q), collection: "todos", queryId: scoped(q) });

    // A member's projectId query is used unchanged (no ownerId).
    for (const pq of [{ projectId: proj.id }, { projectId: proj.id, completed: false }]) {
      assert.deepEqual(await subQuery(s, { collection: "todos", query: pq, queryId: queryId("todos", pq) }),
        { clientQueryId: queryId("todos", pq), collection: "todos", queryId: queryId("todos", pq) });
    }

    // JavaScript's key order and JSON: index keys first, code-unit order,
    // raw "/" and non-ASCII, escapes, shortest numbers; nested values as sent.
    q = {
      zeta: { b: 1, a: [2, "x"] }, "10": true, "2": "two", "B": 1, "a/b": "é/\u2028", "é": null,
      "ä": 0.30000000000000004, big: 1e21, small: 5e-7, esc: "\"\\\n\t\u0001", neg: -2.5,
    };
    const reply = await subQuery(s, { collection: "todos", query: q, queryId: queryId("todos", q) });
    assert.deepEqual(reply, { clientQueryId: queryId("todos", q), collection: "todos", queryId: scoped(q) });
  });

  // ---- caps and refusals -----------------------------------------------------

  // Proves a model:todos subscription of s is (or is not) in force: A
  // creates a todo, then updates marker todo `m` s holds a document
  // subscription on; s must have the create before the marker, or not.
  async function probeModel(s, user, m, expected) {
    const t = await mkTodo(user, { title: "probe" });
    const [, mk] = await patch(user, "todos", m.id, { title: `mark ${Date.now()}` });
    await until(() => since(s).some((e) => e.id === m.id && e.data?.title === mk.title), T, `${s.label}: marker`);
    const want = expected ? [ev.create("todos", t)] : [];
    assertEvents(since(s).filter((e) => e.id !== m.id), want, s.label);
    s.cp = s.log.length;
  }

  test("subscribe:model: refusals are silent and not counted; the cap of 50 counts accepted calls; unsubscribe lowers it, never below 0", async () => {
    const m = await mkTodo(A, { title: "model marker" });
    const refused = [42, null, "", {}, ["todos"], true, "users", "/todos", "Todos", "todo", "todos ", "projects/"];
    const mk = async (label) => {
      const s = await open(A, label);
      await ack(s, "subscribe:document", { collection: "todos", id: m.id });
      return s;
    };
    const fill = async (s, n) => {
      for (let i = 0; i < n; i++) s.emit("subscribe:model", "projects");
      await ack(s, "unsubscribe:todos"); // the contract's event: a barrier
    };

    // Refused payloads alone: nothing joined.
    const only = await mk("model refusals");
    for (const p of refused) await ack(only, "subscribe:model", p);
    await probeModel(only, A, m, false);

    // 49 accepted, the refusals, then the 50th is still accepted.
    const s49 = await mk("49 + refusals + todos");
    await fill(s49, 49);
    for (const p of refused) await ack(s49, "subscribe:model", p);
    await ack(s49, "subscribe:model", "todos");
    await probeModel(s49, A, m, true);

    // 50 accepted (the same room again counts again): the 51st is ignored.
    const full = await mk("50 + todos");
    await fill(full, 50);
    await ack(full, "subscribe:model", "todos");
    await probeModel(full, A, m, false);

    // An unsubscribe lowers the count even for a room never joined.
    const lowered = await mk("50 - todos + todos");
    await fill(lowered, 50);
    await ack(lowered, "unsubscribe:model", "todos");
    await ack(lowered, "subscribe:model", "todos");
    await probeModel(lowered, A, m, true);

    // A bad unsubscribe payload does not.
    const badUnsub = await mk("50 - bad + todos");
    await fill(badUnsub, 50);
    for (const p of ["", 42, null, {}]) await ack(badUnsub, "unsubscribe:model", p);
    await ack(badUnsub, "subscribe:model", "todos");
    await probeModel(badUnsub, A, m, false);

    // The count never goes below 0.
    const floor = await mk("-3 + 50 + todos");
    for (let i = 0; i < 3; i++) await ack(floor, "unsubscribe:model", "todos");
    await fill(floor, 50);
    await ack(floor, "subscribe:model", "todos");
    await probeModel(floor, A, m, false);
    for (const s of [only, s49, full, lowered, badUnsub, floor]) assert.deepEqual(all(s, "error"), [], s.label);
  });

  test("subscribe:document: refusals (payload, collection, non-24-hex id) are silent and not counted; cap 500", async () => {
    const t = await mkTodo(A, { title: "document target" });
    const hex = (i) => (0x10000000 + i).toString(16).padStart(8, "0") + "0".repeat(16);
    const refused = [
      null, "todos", 42, [], {}, { collection: "todos" }, { id: t.id }, { collection: "todos", id: 42 },
      { collection: "", id: t.id }, { collection: "todos", id: "" }, { collection: 1, id: t.id },
      { collection: "users", id: t.id }, { collection: "/todos", id: t.id }, { collection: "Todos", id: t.id },
      { collection: "todos", id: t.id.slice(1) }, { collection: "todos", id: `${t.id}0` },
      { collection: "todos", id: `${t.id.slice(1)}g` }, { collection: "todos", id: ` ${t.id.slice(1)}` },
      { collection: "todos", id: "zzzzzzzzzzzzzzzzzzzzzzzz" },
    ];
    const fill = async (s, n) => {
      for (let i = 0; i < n; i++) s.emit("subscribe:document", { collection: "todos", id: hex(i) });
      await ack(s, "unsubscribe:todos");
    };
    // Is document:todos:<t> in force? A updates t, then renames markProj,
    // which these sockets follow through model:projects (a document
    // subscription can't be the marker: it would be refused at the cap).
    const markProj = await mkProject(A, { name: "doc marker" });
    const mk = async (label) => {
      const s = await open(A, label);
      await ack(s, "subscribe:model", "projects");
      return s;
    };
    const probe = async (s, expected) => {
      const [b4, aft] = await patch(A, "todos", t.id, { title: `t ${Date.now()}` });
      const [, mp] = await patch(A, "projects", markProj.id, { name: `m ${Date.now()}` });
      await until(() => since(s).some((e) => e.id === markProj.id && e.data?.name === mp.name), T, `${s.label}: marker`);
      assertEvents(since(s).filter((e) => e.collection === "todos"), expected ? [ev.update("todos", b4, aft)] : [], s.label);
      s.cp = s.log.length;
    };

    const s499 = await mk("499 + refusals + t");
    await fill(s499, 499);
    for (const p of refused) await ack(s499, "subscribe:document", p);
    await ack(s499, "subscribe:document", { collection: "todos", id: t.id });
    await probe(s499, true);

    const full = await mk("500 + t");
    await fill(full, 500);
    await ack(full, "subscribe:document", { collection: "todos", id: t.id });
    await probe(full, false);

    const lowered = await mk("500 - never joined + t");
    await fill(lowered, 500);
    for (const p of [null, { collection: "todos", id: "" }, { collection: "", id: hex(1) }, { id: hex(1) }]) {
      await ack(lowered, "unsubscribe:document", p); // not truthy: no change
    }
    await ack(lowered, "subscribe:document", { collection: "todos", id: t.id });
    await probe(lowered, false);
    await ack(lowered, "unsubscribe:document", { collection: "todos", id: hex(9999) }); // never joined
    await ack(lowered, "subscribe:document", { collection: "todos", id: t.id });
    await probe(lowered, true);
  });

  test("subscribe:query: refusals (payload, collection, projects, projectId not a member's) are silent and not counted; cap 100", async () => {
    // C is the stranger to A's project P.
    const P = await mkProject(A, { name: "not C's", members: [B.id] });
    const own = await mkProject(C, { name: "C's own" });
    const refused = [
      null, "todos", 42, [], { query: {} }, { collection: "todos" }, { collection: "todos", query: null },
      { collection: "todos", query: [] }, { collection: "todos", query: [{ completed: false }] },
      { collection: "todos", query: "completed=false" }, { collection: "todos", query: 5 },
      { collection: "", query: {} }, { collection: 7, query: {} }, { collection: "projects", query: {} },
      { collection: "projects", query: { name: "x" } }, { collection: "users", query: {} },
      { collection: "/todos", query: {} }, { collection: "todos", query: { projectId: P.id } },
      { collection: "todos", query: { projectId: P.id, completed: false } },
      { collection: "todos", query: { projectId: "0123456789abcdef0123456" } },
      { collection: "todos", query: { projectId: "not an id" } }, { collection: "todos", query: { projectId: 42 } },
      { collection: "todos", query: { projectId: { $in: [own.id] } } },
      { collection: "todos", query: { projectId: { $exists: false } } }, { collection: "todos", query: { projectId: [own.id] } },
    ];
    const fill = async (s, n) => {
      const before = all(s, "query:subscribed").length;
      for (let i = 0; i < n; i++) s.emit("subscribe:query", { collection: "todos", query: { title: `filler ${i}` } });
      await ack(s, "unsubscribe:todos");
      await until(() => all(s, "query:subscribed").length === before + n, T, `${s.label}: ${n} replies`);
    };
    const probeQ = { completed: false };
    const probe = async (s, expected) => {
      const n = all(s, "query:subscribed").length;
      await ack(s, "subscribe:query", { collection: "todos", query: probeQ, queryId: "probe" });
      // The probe's own reply, or none: a later accepted query is the marker.
      const t = await mkTodo(C, { title: "probe", completed: false });
      await ack(s, "subscribe:model", "projects");
      const [, mp] = await patch(C, "projects", own.id, { name: `m ${Date.now()}` });
      await until(() => since(s).some((e) => e.id === own.id && e.data?.name === mp.name), T, `${s.label}: marker`);
      const replies = all(s, "query:subscribed").slice(n);
      if (expected) {
        assert.deepEqual(replies, [{ clientQueryId: "probe", collection: "todos", queryId: queryId("todos", { ...probeQ, ownerId: C.id }) }]);
      } else {
        assert.deepEqual(replies, [], `${s.label}: no reply`);
      }
      assertEvents(since(s).filter((e) => e.collection === "todos"), expected ? [ev.create("todos", t)] : [], s.label);
      s.cp = s.log.length;
      await ack(s, "unsubscribe:model", "projects");
      if (expected) await ack(s, "unsubscribe:query", { queryId: replies[0].queryId });
    };

    const only = await open(C, "query refusals");
    for (const p of refused) await ack(only, "subscribe:query", p);
    // A's todo in P never reaches C's refused projectId query.
    await mkTodo(A, { title: "in P", projectId: P.id });
    await probe(only, true);
    assert.deepEqual(all(only, "query:subscribed").length, 1, "only the probe was answered");

    const s99 = await open(C, "99 + refusals + probe");
    await fill(s99, 99);
    for (const p of refused) await ack(s99, "subscribe:query", p);
    await probe(s99, true);

    const full = await open(C, "100 + probe");
    await fill(full, 100);
    await probe(full, false);

    const lowered = await open(C, "100 - never joined + probe");
    await fill(lowered, 100);
    for (const p of [null, {}, { queryId: "" }, { queryId: 0 }]) await ack(lowered, "unsubscribe:query", p);
    await probe(lowered, false);
    await ack(lowered, "unsubscribe:query", { queryId: "todos:never-joined" });
    await probe(lowered, true);
    for (const s of [only, s99, full, lowered]) assert.deepEqual(all(s, "error"), [], s.label);
  });

  // ---- routing ---------------------------------------------------------------

  test("routing (section 8): per write and socket exactly one event or none, in REST write order, never through user rooms", async (tc) => {
    // Marker todo M, readable by A (owner), B and C (members of MP), D (admin).
    const MP = await mkProject(A, { name: "marker project", members: [B.id, C.id] });
    let M = await mkTodo(A, { title: "marker", projectId: MP.id });
    // A's project P with member B; t0 is A's todo in it.
    const P = await mkProject(A, { name: "P", members: [B.id] });
    const t0 = await mkTodo(A, { title: "t0", projectId: P.id });
    const docs = new Map([[t0.id, t0]]);
    const open2 = async (user, label, subs, transports) => {
      const s = await open(user, label, transports);
      for (const [event, ...args] of subs) {
        if (event === "subscribe:query") await subQuery(s, args[0]);
        else await ack(s, event, ...args);
      }
      return s;
    };
    const mdoc = ["subscribe:document", { collection: "todos", id: M.id }];
    const model = (c) => ["subscribe:model", c];
    const doc = (c, id) => ["subscribe:document", { collection: c, id }];
    const query = (q) => ["subscribe:query", { collection: "todos", query: q, queryId: queryId("todos", q) }];
    const open_ = { completed: false };
    const inP = { projectId: P.id };

    const S = {
      aModel: await open2(A, "A model:todos", [model("todos"), mdoc]),
      aDoc: await open2(A, "A document:todos:t0", [doc("todos", t0.id), mdoc], ["polling"]),
      aQuery: await open2(A, "A query completed:false", [query(open_), mdoc]),
      aAll: await open2(A, "A model+document+query", [model("todos"), doc("todos", t0.id), query(open_), mdoc,
        ["subscribe:todos"]]),
      aProj: await open2(A, "A model:projects", [model("projects"), mdoc], ["polling", "websocket"]),
      aBoth: await open2(A, "A model:todos+model:projects", [model("todos"), model("projects"), mdoc]),
      bModel: await open2(B, "B model:todos", [model("todos"), mdoc]),
      bDoc: await open2(B, "B document:todos:t0", [doc("todos", t0.id), mdoc]),
      bPQuery: await open2(B, "B query projectId:P", [query(inP), mdoc], ["polling"]),
      bProj: await open2(B, "B model:projects+document:projects:P", [model("projects"), doc("projects", P.id), mdoc]),
      bProjDoc: await open2(B, "B document:projects:P", [doc("projects", P.id), mdoc]),
      bBoth: await open2(B, "B query projectId:P+model:projects", [query(inP), model("projects"), mdoc]),
      cAll: await open2(C, "C (stranger) everything", [model("todos"), model("projects"), doc("todos", t0.id),
        doc("projects", P.id), query({}), mdoc]),
      dAdmin: await open2(D, "D (admin) model:todos+document:t0+query P", [model("todos"), doc("todos", t0.id),
        query(inP), mdoc], ["polling", "websocket"]),
    };
    // No subscriptions at all (the contract's subscribe:todos does not count).
    const aNone = await open2(A, "A without subscriptions", [["subscribe:todos"]]);
    const dNone = await open2(D, "D (admin) without subscriptions", []);
    const workers = new Set(Object.values(S).map((s) => sidOwner(s.io.engine.id)));
    tc.diagnostic(`routing sockets on workers ${[...workers].sort().join(", ")}`);

    let mark = 0;
    const step = async (label, expect) => {
      const [b4, aft] = await patch(A, "todos", M.id, { title: `marker ${++mark}` });
      M = aft;
      const markEv = ev.update("todos", b4, aft);
      const seen = (s) => since(s).some((e) => e.id === M.id && e.data?.title === M.title);
      await until(() => Object.values(S).every(seen), T,
        `${label}: marker on ${Object.values(S).filter((s) => !seen(s)).map((s) => s.label).join(", ")}`);
      for (const [k, s] of Object.entries(S)) {
        assertEvents(since(s), [...(expect[k] ?? []), markEv], `${label}: ${s.label}`);
        s.cp = s.log.length;
      }
    };
    const create = async (user, body) => {
      const t = await mkTodo(user, body);
      docs.set(t.id, t);
      return ev.create("todos", t);
    };
    const update = async (user, id, body) => {
      const [b4, aft] = await patch(user, "todos", id, body, A.id === docs.get(id).ownerId ? A : B);
      assert.deepEqual(b4, docs.get(id));
      docs.set(id, aft);
      return ev.update("todos", b4, aft);
    };
    const remove = async (user, id) => {
      await del(user, "todos", id);
      docs.delete(id);
      return ev.del("todos", id);
    };
    const members = async (ids) => {
      const [b4, aft] = await patch(A, "projects", P.id, { members: ids });
      return ev.update("projects", b4, aft);
    };

    // A creates t1 in P: A's covering sockets, B's project query, the
    // admin's project query; the contract's todo:created still comes.
    let e = await create(A, { title: "t1", projectId: P.id });
    const t1 = e.id;
    await step("create t1 in P", { aModel: [e], aQuery: [e], aAll: [e], aBoth: [e], bPQuery: [e], bBoth: [e], dAdmin: [e] });
    await until(() => all(S.aAll, "todo:created").some((x) => x.id === t1), T, "todo:created alongside");
    assert.deepEqual(all(S.aAll, "todo:created").find((x) => x.id === t1),
      { id: t1, title: "t1", completed: false, ownerId: A.id, projectId: P.id });

    // B (member) creates b1 in P: B's model list (owner B), not A's.
    e = await create(B, { title: "b1", projectId: P.id });
    const b1 = e.id;
    await step("B creates b1 in P", { bModel: [e], bPQuery: [e], bBoth: [e], dAdmin: [e] });

    // B updates A's t1.
    e = await update(B, t1, { title: "t1 by B" });
    await step("B updates t1", { aModel: [e], aQuery: [e], aAll: [e], aBoth: [e], bPQuery: [e], bBoth: [e], dAdmin: [e] });

    // t1 leaves A's completed:false view: that socket gets delete without data.
    e = await update(A, t1, { completed: true });
    const gone = ev.del("todos", t1);
    await step("t1 completed", { aModel: [e], aQuery: [gone], aAll: [e], aBoth: [e], bPQuery: [e], bBoth: [e], dAdmin: [e] });

    // Out of the view before and after: nothing for that socket.
    e = await update(A, t1, { title: "t1 done" });
    await step("t1 renamed, still completed", { aModel: [e], aAll: [e], aBoth: [e], bPQuery: [e], bBoth: [e], dAdmin: [e] });

    // t0 moved out of P: B loses access: delete without data on B's
    // document and project sockets; A's and the admin's see an update
    // (projectId removed: not in updatedFields).
    e = await update(A, t0.id, { projectId: null });
    assert.ok(!("projectId" in e.data));
    assert.deepEqual(e.updatedFields, ["updated"]);
    let lost = ev.del("todos", t0.id);
    await step("t0 out of P", {
      aModel: [e], aDoc: [e], aQuery: [e], aAll: [e], aBoth: [e], bDoc: [lost], bPQuery: [lost], bBoth: [lost], dAdmin: [e],
    });

    e = await update(A, t0.id, { title: "t0 private" });
    await step("t0 updated outside P", { aModel: [e], aDoc: [e], aQuery: [e], aAll: [e], aBoth: [e], dAdmin: [e] });

    // Back into P: B's sockets get an update (covered after only).
    e = await update(A, t0.id, { projectId: P.id });
    assert.ok(e.updatedFields.includes("projectId"));
    await step("t0 back in P", {
      aModel: [e], aDoc: [e], aQuery: [e], aAll: [e], aBoth: [e], bDoc: [e], bPQuery: [e], bBoth: [e], dAdmin: [e],
    });

    // B removed from P: B's project subscriptions get delete without data;
    // nothing for P's todos.
    e = await members([A.id]);
    lost = ev.del("projects", P.id);
    await step("B removed from P", { aProj: [e], aBoth: [e], bProj: [lost], bProjDoc: [lost], bBoth: [lost] });

    // B can no longer read A's todos in P; b1 is still B's own.
    e = await update(A, t1, { title: "t1 unseen by B" });
    await step("t1 updated while B is out", { aModel: [e], aAll: [e], aBoth: [e], dAdmin: [e] });
    const eb = await update(B, b1, { title: "b1 still mine" });
    await step("b1 updated while B is out", { bModel: [eb], bPQuery: [eb], bBoth: [eb], dAdmin: [eb] });

    // B back in P: update (covered after only).
    e = await members([A.id, B.id]);
    await step("B back in P", { aProj: [e], aBoth: [e], bProj: [e], bProjDoc: [e], bBoth: [e] });

    e = await remove(A, t1);
    await step("delete t1", { aModel: [e], aAll: [e], aBoth: [e], bPQuery: [e], bBoth: [e], dAdmin: [e] });

    // Writes back to back: events in REST write order on every socket.
    const seq = [await create(A, { title: "t5" })];
    const t5 = seq[0].id;
    seq.push(await update(A, t5, { completed: true }));
    seq.push(await update(A, t5, { completed: false }));
    seq.push(await update(A, t5, { title: "t5 again" }));
    seq.push(await remove(A, t5));
    const qseq = [seq[0], ev.del("todos", t5), seq[2], seq[3], seq[4]];
    await step("t5 created, updated three times, deleted", { aModel: seq, aQuery: qseq, aAll: seq, aBoth: seq });

    // Deleting P: each of its todos' delete first, then P's own.
    e = await create(A, { title: "t6", projectId: P.id });
    const t6 = e.id;
    await step("create t6 in P", { aModel: [e], aQuery: [e], aAll: [e], aBoth: [e], bPQuery: [e], bBoth: [e], dAdmin: [e] });
    await del(A, "projects", P.id);
    const [d0, d6, db1, dP] = [ev.del("todos", t0.id), ev.del("todos", t6), ev.del("todos", b1), ev.del("projects", P.id)];
    await step("delete P", {
      aModel: [anyOrder(d0, d6)], aDoc: [d0], aQuery: [anyOrder(d0, d6)], aAll: [anyOrder(d0, d6)], aProj: [dP],
      aBoth: [anyOrder(d0, d6), dP], bModel: [db1], bDoc: [d0], bPQuery: [anyOrder(d0, d6, db1)], bProj: [dP],
      bProjDoc: [dP], bBoth: [anyOrder(d0, d6, db1), dP], dAdmin: [anyOrder(d0, d6, db1)],
    });
    assert.equal((await rest(A, "GET", `/todos/${t0.id}`)).status, 404, "P's todos are gone");

    // The stranger's sockets never got anything but the marker; the
    // sockets without subscriptions nothing at all.
    assert.ok(syncs(S.cAll).every((x) => x.id === M.id));
    await sleep(QUIET);
    assert.deepEqual(syncs(aNone), [], "no sync through user:<id>");
    assert.deepEqual(syncs(dNone), [], "no sync through admin/authenticated");
    assert.ok(all(aNone, "todo:created").length > 0, "the contract's events still arrive");
  });

  test("unsubscribe stops delivery; unsubscribe:query leaves the room it names; a subscription is in force once acked or answered", async () => {
    const s = await open(A, "unsubscribe");
    const m = await mkTodo(A, { title: "u marker" });
    const expectNext = async (want, label) => {
      const [, mk] = await patch(A, "todos", m.id, { title: `m ${Date.now()}` });
      await until(() => since(s).some((x) => x.id === m.id && x.data?.title === mk.title), T, `${label}: marker`);
      assertEvents(since(s).filter((x) => x.id !== m.id), want, label);
      s.cp = s.log.length;
    };
    await ack(s, "subscribe:document", { collection: "todos", id: m.id });

    // model: twice subscribed, once unsubscribed: out of the room.
    s.emit("subscribe:model", "todos");
    await ack(s, "subscribe:model", "todos");
    let t = await mkTodo(A, { title: "u1" });
    await expectNext([ev.create("todos", t)], "model subscribed");
    await ack(s, "unsubscribe:model", "todos");
    await mkTodo(A, { title: "u2" });
    await expectNext([], "model unsubscribed");

    // document
    const [, mk0] = await patch(A, "todos", t.id, { title: "u1 x" });
    await expectNext([], "no document subscription yet");
    await ack(s, "subscribe:document", { collection: "todos", id: t.id });
    const [b4, aft] = await patch(A, "todos", t.id, { title: "u1 y" });
    assert.deepEqual(b4, mk0);
    await expectNext([ev.update("todos", b4, aft)], "document subscribed");
    await ack(s, "unsubscribe:document", { collection: "todos", id: t.id });
    await patch(A, "todos", t.id, { title: "u1 z" });
    await expectNext([], "document unsubscribed");

    // query: no ack; the reply alone says the room is joined.
    const q = { completed: false };
    const n = all(s, "query:subscribed").length;
    s.emit("subscribe:query", { collection: "todos", query: q, queryId: queryId("todos", q) });
    await until(() => all(s, "query:subscribed").length > n, T, "query:subscribed");
    const serverId = all(s, "query:subscribed")[n].queryId;
    t = await mkTodo(A, { title: "u3" });
    await expectNext([ev.create("todos", t)], "query subscribed");
    // The client's own id names no room: still subscribed.
    await ack(s, "unsubscribe:query", { queryId: queryId("todos", q) });
    t = await mkTodo(A, { title: "u4" });
    await expectNext([ev.create("todos", t)], "unsubscribed from the client's id");
    await ack(s, "unsubscribe:query", { queryId: serverId });
    await mkTodo(A, { title: "u5" });
    await expectNext([], "unsubscribed from the server's id");
  });

  test("query views follow the matcher (section 6) on the scoped query; another user's matching todo never reaches them", async () => {
    const P = await mkProject(A, { name: "matcher", members: [B.id] });
    const mark = await mkTodo(A, { title: "matcher marker", projectId: P.id });
    const views = {
      looseFalse: { completed: "false" },
      inTitles: { title: { $in: ["alpha", "beta"] } },
      ne: { completed: { $ne: true } },
      or: { $or: [{ title: "alpha" }, { completed: true }] },
      regex: { title: { $regex: "alpha" } },
      gt: { title: { $gt: "b" } },
      notIn: { title: { $nin: ["alpha"] }, completed: false },
      nested: { title: { $not: { $eq: "alpha" } } },
    };
    const S = {};
    for (const [k, q] of Object.entries(views)) {
      S[k] = await open(A, `A query ${JSON.stringify(q)}`);
      await subQuery(S[k], { collection: "todos", query: q });
      await ack(S[k], "subscribe:document", { collection: "todos", id: mark.id });
    }
    // B's view of the same titles is scoped to B: A's todos, in B's
    // project or not, never reach it.
    const bView = await open(B, "B query title $in");
    await subQuery(bView, { collection: "todos", query: views.inTitles });
    await ack(bView, "subscribe:document", { collection: "todos", id: mark.id });

    const made = [];
    for (const body of [
      { title: "alpha" }, { title: "beta", completed: true }, { title: "gamma", projectId: P.id }, { title: "Alpha" },
    ]) made.push(await mkTodo(A, body));
    const [, mk] = await patch(A, "todos", mark.id, { title: "matcher marker 2" });
    const socks = [...Object.values(S), bView];
    await until(() => socks.every((s) => since(s).some((x) => x.id === mark.id && x.data?.title === mk.title)), T, "marker");
    // What each view holds, by title; the expectations are section 6's rules.
    const want = {
      looseFalse: ["alpha", "gamma", "Alpha"],
      inTitles: ["alpha", "beta"],
      ne: ["alpha", "gamma", "Alpha"],
      or: ["alpha", "beta"],
      regex: [],
      gt: ["beta", "gamma"],
      notIn: ["gamma", "Alpha"],
      nested: ["beta", "gamma", "Alpha"],
    };
    for (const [k, titles] of Object.entries(want)) {
      assertEvents(since(S[k]).filter((x) => x.id !== mark.id),
        made.filter((t) => titles.includes(t.title)).map((t) => ev.create("todos", t)), S[k].label);
    }
    assertEvents(since(bView).filter((x) => x.id !== mark.id), [], bView.label);
  });
});
