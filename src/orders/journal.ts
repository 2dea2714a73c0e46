/**
 * The order journal of one line: `<state dir>/orders-<line>.journal`, one JSON record a line,
 * append-only while the process runs, compacted at start.
 *
 * Invariants:
 *  - a new order's record is on disk (fdatasync) before its upstream write: `intent` appends
 *    it and resolves once it is synced. The sync runs in libuv's thread pool, never on the
 *    event loop, and one fdatasync serves every record appended before it started (group
 *    commit); confirmations and state changes are appended without a sync: losing one only
 *    makes the order `unknown` after a crash, and unknown orders are reconciled, never
 *    written again;
 *  - at start a record without a confirmed write is `unknown`: the journal is not a replay log;
 *  - the cost of a record does not grow with the number of orders (append, no rewrite);
 *  - orders finished more than `retainFinishedMs` ago leave memory at compaction; marks stay;
 *  - one process per journal (journal-lock.ts);
 *  - the first start after the JSON order map (`orders-<line>.json`) imports it: owners
 *    `proxy:<n>` stay theirs, per-run owners (`proxy-N`, `client-N`) become orphaned owners
 *    that no tenant can ever match; an unreadable file is a start error. The file is moved
 *    aside (`.imported`) only after the journal holding its orders is on disk, directory
 *    included, so a kill at any moment loses nothing: a file still there next to a journal is
 *    merged again (orders the journal already knows keep the journal's state);
 *  - every rename is followed by an fsync of the state dir, so it survives a power loss;
 *  - the line's identity (accounts, paper|live) is an `identity` record, synced when written;
 *    the last one wins and `identity: null` forgets it (`switchboard lines forget`).
 */
