/**
 * When the active daemon of an HA group may write an order upstream. Pure rules on a
 * monotonic clock (performance.now in the daemon, a manual clock in tests).
 *
 * Invariants:
 *  - the lease is renewed every `leaseMs / 5`;
 *  - orders may be written only while the last successful renewal is younger than
 *    `leaseMs − 2 × renew interval` (= 0.6 × leaseMs). "Younger" counts from when that
 *    renewal was *sent*: Redis set the lease's expiry (PX leaseMs) no earlier than that, so
 *    the window ends at least 0.4 × leaseMs before the lease can lapse in Redis, and a
 *    standby can only be granted the lease after it lapsed. Those 0.4 × leaseMs absorb clock
 *    rate differences, a late timer and the time between the check and the socket write;
 *  - a holder that never renewed (or whose clock went backwards) may not write.
 */

export const DEFAULT_HA_LEASE_MS = 5_000;
/** Below this the renew interval (leaseMs / 5) is too short for a Redis round trip on a busy host. */
export const MIN_HA_LEASE_MS = 1_000;

export function haRenewIntervalMs(leaseMs: number): number {
  return Math.floor(leaseMs / 5);
}

/** How long after a renewal was sent the holder may still write orders. */
export function writeWindowMs(leaseMs: number): number {
  return leaseMs - 2 * haRenewIntervalMs(leaseMs);
}

/**
 * Pure freshness rule: `renewalSentAt` is the monotonic time the last successful renewal (or
 * the grant) was sent, `now` the monotonic time of the check.
 */
export function mayWriteFrom(renewalSentAt: number | undefined, now: number, leaseMs: number): boolean {
  if (renewalSentAt === undefined) return false;
  const age = now - renewalSentAt;
  return age >= 0 && age < writeWindowMs(leaseMs);
}

/** The monotonic time at which a holder renewed at `renewalSentAt` must stop writing. */
export function freshUntil(renewalSentAt: number, leaseMs: number): number {
  return renewalSentAt + writeWindowMs(leaseMs);
}
