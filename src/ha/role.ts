/**
 * The role of one daemon in an HA group: standby → active → stepping down → standby. Pure
 * state; the keeper (keeper.ts) feeds it the outcomes of lease calls and the monotonic time.
 *
 * Invariants:
 *  - one writer of state: `#transition`, which emits `ha.role` on every change;
 *  - `mayWrite(now)` is true only while active *and* fresh (freshness.ts): an active whose
 *    renewals stopped (Redis away, process paused) stops writing orders on its own clock,
 *    before any standby can be granted the lease;
 *  - a lost lease, a stale fencing token or a freshness lapse all lead to stepping down;
 *    stepping down ends (back to standby) only when the caller says the upstream sockets are
 *    closed, and a standby is granted only a fresh token: a role never goes from stepping
 *    down back to active;
 *  - renewals only move freshness forward and only count for the token they were made under.
 */
import { freshUntil, mayWriteFrom } from "./freshness.js";

export type HaRoleName = "standby" | "active" | "stepping_down";

/** Why a daemon stopped being active. */
export type StepDownReason =
  /** The renew call answered that the lease is gone or held by another daemon. */
  | "lease_lost"
  /** A fenced write (journal, identity, mark) was refused: another daemon holds the lease. */
  | "fenced"
  /** No successful renewal for `leaseMs − 2 × renew interval`. */
  | "lease_stale"
  /** Becoming active failed (the group's orders could not be loaded, a line could not be built). */
  | "takeover_failed"
  /** The daemon is shutting down. */
  | "shutdown";

export type HaRoleState =
  | { readonly role: "standby" }
  | { readonly role: "active"; readonly token: number; readonly renewalSentAt: number }
  | { readonly role: "stepping_down"; readonly token: number; readonly reason: StepDownReason };

export interface HaRoleEvent {
  readonly type: "ha.role";
  readonly role: HaRoleName;
  readonly previous: HaRoleName;
  readonly token: number | null;
  readonly reason: StepDownReason | "granted" | "stepped_down" | null;
}

export class HaRole {
  readonly #leaseMs: number;
  readonly #listeners = new Set<(e: HaRoleEvent) => void>();
  #state: HaRoleState = { role: "standby" };

  constructor(leaseMs: number) {
    this.#leaseMs = leaseMs;
  }

  get state(): HaRoleState {
    return this.#state;
  }

  get role(): HaRoleName {
    return this.#state.role;
  }

  /** The fencing token of the current (or last, while stepping down) tenure. */
  get token(): number | null {
    return this.#state.role === "standby" ? null : this.#state.token;
  }

  on(fn: (e: HaRoleEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** The lease was granted by a call sent at `sentAt`. Ignored unless standby. */
  granted(token: number, sentAt: number): void {
    if (this.#state.role !== "standby") return;
    this.#transition({ role: "active", token, renewalSentAt: sentAt }, "granted");
  }

  /** A renewal sent at `sentAt` under `token` succeeded. */
  renewed(token: number, sentAt: number): void {
    const s = this.#state;
    if (s.role !== "active" || s.token !== token || sentAt <= s.renewalSentAt) return;
    // Not an event: freshness moves on silently.
    this.#state = { role: "active", token, renewalSentAt: sentAt };
  }

  /** The lease (or a write under `token`) was refused. */
  lost(token: number, reason: "lease_lost" | "fenced" | "takeover_failed"): void {
    const s = this.#state;
    if (s.role !== "active" || s.token !== token) return;
    this.#transition({ role: "stepping_down", token, reason }, reason);
  }

  /** Look at the clock: an active past its window steps down. Returns whether it did. */
  check(now: number): boolean {
    const s = this.#state;
    if (s.role !== "active" || mayWriteFrom(s.renewalSentAt, now, this.#leaseMs)) return false;
    this.#transition({ role: "stepping_down", token: s.token, reason: "lease_stale" }, "lease_stale");
    return true;
  }

  /** The daemon is stopping: an active steps down. */
  shutdown(): void {
    const s = this.#state;
    if (s.role === "active")
      this.#transition({ role: "stepping_down", token: s.token, reason: "shutdown" }, "shutdown");
  }

  /** The upstream sockets are closed: back to standby. */
  steppedDown(): void {
    if (this.#state.role !== "stepping_down") return;
    this.#transition({ role: "standby" }, "stepped_down");
  }

  /** Whether an order may be written upstream at monotonic time `now`. */
  mayWrite(now: number): boolean {
    const s = this.#state;
    return s.role === "active" && mayWriteFrom(s.renewalSentAt, now, this.#leaseMs);
  }

  /** The monotonic time the current tenure stops being fresh (undefined unless active). */
  freshUntil(): number | undefined {
    const s = this.#state;
    return s.role === "active" ? freshUntil(s.renewalSentAt, this.#leaseMs) : undefined;
  }

  #transition(next: HaRoleState, reason: HaRoleEvent["reason"]): void {
    const previous = this.#state.role;
    this.#state = next;
    const token = next.role === "standby" ? null : next.token;
    const e: HaRoleEvent = { type: "ha.role", role: next.role, previous, token, reason };
    for (const fn of [...this.#listeners]) fn(e);
  }
}
