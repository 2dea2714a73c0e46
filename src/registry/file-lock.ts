/**
 * A cross-process lock built from an O_EXCL lock file, for the file store.
 *
 * Acquire: create `<path>` with O_CREAT|O_EXCL and write `{pid, host, nonce, at}`. Only one
 * process can create it; the others retry with jittered backoff until a deadline.
 * Stale locks: a holder killed with SIGKILL leaves its file behind. It is stale when its pid
 * is dead on this host, when it is older than `staleMs` (a holder keeps it for milliseconds),
 * or when it is empty/unparsable and its mtime is older than `emptyStaleMs` (killed between
 * create and write).
 * Breaking a stale lock is itself guarded by `<path>.break` (O_EXCL as well): the breaker
 * re-reads the lock under that guard and unlinks it only if it still holds the very content
 * judged stale. Without the guard, two breakers could both judge the same stale file and the
 * slower one would unlink the fresh lock the faster one had just taken.
 * Waiting: instead of polling fast (50 waiters polling a 2 ms critical section starve its
 * holder on two cores), a waiter watches the lock file (inotify) and retries when it goes,
 * with a jittered timer as the fallback for a missed event.
 */
import { randomBytes } from "node:crypto";
import { watch } from "node:fs";
import { readFile, stat, unlink, writeFile } from "node:fs/promises";
import { type Clock, sleep } from "../clock.js";
import { StoreError } from "./errors.js";

export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
export const DEFAULT_LOCK_STALE_MS = 10_000;
export const DEFAULT_LOCK_EMPTY_STALE_MS = 2_000;
const RETRY_MIN_MS = 1;
/** Longest wait between attempts when no change of the lock file is seen. */
const RETRY_MAX_MS = 50;
/** Waiters read the lock's owner at most this often: a wake-up usually means "try again", not "stale". */
const STALE_CHECK_EVERY_MS = 100;

export interface FileLockOptions {
  readonly clock: Clock;
  readonly host: string;
  readonly isPidAlive: (pid: number) => boolean;
  readonly random: () => number;
  readonly timeoutMs: number;
  readonly staleMs: number;
  readonly emptyStaleMs: number;
}

interface LockInfo {
  pid: number;
  host: string;
  nonce: string;
  at: number;
}

/** Run `fn` while holding the lock at `lockPath`. */
export async function withFileLock<T>(
  lockPath: string,
  opts: FileLockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const mine = await acquire(lockPath, opts);
  try {
    return await fn();
  } finally {
    await unlinkIfContent(lockPath, mine);
  }
}

async function acquire(lockPath: string, opts: FileLockOptions): Promise<string> {
  const deadline = opts.clock.now() + opts.timeoutMs;
  let lastStaleCheck = Number.NEGATIVE_INFINITY;
  let held: string | null = null;
  for (;;) {
    const content = lockContent(opts);
    if (await tryCreate(lockPath, content)) return content;
    const now = opts.clock.now();
    if (now - lastStaleCheck >= STALE_CHECK_EVERY_MS) {
      lastStaleCheck = now;
      held = await readLock(lockPath);
      if (held !== null && (await isStale(lockPath, held, opts))) {
        await breakStale(lockPath, held, opts);
        continue;
      }
    }
    if (now >= deadline) {
      throw new StoreError(
        `could not lock ${lockPath} within ${opts.timeoutMs} ms (held by ${held ?? "an unknown process"})`,
      );
    }
    await waitForChange(lockPath, opts, RETRY_MIN_MS + opts.random() * RETRY_MAX_MS);
  }
}

/** Resolve when the lock file changes (released) or after `ms`, whichever comes first. */
function waitForChange(path: string, opts: FileLockOptions, ms: number): Promise<void> {
  return new Promise((resolve) => {
    let watcher: ReturnType<typeof watch> | undefined;
    const done = () => {
      opts.clock.clearTimeout(timer);
      watcher?.close();
      resolve();
    };
    const timer = opts.clock.setTimeout(done, ms);
    try {
      watcher = watch(path, { persistent: false }, done);
      watcher.on("error", done);
    } catch {
      // The file went away before we could watch it: it was released, try again now.
      done();
    }
  });
}

function lockContent(opts: FileLockOptions): string {
  const info: LockInfo = {
    pid: process.pid,
    host: opts.host,
    nonce: randomBytes(8).toString("hex"),
    at: opts.clock.now(),
  };
  return JSON.stringify(info);
}

async function tryCreate(path: string, content: string): Promise<boolean> {
  try {
    await writeFile(path, content, { flag: "wx", mode: 0o600 });
    return true;
  } catch (err) {
    if (errCode(err) === "EEXIST") return false;
    throw new StoreError(`cannot create lock file ${path}`, err);
  }
}

/** The lock file's content, or null when it vanished in between. */
async function readLock(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if (errCode(err) === "ENOENT") return null;
    throw new StoreError(`cannot read lock file ${path}`, err);
  }
}

async function isStale(path: string, content: string, opts: FileLockOptions): Promise<boolean> {
  const info = parseLock(content);
  if (info === null) {
    // Killed between O_EXCL create and write: judge by the file's age.
    try {
      const s = await stat(path);
      return opts.clock.now() - s.mtimeMs > opts.emptyStaleMs;
    } catch {
      return false;
    }
  }
  if (info.host === opts.host && info.pid !== process.pid && !opts.isPidAlive(info.pid)) return true;
  return opts.clock.now() - info.at > opts.staleMs;
}

async function breakStale(lockPath: string, staleContent: string, opts: FileLockOptions): Promise<void> {
  const guardPath = `${lockPath}.break`;
  const guard = lockContent(opts);
  if (!(await tryCreate(guardPath, guard))) {
    // Another process is breaking it; if that breaker died in the act, clear its guard.
    const held = await readLock(guardPath);
    if (held !== null && (await isStale(guardPath, held, opts))) await unlinkIfContent(guardPath, held);
    await sleep(opts.clock, RETRY_MIN_MS + opts.random() * RETRY_MAX_MS);
    return;
  }
  try {
    await unlinkIfContent(lockPath, staleContent);
  } finally {
    await unlinkIfContent(guardPath, guard);
  }
}

async function unlinkIfContent(path: string, content: string): Promise<void> {
  const now = await readLock(path);
  if (now !== content) return;
  try {
    await unlink(path);
  } catch (err) {
    if (errCode(err) !== "ENOENT") throw new StoreError(`cannot remove lock file ${path}`, err);
  }
}

function parseLock(content: string): LockInfo | null {
  try {
    const v = JSON.parse(content) as Partial<LockInfo>;
    if (typeof v.pid === "number" && typeof v.host === "string" && typeof v.at === "number")
      return v as LockInfo;
  } catch {
    // Partial or empty content: the caller judges by mtime.
  }
  return null;
}

export function errCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err ? String(err.code) : undefined;
}
