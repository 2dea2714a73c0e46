/**
 * The pure violation checker: given what was sent at which times and what is still open,
 * would this request break a rule, and which IB error would answer it? The mock gateway
 * enforces with it (hard limits, exact windows); the pacer schedules with it (targets, plus a
 * guard added to each window for clock and network jitter). One piece of code, so the two
 * agree by construction. No I/O, no clock: every call takes `now`.
 */
import type { PacingRequest } from "./request.js";
import {
  type CapacityRule,
  type PacingRules,
  type RuleScope,
  ruleApplies,
  type WindowRule,
} from "./rules.js";

export interface Violation {
  readonly ruleId: string;
  readonly ibCode: number;
  readonly ibMessage: string;
}

/** How the ledger judges room: the mock uses "limit", the pacer "target" with a guard. */
export interface LedgerMode {
  readonly useTarget: boolean;
  /** Extra ms added to every window: guardMs(windowMs). */
  readonly guardMs: (windowMs: number) => number;
}

export const ENFORCE_MODE: LedgerMode = { useTarget: false, guardMs: () => 0 };

interface Entry {
  at: number;
  amount: number;
  /** Sent while the gateway has been silent since (rules with holdUnheardMs; pacer only). */
  unheard?: boolean;
}

/** Keys a window rule tracks at most; oldest keys beyond this are dropped (bounded memory). */
export const DEFAULT_MAX_KEYS_PER_RULE = 10_000;

export interface RuleUse {
  readonly ruleId: string;
  readonly type: "window" | "capacity";
  readonly limit: number;
  readonly target: number;
  readonly windowMs: number | undefined;
  /** Units in the busiest window (or open slots) now. */
  readonly used: number;
  /** Distinct keys with something in their window (keyed rules). */
  readonly keys: number;
}

/** Remembered window entries by rule id: [key, [at (epoch ms), amount][]][]. */
export type WindowMemory = Record<string, [string, [number, number][]][]>;

export class PacingLedger {
  readonly #rules: PacingRules;
  readonly #mode: LedgerMode;
  readonly #scopes: ReadonlySet<RuleScope>;
  readonly #maxKeys: number;
  /** rule id → key → entries, oldest first. */
  readonly #windows = new Map<string, Map<string, Entry[]>>();
  /** tenant + hold → the request holding the slot. */
  readonly #holds = new Map<string, PacingRequest>();
  /** tenant + hold → its window entries, so an answer can move them (restamp). Bounded. */
  readonly #entriesOf = new Map<string, { list: Entry[]; entry: Entry; ruleId: string }[]>();
  /** Entries still unheard, with their lists (pacer mode only). */
  #unheard: { list: Entry[]; entry: Entry }[] = [];
  /** Rules whose windows outlive the process (pacer memory); `changed` says they moved. */
  readonly #remembered: ReadonlySet<string>;
  #changed = false;

  constructor(
    rules: PacingRules,
    options: {
      mode?: LedgerMode;
      scopes?: readonly RuleScope[];
      maxKeysPerRule?: number;
      remembered?: readonly string[];
    } = {},
  ) {
    this.#remembered = new Set(options.remembered ?? []);
    this.#rules = rules;
    this.#mode = options.mode ?? ENFORCE_MODE;
    this.#scopes = new Set(options.scopes ?? ["connection", "gateway"]);
    this.#maxKeys = options.maxKeysPerRule ?? DEFAULT_MAX_KEYS_PER_RULE;
  }

  get rules(): PacingRules {
    return this.#rules;
  }

  /** The enabled rules of the ledger's scopes, worked out once (rules are immutable data). */
  #activeRules: readonly (WindowRule | CapacityRule)[] | undefined;

