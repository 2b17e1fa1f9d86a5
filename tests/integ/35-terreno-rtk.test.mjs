// The real @terreno/rtk 57.4.0 realtime code (realtimeList,
// realtimeDocument, setRealtimeSocket; see tests/rtk/build.mjs and
// rtk-client.mjs) on real RTK Query stores against korio: todos and
// projects created, updated and deleted by REST calls made outside the
// stores show up in the caches through `sync` events alone, for the owner
// and for a project member; a stranger's caches never change; a filtered
// list changes only for matching todos.
//
// rtk applies every `sync` event of a collection that reaches a socket to
// every list cache of that collection on it, whatever subscription the
// event came for (terreno-realtime.md section 5, "rtk's side"): a filtered
// list and an unfiltered one on one socket would corrupt each other, in
// any app. So each list view of todos lives in its own client (store,
// socket and rtk instance), as separate app screens on separate sockets
// would; document caches sit beside a list that covers the same todos.
//
// After each write every cache must equal what its own REST read returns
// then (lists compared as sets of rows, with their total), and no client
// may have made a request since its caches were first filled.

import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { after, before, describe, test } from "node:test";
import { SLOW, startKorio } from "./harness.mjs";
import { api, signup, sleep, until } from "./rt-util.mjs";
import { rtkClient } from "./rtk-client.mjs";

const T = 10000 * SLOW;
const QUIET = 300 * SLOW;

const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
// A list envelope with its rows in one order; a document as it is.
const canon = (d) => (d && Array.isArray(d.data) ? { ...d, data: [...d.data].sort(byId) } : d);
const ids = (d) => d.data.map((x) => x.id).sort();

