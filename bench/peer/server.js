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
 * With MONGODB_URI the store is MongoDB in korio's exact schema (store.js)
 * instead of SQLite, so korio and the peer share users, todos and projects;
 * with the same TOKEN_SECRET and REFRESH_TOKEN_SECRET (and TOKEN_ISSUER)
 * a token of either is good on both.
 *
 * Cluster mode, REDIS_URL set (e.g. redis://127.0.0.1:6379): every process
 * (each worker when WORKERS > 1) is a node of a Socket.IO cluster through
 * @socket.io/redis-adapter 8.3 (classic createAdapter, node-redis 4 pub/sub
 * clients), with korio's cluster presence (presence.js) and cluster:ping
 * answered, so peers, korio nodes and emitters share rooms and presence.
 * korio refuses REDIS_URL without MONGODB_URI; the peer allows it (one
 * machine's processes can share the SQLite file, for benchmarks).
 * KORIO_DEBUG_ENDPOINTS=true adds the debug:cluster and debug:cluster-ping
 * socket events (tests).
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
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { promisify } = require('node:util');

const express = require('express');
const jwt = require('jsonwebtoken');
const { Server } = require('socket.io');

const { createSqliteSchema, sqliteStore, mongoStore } = require('./store');

const PORT = Number(process.env.PORT || 4100);
const BIND = process.env.BIND || '127.0.0.1';
const WORKERS = Number(process.env.WORKERS || 1);
const DATA_DIR = process.env.DATA_DIR || path.join(__dirname, 'data');
const MONGODB_URI = process.env.MONGODB_URI || '';
const REDIS_URL = process.env.REDIS_URL || '';
const DEBUG_ENDPOINTS = process.env.KORIO_DEBUG_ENDPOINTS === 'true';

/* As korio reads them: bare digits are seconds (jsonwebtoken: ms). */
const duration = (v, dflt) => (!v ? dflt : /^[0-9]+$/.test(v) ? Number(v) : v);
const TOKEN_EXPIRES_IN = duration(process.env.TOKEN_EXPIRES_IN, '15m');
const REFRESH_TOKEN_EXPIRES_IN = duration(process.env.REFRESH_TOKEN_EXPIRES_IN, '30d');
/* TOKEN_ISSUER: the iss of access tokens, minted and required (korio's). */
const ISSUER = process.env.TOKEN_ISSUER ? { issuer: process.env.TOKEN_ISSUER } : {};

const pbkdf2 = promisify(crypto.pbkdf2);

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

/*
 * store: store.js's (SQLite or MongoDB); presence: null for the process's
 * own presence (one process, or node:cluster workers telling each other),
 * or presence.js's cluster-wide one over Redis.
 */
function startApp(httpServer, io, secrets, store, presence) {

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
      { algorithm: 'HS256', expiresIn: TOKEN_EXPIRES_IN, ...ISSUER }),
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
  const authenticate = async (req, res, next) => {
    const token = bearer(req.headers.authorization);
    if (!token) return fail(res, 401, 'Unauthorized');
    let claims;
    try {
      claims = jwt.verify(token, secrets.token, { algorithms: ['HS256'], ...ISSUER });
    } catch (e) {
      return fail(res, 401, 'Unauthorized');
    }
    const uid = claims.sub || claims.id;
    try {
      const user = typeof uid === 'string' && OID.test(uid) ? await store.userById(uid) : undefined;
      if (!user) return fail(res, 401, 'Unauthorized');
      req.user = user;
    } catch (e) {
      return next(e);
    }
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
      const lower = store.normEmail(email);
      if (!lower) return bad(res, 'Validation failed', 'invalid email');
      if (await store.userByEmail(lower))
        return bad(res, 'A user with the given username is already registered');
      const salt = crypto.randomBytes(32).toString('hex');
      const hash = await hashPassword(password, salt);
      const id = objectId();
      const now = new Date().toISOString();
      try {
        await store.insertUser({ id, email: lower, hash, salt, created: now, updated: now });
      } catch (e) {
        if (e.duplicate)
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
      const lower = store.normEmail(email);
      const u = lower ? await store.userByEmail(lower) : undefined;
      if (!u) return res.status(401).json({ message: 'Password or username is incorrect' });
      const hash = Buffer.from(await hashPassword(password, u.salt), 'hex');
      const want = Buffer.from(u.hash, 'hex');
      if (hash.length !== want.length || !crypto.timingSafeEqual(hash, want))
        return res.status(401).json({ message: 'Password or username is incorrect' });
      res.json({ data: { ...mint(u.id, crypto.randomUUID()), userId: u.id } });
    } catch (e) { next(e); }
  });

  const IGNORED = new Set(['_id', 'id', 'created', 'updated', '__v']);

  app.get('/todos', authenticate, async (req, res, next) => {
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
    try {
      let field = 'ownerId', arg = req.user.id;
      if (projectId) {
        const p = await store.project(projectId);
        if (!p) return fail(res, 404, 'Not Found');
        if (!req.user.admin && !(await store.isMember(projectId, req.user.id)))
          return fail(res, 403, 'Forbidden');
        field = 'projectId'; arg = projectId;
      }
      const { total, rows } = await store.todos(field, arg, limit, (page - 1) * limit);
      const body = { data: rows.map(todoDoc), limit, more: page * limit < total, total };
      if (req.query.page !== undefined) body.page = req.query.page;
      res.json(body);
    } catch (e) { next(e); }
  });

  app.post('/todos', authenticate, async (req, res, next) => {
    try {
      await createTodo(req, res);
    } catch (e) { next(e); }
  });
  const createTodo = async (req, res) => {
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
      if (!(await store.project(b.projectId))) return bad(res, 'Invalid projectId', 'projectId');
      members = await store.members(b.projectId);
      if (!req.user.admin && !members.includes(req.user.id))
        return fail(res, 403, 'Forbidden');
      projectId = b.projectId;
    }
    const now = new Date().toISOString();
    const t = { id: objectId(), title: b.title, completed: b.completed === true ? 1 : 0,
      ownerId: req.user.id, projectId, created: now, updated: now };
    await store.insertTodo(t);
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
  };

  app.post('/projects', authenticate, async (req, res, next) => {
    try {
      await createProject(req, res);
    } catch (e) { next(e); }
  });
  const createProject = async (req, res) => {
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
    await store.insertProject(p, members);
    res.status(201).json({ data: projectDoc(p, members) });
  };

  app.use((req, res) => fail(res, 404, 'Not Found'));
  app.use((err, req, res, next) => {
    if (err.type === 'entity.too.large') return fail(res, 413, 'Payload Too Large');
    if (err.type === 'entity.parse.failed') return bad(res, 'Invalid JSON');
    console.error(err);
    fail(res, 500, 'Internal Server Error');
  });
  /*
   * Socket.IO answers its own path (its listener is on the same server):
   * the catch-all 404 above answered long-polling requests before it.
   */
  httpServer.on('request', (req, res) => {
    if (!req.url.startsWith('/socket.io/')) app(req, res);
  });

  /* ---- Socket.IO ---- */

  io.use(async (socket, next) => {
    const token = bearer(socket.handshake.auth && socket.handshake.auth.token);
    if (!token) return next(new Error('Authentication required'));
    let claims;
    try {
      claims = jwt.verify(token, secrets.token, { algorithms: ['HS256'], ...ISSUER });
    } catch (e) {
      return next(new Error('Invalid token'));
    }
    const uid = claims.sub || claims.id;
    try {
      if (typeof uid !== 'string' || !OID.test(uid) || !(await store.userById(uid)))
        return next(new Error('User not found'));
    } catch (e) {
      return next(new Error('Service unavailable'));
    }
    socket.data.userId = uid;
    next();
  });

  /*
   * Presence: users with at least one socket. Over Redis (presence.js,
   * cluster mode) a new socket gets the list at once and every socket an
   * update when it changes. Otherwise each process counts its own sockets
   * per user; in a node:cluster the processes tell each other when a user
   * appears or goes (serverSideEmit) and each sends the list to its own
   * sockets.
   */
  if (!presence) presence = localPresence(io);

  /* Every node answers cluster:ping (serverSideEmitWithAck) with its x. */
  io.on('cluster:ping', (x, cb) => {
    if (typeof cb === 'function') cb(x);
  });

  const ack = (cb, body, socket) => {
    if (typeof cb === 'function') cb(body);
    else if (body.error) socket.emit('error', body);
  };

  io.on('connection', (socket) => {
    const uid = socket.data.userId;
    socket.join(`user:${uid}`);
    presence.join(uid);
    if (presence.nodeId) socket.emit('presence:update', presence.list());

    socket.on('subscribe:todos', (cb) => {
      socket.join(`todos:${uid}`);
      ack(cb, { ok: true }, socket);
    });
    socket.on('unsubscribe:todos', (cb) => {
      socket.leave(`todos:${uid}`);
      ack(cb, { ok: true }, socket);
    });
    socket.on('join:project', async (projectId, cb) => {
      if (typeof projectId !== 'string' || !OID.test(projectId))
        return ack(cb, { error: 'projectId must be 24 hex digits' }, socket);
      let member;
      try {
        member = await store.isMember(projectId, uid);
      } catch (e) {
        return ack(cb, { error: 'Service unavailable' }, socket);
      }
      if (!member) return ack(cb, { error: 'Forbidden' }, socket);
      socket.join(`project:${projectId}`);
      ack(cb, { ok: true }, socket);
    });
    socket.on('leave:project', (projectId, cb) => {
      if (typeof projectId !== 'string' || !OID.test(projectId))
        return ack(cb, { error: 'projectId must be 24 hex digits' }, socket);
      socket.leave(`project:${projectId}`);
      ack(cb, { ok: true }, socket);
    });
    socket.on('disconnect', () => presence.leave(uid));
    if (DEBUG_ENDPOINTS) debugEvents(io, socket, presence);
  });
}

