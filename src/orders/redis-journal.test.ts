/**
 * The Redis order journal and audit of an HA group on a real redis-server with appendonly and
 * appendfsync always: the file journal's rules (unknown on restart, states, marks, 7-day
 * retention, identity), plus fencing, durability across a kill -9 of Redis, and refusal while
 * Redis is unreachable.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FencedError } from "../ha/errors.js";
import { HaLease } from "../ha/lease.js";
import { connectHaRedis } from "../ha/redis.js";
import { type RedisServer, startRedis } from "../registry/test-support/redis-server.test-util.js";
import type { AuditRecord } from "../switch/order-journal.js";
import { OrderMap } from "../switch/order-map.js";
import { RedisOrderAudit } from "./redis-audit.js";
import { RedisOrderJournal, type RedisJournalOptions } from "./redis-journal.js";

let server: RedisServer;
let dir: string;
const clients: Redis[] = [];
let seq = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sb-redis-journal-"));
  server = await startRedis({ persistent: true, dir });
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});

/** A daemon of group `group` that holds the lease (or not, with `active: false`). */
async function daemon(group: string, holder: string, active = true) {
  const redis = await connectHaRedis(server.url);
  clients.push(redis);
  const lease = new HaLease({
    redis,
    group,
    holder,
    secret: holder,
    host: "h",
    pid: 1,
    leaseMs: 60_000,
    lines: ["default"],
    configHash: "x",
    now: () => Date.now(),
  });
  let token: number | null = null;
  if (active) {
    const g = await lease.acquire();
    if (g.status !== "granted") throw new Error(`not granted: ${g.status}`);
    token = g.token;
  }
  const fenced: FencedError[] = [];
  const open = (o: Partial<RedisJournalOptions> = {}) =>
    RedisOrderJournal.open({
      lease,
      line: "default",
      token: () => token,
      onFenced: (e) => fenced.push(e),
      ...o,
    });
  return { lease, redis, open, fenced, token: () => token };
}

function order(map: OrderMap, owner: string, localId: number, upstreamId: number) {
  return map.add({ owner, localId, upstreamId, upstreamClientId: 900, orderRef: `ref-${upstreamId}` });
}

async function lapse(redis: Redis, lease: HaLease): Promise<void> {
  await redis.pexpire(lease.keys.lease, 1);
  while ((await redis.exists(lease.keys.lease)) === 1) await new Promise((r) => setTimeout(r, 5));
}

