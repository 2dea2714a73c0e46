/**
 * Fan-out: tenants asking for the same thing share one upstream request. Pure bookkeeping;
 * the switch decides when groups are written, replayed and cancelled.
 *
 * Two kinds of group:
 *  - stream: market data (not snapshots), tick-by-tick (no historical ticks), real-time bars.
 *    One upstream request per group, so one market-data line per group however many tenants
 *    watch it. The last message of every tick type is kept, in the order it first arrived
 *    (the order TWS sends them on subscribe), so a late joiner gets the current state at once.
 *  - oneshot: historical bars (not keepUpToDate) and contract details. Identical requests in
 *    flight share one; a finished answer may be kept for a while (`AnswerCache`).
 *
 * Invariants (checked by the switch's property tests):
 *  - a group exists iff it has at least one member; it has exactly one live request in the
 *    switch's table (`upstreamId`), owned by the switch, not by any tenant;
 *  - a tenant's (route, local id) belongs to at most one group;
 *  - the key holds everything that changes what TWS sends: the request without its id, plus
 *    the market-data type the socket must have when it is written.
 */
import { fromFields } from "../protocol/codec.js";
import { IN, OUT } from "../protocol/message-ids.js";
import { REQ_HISTORICAL_DATA } from "../protocol/messages/history.js";
import { REQ_MKT_DATA, REQ_TICK_BY_TICK_DATA } from "../protocol/messages/market-data.js";
import { fieldIndex, type OutRoute } from "../protocol/routing.js";
import { RequestTable } from "./request-table.js";

export type GroupKind = "stream" | "oneshot";

export interface Member {
  readonly tenantId: string;
  readonly localId: number;
  /**
   * While the group's request waits in the pacer: when this member stops waiting (it joined
   * then, by its own pacing deadline). Undefined: it waits as long as the group's replay.
   */
  waitUntil: number | undefined;
}

export interface Group {
  readonly key: string;
  readonly kind: GroupKind;
  readonly route: OutRoute;
  /** The current upstream id (a replay moves it). */
  upstreamId: number;
  /**
   * The pacer tenant the request waits under: the switch for streams (their line outlives
   * any one member), the first asker for one-shots (fair queuing of history between tenants).
   */
  pacerTenant: string;
  /** Member key (`tenant|route:localId`) → member, in joining order. */
  readonly members: Map<string, Member>;
  /**
   * While a replay of the group waits in the pacer: how long it may wait for the members that
   * were already served (each member joining after waits by its own `waitUntil`).
   */
  waitFloor: number | undefined;
  /** Moves the pacer deadline of the group's waiting request (set when it is queued). */
  wait: { setDeadline(ms: number): void } | undefined;
  /** Streams: the last message of each tick type, in the order each type first arrived. */
  readonly last: Map<string, readonly string[]>;
  /** One-shots: every answer so far, in order (a member joining in flight gets them). */
  readonly answers: (readonly string[])[];
  readonly createdAt: number;
  /** Messages fanned out since creation. */
  messages: number;
  /** Messages per second over the last full second. */
  rate: number;
  rateWindowStart: number;
  rateWindowCount: number;
}

/** Messages of a stream whose last value a late joiner does not get (TWS sends none on subscribe). */
const NOT_KEPT: ReadonlySet<number> = new Set([IN.REAL_TIME_BARS]);
/** Messages with a tick type right after the request id: one last value per tick type. */
const BY_TICK_TYPE: ReadonlySet<number> = new Set([
  IN.TICK_PRICE,
  IN.TICK_SIZE,
  IN.TICK_STRING,
  IN.TICK_GENERIC,
  IN.TICK_OPTION_COMPUTATION,
  IN.TICK_EFP,
  IN.TICK_BY_TICK,
]);

/**
 * The group key of a request, or undefined when it is not shared (snapshots, keepUpToDate
 * history, tick-by-tick with historical ticks, anything else). `marketDataType`: the type the
 * request was made under (market data only).
 */
