/**
 * The client id a line holds: acquired from a ClientIdSource once, kept across reconnects,
 * given up after 326 — unless orders were placed under it. TWS ties an order to the id that
 * placed it, so such a line waits for its own id and never moves while those orders are live
 * (interfaces.md, "Client ids and live orders"); only an explicit forced switch orphans them.
 */
import type { Clock } from "../clock.js";
import type { ClientIdLease, ClientIdSource } from "./client-ids.js";

export type IdInUseDecision =
  | { kind: "wait"; clientId: number; longWait: boolean }
  | { kind: "switch"; clientId: number; orphanedPermIds: number[] | undefined };

export interface LineClientIdOptions {
  clock: Clock;
  clientIds: ClientIdSource;
  orderClientIdWaitMs: number;
  placedOrders: (() => readonly number[]) | undefined;
}

export class LineClientId {
  readonly #o: LineClientIdOptions;
  readonly #onReleaseError: (err: unknown) => void;
  #lease: ClientIdLease | undefined;
  #placedOrder = false;
  /** First 326 for the held id while orders live under it. */
  #waitSince: number | undefined;

  constructor(options: LineClientIdOptions, onReleaseError: (err: unknown) => void) {
    this.#o = options;
    this.#onReleaseError = onReleaseError;
  }

  get clientId(): number | undefined {
    return this.#lease?.clientId;
  }

  /** The held id, acquiring one if needed. Undefined when `cancelled()` turned true meanwhile. */
  async ensure(cancelled: () => boolean): Promise<number | undefined> {
    if (this.#lease) return this.#lease.clientId;
    const lease = await this.#o.clientIds.acquire();
    if (cancelled()) {
      await lease.release().catch(this.#onReleaseError);
      return undefined;
    }
    this.#lease = lease;
    return lease.clientId;
  }

  /** A PLACE_ORDER went out under the held id. */
  orderPlaced(): void {
    this.#placedOrder = true;
  }

  /** The line became ready: any wait for the id is over. */
  ready(): void {
    this.#waitSince = undefined;
  }

  /**
   * TWS answered 326. A line whose id holds live orders never moves: it waits (with the line's
   * backoff) for as long as it takes, since orders placed under another id would be orphaned.
   * `orderClientIdWaitMs` only marks when the wait is reported as long.
   */
  inUse(): IdInUseDecision | undefined {
    const lease = this.#lease;
    if (!lease) return undefined;
    const clientId = lease.clientId;
    // The switch knows which orders are still live; without it, any order written counts.
    const live = this.#o.placedOrders;
    const hasOrders = live ? live().length > 0 : this.#placedOrder;
    if (hasOrders) {
      const now = this.#o.clock.now();
      this.#waitSince ??= now;
      return { kind: "wait", clientId, longWait: now - this.#waitSince >= this.#o.orderClientIdWaitMs };
    }
    this.#waitSince = undefined;
    this.#placedOrder = false;
    this.#lease = undefined;
    this.#o.clientIds.rejected(clientId);
    lease.release().catch(this.#onReleaseError);
    return { kind: "switch", clientId, orphanedPermIds: undefined };
  }

  /**
   * The user forces the line off its id: the lease goes (cooled down, so the next lease is
   * another id) and the live orders under it are reported orphaned.
   */
  forceSwitch(): { clientId: number; permIds: number[] } | undefined {
    const lease = this.#lease;
    if (!lease) return undefined;
    const permIds = [...(this.#o.placedOrders?.() ?? [])];
    this.#waitSince = undefined;
    this.#placedOrder = false;
    this.#lease = undefined;
    this.#o.clientIds.rejected(lease.clientId);
    lease.release().catch(this.#onReleaseError);
    return { clientId: lease.clientId, permIds };
  }

  /** Give the id back (close). */
  async release(): Promise<void> {
    const lease = this.#lease;
    this.#lease = undefined;
    await lease?.release().catch(this.#onReleaseError);
  }
}
