/**
 * `switchboard lines rename` (and `forget`'s refusal naming live orders) as users run them: the built CLI in a child process, on a
 * state dir holding real order journals.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { FileOrderJournal } from "../../orders/journal.js";
import { OrderMap } from "../../switch/order-map.js";

const BIN = fileURLToPath(new URL("../../../bin/switchboard.js", import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sb(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, "lines", ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A state dir whose line `paper` has one live order (TWS order 31 under client id 900). */
function stateDirWithLiveOrder(): { dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "sb-lines-"));
  dirs.push(dir);
  const j = FileOrderJournal.open({ stateDir: dir, line: "paper" });
  const e = new OrderMap().add({
    owner: "proxy:4",
    localId: 2,
    upstreamId: 31,
    upstreamClientId: 900,
    orderRef: "keep-me",
  });
  void j.intent(e, 1);
  j.written(e);
  j.close();
  writeFileSync(join(dir, "orders-paper.audit.jsonl"), '{"outcome":"written"}\n');
  return { dir };
}

describe("switchboard lines forget", () => {
  it("is refused while the journal holds live orders, naming each", async () => {
    const { dir } = stateDirWithLiveOrder();
    const refused = await sb(["forget", "paper", "--state-dir", dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/holds 1 live order/);
    expect(refused.stderr).toMatch(/proxy:4 order 2 \(TWS order id 31 under client id 900.*orderRef keep-me/);
    expect(existsSync(join(dir, "orders-paper.journal"))).toBe(true);
  });
});

describe("switchboard lines rename", () => {
  it("moves the journal and audit trail to the new name, live orders included; refused over an existing one", async () => {
    const { dir } = stateDirWithLiveOrder();
    const r = await sb(["rename", "paper", "ibkr-paper", "--state-dir", dir]);
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, "orders-paper.journal"))).toBe(false);
    expect(readFileSync(join(dir, "orders-ibkr-paper.audit.jsonl"), "utf8")).toContain("written");
    const moved = FileOrderJournal.open({ stateDir: dir, line: "ibkr-paper" });
    expect(moved.load().orders.map((o) => [o.owner, o.upstreamId, o.orderRef])).toEqual([
      ["proxy:4", 31, "keep-me"],
    ]);
    moved.close();

    const { dir: other } = stateDirWithLiveOrder();
    const target = FileOrderJournal.open({ stateDir: other, line: "live" });
    target.close();
    const over = await sb(["rename", "paper", "live", "--state-dir", other]);
    expect(over.code).toBe(1);
    expect(over.stderr).toMatch(/line "live" already has .*orders-live\.journal/);
    expect(existsSync(join(other, "orders-paper.journal"))).toBe(true);
  });
});
