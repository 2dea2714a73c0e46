import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_QUALIFY_CACHE_SIZE = 2_000;
export const DEFAULT_QUALIFY_CACHE_TTL_MS = 24 * 3_600_000;
export const DEFAULT_RETRY_ATTEMPTS = 3;
export const DEFAULT_RETRY_BASE_MS = 1_000;
export const DEFAULT_MAX_PENDING = 10_000;

export interface ClientOptions {
  clock?: Clock;
  /** Server version of the line (layouts depend on it). */
  version?: () => number;
  requestTimeoutMs?: number;
  qualifyCacheSize?: number;
  qualifyCacheTtlMs?: number;
  /** Retries of a request that failed for a reason a retry can fix (pacing). */
  retryAttempts?: number;
  retryBaseMs?: number;
  maxPending?: number;
}

export interface ResolvedClientOptions {
  clock: Clock;
  version: () => number;
  requestTimeoutMs: number;
  qualifyCacheSize: number;
  qualifyCacheTtlMs: number;
  retryAttempts: number;
  retryBaseMs: number;
  maxPending: number;
}

export function resolveClientOptions(o: ClientOptions = {}): ResolvedClientOptions {
  return {
    clock: o.clock ?? systemClock,
    version: o.version ?? (() => 178),
    requestTimeoutMs: o.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    qualifyCacheSize: o.qualifyCacheSize ?? DEFAULT_QUALIFY_CACHE_SIZE,
    qualifyCacheTtlMs: o.qualifyCacheTtlMs ?? DEFAULT_QUALIFY_CACHE_TTL_MS,
    retryAttempts: o.retryAttempts ?? DEFAULT_RETRY_ATTEMPTS,
    retryBaseMs: o.retryBaseMs ?? DEFAULT_RETRY_BASE_MS,
    maxPending: o.maxPending ?? DEFAULT_MAX_PENDING,
  };
}
