/*
 * korio's live page: sign up or log in, list and change your todos and
 * projects over the REST API, and follow changes made elsewhere over
 * Socket.IO (the client is served by korio at /socket.io/socket.io.min.js).
 * Plain DOM, no framework; user text only ever goes in through textContent.
 */
(function () {
  "use strict";

  var STORE_KEY = "korio.session";
  var $ = function (id) { return document.getElementById(id); };

  var session = null;        // {token, refreshToken, userId, email}
  var socket = null;
  var everConnected = false;
  var loaded = false;        // the lists have been fetched at least once
  var refreshTimer = null;
  var refreshing = null;     // the refresh in flight (a Promise)
  var freshTries = 0;        // reconnections with a refreshed token in a row
  var projects = new Map();  // id -> project
  var todos = new Map();     // id -> todo, in display order
  var joined = new Set();    // project rooms joined on this connection
  var online = [];
  var projectFetch = null;
  var todoRows = new Map();  // id -> <li>

  // ---- small helpers --------------------------------------------------

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === "class") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  var msgTimer = null;
  function say(text) {
    var m = $("msg");
    m.textContent = text || "";
    clearTimeout(msgTimer);
    if (text) msgTimer = setTimeout(function () { m.textContent = ""; }, 8000);
  }

  function toast(text) {
    var box = $("toasts");
    var t = el("div", { class: "toast", role: "status" });
    t.appendChild(el("span", null, text));
    var close = el("button", { type: "button", class: "close", "aria-label": "Dismiss notification" }, "\u00d7");
    close.addEventListener("click", function () { t.remove(); });
    t.appendChild(close);
    box.appendChild(t);
    setTimeout(function () { t.remove(); }, 6000);
    while (box.children.length > 4) box.firstChild.remove();
  }

  // The payload of a JWT (no verification: only to read exp and iat).
  function jwtClaims(token) {
    try {
      var p = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      while (p.length % 4) p += "=";
      return JSON.parse(atob(p));
    } catch (e) {
      return {};
    }
  }

  function shortId(id) { return id ? id.slice(-6) : ""; }
  function userName(id) {
    if (session && id === session.userId) return session.email ? session.email + " (you)" : "you";
    return "user " + id;
  }

  // ---- session and tokens ---------------------------------------------

  function saveSession() {
    try {
      if (session) localStorage.setItem(STORE_KEY, JSON.stringify(session));
      else localStorage.removeItem(STORE_KEY);
    } catch (e) { /* storage may be unavailable: the page still works */ }
  }

  function loadSession() {
    try {
      var s = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
      if (s && s.token && s.refreshToken && s.userId) return s;
    } catch (e) { /* ignore */ }
    return null;
  }

  // Seconds before exp at which a token is refreshed: a minute, or a
  // quarter of its lifetime when that is shorter.
  function margin(claims) {
    var life = (claims.exp || 0) - (claims.iat || 0);
    return life > 0 ? Math.min(60, life / 4) : 60;
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    if (!session) return;
    var c = jwtClaims(session.token);
    if (!c.exp) return;
    var ms = (c.exp - margin(c)) * 1000 - Date.now();
    refreshTimer = setTimeout(function () {
      refresh().catch(function () { /* retried below or on next use */ });
    }, Math.max(ms, 0));
  }

  function tokenFresh() {
    var c = jwtClaims(session.token);
    return c.exp && c.exp - margin(c) > Date.now() / 1000;
  }

  // POST /auth/refresh_token; one at a time. A refusal (401) ends the
  // session, a network failure is retried a little later.
  function refresh() {
    if (!session) return Promise.reject(new Error("signed out"));
    if (refreshing) return refreshing;
    var rt = session.refreshToken;
    refreshing = fetch("/auth/refresh_token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refreshToken: rt })
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (r.status === 200 && body.data && body.data.token) {
          if (!session || session.refreshToken !== rt) throw new Error("signed out");
          session.token = body.data.token;
          session.refreshToken = body.data.refreshToken || rt;
          saveSession();
          scheduleRefresh();
          return session.token;
        }
        var e = new Error((body && (body.message || body.title)) || "refresh refused");
        e.status = r.status;
        throw e;
      });
    }, function (netErr) {
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(function () { refresh().catch(function () {}); }, 2000);
      throw netErr;
    }).then(function (t) {
      refreshing = null;
      return t;
    }, function (e) {
      refreshing = null;
      if (e.status === 401 || e.status === 400 || e.status === 403) {
        logout("Your session has ended; please log in again.");
      }
      throw e;
    });
    return refreshing;
  }

  // A REST call with the session's token, refreshed first when it is
  // about to expire, and once more after a 401. Resolves to
  // {status, body}; rejects only when the server can't be reached.
  function api(method, path, body, retried) {
    var ready = session && !tokenFresh() ? refresh().catch(function () {}) : Promise.resolve();
    return ready.then(function () {
      var headers = {};
      if (session) headers.authorization = "Bearer " + session.token;
      if (body !== undefined) headers["content-type"] = "application/json";
      return fetch(path, {
        method: method,
        headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body)
      });
    }).then(function (r) {
      if (r.status === 401 && session && !retried) {
        return refresh().then(function () { return api(method, path, body, true); },
          function () { return { status: 401, body: null }; });
      }
      if (r.status === 204) return { status: 204, body: null };
      return r.json().catch(function () { return null; }).then(function (b) {
        return { status: r.status, body: b };
      });
    });
  }

  function problem(res) {
    var b = res.body || {};
    var text = b.title || b.message || "HTTP " + res.status;
    if (b.detail) text += ": " + (typeof b.detail === "string" ? b.detail : JSON.stringify(b.detail));
    return text;
  }

  // ---- signing in and out -----------------------------------------------

  function showAuth() {
    $("auth").hidden = false;
    $("app").hidden = true;
    $("who").hidden = true;
    setBadge("disconnected");
    $("email").focus();
  }

  function authSubmit(ev) {
    ev.preventDefault();
    var which = ev.submitter && ev.submitter.value === "signup" ? "signup" : "login";
    var email = $("email").value.trim();
    var password = $("password").value;
    if (!email || !password) {
      say("Enter an email and a password.");
      return;
    }
    var buttons = $("auth-form").querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    fetch("/auth/" + which, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: email, password: password })
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (b) {
        if (r.status === 200 && b.data && b.data.token) {
          session = {
            token: b.data.token,
            refreshToken: b.data.refreshToken,
            userId: b.data.userId,
            email: email.toLowerCase()
          };
          saveSession();
          $("password").value = "";
          say("");
          start();
        } else {
          say((which === "signup" ? "Sign up failed: " : "Log in failed: ") + problem({ status: r.status, body: b }));
        }
      });
    }, function () {
      say("The server can't be reached.");
    }).then(function () {
      buttons.forEach(function (b) { b.disabled = false; });
    });
  }

  function logout(message) {
    clearTimeout(refreshTimer);
    if (socket) {
      socket.off();
      socket.io.off();
      socket.disconnect();
      socket = null;
    }
    session = null;
    everConnected = false;
    loaded = false;
    saveSession();
    projects.clear();
    todos.clear();
    todoRows.clear();
    $("todo-list").textContent = "";
    online = [];
    renderAll();
    showAuth();
    if (message) say(message);
  }

  function start() {
    $("auth").hidden = true;
    $("app").hidden = false;
    $("who").hidden = false;
    $("me-email").textContent = session.email || "";
    $("me-email").title = session.email || "";
    $("my-id").textContent = session.userId;
    scheduleRefresh();
    if (!session.email) {
      api("GET", "/auth/me").then(function (r) {
        if (r.status === 200 && r.body && r.body.data) {
          session.email = r.body.data.email;
          saveSession();
          $("me-email").textContent = session.email;
          $("me-email").title = session.email;
          renderOnline();
        }
      }, function () {});
    }
    loadAll().then(function () {
      if (session) connectSocket();
      $("todo-title").focus();
    });
  }

  // ---- data -------------------------------------------------------------

  function todoFromDoc(d) {
    return {
      id: d.id || d._id,
      title: d.title,
      completed: !!d.completed,
      ownerId: d.ownerId,
      projectId: d.projectId || null
    };
  }

  function fetchTodos(projectId) {
    var q = "/todos?limit=500&sort=created" + (projectId ? "&projectId=" + encodeURIComponent(projectId) : "");
    return api("GET", q).then(function (r) {
      if (r.status !== 200 || !r.body || !Array.isArray(r.body.data)) throw new Error(problem(r));
      return r.body.data.map(todoFromDoc);
    });
  }

  function fetchProjects() {
    return api("GET", "/projects?limit=500&sort=name").then(function (r) {
      if (r.status !== 200 || !r.body || !Array.isArray(r.body.data)) throw new Error(problem(r));
      return r.body.data;
    });
  }

  // Everything, again: the first time, and after every reconnection
  // (events sent while the socket was down are lost).
  function loadAll() {
    return fetchProjects().then(function (ps) {
      projects = new Map(ps.map(function (p) { return [p.id || p._id, p]; }));
      return Promise.all([fetchTodos(null)].concat(ps.map(function (p) {
        return fetchTodos(p.id || p._id).catch(function () { return []; });
      })));
    }).then(function (lists) {
      var all = [];
      lists.forEach(function (l) { all = all.concat(l); });
      all.sort(function (a, b) { return a.id < b.id ? -1 : a.id > b.id ? 1 : 0; });
      todos = new Map();
      all.forEach(function (t) { todos.set(t.id, t); });
      loaded = true;
      renderAll();
      joinProjects();
    }).catch(function (e) {
      if (session) say("Could not load your todos: " + e.message);
    });
  }

  // A project we don't know yet (another member just added us): load the
  // projects again, and the todos of any that are new.
  function discoverProjects() {
    if (projectFetch) return projectFetch;
    projectFetch = fetchProjects().then(function (ps) {
      var fresh = [];
      var next = new Map();
      ps.forEach(function (p) {
        var id = p.id || p._id;
        if (!projects.has(id)) fresh.push(id);
        next.set(id, p);
      });
      projects = next;
      renderProjects();
      renderTodos();
      joinProjects();
      return Promise.all(fresh.map(function (id) {
        return fetchTodos(id).then(function (list) {
          list.forEach(function (t) { if (!todos.has(t.id)) todos.set(t.id, t); });
        }, function () {});
      }));
    }).then(function () {
      renderTodos();
    }, function () {}).then(function () {
      projectFetch = null;
    });
    return projectFetch;
  }

  // ---- the socket ---------------------------------------------------------

  function setBadge(state) {
    var text = { connected: "Connected", reconnecting: "Reconnecting...", disconnected: "Disconnected" }[state];
    var b = $("conn");
    if (b.dataset.state === state) return;
    b.dataset.state = state;
    $("conn-text").textContent = text;
    $("reconnect").hidden = !(state === "disconnected" && session && socket);
  }

  function joinProjects() {
    if (!socket || !socket.connected) return;
    projects.forEach(function (p, id) {
      if (joined.has(id)) return;
      joined.add(id);
      socket.emit("join:project", id, function (ack) {
        if (ack && ack.error) joined.delete(id);
      });
    });
  }

  function connectSocket() {
    if (typeof io !== "function") {
      say("The realtime client did not load; changes from others show after a reload.");
      return;
    }
    socket = io({
      autoConnect: false,
      transports: ["polling", "websocket"],
      reconnection: true,
      reconnectionAttempts: 10,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000
    });
    // Read at every (re)connection, so it always carries the current token,
    // refreshed first when it is about to expire (say, after the server was
    // down past its refresh time).
    socket.auth = function (cb) {
      var send = function () { cb({ token: "Bearer " + (session ? session.token : "") }); };
      if (session && !tokenFresh()) refresh().then(send, send);
      else send();
    };

    socket.on("connect", function () {
      setBadge("connected");
      freshTries = 0;
      joined = new Set();
      socket.emit("subscribe:todos");
      if (everConnected || !loaded) loadAll();
      else joinProjects();
      everConnected = true;
    });
    socket.on("disconnect", function (reason) {
      setBadge("disconnected");
      joined = new Set();
      online = [];
      renderOnline();
      // Put off by the server: come back with a fresh token, as
      // @terreno/rtk's hook does (socket.io itself would not retry).
      if (reason === "io server disconnect" && session) {
        reconnectFresh();
      }
    });
    socket.on("connect_error", function (err) {
      if (socket.active) return;      // the Manager tries again by itself
      setBadge("disconnected");
      var m = err && err.message;
      if (m === "Invalid token" || m === "Authentication required") reconnectFresh();
      else if (m === "User not found") logout("Your account no longer exists.");
    });
    socket.io.on("reconnect_attempt", function () {
      setBadge("reconnecting");
    });
    socket.io.on("reconnect_failed", function () {
      setBadge("disconnected");
    });

    socket.on("todo:created", onTodoEvent);
    socket.on("todo:updated", onTodoEvent);
    socket.on("todo:deleted", function (t) {
      if (!t || !t.id || !todos.has(t.id)) return;
      todos.delete(t.id);
      renderTodos();
    });
    socket.on("project:updated", function (p) {
      var id = p && (p.id || p._id);
      if (!id) return;
      if (Array.isArray(p.members) && p.members.indexOf(session.userId) < 0) {
        projects.delete(id);
        todos.forEach(function (t, tid) {
          if (t.projectId === id && t.ownerId !== session.userId) todos.delete(tid);
        });
      } else {
        projects.set(id, p);
      }
      renderProjects();
      renderTodos();
    });
    socket.on("presence:update", function (ids) {
      online = Array.isArray(ids) ? ids.slice() : [];
      renderOnline();
    });
    socket.on("notification", function (n) {
      if (n && n.message) toast(n.message);
    });
    socket.on("error", function (e) {
      if (e && e.message) say("Server: " + e.message);
    });

    setBadge("reconnecting");
    socket.connect();
  }

  function reconnectFresh() {
    if (!socket || freshTries > 3) {
      setBadge("disconnected");
      return;
    }
    freshTries++;
    setBadge("reconnecting");
    refresh().then(function () {
      if (socket && !socket.connected) socket.connect();
    }, function () {
      setBadge("disconnected");
    });
  }

  function reconnectNow() {
    if (!socket || socket.connected) return;
    freshTries = 0;
    setBadge("reconnecting");
    socket.connect();
  }

  function onTodoEvent(t) {
    if (!t || !t.id) return;
    var cur = todos.get(t.id);
    var next = todoFromDoc(t);
    if (cur) {
      cur.title = next.title;
      cur.completed = next.completed;
      cur.projectId = next.projectId;
      cur.ownerId = next.ownerId || cur.ownerId;
      delete cur.pending;
    } else {
      todos.set(next.id, next);
    }
    if (next.projectId && !projects.has(next.projectId)) discoverProjects();
    renderTodos();
  }

  // ---- actions ------------------------------------------------------------

  function addTodo(ev) {
    ev.preventDefault();
    var input = $("todo-title");
    var title = input.value.trim();
    if (!title) {
      say("Type what there is to do first.");
      input.focus();
      return;
    }
    var body = { title: title };
    var pid = $("todo-project").value;
    if (pid) body.projectId = pid;
    $("add").disabled = true;
    api("POST", "/todos", body).then(function (r) {
      if (r.status === 201 || r.status === 200) {
        var t = todoFromDoc(r.body.data);
        if (!todos.has(t.id)) todos.set(t.id, t);
        input.value = "";
        renderTodos();
      } else {
        say("Could not add \u201c" + title + "\u201d: " + problem(r));
      }
    }, function () {
      say("Could not add \u201c" + title + "\u201d: the server can't be reached.");
    }).then(function () {
      $("add").disabled = false;
      input.focus();
    });
  }

  // Optimistic: the box changes at once and goes back if the server says no.
  function toggleTodo(id, completed) {
    var t = todos.get(id);
    if (!t) return;
    var before = t.completed;
    t.completed = completed;
    var mark = {};
    t.pending = mark;
    renderTodos();
    var fail = function (why) {
      var cur = todos.get(id);
      if (cur && cur.pending === mark) {
        cur.completed = before;
        delete cur.pending;
      }
      renderTodos();
      say("Could not update \u201c" + t.title + "\u201d: " + why);
    };
    api("PATCH", "/todos/" + encodeURIComponent(id), { completed: completed }).then(function (r) {
      if (r.status === 200 && r.body && r.body.data) {
        var cur = todos.get(id);
        if (cur && cur.pending === mark) {
          cur.completed = !!r.body.data.completed;
          delete cur.pending;
          renderTodos();
        }
      } else if (r.status === 404) {
        fail("it no longer exists.");
      } else {
        fail(r.status === 403 ? "you may not change it." : problem(r));
      }
    }, function () {
      fail("the server can't be reached.");
    });
  }

  function deleteTodo(id) {
    var t = todos.get(id);
    if (!t) return;
    api("DELETE", "/todos/" + encodeURIComponent(id)).then(function (r) {
      if (r.status === 204 || r.status === 404) {
        todos.delete(id);
        renderTodos();
      } else {
        say("Could not delete \u201c" + t.title + "\u201d: " + (r.status === 403 ? "only its owner may." : problem(r)));
      }
    }, function () {
      say("Could not delete \u201c" + t.title + "\u201d: the server can't be reached.");
    });
  }

  function createProject(ev) {
    ev.preventDefault();
    var name = $("project-name").value.trim();
    var raw = $("project-members").value.trim();
    var members = raw ? raw.split(/[\s,;]+/).filter(Boolean) : [];
    var bad = members.filter(function (m) { return !/^[0-9a-f]{24}$/i.test(m); });
    if (!name) {
      say("Give the project a name.");
      $("project-name").focus();
      return;
    }
    if (bad.length) {
      say("Not a user id: " + bad.join(", "));
      $("project-members").focus();
      return;
    }
    members = members.map(function (m) { return m.toLowerCase(); });
    if (members.indexOf(session.userId) < 0) members.unshift(session.userId);
    $("create-project").disabled = true;
    api("POST", "/projects", { name: name, members: members }).then(function (r) {
      if (r.status === 201 || r.status === 200) {
        var p = r.body.data;
        projects.set(p.id || p._id, p);
        $("project-name").value = "";
        $("project-members").value = "";
        renderProjects();
        joinProjects();
        $("todo-project").value = p.id || p._id;
        toast("Project \u201c" + p.name + "\u201d created");
      } else {
        say("Could not create the project: " + problem(r));
      }
    }, function () {
      say("Could not create the project: the server can't be reached.");
    }).then(function () {
      $("create-project").disabled = false;
    });
  }

  // ---- rendering ----------------------------------------------------------

  function renderAll() {
    renderProjects();
    renderTodos();
    renderOnline();
  }

  function projectName(id) {
    var p = projects.get(id);
    return p ? p.name : "project " + shortId(id);
  }

  function renderProjects() {
    var list = $("project-list");
    list.textContent = "";
    var sel = $("todo-project");
    var chosen = sel.value;
    while (sel.options.length > 1) sel.remove(1);
    var ps = Array.from(projects.values()).sort(function (a, b) {
      return a.name.localeCompare(b.name);
    });
    ps.forEach(function (p) {
      var id = p.id || p._id;
      var li = el("li");
      li.appendChild(el("span", { class: "pname" }, p.name));
      var others = (p.members || []).filter(function (m) { return m !== session.userId; });
      li.appendChild(el("span", { class: "meta" },
        others.length ? "with " + others.map(userName).join(", ") : "just you"));
      list.appendChild(li);
      sel.appendChild(el("option", { value: id }, p.name));
    });
    $("project-empty").hidden = ps.length > 0;
    sel.value = projects.has(chosen) ? chosen : "";
  }

  function buildRow(t) {
    var li = el("li", { class: "todo" });
    var label = el("label", { class: "check" });
    var cb = el("input", { type: "checkbox" });
    cb.addEventListener("change", function () { toggleTodo(t.id, cb.checked); });
    label.appendChild(cb);
    label.appendChild(el("span", { class: "title" }));
    li.appendChild(label);
    li.appendChild(el("span", { class: "meta" }));
    var del = el("button", { type: "button", class: "delete" }, "Delete");
    del.addEventListener("click", function () { deleteTodo(t.id); });
    li.appendChild(del);
    return li;
  }

  function updateRow(li, t) {
    var cb = li.querySelector("input");
    cb.checked = t.completed;
    li.classList.toggle("done", t.completed);
    li.querySelector(".title").textContent = t.title;
    var bits = [];
    if (t.projectId) bits.push(projectName(t.projectId));
    if (t.ownerId && session && t.ownerId !== session.userId) bits.push("by " + userName(t.ownerId));
    li.querySelector(".meta").textContent = bits.join(" \u00b7 ");
    var del = li.querySelector("button.delete");
    del.setAttribute("aria-label", "Delete " + t.title);
    // Only the owner may delete (and admins, whom the page doesn't know).
    del.hidden = !!(session && t.ownerId && t.ownerId !== session.userId);
  }

  // Keyed: rows are reused and only moved when out of place, so focus
  // stays on the checkbox or button a keyboard user is on.
  function renderTodos() {
    var list = $("todo-list");
    var lostFocus = -1;
    todoRows.forEach(function (li, id) {
      if (!todos.has(id)) {
        if (li.contains(document.activeElement)) lostFocus = Array.prototype.indexOf.call(list.children, li);
        li.remove();
        todoRows.delete(id);
      }
    });
    var i = 0;
    todos.forEach(function (t, id) {
      var li = todoRows.get(id);
      if (!li) {
        li = buildRow(t);
        todoRows.set(id, li);
      }
      updateRow(li, t);
      var at = list.children[i];
      if (at !== li) list.insertBefore(li, at || null);
      i++;
    });
    $("todo-empty").hidden = todos.size > 0;
    // The row that had the focus went away: the focus goes to the row now
    // in its place (its Delete button, else its checkbox), or the input.
    if (lostFocus >= 0) {
      var row = list.children[Math.min(lostFocus, list.children.length - 1)];
      var del = row && row.querySelector("button.delete");
      if (del && del.hidden) del = null;
      (del || (row && row.querySelector("input")) || $("todo-title")).focus();
    }
  }

  function renderOnline() {
    var list = $("online-list");
    list.textContent = "";
    online.forEach(function (id) {
      var li = el("li");
      li.appendChild(el("span", { class: "dot on", "aria-hidden": "true" }));
      var name = el("span", { class: "uname" });
      if (session && id === session.userId) name.textContent = userName(id);
      else {
        name.textContent = "user ";
        name.appendChild(el("span", { class: "uid" }, id));
      }
      li.appendChild(name);
      if (session && id !== session.userId) {
        var add = el("button", { type: "button", class: "link", "aria-label": "Add " + id + " to the new project's members" }, "add to project");
        add.addEventListener("click", function () {
          var f = $("project-members");
          var have = f.value.split(/[\s,;]+/).filter(Boolean);
          if (have.indexOf(id) < 0) have.push(id);
          f.value = have.join(" ");
          $("project-name").focus();
        });
        li.appendChild(add);
      }
      list.appendChild(li);
    });
    $("online-empty").hidden = online.length > 0;
  }

  // ---- start ----------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", function () {
    $("auth-form").addEventListener("submit", authSubmit);
    $("todo-form").addEventListener("submit", addTodo);
    $("project-form").addEventListener("submit", createProject);
    $("logout").addEventListener("click", function () { logout(); });
    $("reconnect").addEventListener("click", reconnectNow);
    // Back online, or back to the tab after the retries ran out: try again.
    window.addEventListener("online", reconnectNow);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && socket && !socket.connected &&
          $("conn").dataset.state === "disconnected") reconnectNow();
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape") {
        var ts = $("toasts");
        if (ts.lastElementChild) ts.lastElementChild.remove();
      }
    });
    session = loadSession();
    if (session) start();
    else showAuth();
  });
}());
