// REST: every acknowledged write survives kill -9 of the whole server
// (parent and workers at once, as one process group), then a restart on
// the same DATA_DIR (and, with MongoDB, the same database). With SQLite
// this is the WAL commit before the answer; with MongoDB the server's
// acknowledgement.

import assert from "node:assert/strict";
import { after, test } from "node:test";
import { BACKEND, restClient, SLOW, startKorio, tempDir } from "./harness.mjs";

let srv;

after(async () => {
  await srv?.stop();
});

test(`acknowledged writes survive kill -9 of the process group (${BACKEND})`, { timeout: 60000 * SLOW }, async () => {
  const dataDir = tempDir();
  const dbName = `korio_durable_${process.pid}_${Date.now()}`;
  srv = await startKorio({ workers: 2, dataDir, dbName, group: true });
  let api = restClient(srv.url);

  const u = await api.signup("durable@example.com", "durable-pw");
  const p = (await api.post("/projects", { name: "kept" }, { token: u.token })).body.data;
  const acked = await Promise.all(Array.from({ length: 40 }, (_, i) =>
    api.post("/todos", { title: `t${i}`, ...(i % 4 === 0 ? { projectId: p.id } : {}) }, { token: u.token })));
  assert.ok(acked.every((r) => r.status === 201));
  const todos = acked.map((r) => r.body.data);

  // Updates and deletes, acknowledged too; the last ones right before the kill.
  const updated = await Promise.all(todos.slice(0, 10).map((t) =>
    api.patch(`/todos/${t.id}`, { completed: true, title: `${t.title} done` }, { token: u.token })));
  assert.ok(updated.every((r) => r.status === 200));
  const deleted = await Promise.all(todos.slice(10, 15).map((t) => api.del(`/todos/${t.id}`, { token: u.token })));
  assert.ok(deleted.every((r) => r.status === 204));
  const renamed = await api.patch("/auth/me", { email: "durable2@example.com" }, { token: u.token });
  assert.equal(renamed.status, 200);
  const last = await api.post("/todos", { title: "the last one" }, { token: u.token });
  assert.equal(last.status, 201);

  await srv.kill9Group();
  srv = await startKorio({ workers: 2, dataDir, dbName, group: true });
  api = restClient(srv.url);

  // The dev secrets were kept in DATA_DIR: the old token still works.
  const me = await api.get("/auth/me", { token: u.token });
  assert.equal(me.status, 200);
  assert.equal(me.body.data.email, "durable2@example.com");
  const login = await api.post("/auth/login", { email: "durable2@example.com", password: "durable-pw" });
  assert.equal(login.status, 200);

  const list = await api.get("/todos?limit=500", { token: u.token });
  assert.equal(list.status, 200);
  const byId = new Map(list.body.data.map((t) => [t.id, t]));
  assert.equal(list.body.total, 40 - 5 + 1);
  for (const r of updated) assert.deepEqual(byId.get(r.body.data.id), r.body.data);
  for (const t of todos.slice(10, 15)) assert.ok(!byId.has(t.id));
  for (const t of todos.slice(15)) assert.deepEqual(byId.get(t.id), t);
  assert.deepEqual(byId.get(last.body.data.id), last.body.data);
  const proj = await api.get(`/projects/${p.id}`, { token: u.token });
  assert.deepEqual(proj.body.data, p);
  const inProject = await api.get(`/todos?projectId=${p.id}&limit=500`, { token: u.token });
  const kept = todos.filter((t, i) => t.projectId === p.id && (i < 10 || i >= 15));
  assert.equal(inProject.body.total, kept.length);
});

