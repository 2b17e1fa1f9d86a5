// A Node Socket.IO 4.8 node of a Redis cluster, for tests/integ/60-redis:
// socket.io with @socket.io/redis-adapter 8.3 (classic createAdapter, redis
// 4.7 clients) and an @socket.io/redis-emitter 5.1, driven by the test over
// the IPC channel of child_process.fork():
//
//   node node-node.mjs <port> <redis-url>
//   -> {ready: true}; then {id, cmd, ...args} -> {id, ok, value} or {id, error}
//
// Its clients may join any room ("join" event, ack) and answer "ask" acks
// with "ack-<socket id>". It answers the server-side event cluster:ping
// with its argument, as every node of a korio cluster does.

import http from "node:http";

import { createAdapter } from "@socket.io/redis-adapter";
import { Emitter } from "@socket.io/redis-emitter";
import { createClient } from "redis";
import { Server } from "socket.io";

const [port, redisUrl] = process.argv.slice(2);

const pub = createClient({ url: redisUrl });
const sub = pub.duplicate();
const emitterClient = pub.duplicate();
for (const c of [pub, sub, emitterClient]) c.on("error", () => {});
await Promise.all([pub.connect(), sub.connect(), emitterClient.connect()]);

const httpServer = http.createServer();
const io = new Server(httpServer, { adapter: createAdapter(pub, sub) });
const emitter = new Emitter(emitterClient);

io.on("connection", (socket) => {
  socket.on("join", (room, cb) => {
    socket.join(room);
    if (typeof cb === "function") cb(true);
  });
  socket.on("ask", (x, cb) => {
    if (typeof cb === "function") cb(`ack-${socket.id}`);
  });
});
io.on("cluster:ping", (x, cb) => {
  if (typeof cb === "function") cb(x);
});

const target = (op, m) => {
  let t = op;
  if (m.rooms?.length) t = t.to(m.rooms);
  if (m.except?.length) t = t.except(m.except);
  return t;
};

const cmds = {
  serverCount: () => io.of("/").adapter.serverCount(),
  allRooms: async () => [...(await io.of("/").adapter.allRooms())],
  fetchSockets: async (m) =>
    (await target(io, m).fetchSockets()).map((s) => ({
      id: s.id,
      rooms: [...s.rooms],
      handshake: s.handshake,
      data: s.data,
    })),
  emit: (m) => {
    const args = (m.args ?? []).map((a) => (a && a.$bin ? Buffer.from(a.$bin, "hex") : a));
    target(io, m).emit(m.event, ...args);
  },
  remoteEmit: async (m) => {
    const [s] = await io.in(m.sid).fetchSockets();
    if (!s) throw new Error(`no socket ${m.sid}`);
    s.emit(m.event, ...(m.args ?? []));
  },
  emitter: (m) => {
    const args = (m.args ?? []).map((a) => (a && a.$bin ? Buffer.from(a.$bin, "hex") : a));
    target(emitter, m).emit(m.event, ...args);
  },
  socketsJoin: (m) => target(io, m).socketsJoin(m.join),
  socketsLeave: (m) => target(io, m).socketsLeave(m.leave),
  disconnectSockets: (m) => target(io, m).disconnectSockets(m.close === true),
  emitterJoin: (m) => target(emitter, m).socketsJoin(m.join),
  emitterLeave: (m) => target(emitter, m).socketsLeave(m.leave),
  emitterDisconnect: (m) => target(emitter, m).disconnectSockets(m.close === true),
  emitterServerSide: (m) => emitter.serverSideEmit(m.event, ...(m.args ?? [])),
  serverSideEmitWithAck: (m) => io.serverSideEmitWithAck(m.event, ...(m.args ?? [])),
  emitWithAck: (m) => target(io, m).timeout(m.timeout ?? 4000).emitWithAck(m.event, ...(m.args ?? [])),
  publish: (m) => pub.publish(m.channel, Buffer.from(m.hex, "hex")),
};

process.on("message", async (m) => {
  try {
    const value = await cmds[m.cmd](m);
    process.send({ id: m.id, ok: true, value });
  } catch (e) {
    process.send({ id: m.id, error: String(e?.message ?? e) });
  }
});

// The adapter's decode has no try/catch: garbage on a broadcast channel
// throws here. Count it rather than die, and say so to the test.
process.on("uncaughtException", (e) => {
  process.send({ uncaught: String(e?.message ?? e) });
});

httpServer.listen(Number(port), "127.0.0.1", () => process.send({ ready: true }));
process.on("SIGTERM", async () => {
  io.close();
  await Promise.allSettled([pub.quit(), sub.quit(), emitterClient.quit()]);
  process.exit(0);
});