export function groupKeyOf(
  route: OutRoute,
  fields: readonly string[],
  version: number,
  marketDataType: number,
): { key: string; kind: GroupKind } | undefined {
  const idIndex = route.idIndex;
  if (idIndex === undefined) return undefined;
  let kind: GroupKind;
  let extra = "";
  try {
    switch (route.id) {
      case OUT.REQ_MKT_DATA: {
        const m = fromFields(REQ_MKT_DATA, fields, version);
        if (m.snapshot || m.regulatorySnapshot) return undefined;
        kind = "stream";
        extra = `t${marketDataType}`;
        break;
      }
      case OUT.REQ_TICK_BY_TICK_DATA:
        if (fromFields(REQ_TICK_BY_TICK_DATA, fields, version).numberOfTicks !== 0) return undefined;
        kind = "stream";
        break;
      case OUT.REQ_REAL_TIME_BARS:
        kind = "stream";
        break;
      case OUT.REQ_HISTORICAL_DATA:
        if (fromFields(REQ_HISTORICAL_DATA, fields, version).keepUpToDate) return undefined;
        kind = "oneshot";
        break;
      case OUT.REQ_CONTRACT_DATA:
        kind = "oneshot";
        break;
      default:
        return undefined;
    }
  } catch {
    // Malformed: not shared; TWS judges it alone.
    return undefined;
  }
  const key = fields.slice();
  key[fieldIndex(idIndex, version)] = "";
  return { key: `${extra}|${key.join("\u0000")}`, kind };
}

/** Which last value a stream message replaces, or undefined when it is not kept. */
export function lastValueKey(msgId: number, fields: readonly string[], idIndex: number): string | undefined {
  if (NOT_KEPT.has(msgId)) return undefined;
  if (BY_TICK_TYPE.has(msgId)) return `${msgId}:${fields[idIndex + 1] ?? ""}`;
  if (msgId === IN.ERR_MSG) return `${msgId}:${fields[3] ?? ""}`;
  return String(msgId);
}

const RATE_WINDOW_MS = 1_000;

export class SubscriptionGroups {
  readonly #byKey = new Map<string, Group>();
  readonly #byUpstream = new Map<number, Group>();
  /** Tenant → member key → its group and its id there. */
  readonly #byTenant = new Map<string, Map<string, { group: Group; localId: number }>>();

  static memberKey(route: OutRoute, localId: number): string {
    return RequestTable.localKey(route, localId);
  }

  byKey(key: string): Group | undefined {
    return this.#byKey.get(key);
  }

  byUpstream(upstreamId: number): Group | undefined {
    return this.#byUpstream.get(upstreamId);
  }

  /** The group the tenant's request `route`/`localId` belongs to. */
  of(tenantId: string, route: OutRoute, localId: number): Group | undefined {
    return this.#byTenant.get(tenantId)?.get(SubscriptionGroups.memberKey(route, localId))?.group;
  }

  create(init: {
    key: string;
    kind: GroupKind;
    route: OutRoute;
    upstreamId: number;
    pacerTenant: string;
    now: number;
  }): Group {
    const g: Group = {
      ...init,
      createdAt: init.now,
      members: new Map(),
      last: new Map(),
      answers: [],
      waitFloor: undefined,
      wait: undefined,
      messages: 0,
      rate: 0,
      rateWindowStart: init.now,
      rateWindowCount: 0,
    };
    this.#byKey.set(g.key, g);
    this.#byUpstream.set(g.upstreamId, g);
    return g;
  }

  join(g: Group, tenantId: string, localId: number, waitUntil?: number): void {
    const mk = SubscriptionGroups.memberKey(g.route, localId);
    g.members.set(`${tenantId}|${mk}`, { tenantId, localId, waitUntil });
    let t = this.#byTenant.get(tenantId);
    if (!t) {
      t = new Map();
      this.#byTenant.set(tenantId, t);
    }
    t.set(mk, { group: g, localId });
  }

  /** The tenant's request leaves its group. Returns the group (empty: the caller ends it). */
  leave(tenantId: string, route: OutRoute, localId: number): Group | undefined {
    const mk = SubscriptionGroups.memberKey(route, localId);
    const t = this.#byTenant.get(tenantId);
    const g = t?.get(mk)?.group;
    if (!t || !g) return undefined;
    t.delete(mk);
    if (t.size === 0) this.#byTenant.delete(tenantId);
    g.members.delete(`${tenantId}|${mk}`);
    return g;
  }