describe("Redis order journal", () => {
  it("brings back a record whose write was never confirmed as unknown, and a confirmed one as written", async () => {
    const d = await daemon(`j${seq++}`, "a");
    const j = await d.open();
    expect(j.load()).toEqual({ orders: [], highWater: {} });
    const map = new OrderMap();
    const sent = order(map, "proxy:3", 1, 17);
    const unsent = order(map, "proxy:3", 2, 18);
    await j.intent(sent, 1);
    j.written(sent);
    await j.intent(unsent, 1); // the daemon dies here, before the upstream write
    await j.flush();

    const again = (await d.open()).load();
    expect(again.highWater).toEqual({ "proxy:3": 2 });
    const byId = new Map(again.orders.map((o) => [o.upstreamId, o]));
    expect(byId.get(17)).toMatchObject({
      owner: "proxy:3",
      localId: 1,
      state: "written",
      orderRef: "ref-17",
    });
    expect(byId.get(18)).toMatchObject({ localId: 2, state: "unknown" });
  });

  it("keeps states and permIds, and drops orders finished more than 7 days ago (marks stay)", async () => {
    const d = await daemon(`j${seq++}`, "a");
    let now = Date.UTC(2026, 0, 5);
    const j = await d.open({ now: () => now });
    const map = new OrderMap();
    const old = order(map, "proxy:1", 1, 5);
    const live = order(map, "proxy:1", 2, 6);
    for (const e of [old, live]) {
      await j.intent(e, 1);
      j.written(e);
    }
    old.state = "finished";
    old.permId = 4242;
    old.finishedAt = now;
    j.update(old);
    live.state = "live";
    live.permId = 4343;
    j.update(live);
    await j.flush();

    now += 8 * 24 * 3_600_000;
    const later = (await d.open({ now: () => now })).load();
    expect(later.orders.map((o) => [o.upstreamId, o.state, o.permId])).toEqual([[6, "live", 4343]]);
    expect(later.highWater).toEqual({ "proxy:1": 2 });
    expect(await d.redis.hexists(d.lease.keys.line("default").orders, "5")).toBe(0);
  });

  it("an intent resolves only once Redis has it on disk: a kill -9 of Redis right after loses nothing", async () => {
    const group = `j${seq++}`;
    const d = await daemon(group, "a");
    const j = await d.open();
    const map = new OrderMap();
    const e = order(map, "proxy:4", 9, 31);
    await j.intent(e, 1);
    await server.restart(); // SIGKILL, then start again from the append-only file
    const d2 = await daemon(group, "a", false);
    const again = (await d2.open()).load();
    expect(again.orders).toEqual([expect.objectContaining({ upstreamId: 31, localId: 9, state: "unknown" })]);
    expect(again.highWater).toEqual({ "proxy:4": 9 });
  });

  it("refuses every write under a stale token and reports it at once; the new holder's writes go through", async () => {
    const group = `j${seq++}`;
    const a = await daemon(group, "a");
    const ja = await a.open();
    const map = new OrderMap();
    const first = order(map, "proxy:1", 1, 40);
    await ja.intent(first, 1);
    ja.written(first);
    await ja.flush();

    await lapse(a.redis, a.lease);
    const b = await daemon(group, "b");
    const jb = await b.open();
    expect(jb.load().orders).toEqual([expect.objectContaining({ upstreamId: 40, state: "written" })]);

    // A, deposed and unaware, tries to record a new order and a state change.
    const second = order(map, "proxy:1", 2, 41);
    await expect(ja.intent(second, 1)).rejects.toBeInstanceOf(FencedError);
    first.state = "finished";
    ja.update(first);
    await ja.flush();
    expect(a.fenced.length).toBe(2);
    await expect(ja.recordIdentity({ accounts: ["DU1"], mode: "paper" })).rejects.toBeInstanceOf(FencedError);

    const now = (await b.open()).load();
    expect(now.orders).toEqual([expect.objectContaining({ upstreamId: 40, state: "written" })]);
    expect(now.highWater).toEqual({ "proxy:1": 1 });
    expect((await b.open()).identity()).toBeUndefined();
    // B writes fine.
    const third = order(map, "proxy:1", 3, 42);
    await jb.intent(third, 1);
    expect(b.fenced).toEqual([]);
  });

  it("refuses at once (no queue) while Redis is unreachable, and a standby never writes", async () => {
    const d = await daemon(`j${seq++}`, "a");
    const j = await d.open();
    d.redis.disconnect();
    const map = new OrderMap();
    await expect(j.intent(order(map, "proxy:1", 1, 50), 1)).rejects.toThrow();
    const s = await daemon(`j${seq++}`, "s", false);
    await expect((await s.open()).intent(order(map, "proxy:1", 2, 51), 1)).rejects.toMatchObject({
      code: "standby",
    });
  });

  it("records and forgets the line's identity, fenced", async () => {
    const group = `j${seq++}`;
    const d = await daemon(group, "a");
    const j = await d.open();
    await j.recordIdentity({ accounts: ["DU111", "DU222"], mode: "paper" });
    expect((await d.open()).identity()).toEqual({ accounts: ["DU111", "DU222"], mode: "paper" });
    await j.forgetIdentity();
    expect((await d.open()).identity()).toBeUndefined();
  });
});

describe("Redis order audit", () => {
  const rec = (localId: number, outcome: AuditRecord["outcome"]): AuditRecord => ({
    ts: new Date(0).toISOString(),
    owner: "proxy:1",
    localId,
    upstreamId: null,
    upstreamClientId: 900,
    generation: 1,
    kind: "place",
    outcome,
  });

  it("appends to the daemon's own stream, unfenced: a deposed daemon's refusals are recorded", async () => {
    const group = `a${seq++}`;
    const a = await daemon(group, "a");
    await lapse(a.redis, a.lease); // a is no longer the holder
    const audit = new RedisOrderAudit({ redis: a.redis, stream: a.lease.keys.audit("daemon-a") });
    audit.append(rec(1, "refused(201)"));
    audit.append(rec(2, "refused(201)"));
    await audit.flush();
    const entries = await a.redis.xrange(a.lease.keys.audit("daemon-a"), "-", "+");
    expect(
      entries.map(([, f]) => JSON.parse(f[1] as string) as AuditRecord).map((r) => [r.localId, r.outcome]),
    ).toEqual([
      [1, "refused(201)"],
      [2, "refused(201)"],
    ]);
  });

  it("keeps records that Redis did not take and sends them, in order, once it is back", async () => {
    const group = `a${seq++}`;
    const redis = await connectHaRedis(server.url);
    clients.push(redis);
    const stream = `switchboard:ha:${group}:audit:d`;
    const audit = new RedisOrderAudit({ redis, stream });
    redis.disconnect();
    audit.append(rec(1, "written"));
    await audit.flush();
    audit.append(rec(2, "status"));
    while (redis.status !== "end") await new Promise((r) => setTimeout(r, 5));
    await redis.connect();
    await audit.flush();
    await audit.close();
    const entries = await redis.xrange(stream, "-", "+");
    expect(entries.map(([, f]) => (JSON.parse(f[1] as string) as AuditRecord).localId)).toEqual([1, 2]);
  });
});
