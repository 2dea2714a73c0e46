/** Client-id registry: leases of TWS client ids by purpose, over memory, file or Redis stores. */
export { LeaseInvalidError, LeaseNotFoundError, RangeExhaustedError, StoreError } from "./errors.js";
export { FileLeaseStore, type FileLeaseStoreOptions, LEASES_FILE } from "./file-store.js";
export { isProcessAlive } from "./liveness.js";
export { MemoryLeaseStore } from "./memory-store.js";
export {
  DEFAULT_COOLDOWN_MS,
  DEFAULT_LEASE_TTL_MS,
  DEFAULT_SWEEP_INTERVAL_MS,
  DEFAULT_UPSTREAM,
  MAX_LEASE_TTL_MS,
  type RegistryOptions,
} from "./options.js";
export { candidateIds, deadLeases, isCooling, isExpired, publicLease } from "./policy.js";
export {
  DEFAULT_PURPOSES,
  type IdRange,
  type PurposeRanges,
  parsePurposes,
  type ResolvedPurpose,
  resolvePurposes,
} from "./purposes.js";
export { DEFAULT_REDIS_PREFIX, RedisLeaseStore, type RedisLeaseStoreOptions } from "./redis-store.js";
export {
  type LeaseCallOptions,
  type LeaseInfo,
  Registry,
  type RegistryState,
  type ReleaseOptions,
} from "./registry.js";
export type { PurposeUsage, RegistryCounters, RegistrySnapshot } from "./snapshot.js";
export { defaultStateDir } from "./state-dir.js";
export type { LeaseStore, StoreKind } from "./store.js";
export type { Cooldown, ExpiryReason, Lease, LeaseEvent, PublicLease } from "./types.js";
