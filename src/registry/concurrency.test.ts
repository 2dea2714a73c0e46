/**
 * Issue 6's acceptance test: 50 real processes lease from the same purpose at the same moment,
 * against the file store and against Redis; no id is handed out twice and every id comes back.
 * The 50 processes stay up across the 20 rounds (spawning 50 Node processes costs seconds on
 * two cores); each round they race again from a common start signal.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileLeaseStore } from "./file-store.js";
import { RedisLeaseStore } from "./redis-store.js";
import { Registry } from "./registry.js";
import type { LeaseStore } from "./store.js";
import { type RedisServer, startRedis } from "./test-support/redis-server.test-util.js";
import { broadcast, spawnWorkers, type Worker, type WorkerConfig } from "./test-support/workers.test-util.js";

const PROCESSES = 50;
const ROUNDS = 20;

let redis: RedisServer;
let dir: string;

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), "sb-conc-"));
});

afterAll(async () => {
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function race(cfg: WorkerConfig, store: LeaseStore): Promise<void> {
  const reg = new Registry({ store });
  let workers: Worker[] = [];
  try {
    workers = await spawnWorkers(PROCESSES, cfg);
    for (let round = 0; round < ROUNDS; round++) {
      const leased = await broadcast(workers, "lease");
      const ids = leased.map((r) => r.id);
      expect(leased.filter((r) => r.error)).toEqual([]);
      expect(new Set(ids).size).toBe(PROCESSES);
      for (const id of ids) expect(id).toBeGreaterThanOrEqual(10);
      expect((await reg.list()).map((l) => l.clientId).sort((a, b) => a - b)).toEqual(
        [...ids].sort((a, b) => (a ?? 0) - (b ?? 0)),
      );
      const released = await broadcast(workers, "release");
      expect(released.map((r) => r.released).sort()).toEqual([...ids].sort());
      expect(await reg.list()).toEqual([]);
    }
  } finally {
    await Promise.all(workers.map((w) => w.kill()));
    await reg.close();
  }
}

describe("50 processes leasing at once, 20 rounds", () => {
  it("file store: no duplicates, every id released", async () => {
    const stateDir = join(dir, "file");
    await race({ store: "file", stateDir, purpose: "workers" }, new FileLeaseStore({ stateDir }));
  }, 120_000);

  it("redis store: no duplicates, every id released", async () => {
    await race(
      { store: "redis", url: redis.url, purpose: "workers" },
      new RedisLeaseStore({ url: redis.url, keyPrefix: "switchboard:ids:" }),
    );
  }, 120_000);
});
