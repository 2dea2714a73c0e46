/**
 * The order audit trail of a daemon in an HA group: one Redis stream per daemon
 * (`switchboard:ha:<group>:audit:<daemon>`, one entry per order message and outcome, the
 * record as JSON in field `r`). Never fenced: a deposed daemon's refusals are recorded too.
 *
 * Invariants: records are group-committed — sent together (one pipeline of XADDs) within
 * `commitMs` (10 ms) of the first one waiting; records that Redis did not take (unreachable)
 * stay waiting, in order, and go with the next commit, up to `maxWaiting` (then the oldest are
 * dropped and counted, and the count is logged: memory stays bounded); `close()` sends what
 * still waits. Streams are trimmed (approximately) to `maxLen` entries per daemon.
 */
import type { Redis } from "ioredis";
import type { Logger } from "../logger.js";
import type { AuditRecord, OrderAudit } from "../switch/order-journal.js";
import { AUDIT_COMMIT_MS } from "./audit.js";

export const AUDIT_STREAM_MAX_LEN = 1_000_000;
export const AUDIT_MAX_WAITING = 100_000;

export interface RedisAuditOptions {
  redis: Redis;
  /** The daemon's own stream key (src/ha/keys.ts `audit(daemon)`). */
  stream: string;
  logger?: Logger;
  commitMs?: number;
  maxLen?: number;
  maxWaiting?: number;
}

export class RedisOrderAudit implements OrderAudit {
  readonly stream: string;
  readonly #o: RedisAuditOptions;
  #waiting: string[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #sending: Promise<void> | undefined;
  #closed = false;
  /** Records dropped because Redis stayed away too long. */
  dropped = 0;
  commits = 0;

  constructor(o: RedisAuditOptions) {
    this.#o = o;
    this.stream = o.stream;
  }

  append(record: AuditRecord): void {
    if (this.#closed) return;
    this.#waiting.push(JSON.stringify(record));
    const max = this.#o.maxWaiting ?? AUDIT_MAX_WAITING;
    if (this.#waiting.length > max) {
      const over = this.#waiting.length - max;
      this.#waiting.splice(0, over);
      this.dropped += over;
      this.#o.logger?.error(
        { dropped: this.dropped, stream: this.stream },
        "order audit: Redis unreachable, oldest records dropped",
      );
    }
    this.#timer ??= setTimeout(() => void this.flush(), this.#o.commitMs ?? AUDIT_COMMIT_MS);
  }

  /** Send everything waiting now; resolves once Redis answered (or failed). */
  async flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#sending) await this.#sending;
    if (this.#waiting.length === 0) return;
    const batch = this.#waiting;
    this.#waiting = [];
    this.#sending = this.#send(batch).finally(() => {
      this.#sending = undefined;
    });
    await this.#sending;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
  }

  async #send(batch: string[]): Promise<void> {
    const maxLen = String(this.#o.maxLen ?? AUDIT_STREAM_MAX_LEN);
    const p = this.#o.redis.pipeline();
    for (const r of batch) p.xadd(this.stream, "MAXLEN", "~", maxLen, "*", "r", r);
    try {
      const results = (await p.exec()) ?? [];
      const failed = results.findIndex(([err]) => err !== null);
      if (failed === -1) {
        this.commits++;
        return;
      }
      this.#requeue(batch.slice(failed), results[failed]?.[0]);
    } catch (err) {
      this.#requeue(batch, err);
    }
  }

  /** Not taken: back to the front, in order, for the next commit. */
  #requeue(rest: string[], err: unknown): void {
    this.#waiting = [...rest, ...this.#waiting];
    this.#o.logger?.warn(
      { err, waiting: this.#waiting.length, stream: this.stream },
      "order audit: Redis did not take records; retrying",
    );
    if (!this.#closed) this.#timer ??= setTimeout(() => void this.flush(), 250);
  }
}
