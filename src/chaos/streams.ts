/**
 * The market-data streams a workload client holds, with when each last ticked: the evidence
 * for "every live subscription ticks again after the line is ready".
 *
 * Invariants: a stream is live from its request until its client cancels it, gets an error
 * that ends it, or loses its connection; only live streams are ever judged.
 */

export interface Stream {
  client: string;
  reqId: number;
  symbol: string;
  /** When it was requested (run clock, ms). */
  since: number;
  lastTickAt: number | undefined;
  ticks: number;
  /**
   * This stream's subscription (symbol and generic ticks) has ticked before, on this or an
   * earlier connection: it is established, and must tick again after every fault. One that
   * never ticked may be waiting for a market-data line; the ledger judges it (answer or error).
   */
  established: boolean;
}

/** IB codes on a market-data id that warn without ending the stream. */
const WARNINGS = new Set([10167, 10090, 10089, 10168, 2104, 2106, 2107, 2108, 2158, 2119, 399, 1101, 1102]);

export function endsStream(code: number): boolean {
  return !WARNINGS.has(code) && !(code >= 2100 && code < 2200);
}

export class StreamBook {
  readonly #client: string;
  readonly #live = new Map<number, Stream>();
  readonly #specOf = new Map<number, string>();
  readonly #ticked = new Set<string>();

  constructor(client: string) {
    this.#client = client;
  }

  open(reqId: number, symbol: string, now: number, spec = symbol): void {
    this.#specOf.set(reqId, spec);
    this.#live.set(reqId, {
      client: this.#client,
      reqId,
      symbol,
      since: now,
      lastTickAt: undefined,
      ticks: 0,
      established: this.#ticked.has(spec),
    });
  }

  /** A tick arrived; false when the id is no live stream of ours. */
  tick(reqId: number, now: number): boolean {
    const s = this.#live.get(reqId);
    if (!s) return false;
    s.lastTickAt = now;
    s.ticks++;
    if (!s.established) {
      s.established = true;
      this.#ticked.add(this.#specOf.get(reqId) ?? s.symbol);
    }
    return true;
  }

  end(reqId: number): void {
    this.#live.delete(reqId);
    this.#specOf.delete(reqId);
  }

  has(reqId: number): boolean {
    return this.#live.has(reqId);
  }

  clear(): void {
    this.#live.clear();
    this.#specOf.clear();
  }

  live(): Stream[] {
    return [...this.#live.values()];
  }
}
