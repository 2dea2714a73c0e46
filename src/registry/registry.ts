/**
 * The client-id registry: purposes → id ranges, leases with TTL, renew/release by token,
 * cool-down after error 326, reclaim of leases whose local process died, and lease events.
 * Decisions come from policy.ts; atomicity comes from the store.
 */
import type { TimerHandle } from "../clock.js";
import { ClosedError, InvalidArgumentError } from "../errors.js";
import { EventHub } from "../events.js";
import { LeaseInvalidError, LeaseNotFoundError, RangeExhaustedError } from "./errors.js";
import {
  MAX_LEASE_TTL_MS,
  MAX_OWNER_LENGTH,
  type RegistryOptions,
  type ResolvedRegistryOptions,
  resolveRegistryOptions,
} from "./options.js";
import { candidateIds, deadLeases, publicLease } from "./policy.js";
import type { ResolvedPurpose } from "./purposes.js";
import { buildSnapshot, type RegistryCounters, type RegistrySnapshot } from "./snapshot.js";
import type { Cooldown, ExpiryReason, Lease, LeaseEvent, LeaseOpResult, ListResult } from "./types.js";

export type RegistryState = "open" | "closed";

export interface LeaseCallOptions {
  /** Bind the lease to a local process: it is reclaimed as soon as that process is gone. */
  pid?: number;
  upstream?: string;
  /**
   * Lease this id of the purpose's range and no other (a line whose live orders sit under it
   * must get it back). Fails with 409 while someone else holds it or it cools down.
   */
  clientId?: number;
}

export interface ReleaseOptions {
  token?: string;
  /** Release without the token (operator override). */
  force?: boolean;
  upstream?: string;
}

/** A lease as `list()` shows it: the lease plus its age. */
export type LeaseInfo = Lease & { readonly ageMs: number };

