/**
 * The Pacer: every outgoing request waits here until every rule has room, then is released.
 * Waiting requests sit in per-tenant queues served by start-time fair queuing (a virtual
 * clock per tenant advanced by each request's cost), so a greedy backfill and a price agent
 * share the budget evenly; strict priority classes put heartbeats and cancels first.
 * Pure logic on an injected Clock: the socket side only calls acquire() and writes.
 */
import { type Clock, systemClock, type TimerHandle } from "../clock.js";
import { AbortedError, ClosedError, SwitchboardError } from "../errors.js";
import { EventHub } from "../events.js";
import { PacingLedger, type RuleUse } from "./checker.js";
import { classifyIbError, type ErrorContext, type IbErrorClassification } from "./classify.js";
import { PacingQueueFullError, PacingTimeoutError } from "./errors.js";
import type { PacerEvent } from "./pacer-events.js";
import { incomingReleases, type PacingRequest, PRIORITIES, type Priority } from "./request.js";
import { DEFAULT_RULES, type PacingRules } from "./rules.js";
import { PacerStats, type PacerStatsSnapshot } from "./stats.js";
import { TenantQueue, type Waiter } from "./tenant-queue.js";
import { type PacerMemoryStore, REMEMBERED_RULES } from "./memory.js";
import type { GatewayBudget, PacerLedger } from "./gateway-budget.js";

export type { PacerEvent } from "./pacer-events.js";

export const DEFAULT_MAX_QUEUE_PER_TENANT = 1_000;
export const DEFAULT_MAX_TENANTS = 1_024;
export const DEFAULT_DEADLINE_MS = 30_000;
export const DEFAULT_GUARD_FRACTION = 0.02;
export const DEFAULT_GUARD_MIN_MS = 50;
export const DEFAULT_LOOKAHEAD = 16;

export interface PacerOptions {
  clock?: Clock;
  /** Already scaled (resolveRules({timeScale})). */
  rules?: PacingRules;
  maxQueuePerTenant?: number;
  maxTenants?: number;
  deadlineMs?: number;
  /** Each window is widened by max(guardMinMs, window × guardFraction) against jitter. */
  guardFraction?: number;
  guardMinMs?: number;
  /** How far into a tenant's queue to look past requests held back by a keyed rule. */
  lookahead?: number;
  events?: EventHub<PacerEvent>;
  /** Keeps IB's historical windows across restarts (memory.ts); with `gateway`, the budget keeps them. */
  memory?: PacerMemoryStore;
  /**
   * The rules IB counts per TWS, shared with the pacers of other lines on the same TWS. Without
   * it this pacer counts every rule itself (one line per TWS).
   */
  gateway?: GatewayBudget;
  /** The line this pacer paces: its events carry it, and it names the pacer in its budget. */
  line?: string;
}

export interface AcquireOptions {
  signal?: AbortSignal;
  deadlineMs?: number;
  /**
   * Called synchronously at release, before the promise settles (write the frame here). If it
   * throws, only this item fails: its promise rejects with the error and its hold is freed.
   */
  onRelease?: (permit: Permit) => void;
  /**
   * This item's own queue bound for its tenant, instead of `maxQueuePerTenant`: for callers
   * whose backlog is bounded elsewhere (the switch's cancels of a departed tenant are bounded
   * by that tenant's live requests) and must never be refused for queue room.
   */
  queueLimit?: number;
  /**
   * The deadline passed: return how many more ms the item may wait (it keeps its place in its
   * queue), or undefined to fail it with `err`. For an item several callers wait on, each by
   * its own deadline (the switch's shared requests): those past theirs are answered by the
   * caller, the item waits on for the rest.
   */
  onDeadline?: (err: PacingTimeoutError) => number | undefined;
  /** Called once the item is queued, with a way to move its deadline while it waits. */
  onQueued?: (wait: QueuedWait) => void;
}

/** A queued item's deadline, movable while it waits; a no-op once it has left the queue. */
export interface QueuedWait {
  /** The item now waits at most `ms` more. */
  setDeadline(ms: number): void;
}

export interface Permit {
  readonly request: PacingRequest;
  readonly waitedMs: number;
  /** A cancel whose request was still queued: both are dropped, send nothing. */
  readonly elided: boolean;
}

export type PacerState = "open" | "closing" | "closed";

