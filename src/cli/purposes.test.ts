/**
 * Purposes and their ranges outside the library: `switchboard ids --purposes-file` (the same
 * `purposes` key as switchboard.yaml) and SWITCHBOARD_PURPOSES, merged over the defaults,
 * checked for overlaps (exit 2 naming the purpose), shown by `ids list` and `ids purposes`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../daemon/test-support/process.test-util.js";

let dir: string;
let file: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sb-purposes-"));
  file = join(dir, "switchboard.yaml");
  writeFileSync(file, "httpPort: 4300\npurposes:\n  api: 1000-1999\n  backfill: {min: 2000, max: 2999}\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("ids with configured purposes", () => {
  it("leases from a purpose of --purposes-file and shows the ranges", async () => {
    const state = join(dir, "a");
    const lease = await run(["ids", "lease", "api", "--purposes-file", file, "--state-dir", state]);
    expect(lease.code, lease.stderr).toBe(0);
    expect(lease.stdout.trim()).toBe("1000");
    const list = await run(["ids", "list", "--purposes-file", file, "--state-dir", state]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/api\s+1000-1999\s+1\/1000/);
    expect(list.stdout).toMatch(/workers\s+10-99/);
    const json = await run(["ids", "purposes", "--json", "--purposes-file", file, "--state-dir", state]);
    const rows = JSON.parse(json.stdout) as { name: string; min: number; leased: number }[];
    expect(rows).toContainEqual({ name: "backfill", min: 2000, max: 2999, size: 1000, leased: 0 });
  });

  it("reads SWITCHBOARD_PURPOSES", async () => {
    const r = await run(["ids", "lease", "backfill", "--state-dir", join(dir, "b")], {
      SWITCHBOARD_PURPOSES: "backfill=2000-2999",
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("2000");
  });

  it("an overlapping range exits 2 naming both purposes", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "purposes:\n  api: 50-150\n");
    const r = await run(["ids", "lease", "api", "--purposes-file", bad, "--state-dir", join(dir, "c")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("purposes.");
    expect(r.stderr).toContain("overlaps");
  });
});