import {
  closeSync,
  existsSync,
  fdatasync,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { SwitchboardError } from "../errors.js";
import type { LineIdentity } from "../line/identity.js";
import type { JournalContents, OrderJournal } from "../switch/order-journal.js";
import type { NewOrder, OrderEntry, OrderState } from "../switch/order-map.js";
import { acquireJournalLock } from "./journal-lock.js";

export const RETAIN_FINISHED_MS = 7 * 24 * 3_600_000;

/** Orders named for a person: owner, order id, TWS order id and client id, permId, orderRef, state. */
export function describeOrders(orders: readonly NewOrder[]): string {
  return orders
    .map(
      (o) =>
        `${o.owner} order ${o.localId} (TWS order id ${o.upstreamId} under client id ${o.upstreamClientId}` +
        `${o.permId ? `, permId ${o.permId}` : ""}${o.orderRef ? `, orderRef ${o.orderRef}` : ""}, ${o.state ?? "unknown"})`,
    )
    .join("; ");
}
/** Owners imported from per-run counters: never equal to a tenant's owner. */
export const ORPHAN_PREFIX = "orphan:";

type JournalRecord =
  | {
      k: "order";
      owner: string;
      localId: number;
      upstreamId: number;
      upstreamClientId: number;
      orderRef: string;
      generation?: number;
    }
  | { k: "written"; upstreamId: number }
  | { k: "state"; upstreamId: number; state: OrderState; permId: number; at?: number }
  | { k: "mark"; owner: string; mark: number }
  | { k: "identity"; identity: LineIdentity | null };

/** What a journal holds besides orders. */
interface LineRecords {
  identity: LineIdentity | undefined;
}

interface Row extends NewOrder {
  written: boolean;
}

export interface FileJournalOptions {
  stateDir: string;
  line: string;
  now?: () => number;
  retainFinishedMs?: number;
  /** fdatasync before the upstream write (default true; the bench measures without it too). */
  sync?: boolean;
}

export class FileOrderJournal implements OrderJournal {
  readonly path: string;
  readonly #fd: number;
  readonly #unlock: () => void;
  readonly #contents: JournalContents;
  readonly #sync: boolean;
  #identity: LineIdentity | undefined;
  /** Orphaned owners found at import (reported by the caller). */
  readonly orphaned: NewOrder[];
  #closed = false;
  /** The fdatasync running in the thread pool, and the one queued to follow it. */
  #syncing: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  #fdClosed = false;

  private constructor(
    path: string,
    fd: number,
    unlock: () => void,
    contents: JournalContents,
    orphaned: NewOrder[],
    sync: boolean,
    identity: LineIdentity | undefined,
  ) {
    this.#identity = identity;
    this.path = path;
    this.#fd = fd;
    this.#unlock = unlock;
    this.#contents = contents;
    this.orphaned = orphaned;
    this.#sync = sync;
  }

  static journalPath(stateDir: string, line: string): string {
    return join(stateDir, `orders-${line}.journal`);
  }

  /** Lock, read (or import), compact, and open for appending. */
  static open(o: FileJournalOptions): FileOrderJournal {
    mkdirSync(o.stateDir, { recursive: true });
    const path = FileOrderJournal.journalPath(o.stateDir, o.line);
    const unlock = acquireJournalLock(`${path}.lock`);
    try {
      const now = (o.now ?? Date.now)();
      const rows = new Map<number, Row>();
      const marks = new Map<string, number>();
      const extra: LineRecords = { identity: undefined };
      removeStaleTemps(o.stateDir, path);
      if (existsSync(path)) readJournal(path, rows, marks, extra);
      const legacy = join(o.stateDir, `orders-${o.line}.json`);
      const imported = importOrderFile(legacy, rows, marks);
      const retain = o.retainFinishedMs ?? RETAIN_FINISHED_MS;
      const orders: NewOrder[] = [];
      for (const r of rows.values()) {
        const { written, ...order } = r;
        // Never confirmed written: it may or may not have reached TWS. Unknown, never resent.
        if (order.state === "pending" || (!written && order.state === "written")) order.state = "unknown";
        if (
          (order.state === "finished" || order.state === "refused") &&
          now - (order.finishedAt ?? now) > retain
        )
          continue;
        orders.push(order);
      }
      const highWater = Object.fromEntries(marks);
      writeCompacted(path, orders, highWater, extra);
      if (imported) {
        // Only now: the journal on disk holds every order the old file had.
        renameSync(legacy, `${legacy}.imported`);
        fsyncDir(o.stateDir);
      }
      const fd = openSync(path, "a", 0o600);
      const orphaned = orders.filter((x) => x.owner.startsWith(ORPHAN_PREFIX) && x.state !== "finished");
      return new FileOrderJournal(
        path,
        fd,
        unlock,
        { orders, highWater },
        orphaned,
        o.sync ?? true,
        extra.identity,
      );
    } catch (err) {
      unlock();
      throw err;
    }
  }

  /**
   * `switchboard lines rename <old> <new>`: the journal and audit trail of line `from` become
   * those of line `to`, under both journals' locks. Refused if `to` has a journal, an old
   * order map or an audit trail already, or `from` has no journal.
   */
  static rename(stateDir: string, from: string, to: string): void {
    const src = FileOrderJournal.journalPath(stateDir, from);
    const dst = FileOrderJournal.journalPath(stateDir, to);
    const audit = (line: string) => join(stateDir, `orders-${line}.audit.jsonl`);
    const unlockTo = acquireJournalLock(`${dst}.lock`);
    try {
      for (const taken of [dst, join(stateDir, `orders-${to}.json`), audit(to)])
        if (existsSync(taken))
          throw new SwitchboardError(
            "invalid_argument",
            `line "${to}" already has ${taken}: not renaming over it`,
          );
      // Opening it takes its lock (refused while a daemon uses it) and imports an old order map.
      if (!existsSync(src) && !existsSync(join(stateDir, `orders-${from}.json`)))
        throw new SwitchboardError("not_found", `line "${from}" has no order journal in ${stateDir}`);
      const j = FileOrderJournal.open({ stateDir, line: from });
      try {
        renameSync(src, dst);
        if (existsSync(audit(from))) renameSync(audit(from), audit(to));
        fsyncDir(stateDir);
      } finally {
        j.close();
      }
    } finally {
      unlockTo();
    }
  }

  /**
   * The journals in a state dir that belong to none of `lines`, with how many orders each
   * still holds live (read only: no lock, no compaction).
   */
  static strays(stateDir: string, lines: readonly string[]): { line: string; path: string; live: number }[] {
    let names: string[];
    try {
      names = readdirSync(stateDir);
    } catch {
      return [];
    }
    const out: { line: string; path: string; live: number }[] = [];
    for (const name of names) {
      const m = /^orders-(.+)\.journal$/.exec(name);
      if (!m || lines.includes(m[1] as string)) continue;
      const rows = new Map<number, Row>();
      readJournal(join(stateDir, name), rows, new Map(), { identity: undefined });
      const live = [...rows.values()].filter((r) => r.state !== "finished" && r.state !== "refused").length;
      out.push({ line: m[1] as string, path: join(stateDir, name), live });
    }
    return out;
  }

  load(): JournalContents {
    return this.#contents;
  }

  /** The line's recorded identity (line identity), if any. */
  identity(): LineIdentity | undefined {
    return this.#identity;
  }

  /**
   * On disk (fdatasync) when this returns, like an order's intent: a crash must not lose it.
   * Rare (a line's first ready), so synced right here.
   */
  recordIdentity(identity: LineIdentity): void {
    this.#appendSynced({
      k: "identity",
      identity: { accounts: [...identity.accounts], mode: identity.mode },
    });
    this.#identity = identity;
  }

  forgetIdentity(): void {
    this.#appendSynced({ k: "identity", identity: null });
    this.#identity = undefined;
  }

  intent(e: OrderEntry, generation: number): Promise<void> {
    if (this.#closed) throw new SwitchboardError("closed", `the order journal ${this.path} is closed`);
    this.#append({
      k: "order",
      owner: e.owner,
      localId: e.localId,
      upstreamId: e.upstreamId,
      upstreamClientId: e.upstreamClientId,
      orderRef: e.orderRef,
      generation,
    });
    return this.#sync ? this.#durable() : Promise.resolve();
  }

  written(e: OrderEntry): void {
    // After close there is nothing to confirm into: the order is `unknown` at the next start.
    if (!this.#closed) this.#append({ k: "written", upstreamId: e.upstreamId });
  }

  update(e: OrderEntry): void {
    if (this.#closed) return;
    this.#append({
      k: "state",
      upstreamId: e.upstreamId,
      state: e.state,
      permId: e.permId,
      at: e.finishedAt,
    });
  }

  /**
   * Everything appended is synced before this returns and the lock is given back; the file
   * itself is closed once a sync still running in the thread pool is done with it.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      fdatasyncSync(this.#fd);
    } finally {
      this.#unlock();
      this.#closeFdWhenIdle();
    }
  }

  #append(r: JournalRecord): void {
    writeSync(this.#fd, `${JSON.stringify(r)}\n`);
  }

  #appendSynced(r: JournalRecord): void {
    if (this.#closed) throw new SwitchboardError("closed", `the order journal ${this.path} is closed`);
    this.#append(r);
    fdatasyncSync(this.#fd);
  }

  /** Resolves once everything appended so far is on disk. */
  #durable(): Promise<void> {
    if (this.#closed) return Promise.resolve(); // close() synced it all
    if (this.#syncing === undefined) {
      const run = new Promise<void>((resolve, reject) => {
        fdatasync(this.#fd, (err) => (err ? reject(err) : resolve()));
      });
      this.#syncing = run.finally(() => {
        this.#syncing = undefined;
        this.#closeFdWhenIdle();
      });
      return this.#syncing;
    }
    // The running sync may have started before this record was appended: one more after it
    // covers this record and every one appended meanwhile.
    const again = () => {
      this.#queued = undefined;
      const next = this.#durable();
      this.#closeFdWhenIdle();
      return next;
    };
    this.#queued ??= this.#syncing.then(again, again);
    return this.#queued;
  }

  #closeFdWhenIdle(): void {
    if (!this.#closed || this.#fdClosed || this.#syncing !== undefined || this.#queued !== undefined) return;
    this.#fdClosed = true;
    closeSync(this.#fd);
  }
}

