/**
 * Orders across tenants: (tenant, local order id) ↔ upstream order id, execId → tenant, and
 * each tenant's high-water mark. An order placed at or below the mark that we do not know
 * is refused (IB 103) and never placed as new: that is what keeps a retried PLACE_ORDER from
 * becoming a second order.
 */
export interface OrderEntry {
  readonly tenantId: string;
  readonly localId: number;
  readonly upstreamId: number;
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

  static key(tenantId: string, localId: number): string {
    return `${tenantId}#${localId}`;
  }

  byLocal(tenantId: string, localId: number): OrderEntry | undefined {
    return this.#byLocal.get(OrderMap.key(tenantId, localId));
  }

  byUpstream(upstreamId: number): OrderEntry | undefined {
    return this.#byUpstream.get(upstreamId);
  }

  highWater(tenantId: string): number {
    return this.#highWater.get(tenantId) ?? 0;
  }

  /** The next id a tenant may use (its own NEXT_VALID_ID). */
  nextLocalId(tenantId: string): number {
    return this.highWater(tenantId) + 1;
  }

  add(entry: Omit<OrderEntry, "permId" | "placeCount">): OrderEntry {
    const e: OrderEntry = { ...entry, permId: 0, placeCount: 0 };
    this.#byUpstream.set(e.upstreamId, e);
    this.#byLocal.set(OrderMap.key(e.tenantId, e.localId), e);
    if (e.localId > this.highWater(e.tenantId)) this.#highWater.set(e.tenantId, e.localId);
    return e;
  }

  forTenant(tenantId: string): OrderEntry[] {
    return [...this.#byUpstream.values()].filter((e) => e.tenantId === tenantId);
  }

  recordExec(execId: string, tenantId: string): void {
    this.#execs.set(execId, tenantId);
    if (this.#execs.size > this.#maxExecs) {
      const oldest = this.#execs.keys().next().value;
      if (oldest !== undefined) this.#execs.delete(oldest);
    }
  }

  tenantOfExec(execId: string): string | undefined {
    return this.#execs.get(execId);
  }

  get size(): number {
    return this.#byUpstream.size;
  }
}
