/** The registry's read-only view for status pages, metrics and the API (see docs/registry.md). */
import type { ResolvedRegistryOptions } from "./options.js";
import { publicLease } from "./policy.js";
import type { StoreKind } from "./store.js";
import type { ListResult, PublicLease } from "./types.js";

export interface RegistryCounters {
  granted: number;
  renewed: number;
  released: number;
  expired: number;
  reclaimed: number;
  rejected: number;
  exhausted: number;
  sweepErrors: number;
}

export interface PurposeUsage {
  readonly upstream: string;
  readonly purpose: string;
  readonly min: number;
  readonly max: number;
  readonly size: number;
  readonly leased: number;
  readonly coolingDown: number;
  readonly free: number;
}

export interface RegistrySnapshot {
  readonly state: "open" | "closed";
  readonly host: string;
  readonly store: { readonly kind: StoreKind; readonly location: string };
  readonly defaultUpstream: string;
  readonly cooldownMs: number;
  readonly defaultTtlMs: number;
  readonly usage: readonly PurposeUsage[];
  readonly leases: readonly (PublicLease & { readonly ageMs: number; readonly remainingMs: number })[];
  readonly cooldowns: readonly {
    readonly upstream: string;
    readonly clientId: number;
    readonly until: number;
    readonly remainingMs: number;
  }[];
  readonly counters: Readonly<RegistryCounters>;
}

export function buildSnapshot(input: {
  state: "open" | "closed";
  options: ResolvedRegistryOptions;
  listed: ListResult;
  counters: RegistryCounters;
  now: number;
}): RegistrySnapshot {
  const { options: o, listed, now } = input;
  const upstreams = new Set<string>([o.defaultUpstream]);
  for (const l of listed.leases) upstreams.add(l.upstream);
  for (const c of listed.cooldowns) upstreams.add(c.upstream);
  const usage: PurposeUsage[] = [];
  for (const upstream of [...upstreams].sort()) {
    for (const p of o.purposes.values()) {
      const inRange = (id: number) => id >= p.min && id <= p.max;
      const leasedIds = new Set(
        listed.leases.filter((l) => l.upstream === upstream && inRange(l.clientId)).map((l) => l.clientId),
      );
      const cooling = new Set(
        listed.cooldowns.filter((c) => c.upstream === upstream && inRange(c.clientId)).map((c) => c.clientId),
      );
      const blocked = new Set([...leasedIds, ...cooling]);
      usage.push({
        upstream,
        purpose: p.name,
        min: p.min,
        max: p.max,
        size: p.size,
        leased: leasedIds.size,
        coolingDown: cooling.size,
        free: p.size - blocked.size,
      });
    }
  }
  return {
    state: input.state,
    host: o.host,
    store: { kind: o.store.kind, location: o.store.location },
    defaultUpstream: o.defaultUpstream,
    cooldownMs: o.cooldownMs,
    defaultTtlMs: o.defaultTtlMs,
    usage,
    leases: listed.leases
      .map((l) => ({
        ...publicLease(l),
        ageMs: Math.max(0, now - l.leasedAt),
        remainingMs: l.expiresAt - now,
      }))
      .sort((a, b) => a.upstream.localeCompare(b.upstream) || a.clientId - b.clientId),
    cooldowns: listed.cooldowns.map((c) => ({ ...c, remainingMs: c.until - now })),
    counters: input.counters,
  };
}
