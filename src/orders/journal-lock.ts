/**
 * One process per order journal. The lock file names its holder (pid, kernel start time and a
 * nonce); it is taken over only when that process is gone — liveness, never age — so a daemon
 * that was killed leaves nothing to clean up and two processes never write one journal.
 *
 * Invariants:
 *  - a lock file only ever appears whole: each contender writes its own file first and links
 *    it into place (link fails when a lock exists), so nobody reads a half-written holder;
 *  - a dead holder's lock is replaced by exactly one contender: the one that creates the
 *    takeover marker named after that holder (link again: exclusive). It checks that the lock
 *    still names that holder and renames its own file over it. A holder never comes back, so a
 *    contender that gets a marker late finds another holder there and backs off;
 *  - a marker left by a contender that died in between is taken over the same way, one level
 *    down (its name grows by the dead contender's key), so no crash can wedge the lock;
 *  - a lock file that cannot be read is never taken over: that is a start error to look at.
 */
import { randomBytes } from "node:crypto";
import { linkSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { SwitchboardError } from "../errors.js";
import { isProcessAlive } from "../registry/liveness.js";

/** Lock files this process holds: a second open in the same process is refused too. */
const held = new Set<string>();
/** Nonces of the locks this process holds, whatever path spelling they were taken under. */
const ours = new Set<string>();
/** Takeovers of takeovers: each level needs another contender to die mid-takeover. */
const MAX_TAKEOVER_DEPTH = 8;
const MAX_ATTEMPTS = 16;

export class JournalLockedError extends SwitchboardError {
  constructor(path: string, holder: string) {
    super("store", `the order journal ${path} is in use by ${holder}`);
  }
}

interface Holder {
  pid: number;
  start: string | null;
  /** Tells two lives of one pid apart even where the start time cannot be read. */
  nonce?: string;
}

/** The kernel's start time of a process (Linux), so a reused pid is not mistaken for the holder. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22; the command (field 2) may hold spaces, so count from its closing parenthesis.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

const keyOf = (h: Holder): string => `${h.pid}-${h.start ?? "x"}-${h.nonce ?? "x"}`;

function holderAlive(h: Holder): boolean {
  // This very pid: alive if it is one of our own locks (another spelling of the same path),
  // else an earlier life of this pid (a container's pid 1) that holds nothing any more.
  if (h.pid === process.pid) return h.nonce !== undefined && ours.has(h.nonce);
  if (!isProcessAlive(h.pid)) return false;
  if (h.start === null) return true;
  const now = processStartTime(h.pid);
  return now === null || now === h.start;
}

/** The holder a lock (or marker) file names; "absent" when there is none; undefined when unreadable. */
function readHolder(path: string): Holder | "absent" | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "absent";
    return undefined;
  }
  try {
    const h = JSON.parse(text) as Holder;
    return typeof h.pid === "number" ? h : undefined;
  } catch {
    return undefined;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

const isExists = (err: unknown) => (err as NodeJS.ErrnoException).code === "EEXIST";

/** Take the lock at `path`; returns the function that gives it back. */
export function acquireJournalLock(path: string): () => void {
  if (held.has(path)) throw new JournalLockedError(path, `this process (pid ${process.pid})`);
  const me: Holder = {
    pid: process.pid,
    start: processStartTime(process.pid),
    nonce: randomBytes(8).toString("hex"),
  };
  const mine = `${path}.${keyOf(me)}.new`;
  writeFileSync(mine, JSON.stringify(me), { mode: 0o600, flag: "wx" });
  try {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        linkSync(mine, path);
        return won(path, me);
      } catch (err) {
        if (!isExists(err)) throw err;
      }
      const holder = readHolder(path);
      if (holder === "absent") continue; // given back meanwhile: try again
      if (holder === undefined)
        throw new JournalLockedError(
          path,
          "an unreadable lock file (remove it only if no Switchboard process uses this state dir)",
        );
      if (holderAlive(holder)) throw new JournalLockedError(path, `pid ${holder.pid}`);
      if (takeOver(path, holder, mine)) return won(path, me);
    }
    throw new JournalLockedError(path, "other processes that keep taking it");
  } finally {
    unlinkQuietly(mine);
  }
}

/**
 * Replace the lock of `dead` by our own file, if we are the one contender allowed to.
 * Returns false when someone else got there first (the caller looks again).
 */
function takeOver(path: string, dead: Holder, mine: string): boolean {
  let marker = `${path}.takeover.${keyOf(dead)}`;
  for (let depth = 0; depth < MAX_TAKEOVER_DEPTH; depth++) {
    try {
      linkSync(mine, marker);
    } catch (err) {
      if (!isExists(err)) throw err;
      const other = readHolder(marker);
      if (other === "absent") return false; // that takeover finished and was cleaned up
      if (other === undefined) throw new JournalLockedError(path, `an unreadable takeover marker ${marker}`);
      if (holderAlive(other))
        throw new JournalLockedError(path, `pid ${other.pid} (taking it over from dead pid ${dead.pid})`);
      // The contender that held this takeover died in it: take its takeover over.
      marker = `${marker}.${keyOf(other)}`;
      continue;
    }
    // Ours alone: the lock is replaced only if it still names the dead holder.
    const now = readHolder(path);
    if (now === "absent" || now === undefined || keyOf(now) !== keyOf(dead)) {
      unlinkQuietly(marker);
      return false;
    }
    renameSync(mine, path);
    return true;
  }
  throw new JournalLockedError(path, "a chain of takeovers whose contenders all died");
}

function won(path: string, me: Holder): () => void {
  held.add(path);
  if (me.nonce !== undefined) ours.add(me.nonce);
  removeLeftovers(path);
  return () => {
    held.delete(path);
    if (me.nonce !== undefined) ours.delete(me.nonce);
    // Only our own lock: never one that someone took over after judging us dead.
    const now = readHolder(path);
    if (now !== "absent" && now !== undefined && keyOf(now) === keyOf(me)) unlinkQuietly(path);
  };
}

/**
 * Takeover markers and the files of contenders that died before linking theirs. A marker may
 * be in use by a live contender right now: it then finds the lock names us and backs off.
 */
function removeLeftovers(path: string): void {
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(`${base}.takeover.`)) unlinkQuietly(join(dir, name));
    else if (name.startsWith(`${base}.`) && name.endsWith(".new")) {
      const pid = Number(name.slice(base.length + 1).split("-")[0]);
      if (Number.isInteger(pid) && pid !== process.pid && !isProcessAlive(pid))
        unlinkQuietly(join(dir, name));
    }
  }
}