function readJournal(
  path: string,
  rows: Map<number, Row>,
  marks: Map<string, number>,
  extra: LineRecords,
): void {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new SwitchboardError("store", `cannot read the order journal ${path}`, { cause: err });
  }
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === "") continue;
    let r: JournalRecord;
    try {
      r = JSON.parse(line) as JournalRecord;
    } catch (err) {
      // A torn last line is a write the crash interrupted: its order was never sent (the send
      // comes after the sync). Anything earlier is damage we must not guess around.
      if (i >= lines.length - 2) break;
      throw new SwitchboardError("store", `the order journal ${path} is damaged at line ${i + 1}`, {
        cause: err,
      });
    }
    if (r.k === "identity") extra.identity = r.identity ?? undefined;
    else apply(r, rows, marks);
  }
}

function raise(marks: Map<string, number>, owner: string, mark: number): void {
  if (mark > (marks.get(owner) ?? 0)) marks.set(owner, mark);
}

function apply(r: JournalRecord, rows: Map<number, Row>, marks: Map<string, number>): void {
  switch (r.k) {
    case "order": {
      rows.set(r.upstreamId, {
        owner: r.owner,
        localId: r.localId,
        upstreamId: r.upstreamId,
        upstreamClientId: r.upstreamClientId,
        orderRef: r.orderRef,
        state: "pending",
        written: false,
      });
      raise(marks, r.owner, r.localId);
      return;
    }
    case "written": {
      const row = rows.get(r.upstreamId);
      if (row) {
        row.written = true;
        if (row.state === "pending") row.state = "written";
      }
      return;
    }
    case "state": {
      const row = rows.get(r.upstreamId);
      if (!row) return;
      row.state = r.state;
      if (r.permId > 0) row.permId = r.permId;
      if (r.at !== undefined) row.finishedAt = r.at;
      // A state TWS reported implies the write happened.
      if (r.state !== "unknown" && r.state !== "refused") row.written = true;
      return;
    }
    case "mark":
      raise(marks, r.owner, r.mark);
      return;
    case "identity":
      return;
  }
}

