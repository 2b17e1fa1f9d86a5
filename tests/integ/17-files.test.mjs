// Files only korio can read: the store (password hashes inside), its WAL
// and shared-memory files and the generated secrets are 0600, and korio
// refuses a DATA_DIR that others can write.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { startKorio, tempDir } from "./harness.mjs";
import { api, signup, sleep } from "./rt-util.mjs";

function modes(dir) {
  const out = {};
  for (const name of fs.readdirSync(dir)) out[name] = fs.statSync(path.join(dir, name)).mode & 0o777;
  return out;
}

describe("files korio creates", () => {
  test("the store, its -wal and -shm and the secrets are 0600", async () => {
    const srv = await startKorio({ mongo: false });
    try {
      const u = await signup(srv, "files");
      assert.equal((await api(srv, "POST", "/todos", { token: u.token, body: { title: "x" } })).status, 201);
      const m = modes(srv.dataDir);
      for (const name of ["korio.db", "korio.db-wal", "korio.db-shm", "token_secret", "refresh_token_secret"]) {
        assert.ok(name in m, `${name} missing: ${JSON.stringify(m)}`);
      }
      for (const [name, mode] of Object.entries(m)) {
        assert.equal(mode & 0o077, 0, `${name} is ${mode.toString(8)}`);
      }
    } finally {
      await srv.stop();
    }
  });

  test("an existing store file others can read is made 0600", async () => {
    const dir = tempDir();
    let srv = await startKorio({ mongo: false, dataDir: dir });
    await signup(srv, "files");
    await srv.stop();
    fs.chmodSync(path.join(dir, "korio.db"), 0o644);
    srv = await startKorio({ mongo: false, dataDir: dir });
    try {
      assert.equal(fs.statSync(path.join(dir, "korio.db")).mode & 0o777, 0o600);
      await signup(srv, "files");
    } finally {
      await srv.stop();
    }
  });

  for (const mode of [0o777, 0o770, 0o702]) {
    test(`a DATA_DIR others can write (${mode.toString(8)}) stops start-up, naming it`, async () => {
      const dir = tempDir();
      fs.chmodSync(dir, mode);
      const s = await startKorio({ mongo: false, dataDir: dir, wait: false });
      const { code } = await Promise.race([s.exited, sleep(10000).then(() => ({ code: "still running" }))]);
      if (code === "still running") await s.stop();
      assert.notEqual(code, "still running", "korio started on that DATA_DIR");
      assert.notEqual(code, 0);
      assert.ok(s.logs().includes(dir), s.logs());
      assert.match(s.logs(), /DATA_DIR .* writable by others/);
      assert.ok(!fs.existsSync(path.join(dir, "korio.db")));
    });
  }
});
