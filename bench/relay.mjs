// The cost of a long-polling request relayed to another node (issue 16,
// no sticky sessions): two nodes of the plugin's conformance server
// (tests/fixture, 2 workers each, its /engine.io/ echo endpoint) on one
// redis-server. One session opened on node A; then, alternately, ROUNDS
// round trips (POST a message, GET its echo) sent to A itself and to B
// (which relays both requests to A over Redis). Prints p50/p99 of a round
// trip each way and the difference per relayed request (a round trip is
// two requests).
//
//   node bench/relay.mjs [ROUNDS]      (make bench-relay; default 2000)

import http from "node:http";

import { startRedis } from "../tests/integ/cluster-util.mjs";
import { startFixture } from "../tests/integ/sio-util.mjs";

const ROUNDS = Number(process.argv[2] ?? 2000);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function req(port, method, q, body) {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: "127.0.0.1", port, method, agent,
      path: `/engine.io/?EIO=4&transport=polling${q}`,
      headers: body ? { "content-type": "text/plain;charset=UTF-8" } : {} }, (res) => {
      let t = "";
      res.on("data", (d) => { t += d; });
      res.on("end", () => resolve({ status: res.statusCode, text: t }));
    });
    r.on("error", reject);
    r.end(body);
  });
}

// POST one message, GET until its echo (answering pings): ms taken.
async function roundTrip(port, sid, n) {
  const t0 = process.hrtime.bigint();
  const msg = `4m${n}`;
  const p = await req(port, "POST", `&sid=${sid}`, msg);
  if (p.status !== 200) throw new Error(`POST ${p.status} ${p.text}`);
  for (;;) {
    const g = await req(port, "GET", `&sid=${sid}`);
    if (g.status !== 200) throw new Error(`GET ${g.status} ${g.text}`);
    const packets = g.text.split("\x1e");
    if (packets.includes("2")) await req(port, "POST", `&sid=${sid}`, "3");
    if (packets.includes(msg)) break;
  }
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const pct = (a, q) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(q * a.length))];

const redis = await startRedis();
const env = { REDIS_URL: redis.url };
const a = await startFixture(2, { env, proxy: false });
const b = await startFixture(2, { env, proxy: false });
try {
  const open = await req(a.port, "GET", "");
  const sid = JSON.parse(open.text.slice(1)).sid;
  const direct = [];
  const relayed = [];
  for (let i = 0; i < 100; i++) await roundTrip(i % 2 ? a.port : b.port, sid, i);
  for (let i = 0; i < ROUNDS; i++) {
    direct.push(await roundTrip(a.port, sid, 2 * i));
    relayed.push(await roundTrip(b.port, sid, 2 * i + 1));
  }
  const row = (name, v) => `| ${name} | ${pct(v, 0.5).toFixed(3)} | ${pct(v, 0.99).toFixed(3)} |`;
  console.log(`# relay cost: ${ROUNDS} round trips (POST + GET) each way, session on node A, fixture nodes of 2 workers`);
  console.log("| round trip | p50 (ms) | p99 (ms) |");
  console.log("|---|---|---|");
  console.log(row("to A (the session's node)", direct));
  console.log(row("to B (relayed to A over Redis)", relayed));
  console.log(`extra per relayed request (p50): ${((pct(relayed, 0.5) - pct(direct, 0.5)) / 2).toFixed(3)} ms; ` +
    `relayed/direct p50: ${(pct(relayed, 0.5) / pct(direct, 0.5)).toFixed(2)}x`);
} finally {
  await a.stop({ allowBadLog: true });
  await b.stop({ allowBadLog: true });
  await redis.stop();
}
