/**
 * Orders across tenants: (owner, local order id) ↔ upstream order id, execId → owner, and
 * each owner's high-water mark. The owner is an order identity that outlives sockets and
 * restarts: for a proxy client it is its virtual client id on this line (`proxy:<n>`), so a
 * client that reconnects keeps its orders and its ids.
 *
 * Invariants:
 *  - an order placed at or below the owner's mark that we do not know is refused (IB 103)
 *    and never placed as new: that keeps a retried PLACE_ORDER from becoming a second order;
 *  - an entry's `state` only moves forward: pending → written → live/finished, or
 *    pending → refused, or written → unknown → live/finished (reconciliation);
 *  - marks never go down.
 */
export type OrderState =
  /** Accepted into the lane, not yet written. */
  | "pending"
  /** Written upstream; no status, error or open order seen for it yet. */
  | "written"
  /** TWS answered for it and it is not finished. */
  | "live"
  /** Written, then its socket died before any answer: reconciled on the next ready. */
  | "unknown"
  /** Filled, Cancelled, Inactive with nothing left, or rejected by TWS. */
  | "finished"
  /** Never written upstream (refused by the switch, or found absent at reconciliation). */
  | "refused";

export interface OrderEntry {
  readonly owner: string;
  readonly localId: number;
  readonly upstreamId: number;
  /** TWS ties an order to the client id that placed it. */
  readonly upstreamClientId: number;
  /** Every order the switch writes carries one (the client's own, else `sb:<line>:<owner>:<localId>`). */
  orderRef: string;
  permId: number;
  state: OrderState;
  /** The line generation it was written in (for "outcome unknown" when that generation ends). */
  writtenGeneration: number | undefined;
  /** The last ORDER_STATUS from upstream, as TWS sent it (upstream ids). */
  lastStatus: readonly string[] | undefined;
  /** When it finished (ms), so memory can drop it later. */
  finishedAt: number | undefined;
  /**
   * A modify or cancel written upstream that TWS has not answered yet (no status, open order
   * or error for this order since). If its connection ends first, its outcome is unknown.
   */
  unanswered: UnansweredChange | undefined;
}

export interface UnansweredChange {
  readonly action: "modify" | "cancel";
  /** The line generation it was written on. */
  readonly generation: number;
  /** Its owner has heard "outcome unknown" for it. */
  reported: boolean;
}

/** Orders that no longer hold anything: their client id is free as far as they are concerned. */
export const isDone = (s: OrderState): boolean => s === "finished" || s === "refused";

export type NewOrder = Pick<
  OrderEntry,
  "owner" | "localId" | "upstreamId" | "upstreamClientId" | "orderRef"
> &
  Partial<Pick<OrderEntry, "permId" | "state" | "finishedAt" | "writtenGeneration">>;

export class OrderMap {
  readonly #byUpstream = new Map<number, OrderEntry>();
  readonly #byLocal = new Map<string, OrderEntry>();
  readonly #execs = new Map<string, string>();
  readonly #highWater = new Map<string, number>();
  readonly #maxExecs: number;

  constructor(options: { maxExecs?: number } = {}) {
    this.#maxExecs = options.maxExecs ?? 100_000;
  }

  static key(owner: string, localId: number): string {
    return `${owner}#${localId}`;
  }

  byLocal(owner: string, localId: number): OrderEntry | undefined {
    return this.#byLocal.get(OrderMap.key(owner, localId));
  }

  byUpstream(upstreamId: number): OrderEntry | undefined {
    return this.#byUpstream.get(upstreamId);
  }

  highWater(owner: string): number {
    return this.#highWater.get(owner) ?? 0;
  }

  raiseHighWater(owner: string, mark: number): void {
    if (mark > this.highWater(owner)) this.#highWater.set(owner, mark);
  }

  /** Every owner's mark (for the journal's compaction). */
  highWaters(): ReadonlyMap<string, number> {
    return this.#highWater;
  }

  /** The next id a tenant may use (its own NEXT_VALID_ID). */
  nextLocalId(owner: string): number {
    return this.highWater(owner) + 1;
  }

  add(order: NewOrder): OrderEntry {
    const e: OrderEntry = {
      permId: 0,
      state: "pending",
      writtenGeneration: undefined,
      lastStatus: undefined,
      finishedAt: undefined,
      unanswered: undefined,
      ...order,
    };
    const previous = this.#byLocal.get(OrderMap.key(e.owner, e.localId));
    if (previous) this.#byUpstream.delete(previous.upstreamId);
    this.#byUpstream.set(e.upstreamId, e);
    this.#byLocal.set(OrderMap.key(e.owner, e.localId), e);
    this.raiseHighWater(e.owner, e.localId);
    return e;
  }

  /** Whose order has this permId (learned from OPEN_ORDER), if the switch placed it. */
  ownerOfPermId(permId: number): string | undefined {
    for (const e of this.#byUpstream.values()) if (e.permId === permId) return e.owner;
    return undefined;
  }

  /** Drop a finished order from memory (its mark stays). */
  forget(e: OrderEntry): void {
    if (this.#byUpstream.get(e.upstreamId) === e) this.#byUpstream.delete(e.upstreamId);
    const k = OrderMap.key(e.owner, e.localId);
    if (this.#byLocal.get(k) === e) this.#byLocal.delete(k);
  }

  forTenant(owner: string): OrderEntry[] {
    return [...this.#byUpstream.values()].filter((e) => e.owner === owner);
  }

  all(): IterableIterator<OrderEntry> {
    return this.#byUpstream.values();
  }

  /** Orders that still hold their client id: anything not known to be finished. */
  live(): OrderEntry[] {
    return [...this.#byUpstream.values()].filter((e) => !isDone(e.state) && e.state !== "pending");
  }

  /** The highest upstream order id known, so new ones start above it. */
  maxUpstreamId(): number {
    let max = 0;
    for (const id of this.#byUpstream.keys()) if (id > max) max = id;
    return max;
  }

  recordExec(execId: string, owner: string): void {
    this.#execs.set(execId, owner);
    if (this.#execs.size > this.#maxExecs) {
      const oldest = this.#execs.keys().next().value;
      if (oldest !== undefined) this.#execs.delete(oldest);
    }
  }

  ownerOfExec(execId: string): string | undefined {
    return this.#execs.get(execId);
  }

  get size(): number {
    return this.#byUpstream.size;
  }
}
