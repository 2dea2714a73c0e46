/**
 * Orders across tenants: (owner, local order id) ↔ upstream order id, execId → owner, and
 * each owner's high-water mark. The owner is the tenant's order identity: for a proxy client
 * it is its virtual client id, so a client that reconnects keeps its orders and its ids. An
 * order placed at or below the mark that we do not know is refused (IB 103) and never placed
 * as new: that is what keeps a retried PLACE_ORDER from becoming a second order. The map can
 * be saved and loaded (`OrderStore`), so this holds across restarts too.
 */
export interface OrderEntry {
  readonly owner: string;
  readonly localId: number;
  readonly upstreamId: number;
  /** TWS ties an order to the client id that placed it. */
  readonly upstreamClientId: number;
  permId: number;
  placeCount: number;
}

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

  /** The next id a tenant may use (its own NEXT_VALID_ID). */
  nextLocalId(owner: string): number {
    return this.highWater(owner) + 1;
  }

  add(entry: Omit<OrderEntry, "permId" | "placeCount">): OrderEntry {
    const e: OrderEntry = { ...entry, permId: 0, placeCount: 0 };
    this.#byUpstream.set(e.upstreamId, e);
    this.#byLocal.set(OrderMap.key(e.owner, e.localId), e);
    if (e.localId > this.highWater(e.owner)) this.#highWater.set(e.owner, e.localId);
    return e;
  }

  /** Whose order has this permId (learned from OPEN_ORDER), if the switch placed it. */
  ownerOfPermId(permId: number): string | undefined {
    for (const e of this.#byUpstream.values()) if (e.permId === permId) return e.owner;
    return undefined;
  }

  forTenant(owner: string): OrderEntry[] {
    return [...this.#byUpstream.values()].filter((e) => e.owner === owner);
  }

  /** Everything that must survive a restart. */
  state(): OrderMapState {
    return {
      version: 1,
      orders: [...this.#byUpstream.values()].map((e) => ({
        owner: e.owner,
        localId: e.localId,
        upstreamId: e.upstreamId,
        upstreamClientId: e.upstreamClientId,
        permId: e.permId,
      })),
      highWater: Object.fromEntries(this.#highWater),
    };
  }

  load(state: OrderMapState): void {
    for (const o of state.orders) this.add(o).permId = o.permId;
    for (const [owner, mark] of Object.entries(state.highWater)) {
      if (mark > this.highWater(owner)) this.#highWater.set(owner, mark);
    }
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

export interface OrderMapState {
  version: 1;
  orders: { owner: string; localId: number; upstreamId: number; upstreamClientId: number; permId: number }[];
  highWater: Record<string, number>;
}

/** Where the order map lives between runs (the daemon keeps it in the state dir). */
export interface OrderStore {
  load(): OrderMapState | undefined;
  /** Called before an order message is written upstream; must be durable when it returns. */
  save(state: OrderMapState): void;
}