  /** Every (group, local id) of the tenant, once each; O(its memberships). */
  membershipsOf(tenantId: string): { group: Group; localId: number }[] {
    return [...(this.#byTenant.get(tenantId)?.values() ?? [])];
  }

  countFor(tenantId: string): number {
    return this.#byTenant.get(tenantId)?.size ?? 0;
  }

  /** A replay moved the group's request to a fresh upstream id. */
  rekey(g: Group, upstreamId: number): void {
    if (this.#byUpstream.get(g.upstreamId) === g) this.#byUpstream.delete(g.upstreamId);
    g.upstreamId = upstreamId;
    this.#byUpstream.set(upstreamId, g);
  }

  /** The group ends (its request ended): every member leaves. */
  remove(g: Group): void {
    if (this.#byKey.get(g.key) === g) this.#byKey.delete(g.key);
    if (this.#byUpstream.get(g.upstreamId) === g) this.#byUpstream.delete(g.upstreamId);
    for (const m of g.members.values()) {
      const t = this.#byTenant.get(m.tenantId);
      if (!t) continue;
      t.delete(SubscriptionGroups.memberKey(g.route, m.localId));
      if (t.size === 0) this.#byTenant.delete(m.tenantId);
    }
  }

  /** A message for the group arrived: keep it for late joiners, count it. */
  record(g: Group, msgId: number, fields: readonly string[], idIndex: number, now: number): void {
    g.messages++;
    if (now - g.rateWindowStart >= RATE_WINDOW_MS) {
      g.rate = (g.rateWindowCount * 1_000) / (now - g.rateWindowStart);
      g.rateWindowStart = now;
      g.rateWindowCount = 0;
    }
    g.rateWindowCount++;
    if (g.kind === "oneshot") {
      g.answers.push(fields);
      return;
    }
    const k = lastValueKey(msgId, fields, idIndex);
    if (k !== undefined) g.last.set(k, fields);
  }

  all(): Group[] {
    return [...this.#byKey.values()];
  }

  get size(): number {
    return this.#byKey.size;
  }

  /** Upstream requests saved: members beyond the first of every group. */
  get saved(): number {
    let n = 0;
    for (const g of this.#byKey.values()) n += Math.max(0, g.members.size - 1);
    return n;
  }
}

interface CachedAnswer {
  readonly answers: readonly (readonly string[])[];
  readonly until: number;
  readonly bytes: number;
}

/** Kept answers take at most this much memory together (their field text, counted in bytes). */
export const DEFAULT_ANSWER_CACHE_BYTES = 64 * 1024 * 1024;
/** A field costs its text plus about this much (the string and array slot around it). */
const FIELD_OVERHEAD_BYTES = 16;

/** About what an answer holds in memory: 2 bytes per character plus each field's overhead. */
export function answerBytes(answers: readonly (readonly string[])[]): number {
  let n = 0;
  for (const f of answers) for (const x of f) n += x.length * 2 + FIELD_OVERHEAD_BYTES;
  return n;
}

/**
 * Finished one-shot answers, kept until their `until` so an identical request is answered
 * without asking TWS (IB counts an identical historical request within 15 s as a pacing
 * violation).
 *
 * Invariants: nothing past its time is kept after a `put` (expired entries are dropped on
 * every insert, not only when asked for); at most `maxEntries` entries and `maxBytes` bytes
 * (the oldest fall off first); an answer larger than a quarter of `maxBytes` is not kept.
 */
export class AnswerCache {
  readonly #entries = new Map<string, CachedAnswer>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #bytes = 0;
  hits = 0;

  constructor(options: { maxEntries?: number; maxBytes?: number } = {}) {
    this.#maxEntries = options.maxEntries ?? 1_000;
    this.#maxBytes = options.maxBytes ?? DEFAULT_ANSWER_CACHE_BYTES;
  }

  /** Keep `answers` for `ttlMs` from `now` (nothing when ttlMs <= 0 or the answer is too large). */
  put(key: string, answers: readonly (readonly string[])[], now: number, ttlMs: number): void {
    this.#delete(key);
    this.#dropExpired(now);
    if (ttlMs <= 0) return;
    const bytes = answerBytes(answers);
    if (bytes > this.#maxBytes / 4) return;
    this.#entries.set(key, { answers, until: now + ttlMs, bytes });
    this.#bytes += bytes;
    while (this.#entries.size > this.#maxEntries || this.#bytes > this.#maxBytes) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#delete(oldest);
    }
  }

  get(key: string, now: number): readonly (readonly string[])[] | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (e.until <= now) {
      this.#delete(key);
      return undefined;
    }
    this.hits++;
    return e.answers;
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Memory the kept answers take, as `answerBytes` counts it. */
  get bytes(): number {
    return this.#bytes;
  }

  #delete(key: string): void {
    const e = this.#entries.get(key);
    if (!e) return;
    this.#entries.delete(key);
    this.#bytes -= e.bytes;
  }

  /** O(entries), bounded by `maxEntries`: cheap next to the answer being kept. */
  #dropExpired(now: number): void {
    for (const [k, e] of this.#entries) if (e.until <= now) this.#delete(k);
  }
}
