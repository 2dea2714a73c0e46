/** A small LRU with expiry, for qualified contracts. Bounded in entries. */
import type { Clock } from "../clock.js";

export class TtlCache<V> {
  readonly #map = new Map<string, { value: V; until: number }>();
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #clock: Clock;

  constructor(max: number, ttlMs: number, clock: Clock) {
    this.#max = max;
    this.#ttlMs = ttlMs;
    this.#clock = clock;
  }

  get(key: string): V | undefined {
    const e = this.#map.get(key);
    if (!e) return undefined;
    if (e.until <= this.#clock.now()) {
      this.#map.delete(key);
      return undefined;
    }
    this.#map.delete(key);
    this.#map.set(key, e);
    return e.value;
  }

  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, { value, until: this.#clock.now() + this.#ttlMs });
    while (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next().value;
      if (oldest === undefined) break;
      this.#map.delete(oldest);
    }
  }

  get size(): number {
    return this.#map.size;
  }
}
