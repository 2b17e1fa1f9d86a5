// REST: /todos and /todos/:id (contract "Todos", "Documents and errors"):
// envelopes, strict types, ownership, the 401 -> 405 -> 404 -> 403 order,
// list semantics and If-Unmodified-Since. Projects are in 13-projects.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { BACKEND, jwtSign, objectIdHex, openStore, restClient, startKorio } from "./harness.mjs";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe(`todos (${BACKEND})`, () => {
  let srv, api, alice, bob, root;

  before(async () => {
    srv = await startKorio({ workers: 2 });
    api = restClient(srv.url);
    [alice, bob, root] = await Promise.all([
      api.signup("alice@example.com"), api.signup("bob@example.com"), api.signup("root@example.com"),
    ]);
    const store = await openStore(srv);
    await store.setAdmin(root.userId);
    await store.close();
  });

  after(async () => {
    await srv?.stop();
  });

  const create = async (user, body) => {
    const r = await api.post("/todos", body, { token: user.token });
    assert.equal(r.status, 201, r.text);
    return r.body.data;
  };

  describe("documents", () => {
    test("create: 201 {data:doc} with _id = id, defaults, owner, dates, no projectId", async () => {
      const r = await api.post("/todos", { title: "Buy milk" }, { token: alice.token });
      assert.equal(r.status, 201);
      assert.match(r.headers.get("content-type"), /application\/json/);
      assert.equal(r.headers.get("access-control-allow-origin"), "*");
      const d = r.body.data;
      assert.deepEqual(Object.keys(r.body), ["data"]);
      assert.deepEqual(Object.keys(d).sort(), ["_id", "completed", "created", "id", "ownerId", "title", "updated"]);
      assert.match(d._id, /^[0-9a-f]{24}$/);
      assert.equal(d.id, d._id);
      assert.equal(d.title, "Buy milk");
      assert.equal(d.completed, false);
      assert.equal(d.ownerId, alice.userId);
      assert.match(d.created, ISO);
      assert.equal(d.updated, d.created);
      assert.ok(!("projectId" in d));
    });

    test("read: 200 {data:doc}, the same document", async () => {
      const d = await create(alice, { title: "read me", completed: true });
      const r = await api.get(`/todos/${d.id}`, { token: alice.token });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { data: d });
      const up = await api.get(`/todos/${d.id.toUpperCase()}`, { token: alice.token });
      assert.equal(up.status, 200);
    });

    test("update: 200 {data:doc}; updated moves, created stays", async () => {
      const d = await create(alice, { title: "old" });
      await new Promise((r) => setTimeout(r, 5));
      const r = await api.patch(`/todos/${d.id}`, { title: "new", completed: true }, { token: alice.token });
      assert.equal(r.status, 200);
      const u = r.body.data;
      assert.equal(u.title, "new");
      assert.equal(u.completed, true);
      assert.equal(u.created, d.created);
      assert.ok(u.updated > d.updated);
      assert.equal(u.ownerId, alice.userId);
      const g = await api.get(`/todos/${d.id}`, { token: alice.token });
      assert.deepEqual(g.body.data, u);
    });

    test("PATCH back a whole document: _id, id, created, updated, __v ignored", async () => {
      const d = await create(alice, { title: "whole" });
      const r = await api.patch(`/todos/${d.id}`, {
        ...d, title: "whole 2", _id: objectIdHex(), id: "x", created: "1999-01-01T00:00:00.000Z",
        updated: "2000-01-01T00:00:00.000Z", __v: 7,
      }, { token: alice.token });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.data._id, d._id);
      assert.equal(r.body.data.title, "whole 2");
      assert.equal(r.body.data.created, d.created);
      assert.ok(!("__v" in r.body.data));
    });

    test("ownerId can't be set or changed (400), and the stored owner stays", async () => {
      let r = await api.post("/todos", { title: "t", ownerId: bob.userId }, { token: alice.token });
      assert.equal(r.status, 400);
      assert.match(r.body.detail, /ownerId/);
      const d = await create(alice, { title: "mine", ownerId: alice.userId });
      assert.equal(d.ownerId, alice.userId);
      r = await api.patch(`/todos/${d.id}`, { ownerId: bob.userId }, { token: alice.token });
      assert.equal(r.status, 400);
      assert.match(r.body.detail, /ownerId/);
      r = await api.get(`/todos/${d.id}`, { token: alice.token });
      assert.equal(r.body.data.ownerId, alice.userId);
    });

    test("delete: 204 with no body; then 404", async () => {
      const d = await create(alice, { title: "bye" });
      const r = await api.del(`/todos/${d.id}`, { token: alice.token });
      assert.equal(r.status, 204);
      assert.equal(r.text, "");
      assert.equal((await api.get(`/todos/${d.id}`, { token: alice.token })).status, 404);
      assert.equal((await api.del(`/todos/${d.id}`, { token: alice.token })).status, 404);
    });

    test("unicode titles round-trip; length counts UTF-16 units like JavaScript", async () => {
      const title = "Ünïcødé ✓ 日本語 עברית 😀 \u{1F600}\u200d";
      const d = await create(alice, { title });
      assert.equal(d.title, title);
      const g = await api.get(`/todos/${d.id}`, { token: alice.token });
      assert.equal(g.body.data.title, title);
      assert.equal((await api.post("/todos", { title: "é".repeat(500) }, { token: alice.token })).status, 201);
      assert.equal((await api.post("/todos", { title: "😀".repeat(250) }, { token: alice.token })).status, 201);
      assert.equal((await api.post("/todos", { title: "😀".repeat(251) }, { token: alice.token })).status, 400);
    });
  });

  describe("strict input", () => {
    let todo;
    before(async () => {
      todo = await create(alice, { title: "strict" });
    });

    test("wrong types, missing or unknown fields, bad lengths: 400 naming the field; nothing written", async () => {
      const cases = [
        [{}, /title/],
        [{ title: 123 }, /title/],
        [{ title: null }, /title/],
        [{ title: "" }, /title/],
        [{ title: "x".repeat(501) }, /title/],
        [{ title: "t", completed: "maybe" }, /completed/],
        [{ title: "t", completed: "true" }, /completed/],
        [{ title: "t", completed: 1 }, /completed/],
        [{ title: "t", completed: null }, /completed/],
        [{ title: ["t"] }, /title/],
        [{ title: { a: 1 } }, /title/],
        [{ title: "t", priority: 3 }, /priority/],
        [{ title: "t", projectId: "nope" }, /projectId/],
        [{ title: "t", projectId: 5 }, /projectId/],
      ];
      const before = (await api.get("/todos?limit=500", { token: alice.token })).body.total;
      for (const [body, re] of cases) {
        const r = await api.post("/todos", body, { token: alice.token });
        assert.equal(r.status, 400, `POST ${JSON.stringify(body)}`);
        assert.equal(r.body.status, 400);
        assert.equal(typeof r.body.title, "string");
        assert.match(r.body.detail, re, JSON.stringify(body));
        if (Object.keys(body).length === 0) continue;
        const p = await api.patch(`/todos/${todo.id}`, body, { token: alice.token });
        assert.equal(p.status, 400, `PATCH ${JSON.stringify(body)}`);
        assert.match(p.body.detail, re);
      }
      const afterTotal = (await api.get("/todos?limit=500", { token: alice.token })).body.total;
      assert.equal(afterTotal, before);
      const g = await api.get(`/todos/${todo.id}`, { token: alice.token });
      assert.deepEqual(g.body.data, todo);
    });
  });

  describe("permissions", () => {
    let mine;
    before(async () => {
      mine = await create(alice, { title: "alice's" });
    });

    test("another user: read, update, delete are 403", async () => {
      let r = await api.get(`/todos/${mine.id}`, { token: bob.token });
      assert.equal(r.status, 403);
      assert.equal(r.body.status, 403);
      r = await api.patch(`/todos/${mine.id}`, { title: "hijack" }, { token: bob.token });
      assert.equal(r.status, 403);
      r = await api.del(`/todos/${mine.id}`, { token: bob.token });
      assert.equal(r.status, 403);
      r = await api.get(`/todos/${mine.id}`, { token: alice.token });
      assert.equal(r.body.data.title, "alice's");
    });

    test("an admin may read, update and delete anyone's todo", async () => {
      const d = await create(alice, { title: "for root" });
      let r = await api.get(`/todos/${d.id}`, { token: root.token });
      assert.equal(r.status, 200);
      r = await api.patch(`/todos/${d.id}`, { completed: true }, { token: root.token });
      assert.equal(r.status, 200);
      assert.equal(r.body.data.ownerId, alice.userId);
      r = await api.del(`/todos/${d.id}`, { token: root.token });
      assert.equal(r.status, 204);
    });

    test("401 comes first: no token or a bad one on every route and method", async () => {
      const routes = [["GET", "/todos"], ["POST", "/todos"], ["GET", `/todos/${mine.id}`],
        ["PATCH", `/todos/${mine.id}`], ["DELETE", `/todos/${mine.id}`], ["PUT", `/todos/${mine.id}`],
        ["POST", `/todos/${mine.id}`], ["PATCH", "/todos"], ["DELETE", "/todos"], ["GET", "/todos/nope"]];
      for (const [m, p] of routes) {
        for (const token of [undefined, "null", "undefined", "bad.token.here"]) {
          const r = await api.req(m, p, { token, body: m === "GET" || m === "DELETE" ? undefined : { title: "x" } });
          assert.equal(r.status, 401, `${m} ${p} ${token}`);
          assert.deepEqual(r.body, { status: 401, title: "Unauthorized" });
        }
      }
    });

    test("405 after auth for methods a resource lacks, before 404", async () => {
      for (const [m, p] of [["PUT", `/todos/${mine.id}`], ["POST", `/todos/${mine.id}`], ["PATCH", "/todos"],
        ["DELETE", "/todos"], ["PUT", "/todos"], ["PUT", "/todos/nope"], ["POST", `/todos/${objectIdHex()}`]]) {
        const r = await api.req(m, p, { token: bob.token, body: m === "DELETE" ? undefined : { title: "x" } });
        assert.equal(r.status, 405, `${m} ${p}`);
        assert.equal(r.body.status, 405);
        assert.ok(r.headers.get("allow"));
      }
      const g = await api.get(`/todos/${mine.id}`, { token: alice.token });
      assert.equal(g.body.data.title, "alice's");
    });

    test("404 (missing or malformed id) before 403", async () => {
      for (const id of [objectIdHex(), "nope", "0123456789abcdef0123456", "0123456789abcdef012345678", "zzzzzzzzzzzzzzzzzzzzzzzz"]) {
        for (const [m, body] of [["GET"], ["PATCH", { title: "x" }], ["DELETE"]]) {
          const r = await api.req(m, `/todos/${id}`, { token: bob.token, body });
          assert.equal(r.status, 404, `${m} ${id}`);
          assert.equal(r.body.status, 404);
        }
      }
      // An unknown field on someone else's todo: 403, not 400.
      const r = await api.patch(`/todos/${mine.id}`, { bogus: 1 }, { token: bob.token });
      assert.equal(r.status, 403);
    });

    test("a valid token for a user that does not exist is 401", async () => {
      const secret = fs.readFileSync(path.join(srv.dataDir, "token_secret"), "utf8").trim();
      const now = Math.floor(Date.now() / 1000);
      const token = jwtSign({ id: objectIdHex(), sid: "s", iat: now, exp: now + 60 }, secret);
      for (const [m, p] of [["GET", "/todos"], ["POST", "/todos"], ["PUT", `/todos/${mine.id}`]]) {
        const r = await api.req(m, p, { token, body: m === "GET" ? undefined : { title: "x" } });
        assert.equal(r.status, 401, `${m} ${p}`);
      }
    });
  });

  describe("list", () => {
    let carol;
    const titles = ["delta", "alpha", "echo", "charlie", "bravo"];
    before(async () => {
      carol = await api.signup("carol@example.com");
      // Apart in time: the default order is by creation date.
      for (const [i, title] of titles.entries()) {
        await create(carol, { title, completed: i % 2 === 0 });
        await new Promise((r) => setTimeout(r, 3));
      }
      await create(bob, { title: "not carol's" });
    });

    const list = (q, user = carol) => api.get(`/todos${q}`, { token: user.token });

    test("the caller's own todos, oldest first: {data, limit:100, more:false, total}, no page", async () => {
      const r = await list("");
      assert.equal(r.status, 200);
      assert.deepEqual(Object.keys(r.body), ["data", "limit", "more", "total"]);
      assert.equal(r.body.limit, 100);
      assert.equal(r.body.more, false);
      assert.equal(r.body.total, 5);
      assert.deepEqual(r.body.data.map((t) => t.title), titles);
      for (const t of r.body.data) {
        assert.equal(t.ownerId, carol.userId);
        assert.equal(t.id, t._id);
      }
      assert.equal((await api.get("/todos/", { token: carol.token })).body.total, 5);
    });

    test("limit and page: more, total, page echoed as the string sent", async () => {
      let r = await list("?limit=2");
      assert.deepEqual(r.body.data.map((t) => t.title), ["delta", "alpha"]);
      assert.equal(r.body.limit, 2);
      assert.equal(r.body.more, true);
      assert.equal(r.body.total, 5);
      assert.ok(!("page" in r.body));
      r = await list("?limit=2&page=2");
      assert.deepEqual(r.body.data.map((t) => t.title), ["echo", "charlie"]);
      assert.equal(r.body.page, "2");
      assert.equal(r.body.more, true);
      r = await list("?page=03&limit=2");
      assert.deepEqual(r.body.data.map((t) => t.title), ["bravo"]);
      assert.equal(r.body.page, "03");
      assert.equal(r.body.more, false);
      r = await list("?page=9&limit=2");
      assert.deepEqual(r.body.data, []);
      assert.equal(r.body.total, 5);
      r = await list("?limit=5");
      assert.equal(r.body.more, false);
      r = await list("?limit=1000");
      assert.equal(r.status, 200);
      assert.equal(r.body.limit, 500);
    });

    test("junk limit or page: 400", async () => {
      for (const q of ["?limit=abc", "?limit=0", "?limit=-1", "?limit=1.5", "?limit=", "?limit=1e2",
        "?page=0", "?page=abc", "?page=-1", "?page=", "?page=1&page=2", "?limit=1&limit=2"]) {
        const r = await list(q);
        assert.equal(r.status, 400, q);
        assert.equal(r.body.status, 400);
      }
    });

    test("sort by field or -field on sortable fields only", async () => {
      let r = await list("?sort=title");
      assert.deepEqual(r.body.data.map((t) => t.title), ["alpha", "bravo", "charlie", "delta", "echo"]);
      r = await list("?sort=-title&limit=2&page=2");
      assert.deepEqual(r.body.data.map((t) => t.title), ["charlie", "bravo"]);
      r = await list("?sort=%2Dcreated");
      assert.deepEqual(r.body.data.map((t) => t.title), [...titles].reverse());
      r = await list("?sort=completed");
      assert.deepEqual(r.body.data.map((t) => t.completed), [false, false, true, true, true]);
      for (const s of ["updated", "ownerId", "projectId", "-updated"])
        assert.equal((await list(`?sort=${s}`)).status, 200, s);
      for (const s of ["bogus", "hash", "-", "", "_id", "title,created", "--title"]) {
        const x = await list(`?sort=${s}`);
        assert.equal(x.status, 400, `sort=${s}`);
      }
    });

    test("filters on query fields, typed: completed=true is the boolean", async () => {
      let r = await list("?completed=true");
      assert.deepEqual(r.body.data.map((t) => t.title), ["delta", "echo", "bravo"]);
      assert.equal(r.body.total, 3);
      r = await list("?completed=false&sort=title");
      assert.deepEqual(r.body.data.map((t) => t.title), ["alpha", "charlie"]);
      for (const q of ["?completed=maybe", "?completed=1", "?completed=", "?projectId=nope", "?completed=true&completed=false"]) {
        const x = await list(q);
        assert.equal(x.status, 400, q);
      }
    });

    test("other keys: 400 \"<key> is not allowed as a query param.\"", async () => {
      for (const [q, key] of [["?title=alpha", "title"], ["?ownerId=" + alice.userId, "ownerId"],
        ["?foo=1", "foo"], ["?title%5B%24in%5D%5B0%5D=alpha", "title"], ["?hash=x", "hash"], ["?_id=x", "_id"]]) {
        const r = await list(q);
        assert.equal(r.status, 400, q);
        assert.equal(r.body.title, `${key} is not allowed as a query param.`);
      }
      const r = await list("?completed%5B%24ne%5D=true");
      assert.equal(r.status, 400);
    });

    test("a bad query is still 401 without a token", async () => {
      const r = await api.get("/todos?foo=1&limit=abc");
      assert.equal(r.status, 401);
    });
  });

  describe("If-Unmodified-Since", () => {
    test("older than updated: 409 {data, error, message}, nothing written", async () => {
      const d = await create(alice, { title: "v1" });
      const older = new Date(Date.parse(d.updated) - 60000);
      for (const headers of [{ "if-unmodified-since": older.toUTCString() },
        { "if-unmodified-since": older.toISOString() }, { "x-unmodified-since-iso": older.toISOString() }]) {
        const r = await api.patch(`/todos/${d.id}`, { title: "v2" }, { token: alice.token, headers });
        assert.equal(r.status, 409, JSON.stringify(headers));
        assert.deepEqual(Object.keys(r.body).sort(), ["data", "error", "message"]);
        assert.equal(r.body.error, "Conflict");
        assert.equal(typeof r.body.message, "string");
        assert.deepEqual(r.body.data, d);
      }
      const body = await api.patch(`/todos/${d.id}`, { title: "v2", _updatedAt: older.toISOString() }, { token: alice.token });
      assert.equal(body.status, 409);
      const g = await api.get(`/todos/${d.id}`, { token: alice.token });
      assert.equal(g.body.data.title, "v1");
    });

    test("newer or equal: the update goes through", async () => {
      let cur = await create(alice, { title: "v1" });
      const headerFor = [
        () => new Date(Date.now() + 60000).toUTCString(),
        () => cur.updated,
        () => new Date(cur.updated).toUTCString(),
      ];
      for (const h of headerFor) {
        const v = h();
        const r = await api.patch(`/todos/${cur.id}`, { title: `v ${v}` }, {
          token: alice.token, headers: { "if-unmodified-since": v },
        });
        assert.equal(r.status, 200, v);
        cur = r.body.data;
      }
      const d = cur;
      const junk = await api.patch(`/todos/${d.id}`, { title: "v3" }, {
        token: alice.token, headers: { "if-unmodified-since": "not a date" },
      });
      assert.equal(junk.status, 200);
    });
  });
});
