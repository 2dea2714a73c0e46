/**
 * The fault schedule of a chaos run: a pure function of (seed, length, options), so a
 * violation found at second 731 of seed 42 happens again at second 731 of seed 42.
 *
 * Invariants: faults start after the warm-up and stop before the cool-down (the last checks
 * need a quiet line); no two faults start within `minGapMs`; the same inputs give the same
 * list.
 */

export type FaultKind =
  | "drop"
  | "down"
  | "stall"
  | "latency"
  | "notice1100"
  | "notice1101"
  | "notice1102"
  | "farmFlap"
  | "squat326"
  | "killMidFrame"
  | "malformed"
  | "slowReader"
  | "daemonKill"
  | "redisRestart";

export interface Fault {
  /** Milliseconds from the start of the run. */
  at: number;
  kind: FaultKind;
  /** How long the fault lasts, where it has a length (down, stall, latency, squat, slow reader). */
  ms: number;
}

export interface ScheduleOptions {
  seed: number;
  durationMs: number;
  /** Quiet time at the start, for the workload to settle. */
  warmupMs: number;
  /** Quiet time at the end, for every stream to recover before the last check. */
  cooldownMs: number;
  /** Mean time between two faults. */
  meanGapMs: number;
  /** Only with a Redis store. */
  redis: boolean;
  /** Kinds left out (e.g. a run without daemon kills). */
  exclude?: readonly FaultKind[];
}

/** How often each kind is drawn, relative to the others. Frequent faults are the cheap ones. */
const WEIGHTS: Readonly<Record<FaultKind, number>> = {
  drop: 3,
  down: 2,
  stall: 2,
  latency: 2,
  notice1100: 1,
  notice1101: 2,
  notice1102: 1,
  farmFlap: 2,
  squat326: 1,
  killMidFrame: 2,
  malformed: 2,
  slowReader: 1,
  daemonKill: 1,
  redisRestart: 1,
};

/** Every fault kind, in the schedule's order of weights. */
export const FAULT_KINDS: readonly FaultKind[] = Object.keys(WEIGHTS) as FaultKind[];

/** A small, fast, seedable generator (mulberry32): the schedule needs reproducibility, not crypto. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function lengthOf(kind: FaultKind, r: () => number): number {
  switch (kind) {
    case "down":
      return 1_000 + Math.floor(r() * 4_000);
    case "stall":
      return 500 + Math.floor(r() * 2_500);
    case "latency":
      return 2_000 + Math.floor(r() * 4_000);
    case "squat326":
      return 1_000 + Math.floor(r() * 2_000);
    case "slowReader":
      return 2_000 + Math.floor(r() * 3_000);
    default:
      return 0;
  }
}

export function faultSchedule(o: ScheduleOptions): Fault[] {
  const r = seededRandom(o.seed);
  const kinds = (Object.keys(WEIGHTS) as FaultKind[]).filter(
    (k) => !(o.exclude ?? []).includes(k) && (k !== "redisRestart" || o.redis),
  );
  const total = kinds.reduce((s, k) => s + WEIGHTS[k], 0);
  const pick = (): FaultKind => {
    let x = r() * total;
    for (const k of kinds) {
      x -= WEIGHTS[k];
      if (x < 0) return k;
    }
    return kinds[kinds.length - 1]!;
  };
  const out: Fault[] = [];
  if (kinds.length === 0) return out;
  const end = o.durationMs - o.cooldownMs;
  let at = o.warmupMs + Math.floor(r() * o.meanGapMs);
  while (at < end) {
    const kind = pick();
    const ms = lengthOf(kind, r);
    // A fault with a length ends before the cool-down begins.
    if (at + ms < end) out.push({ at, kind, ms });
    // Gaps between 0.5× and 1.5× the mean, never shorter than the fault itself.
    at += Math.max(ms + 500, Math.floor(o.meanGapMs * (0.5 + r())));
  }
  return out;
}
