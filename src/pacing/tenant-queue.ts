/** One tenant's waiting requests, one FIFO per priority class. Internal to the scheduler. */
import type { TimerHandle } from "../clock.js";
import type { PacingTimeoutError } from "./errors.js";
import type { PacingRequest, Priority } from "./request.js";

export interface Waiter {
  readonly req: PacingRequest;
  readonly enqueuedAt: number;
  readonly resolve: (permit: { request: PacingRequest; waitedMs: number; elided: boolean }) => void;
  readonly reject: (err: Error) => void;
  readonly onRelease:
    ((permit: { request: PacingRequest; waitedMs: number; elided: boolean }) => void) | undefined;
  deadline?: TimerHandle;
  /** The deadline passed: more ms to wait, or undefined to fail (AcquireOptions.onDeadline). */
  readonly onDeadline?: ((err: PacingTimeoutError) => number | undefined) | undefined;
  cleanup?: () => void;
  /** The rule that held it back at the last look. */
  blockedBy?: string;
}

export class TenantQueue {
  readonly tenant: string;
  /** Start-time fair queuing: virtual time consumed by this tenant. */
  vtime = 0;
  /** Serve sequence of its last release (tie-break: longest unserved first). */
  lastServed = 0;
  /** The rule that held back its first blocked request at the last look (for wait stats). */
  blockedBy: string | undefined;
  readonly #byPriority = new Map<Priority, Waiter[]>();
  #size = 0;

  constructor(tenant: string) {
    this.tenant = tenant;
  }

  get size(): number {
    return this.#size;
  }

  push(w: Waiter): void {
    const list = this.#byPriority.get(w.req.priority) ?? [];
    this.#byPriority.set(w.req.priority, list);
    list.push(w);
    this.#size++;
  }

  remove(w: Waiter): boolean {
    const list = this.#byPriority.get(w.req.priority);
    const i = list ? list.indexOf(w) : -1;
    if (!list || i === -1) return false;
    list.splice(i, 1);
    this.#size--;
    return true;
  }

  /**
   * The first waiter of `prio` that `ready` accepts, looking at most `lookahead` deep. Only
   * independent queries (reorderable) may be overtaken; anything else keeps its order.
   */
  firstReady(prio: Priority, lookahead: number, ready: (w: Waiter) => boolean): Waiter | undefined {
    const list = this.#byPriority.get(prio);
    if (!list) return undefined;
    const n = Math.min(list.length, Math.max(1, lookahead));
    for (let i = 0; i < n; i++) {
      const w = list[i] as Waiter;
      if (ready(w)) return w;
      if (!w.req.reorderable) return undefined;
    }
    return undefined;
  }

  /** Whether `w` still waits here. */
  has(w: Waiter): boolean {
    return this.#byPriority.get(w.req.priority)?.includes(w) ?? false;
  }

  /** A queued (not yet sent) request holding `hold`, for cancels of unsent requests. */
  findHold(hold: string): Waiter | undefined {
    for (const list of this.#byPriority.values()) for (const w of list) if (w.req.hold === hold) return w;
    return undefined;
  }

  oldestEnqueuedAt(): number {
    let t = Number.POSITIVE_INFINITY;
    for (const list of this.#byPriority.values()) if (list[0]) t = Math.min(t, list[0].enqueuedAt);
    return t;
  }

  all(): Waiter[] {
    return [...this.#byPriority.values()].flat();
  }
}
