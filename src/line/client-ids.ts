/**
 * Where a line gets its client id. A small port, so the line does not depend on the lease
 * registry: the daemon adapts the registry to it; tests and scripts use the two simple
 * sources below.
 */
import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";
import { SwitchboardError } from "../errors.js";

export interface ClientIdLease {
  readonly clientId: number;
  /** Give the id back; called once, when the line closes or moves to another id. */
  release(): Promise<void>;
}

export interface ClientIdSource {
  acquire(): Promise<ClientIdLease>;
  /** TWS refused this id (326): do not hand it out again for a while. */
  rejected(clientId: number): void;
}

/** Always the same id; a 326 is waited out with backoff. */
export function fixedClientId(clientId: number): ClientIdSource {
  return {
    acquire: async () => ({ clientId, release: async () => {} }),
    rejected: () => {},
  };
}

export const DEFAULT_CLIENT_ID_COOLDOWN_MS = 60_000;

export interface RangeClientIdsOptions {
  clock?: Clock;
  /** How long an id refused with 326 stays out of rotation. */
  cooldownMs?: number;
}

/**
 * Ids from an inclusive range, handed out lowest first, within this process only. Memory
 * is bounded by the range size.
 */
export function rangeClientIds(
  from: number,
  to: number,
  options: RangeClientIdsOptions = {},
): ClientIdSource {
  const clock = options.clock ?? systemClock;
  const cooldownMs = options.cooldownMs ?? DEFAULT_CLIENT_ID_COOLDOWN_MS;
  const inUse = new Set<number>();
  const coolUntil = new Map<number, number>();
  return {
    async acquire() {
      const now = clock.now();
      for (let id = from; id <= to; id++) {
        if (inUse.has(id)) continue;
        const until = coolUntil.get(id);
        if (until !== undefined && until > now) continue;
        coolUntil.delete(id);
        inUse.add(id);
        let released = false;
        return {
          clientId: id,
          release: async () => {
            if (released) return;
            released = true;
            inUse.delete(id);
          },
        };
      }
      throw new SwitchboardError("range_exhausted", `no free client id in ${from}..${to}`);
    },
    rejected(clientId) {
      if (clientId >= from && clientId <= to) coolUntil.set(clientId, clock.now() + cooldownMs);
    },
  };
}
