'use strict';
/*
 * The peer's store: SQLite through better-sqlite3 (the benchmark's, one
 * machine), or MongoDB with MONGODB_URI, in exactly korio's schema
 * (src/app/store/store_mongo*.c, store_schema.c), so korio nodes and peer
 * nodes share one database:
 *
 *   users     {_id: ObjectId, email, admin: false, created: Date,
 *              updated: Date, hash, salt}; unique index email_1
 *   todos     {_id, title, completed, [projectId: ObjectId], ownerId:
 *              ObjectId, created, updated}; indexes ownerId_1, projectId_1
 *   projects  {_id, name, members: [ObjectId], ownerId, created,
 *              updated}; index members_1
 *
 * Fields in korio's order; the database is the URI's, "korio" when it
 * names none. Emails are stored in korio's form (auth/email.c): NFKC,
 * lowercase, ASCII blanks trimmed; one with an invisible character
 * (format characters, default-ignorables) is refused. Passwords are
 * passport-local-mongoose's PBKDF2 in both (server.js).
 *
 * Every method returns a value or a promise of one; rows come out in the
 * SQLite shape (ids as hex strings, dates as ISO strings):
 *   userById(id)            {id, email, admin, created, updated} | undefined
 *   userByEmail(email)      the same with hash and salt | undefined
 *   insertUser(u)           throws an Error with .duplicate on a taken email
 *   project(id)             {id, name, ownerId, created, updated} | undefined
 *   members(projectId)      [userId]
 *   isMember(projectId, userId)
 *   insertProject(p, members), insertTodo(t)
 *   todos(field, value, limit, offset)   {total, rows}; field ownerId|projectId
 *   normEmail(s)            the stored form, or null if refused
 */

const fs = require('node:fs');
const path = require('node:path');

/* ---- SQLite ------------------------------------------------------------ */

function openSqlite(dataDir) {
  const Database = require('better-sqlite3');
  fs.mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, 'peer.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = ' +
    (process.env.SQLITE_FULL_SYNC === 'true' ? 'FULL' : 'NORMAL'));
  db.pragma('busy_timeout = 5000');
  return db;
}

function createSqliteSchema(dataDir) {
  const db = openSqlite(dataDir);
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
  db.close();
}

function sqliteStore(dataDir) {
  const db = openSqlite(dataDir);
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
  const insertProject = db.transaction((p, members) => {
    q.insertProject.run(p.id, p.name, p.ownerId, p.created, p.updated);
    members.forEach((m, i) => q.insertMember.run(p.id, m, i));
  });
  return {
    normEmail: (s) => s.toLowerCase(),
    userById: (id) => q.userById.get(id),
    userByEmail: (email) => q.userByEmail.get(email),
    insertUser(u) {
      try {
        q.insertUser.run(u.id, u.email, u.hash, u.salt, u.created, u.updated);
      } catch (e) {
        if (e.code === 'SQLITE_CONSTRAINT_UNIQUE') e.duplicate = true;
        throw e;
      }
    },
    project: (id) => q.project.get(id),
    members: (pid) => q.members.all(pid).map((r) => r.userId),
    isMember: (pid, uid) => !!q.isMember.get(pid, uid),
    insertProject,
    insertTodo: (t) => q.insertTodo.run(t.id, t.title, t.completed, t.ownerId,
      t.projectId, t.created, t.updated),
    todos(field, value, limit, offset) {
      const byProject = field === 'projectId';
      const total = (byProject ? q.countByProject : q.countByOwner).get(value).n;
      const rows = (byProject ? q.pageByProject : q.pageByOwner).all(value, limit, offset);
      return { total, rows };
    },
    close: () => db.close(),
  };
}

/* ---- MongoDB ------------------------------------------------------------ */

const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/u;
const REFUSED = /[\p{Cc}\p{Cs}\p{Co}\p{Cn}\p{Z}]/u;

/* korio's email form (auth/email.c); null when korio refuses it. */
function korioEmail(s) {
  if (s.includes('\0') || INVISIBLE.test(s)) return null;
  const e = s.normalize('NFKC').toLowerCase().normalize('NFKC')
    .replace(/^[\t-\r ]+|[\t-\r ]+$/g, '');
  if (e === '' || REFUSED.test(e) || INVISIBLE.test(e)) return null;
  const at = e.indexOf('@');
  return at > 0 && at < e.length - 1 ? e : null;
}

