/** The HA group's pacer memory on a real redis-server: written only by the active, read at takeover. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServer, startRedis } from "../registry/test-support/redis-server.test-util.js";
import { HaLease } from "./lease.js";
import { RedisPacerMemory } from "./pacer-memory.js";
import { connectHaRedis } from "./redis.js";

let server: RedisServer;
let dir: string;
const clients: Redis[] = [];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sb-ha-pacer-"));
  server = await startRedis({ persistent: true, dir });
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function lease(holder: string): Promise<HaLease> {
  const redis = await connectHaRedis(server.url);
  clients.push(redis);
  return new HaLease({
    redis,
    group: "pacer",
    holder,
    secret: holder,
    host: "h",
    pid: 1,
    leaseMs: 60_000,
    lines: ["default"],
    configHash: "x",
    now: () => Date.now(),
  });
}

describe("HA pacer memory", () => {
  it("keeps the active's windows for the next active; a standby or deposed daemon never writes them", async () => {
    const a = await lease("a");
    const g = await a.acquire();
    const token = g.status === "granted" ? g.token : 0;
    const memA = new RedisPacerMemory();
    let tokenA: number | null = token;
    memA.attach(a, () => tokenA);
    const windows = { historicalTotal: [["*", [[Date.now(), 1]]]] } as never;
    memA.save(windows);
    await memA.flush();

    const b = await lease("b");
    const memB = new RedisPacerMemory();
    memB.attach(b, () => null);
    memB.save({ historicalTotal: [] } as never); // a standby: dropped
    await memB.flush();
    await memB.refresh();
    expect(memB.load()).toEqual(windows);

    // A deposed: its write is fenced off and the group's windows stay.
    await a.redis.del(a.keys.lease);
    await b.acquire();
    memA.save({ historicalTotal: [["*", [[1, 1]]]] } as never);
    await memA.flush();
    await memB.refresh();
    expect(memB.load()).toEqual(windows);
    tokenA = null;
  });
});