/*
 * KORIO_DEBUG_ENDPOINTS=true (tests only), as korio's debug:worker:
 * debug:cluster acks {nodeId, serverCount}; debug:cluster-ping acks
 * {replies} of serverSideEmitWithAck('cluster:ping', x) to the other
 * nodes, or {error}.
 */
function debugEvents(io, socket, presence) {
  socket.on('debug:cluster', async (cb) => {
    if (typeof cb !== 'function') return;
    try {
      cb({ nodeId: presence.nodeId ?? null, serverCount: await io.of('/').adapter.serverCount() });
    } catch (e) {
      cb({ error: e.message });
    }
  });
  socket.on('debug:cluster-ping', async (x, cb) => {
    if (typeof cb !== 'function') return;
    try {
      cb({ replies: await io.serverSideEmitWithAck('cluster:ping', x) });
    } catch (e) {
      cb({ error: e.message });
    }
  });
}

/* Presence within one process or one node:cluster (no Redis). */
function localPresence(io) {
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
  return {
    list: presenceList,
    join(uid) {
      const n = (local.get(uid) || 0) + 1;
      local.set(uid, n);
      if (n === 1) presenceChanged(uid, true);
    },
    leave(uid) {
      const left = local.get(uid) - 1;
      if (left > 0) {
        local.set(uid, left);
      } else {
        local.delete(uid);
        presenceChanged(uid, false);
      }
    },
  };
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

/* ---- cluster mode (REDIS_URL) ----------------------------------------- */

/* node-redis emits an error at every reconnection try: one line per outage. */
function quietErrors(client, what) {
  let down = false;
  client.on('error', (e) => {
    if (!down) console.error(`peer: ${what}: redis unreachable (${e.message})`);
    down = true;
  });
  client.on('ready', () => {
    if (down) console.error(`peer: ${what}: redis reachable again`);
    down = false;
  });
}

/* The Redis adapter on io and korio's presence; resolves to the presence. */
async function joinCluster(io) {
  const { createClient } = require('redis');
  const { createAdapter } = require('@socket.io/redis-adapter');
  const { createPresence } = require('./presence');
  const pub = createClient({ url: REDIS_URL });
  const sub = pub.duplicate();
  quietErrors(pub, 'adapter');
  quietErrors(sub, 'adapter');
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub));
  const presence = createPresence({
    url: REDIS_URL,
    onUpdate: (ids) => io.local.emit('presence:update', ids),
    log: (m) => console.error(`peer: ${m}`),
  });
  await presence.start();
  const leave = async () => {
    await Promise.race([presence.stop(), new Promise((r) => setTimeout(r, 1000))]);
    process.exit(0);
  };
  process.on('SIGTERM', leave);
  process.on('SIGINT', leave);
  return presence;
}