function mongoDbName(uri) {
  const m = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]*)/.exec(uri);
  return m && m[1] ? decodeURIComponent(m[1]) : 'korio';
}

const INDEXES = [
  ['users', 'email', true],
  ['todos', 'ownerId', false],
  ['todos', 'projectId', false],
  ['projects', 'members', false],
];

async function mongoStore(uri) {
  const { MongoClient, ObjectId } = require('mongodb');
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const db = client.db(mongoDbName(uri));
  const users = db.collection('users');
  const todos = db.collection('todos');
  const projects = db.collection('projects');

  /* As korio asks for them (store_mongo.c), so either may come first. */
  for (const [coll, field, unique] of INDEXES) {
    try {
      await db.command({ createIndexes: coll, indexes: [
        { key: { [field]: 1 }, name: `${field}_1`, unique }] });
    } catch (e) {
      console.error(`peer: cannot create index ${coll}.${field}_1: ${e.message}`);
    }
  }

  const oid = (hex) => ObjectId.createFromHexString(hex);
  const hex = (v) => (v instanceof ObjectId ? v.toHexString() : v == null ? v : String(v));
  const iso = (v) => (v instanceof Date ? v.toISOString() : v);
  const userRow = (u) => u && { id: hex(u._id), email: u.email, admin: !!u.admin,
    created: iso(u.created), updated: iso(u.updated), hash: u.hash, salt: u.salt };
  const todoRow = (t) => ({ id: hex(t._id), title: t.title, completed: !!t.completed,
    ownerId: hex(t.ownerId), projectId: t.projectId == null ? null : hex(t.projectId),
    created: iso(t.created), updated: iso(t.updated) });

  return {
    normEmail: korioEmail,
    async userById(id) {
      const u = userRow(await users.findOne({ _id: oid(id) },
        { projection: { hash: 0, salt: 0 } }));
      if (u) {
        delete u.hash;
        delete u.salt;
      }
      return u || undefined;
    },
    async userByEmail(email) {
      return userRow(await users.findOne({ email })) || undefined;
    },
    async insertUser(u) {
      try {
        await users.insertOne({ _id: oid(u.id), email: u.email, admin: false,
          created: new Date(u.created), updated: new Date(u.updated),
          hash: u.hash, salt: u.salt });
      } catch (e) {
        if (e.code === 11000) e.duplicate = true;
        throw e;
      }
    },
    async project(id) {
      const p = await projects.findOne({ _id: oid(id) });
      return p ? { id: hex(p._id), name: p.name, ownerId: hex(p.ownerId),
        created: iso(p.created), updated: iso(p.updated) } : undefined;
    },
    async members(pid) {
      const p = await projects.findOne({ _id: oid(pid) }, { projection: { members: 1 } });
      return p && Array.isArray(p.members) ? p.members.map(hex) : [];
    },
    async isMember(pid, uid) {
      return !!(await projects.findOne({ _id: oid(pid), members: oid(uid) },
        { projection: { _id: 1 } }));
    },
    async insertProject(p, members) {
      await projects.insertOne({ _id: oid(p.id), name: p.name, members: members.map(oid),
        ownerId: oid(p.ownerId), created: new Date(p.created), updated: new Date(p.updated) });
    },
    async insertTodo(t) {
      const doc = { _id: oid(t.id), title: t.title, completed: !!t.completed };
      if (t.projectId != null) doc.projectId = oid(t.projectId);
      doc.ownerId = oid(t.ownerId);
      doc.created = new Date(t.created);
      doc.updated = new Date(t.updated);
      await todos.insertOne(doc);
    },
    async todos(field, value, limit, offset) {
      const filter = { [field]: oid(value) };
      const [total, docs] = await Promise.all([
        todos.countDocuments(filter),
        todos.find(filter).sort({ _id: 1 }).skip(offset).limit(limit).toArray(),
      ]);
      return { total, rows: docs.map(todoRow) };
    },
    close: () => client.close(),
  };
}

module.exports = { createSqliteSchema, sqliteStore, mongoStore, korioEmail, mongoDbName };
