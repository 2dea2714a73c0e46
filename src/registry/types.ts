/**
 * Data shapes of the client-id registry. A lease is plain JSON so every store (memory, file,
 * Redis) and every surface (CLI, HTTP, events) carries the same object.
 */

/** One granted client id. Times are milliseconds since the epoch. */
export interface Lease {
  readonly clientId: number;
  readonly purpose: string;
  readonly owner: string;
  /** Secret the holder shows to renew or release; `--force` releases without it. */
  readonly token: string;
  readonly expiresAt: number;
  readonly leasedAt: number;
  /** Host name of the machine that took the lease; pid checks only apply on that host. */
  readonly host: string;
  /** Process the lease is bound to (reclaimed when it is gone), or null for TTL-only leases. */
  readonly pid: number | null;
  /** Leases are scoped by upstream: paper and live may both hand out id 7. */
  readonly upstream: string;
}

/** An id that TWS refused with error 326; it is not handed out again until `until`. */
export interface Cooldown {
  readonly upstream: string;
  readonly clientId: number;
  readonly until: number;
}

/** Everything a file or memory store keeps; the Redis store holds the same facts in keys. */
export interface LeaseDoc {
  readonly version: 1;
  readonly leases: readonly Lease[];
  readonly cooldowns: readonly Cooldown[];
}

export const EMPTY_DOC: LeaseDoc = { version: 1, leases: [], cooldowns: [] };

/** Why a lease ended without a release. */
export type ExpiryReason = "ttl" | "owner_dead";

export interface AcquireRequest {
  readonly upstream: string;
  readonly purpose: string;
  /** Ids to try, best first; the store takes the first one that is neither leased nor cooling down. */
  readonly candidates: readonly number[];
  readonly owner: string;
  readonly host: string;
  readonly pid: number | null;
  readonly token: string;
  readonly now: number;
  readonly ttlMs: number;
}

export interface AcquireResult {
  /** The new lease, or null when every candidate was taken. */
  readonly granted: Lease | null;
  /** Leases found past their expiry and removed while acquiring. */
  readonly expired: readonly Lease[];
}

export interface RenewRequest {
  readonly upstream: string;
  readonly clientId: number;
  readonly token: string;
  readonly now: number;
  readonly ttlMs: number;
}

export interface ReleaseRequest {
  readonly upstream: string;
  readonly clientId: number;
  /** null releases whatever lease holds the id (`--force`). */
  readonly token: string | null;
  readonly now: number;
}

export interface RejectRequest {
  readonly upstream: string;
  readonly clientId: number;
  readonly until: number;
  readonly now: number;
}

/** Result of renew/release: the lease, or why it could not be touched. */
export type LeaseOpResult =
  | { readonly ok: true; readonly lease: Lease }
  | { readonly ok: false; readonly reason: "not_found" | "expired" | "bad_token"; readonly lease?: Lease };

export interface ListResult {
  readonly leases: readonly Lease[];
  readonly cooldowns: readonly Cooldown[];
  /** Leases found past their expiry and removed by this call. */
  readonly expired: readonly Lease[];
}

/** A lease as events show it: the token stays with the holder (events reach SSE and logs). */
export type PublicLease = Omit<Lease, "token">;

/** Events of the registry, published through its EventHub. */
export type LeaseEvent =
  | { readonly type: "lease.granted"; readonly ts: number; readonly lease: PublicLease }
  | { readonly type: "lease.renewed"; readonly ts: number; readonly lease: PublicLease }
  | {
      readonly type: "lease.released";
      readonly ts: number;
      readonly lease: PublicLease;
      readonly forced: boolean;
    }
  | {
      readonly type: "lease.expired";
      readonly ts: number;
      readonly lease: PublicLease;
      readonly reason: ExpiryReason;
    };
