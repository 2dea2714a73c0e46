/**
 * Processes killed with SIGKILL while leasing (often inside the lock, between temp write and
 * rename): leases.json must always parse, the lock must recover, and the ids of the dead
 * processes must come back.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { FileLeaseStore } from "./file-store.js";
import { Registry } from "./registry.js";
import { broadcast, spawnWorkers, type Worker } from "./test-support/workers.test-util.js";

const WAVES = 4;
const HAMMERS = 8;
const HOLDERS = 4;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sb-crash-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("SIGKILL mid-write never corrupts the file and dead ids come back", async () => {
  const stateDir = join(dir, "state");
  const cfg = { store: "file" as const, stateDir, purpose: "workers" };
  let reads = 0;
  let stop = false;
  const bad: string[] = [];
  // Read the file continuously while processes die around it.
  const reader = (async () => {
    while (!stop) {
      try {
        JSON.parse(await readFile(join(stateDir, "leases.json"), "utf8"));
        reads++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") bad.push(String(err));
      }
      await new Promise((r) => setImmediate(r));
    }
  })();

  const all: Worker[] = [];
  try {
    for (let wave = 0; wave < WAVES; wave++) {
      const holders = await spawnWorkers(HOLDERS, cfg);
      const hammers = await spawnWorkers(HAMMERS, cfg);
      all.push(...holders, ...hammers);
      const held = await broadcast(holders, "lease");
      expect(held.every((r) => typeof r.id === "number")).toBe(true);
      for (const w of hammers) w.send("hammer");
      // Kill each hammer after a different number of its own lease/release cycles.
      await Promise.all(
        hammers.map(async (w, i) => {
          for (let k = 0; k < 3 + ((i * 7 + wave * 3) % 17); k++) {
            const r = await w.next();
            expect(r.error).toBeUndefined();
          }
          await w.kill();
        }),
      );
      await Promise.all(holders.map((w) => w.kill()));
    }
  } finally {
    await Promise.all(all.map((w) => w.kill()));
    stop = true;
    await reader;
  }
  expect(bad).toEqual([]);
  expect(reads).toBeGreaterThan(0);

  const reg = new Registry({ store: new FileLeaseStore({ stateDir }) });
  try {
    // Every lease belonged to a now-dead pid on this host: all are reclaimed at once.
    expect(await reg.list()).toEqual([]);
    const leases = [];
    for (let i = 0; i < 90; i++) leases.push(await reg.lease("workers", "after", 60_000));
    expect(leases.map((l) => l.clientId)).toEqual(Array.from({ length: 90 }, (_, i) => 10 + i));
    for (const l of leases) await reg.release(l.clientId, { token: l.token });
  } finally {
    await reg.close();
  }
  const doc = JSON.parse(await readFile(join(stateDir, "leases.json"), "utf8"));
  expect(doc).toEqual({ version: 1, leases: [], cooldowns: [] });
}, 60_000);
