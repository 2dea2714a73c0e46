/**
 * Seats for the HTTP data routes: a bounded pool of (tenant, client) pairs on the primary
 * switch. A call holds one seat alone, so "is this call still waiting in the pacer?" has an
 * exact answer (its tenant's queue), which decides 429 pacing_timeout against 504 timeout.
 * A seat whose call gave up while queued is retired: closing its tenant drops its queued
 * requests from the pacer instead of letting them spend IB's budget for nobody.
 */
import { IbClient } from "../client/client.js";
import type { Clock } from "../clock.js";
import { AbortedError, ClosedError } from "../errors.js";
import type { Switch } from "../switch/switch.js";
import type { Tenant } from "../switch/tenant.js";

export const DEFAULT_MAX_SEATS = 64;

export interface Seat {
  readonly tenant: Tenant;
  readonly client: IbClient;
}

export interface SeatPoolOptions {
  sw: Switch;
  clock: Clock;
  version: () => number;
  maxSeats?: number;
  /** Longest pacing wait of a seat's requests; the call's own deadline ends it sooner. */
  pacingDeadlineMs?: number;
}

export class SeatPool {
  readonly #o: SeatPoolOptions;
  readonly #max: number;
  readonly #free: Seat[] = [];
  readonly #waiters: { resolve: (s: Seat) => void; reject: (e: Error) => void }[] = [];
  #count = 0;
  #next = 1;
  #closed = false;

  constructor(o: SeatPoolOptions) {
    this.#o = o;
    this.#max = o.maxSeats ?? DEFAULT_MAX_SEATS;
  }

  get size(): number {
    return this.#count;
  }

  acquire(signal: AbortSignal): Promise<Seat> {
    if (this.#closed) return Promise.reject(new ClosedError("data seats"));
    const free = this.#free.pop();
    if (free) return Promise.resolve(free);
    if (this.#count < this.#max) return Promise.resolve(this.#open());
    return new Promise((resolve, reject) => {
      const w = {
        resolve: (s: Seat) => {
          signal.removeEventListener("abort", onAbort);
          resolve(s);
        },
        reject,
      };
      const onAbort = () => {
        const i = this.#waiters.indexOf(w);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal.reason instanceof Error ? signal.reason : new AbortedError(signal.reason));
      };
      this.#waiters.push(w);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Give a seat back; `retire` closes it (its tenant's queued requests leave the pacer). */
  release(seat: Seat, retire = false): void {
    if (retire || this.#closed) {
      this.#count--;
      void seat.client.close();
      if (!this.#closed && this.#waiters.length > 0) this.#waiters.shift()!.resolve(this.#open());
      return;
    }
    const w = this.#waiters.shift();
    if (w) w.resolve(seat);
    else this.#free.push(seat);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w.reject(new ClosedError("data seats"));
    const seats = this.#free.splice(0);
    this.#count -= seats.length;
    await Promise.all(seats.map((s) => s.client.close()));
  }

  #open(): Seat {
    this.#count++;
    const tenant = this.#o.sw.openTenant({
      kind: "http",
      name: `http-api-${this.#next++}`,
      // The route's timeoutMs bounds the wait (429 past it), not the switch's 30 s default.
      ...(this.#o.pacingDeadlineMs === undefined ? {} : { pacingDeadlineMs: this.#o.pacingDeadlineMs }),
    });
    return { tenant, client: new IbClient(tenant, { clock: this.#o.clock, version: this.#o.version }) };
  }
}
