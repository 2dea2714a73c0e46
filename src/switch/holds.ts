/**
 * The pacer holds of the switch's live requests, kept in one place. A request with a capacity
 * slot (a market-data line, an open historical request, a depth or tick-by-tick stream…)
 * takes its hold when the pacer lets it go and the switch writes it; the hold is released
 * exactly once, for exactly one of the reasons in `HoldEnd`. Nothing else in the switch
 * calls `pacer.release`.
 *
 * Invariant (checked by the property tests): every hold in this book belongs to a live
 * request written on the current line generation, or to one written on an older socket that
 * a replay has not moved yet; so after every replay the market-data holds equal the live
 * upstream market-data requests.
 */
import type { Pacer } from "../pacing/scheduler.js";

/** Why a hold ended. */
export type HoldEnd =
  | "answered" // its end message, or the single answer of a one-shot
  | "error" // a terminal error from TWS for its id
  | "cancelled" // the tenant cancelled it
  | "rekeyed" // a replay moved it to a fresh upstream id (the fresh one takes its own hold)
  | "failed" // the pacer let it go but it was not written (line down, stale permit)
  | "lost" // its socket dropped and it will not be sent again
  | "tenant_closed"; // its tenant went away (the pacer frees those holds itself)

interface Held {
  readonly tenant: string;
  readonly hold: string;
}

export class HoldBook {
  readonly #pacer: Pacer;
  /** Upstream id → the hold its request has in the pacer. */
  readonly #held = new Map<number, Held>();
  readonly #ended = new Map<HoldEnd, number>();

  constructor(pacer: Pacer) {
    this.#pacer = pacer;
  }

  /** The request `upstreamId` was written: it keeps the hold the pacer gave it. */
  taken(upstreamId: number, tenant: string, hold: string): void {
    this.#held.set(upstreamId, { tenant, hold });
  }

  /** The pacer gave a hold to an item that was not written: give it back at once. */
  refuse(tenant: string, hold: string): void {
    this.#pacer.release(tenant, hold);
    this.#count("failed");
  }

  /** Release the hold of `upstreamId`, if it has one. Returns whether it had. */
  release(upstreamId: number, why: HoldEnd): boolean {
    const h = this.#held.get(upstreamId);
    if (!h) return false;
    this.#held.delete(upstreamId);
    this.#pacer.release(h.tenant, h.hold);
    this.#count(why);
    return true;
  }

  /** A tenant left: the pacer already freed its holds (`releaseTenant`); forget them here. */
  forgetTenant(tenant: string): number {
    let n = 0;
    for (const [id, h] of this.#held) {
      if (h.tenant !== tenant) continue;
      this.#held.delete(id);
      n++;
    }
    for (let i = 0; i < n; i++) this.#count("tenant_closed");
    return n;
  }

  has(upstreamId: number): boolean {
    return this.#held.has(upstreamId);
  }

  /** Holds of one family ("mkt" = market-data lines). */
  countOf(family: string): number {
    let n = 0;
    for (const h of this.#held.values()) if (h.hold.startsWith(`${family}:`)) n++;
    return n;
  }

  get size(): number {
    return this.#held.size;
  }

  /** Holds ended so far, by reason. */
  ended(): Record<string, number> {
    return Object.fromEntries(this.#ended);
  }

  #count(why: HoldEnd): void {
    this.#ended.set(why, (this.#ended.get(why) ?? 0) + 1);
  }
}
