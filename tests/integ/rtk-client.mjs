// A Terreno app's data layer in Node, for tests/integ/35-terreno-rtk: the
// real @terreno/rtk 57.4.0 realtime code (realtimeList, realtimeDocument,
// setRealtimeSocket; bundled by tests/rtk/build.mjs) on a real RTK Query
// store (@reduxjs/toolkit createApi + fetchBaseQuery) and a real
// socket.io-client socket, as an app wires them:
//
//   getTodos:    GET /todos[?filters]   onCacheEntryAdded realtimeList("todos")
//   getTodo:     GET /todos/:id         onCacheEntryAdded realtimeDocument("todos")
//   getProjects: GET /projects          onCacheEntryAdded realtimeList("projects")
//   getProject:  GET /projects/:id      onCacheEntryAdded realtimeDocument("projects")
//
// Answers are unwrapped as rtk's own base query does (emptyApi.ts): a body
// with the key `more` (a list) is kept whole, anything else gives its
// `data`. Each client loads its own instance of the bundle (rtk keeps the
// socket in a module variable, one per app), has its own store and socket,
// and counts its HTTP requests, so a test can tell a cache patched by
// `sync` events from one fetched again.

import { pathToFileURL } from "node:url";
import { configureStore } from "@reduxjs/toolkit";
import { createApi, fetchBaseQuery } from "@reduxjs/toolkit/query";
import { io } from "socket.io-client";
import { buildRtk } from "../rtk/build.mjs";

let instances = 0;

// Builds the bundle if needed (build/rtk; make npm-deps normally has) and
// loads a fresh instance of it. rtk's deprecation warning (once per
// instance) and constants.js's "Base URL set to ..." line are kept out of
// the test output.
export async function loadRtk() {
  const bundle = await buildRtk({ quiet: true });
  const { debug, warn } = console;
  const noise = [];
  console.debug = (...a) => noise.push(a);
  console.warn = (...a) => noise.push(a);
  try {
    const mod = await import(`${pathToFileURL(bundle).href}?instance=${++instances}`);
    const quiet = (fn) => {
      console.warn = (...a) => noise.push(a);
      try {
        return fn();
      } finally {
        console.warn = warn;
      }
    };
    return { mod, noise, quiet };
  } finally {
    console.debug = debug;
    console.warn = warn;
  }
}

