/**
 * One interface for every lease store. Each call is atomic on its own: two processes (or
 * hosts, for Redis) calling `acquire` at once never get the same id. Time comes in as `now`
 * from the registry's clock, so stores hold no notion of time beyond what they are told
 * (Redis additionally sets key TTLs so a crashed host's leases vanish on their own).
 */
import type {
  AcquireRequest,
  AcquireResult,
  Cooldown,
  LeaseOpResult,
  ListResult,
  RejectRequest,
  ReleaseRequest,
  RenewRequest,
} from "./types.js";

export type StoreKind = "memory" | "file" | "redis";

export interface LeaseStore {
  readonly kind: StoreKind;
  /** Where the data lives (file path, redis URL without password), for logs and snapshots. */
  readonly location: string;
  acquire(req: AcquireRequest): Promise<AcquireResult>;
  renew(req: RenewRequest): Promise<LeaseOpResult>;
  /** Release with the holder's token, or any holder's lease when `token` is null. */
  release(req: ReleaseRequest): Promise<LeaseOpResult>;
  reject(req: RejectRequest): Promise<Cooldown>;
  /** Current leases and cool-downs of every upstream; expired leases are removed and reported. */
  list(now: number): Promise<ListResult>;
  close(): Promise<void>;
}
