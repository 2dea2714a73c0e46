/**
 * How many chunk requests a backfill keeps in flight, found by measuring: IB answers large
 * bars more slowly under load instead of refusing them, so the right number depends on how
 * busy its historical service is, which only the answers tell. Pure (time is passed in).
 *
 * The rule, per window of answers (at least `limit` of them, so each window sees every slot
 * used once): throughput is answers per ms.
 * - it rose by more than `gain` since the last window → take `step` more slots (additive
 *   increase while more in flight helps);
 * - it fell by more than `loss` right after an increase → the increase did not pay: give back
 *   a quarter (multiplicative decrease), then hold;
 * - otherwise hold, and probe one slot up after `probeAfter` steady windows (the service may
 *   have room again);
 * - IB refusing for pacing halves the limit at once.
 * Always within [min, max]; max stays under IB's 50 open historical requests.
 */

export const IB_OPEN_HISTORICAL = 50;

export interface AdaptiveOptions {
  initial?: number;
  min?: number;
  max?: number;
  step?: number;
  gain?: number;
  loss?: number;
  probeAfter?: number;
}

export class AdaptiveConcurrency {
  readonly #min: number;
  readonly #max: number;
  readonly #step: number;
  readonly #gain: number;
  readonly #loss: number;
  readonly #probeAfter: number;
  #limit: number;
  #windowStart: number | undefined;
  #answers = 0;
  #lastRate: number | undefined;
  #lastMove: "up" | "down" | "hold" = "hold";
  #steady = 0;

  constructor(o: AdaptiveOptions = {}) {
    this.#min = Math.max(1, o.min ?? 1);
    this.#max = Math.max(this.#min, Math.min(o.max ?? IB_OPEN_HISTORICAL - 2, IB_OPEN_HISTORICAL));
    this.#step = o.step ?? 2;
    this.#gain = o.gain ?? 0.03;
    this.#loss = o.loss ?? 0.15;
    this.#probeAfter = o.probeAfter ?? 3;
    this.#limit = this.#clamp(o.initial ?? 8);
  }

  get limit(): number {
    return this.#limit;
  }

  /** A request was sent (the first one starts the first window). */
  started(now: number): void {
    this.#windowStart ??= now;
  }

  /** A chunk was answered (bars or IB's "no data"). */
  answered(now: number): void {
    this.#windowStart ??= now;
    this.#answers++;
    if (this.#answers < Math.max(this.#limit, 4)) return;
    const elapsed = Math.max(1, now - this.#windowStart);
    const rate = this.#answers / elapsed;
    this.#answers = 0;
    this.#windowStart = now;
    const last = this.#lastRate;
    this.#lastRate = rate;
    if (last === undefined) return this.#move("up");
    if (rate > last * (1 + this.#gain)) return this.#move("up");
    if (this.#lastMove === "up" && rate < last * (1 - this.#loss)) return this.#move("down");
    this.#steady++;
    if (this.#steady >= this.#probeAfter) this.#move("up", 1);
    else this.#lastMove = "hold";
  }

  /** IB refused a request for pacing: back off at once. */
  pacing(): void {
    this.#limit = this.#clamp(Math.floor(this.#limit / 2));
    this.#lastMove = "down";
    this.#lastRate = undefined;
    this.#steady = 0;
  }

  #move(dir: "up" | "down", step = this.#step): void {
    this.#steady = 0;
    this.#lastMove = dir;
    this.#limit = this.#clamp(dir === "up" ? this.#limit + step : Math.floor(this.#limit * 0.75));
  }

  #clamp(n: number): number {
    return Math.min(this.#max, Math.max(this.#min, Math.round(n)));
  }
}
