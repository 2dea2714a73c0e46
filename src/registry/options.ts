/** Registry options: every default as a named constant, resolved once. */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { type Clock, systemClock } from "../clock.js";
import { isProcessAlive } from "./liveness.js";
import { MemoryLeaseStore } from "./memory-store.js";
import { DEFAULT_PURPOSES, type PurposeRanges, type ResolvedPurpose, resolvePurposes } from "./purposes.js";
import type { LeaseStore } from "./store.js";

/** How long an id refused with error 326 stays out of circulation. */
export const DEFAULT_COOLDOWN_MS = 60_000;
/** Lease length when the caller gives none. */
export const DEFAULT_LEASE_TTL_MS = 10 * 60_000;
/** Longest lease one call may take; longer holds must renew. */
export const MAX_LEASE_TTL_MS = 7 * 24 * 3_600_000;
/** The upstream used when a call names none (the line called `default`). */
export const DEFAULT_UPSTREAM = "default";
/** Periodic sweep for expiry events; 0 = only sweep when called. */
export const DEFAULT_SWEEP_INTERVAL_MS = 0;
export const MAX_OWNER_LENGTH = 200;

export interface RegistryOptions {
  /** Default: an in-memory store (single process). */
  store?: LeaseStore;
  /** Close the store when the registry closes. Default true. */
  ownsStore?: boolean;
  purposes?: PurposeRanges;
  clock?: Clock;
  host?: string;
  isPidAlive?: (pid: number) => boolean;
  newToken?: () => string;
  cooldownMs?: number;
  defaultTtlMs?: number;
  defaultUpstream?: string;
  sweepIntervalMs?: number;
}

export interface ResolvedRegistryOptions {
  readonly store: LeaseStore;
  readonly ownsStore: boolean;
  readonly purposes: ReadonlyMap<string, ResolvedPurpose>;
  readonly clock: Clock;
  readonly host: string;
  readonly isPidAlive: (pid: number) => boolean;
  readonly newToken: () => string;
  readonly cooldownMs: number;
  readonly defaultTtlMs: number;
  readonly defaultUpstream: string;
  readonly sweepIntervalMs: number;
}

export function resolveRegistryOptions(o: RegistryOptions = {}): ResolvedRegistryOptions {
  return {
    store: o.store ?? new MemoryLeaseStore(),
    ownsStore: o.ownsStore ?? true,
    purposes: resolvePurposes(o.purposes ?? DEFAULT_PURPOSES),
    clock: o.clock ?? systemClock,
    host: o.host ?? hostname(),
    isPidAlive: o.isPidAlive ?? isProcessAlive,
    newToken: o.newToken ?? (() => randomBytes(16).toString("hex")),
    cooldownMs: o.cooldownMs ?? DEFAULT_COOLDOWN_MS,
    defaultTtlMs: o.defaultTtlMs ?? DEFAULT_LEASE_TTL_MS,
    defaultUpstream: o.defaultUpstream ?? DEFAULT_UPSTREAM,
    sweepIntervalMs: o.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS,
  };
}