async function openStore() {
  return MONGODB_URI ? mongoStore(MONGODB_URI) : sqliteStore(DATA_DIR);
}

/* ---- process roles ---------------------------------------------------- */

function fatal(e) {
  console.error(`peer: cannot start: ${e.message}`);
  process.exit(1);
}

if (WORKERS <= 1) {
  (async () => {
    ensureSecrets();
    if (!MONGODB_URI) createSqliteSchema(DATA_DIR);
    const httpServer = http.createServer();
    const io = new Server(httpServer, ioOptions());
    const presence = REDIS_URL ? await joinCluster(io) : null;
    startApp(httpServer, io, secretsFromEnv(), await openStore(), presence);
    httpServer.listen(PORT, BIND, () =>
      console.log(`peer: one process ${process.pid} on http://${BIND}:${PORT}` +
        (presence ? `, cluster node ${presence.nodeId}` : '')));
  })().catch(fatal);
} else if (cluster.isPrimary) {
  const { setupMaster } = require('@socket.io/sticky');
  ensureSecrets();
  if (!MONGODB_URI) createSqliteSchema(DATA_DIR);
  const httpServer = http.createServer();
  stopReadingHandedSockets();
  setupMaster(httpServer, { loadBalancingMethod: 'least-connection' });
  if (!REDIS_URL) require('@socket.io/cluster-adapter').setupPrimary();
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
  (async () => {
    const { setupWorker } = require('@socket.io/sticky');
    const httpServer = http.createServer();
    const io = new Server(httpServer, ioOptions());
    let presence = null;
    if (REDIS_URL)
      presence = await joinCluster(io);
    else
      io.adapter(require('@socket.io/cluster-adapter').createAdapter());
    setupWorker(io);
    startApp(httpServer, io, secretsFromEnv(), await openStore(), presence);
    process.send('peer:ready');
  })().catch(fatal);
}
