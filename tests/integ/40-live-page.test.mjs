// The live page served from the binary (GET /), in headless Chromium:
// two users in two browser contexts share a project and see each other's
// changes without reloading; the connection badge follows a server restart
// and the lists are fetched again; presence, toasts, optimistic completion,
// token refresh, accessible names, phone width, and no console errors.
// Screenshots go to tests/output/live-page/.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { api as rest, badgeHistory, launch, recordBadge, shot, watchConsole } from "../browser/browser.mjs";
import { freePort, SLOW, startKorio, tempDir } from "./harness.mjs";
import { setTimeout as sleep } from "node:timers/promises";

// "Live" means within a second (more under the sanitizers).
const LIVE = 1000 * SLOW;
const T = 10000 * SLOW;
const PASSWORD = "correct horse battery";
// Short-lived access tokens, so the page refreshes them during the run.
const TOKEN_LIFE_S = 6;

describe("live page", { timeout: 150000 * SLOW }, () => {
  let srv;
  let port;
  let dataDir;
  let browser;
  const users = {}; // a, b: {email, id, ctx, page, con}
  const env = { TOKEN_EXPIRES_IN: `${TOKEN_LIFE_S}s`, WEBSOCKETS_DEBUG: "true" };
  const refreshes = { a: 0, b: 0 };

  const api = (method, p, opts) => rest(srv.url, method, p, opts);
  const start = () => startKorio({ port, dataDir, workers: 2, env });
  const badge = (page) => page.getByRole("status", { name: "Connection" });
  const waitBadge = (page, text, timeout = T) =>
    page.waitForFunction((t) => document.getElementById("conn-text").textContent === t, text, {
      timeout,
      polling: 20,
    });
  const todo = (page, title) => page.getByRole("checkbox", { name: title, exact: true });
  // Resolves with how long `title` took to appear (or go) on the page.
  const live = async (page, title, state = "visible") => {
    const t0 = Date.now();
    await todo(page, title).waitFor({ state, timeout: T });
    return Date.now() - t0;
  };

  async function openPage(key) {
    const ctx = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    const page = await ctx.newPage();
    const con = watchConsole(page, key);
    page.on("response", (r) => {
      if (r.url().endsWith("/auth/refresh_token") && r.status() === 200) refreshes[key]++;
    });
    await page.goto(srv.url + "/");
    users[key] = { ...users[key], ctx, page, con };
    return page;
  }

  // The steps build on each other: after one fails, the rest are skipped
  // (and say why) rather than each waiting out its own timeouts.
  let failed = null;
  const step = (name, fn) =>
    test(name, { timeout: 60000 * SLOW }, async (t) => {
      if (failed) return t.skip(`after "${failed}" failed`);
      try {
        await fn(t);
      } catch (e) {
        failed = name;
        const tail = srv?.logs().split("\n").slice(-30).join("\n");
        t.diagnostic(`server log (last lines):\n${tail}`);
        for (const k of ["a", "b"]) {
          const u = users[k];
          if (u?.page && !u.page.isClosed()) {
            const hist = await badgeHistory(u.page).catch(() => []);
            t.diagnostic(`page ${k}: badge ${hist.join(" -> ")}; console: ${JSON.stringify(u.con.errors)}`);
          }
        }
        throw e;
      }
    });

  before(async () => {
    port = await freePort();
    dataDir = tempDir("korio-live-");
    [srv, browser] = await Promise.all([start(), launch()]);
  });

  after(async () => {
    await browser?.close();
    await srv?.stop();
  });

  step("GET / serves the page, its script, style, icon and the Socket.IO client from the binary", async () => {
    for (const [p, type] of [
      ["/", /^text\/html/],
      ["/app.js", /^application\/javascript/],
      ["/style.css", /^text\/css/],
      ["/favicon.svg", /^image\/svg\+xml/],
      ["/socket.io/socket.io.min.js", /^application\/javascript/],
    ]) {
      const r = await fetch(srv.url + p);
      assert.equal(r.status, 200, p);
      assert.match(r.headers.get("content-type"), type, p);
      const body = await r.text();
      assert.ok(body.length > 100, p);
      if (p === "/socket.io/socket.io.min.js") {
        assert.match(body, /Socket\.IO v4\.8\.4/);
        assert.doesNotMatch(body, /sourceMappingURL/);
      }
    }
  });

  step("a signs up and b logs in through the page; every control has its name", async () => {
    const a = await openPage("a");
    for (const name of ["Email", "Password"]) await a.getByLabel(name, { exact: true }).waitFor();
    for (const name of ["Sign up", "Log in"]) await a.getByRole("button", { name, exact: true }).waitFor();
    await shot(a, "01-sign-in");

    users.a.email = `live-a-${process.pid}-${Date.now()}@example.com`;
    await a.getByLabel("Email", { exact: true }).fill(users.a.email);
    await a.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await a.getByRole("button", { name: "Sign up", exact: true }).click();
    await waitBadge(a, "Connected");
    users.a.id = (await a.locator("#my-id").textContent()).trim();
    assert.match(users.a.id, /^[0-9a-f]{24}$/);
    for (const name of ["New todo", "Project", "New project", "Member ids"]) {
      await a.getByLabel(name, { exact: true }).waitFor();
    }
    for (const name of ["Add", "Log out", "Create project"]) {
      await a.getByRole("button", { name, exact: true }).waitFor();
    }
    await a.getByRole("region", { name: "Online" }).waitFor();

    // b exists already and logs in; a wrong password first.
    users.b = { email: `live-b-${process.pid}-${Date.now()}@example.com` };
    const r = await api("POST", "/auth/signup", { body: { email: users.b.email, password: PASSWORD } });
    assert.equal(r.status, 200);
    users.b.id = r.body.data.userId;
    const b = await openPage("b");
    await b.getByLabel("Email", { exact: true }).fill(users.b.email);
    await b.getByLabel("Password", { exact: true }).fill("not the password");
    users.b.con.allowed.push(/401/);
    await b.getByRole("button", { name: "Log in", exact: true }).click();
    await b.getByRole("alert").filter({ hasText: "Password or username is incorrect" }).waitFor({ timeout: T });
    users.b.con.allowed.pop();
    await b.getByLabel("Password", { exact: true }).fill(PASSWORD);
    // Enter in the form logs in (the first button).
    await b.getByLabel("Password", { exact: true }).press("Enter");
    await waitBadge(b, "Connected");
    assert.equal((await b.locator("#my-id").textContent()).trim(), users.b.id);
    await badge(b).waitFor();
  });

  step("presence shows both users", async () => {
    for (const [key, other] of [["a", "b"], ["b", "a"]]) {
      const online = users[key].page.getByRole("region", { name: "Online" });
      await online.getByText(users[other].id).waitFor({ timeout: T });
      await online.getByText(`${users[key].email} (you)`).waitFor({ timeout: T });
      assert.equal(await online.getByRole("listitem").count(), 2);
    }
  });

  step("a shares a project with b; todos created on either side show up on the other live", async (t) => {
    const { page: a } = users.a;
    const { page: b } = users.b;
    await a.getByLabel("New project", { exact: true }).fill("Groceries");
    await a.getByLabel("Member ids", { exact: true }).fill(users.b.id);
    await a.getByRole("button", { name: "Create project", exact: true }).click();
    await a.getByRole("listitem").filter({ hasText: "Groceries" }).waitFor({ timeout: T });
    assert.equal(await a.getByLabel("Project", { exact: true }).inputValue(), await projectId(a, "Groceries"));

    // A todo of a's own, outside the project: b never sees it.
    await a.getByLabel("Project", { exact: true }).selectOption({ label: "None" });
    await a.getByLabel("New todo", { exact: true }).fill("call mom");
    await a.getByRole("button", { name: "Add", exact: true }).click();
    await todo(a, "call mom").waitFor({ timeout: T });

    // Keyboard only: type, Enter.
    await a.getByLabel("Project", { exact: true }).selectOption({ label: "Groceries" });
    await a.getByLabel("New todo", { exact: true }).fill("buy milk");
    const seen = live(b, "buy milk");
    await a.getByLabel("New todo", { exact: true }).press("Enter");
    const ms = await seen;
    t.diagnostic(`b saw a's todo after ${ms} ms`);
    assert.ok(ms < LIVE, `b saw a's todo after ${ms} ms`);
    await todo(a, "buy milk").waitFor({ timeout: T });
    // The owner's notification, as a toast.
    await a.getByRole("status").filter({ hasText: 'Todo "buy milk" created' }).waitFor({ timeout: T });
    assert.equal(await todo(b, "call mom").count(), 0);
    // b did not know the project: the todo event made it load it.
    await b.locator("#project-list").getByText("Groceries").waitFor({ timeout: T });
    // Only the owner gets a Delete button.
    assert.equal(await b.getByRole("button", { name: "Delete buy milk", exact: true }).count(), 0);
    await a.getByRole("button", { name: "Delete buy milk", exact: true }).waitFor();

    await b.getByLabel("Project", { exact: true }).selectOption({ label: "Groceries" });
    await b.getByLabel("New todo", { exact: true }).fill("bread");
    const seenA = live(a, "bread");
    await b.getByRole("button", { name: "Add", exact: true }).click();
    const msA = await seenA;
    t.diagnostic(`a saw b's todo after ${msA} ms`);
    assert.ok(msA < LIVE, `a saw b's todo after ${msA} ms`);
    await shot(a, "02-two-users-a");
    await shot(b, "03-two-users-b");
  });

  step("completing on one side shows on the other live; keyboard works", async (t) => {
    const { page: a } = users.a;
    const { page: b } = users.b;
    let t0 = Date.now();
    await todo(b, "buy milk").check();
    await a.waitForFunction(() => [...document.querySelectorAll("#todo-list label")]
      .some((l) => l.textContent === "buy milk" && l.querySelector("input").checked), null, { timeout: T, polling: 20 });
    let ms = Date.now() - t0;
    t.diagnostic(`a saw the completion after ${ms} ms`);
    assert.ok(ms < LIVE, `a saw the completion after ${ms} ms`);

    // a unticks it with the keyboard.
    await todo(a, "buy milk").focus();
    t0 = Date.now();
    await a.keyboard.press("Space");
    await b.waitForFunction(() => [...document.querySelectorAll("#todo-list label")]
      .some((l) => l.textContent === "buy milk" && !l.querySelector("input").checked), null, { timeout: T, polling: 20 });
    ms = Date.now() - t0;
    t.diagnostic(`b saw it unticked after ${ms} ms`);
    assert.ok(ms < LIVE, `b saw it unticked after ${ms} ms`);
    assert.equal(await todo(a, "buy milk").isChecked(), false);
  });

  step("a completion the server refuses reverts, with a message", async () => {
    const { page: b, con } = users.b;
    // The PATCH goes to a todo that does not exist: a real 404 from korio.
    const redirect = (route) => {
      const u = new URL(route.request().url());
      u.pathname = "/todos/0123456789abcdef01234567";
      return route.continue({ url: u.toString() });
    };
    const todoUrls = (u) => u.pathname.startsWith("/todos/");
    await b.route(todoUrls, redirect);
    con.allowed.push(/404/);
    const box = todo(b, "bread");
    await box.click();
    await b.getByRole("alert").filter({ hasText: "Could not update \u201cbread\u201d" }).waitFor({ timeout: T });
    assert.equal(await box.isChecked(), false);
    await b.unroute(todoUrls, redirect);
    con.allowed.pop();
    await shot(b, "04-refused-completion");
    // Nothing changed on a's side.
    assert.equal(await todo(users.a.page, "bread").isChecked(), false);
  });

  step("deleting on one side removes the todo on the other live", async (t) => {
    const { page: a } = users.a;
    const { page: b } = users.b;
    const gone = live(b, "buy milk", "detached");
    await a.getByRole("button", { name: "Delete buy milk", exact: true }).click();
    const ms = await gone;
    t.diagnostic(`b saw the deletion after ${ms} ms`);
    assert.ok(ms < LIVE, `b saw the deletion after ${ms} ms`);
    await todo(a, "buy milk").waitFor({ state: "detached", timeout: T });
    // Focus moved on to something sensible, not lost to <body>.
    assert.notEqual(await a.evaluate(() => document.activeElement?.tagName), "BODY");
  });

  step("the badge follows a server restart, and the lists are fetched again", async () => {
    const pages = [users.a, users.b];
    // While the server is down, the pages' Socket.IO requests are held off,
    // so that changes made right after the restart can only reach the page
    // through the refetch that follows its reconnection.
    const hold = (u) => u.pathname === "/socket.io/";
    const refuse = (route) => route.abort("connectionrefused");
    for (const u of pages) {
      await recordBadge(u.page);
      u.con.allowed.push(/socket\.io|ERR_CONNECTION_REFUSED|ERR_FAILED|WebSocket/);
      await u.page.route(hold, refuse);
    }
    const exps = [];
    for (const u of pages) {
      exps.push(await u.page.evaluate(() => JSON.parse(atob(JSON.parse(localStorage.getItem("korio.session"))
        .token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).exp));
    }
    await srv.stop();
    for (const u of pages) {
      await u.page.waitForFunction(() => (window.__badge ?? []).includes("Disconnected"), null, { timeout: T, polling: 20 });
    }
    await shot(users.a.page, "05-server-stopped");

    srv = await start();
    const a = await login(users.a.email);
    const b = await login(users.b.email);
    const pid = await projectId(users.a.page, "Groceries");
    let r = await api("POST", "/todos", { token: a, body: { title: "added while away", projectId: pid } });
    assert.equal(r.status, 201);
    const bread = await api("GET", `/todos?projectId=${pid}`, { token: b });
    const breadId = bread.body.data.find((t) => t.title === "bread").id;
    r = await api("DELETE", `/todos/${breadId}`, { token: b });
    assert.equal(r.status, 204);

    // Hold the sockets off until the tokens the pages had before the
    // restart have expired: they must come back with refreshed ones.
    await sleep(Math.max(0, Math.max(...exps) * 1000 - Date.now() + 500));
    for (const u of pages) await u.page.unroute(hold, refuse);
    for (const u of pages) {
      await waitBadge(u.page, "Connected", 20000 * SLOW);
      await todo(u.page, "added while away").waitFor({ timeout: T });
      await todo(u.page, "bread").waitFor({ state: "detached", timeout: T });
      const seen = await badgeHistory(u.page);
      assert.ok(seen.includes("Disconnected"), `badge went ${seen.join(" -> ")}`);
      assert.ok(seen.includes("Reconnecting..."), `badge went ${seen.join(" -> ")}`);
      assert.equal(seen.at(-1), "Connected");
      u.con.allowed.pop();
    }
    assert.equal(await todo(users.a.page, "call mom").count(), 1);
    assert.equal(await todo(users.b.page, "call mom").count(), 0);
    // Live again after the restart.
    const seen = live(users.b.page, "after restart");
    await users.a.page.getByLabel("New todo", { exact: true }).fill("after restart");
    await users.a.page.getByRole("button", { name: "Add", exact: true }).click();
    await seen;
    await shot(users.a.page, "06-reconnected");
  });

  step("the access token was refreshed before expiry and the socket reconnected with a fresh one", async () => {
    // The run outlasts a token's life: every REST call above went through,
    // so the page kept its token fresh; no socket of the restarted server
    // was refused for a stale token.
    assert.ok(refreshes.a >= 1, `a refreshed ${refreshes.a} times`);
    assert.ok(refreshes.b >= 1, `b refreshed ${refreshes.b} times`);
    assert.match(srv.logs(), /realtime: socket \S+ is user/);
    assert.doesNotMatch(srv.logs(), /realtime: socket \S+ refused/);
  });

  step("phone width: the page fits 375 px", async () => {
    const { page: a } = users.a;
    await a.setViewportSize({ width: 375, height: 800 });
    const wide = await a.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 375, `page is ${wide} px wide`);
    await shot(a, "07-phone-375");
    await a.setViewportSize({ width: 1100, height: 800 });
  });

  step("a reload keeps a signed in, with the lists and the socket back", async () => {
    const { page: a } = users.a;
    await a.reload();
    await waitBadge(a, "Connected");
    await todo(a, "call mom").waitFor({ timeout: T });
    await todo(a, "after restart").waitFor({ timeout: T });
    await a.locator("#project-list").getByText("Groceries").waitFor({ timeout: T });
  });

  step("presence drops b when b's browser closes; a logs out", async (t) => {
    const { page: a } = users.a;
    const online = a.getByRole("region", { name: "Online" });
    await online.getByText(users.b.id).waitFor({ timeout: T });
    const t0 = Date.now();
    await users.b.ctx.close();
    await online.getByText(users.b.id).waitFor({ state: "detached", timeout: T });
    const ms = Date.now() - t0;
    t.diagnostic(`presence update after ${ms} ms`);
    assert.ok(ms < 2 * LIVE, `presence update after ${ms} ms`);
    assert.equal(await online.getByRole("listitem").count(), 1);
    await shot(a, "08-presence-one");

    await a.getByRole("button", { name: "Log out", exact: true }).click();
    await a.getByRole("button", { name: "Log in", exact: true }).waitFor();
    await waitBadge(a, "Disconnected");
  });

  step("no console errors on either page", () => {
    for (const key of ["a", "b"]) {
      const c = users[key]?.con;
      assert.ok(c, `page ${key} was opened`);
      assert.deepEqual(c.errors, [], `console errors on page ${key}`);
    }
  });

  async function login(email) {
    const r = await api("POST", "/auth/login", { body: { email, password: PASSWORD } });
    assert.equal(r.status, 200);
    return r.body.data.token;
  }

  async function projectId(page, name) {
    return page.getByLabel("Project", { exact: true }).locator("option", { hasText: name }).getAttribute("value");
  }
});
