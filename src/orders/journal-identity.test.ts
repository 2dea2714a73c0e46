/** The line identity record in the order journal: synced, kept by compaction, forgotten on demand. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { identityOf } from "../line/identity.js";
import { OrderMap } from "../switch/order-map.js";
import { FileOrderJournal } from "./journal.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "sb-journal-identity-"));
  dirs.push(d);
  return d;
};
const open = (stateDir: string) => FileOrderJournal.open({ stateDir, line: "paper" });

describe("order journal: line identity", () => {
  it("keeps the recorded identity across restarts and compaction, beside the orders", () => {
    const dir = tmp();
    const j = open(dir);
    expect(j.identity()).toBeUndefined();
    const map = new OrderMap();
    const e = map.add({ owner: "proxy:1", localId: 1, upstreamId: 5, upstreamClientId: 900, orderRef: "r" });
    j.intent(e, 1);
    j.written(e);
    j.recordIdentity(identityOf(["DU2", "DU1"]));
    j.close();

    for (let i = 0; i < 2; i++) {
      const again = open(dir);
      expect(again.identity()).toEqual({ accounts: ["DU1", "DU2"], mode: "paper" });
      expect(again.load().orders).toHaveLength(1);
      again.close();
    }
    // Compacted: one identity record, still first-class in the file.
    const text = readFileSync(FileOrderJournal.journalPath(dir, "paper"), "utf8");
    expect(text.match(/"k":"identity"/g)).toHaveLength(1);
  });

  it("forgets it, and the forgetting survives a restart", () => {
    const dir = tmp();
    const j = open(dir);
    j.recordIdentity(identityOf(["U7"]));
    j.forgetIdentity();
    expect(j.identity()).toBeUndefined();
    j.close();
    const again = open(dir);
    expect(again.identity()).toBeUndefined();
    again.recordIdentity(identityOf(["DU3"]));
    again.close();
    const third = open(dir);
    expect(third.identity()).toEqual({ accounts: ["DU3"], mode: "paper" });
    third.close();
  });
});