// Opens a client of the server at url for a user's access token.
// Resolves once its socket is connected and handed to rtk.
//   client.sub(endpoint, arg): adds a cache (like a mounted hook) and
//     resolves with its first answer
//   client.data(endpoint, arg): the cache's current data
//   client.requests: every HTTP request made, [{method, url}]
//   client.inbound / client.outbound: socket events [{name, args}]
//   client.ready(ms): rtk's subscriptions are in force on the server
//   client.removeCaches(ms): the caches go (rtk unsubscribes)
//   client.close(): closes the socket
export async function rtkClient(url, token, { name = "client", transports = ["polling", "websocket"] } = {}) {
  const { mod: rtk, quiet } = await loadRtk();
  const requests = [];
  const fetchFn = (input, init) => {
    const req = input instanceof Request ? input : new Request(input, init);
    requests.push({ method: req.method, url: req.url });
    return fetch(input, init);
  };
  const raw = fetchBaseQuery({
    baseUrl: url,
    fetchFn,
    prepareHeaders: (headers) => {
      headers.set("authorization", `Bearer ${token}`);
      return headers;
    },
  });
  const baseQuery = async (args, api, extra) => {
    const r = await raw(args, api, extra);
    if (r.data && typeof r.data === "object" && !("more" in r.data) && "data" in r.data) {
      return { ...r, data: r.data.data };
    }
    return r;
  };
  const endpoints = quiet(() => ({
    todoList: rtk.realtimeList("todos"),
    todoDoc: rtk.realtimeDocument("todos"),
    projectList: rtk.realtimeList("projects"),
    projectDoc: rtk.realtimeDocument("projects"),
  }));
  const api = createApi({
    reducerPath: "terreno",
    baseQuery,
    // Removed caches go at once (rtk's unsubscribe runs then), and no timer
    // outlives the test.
    keepUnusedDataFor: 0,
    endpoints: (b) => ({
      getTodos: b.query({
        query: (arg) => ({ url: "/todos", params: arg ?? undefined }),
        onCacheEntryAdded: endpoints.todoList,
      }),
      getTodo: b.query({ query: (id) => `/todos/${id}`, onCacheEntryAdded: endpoints.todoDoc }),
      getProjects: b.query({
        query: (arg) => ({ url: "/projects", params: arg ?? undefined }),
        onCacheEntryAdded: endpoints.projectList,
      }),
      getProject: b.query({ query: (id) => `/projects/${id}`, onCacheEntryAdded: endpoints.projectDoc }),
    }),
  });
  const store = configureStore({
    reducer: { [api.reducerPath]: api.reducer },
    middleware: (gdm) => gdm({ serializableCheck: false, immutableCheck: false }).concat(api.middleware),
  });

  // The socket as rtk's useSocketConnection makes it (polling first, then
  // the upgrade; auth only in the CONNECT packet), without reconnecting:
  // rtk's realtime helpers subscribe once per cache.
  const socket = io(url, {
    autoConnect: false,
    forceNew: true,
    reconnection: false,
    timeout: 10000,
    transports,
  });
  socket.auth = { token: `Bearer ${token}` };
  const inbound = [];
  const outbound = [];
  socket.onAny((n, ...args) => inbound.push({ name: n, args }));
  socket.onAnyOutgoing((n, ...args) => outbound.push({ name: n, args }));
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
    socket.connect();
  });
  quiet(() => rtk.setRealtimeSocket(socket));

  const subs = [];
  const sent = (prefix) => outbound.filter((e) => e.name.startsWith(prefix));
  const client = {
    name,
    rtk,
    api,
    store,
    socket,
    requests,
    inbound,
    outbound,
    // The sync events received, first arguments only (a trailing
    // connection-state-recovery offset is ignored).
    syncs: () => inbound.filter((e) => e.name === "sync").map((e) => e.args[0]),
    // Adds a cache, as a mounted useGetTodosQuery(arg) would, and resolves
    // with its first answer.
    async sub(endpoint, arg) {
      const s = store.dispatch(api.endpoints[endpoint].initiate(arg));
      subs.push(s);
      const r = await s;
      if (r.isError) throw new Error(`${name}: ${endpoint}(${JSON.stringify(arg)}) failed: ${JSON.stringify(r.error)}`);
      return r.data;
    },
    entry: (endpoint, arg) => api.endpoints[endpoint].select(arg)(store.getState()),
    data: (endpoint, arg) => api.endpoints[endpoint].select(arg)(store.getState()).data,
    // Resolves once rtk has sent one subscribe:* per cache, every
    // subscribe:query has its query:subscribed, and the server has handled
    // them all: a later event's ack (the contract's unsubscribe:todos, a
    // no-op here) comes after, since a socket's events are handled in order.
    async ready(ms) {
      await waitFor(() => sent("subscribe:").length >= subs.length, ms, `${name}: rtk's subscribe events`);
      await waitFor(() => inbound.filter((e) => e.name === "query:subscribed").length >= sent("subscribe:query").length,
        ms, `${name}: query:subscribed`);
      const r = await socket.timeout(ms).emitWithAck("unsubscribe:todos");
      if (r?.ok !== true) throw new Error(`${name}: barrier ack ${JSON.stringify(r)}`);
    },
    // Removes every cache, as unmounting would; rtk then sends its
    // unsubscribe:* events. Resolves once the server has handled them.
    async removeCaches(ms) {
      const n = subs.length;
      for (const s of subs) s.unsubscribe();
      subs.length = 0;
      await waitFor(() => sent("unsubscribe:").length >= n, ms, `${name}: rtk's unsubscribe events`);
      const r = await socket.timeout(ms).emitWithAck("unsubscribe:todos");
      if (r?.ok !== true) throw new Error(`${name}: barrier ack ${JSON.stringify(r)}`);
    },
    close() {
      for (const s of subs) s.unsubscribe();
      subs.length = 0;
      socket.close();
    },
  };
  return client;
}

async function waitFor(cond, ms, what) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
