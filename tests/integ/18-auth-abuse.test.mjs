// REST: /auth/signup and /auth/login under abuse, from outside the real
// binary.
//   - Look-alike emails: signup and login normalise emails to NFKC and
//     lowercase, and refuse invisible (format) characters.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { BACKEND, openStore, restClient, startKorio } from "./harness.mjs";

const DUP = "A user with the given username is already registered";
const INCORRECT = { message: "Password or username is incorrect" };

describe(`look-alike emails (${BACKEND})`, () => {
  let srv, api, bob, carol;

  before(async () => {
    srv = await startKorio({ workers: 1 });
    api = restClient(srv.url);
    [bob, carol] = await Promise.all([
      api.signup("bob@x.com", "bob's password"),
      api.signup("carol@x.com", "carol's password"),
    ]);
  });

  after(async () => {
    await srv?.stop();
  });

  test("signup of an NFKC or case look-alike: the email is taken", async () => {
    for (const email of ["\uff42ob@x.com", "\uff22\uff2f\uff22@\uff38.\uff43\uff4f\uff4d", "BOB@X.COM",
      " bob@x.com ", "bob\uff20x.com", "bob@x.com\u3000"]) {
      const r = await api.post("/auth/signup", { email, password: "pw" });
      assert.equal(r.status, 400, JSON.stringify(email));
      assert.deepEqual(r.body, { status: 400, title: DUP }, JSON.stringify(email));
    }
  });

  test("signup with invisible (format) characters: 400 naming them", async () => {
    for (const [email, cp] of [["bob@x.com\u200b", "U+200B"], ["\u200dbob@x.com", "U+200D"],
      ["bob\ufeff@x.com", "U+FEFF"], ["bo\u2060b@x.com", "U+2060"], ["bob@x\u00ad.com", "U+00AD"],
      ["new\u200b@x.com", "U+200B"]]) {
      const r = await api.post("/auth/signup", { email, password: "pw" });
      assert.equal(r.status, 400, JSON.stringify(email));
      assert.equal(r.body.status, 400);
      assert.equal(r.body.title, "Validation failed");
      assert.match(r.body.detail, /invisible/, r.text);
      assert.ok(r.body.detail.includes(cp), r.text);
    }
  });

  test("one account: the store holds bob@x.com once and no look-alike", async () => {
    const store = await openStore(srv);
    try {
      assert.equal(await store.countUsers("bob@x.com"), 1);
      for (const e of ["bob@x.com\u200b", "\uff42ob@x.com", "\u200dbob@x.com"]) {
        assert.equal(await store.countUsers(e), 0, JSON.stringify(e));
      }
    } finally {
      await store.close();
    }
  });

  test("login as \uff22OB@X.COM is bob", async () => {
    for (const email of ["\uff22OB@X.COM", "\uff42\uff4f\uff42@x.com", "Bob@X.com"]) {
      const r = await api.post("/auth/login", { email, password: bob.password });
      assert.equal(r.status, 200, `${JSON.stringify(email)}: ${r.text}`);
      assert.equal(r.body.data.userId, bob.userId);
    }
    const r = await api.post("/auth/login", { email: "bob@x.com\u200b", password: bob.password });
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, INCORRECT);
  });

  test("a new email is stored in its normal form", async () => {
    const r = await api.post("/auth/signup", { email: "\uff24\uff21VE@X.com", password: "dave pw" });
    assert.equal(r.status, 200, r.text);
    const me = await api.get("/auth/me", { token: r.body.data.token });
    assert.equal(me.body.data.email, "dave@x.com");
  });

  test("PATCH /auth/me normalises the same way", async () => {
    let r = await api.patch("/auth/me", { email: "\uff42ob@x.com" }, { token: carol.token });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, { status: 400, title: DUP });
    r = await api.patch("/auth/me", { email: "carol\u200b@x.com" }, { token: carol.token });
    assert.equal(r.status, 400);
    assert.match(r.body.detail, /invisible.*U\+200B/);
    r = await api.patch("/auth/me", { email: "\uff23AROL2@x.com" }, { token: carol.token });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.email, "carol2@x.com");
  });
});
