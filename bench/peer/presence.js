'use strict';
/*
 * Cluster-wide presence over Redis: korio's convention, section 10 of
 * shared/docs/redis-adapter.md, which every node of a korio cluster speaks,
 * korio or Node. This module is the convention written out in full, on its
 * own (node-redis 4 only), so that korio's C implementation can be checked
 * against it, and so that any Node Socket.IO server can join:
 *
 *   const p = createPresence({ url, onUpdate: (ids) =>
 *       io.local.emit('presence:update', ids) });
 *   await p.start();
 *   p.join(userId); p.leave(userId);   // each socket's connect, disconnect
 *   p.list();                          // the sorted ids, now
 *   await p.stop();                    // a clean exit: gone at once
 *
 * Keys (P = "socket.io-presence", N = this node's id, 16 random hex digits
 * picked at start):
 *   P#N#        hash: "alive" -> N's last heartbeat (ms since the epoch),
 *               and <userId> -> how many sockets of that user N holds
 *               (decimal), for each user with sockets on N. It expires
 *               TTL_MS after the last write, so a killed node's users go
 *               by themselves.
 *   P#nodes     set: every node id that may have a hash.
 *   P#changed   channel: a node's id, published after its users changed.
 *
 * What a node does:
 *   heartbeat, every HEARTBEAT_MS and whenever its Redis connection is
 *     ready again: MULTI SADD P#nodes N, HSET P#N# alive <now>, PEXPIRE
 *     P#N# TTL_MS, EXEC. If that HSET created "alive" (reply 1), the hash
 *     had been lost (Redis restarted, or the node stalled past the TTL),
 *     and if a change could not be written (Redis was unreachable): the
 *     hash again, whole (MULTI SADD, DEL P#N#, HSET alive and every local
 *     user, PEXPIRE, EXEC), then PUBLISH P#changed N.
 *   a socket comes or goes: the user's count changes; MULTI SADD P#nodes N,
 *     HSET P#N# <user> <count> (HDEL when it falls to 0), PEXPIRE P#N#
 *     TTL_MS, EXEC; when the user appeared (0 -> 1) or vanished (1 -> 0),
 *     PUBLISH P#changed N.
 *   who is present: the node's own users (from memory, never from Redis,
 *     so its own writes in flight can't race a read), plus the fields but
 *     "alive" of every other member of P#nodes (SMEMBERS, then HKEYS each);
 *     a member whose hash is gone is dead and is SREMed.
 *   announcing: the union is recomputed on every message on P#changed from
 *     another node, after its own changes and every RECOMPUTE_MS; onUpdate
 *     gets the sorted ids whenever they differ from what it got last, at
 *     most once each MIN_GAP_MS (changes in between are coalesced: at most
 *     4 updates a second). For GRACE_MS after a reconnection to Redis the
 *     union only grows: the other nodes write their hashes again within a
 *     heartbeat of a Redis restart, and their users should not flicker out
 *     and back meanwhile.
 *   stop: MULTI DEL P#N#, SREM P#nodes N, EXEC, PUBLISH P#changed N.
 *
 * A killed node's users vanish everywhere within TTL_MS + RECOMPUTE_MS of
 * its last heartbeat (10 s; the convention promises 15 s after a kill), a
 * Redis restart heals within one heartbeat. While Redis is unreachable
 * commands fail at once (no offline queue: nothing piles up), the node
 * keeps its last view and logs the outage once.
 */

const crypto = require('node:crypto');
const { createClient } = require('redis');

const PREFIX = 'socket.io-presence';
const NODES = `${PREFIX}#nodes`;
const CHANGED = `${PREFIX}#changed`;
const HEARTBEAT_MS = 2000;
const TTL_MS = 8000;
const RECOMPUTE_MS = 1000;
const MIN_GAP_MS = 250;
const GRACE_MS = HEARTBEAT_MS + 1000;

const nodeKey = (id) => `${PREFIX}#${id}#`;

