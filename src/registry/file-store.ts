/**
 * The embedded default store: one JSON file in the state dir, shared by every process on the
 * machine. Each operation is lock → read → apply the pure policy → write → unlock.
 *
 * Crash safety (kill -9 at any point): the file is never written in place. A new version
 * goes to a unique temp file, is fsynced, then renamed over `leases.json` (rename is atomic
 * on POSIX), and the directory is fsynced so the rename itself survives a power cut. A reader
 * therefore sees the old or the new document, never a mix. Temp files of killed writers are
 * removed under the lock. The lock's recovery is described in file-lock.ts.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { type Clock, systemClock } from "../clock.js";
import { ClosedError } from "../errors.js";
import { StoreError } from "./errors.js";
import {
  DEFAULT_LOCK_EMPTY_STALE_MS,
  DEFAULT_LOCK_STALE_MS,
  DEFAULT_LOCK_TIMEOUT_MS,
  errCode,
  type FileLockOptions,
  withFileLock,
} from "./file-lock.js";
import { isProcessAlive } from "./liveness.js";
import { applyAcquire, applyReject, applyRelease, applyRenew, sweepDoc } from "./policy.js";
import type { LeaseStore } from "./store.js";
import {
  type AcquireRequest,
  type AcquireResult,
  type Cooldown,
  EMPTY_DOC,
  type LeaseDoc,
  type LeaseOpResult,
  type ListResult,
  type RejectRequest,
  type ReleaseRequest,
  type RenewRequest,
} from "./types.js";

export const LEASES_FILE = "leases.json";

export interface FileLeaseStoreOptions {
  /** Directory holding leases.json and its lock (created with mode 0700). */
  stateDir: string;
  clock?: Clock;
  host?: string;
  isPidAlive?: (pid: number) => boolean;
  random?: () => number;
  lockTimeoutMs?: number;
  lockStaleMs?: number;
  /**
   * fsync the new file and the directory before and after the rename (default true). Without
   * it, kill -9 is still safe (the rename is atomic and the page cache survives the process);
   * only a power cut could lose the last writes.
   */
  fsync?: boolean;
}

export class FileLeaseStore implements LeaseStore {
  readonly kind = "file" as const;
  readonly location: string;
  readonly #dir: string;
  readonly #lockPath: string;
  readonly #lock: FileLockOptions;
  readonly #fsync: boolean;
  #state: "open" | "closed" = "open";
  #ready: Promise<void> | undefined;
  /** Serializes this instance's own operations so they do not spin against each other on the lock. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: FileLeaseStoreOptions) {
    this.#dir = options.stateDir;
    this.location = join(options.stateDir, LEASES_FILE);
    this.#lockPath = `${this.location}.lock`;
    this.#fsync = options.fsync ?? true;
    this.#lock = {
      clock: options.clock ?? systemClock,
      host: options.host ?? hostname(),
      isPidAlive: options.isPidAlive ?? isProcessAlive,
      // Jitter for lock retries only; no lease decision depends on it.
      random: options.random ?? Math.random,
      timeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
      staleMs: options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS,
      emptyStaleMs: DEFAULT_LOCK_EMPTY_STALE_MS,
    };
  }

  acquire(req: AcquireRequest): Promise<AcquireResult> {
    return this.#transact((d) => applyAcquire(d, req));
  }

  renew(req: RenewRequest): Promise<LeaseOpResult> {
    return this.#transact((d) => applyRenew(d, req));
  }

  release(req: ReleaseRequest): Promise<LeaseOpResult> {
    return this.#transact((d) => applyRelease(d, req));
  }

  reject(req: RejectRequest): Promise<Cooldown> {
    return this.#transact((d) => applyReject(d, req));
  }

  list(now: number): Promise<ListResult> {
    return this.#transact((d) => {
      const s = sweepDoc(d, now);
      return { doc: s.doc, result: { leases: s.doc.leases, cooldowns: s.doc.cooldowns, expired: s.result } };
    });
  }

  async close(): Promise<void> {
    this.#state = "closed";
    await this.#tail.catch(() => undefined);
  }

  #transact<R>(fn: (doc: LeaseDoc) => { doc: LeaseDoc; result: R }): Promise<R> {
    if (this.#state === "closed") return Promise.reject(new ClosedError("file lease store"));
    const run = this.#tail.then(async () => {
      this.#ready ??= mkdir(this.#dir, { recursive: true, mode: 0o700 }).then(() => undefined);
      await this.#ready;
      return withFileLock(this.#lockPath, this.#lock, async () => {
        if (!this.#cleaned) await this.#removeOrphanTemps();
        const before = await this.#read();
        const { doc, result } = fn(before);
        if (doc !== before) await this.#write(doc);
        return result;
      });
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }

  #cleaned = false;

  /** Temp files left by writers killed before their rename; safe to remove while we hold the lock. */
  async #removeOrphanTemps(): Promise<void> {
    this.#cleaned = true;
    const prefix = `${LEASES_FILE}.`;
    for (const name of await readdir(this.#dir)) {
      if (name.startsWith(prefix) && name.endsWith(".tmp")) {
        await unlink(join(this.#dir, name)).catch(() => undefined);
      }
    }
  }

  async #read(): Promise<LeaseDoc> {
    let text: string;
    try {
      text = await readFile(this.location, "utf8");
    } catch (err) {
      if (errCode(err) === "ENOENT") return EMPTY_DOC;
      throw new StoreError(`cannot read ${this.location}`, err);
    }
    try {
      const doc = JSON.parse(text) as LeaseDoc;
      if (doc.version === 1 && Array.isArray(doc.leases) && Array.isArray(doc.cooldowns)) return doc;
    } catch (err) {
      throw new StoreError(`${this.location} is not valid JSON; move it aside to start empty`, err);
    }
    throw new StoreError(`${this.location} is not a version 1 lease file; move it aside to start empty`);
  }

  async #write(doc: LeaseDoc): Promise<void> {
    const tmp = `${this.location}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      const fh = await open(tmp, "w", 0o600);
      try {
        await fh.writeFile(`${JSON.stringify(doc, null, 1)}\n`);
        if (this.#fsync) await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.location);
      if (!this.#fsync) return;
      const dir = await open(this.#dir, "r");
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw new StoreError(`cannot write ${this.location}`, err);
    }
  }
}
