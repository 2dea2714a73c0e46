/**
 * The order audit trail of one line: `<state dir>/orders-<line>.audit.jsonl`, one JSON line per
 * order message and outcome (`ts, owner, localId, upstreamId, upstreamClientId, generation,
 * kind, outcome`). Never filtered by log level.
 *
 * Invariants: records are group-committed — appended and fdatasynced together within
 * `commitMs` (10 ms) of the first one waiting — so the cost per order stays flat; the sync
 * runs in libuv's thread pool, never on the event loop (one at a time; records appended
 * while it runs are synced by the next); `close()` writes and syncs whatever still waits,
 * synchronously, and closes the file once no sync uses it.
 */
import { closeSync, fdatasync, fdatasyncSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { AuditRecord, OrderAudit } from "../switch/order-journal.js";

export const AUDIT_COMMIT_MS = 10;

export class FileOrderAudit implements OrderAudit {
  readonly path: string;
  readonly #fd: number;
  readonly #commitMs: number;
  #waiting: string[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #syncing = false;
  /** Records were written while a sync ran: one more sync follows it. */
  #again = false;
  #fdClosed = false;
  /** Group commits done (for the bench). */
  commits = 0;

  constructor(o: { stateDir: string; line: string; commitMs?: number }) {
    mkdirSync(o.stateDir, { recursive: true });
    this.path = join(o.stateDir, `orders-${o.line}.audit.jsonl`);
    this.#fd = openSync(this.path, "a", 0o600);
    this.#commitMs = o.commitMs ?? AUDIT_COMMIT_MS;
  }

  append(record: AuditRecord): void {
    if (this.#closed) return;
    this.#waiting.push(JSON.stringify(record));
    this.#timer ??= setTimeout(() => this.flush(), this.#commitMs);
  }

  /** Write everything waiting now and sync it off the event loop. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#waiting.length === 0 || this.#closed) return;
    this.#write();
    this.#syncSoon();
  }

  close(): void {
    if (this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#write();
    fdatasyncSync(this.#fd);
    this.commits++;
    this.#closed = true;
    this.#closeFdWhenIdle();
  }

  #write(): void {
    if (this.#waiting.length === 0) return;
    const text = `${this.#waiting.join("\n")}\n`;
    this.#waiting = [];
    writeSync(this.#fd, text);
  }

  #syncSoon(): void {
    if (this.#syncing) {
      this.#again = true;
      return;
    }
    this.#syncing = true;
    this.#again = false;
    fdatasync(this.#fd, (err) => {
      this.#syncing = false;
      // A failed sync of the audit trail must not stop orders: the next commit tries again.
      if (!err) this.commits++;
      if (this.#closed) this.#closeFdWhenIdle();
      else if (this.#again) this.#syncSoon();
    });
  }

  #closeFdWhenIdle(): void {
    if (this.#syncing || this.#fdClosed) return;
    this.#fdClosed = true;
    closeSync(this.#fd);
  }
}