export class Registry implements AsyncDisposable {
  readonly #o: ResolvedRegistryOptions;
  readonly #hub = new EventHub<LeaseEvent>();
  readonly #counters: RegistryCounters = {
    granted: 0,
    renewed: 0,
    released: 0,
    expired: 0,
    reclaimed: 0,
    rejected: 0,
    exhausted: 0,
    sweepErrors: 0,
  };
  #state: RegistryState = "open";
  #sweepTimer: TimerHandle | undefined;

  constructor(options: RegistryOptions = {}) {
    this.#o = resolveRegistryOptions(options);
    if (this.#o.sweepIntervalMs > 0) this.#scheduleSweep();
  }

  get state(): RegistryState {
    return this.#state;
  }

  get purposes(): readonly ResolvedPurpose[] {
    return [...this.#o.purposes.values()];
  }

  on<T extends LeaseEvent["type"]>(type: T, fn: (e: Extract<LeaseEvent, { type: T }>) => void): () => void {
    return this.#hub.on(type, fn);
  }

  events(options?: { limit?: number; signal?: AbortSignal }): ReturnType<EventHub<LeaseEvent>["events"]> {
    return this.#hub.events(options);
  }

  async lease(
    purpose: string,
    owner: string,
    ttlMs?: number,
    options: LeaseCallOptions = {},
  ): Promise<Lease> {
    this.#assertOpen();
    const range = this.#purpose(purpose);
    const ttl = checkTtl(ttlMs ?? this.#o.defaultTtlMs);
    if (owner.length === 0 || owner.length > MAX_OWNER_LENGTH) {
      throw new InvalidArgumentError("owner", `owner must be 1..${MAX_OWNER_LENGTH} characters`);
    }
    if (options.pid !== undefined && !(Number.isInteger(options.pid) && options.pid > 0)) {
      throw new InvalidArgumentError("pid", `pid must be a positive integer, got ${options.pid}`);
    }
    const upstream = this.#upstream(options.upstream);
    const wanted = options.clientId;
    if (wanted !== undefined && !(Number.isInteger(wanted) && wanted >= range.min && wanted <= range.max)) {
      throw new InvalidArgumentError(
        "clientId",
        `client id ${wanted} is not in the range of purpose "${purpose}" (${range.min}..${range.max})`,
      );
    }
    const candidates = wanted === undefined ? candidateIds(range) : [wanted];
    const attempt = async () => {
      const now = this.#o.clock.now();
      const r = await this.#o.store.acquire({
        upstream,
        purpose,
        candidates,
        owner,
        host: this.#o.host,
        pid: options.pid ?? null,
        token: this.#o.newToken(),
        now,
        ttlMs: ttl,
      });
      this.#emitExpired(r.expired, "ttl");
      return r.granted;
    };
    // Dead owners are only looked for when the range is full: a pid check per lease would
    // cost a full list on every call, and an id held by a dead pid harms nobody until then.
    const granted = (await attempt()) ?? ((await this.#reclaimDead()) > 0 ? await attempt() : null);
    if (!granted) {
      this.#counters.exhausted++;
      const { leases } = await this.#list();
      const holders = leases.filter(
        (l) =>
          l.upstream === upstream &&
          (wanted === undefined ? l.clientId >= range.min && l.clientId <= range.max : l.clientId === wanted),
      );
      const asked = wanted === undefined ? range : { min: wanted, max: wanted };
      throw new RangeExhaustedError(purpose, upstream, asked, holders.map(publicLease));
    }
    this.#counters.granted++;
    this.#emit({ type: "lease.granted", ts: this.#o.clock.now(), lease: publicLease(granted) });
    return granted;
  }

  async renew(
    clientId: number,
    token: string,
    ttlMs?: number,
    options: { upstream?: string } = {},
  ): Promise<Lease> {
    this.#assertOpen();
    const upstream = this.#upstream(options.upstream);
    const r = await this.#o.store.renew({
      upstream,
      clientId: checkId(clientId),
      token,
      now: this.#o.clock.now(),
      ttlMs: checkTtl(ttlMs ?? this.#o.defaultTtlMs),
    });
    const lease = this.#unwrap(r, clientId, upstream);
    this.#counters.renewed++;
    this.#emit({ type: "lease.renewed", ts: this.#o.clock.now(), lease: publicLease(lease) });
    return lease;
  }

  async release(clientId: number, options: ReleaseOptions = {}): Promise<Lease> {
    this.#assertOpen();
    const upstream = this.#upstream(options.upstream);
    if (options.token === undefined && !options.force) {
      throw new InvalidArgumentError("token", "release needs the lease's token, or force");
    }
    const forced = options.token === undefined;
    const r = await this.#o.store.release({
      upstream,
      clientId: checkId(clientId),
      token: forced ? null : (options.token ?? null),
      now: this.#o.clock.now(),
    });
    // A forced release of a lease that just expired reached its goal: the id is free.
    if (!r.ok && r.reason === "expired" && forced && r.lease) {
      this.#emitExpired([r.lease], "ttl");
      return r.lease;
    }
    const lease = this.#unwrap(r, clientId, upstream);
    this.#counters.released++;
    this.#emit({ type: "lease.released", ts: this.#o.clock.now(), lease: publicLease(lease), forced });
    return lease;
  }

  /**
   * TWS answered error 326 for this id: someone outside the registry holds it. The id is
   * skipped by new leases until the cool-down ends; a current lease on it stays until its
   * holder releases it (it will need another id anyway).
   */
  async markRejected(
    clientId: number,
    options: { upstream?: string; cooldownMs?: number } = {},
  ): Promise<Cooldown> {
    this.#assertOpen();
    const now = this.#o.clock.now();
    const cooldownMs = options.cooldownMs ?? this.#o.cooldownMs;
    const c = await this.#o.store.reject({
      upstream: this.#upstream(options.upstream),
      clientId: checkId(clientId),
      until: now + cooldownMs,
      now,
    });
    this.#counters.rejected++;
    return c;
  }

  /** Current leases (all upstreams, or one), after reclaiming dead local owners. */
  async list(options: { upstream?: string } = {}): Promise<LeaseInfo[]> {
    this.#assertOpen();
    const { leases } = await this.#list(true);
    const now = this.#o.clock.now();
    return leases
      .filter((l) => options.upstream === undefined || l.upstream === options.upstream)
      .map((l) => ({ ...l, ageMs: Math.max(0, now - l.leasedAt) }))
      .sort((a, b) => a.upstream.localeCompare(b.upstream) || a.clientId - b.clientId);
  }

  /** Remove expired leases and leases of dead local processes, emitting `lease.expired`. */
  async sweep(): Promise<number> {
    this.#assertOpen();
    const before = this.#counters.expired + this.#counters.reclaimed;
    await this.#list(true);
    return this.#counters.expired + this.#counters.reclaimed - before;
  }

  async snapshot(): Promise<RegistrySnapshot> {
    this.#assertOpen();
    const listed = await this.#list(true);
    return buildSnapshot({
      state: this.#state,
      options: this.#o,
      listed,
      counters: { ...this.#counters },
      now: this.#o.clock.now(),
    });
  }

  async close(): Promise<void> {
    if (this.#transition("closed") && this.#o.ownsStore) await this.#o.store.close();
  }

  destroy(): void {
    if (this.#transition("closed") && this.#o.ownsStore) void this.#o.store.close().catch(() => undefined);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The one writer of `state`; returns false when already there. */
  #transition(to: RegistryState): boolean {
    if (this.#state === to) return false;
    this.#state = to;
    if (to === "closed") this.#o.clock.clearTimeout(this.#sweepTimer);
    return true;
  }

  async #list(reclaim = false): Promise<ListResult> {
    let r = await this.#o.store.list(this.#o.clock.now());
    this.#emitExpired(r.expired, "ttl");
    if (reclaim && (await this.#reclaimDead(r.leases)) > 0) {
      r = await this.#o.store.list(this.#o.clock.now());
      this.#emitExpired(r.expired, "ttl");
    }
    return r;
  }

  /** Release, by their own token, leases whose local process is gone. */
  async #reclaimDead(known?: readonly Lease[]): Promise<number> {
    const leases = known ?? (await this.#list()).leases;
    let n = 0;
    for (const dead of deadLeases(leases, this.#o.host, this.#o.isPidAlive)) {
      const r = await this.#o.store.release({
        upstream: dead.upstream,
        clientId: dead.clientId,
        token: dead.token,
        now: this.#o.clock.now(),
      });
      // Another process may have reclaimed it first (not_found / expired): nothing to report.
      if (r.ok) {
        n++;
        this.#counters.reclaimed++;
        this.#emit({
          type: "lease.expired",
          ts: this.#o.clock.now(),
          lease: publicLease(r.lease),
          reason: "owner_dead",
        });
      }
    }
    return n;
  }

  #unwrap(r: LeaseOpResult, clientId: number, upstream: string): Lease {
    if (r.ok) return r.lease;
    if (r.reason === "not_found") throw new LeaseNotFoundError(clientId, upstream);
    if (r.reason === "expired" && r.lease) this.#emitExpired([r.lease], "ttl");
    throw new LeaseInvalidError(clientId, r.reason);
  }

  #emitExpired(leases: readonly Lease[], reason: ExpiryReason): void {
    for (const lease of leases) {
      this.#counters.expired++;
      this.#emit({ type: "lease.expired", ts: this.#o.clock.now(), lease: publicLease(lease), reason });
    }
  }

  #emit(e: LeaseEvent): void {
    this.#hub.emit(e);
  }

  #scheduleSweep(): void {
    this.#sweepTimer = this.#o.clock.setTimeout(() => {
      if (this.#state !== "open") return;
      this.sweep().then(
        () => this.#state === "open" && this.#scheduleSweep(),
        () => {
          this.#counters.sweepErrors++;
          if (this.#state === "open") this.#scheduleSweep();
        },
      );
    }, this.#o.sweepIntervalMs);
  }

  #purpose(name: string): ResolvedPurpose {
    const p = this.#o.purposes.get(name);
    if (!p) {
      const known = [...this.#o.purposes.keys()].join(", ");
      throw new InvalidArgumentError("purpose", `unknown purpose "${name}"; accepted: ${known}`);
    }
    return p;
  }

  #upstream(name: string | undefined): string {
    const u = name ?? this.#o.defaultUpstream;
    if (u.length === 0 || u.length > 200 || /\s/.test(u)) {
      throw new InvalidArgumentError("upstream", `upstream "${u}" must be 1..200 characters without spaces`);
    }
    return u;
  }

  #assertOpen(): void {
    if (this.#state !== "open") throw new ClosedError("registry");
  }
}

function checkTtl(ttlMs: number): number {
  if (!Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_LEASE_TTL_MS) {
    throw new InvalidArgumentError("ttlMs", `ttl must be an integer 1..${MAX_LEASE_TTL_MS} ms, got ${ttlMs}`);
  }
  return ttlMs;
}

function checkId(clientId: number): number {
  if (!Number.isInteger(clientId) || clientId < 0 || clientId > 2_147_483_647) {
    throw new InvalidArgumentError("clientId", `client id must be an integer 0..2147483647, got ${clientId}`);
  }
  return clientId;
}
