'use strict';
/*
 * The benchmark's peer: the part of korio's contract (shared/docs/contract.md)
 * that the benchmark exercises, built the way a Node team would build it:
 * express + socket.io 4.8 + jsonwebtoken, SQLite through better-sqlite3
 * (WAL, synchronous=NORMAL: the same durability as korio's default store).
 *
 *   PORT=4100 DATA_DIR=/tmp/peer WORKERS=1 node server.js   one process
 *   PORT=4100 DATA_DIR=/tmp/peer WORKERS=2 node server.js   node:cluster,
 *       @socket.io/sticky in the primary, @socket.io/cluster-adapter
 *
 * Routes: POST /auth/signup, POST /auth/login, GET/POST /todos,
 * POST /projects, GET /healthz. Socket.IO on /socket.io/: auth from the
 * CONNECT packet ({token:"Bearer <jwt>"}), rooms user:<id>, todos:<id>
 * (subscribe:todos), project:<id> (join:project, members only),
 * todo:created to project:<P> + todos:<owner> + todos:<member>,
 * notification to user:<owner>, presence:update to everyone.
 */

const cluster = require('node:cluster');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { promisify } = require('node:util');

const express = require('express');
const jwt = require('jsonwebtoken');
const Database = require('better-sqlite3');
const { Server } = require('socket.io');

const PORT = Number(process.env.PORT || 4100);
const BIND = process.env.BIND || '127.0.0.1';
const WORKERS = Number(process.env.WORKERS || 1);
const DATA_DIR = process.env.DATA_DIR || path.join(__dirname, 'data');
const DB_FILE = path.join(DATA_DIR, 'peer.db');
const TOKEN_EXPIRES_IN = process.env.TOKEN_EXPIRES_IN || '15m';
const REFRESH_TOKEN_EXPIRES_IN = process.env.REFRESH_TOKEN_EXPIRES_IN || '30d';

const pbkdf2 = promisify(crypto.pbkdf2);

/* ---- store ----------------------------------------------------------- */

function openDb() {
  fs.mkdirSync(DATA_DIR, { recursive: true });
  const db = new Database(DB_FILE);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = ' +
    (process.env.SQLITE_FULL_SYNC === 'true' ? 'FULL' : 'NORMAL'));
  db.pragma('busy_timeout = 5000');
  return db;
}

function createSchema(db) {
  db.exec(`
    CREATE TABLE IF NOT EXISTS users (
      id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, hash TEXT NOT NULL,
      salt TEXT NOT NULL, admin INTEGER NOT NULL DEFAULT 0,
      created TEXT NOT NULL, updated TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS projects (
      id TEXT PRIMARY KEY, name TEXT NOT NULL, ownerId TEXT NOT NULL,
      created TEXT NOT NULL, updated TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS project_members (
      projectId TEXT NOT NULL, userId TEXT NOT NULL, pos INTEGER NOT NULL,
      PRIMARY KEY (projectId, userId)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS todos (
      id TEXT PRIMARY KEY, title TEXT NOT NULL, completed INTEGER NOT NULL,
      ownerId TEXT NOT NULL, projectId TEXT,
      created TEXT NOT NULL, updated TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS todos_owner ON todos (ownerId, id);
    CREATE INDEX IF NOT EXISTS todos_project ON todos (projectId, id);
  `);
}

/* Mongo-style ObjectId: 4 bytes of seconds, 5 random, 3 of a counter. */
const oidRandom = crypto.randomBytes(5);
let oidCounter = crypto.randomBytes(3).readUIntBE(0, 3);
function objectId() {
  const b = Buffer.allocUnsafe(12);
  b.writeUInt32BE(Math.floor(Date.now() / 1000), 0);
  oidRandom.copy(b, 4);
  oidCounter = (oidCounter + 1) & 0xffffff;
  b.writeUIntBE(oidCounter, 9, 3);
  return b.toString('hex');
}
const OID = /^[0-9a-f]{24}$/;

/* ---- the app (one per process that serves requests) ------------------ */

