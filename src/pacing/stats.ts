/**
 * Measurements of the pacer: waits (a bounded ring of recent waits for p50/p99, plus totals
 * per deciding rule), releases by kind, violations by IB code, rejections by reason. Plain
 * numbers only; `/api/ib/pace/stats` and the metrics exporter read `snapshot()`.
 */

export const DEFAULT_WAIT_RESERVOIR = 2_048;

export type RejectReason = "timeout" | "overflow" | "aborted" | "closed" | "cancelled" | "callback";

export interface WaitStats {
  readonly count: number;
  readonly totalMs: number;
  readonly maxMs: number;
}

export interface PacerStatsSnapshot {
  /** When counting started (clock ms). */
  readonly since: number;
  /** Requests let through, total and by kind. */
  readonly released: number;
  readonly releasedByKind: Readonly<Record<string, number>>;
  /** Waits of released requests: all, and of those that waited at all. */
  readonly waits: {
    readonly count: number;
    readonly waited: number;
    readonly p50Ms: number;
    readonly p99Ms: number;
    readonly maxMs: number;
    readonly meanMs: number;
    /** Over the last `sample` waits (bounded ring). */
    readonly sample: number;
    /** Which rule held requests back, with their total wait. */
    readonly byRule: Readonly<Record<string, WaitStats>>;
  };
  readonly violations: { readonly total: number; readonly byCode: Readonly<Record<string, number>> };
  readonly rejected: Readonly<Record<RejectReason, number>>;
  /** Cancels answered locally because the request they cancel had not been sent yet. */
  readonly elided: number;
}

export class PacerStats {
  readonly #since: number;
  readonly #ring: Float64Array;
  #ringLen = 0;
  #ringPos = 0;
  #count = 0;
  #waited = 0;
  #totalMs = 0;
  #maxMs = 0;
  #released = 0;
  #elided = 0;
  readonly #byKind = new Map<string, number>();
  readonly #byRule = new Map<string, { count: number; totalMs: number; maxMs: number }>();
  readonly #violations = new Map<string, number>();
  readonly #rejected: Record<RejectReason, number> = {
    timeout: 0,
    overflow: 0,
    aborted: 0,
    closed: 0,
    cancelled: 0,
    callback: 0,
  };

  constructor(since: number, reservoir = DEFAULT_WAIT_RESERVOIR) {
    this.#since = since;
    this.#ring = new Float64Array(Math.max(1, reservoir));
  }

  recordRelease(kind: string, waitedMs: number, rule: string | undefined): void {
    this.#released++;
    this.#byKind.set(kind, (this.#byKind.get(kind) ?? 0) + 1);
    this.#count++;
    this.#totalMs += waitedMs;
    this.#maxMs = Math.max(this.#maxMs, waitedMs);
    this.#ring[this.#ringPos] = waitedMs;
    this.#ringPos = (this.#ringPos + 1) % this.#ring.length;
    this.#ringLen = Math.min(this.#ringLen + 1, this.#ring.length);
    if (waitedMs > 0 && rule !== undefined) {
      this.#waited++;
      const r = this.#byRule.get(rule) ?? { count: 0, totalMs: 0, maxMs: 0 };
      r.count++;
      r.totalMs += waitedMs;
      r.maxMs = Math.max(r.maxMs, waitedMs);
      this.#byRule.set(rule, r);
    }
  }

  recordElided(): void {
    this.#elided++;
  }

  recordViolation(code: number): void {
    const k = String(code);
    this.#violations.set(k, (this.#violations.get(k) ?? 0) + 1);
  }

  recordRejected(reason: RejectReason): void {
    this.#rejected[reason]++;
  }

  get violations(): number {
    let n = 0;
    for (const v of this.#violations.values()) n += v;
    return n;
  }

  snapshot(): PacerStatsSnapshot {
    const sample = Array.from(this.#ring.subarray(0, this.#ringLen)).sort((a, b) => a - b);
    return {
      since: this.#since,
      released: this.#released,
      releasedByKind: Object.fromEntries(this.#byKind),
      waits: {
        count: this.#count,
        waited: this.#waited,
        p50Ms: quantile(sample, 0.5),
        p99Ms: quantile(sample, 0.99),
        maxMs: this.#maxMs,
        meanMs: this.#count === 0 ? 0 : this.#totalMs / this.#count,
        sample: sample.length,
        byRule: Object.fromEntries([...this.#byRule].map(([k, v]) => [k, { ...v }])),
      },
      violations: { total: this.violations, byCode: Object.fromEntries(this.#violations) },
      rejected: { ...this.#rejected },
      elided: this.#elided,
    };
  }
}

/** Nearest-rank quantile of a sorted sample (0 for an empty one). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}
