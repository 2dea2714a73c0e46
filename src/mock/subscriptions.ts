/**
 * Every live stream the mock serves, keyed by (session, kind, reqId). Ticks, bars and
 * account updates are pushed from here; `/state` lists it; 1101 drops the market-data part.
 */
export type SubscriptionKind =
  | "marketData"
  | "realTimeBars"
  | "historicalUpdates"
  | "tickByTick"
  | "accountSummary"
  | "accountUpdates"
  | "accountUpdatesMulti"
  | "positions"
  | "positionsMulti"
  | "pnl"
  | "pnlSingle";

/** Kinds that TWS forgets on 1101 "data lost" (the client must subscribe again). */
export const MARKET_DATA_KINDS: ReadonlySet<SubscriptionKind> = new Set([
  "marketData",
  "realTimeBars",
  "historicalUpdates",
  "tickByTick",
]);

export interface Subscription {
  readonly sessionId: number;
  readonly clientId: number;
  readonly kind: SubscriptionKind;
  /** -1 for streams without an id (positions, account updates). */
  readonly reqId: number;
  readonly conId: number;
  /** The capacity slot it holds in the rule enforcer. */
  readonly hold: string | undefined;
  /** Kind-specific details (whatToShow, account, bar count so far…). */
  readonly detail: Record<string, string | number | boolean>;
  /** Streams started: ticks sent so far (for a deterministic sequence). */
  seq: number;
}

export interface SubscriptionView {
  clientId: number;
  reqId: number;
  kind: SubscriptionKind;
  conId: number;
}

/** A session cannot hold more streams than this (bounded memory under a buggy client). */
export const MAX_SUBSCRIPTIONS_PER_SESSION = 10_000;

export class SubscriptionBook {
  readonly #bySession = new Map<number, Map<string, Subscription>>();

  static key(kind: SubscriptionKind, reqId: number): string {
    return `${kind}:${reqId}`;
  }

  /** Returns false when the same (kind, reqId) is live already or the session is full. */
  add(sub: Omit<Subscription, "seq">): boolean {
    let m = this.#bySession.get(sub.sessionId);
    if (!m) {
      m = new Map();
      this.#bySession.set(sub.sessionId, m);
    }
    const key = SubscriptionBook.key(sub.kind, sub.reqId);
    if (m.has(key) || m.size >= MAX_SUBSCRIPTIONS_PER_SESSION) return false;
    m.set(key, { ...sub, seq: 0 });
    return true;
  }

  get(sessionId: number, kind: SubscriptionKind, reqId: number): Subscription | undefined {
    return this.#bySession.get(sessionId)?.get(SubscriptionBook.key(kind, reqId));
  }

  remove(sessionId: number, kind: SubscriptionKind, reqId: number): Subscription | undefined {
    const m = this.#bySession.get(sessionId);
    const key = SubscriptionBook.key(kind, reqId);
    const sub = m?.get(key);
    if (sub) m?.delete(key);
    return sub;
  }

  /** Remove a session's streams of the given kinds (all when omitted); returns them. */
  removeSession(sessionId: number, kinds?: ReadonlySet<SubscriptionKind>): Subscription[] {
    const m = this.#bySession.get(sessionId);
    if (!m) return [];
    const out: Subscription[] = [];
    for (const [key, sub] of m) {
      if (kinds && !kinds.has(sub.kind)) continue;
      m.delete(key);
      out.push(sub);
    }
    if (m.size === 0) this.#bySession.delete(sessionId);
    return out;
  }

  *all(kind?: SubscriptionKind): IterableIterator<Subscription> {
    for (const m of this.#bySession.values()) {
      for (const sub of m.values()) if (!kind || sub.kind === kind) yield sub;
    }
  }

  get size(): number {
    let n = 0;
    for (const m of this.#bySession.values()) n += m.size;
    return n;
  }

  list(): SubscriptionView[] {
    return [...this.all()].map((s) => ({
      clientId: s.clientId,
      reqId: s.reqId,
      kind: s.kind,
      conId: s.conId,
    }));
  }
}