function startApp(httpServer, io, secrets) {
  const db = openDb();
  const q = {
    userById: db.prepare('SELECT id, email, admin, created, updated FROM users WHERE id = ?'),
    userByEmail: db.prepare('SELECT * FROM users WHERE email = ?'),
    insertUser: db.prepare('INSERT INTO users (id, email, hash, salt, admin, created, updated) VALUES (?, ?, ?, ?, 0, ?, ?)'),
    project: db.prepare('SELECT * FROM projects WHERE id = ?'),
    members: db.prepare('SELECT userId FROM project_members WHERE projectId = ? ORDER BY pos'),
    isMember: db.prepare('SELECT 1 FROM project_members WHERE projectId = ? AND userId = ?'),
    insertProject: db.prepare('INSERT INTO projects (id, name, ownerId, created, updated) VALUES (?, ?, ?, ?, ?)'),
    insertMember: db.prepare('INSERT INTO project_members (projectId, userId, pos) VALUES (?, ?, ?)'),
    insertTodo: db.prepare('INSERT INTO todos (id, title, completed, ownerId, projectId, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    countByOwner: db.prepare('SELECT COUNT(*) AS n FROM todos WHERE ownerId = ?'),
    pageByOwner: db.prepare('SELECT * FROM todos WHERE ownerId = ? ORDER BY id LIMIT ? OFFSET ?'),
    countByProject: db.prepare('SELECT COUNT(*) AS n FROM todos WHERE projectId = ?'),
    pageByProject: db.prepare('SELECT * FROM todos WHERE projectId = ? ORDER BY id LIMIT ? OFFSET ?'),
  };

  const userDoc = (u) => ({ _id: u.id, id: u.id, email: u.email,
    admin: !!u.admin, created: u.created, updated: u.updated });
  const todoDoc = (t) => {
    const d = { _id: t.id, id: t.id, title: t.title,
      completed: !!t.completed, ownerId: t.ownerId };
    if (t.projectId != null) d.projectId = t.projectId;
    d.created = t.created;
    d.updated = t.updated;
    return d;
  };
  const projectDoc = (p, members) => ({ _id: p.id, id: p.id, name: p.name,
    members, ownerId: p.ownerId, created: p.created, updated: p.updated });

  const mint = (id, sid) => ({
    token: jwt.sign({ id, sub: id, sid }, secrets.token,
      { algorithm: 'HS256', expiresIn: TOKEN_EXPIRES_IN }),
    refreshToken: jwt.sign({ id, sub: id, sid }, secrets.refresh,
      { algorithm: 'HS256', expiresIn: REFRESH_TOKEN_EXPIRES_IN }),
  });

  const hashPassword = async (password, salt) =>
    (await pbkdf2(password, salt, 25000, 512, 'sha256')).toString('hex');

  const bad = (res, title, detail) => res.status(400).json(
    detail ? { status: 400, title, detail } : { status: 400, title });
  const fail = (res, status, title) => res.status(status).json({ status, title });

  /* Bearer token -> req.user (passport-jwt style: the user is loaded). */
  const bearer = (h) => {
    if (typeof h !== 'string') return null;
    const m = /^Bearer\s+(.+)$/i.exec(h.trim());
    const t = m ? m[1] : h.trim();
    if (!t || t === 'null' || t === 'undefined') return null;
    return t;
  };
  const authenticate = (req, res, next) => {
    const token = bearer(req.headers.authorization);
    if (!token) return fail(res, 401, 'Unauthorized');
    let claims;
    try {
      claims = jwt.verify(token, secrets.token, { algorithms: ['HS256'] });
    } catch (e) {
      return fail(res, 401, 'Unauthorized');
    }
    const uid = claims.sub || claims.id;
    const user = typeof uid === 'string' && OID.test(uid) ? q.userById.get(uid) : undefined;
    if (!user) return fail(res, 401, 'Unauthorized');
    req.user = user;
    next();
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(express.json({ limit: '1mb' }));

  app.get('/healthz', (req, res) => res.json({ status: 'ok' }));

  app.post('/auth/signup', async (req, res, next) => {
    try {
      const { email, password } = req.body || {};
      if (typeof email !== 'string' || !email || typeof password !== 'string' || !password)
        return bad(res, 'Email and password are required');
      const lower = email.toLowerCase();
      if (q.userByEmail.get(lower))
        return bad(res, 'A user with the given username is already registered');
      const salt = crypto.randomBytes(32).toString('hex');
      const hash = await hashPassword(password, salt);
      const id = objectId();
      const now = new Date().toISOString();
      try {
        q.insertUser.run(id, lower, hash, salt, now, now);
      } catch (e) {
        if (e.code === 'SQLITE_CONSTRAINT_UNIQUE')
          return bad(res, 'A user with the given username is already registered');
        throw e;
      }
      res.json({ data: { ...mint(id, crypto.randomUUID()), userId: id } });
    } catch (e) { next(e); }
  });

  app.post('/auth/login', async (req, res, next) => {
    try {
      const { email, password } = req.body || {};
      if (typeof email !== 'string' || !email || typeof password !== 'string' || !password)
        return res.status(401).json({ message: 'Missing credentials' });
      const u = q.userByEmail.get(email.toLowerCase());
      if (!u) return res.status(401).json({ message: 'Password or username is incorrect' });
      const hash = Buffer.from(await hashPassword(password, u.salt), 'hex');
      const want = Buffer.from(u.hash, 'hex');
      if (hash.length !== want.length || !crypto.timingSafeEqual(hash, want))
        return res.status(401).json({ message: 'Password or username is incorrect' });
      res.json({ data: { ...mint(u.id, crypto.randomUUID()), userId: u.id } });
    } catch (e) { next(e); }
  });

  const IGNORED = new Set(['_id', 'id', 'created', 'updated', '__v']);

  app.get('/todos', authenticate, (req, res) => {
    let limit = 100, page = 1, projectId;
    for (const [k, v] of Object.entries(req.query)) {
      if (typeof v !== 'string') return bad(res, `Invalid ${k}`);
      if (k === 'limit') {
        if (!/^[0-9]+$/.test(v) || Number(v) < 1) return bad(res, 'Invalid limit');
        limit = Math.min(Number(v), 500);
      } else if (k === 'page') {
        if (!/^[0-9]+$/.test(v) || Number(v) < 1) return bad(res, 'Invalid page');
        page = Number(v);
      } else if (k === 'projectId') {
        if (!OID.test(v)) return bad(res, 'Invalid projectId');
        projectId = v;
      } else {
        return bad(res, `${k} is not allowed as a query param.`);
      }
    }
    let count = q.countByOwner, pageOf = q.pageByOwner, arg = req.user.id;
    if (projectId) {
      const p = q.project.get(projectId);
      if (!p) return fail(res, 404, 'Not Found');
      if (!req.user.admin && !q.isMember.get(projectId, req.user.id))
        return fail(res, 403, 'Forbidden');
      count = q.countByProject; pageOf = q.pageByProject; arg = projectId;
    }
    const total = count.get(arg).n;
    const rows = pageOf.all(arg, limit, (page - 1) * limit);
    const body = { data: rows.map(todoDoc), limit, more: page * limit < total, total };
    if (req.query.page !== undefined) body.page = req.query.page;
    res.json(body);
  });

  app.post('/todos', authenticate, (req, res) => {
    const b = req.body;
    if (!b || typeof b !== 'object' || Array.isArray(b)) return bad(res, 'Invalid body');
    for (const k of Object.keys(b)) {
      if (IGNORED.has(k) || k === 'ownerId') continue;
      if (k !== 'title' && k !== 'completed' && k !== 'projectId')
        return bad(res, `${k} is not a field of Todo`, k);
    }
    if (typeof b.title !== 'string' || b.title.length < 1 || b.title.length > 500)
      return bad(res, 'Invalid title', 'title');
    if (b.completed !== undefined && typeof b.completed !== 'boolean')
      return bad(res, 'Invalid completed', 'completed');
    let projectId = null, members = null;
    if (b.projectId !== undefined && b.projectId !== null) {
      if (typeof b.projectId !== 'string' || !OID.test(b.projectId))
        return bad(res, 'Invalid projectId', 'projectId');
      if (!q.project.get(b.projectId)) return bad(res, 'Invalid projectId', 'projectId');
      members = q.members.all(b.projectId).map((r) => r.userId);
      if (!req.user.admin && !members.includes(req.user.id))
        return fail(res, 403, 'Forbidden');
      projectId = b.projectId;
    }
    const now = new Date().toISOString();
    const t = { id: objectId(), title: b.title, completed: b.completed === true ? 1 : 0,
      ownerId: req.user.id, projectId, created: now, updated: now };
    q.insertTodo.run(t.id, t.title, t.completed, t.ownerId, t.projectId, t.created, t.updated);
    res.status(201).json({ data: todoDoc(t) });

    /* After the write: the todo's readers, each socket once. */
    const rooms = [`todos:${t.ownerId}`];
    if (projectId) {
      rooms.push(`project:${projectId}`);
      for (const m of members) if (m !== t.ownerId) rooms.push(`todos:${m}`);
    }
    io.to(rooms).emit('todo:created', { id: t.id, title: t.title,
      completed: !!t.completed, ownerId: t.ownerId, projectId });
    io.to(`user:${t.ownerId}`).emit('notification',
      { type: 'todo_created', message: `Todo "${t.title}" created` });
  });

  app.post('/projects', authenticate, (req, res) => {
    const b = req.body;
    if (!b || typeof b !== 'object' || Array.isArray(b)) return bad(res, 'Invalid body');
    for (const k of Object.keys(b)) {
      if (IGNORED.has(k) || k === 'ownerId') continue;
      if (k !== 'name' && k !== 'members') return bad(res, `${k} is not a field of Project`, k);
    }
    if (typeof b.name !== 'string' || b.name.length < 1 || b.name.length > 200)
      return bad(res, 'Invalid name', 'name');
    let members = [];
    if (b.members !== undefined) {
      if (!Array.isArray(b.members) || b.members.length > 1000 ||
          !b.members.every((m) => typeof m === 'string' && OID.test(m)))
        return bad(res, 'Invalid members', 'members');
      members = [...new Set(b.members)];
    }
    if (!members.includes(req.user.id)) members.push(req.user.id);
    const now = new Date().toISOString();
    const p = { id: objectId(), name: b.name, ownerId: req.user.id, created: now, updated: now };
    db.transaction(() => {
      q.insertProject.run(p.id, p.name, p.ownerId, p.created, p.updated);
      members.forEach((m, i) => q.insertMember.run(p.id, m, i));
    })();
    res.status(201).json({ data: projectDoc(p, members) });
  });

  app.use((req, res) => fail(res, 404, 'Not Found'));
  app.use((err, req, res, next) => {
    if (err.type === 'entity.too.large') return fail(res, 413, 'Payload Too Large');
    if (err.type === 'entity.parse.failed') return bad(res, 'Invalid JSON');
    console.error(err);
    fail(res, 500, 'Internal Server Error');
  });
  httpServer.on('request', app);

  /* ---- Socket.IO ---- */

  io.use((socket, next) => {
    const token = bearer(socket.handshake.auth && socket.handshake.auth.token);
    if (!token) return next(new Error('Authentication required'));
    let claims;
    try {
      claims = jwt.verify(token, secrets.token, { algorithms: ['HS256'] });
    } catch (e) {
      return next(new Error('Invalid token'));
    }
    const uid = claims.sub || claims.id;
    if (typeof uid !== 'string' || !OID.test(uid) || !q.userById.get(uid))
      return next(new Error('User not found'));
    socket.data.userId = uid;
    next();
  });

  /*
   * Presence: users with at least one socket. Each process counts its own
   * sockets per user; in a cluster the processes tell each other when a
   * user appears or goes (serverSideEmit) and each sends the list to its
   * own sockets.
   */
  const local = new Map();           // userId -> sockets here
  const remote = new Map();          // process -> Set(userId)
  const presenceList = () => {
    const all = new Set(local.keys());
    for (const s of remote.values()) for (const u of s) all.add(u);
    return [...all].sort();
  };
  const clustered = cluster.isWorker;
  const pushPresence = () => (clustered ? io.local : io).emit('presence:update', presenceList());
  if (clustered) {
    io.on('presence', (from, userId, present) => {
      let s = remote.get(from);
      if (!s) remote.set(from, (s = new Set()));
      if (present) s.add(userId); else s.delete(userId);
      pushPresence();
    });
  }
  const presenceChanged = (userId, present) => {
    if (clustered) io.serverSideEmit('presence', process.pid, userId, present);
    pushPresence();
  };

  const ack = (cb, body, socket) => {
    if (typeof cb === 'function') cb(body);
    else if (body.error) socket.emit('error', body);
  };

  io.on('connection', (socket) => {
    const uid = socket.data.userId;
    socket.join(`user:${uid}`);
    const n = (local.get(uid) || 0) + 1;
    local.set(uid, n);
    if (n === 1) presenceChanged(uid, true);

    socket.on('subscribe:todos', (cb) => {
      socket.join(`todos:${uid}`);
      ack(cb, { ok: true }, socket);
    });
    socket.on('unsubscribe:todos', (cb) => {
      socket.leave(`todos:${uid}`);
      ack(cb, { ok: true }, socket);
    });
    socket.on('join:project', (projectId, cb) => {
      if (typeof projectId !== 'string' || !OID.test(projectId))
        return ack(cb, { error: 'projectId must be 24 hex digits' }, socket);
      if (!q.isMember.get(projectId, uid)) return ack(cb, { error: 'Forbidden' }, socket);
      socket.join(`project:${projectId}`);
      ack(cb, { ok: true }, socket);
    });
    socket.on('leave:project', (projectId, cb) => {
      if (typeof projectId !== 'string' || !OID.test(projectId))
        return ack(cb, { error: 'projectId must be 24 hex digits' }, socket);
      socket.leave(`project:${projectId}`);
      ack(cb, { ok: true }, socket);
    });
    socket.on('disconnect', () => {
      const left = local.get(uid) - 1;
      if (left > 0) {
        local.set(uid, left);
      } else {
        local.delete(uid);
        presenceChanged(uid, false);
      }
    });
  });
}

function ioOptions() {
  return {
    path: '/socket.io/',
    serveClient: false,
    cors: { origin: process.env.FRONTEND_URL || '*' },
    pingInterval: 25000,
    pingTimeout: 20000,
    maxHttpBufferSize: 1e6,
  };
}

/*
 * Secrets as KeyObjects: jsonwebtoken 9 given a string first tries it as a
 * PEM public key (createPublicKey, which throws) on every verify; that
 * alone was 30% of the peer's CPU under wrk. A KeyObject is the documented
 * way around it.
 */
function secretsFromEnv() {
  return {
    token: crypto.createSecretKey(Buffer.from(process.env.TOKEN_SECRET)),
    refresh: crypto.createSecretKey(Buffer.from(process.env.REFRESH_TOKEN_SECRET)),
  };
}

function ensureSecrets() {
  if (!process.env.TOKEN_SECRET)
    process.env.TOKEN_SECRET = crypto.randomBytes(32).toString('hex');
  if (!process.env.REFRESH_TOKEN_SECRET)
    process.env.REFRESH_TOKEN_SECRET = crypto.randomBytes(32).toString('hex');
}

/*
 * @socket.io/sticky hands a connection to a worker with
 * worker.send(msg, socket). Node then turns the primary's copy into a
 * reader that drops what it reads (onread = no-op) and closes it only when
 * the worker's NODE_HANDLE_ACK comes back. A client that answers the
 * worker's open packet before that (the loadgen's "40{token}", or its
 * join/subscribe packets) loses those bytes to the primary whenever the
 * primary is busy relaying cluster-adapter traffic: the server then never
 * sees the CONNECT (closed after connectTimeout, 45 s) or an event (no
 * ack). Seen in two full bench runs. The primary stops reading a socket
 * before handing it over, so the bytes wait in the kernel for the worker.
 */
function stopReadingHandedSockets() {
  const send = cluster.Worker.prototype.send;
  cluster.Worker.prototype.send = function (msg, handle, ...rest) {
    if (handle instanceof net.Socket && handle._handle)
      handle._handle.readStop();
    return send.call(this, msg, handle, ...rest);
  };
}

/* ---- process roles ---------------------------------------------------- */

if (WORKERS <= 1) {
  ensureSecrets();
  const db = openDb();
  createSchema(db);
  db.close();
  const httpServer = http.createServer();
  const io = new Server(httpServer, ioOptions());
  startApp(httpServer, io, secretsFromEnv());
  httpServer.listen(PORT, BIND, () =>
    console.log(`peer: one process ${process.pid} on http://${BIND}:${PORT}`));
} else if (cluster.isPrimary) {
  const { setupMaster } = require('@socket.io/sticky');
  const { setupPrimary } = require('@socket.io/cluster-adapter');
  ensureSecrets();
  const db = openDb();
  createSchema(db);
  db.close();
  const httpServer = http.createServer();
  stopReadingHandedSockets();
  setupMaster(httpServer, { loadBalancingMethod: 'least-connection' });
  setupPrimary();
  cluster.setupPrimary({ serialization: 'advanced' });   // Buffers over IPC (sticky)
  let ready = 0;
  for (let i = 0; i < WORKERS; i++) {
    cluster.fork().on('message', (m) => {
      if (m === 'peer:ready' && ++ready === WORKERS)
        httpServer.listen(PORT, BIND, () =>
          console.log(`peer: primary ${process.pid}, ${WORKERS} workers on http://${BIND}:${PORT}`));
    });
  }
  cluster.on('exit', (w, code, signal) => {
    if (!shuttingDown) console.error(`peer: worker ${w.process.pid} died (${signal || code})`);
  });
  let shuttingDown = false;
  const stop = () => {
    shuttingDown = true;
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const { setupWorker } = require('@socket.io/sticky');
  const { createAdapter } = require('@socket.io/cluster-adapter');
  const httpServer = http.createServer();
  const io = new Server(httpServer, ioOptions());
  io.adapter(createAdapter());
  setupWorker(io);
  startApp(httpServer, io, secretsFromEnv());
  process.send('peer:ready');
}
