/**
 * Open-order questions (REQ_OPEN_ORDERS, REQ_ALL_OPEN_ORDERS) and whom each OPEN_ORDER_END
 * answers. TWS answers the questions of one socket in the order it read them, so the switch
 * keeps the questions it wrote in a FIFO: an OPEN_ORDER_END ends the wait of the tenants of
 * the oldest written question only, and orders no tenant placed (manual TWS orders) in an
 * "all" answer go to that question's tenants only. Pure bookkeeping: the switch sends.
 */
export interface OpenOrderQuestion {
  /** REQ_ALL_OPEN_ORDERS (every order at TWS) rather than REQ_OPEN_ORDERS. */
  readonly all: boolean;
  /** Tenant id → when it started waiting. Empty for the switch's own questions. */
  readonly tenants: Map<string, number>;
}

export class OpenOrderQuestions {
  /** Asked, waiting in the pacer. */
  readonly #asked: OpenOrderQuestion[] = [];
  /** Written on the current socket, oldest first: OPEN_ORDER_END answers the head. */
  readonly #inFlight: OpenOrderQuestion[] = [];
  /** Tenants whose question will never be answered (its socket went): asked again on ready. */
  readonly #orphans = new Map<string, { since: number; all: boolean }>();

  /**
   * A tenant asks. It joins a question not yet written that covers it (any question covers
   * "own orders": a tenant's own orders always reach it; "all" needs an "all" question whose
   * answer has not started). Returns the new question to send, or undefined when it joined.
   */
  ask(tenantId: string, all: boolean, now: number): OpenOrderQuestion | undefined {
    const join = this.#asked.find((q) => q.all || !all) ?? (all ? undefined : this.#inFlight.at(-1));
    if (join) {
      join.tenants.set(tenantId, now);
      return undefined;
    }
    const q: OpenOrderQuestion = { all, tenants: new Map([[tenantId, now]]) };
    this.#asked.push(q);
    return q;
  }

  /** The switch's own question (after a reconnect): it answers nobody. */
  internal(): OpenOrderQuestion {
    const q: OpenOrderQuestion = { all: false, tenants: new Map() };
    this.#asked.push(q);
    return q;
  }

  written(q: OpenOrderQuestion): void {
    const i = this.#asked.indexOf(q);
    if (i !== -1) this.#asked.splice(i, 1);
    this.#inFlight.push(q);
  }

  /** The question was never written: the line was down (asked again on ready) or it failed. */
  notWritten(q: OpenOrderQuestion, lineDown: boolean): string[] {
    const i = this.#asked.indexOf(q);
    if (i !== -1) this.#asked.splice(i, 1);
    if (!lineDown) return [...q.tenants.keys()];
    for (const [t, since] of q.tenants) this.#orphans.set(t, { since, all: q.all });
    return [];
  }

  /** Tenants that see orders no tenant placed, now: those of the oldest "all" question in flight. */
  unknownOrderTenants(): string[] {
    const head = this.#inFlight[0];
    return head?.all ? [...head.tenants.keys()] : [];
  }

  /** OPEN_ORDER_END: the oldest question in flight is answered. */
  answered(): string[] {
    const head = this.#inFlight.shift();
    return head ? [...head.tenants.keys()] : [];
  }

  /**
   * A new socket: questions written on the old one are never answered. One question asks
   * again for every tenant still waiting (or undefined when nobody waits).
   */
  socketChanged(now: number): OpenOrderQuestion | undefined {
    const waiting = new Map(this.#orphans);
    this.#orphans.clear();
    for (const q of this.#inFlight.splice(0))
      for (const [t, since] of q.tenants)
        waiting.set(t, { since, all: q.all || (waiting.get(t)?.all ?? false) });
    if (waiting.size === 0) return undefined;
    const all = [...waiting.values()].some((w) => w.all);
    const q: OpenOrderQuestion = {
      all,
      tenants: new Map([...waiting].map(([t, w]) => [t, Math.min(w.since, now)])),
    };
    this.#asked.push(q);
    return q;
  }

  /** Tenants that waited since before `cutoff`: they stop waiting (the caller answers them). */
  expire(cutoff: number): string[] {
    const out = new Set<string>();
    for (const q of [...this.#asked, ...this.#inFlight])
      for (const [t, since] of q.tenants)
        if (since <= cutoff) {
          q.tenants.delete(t);
          out.add(t);
        }
    for (const [t, o] of this.#orphans)
      if (o.since <= cutoff) {
        this.#orphans.delete(t);
        out.add(t);
      }
    return [...out];
  }

  removeTenant(tenantId: string): void {
    for (const q of [...this.#asked, ...this.#inFlight]) q.tenants.delete(tenantId);
    this.#orphans.delete(tenantId);
  }

  /** Tenants waiting for an answer. */
  get waiting(): number {
    const ts = new Set<string>(this.#orphans.keys());
    for (const q of [...this.#asked, ...this.#inFlight]) for (const t of q.tenants.keys()) ts.add(t);
    return ts.size;
  }
}
