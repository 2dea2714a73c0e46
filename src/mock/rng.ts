/**
 * Deterministic chance: every "random" number of the mock is a hash of (seed, parts), so
 * bars and ticks are pure functions of (seed, symbol, time) and replay identically.
 */

/** 32-bit hash of the parts (FNV-1a over the text, then a murmur finaliser). */
export function hash32(...parts: readonly (string | number)[]): number {
  let h = 0x811c9dc5;
  const text = parts.join("\u0001");
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
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
