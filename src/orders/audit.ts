/**
 * The order audit trail of one line: `<state dir>/orders-<line>.audit.jsonl`, one JSON line per
 * order message and outcome (`ts, owner, localId, upstreamId, upstreamClientId, generation,
 * kind, outcome`). Never filtered by log level.
 *
 * Invariants: records are group-committed — appended and fdatasynced together within
 * `commitMs` (10 ms) of the first one waiting — so the cost per order stays flat; `close()`
 * writes whatever still waits, synchronously.
 */
import { closeSync, fdatasyncSync, mkdirSync, openSync, writeSync } from "node:fs";
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

  /** Write and sync everything waiting now. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#waiting.length === 0 || this.#closed) return;
    const text = `${this.#waiting.join("\n")}\n`;
    this.#waiting = [];
    writeSync(this.#fd, text);
    fdatasyncSync(this.#fd);
    this.commits++;
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    closeSync(this.#fd);
  }
}
