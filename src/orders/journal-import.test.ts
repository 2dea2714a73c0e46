/**
 * The first start after the JSON order map imports `orders-<line>.json` into the journal. A
 * process killed (SIGKILL) before any one of its file-system changes leaves a state dir from
 * which the next start still knows every order: the old file is moved aside only after the
 * journal that holds its orders is on disk.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { FileOrderJournal, ORPHAN_PREFIX } from "./journal.js";

const CRASHER = fileURLToPath(new URL("./test-support/import-crasher.test-util.ts", import.meta.url));
/** Far more file-system changes than an open makes: the loop ends when one finishes. */
const MAX_STEPS = 60;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function legacyStateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sb-import-kill-"));
  dirs.push(dir);
  writeFileSync(
    join(dir, "orders-default.json"),
    JSON.stringify({
      version: 1,
      orders: [
        { owner: "proxy:3", localId: 4, upstreamId: 30, upstreamClientId: 900, permId: 7 },
        { owner: "proxy-12", localId: 1, upstreamId: 31, upstreamClientId: 900, permId: 8 },
      ],
      highWater: { "proxy:3": 4, "proxy-12": 1 },
    }),
  );
  return dir;
}

describe("importing orders-<line>.json", () => {
  it("loses nothing when the process is killed before any one of its file-system changes", () => {
    let finished = false;
    for (let killAt = 1; killAt <= MAX_STEPS && !finished; killAt++) {
      const dir = legacyStateDir();
      const child = spawnSync(process.execPath, ["--import", "tsx", CRASHER, dir, String(killAt)], {
        encoding: "utf8",
        timeout: 20_000,
      });
      finished = child.stdout.includes("done");
      if (!finished) expect(child.signal, `kill point ${killAt}: ${child.stderr}`).toBe("SIGKILL");
      // The next start, in this process, over whatever the killed one left.
      const j = FileOrderJournal.open({ stateDir: dir, line: "default" });
      try {
        const { orders, highWater } = j.load();
        expect(
          orders.map((o) => [o.owner, o.upstreamId]).sort(),
          `after a kill before change ${killAt}`,
        ).toEqual([
          [`${ORPHAN_PREFIX}proxy-12`, 31],
          ["proxy:3", 30],
        ]);
        expect(highWater).toEqual({ "proxy:3": 4, [`${ORPHAN_PREFIX}proxy-12`]: 1 });
      } finally {
        j.close();
      }
    }
    expect(finished).toBe(true);
    // A hang guard only: one child process per kill point, on a machine that may be busy.
  }, 180_000);
});
