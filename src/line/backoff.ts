/**
 * Reconnect delays as pure functions (no clock, no Math.random): the caller passes the
 * attempt number and a random draw in [0, 1), so a table test pins every value.
 */

/** Delay in ms before reconnect attempt `attempt` (1 = first retry), or null to give up. */
export type BackoffFn = (attempt: number, random: number) => number | null;

export interface ExponentialBackoffOptions {
  /** Ceiling of the first attempt's delay. */
  initialMs: number;
  /** Cap on every delay. */
  maxMs: number;
  /** Attempts before giving up; Infinity retries forever. */
  maxAttempts?: number;
}

/**
 * Exponential backoff with full jitter: attempt n waits a uniform draw in
 * [0, min(maxMs, initialMs · 2^(n−1))]. Full jitter spreads many lines that lost the same
 * gateway at once, so a restarting TWS is not hit by a synchronised herd.
 */
export function exponentialBackoff(options: ExponentialBackoffOptions): BackoffFn {
  const { initialMs, maxMs } = options;
  const maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
  return (attempt, random) => {
    if (attempt > maxAttempts) return null;
    const n = Math.max(1, Math.floor(attempt));
    // 2^(n-1) overflows to Infinity for large n; min() keeps it at the cap.
    const ceiling = Math.min(maxMs, initialMs * 2 ** (n - 1));
    const r = Math.min(Math.max(random, 0), 1);
    return Math.round(r * ceiling);
  };
}

/**
 * The attempt counter to use after a line is lost. A line that stayed ready for at least
 * `stableMs` starts again at 0 (a fresh, short wait); one that flapped keeps counting, so a
 * gateway that accepts and then drops us at once is not hammered.
 */
export function attemptAfterLoss(attempt: number, readyForMs: number, stableMs: number): number {
  return readyForMs >= stableMs ? 0 : attempt;
}
