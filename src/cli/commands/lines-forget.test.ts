/** `switchboard lines forget <line>` as a process, on journals written as the daemon writes them. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { run } from "../../daemon/test-support/process.test-util.js";
import { FileOrderJournal } from "../../orders/journal.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const record = (r: object) => `${JSON.stringify(r)}\n`;
const IDENTITY = record({ k: "identity", identity: { accounts: ["DU111"], mode: "paper" } });
const ORDER =
  record({ k: "order", owner: "proxy:1", localId: 1, upstreamId: 7, upstreamClientId: 900, orderRef: "x" }) +
  record({ k: "written", upstreamId: 7 });

function journalDir(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "sb-forget-"));
  dirs.push(dir);
  writeFileSync(FileOrderJournal.journalPath(dir, "paper"), text);
  return dir;
}

const identityAfter = (dir: string) => {
  const j = FileOrderJournal.open({ stateDir: dir, line: "paper" });
  try {
    return j.identity();
  } finally {
    j.close();
  }
};

describe("switchboard lines forget", () => {
  it("clears a recorded identity when no order is live", async () => {
    const dir = journalDir(
      IDENTITY + ORDER + record({ k: "state", upstreamId: 7, state: "finished", permId: 3, at: Date.now() }),
    );
    const r = await run(["lines", "forget", "paper", "--state-dir", dir, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ success: true, data: { line: "paper", forgot: "paper DU111" } });
    expect(identityAfter(dir)).toBeUndefined();
  });

  it("is refused while the journal holds live orders, and keeps the identity", async () => {
    const dir = journalDir(IDENTITY + ORDER);
    const r = await run(["lines", "forget", "paper", "--state-dir", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/holds 1 live order\(s\) under paper DU111/);
    expect(identityAfter(dir)).toEqual({ accounts: ["DU111"], mode: "paper" });
  });

  it("is refused while a daemon holds the journal", async () => {
    const dir = journalDir(IDENTITY);
    const held = FileOrderJournal.open({ stateDir: dir, line: "paper" });
    try {
      const r = await run(["lines", "forget", "paper", "--state-dir", dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/in use by .*stop the daemon that holds line paper first/);
    } finally {
      held.close();
    }
    expect(identityAfter(dir)).toEqual({ accounts: ["DU111"], mode: "paper" });
  });
});