  #active(): readonly (WindowRule | CapacityRule)[] {
    this.#activeRules ??= this.#rules.rules.filter((r) => r.enabled && this.#scopes.has(r.scope));
    return this.#activeRules;
  }

  /** The first rule this request would break if sent at `now`, or undefined. */
  check(req: PacingRequest, now: number): Violation | undefined {
    for (const rule of this.#active()) {
      if (!ruleApplies(rule, req.kind, req.key.barSize)) continue;
      const room =
        rule.type === "window" ? this.#windowRoomAt(rule, req, now) <= now : this.#capacityRoom(rule, req);
      if (!room) return { ruleId: rule.id, ibCode: rule.ibCode, ibMessage: rule.ibMessage };
    }
    return undefined;
  }

  /**
   * Earliest time ≥ now at which every window rule has room, and the rule that decides it.
   * Infinity when a capacity rule is full (only a release can free it).
   */
  earliest(req: PacingRequest, now: number): { at: number; ruleId: string | undefined } {
    let at = now;
    let ruleId: string | undefined;
    for (const rule of this.#active()) {
      if (!ruleApplies(rule, req.kind, req.key.barSize)) continue;
      const t =
        rule.type === "window"
          ? this.#windowRoomAt(rule, req, now)
          : this.#capacityRoom(rule, req)
            ? now
            : Infinity;
      if (t > at) {
        at = t;
        ruleId = rule.id;
      }
    }
    return { at, ruleId };
  }

  /** Record a request as sent at `now` (and take its hold). */
  record(req: PacingRequest, now: number): void {
    for (const rule of this.#active()) {
      if (rule.type !== "window" || !ruleApplies(rule, req.kind, req.key.barSize)) continue;
      const key = keyOf(rule, req);
      let byKey = this.#windows.get(rule.id);
      if (!byKey) {
        byKey = new Map();
        this.#windows.set(rule.id, byKey);
      }
      let list = byKey.get(key);
      if (!list) {
        if (byKey.size >= this.#maxKeys) this.#evictKey(rule, byKey, now);
        list = [];
        byKey.set(key, list);
      }
      const entry: Entry = { at: now, amount: amountOf(rule, req) };
      if (this.#mode.useTarget && rule.holdUnheardMs !== undefined) {
        entry.unheard = true;
        // Past its hold an unheard entry no longer counts: forget it here too (bounded).
        while (this.#unheard.length > 0 && (this.#unheard[0]?.entry.at ?? now) <= now - rule.holdUnheardMs)
          this.#unheard.shift();
        this.#unheard.push({ list, entry });
      }
      list.push(entry);
      if (this.#remembered.has(rule.id)) this.#changed = true;
      if (req.hold !== undefined) {
        const id = holdId(req.tenant, req.hold);
        const refs = this.#entriesOf.get(id) ?? [];
        if (refs.length === 0) {
          if (this.#entriesOf.size >= this.#maxKeys)
            this.#entriesOf.delete(this.#entriesOf.keys().next().value as string);
          this.#entriesOf.set(id, refs);
        }
        refs.push({ list, entry, ruleId: rule.id });
      }
    }
    if (req.hold !== undefined) this.#holds.set(holdId(req.tenant, req.hold), req);
    if (req.releases !== undefined) this.release(req.tenant, req.releases);
  }

  /**
   * The mock's view of one arriving message: the message always counts against the rate (it
   * arrived); it is recorded in the other rules only when accepted.
   */
  admit(req: PacingRequest, now: number): Violation | undefined {
    const violation = this.check(req, now);
    if (!violation) {
      this.record(req, now);
      return undefined;
    }
    const rate = this.#active().filter((r): r is WindowRule => r.type === "window" && r.appliesTo === "*");
    for (const rule of rate) {
      const byKey = this.#windows.get(rule.id) ?? new Map<string, Entry[]>();
      this.#windows.set(rule.id, byKey);
      const list = byKey.get("") ?? [];
      byKey.set("", list);
      list.push({ at: now, amount: 1 });
    }
    return violation;
  }

  /**
   * Move a request's window entries to `at` (the time its answer arrived). The gateway
   * cannot have counted the request later than it answered it, so after a restamp the
   * ledger is never behind the gateway's own clock, however late a burst was processed.
   */
  restamp(tenant: string, hold: string, at: number): void {
    const id = holdId(tenant, hold);
    const refs = this.#entriesOf.get(id);
    if (!refs) return;
    this.#entriesOf.delete(id);
    for (const { list, entry, ruleId } of refs) {
      if (entry.at >= at) continue;
      entry.at = at;
      if (this.#remembered.has(ruleId)) this.#changed = true;
      sortByTime(list);
    }
  }

  /**
   * Something came back from the gateway at `now`: it was reading, so what was sent before
   * counts from now on like any sent unit. Returns whether an entry changed (room may follow).
   */
  heard(now: number): boolean {
    if (this.#unheard.length === 0) return false;
    // Called for every inbound message: no allocation here. Lists are few (one per key of a
    // rule with holdUnheardMs) and almost sorted, so sorting each mention is cheap.
    for (const { entry } of this.#unheard) {
      entry.unheard = false;
      if (entry.at < now) entry.at = now;
    }
    let previous: Entry[] | undefined;
    for (const { list } of this.#unheard) {
      if (list !== previous) sortByTime(list);
      previous = list;
    }
    this.#unheard.length = 0;
    return true;
  }

  /** True once since the last call when a remembered rule's window changed. */
  takeChanged(): boolean {
    const was = this.#changed;
    this.#changed = false;
    return was;
  }

  /** The live entries of the remembered rules at `now`: [ruleId, [key, [at, amount]…]…]. */
  rememberedWindows(now: number): WindowMemory {
    const out: WindowMemory = {};
    for (const rule of this.#active()) {
      if (rule.type !== "window" || !this.#remembered.has(rule.id)) continue;
      const horizon = now - rule.windowMs - this.#mode.guardMs(rule.windowMs);
      const keys: [string, [number, number][]][] = [];
      for (const [key, list] of this.#windows.get(rule.id) ?? []) {
        const live = list.filter((e) => e.at > horizon).map((e): [number, number] => [e.at, e.amount]);
        if (live.length > 0) keys.push([key, live]);
      }
      if (keys.length > 0) out[rule.id] = keys;
    }
    return out;
  }

  /** Put remembered entries back (a restart): rules not in this table are ignored. */
  restoreWindows(memory: WindowMemory, now: number): void {
    for (const rule of this.#active()) {
      if (rule.type !== "window" || !this.#remembered.has(rule.id)) continue;
      const horizon = now - rule.windowMs - this.#mode.guardMs(rule.windowMs);
      let byKey = this.#windows.get(rule.id);
      if (!byKey) this.#windows.set(rule.id, (byKey = new Map()));
      for (const [key, entries] of memory[rule.id] ?? []) {
        const have = byKey.get(key) ?? [];
        // Restored twice (a daemon active again after a standby spell): an entry counts once.
        const known = new Set(have.map((e) => `${e.at}:${e.amount}`));
        const live = entries
          .filter(([at, amount]) => at > horizon && !known.has(`${at}:${amount}`))
          .map(([at, amount]) => ({ at, amount }));
        if (live.length === 0) continue;
        const list = [...have, ...live].sort((a, b) => a.at - b.at);
        byKey.set(key, list);
      }
    }
  }

  /** Free a hold (request ended, failed or was cancelled). Returns whether one was held. */
  release(tenant: string, hold: string): boolean {
    return this.#holds.delete(holdId(tenant, hold));
  }

  /**
   * A held slot changes hands (a shared request outlives the tenant it waited under): the
   * slot stays taken, now released and restamped under `to`. Returns whether it was held.
   */
  transfer(from: string, hold: string, to: string): boolean {
    const id = holdId(from, hold);
    const req = this.#holds.get(id);
    if (!req) return false;
    this.#holds.delete(id);
    this.#holds.set(holdId(to, hold), { ...req, tenant: to });
    const refs = this.#entriesOf.get(id);
    if (refs) {
      this.#entriesOf.delete(id);
      this.#entriesOf.set(holdId(to, hold), refs);
    }
    return true;
  }

  /** Free every hold of a tenant (it went away; the switch cancels upstream). */
  releaseTenant(tenant: string): number {
    let n = 0;
    for (const [id, req] of this.#holds) {
      if (req.tenant === tenant) {
        this.#holds.delete(id);
        n++;
      }
    }
    return n;
  }

  isHeld(tenant: string, hold: string): boolean {
    return this.#holds.has(holdId(tenant, hold));
  }

  get openHolds(): number {
    return this.#holds.size;
  }

  /** Window use and open slots per rule at `now` (drops expired entries as it goes). */
  usage(now: number): RuleUse[] {
    return this.#active().map((rule) => {
      if (rule.type === "capacity") {
        return {
          ruleId: rule.id,
          type: "capacity",
          limit: rule.limit,
          target: rule.limit,
          windowMs: undefined,
          used: this.#openFor(rule),
          keys: 0,
        };
      }
      const byKey = this.#windows.get(rule.id);
      let used = 0;
      let keys = 0;
      for (const [key, list] of byKey ?? []) {
        prune(list, now - rule.windowMs - this.#mode.guardMs(rule.windowMs), now - unheardMs(rule));
        if (list.length === 0) {
          byKey?.delete(key);
          continue;
        }
        keys++;
        used = Math.max(used, sumSince(list, now - rule.windowMs));
      }
      return {
        ruleId: rule.id,
        type: "window",
        limit: rule.limit,
        target: rule.target,
        windowMs: rule.windowMs,
        used,
        keys,
      };
    });
  }

  #limitOf(rule: WindowRule | CapacityRule): number {
    return rule.type === "window" && this.#mode.useTarget ? rule.target : rule.limit;
  }

  #windowRoomAt(rule: WindowRule, req: PacingRequest, now: number): number {
    const windowMs = rule.windowMs + this.#mode.guardMs(rule.windowMs);
    const list = this.#windows.get(rule.id)?.get(keyOf(rule, req));
    const amount = amountOf(rule, req);
    const limit = this.#limitOf(rule);
    if (amount > limit) return now; // can never fit: let it go alone rather than wait forever
    if (!list) return now;
    // An entry at t counts while now < t + window (an unheard one longer); drop the oldest
    // until the request fits.
    const holdMs = Math.max(windowMs, unheardMs(rule));
    prune(list, now - windowMs, now - holdMs);
    let total = 0;
    for (const e of list) total += e.amount;
    let at = now;
    for (const e of list) {
      if (total + amount <= limit) break;
      total -= e.amount;
      at = Math.max(at, e.at + (e.unheard ? holdMs : windowMs));
    }
    if (this.#mode.useTarget && rule.spreadMs !== undefined && rule.spreadMs < rule.windowMs)
      at = Math.max(
        at,
        spreadRoomAt(list, amount, Math.ceil((limit * rule.spreadMs) / rule.windowMs), rule.spreadMs, now),
      );
    return at;
  }

  #capacityRoom(rule: CapacityRule, req: PacingRequest): boolean {
    // Re-sending a request that already holds its slot does not take a second one.
    if (req.hold !== undefined && this.#holds.has(holdId(req.tenant, req.hold))) return true;
    return this.#openFor(rule) + 1 <= rule.limit;
  }

  #openFor(rule: CapacityRule): number {
    let n = 0;
    for (const r of this.#holds.values()) if (ruleApplies(rule, r.kind)) n++;
    return n;
  }

  #evictKey(rule: WindowRule, byKey: Map<string, Entry[]>, now: number): void {
    const horizon = now - rule.windowMs - this.#mode.guardMs(rule.windowMs);
    for (const [key, list] of byKey) {
      prune(list, horizon, now - unheardMs(rule));
      if (list.length === 0) byKey.delete(key);
    }
    // Still full of live keys: forget the oldest one (insertion order) rather than grow.
    if (byKey.size >= this.#maxKeys) {
      const first = byKey.keys().next();
      if (!first.done) byKey.delete(first.value);
    }
  }
}

/**
 * Sort entries by time, stable, in place: an insertion sort, linear on the almost-sorted
 * lists a restamp or a heard() leaves, and without the allocation of Array#sort.
 */
function sortByTime(list: Entry[]): void {
  for (let i = 1; i < list.length; i++) {
    const e = list[i] as Entry;
    let j = i - 1;
    if ((list[j] as Entry).at <= e.at) continue;
    while (j >= 0 && (list[j] as Entry).at > e.at) {
      list[j + 1] = list[j] as Entry;
      j--;
    }
    list[j + 1] = e;
  }
}

/** Units of a window rule one item uses: its frames for the message rate, its cost where weighted. */
function amountOf(rule: WindowRule, req: PacingRequest): number {
  if (rule.appliesTo === "*") return Math.max(1, req.messages);
  return rule.weighted ? req.cost : 1;
}

function holdId(tenant: string, hold: string): string {
  return `${tenant}\u0000${hold}`;
}

function keyOf(rule: WindowRule, req: PacingRequest): string {
  if (rule.keyBy.length === 0) return "";
  return rule.keyBy.map((f) => req.key[f] ?? "").join("\u0000");
}

/** Earliest time ≥ now at which `amount` more fits `subLimit` units per `spreadMs`. */
function spreadRoomAt(
  list: readonly Entry[],
  amount: number,
  subLimit: number,
  spreadMs: number,
  now: number,
): number {
  if (amount > subLimit) {
    // A large item goes alone: wait until the spread window is empty.
    const last = list[list.length - 1];
    return last && last.at + spreadMs > now ? last.at + spreadMs : now;
  }
  let total = 0;
  let first = list.length;
  while (first > 0 && (list[first - 1] as Entry).at + spreadMs > now) {
    first--;
    total += (list[first] as Entry).amount;
  }
  let at = now;
  for (let i = first; i < list.length && total + amount > subLimit; i++) {
    const e = list[i] as Entry;
    total -= e.amount;
    at = Math.max(at, e.at + spreadMs);
  }
  return at;
}

/** How long an unheard entry of this rule may count at most (0: the rule has no such hold). */
function unheardMs(rule: WindowRule): number {
  return rule.holdUnheardMs ?? 0;
}

/**
 * Drop entries at or before `horizon` (they no longer count); an unheard one only at or
 * before `unheardHorizon` (never earlier than the horizon).
 */
function prune(list: Entry[], horizon: number, unheardHorizon = horizon): void {
  const last = Math.min(horizon, unheardHorizon);
  let i = 0;
  while (i < list.length) {
    const e = list[i] as Entry;
    if (e.at > horizon || (e.unheard && e.at > last)) break;
    i++;
  }
  if (i > 0) list.splice(0, i);
}

function sumSince(list: readonly Entry[], horizon: number): number {
  let s = 0;
  for (const e of list) if (e.at > horizon) s += e.amount;
  return s;
}

export interface ScheduledRequest {
  readonly at: number;
  readonly request: PacingRequest;
}

/**
 * Replay a released schedule against the hard limits and list every violation: the
 * property tests run the pacer's output through this. `releases` frees holds at given times.
 */
export function findViolations(
  rules: PacingRules,
  schedule: readonly ScheduledRequest[],
  releases: readonly { at: number; tenant: string; hold: string }[] = [],
): (Violation & { index: number; at: number })[] {
  const ledger = new PacingLedger(rules);
  const out: (Violation & { index: number; at: number })[] = [];
  const frees = [...releases].sort((a, b) => a.at - b.at);
  let f = 0;
  schedule.forEach((s, index) => {
    while (f < frees.length && (frees[f] as (typeof frees)[number]).at <= s.at) {
      const r = frees[f++] as (typeof frees)[number];
      ledger.release(r.tenant, r.hold);
    }
    const v = ledger.check(s.request, s.at);
    if (v) out.push({ ...v, index, at: s.at });
    ledger.record(s.request, s.at);
  });
  return out;
}