export interface PacerStatus {
  readonly state: PacerState;
  readonly timeScale: number;
  /** The pacing profile of the table (`custom` for a hand-built one). */
  readonly profile: string;
  readonly rules: readonly RuleUse[];
  readonly queued: number;
  readonly tenants: readonly { tenant: string; queued: number; oldestWaitMs: number }[];
  readonly openHolds: number;
  /** The line this pacer paces (daemon pacers). */
  readonly line?: string;
  /** The TWS whose per-TWS rules this pacer shares, and the lines that share them. */
  readonly gateway?: { readonly name: string; readonly lines: readonly string[] };
}

export class Pacer {
  readonly events: EventHub<PacerEvent>;
  readonly #clock: Clock;
  readonly #rules: PacingRules;
  readonly #ledger: PacerLedger;
  /** Set when the remembered windows live in this pacer's own ledger (no shared budget). */
  readonly #ownMemory: PacingLedger | undefined;
  readonly #gateway: GatewayBudget | undefined;
  readonly #line: string | undefined;
  readonly #stats: PacerStats;
  readonly #tenants = new Map<string, TenantQueue>();
  readonly #maxQueue: number;
  readonly #maxTenants: number;
  readonly #deadlineMs: number;
  readonly #lookahead: number;
  readonly #memory: PacerMemoryStore | undefined;
  #state: PacerState = "open";
  #virtualNow = 0;
  #serveSeq = 0;
  #wake: TimerHandle | undefined;
  #wakeAt = Number.POSITIVE_INFINITY;
  #pumping = false;
  /** Waiters in every tenant queue together: releaseNow() may pass only when none wait. */
  #waiting = 0;
  /** The waiter the running acquire() just queued, while that call pumps. */
  #queuing: Waiter | undefined;
  /** After IB's error 100 nothing is released until then (its window must drain first). */
  #pausedUntil = 0;
  #closed: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(options: PacerOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#rules = options.rules ?? DEFAULT_RULES;
    const fraction = options.guardFraction ?? DEFAULT_GUARD_FRACTION;
    const min = options.guardMinMs ?? DEFAULT_GUARD_MIN_MS;
    this.#line = options.line;
    this.#gateway = options.gateway;
    const mode = { useTarget: true, guardMs: (w: number) => Math.ceil(Math.max(min, w * fraction)) };
    if (this.#gateway) {
      // Per connection here; per TWS in the budget, which also keeps the remembered windows.
      const own = new PacingLedger(this.#rules, { mode, scopes: ["connection"] });
      this.#ledger = this.#gateway.join(this.#line ?? "pacer", own, () => this.#pump());
      this.#memory = undefined;
      this.#ownMemory = undefined;
    } else {
      this.#memory = options.memory;
      const own = new PacingLedger(this.#rules, {
        mode,
        ...(this.#memory ? { remembered: REMEMBERED_RULES } : {}),
      });
      const remembered = this.#memory?.load();
      if (remembered) own.restoreWindows(remembered, this.#clock.now());
      this.#ledger = own;
      this.#ownMemory = own;
    }
    this.#stats = new PacerStats(this.#clock.now());
    this.#maxQueue = options.maxQueuePerTenant ?? DEFAULT_MAX_QUEUE_PER_TENANT;
    this.#maxTenants = options.maxTenants ?? DEFAULT_MAX_TENANTS;
    this.#deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.#lookahead = options.lookahead ?? DEFAULT_LOOKAHEAD;
    this.events = options.events ?? new EventHub<PacerEvent>();
  }

  get state(): PacerState {
    return this.#state;
  }

  get rules(): PacingRules {
    return this.#rules;
  }

  /** Wait until `req` may be sent. Rejects with pacing_timeout, queue_full, aborted or closed. */
  acquire(req: PacingRequest, options: AcquireOptions = {}): Promise<Permit> {
    return new Promise<Permit>((resolve, reject) => {
      if (this.#state !== "open") return reject(new ClosedError("pacer"));
      if (options.signal?.aborted) {
        this.#stats.recordRejected("aborted");
        return reject(new AbortedError(options.signal.reason));
      }
      const now = this.#clock.now();
      if (req.releases !== undefined && this.#elide(req, options, resolve, reject)) return;
      let q = this.#tenants.get(req.tenant);
      if (!q) {
        if (this.#tenants.size >= this.#maxTenants) this.#dropIdleTenant();
        if (this.#tenants.size >= this.#maxTenants) {
          this.#stats.recordRejected("overflow");
          return reject(new PacingQueueFullError(req.tenant, this.#maxQueue));
        }
        q = new TenantQueue(req.tenant);
        this.#tenants.set(req.tenant, q);
      }
      const queueLimit = options.queueLimit ?? this.#maxQueue;
      if (q.size >= queueLimit) {
        this.#stats.recordRejected("overflow");
        return reject(new PacingQueueFullError(req.tenant, queueLimit));
      }
      // A tenant that was idle joins at the current virtual time: no credit for idling.
      if (q.size === 0) q.vtime = Math.max(q.vtime, this.#virtualNow);
      const waiter: Waiter = {
        req,
        enqueuedAt: now,
        resolve,
        reject,
        onRelease: options.onRelease,
        onDeadline: options.onDeadline,
      };
      if (options.signal) {
        const signal = options.signal;
        const onAbort = () => this.#drop(waiter, new AbortedError(signal.reason), "aborted");
        signal.addEventListener("abort", onAbort, { once: true });
        waiter.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      q.push(waiter);
      this.#waiting++;
      options.onQueued?.({ setDeadline: (ms) => this.#moveDeadline(waiter, ms) });
      this.#queuing = waiter;
      try {
        this.#pump();
      } finally {
        this.#queuing = undefined;
      }
      // Most requests leave in the pump above: only one that still waits needs its deadline
      // timer (no timer armed and cleared per message), counted from when it was queued.
      if (waiter.deadline === undefined && q.has(waiter) && this.#tenants.get(req.tenant) === q) {
        const deadline = (options.deadlineMs ?? this.#deadlineMs) - (this.#clock.now() - now);
        waiter.deadline = this.#clock.setTimeout(() => this.#expire(waiter), Math.max(0, deadline));
      }
    });
  }

  /**
   * The synchronous path of acquire() for a request that would leave in acquire()'s own pump:
   * the pacer is open and not paused, nothing waits in any queue, no pump is running, and
   * every rule has room now. Then it is released here, with the same bookkeeping as the pump
   * (ledger, remembered windows, fair-queue clocks, stats), and `onRelease` runs before this
   * returns — without a Promise, a waiter or a queue entry. Otherwise nothing is touched and
   * undefined is returned: call acquire(). Cancels (`releases`) always go through acquire(),
   * which may elide them. As in the pump, requests made inside `onRelease` queue and leave after
   * it in the pump's order; a throwing `onRelease` frees the slot it took (the pump then serves
   * whoever waited for it) and is rethrown.
   *
   * Why: at one request every few ms the promise, waiter and pick of acquire() are most of
   * the pacer's cost on the proxy's round trip, for a request that never waits.
   */
  releaseNow(req: PacingRequest, onRelease: (permit: Permit) => void): Permit | undefined {
    if (this.#state !== "open" || this.#waiting > 0 || this.#pumping || req.releases !== undefined) {
      return undefined;
    }
    const now = this.#clock.now();
    if (now < this.#pausedUntil) return undefined;
    let q = this.#tenants.get(req.tenant);
    if (!q && this.#tenants.size >= this.#maxTenants) return undefined;
    if (this.#ledger.earliest(req, now).at > now) return undefined;
    if (!q) {
      q = new TenantQueue(req.tenant);
      this.#tenants.set(req.tenant, q);
    }
    const permit: Permit = { request: req, waitedMs: 0, elided: false };
    // As the pump does it: requests made inside the callback (or an event listener) queue and
    // leave after it, in the pump's order, and a throw frees the slot for whoever waits on it.
    let failed: { err: unknown } | undefined;
    this.#pumping = true;
    try {
      // As acquire() + #let(): an idle tenant joins at the current virtual time.
      q.vtime = Math.max(q.vtime, this.#virtualNow);
      this.#charge(q, req, now);
      this.#stats.recordRelease(req.kind, 0, undefined);
      try {
        onRelease(permit);
      } catch (err) {
        this.#stats.recordRejected("callback");
        if (req.hold !== undefined) this.#ledger.release(req.tenant, req.hold);
        failed = { err };
      }
    } finally {
      this.#pumping = false;
    }
    if (this.#waiting > 0 || failed) this.#pump();
    else this.#finishIfDrained();
    if (failed) throw failed.err;
    return permit;
  }

  /** A request ended (answer, terminal error, cancel confirmed): free its slot now. */
  release(tenant: string, hold: string): void {
    // The answer is here, so IB counted the request no later than now (see restamp).
    this.#ledger.restamp(tenant, hold, this.#clock.now());
    this.#remember();
    if (this.#ledger.release(tenant, hold)) this.#pump();
  }

  /**
   * Feed every inbound message of the line here: ends of historical answers and terminal
   * errors free their slots, pacing errors count as violations.
   */
  observeIncoming(tenant: string, fields: readonly string[], version: number): void {
    let freed = false;
    const now = this.#clock.now();
    // The gateway is reading: what was sent into its silence counts from now.
    freed = this.#ledger.heard(now);
    for (const hold of incomingReleases(fields, version)) {
      this.#ledger.restamp(tenant, hold, now);
      freed = this.#ledger.release(tenant, hold) || freed;
    }
    this.#remember();
    if (freed) this.#pump();
  }

  /**
   * Something arrived from the gateway (any message): it is reading. Messages sent into a
   * silence stop counting only from now (a frozen TWS counts its backlog when it wakes).
   */
  heard(): void {
    if (this.#ledger.heard(this.#clock.now())) this.#pump();
  }

  /** Classify an error IB sent; pacing ones are counted and published as pacer.violation. */
  observeError(code: number, message: string, reqId?: number, context?: ErrorContext): IbErrorClassification {
    const cls = classifyIbError(code, message, context);
    if (cls.reason === "message_rate") {
      // The gateway counted more than its limit (jitter between our clock and its reads, or
      // a writer outside the pacer): whatever we send now lands in that same full window, and
      // TWS disconnects a client that keeps exceeding it. Send nothing until it has drained.
      this.#pausedUntil = Math.max(this.#pausedUntil, this.#clock.now() + (cls.backoffMs ?? 1_000));
    }
    if (cls.violation) {
      this.#stats.recordViolation(code);
      this.events.emit({
        type: "pacer.violation",
        ts: this.#clock.now(),
        code,
        reason: cls.reason,
        reqId,
        message,
        ...(this.#line === undefined ? {} : { line: this.#line }),
      });
    }
    return cls;
  }

  /**
   * A held slot moves to another tenant (it stays taken): its request outlives the tenant it
   * waited under. Returns whether `from` held it.
   */
  transferHold(from: string, hold: string, to: string): boolean {
    return this.#ledger.transfer(from, hold, to);
  }

  /** A tenant left: its queued requests are rejected and its holds freed. */
  releaseTenant(tenant: string): void {
    const q = this.#tenants.get(tenant);
    if (q) for (const w of q.all()) this.#drop(w, new ClosedError(`tenant ${tenant}`), "closed");
    this.#tenants.delete(tenant);
    if (this.#ledger.releaseTenant(tenant) > 0) this.#pump();
  }

  /** `/api/ib/pace/status`: window use per rule now, queues per tenant. */
  snapshot(): PacerStatus {
    const now = this.#clock.now();
    const tenants = [...this.#tenants.values()].map((q) => ({
      tenant: q.tenant,
      queued: q.size,
      oldestWaitMs: q.size === 0 ? 0 : now - q.oldestEnqueuedAt(),
    }));
    return {
      state: this.#state,
      timeScale: this.#rules.timeScale,
      profile: this.#rules.profile ?? "custom",
      rules: this.#ledger.usage(now),
      queued: tenants.reduce((s, t) => s + t.queued, 0),
      tenants,
      openHolds: this.#ledger.openHolds,
      ...(this.#line === undefined ? {} : { line: this.#line }),
      ...(this.#gateway ? { gateway: { name: this.#gateway.name, lines: this.#gateway.scopes } } : {}),
    };
  }

  /** `/api/ib/pace/stats`: waits, releases, violations, rejections since start. */
  stats(): PacerStatsSnapshot {
    return this.#stats.snapshot();
  }

  /** Stop taking requests; resolves once every queued request has been released. */
  close(): Promise<void> {
    if (this.#state === "closed") return Promise.resolve();
    if (!this.#closed) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.#closed = { promise, resolve };
      this.#transition("closing", "close()");
      this.#finishIfDrained();
    }
    return this.#closed.promise;
  }

  /** Stop at once: every queued request is rejected. */
  destroy(err?: unknown): void {
    if (this.#state === "closed") return;
    for (const q of this.#tenants.values()) {
      for (const w of q.all()) {
        this.#drop(w, err instanceof SwitchboardError ? err : new ClosedError("pacer"), "closed");
      }
    }
    this.#tenants.clear();
    this.#transition("closed", "destroy()");
    this.#closed?.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.destroy();
  }

  #transition(to: PacerState, reason: string): void {
    if (this.#state === to) return;
    this.#state = to;
    if (to === "closed") {
      this.#clearWake();
      this.#gateway?.leave(this.#line ?? "pacer");
    }
    this.events.emit({ type: "pacer.state", ts: this.#clock.now(), state: to, reason });
  }

  #elide(
    req: PacingRequest,
    options: AcquireOptions,
    resolve: (p: Permit) => void,
    reject: (err: Error) => void,
  ): boolean {
    const q = this.#tenants.get(req.tenant);
    const target = q?.findHold(req.releases as string);
    if (!target) return false;
    // Cancelling something TWS never saw: drop both, send nothing (TWS would answer 300/366).
    this.#drop(target, new AbortedError("cancelled before it was sent"), "cancelled");
    this.#stats.recordElided();
    const permit: Permit = { request: req, waitedMs: 0, elided: true };
    this.#deliver({ req, resolve, reject, onRelease: options.onRelease }, permit);
    this.#pump();
    return true;
  }

  #expire(w: Waiter): void {
    // A timer that outlived its item (sent, dropped) does nothing.
    if (!this.#tenants.get(w.req.tenant)?.has(w)) return;
    w.deadline = undefined; // this timer has fired
    const now = this.#clock.now();
    const e = this.#ledger.earliest(w.req, now);
    const retryAfter = Number.isFinite(e.at) ? Math.max(0, e.at - now) : undefined;
    const err = new PacingTimeoutError(now - w.enqueuedAt, w.blockedBy ?? e.ruleId, retryAfter);
    let more: number | undefined;
    try {
      more = w.onDeadline?.(err);
    } catch {
      // A throwing callback fails its own item only (as onRelease).
      more = undefined;
    }
    // The callback may have sent or dropped the item, or moved its deadline itself
    // (setDeadline from a listener): then that timer stands, and no second one is armed.
    if (!this.#tenants.get(w.req.tenant)?.has(w)) return;
    if (w.deadline !== undefined) return;
    if (more !== undefined && more > 0) {
      w.deadline = this.#clock.setTimeout(() => this.#expire(w), more);
      return;
    }
    this.#drop(w, err, "timeout");
  }

  #moveDeadline(w: Waiter, ms: number): void {
    if (!this.#tenants.get(w.req.tenant)?.has(w)) return;
    this.#clock.clearTimeout(w.deadline);
    w.deadline = this.#clock.setTimeout(() => this.#expire(w), Math.max(0, ms));
  }

  #drop(w: Waiter, err: Error, reason: "timeout" | "aborted" | "closed" | "cancelled"): void {
    const q = this.#tenants.get(w.req.tenant);
    if (!q?.remove(w)) return;
    this.#waiting--;
    this.#settle(w);
    this.#stats.recordRejected(reason);
    w.reject(err);
    this.#finishIfDrained();
    // A dropped head may unblock the requests behind it.
    this.#pump();
  }

  #settle(w: Waiter): void {
    this.#clock.clearTimeout(w.deadline);
    w.cleanup?.();
  }

  #dropIdleTenant(): void {
    for (const [t, q] of this.#tenants) {
      if (q.size === 0) {
        this.#tenants.delete(t);
        return;
      }
    }
  }

  #pump(): void {
    if (this.#pumping || this.#state === "closed") return;
    this.#pumping = true;
    try {
      for (;;) {
        const now = this.#clock.now();
        if (now < this.#pausedUntil) {
          this.#armWake(this.#pausedUntil, now);
          break;
        }
        const pick = this.#pick(now);
        if (pick.waiter) {
          this.#let(pick.waiter, pick.queue as TenantQueue, now);
          continue;
        }
        this.#armWake(pick.nextAt, now);
        break;
      }
    } finally {
      this.#pumping = false;
    }
    this.#finishIfDrained();
  }

  /** The next request to release: strict priority, then smallest tenant virtual time. */
  #pick(now: number): { waiter?: Waiter; queue?: TenantQueue; nextAt: number } {
    let nextAt = Number.POSITIVE_INFINITY;
    // One callback per pick, not one per queue and class: the pump runs for every message.
    let q: TenantQueue | undefined;
    const ready = (w: Waiter): boolean => {
      const e = this.#ledger.earliest(w.req, now);
      if (e.at > now) {
        w.blockedBy = e.ruleId ?? w.blockedBy;
        (q as TenantQueue).blockedBy = w.blockedBy;
      }
      if (e.at > now && e.at < nextAt) nextAt = e.at;
      return e.at <= now;
    };
    for (const prio of PRIORITIES) {
      let bestWaiter: Waiter | undefined;
      let bestQueue: TenantQueue | undefined;
      for (q of this.#tenants.values()) {
        if (q.size === 0) continue;
        const found = q.firstReady(prio, this.#lookahead, ready);
        if (!found) continue;
        if (
          !bestQueue ||
          q.vtime < bestQueue.vtime ||
          (q.vtime === bestQueue.vtime && q.lastServed < bestQueue.lastServed)
        ) {
          bestWaiter = found;
          bestQueue = q;
        }
      }
      // Waiters passed over for another tenant waited for fairness, not for a rule.
      if (bestWaiter) return { waiter: bestWaiter, queue: bestQueue, nextAt };
    }
    return { nextAt };
  }

  #let(w: Waiter, q: TenantQueue, now: number): void {
    if (q.remove(w)) this.#waiting--;
    this.#settle(w);
    this.#charge(q, w.req, now);
    // Released in the pump of the call that queued it, it waited for nothing, even if the
    // clock's millisecond turned in between (a busy machine): no wait is counted.
    const waitedMs = w === this.#queuing ? 0 : now - w.enqueuedAt;
    // Requests behind a blocked one were never looked at: they waited for the same rule.
    const rule = waitedMs > 0 ? (w.blockedBy ?? q.blockedBy ?? "queue") : undefined;
    this.#stats.recordRelease(w.req.kind, waitedMs, rule);
    if (waitedMs > 0) {
      this.events.emit({
        type: "pacer.wait",
        ts: now,
        tenant: w.req.tenant,
        kind: w.req.kind,
        rule: rule as string,
        waitedMs,
        ...(this.#line === undefined ? {} : { line: this.#line }),
      });
    }
    const permit: Permit = { request: w.req, waitedMs, elided: false };
    this.#deliver(w, permit);
  }

  /** A request leaves: its rules count it, and its tenant's virtual clock moves by its cost. */
  #charge(q: TenantQueue, req: PacingRequest, now: number): void {
    this.#ledger.record(req, now);
    // Saved before the permit goes out: the request never reaches the socket unremembered.
    this.#remember();
    this.#virtualNow = q.vtime;
    q.vtime += Math.max(1, req.cost);
    q.lastServed = ++this.#serveSeq;
  }

  /**
   * Hand a permit to its caller. A throwing callback fails its own item only: the pump goes
   * on for everyone else, the thrower's promise rejects with what it threw, and the slot it
   * took is freed (nothing was sent for it as far as the pacer can tell).
   */
  #deliver(w: Pick<Waiter, "req" | "resolve" | "reject" | "onRelease">, permit: Permit): void {
    try {
      w.onRelease?.(permit);
    } catch (err) {
      this.#stats.recordRejected("callback");
      if (!permit.elided && w.req.hold !== undefined) this.#ledger.release(w.req.tenant, w.req.hold);
      w.reject(
        err instanceof Error
          ? err
          : new SwitchboardError("aborted", `the release callback threw: ${String(err)}`),
      );
      return;
    }
    w.resolve(permit);
  }

  /** Hands the remembered windows to the store when they changed. A failing store costs memory, not requests. */
  #remember(): void {
    try {
      if (this.#gateway) this.#gateway.remember(this.#clock.now());
      else if (this.#memory && this.#ownMemory?.takeChanged())
        this.#memory.save(this.#ownMemory.rememberedWindows(this.#clock.now()));
    } catch (err) {
      this.events.emit({
        type: "pacer.state",
        ts: this.#clock.now(),
        state: this.#state,
        reason: `pacer memory not saved: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
  }

  #armWake(at: number, now: number): void {
    if (!Number.isFinite(at)) {
      this.#clearWake();
      return;
    }
    if (this.#wake && this.#wakeAt <= at) return;
    this.#clearWake();
    this.#wakeAt = at;
    this.#wake = this.#clock.setTimeout(
      () => {
        this.#wake = undefined;
        this.#wakeAt = Number.POSITIVE_INFINITY;
        this.#pump();
      },
      Math.max(0, at - now),
    );
  }

  #clearWake(): void {
    this.#clock.clearTimeout(this.#wake);
    this.#wake = undefined;
    this.#wakeAt = Number.POSITIVE_INFINITY;
  }

  #finishIfDrained(): void {
    if (this.#state !== "closing") return;
    for (const q of this.#tenants.values()) if (q.size > 0) return;
    this.#transition("closed", "drained");
    this.#closed?.resolve();
  }
}

export type { Priority };
