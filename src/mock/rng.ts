/**
 * Deterministic chance: every "random" number of the mock is a hash of (seed, parts), so
 * bars and ticks are pure functions of (seed, symbol, time) and replay identically.
 */

function mixWord(h: number, w: number): number {
  let k = Math.imul(w | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  const x = h ^ k;
  return Math.imul((x << 13) | (x >>> 19), 5) + 0xe6546b64;
}

/**
 * 32-bit hash of the parts (murmur3-style words, then its finaliser). Numbers are hashed by
 * value without building strings: this runs for every tick of every line.
 */
export function hash32(...parts: readonly (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    if (typeof part === "number") {
      const hi = Math.floor(part / 4_294_967_296);
      h = mixWord(mixWord(h, part - hi * 4_294_967_296), hi);
      // Fractions (rare) still matter: fold them in.
      if (!Number.isInteger(part)) h = mixWord(h, Math.floor((part % 1) * 4_294_967_296));
    } else {
      for (let i = 0; i < part.length; i++) h = mixWord(h, part.charCodeAt(i));
      h = mixWord(h, 0x1f);
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Uniform in [0, 1). */
export function unit(...parts: readonly (string | number)[]): number {
  return hash32(...parts) / 4_294_967_296;
}

/** Uniform in [-1, 1). */
export function signed(...parts: readonly (string | number)[]): number {
  return unit(...parts) * 2 - 1;
}

/** Smooth value noise: continuous in x, hashed lattice values interpolated with smoothstep. */
export function valueNoise(x: number, ...parts: readonly (string | number)[]): number {
  const k = Math.floor(x);
  const f = x - k;
  const s = f * f * (3 - 2 * f);
  const a = signed(...parts, k);
  const b = signed(...parts, k + 1);
  return a + (b - a) * s;
}
