// Helpers for the realtime tests: REST calls, users, sockets that record
// every event they receive.

import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { io } from "socket.io-client";

export async function api(srv, method, p, { token, body } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(`${srv.url}${p}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: r.status, body: json };
}

let seq = 0;
export async function signup(srv, prefix = "rt") {
  const email = `${prefix}-${process.pid}-${Date.now()}-${seq++}@example.com`;
  const r = await api(srv, "POST", "/auth/signup", { body: { email, password: "correct horse battery" } });
  if (r.status !== 200) throw new Error(`signup ${r.status} ${JSON.stringify(r.body)}`);
  return { email, token: r.body.data.token, id: r.body.data.userId };
}

// A HS256 JWT signed like jsonwebtoken does.
export function mint(secret, claims) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const head = b64({ alg: "HS256", typ: "JWT" });
  const body = b64(claims);
  const sig = crypto.createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

export function devSecret(srv) {
  return fs.readFileSync(path.join(srv.dataDir, "token_secret"), "utf8").trim();
}

// Connects and resolves with a socket whose received events are kept in
// socket.events (name -> array of first arguments), or rejects with the
// connect_error.
export function connect(srv, auth, opts = {}) {
  return new Promise((resolve, reject) => {
    const socket = io(srv.url, {
      forceNew: true,
      reconnection: false,
      timeout: 5000,
      transports: opts.transports ?? ["websocket"],
      auth,
    });
    socket.events = new Map();
    socket.onAny((name, ...args) => {
      if (!socket.events.has(name)) socket.events.set(name, []);
      socket.events.get(name).push(args[0]);
    });
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => {
      socket.close();
      reject(err);
    });
  });
}

export function got(socket, name) {
  return socket.events.get(name) ?? [];
}

export async function until(cond, ms = 5000, what = "condition") {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function emitAck(socket, event, ...args) {
  return socket.timeout(5000).emitWithAck(event, ...args);
}
