// REST: /projects and /projects/:id (contract "Projects") and the todos
// of a project (contract "Todos": visibility through membership).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { BACKEND, objectIdHex, openStore, restClient, startKorio } from "./harness.mjs";

describe(`projects (${BACKEND})`, () => {
  let srv, api, alice, bob, carol, root;

  before(async () => {
    srv = await startKorio({ workers: 2 });
    api = restClient(srv.url);
    [alice, bob, carol, root] = await Promise.all([
      api.signup("alice@example.com"), api.signup("bob@example.com"),
      api.signup("carol@example.com"), api.signup("root@example.com"),
    ]);
    const store = await openStore(srv);
    await store.setAdmin(root.userId);
    await store.close();
  });

  after(async () => {
    await srv?.stop();
  });

  const mk = async (user, body) => {
    const r = await api.post("/projects", body, { token: user.token });
    assert.equal(r.status, 201, r.text);
    return r.body.data;
  };
  const todo = async (user, body, status = 201) => {
    const r = await api.post("/todos", body, { token: user.token });
    assert.equal(r.status, status, r.text);
    return r.body;
  };

  describe("documents", () => {
    test("create: 201, ownerId the creator, members hold the owner", async () => {
      const r = await api.post("/projects", { name: "Solo" }, { token: alice.token });
      assert.equal(r.status, 201);
      const p = r.body.data;
      assert.deepEqual(Object.keys(p).sort(), ["_id", "created", "id", "members", "name", "ownerId", "updated"]);
      assert.equal(p.id, p._id);
      assert.equal(p.ownerId, alice.userId);
      assert.deepEqual(p.members, [alice.userId]);
    });

    test("members: 24-hex ids, lowercased, deduplicated, the owner added back", async () => {
      const p = await mk(alice, { name: "Team", members: [bob.userId.toUpperCase(), bob.userId] });
      assert.deepEqual([...p.members].sort(), [alice.userId, bob.userId].sort());
      const q = await mk(alice, { name: "Also", members: [alice.userId, carol.userId] });
      assert.deepEqual(q.members, [alice.userId, carol.userId]);
    });

    test("bad bodies: 400 naming the field, nothing written", async () => {
      const before = (await api.get("/projects", { token: alice.token })).body.total;
      for (const [body, re] of [
        [{}, /name/], [{ name: "" }, /name/], [{ name: "x".repeat(201) }, /name/], [{ name: 5 }, /name/],
        [{ name: "p", members: "x" }, /members/], [{ name: "p", members: ["nope"] }, /members/],
        [{ name: "p", members: [42] }, /members/], [{ name: "p", members: null }, /members/],
        [{ name: "p", ownerId: bob.userId }, /ownerId/], [{ name: "p", color: "red" }, /color/],
      ]) {
        const r = await api.post("/projects", body, { token: alice.token });
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.match(r.body.detail, re);
      }
      assert.equal((await api.post("/projects", { name: "x".repeat(200) }, { token: alice.token })).status, 201);
      assert.equal((await api.get("/projects", { token: alice.token })).body.total, before + 1);
    });
  });

  describe("access", () => {
    let p;
    before(async () => {
      p = await mk(alice, { name: "Shared", members: [bob.userId] });
    });

    test("list: the projects the caller is a member of", async () => {
      const a = await api.get("/projects", { token: alice.token });
      assert.ok(a.body.data.some((x) => x.id === p.id));
      const b = await api.get("/projects", { token: bob.token });
      assert.ok(b.body.data.some((x) => x.id === p.id));
      for (const x of b.body.data) assert.ok(x.members.includes(bob.userId));
      const c = await api.get("/projects", { token: carol.token });
      assert.ok(!c.body.data.some((x) => x.id === p.id));
      assert.equal(c.body.limit, 100);
      assert.equal(c.body.more, false);
    });

    test("list query: no filters; sort on name, created, updated", async () => {
      let r = await api.get("/projects?name=Shared", { token: alice.token });
      assert.equal(r.status, 400);
      assert.equal(r.body.title, "name is not allowed as a query param.");
      r = await api.get("/projects?members=" + alice.userId, { token: alice.token });
      assert.equal(r.status, 400);
      r = await api.get("/projects?sort=name&limit=2", { token: alice.token });
      assert.equal(r.status, 200);
      const names = r.body.data.map((x) => x.name);
      assert.deepEqual(names, [...names].sort());
      assert.equal(r.body.more, true);
      for (const s of ["-created", "updated"])
        assert.equal((await api.get(`/projects?sort=${s}`, { token: alice.token })).status, 200);
      for (const s of ["members", "ownerId", "bogus"])
        assert.equal((await api.get(`/projects?sort=${s}`, { token: alice.token })).status, 400);
    });

    test("read: members and admins; others 403; missing or malformed 404", async () => {
      assert.equal((await api.get(`/projects/${p.id}`, { token: bob.token })).status, 200);
      assert.equal((await api.get(`/projects/${p.id}`, { token: root.token })).status, 200);
      const c = await api.get(`/projects/${p.id}`, { token: carol.token });
      assert.equal(c.status, 403);
      assert.equal(c.body.status, 403);
      for (const id of [objectIdHex(), "nope"])
        assert.equal((await api.get(`/projects/${id}`, { token: carol.token })).status, 404);
    });

    test("no token or a bad one: 401 on every project route", async () => {
      for (const [m, path] of [["GET", "/projects"], ["POST", "/projects"], ["GET", `/projects/${p.id}`],
        ["PATCH", `/projects/${p.id}`], ["DELETE", `/projects/${p.id}`], ["GET", "/projects/nope"]]) {
        for (const token of [undefined, "null", "undefined", "bad.token.here"]) {
          const r = await api.req(m, path, { token, body: m === "POST" || m === "PATCH" ? { name: "x" } : undefined });
          assert.equal(r.status, 401, `${m} ${path} ${token}`);
          assert.deepEqual(r.body, { status: 401, title: "Unauthorized" });
        }
      }
      assert.equal((await api.get(`/projects/${p.id}`, { token: alice.token })).body.data.name, p.name);
    });

    test("401 before 405 before 404 before 403", async () => {
      for (const [m, path] of [["PUT", `/projects/${p.id}`], ["POST", `/projects/${p.id}`],
        ["PATCH", "/projects"], ["DELETE", "/projects"]]) {
        assert.equal((await api.req(m, path, { body: m === "DELETE" ? undefined : {} })).status, 401, `${m} ${path}`);
        const r = await api.req(m, path, { token: carol.token, body: m === "DELETE" ? undefined : {} });
        assert.equal(r.status, 405, `${m} ${path}`);
      }
      assert.equal((await api.patch(`/projects/${objectIdHex()}`, { name: "x" }, { token: carol.token })).status, 404);
      assert.equal((await api.del("/projects/nope", { token: carol.token })).status, 404);
      assert.equal((await api.patch(`/projects/${p.id}`, { bogus: 1 }, { token: carol.token })).status, 403);
    });

    test("update: owner and admins; a member is 403", async () => {
      let r = await api.patch(`/projects/${p.id}`, { name: "By Bob" }, { token: bob.token });
      assert.equal(r.status, 403);
      r = await api.patch(`/projects/${p.id}`, { name: "Renamed" }, { token: alice.token });
      assert.equal(r.status, 200);
      assert.equal(r.body.data.name, "Renamed");
      assert.ok(r.body.data.updated > p.updated || r.body.data.updated === p.updated);
      r = await api.patch(`/projects/${p.id}`, { name: "By root" }, { token: root.token });
      assert.equal(r.status, 200);
      assert.equal(r.body.data.ownerId, alice.userId);
    });

    test("update: the owner is always a member; ownerId can't change; PATCH back works", async () => {
      let r = await api.patch(`/projects/${p.id}`, { members: [carol.userId, bob.userId] }, { token: alice.token });
      assert.equal(r.status, 200);
      assert.deepEqual([...r.body.data.members].sort(), [alice.userId, bob.userId, carol.userId].sort());
      r = await api.patch(`/projects/${p.id}`, { ownerId: bob.userId }, { token: alice.token });
      assert.equal(r.status, 400);
      const g = await api.get(`/projects/${p.id}`, { token: alice.token });
      assert.equal(g.body.data.ownerId, alice.userId);
      r = await api.patch(`/projects/${p.id}`, { ...g.body.data, members: [alice.userId, bob.userId] }, { token: alice.token });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.data.members, [alice.userId, bob.userId]);
    });

    test("If-Unmodified-Since older than updated: 409 with the document", async () => {
      const g = (await api.get(`/projects/${p.id}`, { token: alice.token })).body.data;
      const r = await api.patch(`/projects/${p.id}`, { name: "late" }, {
        token: alice.token, headers: { "if-unmodified-since": "Thu, 01 Jan 2015 00:00:00 GMT" },
      });
      assert.equal(r.status, 409);
      assert.equal(r.body.error, "Conflict");
      assert.deepEqual(r.body.data, g);
    });
  });

  describe("todos in a project", () => {
    let p, q, bt;
    before(async () => {
      p = await mk(alice, { name: "Home", members: [bob.userId] });
      q = await mk(carol, { name: "Carol's" });
      bt = (await todo(bob, { title: "bob in P", projectId: p.id })).data;
    });

    test("a member creates a todo in the project; projectId is set", () => {
      assert.equal(bt.projectId, p.id);
      assert.equal(bt.ownerId, bob.userId);
    });

    test("a non-member is 403, a missing project 400, a malformed id 400; nothing written", async () => {
      const before = (await api.get("/todos", { token: carol.token })).body.total;
      let r = await todo(carol, { title: "intrude", projectId: p.id }, 403);
      assert.equal(r.status, 403);
      r = await todo(carol, { title: "ghost", projectId: objectIdHex() }, 400);
      assert.match(r.detail, /projectId/);
      r = await todo(carol, { title: "bad", projectId: "xyz" }, 400);
      assert.match(r.detail, /projectId/);
      assert.equal((await api.get("/todos", { token: carol.token })).body.total, before);
    });

    test("members read and update a project's todos; only the owner and admins delete", async () => {
      let r = await api.get(`/todos/${bt.id}`, { token: alice.token });
      assert.equal(r.status, 200);
      r = await api.patch(`/todos/${bt.id}`, { completed: true }, { token: alice.token });
      assert.equal(r.status, 200);
      assert.equal(r.body.data.ownerId, bob.userId);
      assert.equal(r.body.data.projectId, p.id);
      r = await api.del(`/todos/${bt.id}`, { token: alice.token });
      assert.equal(r.status, 403);
      assert.equal((await api.get(`/todos/${bt.id}`, { token: carol.token })).status, 403);
      assert.equal((await api.patch(`/todos/${bt.id}`, { title: "x" }, { token: carol.token })).status, 403);
    });

    test("list ?projectId=P: the project's todos for members, 403 for others", async () => {
      const at = (await todo(alice, { title: "alice in P", projectId: p.id })).data;
      let r = await api.get(`/todos?projectId=${p.id}`, { token: alice.token });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.data.map((t) => t.id).sort(), [bt.id, at.id].sort());
      assert.equal(r.body.total, 2);
      r = await api.get(`/todos?projectId=${p.id}&completed=true`, { token: bob.token });
      assert.deepEqual(r.body.data.map((t) => t.id), [bt.id]);
      r = await api.get(`/todos?projectId=${p.id}`, { token: carol.token });
      assert.equal(r.status, 403);
      r = await api.get(`/todos?projectId=${p.id}`, { token: root.token });
      assert.equal(r.status, 200);
      r = await api.get(`/todos?projectId=${objectIdHex()}`, { token: alice.token });
      assert.equal(r.status, 403);
      r = await api.get("/todos?projectId=nope", { token: alice.token });
      assert.equal(r.status, 400);
      // Without projectId: only the caller's own todos.
      r = await api.get("/todos", { token: alice.token });
      assert.ok(r.body.data.every((t) => t.ownerId === alice.userId));
      assert.ok(!r.body.data.some((t) => t.id === bt.id));
    });

    test("PATCH projectId: to a project the caller is not in 403, to null removes it", async () => {
      const t = (await todo(bob, { title: "mover", projectId: p.id })).data;
      let r = await api.patch(`/todos/${t.id}`, { projectId: q.id }, { token: bob.token });
      assert.equal(r.status, 403);
      r = await api.patch(`/todos/${t.id}`, { projectId: objectIdHex() }, { token: bob.token });
      assert.equal(r.status, 400);
      r = await api.patch(`/todos/${t.id}`, { projectId: null }, { token: bob.token });
      assert.equal(r.status, 200);
      assert.ok(!("projectId" in r.body.data));
      r = await api.get(`/todos/${t.id}`, { token: alice.token });
      assert.equal(r.status, 403);
      r = await api.patch(`/todos/${t.id}`, { projectId: p.id }, { token: bob.token });
      assert.equal(r.status, 200);
      assert.equal(r.body.data.projectId, p.id);
    });

    test("PATCH projectId of someone else's todo: 403 for a member of both projects, nothing changes", async () => {
      // bob is in alice's P and in carol's Q2: moving alice's todo into Q2
      // would hand it to carol.
      const q2 = await mk(carol, { name: "Carol's and Bob's", members: [bob.userId] });
      const at = (await todo(alice, { title: "alice's own", projectId: p.id })).data;
      let r = await api.patch(`/todos/${at.id}`, { projectId: q2.id }, { token: bob.token });
      assert.equal(r.status, 403);
      assert.equal(r.body.title, "Forbidden");
      assert.match(r.body.detail, /owner/);
      r = await api.patch(`/todos/${at.id}`, { projectId: null }, { token: bob.token });
      assert.equal(r.status, 403);
      r = await api.get(`/todos/${at.id}`, { token: alice.token });
      assert.equal(r.body.data.projectId, p.id);
      assert.equal((await api.get(`/todos/${at.id}`, { token: carol.token })).status, 403);
      // Other fields stay a member's to change; the same projectId is no move.
      r = await api.patch(`/todos/${at.id}`, { completed: true, projectId: p.id }, { token: bob.token });
      assert.equal(r.status, 200);
      // The owner may move it.
      r = await api.patch(`/todos/${at.id}`, { projectId: null }, { token: alice.token });
      assert.equal(r.status, 200);
      assert.ok(!("projectId" in r.body.data));
    });

    test("a member removed from the project loses access to others' todos", async () => {
      const p2 = await mk(alice, { name: "Temp", members: [carol.userId] });
      const at = (await todo(alice, { title: "alice in p2", projectId: p2.id })).data;
      assert.equal((await api.get(`/todos/${at.id}`, { token: carol.token })).status, 200);
      await api.patch(`/projects/${p2.id}`, { members: [] }, { token: alice.token });
      assert.equal((await api.get(`/todos/${at.id}`, { token: carol.token })).status, 403);
      assert.equal((await api.get(`/projects/${p2.id}`, { token: carol.token })).status, 403);
    });

    test("delete: a member is 403; the owner 204 deletes the project's todos", async () => {
      const p3 = await mk(alice, { name: "Doomed", members: [bob.userId] });
      const t1 = (await todo(bob, { title: "t1", projectId: p3.id })).data;
      const t2 = (await todo(alice, { title: "t2", projectId: p3.id })).data;
      const keep = (await todo(bob, { title: "keep" })).data;
      assert.equal((await api.del(`/projects/${p3.id}`, { token: bob.token })).status, 403);
      const r = await api.del(`/projects/${p3.id}`, { token: alice.token });
      assert.equal(r.status, 204);
      assert.equal(r.text, "");
      assert.equal((await api.get(`/projects/${p3.id}`, { token: alice.token })).status, 404);
      for (const t of [t1, t2]) assert.equal((await api.get(`/todos/${t.id}`, { token: alice.token })).status, 404);
      assert.equal((await api.get(`/todos/${keep.id}`, { token: bob.token })).status, 200);
      assert.equal((await api.del(`/projects/${p3.id}`, { token: alice.token })).status, 404);
    });

    test("an admin may delete anyone's project", async () => {
      const p4 = await mk(carol, { name: "Root's target" });
      assert.equal((await api.del(`/projects/${p4.id}`, { token: root.token })).status, 204);
    });
  });
});