function createPresence({ url, onUpdate, log = (m) => console.error(m), nodeId }) {
  const id = nodeId ?? crypto.randomBytes(8).toString('hex');
  const key = nodeKey(id);
  const local = new Map();          // userId -> sockets on this node
  let remote = new Set();           // the other nodes' users, last read
  let lastSent = null;              // JSON of the ids onUpdate got last
  let lastSentAt = 0;
  let flushTimer = null;
  let computing = false;
  let again = false;
  let graceUntil = 0;
  let everReady = false;
  let down = false;
  let dirty = false;                // a change did not reach Redis
  let stopped = false;
  const timers = [];

  const cmd = createClient({ url, disableOfflineQueue: true });
  const sub = cmd.duplicate();

  /* One line per outage, not one per failed command or reconnect try. */
  const failed = (e) => {
    if (down || stopped) return;
    down = true;
    log(`presence: redis unreachable (${e && e.message ? e.message : e}); keeping the last view`);
  };
  cmd.on('error', failed);
  sub.on('error', failed);
  cmd.on('ready', () => {
    if (everReady) graceUntil = Date.now() + GRACE_MS;
    everReady = true;
    if (down) log('presence: redis reachable again');
    down = false;
    heartbeat();
  });

  function list() {
    const all = new Set(remote);
    for (const u of local.keys()) all.add(u);
    return [...all].sort();
  }

  function flush() {
    flushTimer = null;
    const ids = list();
    const s = JSON.stringify(ids);
    if (s === lastSent) return;
    lastSent = s;
    lastSentAt = Date.now();
    onUpdate(ids);
  }

  function announce() {
    if (flushTimer || stopped) return;
    const wait = lastSentAt + MIN_GAP_MS - Date.now();
    if (wait > 0) flushTimer = setTimeout(flush, wait);
    else flush();
  }

  async function heartbeat() {
    if (stopped || !cmd.isReady) return;
    try {
      const r = await cmd.multi()
        .sAdd(NODES, id)
        .hSet(key, 'alive', String(Date.now()))
        .pExpire(key, TTL_MS)
        .exec();
      if (Number(r[1]) === 1 || dirty) await rewrite();
    } catch (e) {
      failed(e);
    }
  }

  /*
   * The hash was lost, or a change could not be written: the hash again,
   * whole (its users are exactly the local ones), then tell the others.
   */
  async function rewrite() {
    const fields = { alive: String(Date.now()) };
    for (const [u, n] of local) fields[u] = String(n);
    dirty = false;
    await cmd.multi().sAdd(NODES, id).del(key).hSet(key, fields)
      .pExpire(key, TTL_MS).exec();
    await cmd.publish(CHANGED, id);
  }

  async function write(userId, n, changed) {
    if (stopped) return;
    if (!cmd.isReady) {
      dirty = true;
      return;
    }
    try {
      const m = cmd.multi().sAdd(NODES, id);
      if (n > 0) m.hSet(key, userId, String(n));
      else m.hDel(key, userId);
      await m.pExpire(key, TTL_MS).exec();
      if (changed) await cmd.publish(CHANGED, id);
    } catch (e) {
      dirty = true;
      failed(e);
    }
  }

  async function recompute() {
    if (stopped) return;
    if (computing) {
      again = true;
      return;
    }
    computing = true;
    try {
      do {
        again = false;
        if (!cmd.isReady) break;
        const others = (await cmd.sMembers(NODES)).filter((m) => m !== id);
        const fields = await Promise.all(others.map((m) => cmd.hKeys(nodeKey(m))));
        const users = Date.now() < graceUntil ? new Set(remote) : new Set();
        const dead = [];
        others.forEach((m, i) => {
          if (fields[i].length === 0) dead.push(m);
          for (const f of fields[i]) if (f !== 'alive') users.add(f);
        });
        if (dead.length > 0) await cmd.sRem(NODES, dead);
        remote = users;
      } while (again);
    } catch (e) {
      failed(e);
    } finally {
      computing = false;
    }
    announce();
  }

  function join(userId) {
    const n = (local.get(userId) || 0) + 1;
    local.set(userId, n);
    write(userId, n, n === 1);
    if (n === 1) announce();
  }

  function leave(userId) {
    const n = (local.get(userId) || 0) - 1;
    if (n > 0) local.set(userId, n);
    else local.delete(userId);
    write(userId, Math.max(n, 0), n <= 0);
    if (n <= 0) announce();
  }

  async function start() {
    await cmd.connect();
    await sub.connect();
    await sub.subscribe(CHANGED, (from) => {
      if (from !== id) recompute();
    });
    const hb = setInterval(heartbeat, HEARTBEAT_MS);
    const rc = setInterval(recompute, RECOMPUTE_MS);
    hb.unref();
    rc.unref();
    timers.push(hb, rc);
    await heartbeat();
    await recompute();
  }

  async function stop() {
    if (stopped) return;
    stopped = true;
    for (const t of timers) clearInterval(t);
    if (flushTimer) clearTimeout(flushTimer);
    try {
      if (cmd.isReady) {
        await cmd.multi().del(key).sRem(NODES, id).exec();
        await cmd.publish(CHANGED, id);
      }
    } catch (e) {
      // Redis is gone: the hash expires by itself.
    }
    await Promise.allSettled([cmd.disconnect(), sub.disconnect()]);
  }

  return { nodeId: id, join, leave, list, start, stop };
}

module.exports = {
  createPresence, PREFIX, NODES, CHANGED, HEARTBEAT_MS, TTL_MS, RECOMPUTE_MS, MIN_GAP_MS,
  nodeKey,
};
