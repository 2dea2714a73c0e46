/**
 * The live requests of a line: upstream id → (tenant, tenant's own id, how it lives).
 * Pure bookkeeping; the switch decides when entries come and go. Bounded: a tenant cannot
 * hold more than `maxPerTenant` live requests.
 */
import type { OutRoute } from "../protocol/routing.js";
import type { Group } from "./groups.js";

export type RequestLifetime = "oneshot" | "subscription";

export interface LiveRequest {
  readonly upstreamId: number;
  readonly tenantId: string;
  readonly localId: number;
  readonly route: OutRoute;
  readonly lifetime: RequestLifetime;
  /** The request as the tenant sent it (tenant ids), to send again after 1101 / reconnect. */
  readonly fields: readonly string[];
  /**
   * Market data: the tenant's market-data type when it asked. The REQ_MARKET_DATA_TYPE that
   * preceded the request travels with it, on every replay too, whatever the tenant asks later.
   */
  readonly marketDataType?: number;
  /**
   * A shared request (fan-out): owned by the switch, answered to every member of the group.
   * `tenantId` is then the switch's own and `localId` the upstream id.
   */
  readonly group?: Group;
  /** The line generation it was written on; undefined until it reaches the wire. */
  generation: number | undefined;
  /** Waiting in the pacer: the pacer will write it (or not, if the line is down). */
  pending: boolean;
  /**
   * When the pacer let it go while the line was down (so it was not written): it waits for
   * the line's replay, at most the switch's queue timeout, then gets 504.
   */
  strandedAt?: number;
}

export class RequestTable {
  readonly #byUpstream = new Map<number, LiveRequest>();
  readonly #byTenant = new Map<string, Map<string, LiveRequest>>();
  readonly #retired = new Set<number>();
  readonly #maxRetired: number;

  constructor(options: { maxRetired?: number } = {}) {
    this.#maxRetired = options.maxRetired ?? 100_000;
  }

  /** Requests share one local id space per tenant and family of message (request vs cancel). */
  static localKey(route: OutRoute, localId: number): string {
    return `${route.cancels ?? route.id}:${localId}`;
  }

  add(req: LiveRequest): void {
    this.#byUpstream.set(req.upstreamId, req);
    let t = this.#byTenant.get(req.tenantId);
    if (!t) {
      t = new Map();
      this.#byTenant.set(req.tenantId, t);
    }
    t.set(RequestTable.localKey(req.route, req.localId), req);
  }

  byUpstream(id: number): LiveRequest | undefined {
    return this.#byUpstream.get(id);
  }

  byLocal(tenantId: string, route: OutRoute, localId: number): LiveRequest | undefined {
    return this.#byTenant.get(tenantId)?.get(RequestTable.localKey(route, localId));
  }

  /** Any live request of the tenant with this local id, whatever its message (ERR_MSG routing). */
  hasLocalId(tenantId: string, localId: number): boolean {
    const t = this.#byTenant.get(tenantId);
    if (!t) return false;
    for (const r of t.values()) if (r.localId === localId) return true;
    return false;
  }

  countFor(tenantId: string): number {
    return this.#byTenant.get(tenantId)?.size ?? 0;
  }

  forTenant(tenantId: string): LiveRequest[] {
    return [...(this.#byTenant.get(tenantId)?.values() ?? [])];
  }

  all(): LiveRequest[] {
    return [...this.#byUpstream.values()];
  }

  /** Remove a request; its upstream id is remembered as retired. */
  remove(upstreamId: number): LiveRequest | undefined {
    const req = this.#byUpstream.get(upstreamId);
    if (!req) return undefined;
    this.#byUpstream.delete(upstreamId);
    const t = this.#byTenant.get(req.tenantId);
    const key = RequestTable.localKey(req.route, req.localId);
    if (t?.get(key) === req) t.delete(key);
    if (t && t.size === 0) this.#byTenant.delete(req.tenantId);
    this.#retire(upstreamId);
    return req;
  }

  /** Point a live request at a fresh upstream id (replay after 1101 / reconnect). */
  rekey(oldId: number, newId: number, generation: number | undefined): LiveRequest | undefined {
    const req = this.#byUpstream.get(oldId);
    if (!req) return undefined;
    this.#byUpstream.delete(oldId);
    this.#retire(oldId);
    const moved: LiveRequest = {
      ...req,
      upstreamId: newId,
      generation,
      pending: false,
      strandedAt: undefined,
    };
    this.#byUpstream.set(newId, moved);
    this.#byTenant.get(req.tenantId)?.set(RequestTable.localKey(req.route, req.localId), moved);
    return moved;
  }

  isRetired(upstreamId: number): boolean {
    return this.#retired.has(upstreamId);
  }

  get size(): number {
    return this.#byUpstream.size;
  }

  #retire(id: number): void {
    this.#retired.add(id);
    if (this.#retired.size > this.#maxRetired) {
      const oldest = this.#retired.values().next().value;
      if (oldest !== undefined) this.#retired.delete(oldest);
    }
  }
}