describe("@terreno/rtk realtimeList/realtimeDocument against korio", { timeout: 120000 * SLOW }, () => {
  let srv;
  let A; // owner
  let B; // project member
  let C; // stranger
  let P; // A's project, B a member
  let t0; // A's todo in P
  let c0; // C's todo
  const clients = [];
  const caches = []; // {client, user, endpoint, arg}
  const start = new Map(); // client -> requests after the first fill

  const rest = (user, method, p, body) => api(srv, method, p, { token: user.token, body });
  async function ok(r, status) {
    assert.equal(r.status, status, JSON.stringify(r.body));
    return r.body?.data;
  }
  // What the cache's own query returns now, read with plain fetch.
  async function restOf({ user, endpoint, arg }) {
    const qs = arg ? `?${new URLSearchParams(arg)}` : "";
    const path = {
      getTodos: `/todos${qs}`,
      getTodo: `/todos/${arg}`,
      getProjects: `/projects${qs}`,
      getProject: `/projects/${arg}`,
    }[endpoint];
    const r = await rest(user, "GET", path);
    assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
    return endpoint === "getTodos" || endpoint === "getProjects" ? r.body : r.body.data;
  }
  const label = (c) => `${c.client.name} ${c.endpoint}(${JSON.stringify(c.arg) ?? ""})`;

  // Every cache equal to its REST read, without a single new request.
  async function settle(what) {
    const want = await Promise.all(caches.map(restOf));
    const same = (c, i) => isDeepStrictEqual(canon(c.client.data(c.endpoint, c.arg)), canon(want[i]));
    try {
      await until(() => caches.every(same), T, what);
    } catch (e) {
      caches.forEach((c, i) => {
        if (!same(c, i)) {
          assert.deepEqual(canon(c.client.data(c.endpoint, c.arg)), canon(want[i]), `${what}: ${label(c)}`);
        }
      });
      throw e;
    }
    for (const cl of clients) {
      assert.deepEqual(cl.requests.slice(start.get(cl)), [], `${what}: ${cl.name} made no request`);
    }
  }

  async function client(user, name, views) {
    const cl = await rtkClient(srv.url, user.token, { name });
    clients.push(cl);
    for (const [endpoint, arg] of views) {
      await cl.sub(endpoint, arg);
      caches.push({ client: cl, user, endpoint, arg });
    }
    await cl.ready(T);
    start.set(cl, cl.requests.length);
    return cl;
  }

  before(async () => {
    srv = await startKorio({ workers: 2 });
    [A, B, C] = await Promise.all(["owner", "member", "stranger"].map((p) => signup(srv, `rtk-${p}`)));
    P = await ok(await rest(A, "POST", "/projects", { name: "P", members: [B.id] }), 201);
    t0 = await ok(await rest(A, "POST", "/todos", { title: "t0", projectId: P.id }), 201);
    await ok(await rest(A, "POST", "/todos", { title: "a done", completed: true }), 201);
    await ok(await rest(B, "POST", "/todos", { title: "b0" }), 201);
    c0 = await ok(await rest(C, "POST", "/todos", { title: "c0" }), 201);
  });
  after(async () => {
    for (const c of clients) c.close();
    await srv?.stop();
  });

  test("the bundle is @terreno/rtk 57.4.0's realtime module", async () => {
    const { loadRtk } = await import("./rtk-client.mjs");
    const { mod } = await loadRtk();
    assert.equal(mod.RTK_PACKAGE, "@terreno/rtk");
    assert.equal(mod.RTK_VERSION, "57.4.0");
    for (const f of ["realtimeList", "realtimeDocument", "setRealtimeSocket", "getRealtimeSocket"]) {
      assert.equal(typeof mod[f], "function", f);
    }
    assert.match(mod.RTK_REALTIME_DEPRECATION_MESSAGE, /realtimeList, realtimeDocument, and setRealtimeSocket/);
  });

  test("caches follow creates, updates and deletes without a refetch; strangers' caches never change", async () => {
    const open = { completed: false };
    const inP = { projectId: P.id };
    const a1 = await client(A, "owner", [["getTodos", undefined], ["getTodo", t0.id], ["getProjects", undefined],
      ["getProject", P.id]]);
    const a2 = await client(A, "owner, open todos", [["getTodos", open]]);
    const a3 = await client(A, "owner, project P", [["getTodos", inP]]);
    const b1 = await client(B, "member, project P", [["getTodos", inP], ["getTodo", t0.id], ["getProjects", undefined],
      ["getProject", P.id]]);
    const b2 = await client(B, "member, own todos", [["getTodos", undefined]]);
    const c1 = await client(C, "stranger", [["getTodos", undefined], ["getProjects", undefined]]);
    const c2 = await client(C, "stranger, open todos", [["getTodos", open]]);

    // What rtk subscribed: model rooms for unfiltered lists, documents, and
    // queries whose server ids korio answered (scoped to the owner for
    // filters without projectId).
    const sent = (cl, n) => cl.outbound.filter((e) => e.name === n).map((e) => e.args[0]);
    assert.deepEqual(sent(a1, "subscribe:model"), ["todos", "projects"]);
    assert.deepEqual(sent(a1, "subscribe:document"), [{ collection: "todos", id: t0.id }, { collection: "projects", id: P.id }]);
    const hash = (q) => `todos:${JSON.stringify(Object.fromEntries(Object.keys(q).sort().map((k) => [k, q[k]])))}`;
    const replies = (cl) => cl.inbound.filter((e) => e.name === "query:subscribed").map((e) => e.args[0]);
    assert.deepEqual(replies(a2), [{ clientQueryId: hash(open), collection: "todos", queryId: hash({ ...open, ownerId: A.id }) }]);
    assert.deepEqual(replies(b1), [{ clientQueryId: hash(inP), collection: "todos", queryId: hash(inP) }]);
    await settle("first fill");
    const strangerBefore = [c1.data("getTodos", undefined), c1.data("getProjects", undefined), c2.data("getTodos", open)];
    assert.deepEqual(ids(strangerBefore[0]), [c0.id]);

    // Todos: A creates one in P (owner's lists, the open list, both
    // project views) and one done outside P (the owner's full list only).
    const t1 = await ok(await rest(A, "POST", "/todos", { title: "t1", projectId: P.id }), 201);
    await settle("A creates t1 in P");
    assert.ok(ids(a2.data("getTodos", open)).includes(t1.id));
    assert.ok(ids(b1.data("getTodos", inP)).includes(t1.id));
    const t2 = await ok(await rest(A, "POST", "/todos", { title: "t2", completed: true }), 201);
    await settle("A creates t2, completed, outside P");
    assert.ok(ids(a1.data("getTodos", undefined)).includes(t2.id));

    // The member updates the owner's t0: lists and both document caches.
    const t0b = await ok(await rest(B, "PATCH", `/todos/${t0.id}`, { title: "t0, renamed by B" }), 200);
    await settle("B updates t0");
    assert.deepEqual(a1.data("getTodo", t0.id), t0b);
    assert.deepEqual(b1.data("getTodo", t0.id), t0b);

    // t1 leaves the open list, t2 joins it.
    await ok(await rest(A, "PATCH", `/todos/${t1.id}`, { completed: true }), 200);
    await settle("t1 completed");
    assert.ok(!ids(a2.data("getTodos", open)).includes(t1.id));
    await ok(await rest(A, "PATCH", `/todos/${t2.id}`, { completed: false }), 200);
    await settle("t2 reopened");
    assert.ok(ids(a2.data("getTodos", open)).includes(t2.id));

    // The member's own todo in P: the project views and the member's list.
    const t3 = await ok(await rest(B, "POST", "/todos", { title: "t3 by B", projectId: P.id }), 201);
    await settle("B creates t3 in P");
    assert.ok(ids(b2.data("getTodos", undefined)).includes(t3.id));
    assert.ok(ids(a3.data("getTodos", inP)).includes(t3.id));
    assert.ok(!ids(a1.data("getTodos", undefined)).includes(t3.id));

    await ok(await rest(A, "DELETE", `/todos/${t1.id}`), 204);
    await settle("A deletes t1");
    assert.ok(!ids(b1.data("getTodos", inP)).includes(t1.id));

    // Projects: P renamed; Q created with the member, renamed, deleted.
    const Pb = await ok(await rest(A, "PATCH", `/projects/${P.id}`, { name: "P renamed" }), 200);
    await settle("P renamed");
    assert.deepEqual(b1.data("getProject", P.id), Pb);
    const Q = await ok(await rest(A, "POST", "/projects", { name: "Q", members: [B.id] }), 201);
    await settle("A creates Q with B");
    assert.ok(ids(b1.data("getProjects", undefined)).includes(Q.id));
    await ok(await rest(A, "PATCH", `/projects/${Q.id}`, { name: "Q renamed" }), 200);
    await settle("Q renamed");
    await ok(await rest(A, "DELETE", `/projects/${Q.id}`), 204);
    await settle("Q deleted");
    assert.ok(!ids(a1.data("getProjects", undefined)).includes(Q.id));

    // Markers: the member's and the stranger's own writes reach their
    // lists; events come in write order, so anything meant for them earlier
    // has arrived by now.
    const b9 = await ok(await rest(B, "POST", "/todos", { title: "b9" }), 201);
    const c9 = await ok(await rest(C, "POST", "/todos", { title: "c9" }), 201);
    await settle("B and C create their own todos");
    await sleep(QUIET);
    await settle("after a quiet spell");
    assert.ok(ids(b2.data("getTodos", undefined)).includes(b9.id));

    // The stranger's caches changed by c9 alone, through one event each.
    const without = (d) => ({ ...d, data: d.data.filter((x) => x.id !== c9.id), total: d.total - 1 });
    assert.deepEqual(canon(without(c1.data("getTodos", undefined))), canon(strangerBefore[0]));
    assert.deepEqual(c1.data("getProjects", undefined), strangerBefore[1]);
    assert.deepEqual(canon(without(c2.data("getTodos", open))), canon(strangerBefore[2]));
    for (const cl of [c1, c2]) assert.deepEqual(cl.syncs().map((e) => [e.method, e.id]), [["create", c9.id]], cl.name);

    // The open list got exactly the events of matching todos: t1 in and
    // out (a delete without data), t0's update, t2 in.
    assert.deepEqual(a2.syncs().map((e) => [e.method, e.id, "data" in e]), [
      ["create", t1.id, true], ["update", t0.id, true], ["delete", t1.id, false], ["update", t2.id, true],
    ]);

    // Unmounting: rtk unsubscribes (the query by the server's id), and
    // korio sends these sockets nothing more.
    for (const cl of clients) await cl.removeCaches(T);
    assert.deepEqual(sent(a2, "unsubscribe:query"), [{ queryId: replies(a2)[0].queryId }]);
    const counts = clients.map((cl) => cl.syncs().length);
    await ok(await rest(A, "POST", "/todos", { title: "after unmount", projectId: P.id }), 201);
    await ok(await rest(A, "PATCH", `/projects/${P.id}`, { name: "P after unmount" }), 200);
    await ok(await rest(B, "PATCH", `/todos/${t0.id}`, { title: "t0 after unmount" }), 200);
    await sleep(QUIET * 2);
    assert.deepEqual(clients.map((cl) => cl.syncs().length), counts, "no sync after the unsubscribes");
  });
});
