/**
 * The invariants a chaos run checks, as pure functions over what the run observed: the mock's
 * view (what reached the gateway), the daemon's journal and pacer, the client-id leases, and
 * the streams the clients hold. Each returns the violations it finds; the runner stamps them
 * with the run's seed and time.
 *
 * Invariants checked (interfaces.md, "Orders are sacred", "Every request has an outcome"):
 *  - at most one gateway order per orderRef, created by one PLACE_ORDER;
 *  - every gateway order sits under the (client id, order id) the journal accepted it for;
 *  - held market-data lines equal the live upstream market-data requests (after settling);
 *  - no pacing violation at the gateway;
 *  - no lease outlives its TTL;
 *  - every live stream ticks again after the line is ready;
 *  - every request is answered or errored.
 */

export interface Violation {
  /** Milliseconds from the start of the run. */
  at: number;
  check: CheckName;
  detail: string;
}

export type CheckName =
  | "orders.once"
  | "orders.identity"
  | "lines.held"
  | "pacing.violations"
  | "leases.ttl"
  | "streams.recover"
  | "requests.answered"
  | "http.contract"
  | "daemon.alive";

export interface GatewayOrder {
  clientId: number;
  orderId: number;
  orderRef: string;
  placeCount: number;
}

/** The journal's view of an order it accepted (its `order` records). */
export interface AcceptedOrder {
  orderRef: string;
  upstreamClientId: number;
  upstreamId: number;
}

/** At most one gateway order per orderRef, each created once. */
export function checkOrdersOnce(orders: readonly GatewayOrder[]): string[] {
  const byRef = new Map<string, GatewayOrder[]>();
  for (const o of orders) {
    if (!o.orderRef) continue;
    const list = byRef.get(o.orderRef) ?? [];
    list.push(o);
    byRef.set(o.orderRef, list);
  }
  const out: string[] = [];
  for (const [ref, list] of byRef) {
    if (list.length > 1) {
      const where = list.map((o) => `client ${o.clientId} order ${o.orderId}`).join(", ");
      out.push(`orderRef ${ref}: ${list.length} gateway orders (${where})`);
    }
    for (const o of list) {
      if (o.placeCount > 1) out.push(`orderRef ${ref}: created by ${o.placeCount} PLACE_ORDER messages`);
    }
  }
  return out;
}

/**
 * Every gateway order is one the journal accepted, under the same upstream client id and
 * order id: an order under another id (or one the daemon never accepted) breaks "never under
 * another client id than the one it was accepted for".
 */
export function checkOrdersIdentity(
  orders: readonly GatewayOrder[],
  accepted: readonly AcceptedOrder[],
): string[] {
  const known = new Map<string, AcceptedOrder[]>();
  for (const a of accepted) {
    const list = known.get(a.orderRef) ?? [];
    list.push(a);
    known.set(a.orderRef, list);
  }
  const out: string[] = [];
  for (const o of orders) {
    const list = known.get(o.orderRef);
    if (!list) {
      out.push(
        `gateway order client ${o.clientId} order ${o.orderId} (${o.orderRef || "no orderRef"}) was never accepted by the daemon`,
      );
      continue;
    }
    if (!list.some((a) => a.upstreamClientId === o.clientId && a.upstreamId === o.orderId)) {
      const want = list.map((a) => `client ${a.upstreamClientId} order ${a.upstreamId}`).join(" or ");
      out.push(
        `orderRef ${o.orderRef} is at the gateway as client ${o.clientId} order ${o.orderId}, accepted as ${want}`,
      );
    }
  }
  return out;
}

/** Read the `order` records of a journal file's text; unknown record kinds and torn lines are skipped. */
export function acceptedOrders(journalText: string): AcceptedOrder[] {
  const out: AcceptedOrder[] = [];
  for (const line of journalText.split("\n")) {
    if (!line.trim()) continue;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof rec !== "object" || rec === null) continue;
    const r = rec as Record<string, unknown>;
    if (r["k"] !== "order") continue;
    if (typeof r["orderRef"] !== "string") continue;
    if (typeof r["upstreamClientId"] !== "number" || typeof r["upstreamId"] !== "number") continue;
    out.push({
      orderRef: r["orderRef"],
      upstreamClientId: r["upstreamClientId"],
      upstreamId: r["upstreamId"],
    });
  }
  return out;
}

export interface Lease {
  clientId: number;
  purpose: string;
  expiresAt: number;
  pid: number | null;
}

/** A lease still listed `graceMs` after it expired: the registry failed to reclaim it. */
export function checkLeases(leases: readonly Lease[], now: number, graceMs: number): string[] {
  return leases
    .filter((l) => l.expiresAt + graceMs < now)
    .map((l) => `lease ${l.purpose}/${l.clientId} listed ${now - l.expiresAt} ms past its expiry`);
}

/**
 * Held lines against live upstream requests. The two are read at different instants, so a
 * difference is a violation only when it lasts: `settleMs` of consecutive samples with the
 * line ready and the difference present.
 */
export class HeldLinesCheck {
  readonly #settleMs: number;
  #since: number | undefined;
  #reported = false;

  constructor(settleMs: number) {
    this.#settleMs = settleMs;
  }

  /** One sample; returns a violation text the first time a difference has lasted `settleMs`. */
  sample(at: number, ready: boolean, held: number, upstream: number): string | undefined {
    if (!ready || held === upstream) {
      this.#since = undefined;
      this.#reported = false;
      return undefined;
    }
    this.#since ??= at;
    if (this.#reported || at - this.#since < this.#settleMs) return undefined;
    this.#reported = true;
    return `pacer holds ${held} market-data lines, the gateway serves ${upstream} market-data requests (for ${at - this.#since} ms)`;
  }
}

/** Percentile of a sample (nearest rank); undefined for no samples. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Least-squares slope of y over x (units of y per unit of x); 0 for fewer than two points. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += p.x;
    sy += p.y;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
