/** The order journal on real files: durability rules, the liveness lock, import, compaction. */
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { OrderMap } from "../switch/order-map.js";
import { FileOrderAudit } from "./audit.js";
import { FileOrderJournal, ORPHAN_PREFIX } from "./journal.js";
import { JournalLockedError, processStartTime } from "./journal-lock.js";

const dirs: string[] = [];
const open: { close(): void }[] = [];
afterEach(() => {
  for (const j of open.splice(0)) j.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "sb-journal-"));
  dirs.push(d);
  return d;
};
const openJournal = (stateDir: string, o: { now?: () => number } = {}) => {
  const j = FileOrderJournal.open({ stateDir, line: "default", ...o });
  open.push(j);
  return j;
};
const closeJournal = (j: FileOrderJournal) => {
  j.close();
  open.splice(open.indexOf(j), 1);
};

function order(map: OrderMap, owner: string, localId: number, upstreamId: number) {
  return map.add({ owner, localId, upstreamId, upstreamClientId: 900, orderRef: `ref-${upstreamId}` });
}

describe("order journal", () => {
  it("brings back a record whose write was never confirmed as unknown, and a confirmed one as written", () => {
    const dir = tmp();
    const j = openJournal(dir);
    expect(j.load()).toEqual({ orders: [], highWater: {} });
    const map = new OrderMap();
    const sent = order(map, "proxy:3", 1, 17);
    const unsent = order(map, "proxy:3", 2, 18);
    j.intent(sent, 1);
    j.written(sent);
    j.intent(unsent, 1); // the process dies here, before the upstream write
    closeJournal(j);

    const again = openJournal(dir).load();
    expect(again.highWater).toEqual({ "proxy:3": 2 });
    const byId = new Map(again.orders.map((o) => [o.upstreamId, o]));
    expect(byId.get(17)).toMatchObject({
      owner: "proxy:3",
      localId: 1,
      state: "written",
      orderRef: "ref-17",
    });
    // Never a replay log: the unconfirmed one is unknown, to be reconciled, never written again.
    expect(byId.get(18)).toMatchObject({ localId: 2, state: "unknown" });
  });

  it("keeps states and permIds, and drops orders finished more than 7 days ago at compaction (marks stay)", () => {
    const dir = tmp();
    let now = Date.UTC(2026, 0, 5);
    const j = openJournal(dir, { now: () => now });
    const map = new OrderMap();
    const old = order(map, "proxy:1", 1, 5);
    const live = order(map, "proxy:1", 2, 6);
    for (const e of [old, live]) {
      j.intent(e, 1);
      j.written(e);
    }
    old.state = "finished";
    old.permId = 4242;
    old.finishedAt = now;
    j.update(old);
    live.state = "live";
    live.permId = 4343;
    j.update(live);
    closeJournal(j);

    now += 8 * 24 * 3_600_000;
    const later = openJournal(dir, { now: () => now }).load();
    expect(later.orders.map((o) => [o.upstreamId, o.state, o.permId])).toEqual([[6, "live", 4343]]);
    expect(later.highWater).toEqual({ "proxy:1": 2 });
  });

  it("tolerates a torn last line (a write the crash interrupted) but not damage before it", () => {
    const dir = tmp();
    const j = openJournal(dir);
    const map = new OrderMap();
    const e = order(map, "proxy:2", 1, 9);
    j.intent(e, 1);
    j.written(e);
    closeJournal(j);
    const path = FileOrderJournal.journalPath(dir, "default");
    appendFileSync(path, '{"k":"order","owner":"pro');
    expect(openJournal(dir).load().orders).toHaveLength(1);
    closeJournal(open[0] as FileOrderJournal);
    writeFileSync(path, `{broken\n${readFileSync(path, "utf8")}`);
    expect(() => openJournal(dir)).toThrow(/damaged at line 1/);
  });

  it("is held by one process: a second open is refused; a dead holder's lock is taken over", () => {
    const dir = tmp();
    openJournal(dir);
    expect(() => openJournal(dir)).toThrow(JournalLockedError);
    closeJournal(open[0] as FileOrderJournal);

    const lock = `${FileOrderJournal.journalPath(dir, "default")}.lock`;
    // A live process (our parent) holds it: refused, however old the file is.
    writeFileSync(lock, JSON.stringify({ pid: process.ppid, start: processStartTime(process.ppid) }));
    expect(() => openJournal(dir)).toThrow(/in use by pid/);
    // The same pid with another start time is a reused pid: the holder is gone.
    writeFileSync(lock, JSON.stringify({ pid: process.ppid, start: "1" }));
    expect(openJournal(dir).load().orders).toEqual([]);
  });

  it("is refused to this same process under another spelling of its path (a symlinked state dir)", () => {
    const dir = tmp();
    const link = `${dir}-link`;
    symlinkSync(dir, link);
    dirs.push(link);
    openJournal(dir);
    expect(() => openJournal(link)).toThrow(JournalLockedError);
  });

  it("imports orders-<line>.json once: proxy owners stay theirs, per-run owners become orphans", () => {
    const dir = tmp();
    const legacy = join(dir, "orders-default.json");
    writeFileSync(
      legacy,
      JSON.stringify({
        version: 1,
        orders: [
          { owner: "proxy:3", localId: 4, upstreamId: 30, upstreamClientId: 900, permId: 7 },
          { owner: "proxy-12", localId: 1, upstreamId: 31, upstreamClientId: 900, permId: 8 },
        ],
        highWater: { "proxy:3": 4, "proxy-12": 1 },
      }),
    );
    const j = openJournal(dir);
    const { orders, highWater } = j.load();
    expect(highWater).toEqual({ "proxy:3": 4, [`${ORPHAN_PREFIX}proxy-12`]: 1 });
    expect(orders.map((o) => [o.owner, o.upstreamId, o.state])).toEqual([
      ["proxy:3", 30, "written"],
      [`${ORPHAN_PREFIX}proxy-12`, 31, "written"],
    ]);
    expect(j.orphaned.map((o) => o.upstreamId)).toEqual([31]);
    expect(existsSync(legacy)).toBe(false);
    closeJournal(j);
    // The journal now holds them; the file is not imported a second time.
    expect(openJournal(dir).load().orders).toHaveLength(2);
  });

  it("refuses an order map it cannot read instead of starting empty", () => {
    const dir = tmp();
    writeFileSync(join(dir, "orders-default.json"), "{not json");
    expect(() => openJournal(dir)).toThrow(/not valid JSON/);
    writeFileSync(join(dir, "orders-default.json"), '{"version":9}');
    expect(() => openJournal(dir)).toThrow(/order map/);
  });
});

describe("order audit", () => {
  it("writes one JSON line per record, group-committed, and whatever waits at close", () => {
    const dir = tmp();
    const audit = new FileOrderAudit({ stateDir: dir, line: "default", commitMs: 60_000 });
    const rec = {
      ts: "2026-01-05T00:00:00.000Z",
      owner: "proxy:1",
      localId: 1,
      upstreamId: 5,
      upstreamClientId: 900,
      generation: 1,
      kind: "place" as const,
      outcome: "written" as const,
    };
    audit.append(rec);
    audit.append({ ...rec, outcome: "refused(201)" });
    expect(readFileSync(audit.path, "utf8")).toBe("");
    audit.close();
    const lines = readFileSync(audit.path, "utf8").trim().split("\n");
    expect(lines.map((l) => (JSON.parse(l) as { outcome: string }).outcome)).toEqual([
      "written",
      "refused(201)",
    ]);
    expect(audit.commits).toBe(1);
  });
});
