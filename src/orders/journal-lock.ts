/**
 * One process per order journal. The lock file holds the holder's pid and process start time;
 * it is taken over only when that process is gone (liveness, never age), so a daemon that was
 * killed leaves nothing to clean up and two daemons never write one journal.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { SwitchboardError } from "../errors.js";
import { isProcessAlive } from "../registry/liveness.js";

/** Lock files this process holds: a second open in the same process is refused too. */
const held = new Set<string>();

export class JournalLockedError extends SwitchboardError {
  constructor(path: string, holder: string) {
    super("store", `the order journal ${path} is in use by ${holder}`);
  }
}

interface Holder {
  pid: number;
  start: string | null;
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

function holderAlive(h: Holder): boolean {
  if (!isProcessAlive(h.pid)) return false;
  if (h.start === null) return true;
  const now = processStartTime(h.pid);
  return now === null || now === h.start;
}

export function acquireJournalLock(path: string): () => void {
  if (held.has(path)) throw new JournalLockedError(path, `this process (pid ${process.pid})`);
  const me: Holder = { pid: process.pid, start: processStartTime(process.pid) };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      try {
        writeSync(fd, JSON.stringify(me));
      } finally {
        closeSync(fd);
      }
      held.add(path);
      return () => {
        held.delete(path);
        try {
          unlinkSync(path);
        } catch {
          // Already gone: nothing to give back.
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    let holder: Holder | undefined;
    try {
      holder = JSON.parse(readFileSync(path, "utf8")) as Holder;
    } catch {
      holder = undefined;
    }
    if (holder && typeof holder.pid === "number" && holder.pid !== process.pid && holderAlive(holder))
      throw new JournalLockedError(path, `pid ${holder.pid}`);
    // The holder is gone (or it was this very pid in an earlier life): take the lock over.
    unlinkSync(path);
  }
  throw new JournalLockedError(path, "another process that keeps taking it");
}
