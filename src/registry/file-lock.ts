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
 */
import { randomBytes } from "node:crypto";
import { readFile, stat, unlink, writeFile } from "node:fs/promises";
import { type Clock, sleep } from "../clock.js";
import { StoreError } from "./errors.js";

export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
export const DEFAULT_LOCK_STALE_MS = 10_000;
export const DEFAULT_LOCK_EMPTY_STALE_MS = 2_000;
const RETRY_MIN_MS = 1;
const RETRY_MAX_MS = 25;

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
  let attempt = 0;
  for (;;) {
    const content = lockContent(opts);
    if (await tryCreate(lockPath, content)) return content;
    const held = await readLock(lockPath);
    if (held !== null && (await isStale(lockPath, held, opts))) {
      await breakStale(lockPath, held, opts);
      continue;
    }
    if (opts.clock.now() >= deadline) {
      throw new StoreError(
        `could not lock ${lockPath} within ${opts.timeoutMs} ms (held by ${held ?? "an unknown process"})`,
      );
    }
    attempt++;
    const cap = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(attempt, 5));
    await sleep(opts.clock, RETRY_MIN_MS + opts.random() * cap);
  }
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