/** The journal as it stands, written to a new file and moved over the old one. */
function writeCompacted(
  path: string,
  orders: NewOrder[],
  highWater: Record<string, number>,
  extra: LineRecords,
): void {
  const out: string[] = [];
  if (extra.identity) out.push(JSON.stringify({ k: "identity", identity: extra.identity }));
  for (const [owner, mark] of Object.entries(highWater)) out.push(JSON.stringify({ k: "mark", owner, mark }));
  for (const o of orders) {
    out.push(
      JSON.stringify({
        k: "order",
        owner: o.owner,
        localId: o.localId,
        upstreamId: o.upstreamId,
        upstreamClientId: o.upstreamClientId,
        orderRef: o.orderRef,
      }),
    );
    const state = o.state ?? "unknown";
    if (state !== "unknown") out.push(JSON.stringify({ k: "written", upstreamId: o.upstreamId }));
    out.push(
      JSON.stringify({
        k: "state",
        upstreamId: o.upstreamId,
        state,
        permId: o.permId ?? 0,
        at: o.finishedAt,
      }),
    );
  }
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, out.length > 0 ? `${out.join("\n")}\n` : "");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

/** A rename is durable once its directory is synced. */
function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Compactions a killed process left half-written (we hold the lock: nobody writes them now). */
function removeStaleTemps(stateDir: string, path: string): void {
  const base = basename(path);
  let names: string[];
  try {
    names = readdirSync(stateDir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(`${base}.`) && name.endsWith(".tmp")) {
      try {
        unlinkSync(join(stateDir, name));
      } catch {
        // Gone already.
      }
    }
  }
}

/** The JSON order map written by earlier versions (one object, rewritten per order). */
interface LegacyOrderFile {
  version: 1;
  orders: { owner: string; localId: number; upstreamId: number; upstreamClientId: number; permId: number }[];
  highWater: Record<string, number>;
}

/**
 * Merge the old JSON order map into `rows` (orders the journal already knows keep their
 * record). Returns whether there was one; the caller moves it aside once the journal is durable.
 */
function importOrderFile(path: string, rows: Map<number, Row>, marks: Map<string, number>): boolean {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw new SwitchboardError("store", `cannot read the order map ${path}`, { cause: err });
  }
  let state: LegacyOrderFile;
  try {
    state = JSON.parse(text) as LegacyOrderFile;
  } catch (err) {
    throw new SwitchboardError("store", `the order map ${path} is not valid JSON`, { cause: err });
  }
  if (state.version !== 1 || !Array.isArray(state.orders) || typeof state.highWater !== "object") {
    throw new SwitchboardError("store", `${path} is not an order map this version understands`);
  }
  const owner = (o: string) => (/^proxy:\d+$/.test(o) ? o : `${ORPHAN_PREFIX}${o}`);
  for (const o of state.orders) {
    if (rows.has(o.upstreamId)) continue;
    rows.set(o.upstreamId, {
      owner: owner(o.owner),
      localId: o.localId,
      upstreamId: o.upstreamId,
      upstreamClientId: o.upstreamClientId,
      // Earlier versions wrote no orderRef of their own: matching falls back to the order id.
      orderRef: "",
      permId: o.permId,
      // The old map kept no states: every order may be live until TWS says otherwise.
      state: "written",
      written: true,
    });
  }
  for (const [o, mark] of Object.entries(state.highWater)) raise(marks, owner(o), mark);
  return true;
}
