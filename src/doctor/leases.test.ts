import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import { FileLeaseStore, Registry } from "../registry/index.js";
import { leasesForEndpoint, readFileLeases } from "./leases.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("readFileLeases", () => {
  it("reads what the registry's file store wrote, leaving out expired leases", async () => {
    const dir = mkdtempSync(join(tmpdir(), "doctor-leases-"));
    dirs.push(dir);
    const clock = new ManualClock();
    const reg = new Registry({ store: new FileLeaseStore({ stateDir: dir, clock }), clock });
    await reg.lease("workers", "spy-trader", 60_000, { upstream: "127.0.0.1:4001" });
    await reg.lease("checks", "cron", 1_000);
    await reg.close();
    const now = clock.now() + 5_000;
    const leases = await readFileLeases(dir, now);
    expect(leases).toEqual([
      expect.objectContaining({
        clientId: 10,
        purpose: "workers",
        owner: "spy-trader",
        upstream: "127.0.0.1:4001",
      }),
    ]);
  });

  it("no store yet means no leases", async () => {
    expect(await readFileLeases(join(tmpdir(), "surely-not-here-doctor"), 0)).toEqual([]);
  });
});

describe("leasesForEndpoint", () => {
  const l = (upstream: string) => ({
    clientId: 1,
    upstream,
    purpose: "ui",
    owner: "o",
    pid: null,
    expiresAt: 1,
  });
  it("matches host:port, any name ending in :port, and the unnamed default line", () => {
    const all = [l("127.0.0.1:4002"), l("paper:4002"), l("default"), l("127.0.0.1:4001"), l("live")];
    expect(leasesForEndpoint(all, "127.0.0.1", 4002).map((x) => x.upstream)).toEqual([
      "127.0.0.1:4002",
      "paper:4002",
      "default",
    ]);
  });
});
