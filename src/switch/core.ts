/**
 * The switch's shared state and the few helpers both directions use. Not exported from the
 * package: outbound.ts (tenant → line), inbound.ts (line → tenant) and replay.ts work on it.
 *
 * Invariants the switch keeps (docs/switch.md; checked after every step of the property
 * tests in switch.property.test.ts and switch.outcome.property.test.ts):
 *  1. Every outcome: a request a tenant hands the switch is written upstream, answered by
 *     TWS, or answered with an error under the tenant's own id — on replay, on line loss
 *     and on tenant close too. `dispatch` is the only writer and every call has a failure
 *     path (`failRequest` for live requests, `onFail` for the rest).
 *  2. Holds: a pacer hold is taken only when its request is written, and released exactly
 *     once (answer, end, cancel, rekey for a replay, failure, tenant close) — `holds.ts`.
 *     After every replay, held market-data lines == live upstream market-data requests.
 *  3. Ids: an upstream id is never reused; a replay moves a request to a fresh id under the
 *     same tenant id, and answers for retired ids are counted and dropped.
 *  4. Order of restoration: after 1101 or a reconnect the book is replayed (high priority,
 *     taking lines before the old holds are given back) before requests held during the
 *     outage are released, so replays take market-data lines first.
 *  5. Settings: a tenant's REQ_MARKET_DATA_TYPE is written in the same pacer item as its
 *     market-data request, decided at write time, so no reordering can separate them.
 *  6. Bounded: held requests, live requests, singleton waits and stranded requests each have
 *     a count or time limit, after which the tenant gets an error (504 / 322 / the rule's).
 *  7. Fan-out (groups.ts): identical subscriptions share one upstream request owned by the
 *     switch. Held market-data lines == live upstream market-data requests == market-data
 *     groups, whatever tenants join, leave, close, and whatever the line does. A group's
 *     hold and request are given back only after its cancel is queued (urgent, unbounded by
 *     the tenant queue), so no line is freed while TWS still streams it; every answer,
 *     error or failure of a group's request reaches every member under its own id. Once
 *     written, a group's hold is the switch's (moved from the tenant it waited under), so a
 *     member closing never frees it; while it waits, each member waits by its own deadline
 *     and a member past it hears its timeout alone (`groupWait`).
 */
import { ClosedError, UpstreamUnavailableError } from "../errors.js";
import { PacingTimeoutError } from "../pacing/errors.js";
import { findRule } from "../pacing/rules.js";
import { OUT } from "../protocol/message-ids.js";
import { outRoute } from "../protocol/routing.js";
import { type HoldEnd, HoldBook } from "./holds.js";
import type { EventHub } from "../events.js";
import type { Logger } from "../logger.js";
import { classifyOutgoing, type Priority } from "../pacing/request.js";
import type { Pacer, Permit, QueuedWait } from "../pacing/scheduler.js";
import { toFields } from "../protocol/codec.js";
import { ERR_MSG } from "../protocol/messages/connection.js";
import { DEFAULT_SERVER_VERSION } from "../protocol/versions.js";
import { BroadcastHub } from "./broadcasts.js";
import { AnswerCache, type Group, type Member, SubscriptionGroups } from "./groups.js";
import { IdSpace } from "./id-space.js";
import type { ResolvedSwitchOptions } from "./options.js";
import { OpenOrderQuestions } from "./open-orders.js";
import type { RefusedMessage } from "./order-answers.js";
import type { AuditOutcome, AuditRecord } from "./order-journal.js";
import { OrderLane } from "./order-lane.js";
import { OrderMap } from "./order-map.js";
import { OrderReconciler } from "./order-reconcile.js";
import { type LiveRequest, RequestTable } from "./request-table.js";
import type { SwitchEvent } from "./switch-events.js";
import type { Tenant } from "./tenant.js";
import { isUp, type UpstreamPort } from "./upstream.js";

/** A request held while the line is down. */
export interface HeldRequest {
  readonly tenant: Tenant;
  readonly fields: readonly string[];
  readonly at: number;
  /** The tenant's market-data type when it asked (its request keeps it). */
  readonly marketDataType: number;
}

/** Answers to requests without ids go to every tenant waiting for them (keyed by answer). */
export type WaiterKey = number | string;

export interface SwitchCounters {
  requests: Map<string, number>;
  droppedRetired: number;
  droppedUnroutable: number;
  ordersPlaced: number;
  ordersRefused: number;
}

const MAX_FIRE_IDS = 10_000;
const NOT_CONNECTED = 504;
const PROCESSING_ERROR = 322;
/** The switch's own pacer tenant: replays, reconciliation and cancels of departed tenants. */
export const SWITCH_TENANT = "switchboard";

export class SwitchCore {
  readonly o: ResolvedSwitchOptions;
  readonly log: Logger;
  readonly line: UpstreamPort;
  readonly pacer: Pacer;
  readonly events: EventHub<SwitchEvent>;
  readonly ids = new IdSpace();
  readonly requests = new RequestTable();
  readonly groups = new SubscriptionGroups();
  /** Finished one-shot answers (history, contract details) kept for identical requests. */
  readonly answers = new AnswerCache();
  readonly holds: HoldBook;
  readonly orders = new OrderMap();
  readonly lane: OrderLane;
  readonly reconciler: OrderReconciler;
  readonly broadcasts = new BroadcastHub();
  readonly tenants = new Map<string, Tenant>();
  /** Tenants whose pacing wait is not the switch's queueTimeoutMs (OpenTenantOptions). */
  readonly pacingDeadlines = new Map<string, number>();
  /** Order owner → the open tenant that speaks for it now. */
  readonly owners = new Map<string, string>();
  /** Singleton answer → tenant id → since when it waits (bounded by queueTimeoutMs). */
  readonly waiters = new Map<WaiterKey, Map<string, number>>();
  readonly openOrders = new OpenOrderQuestions();
  /** When each singleton was last asked upstream. */
  readonly askedAt = new Map<WaiterKey, number>();
  readonly held = new Map<string, HeldRequest[]>();
  readonly counters: SwitchCounters = {
    requests: new Map(),
    droppedRetired: 0,
    droppedUnroutable: 0,
    ordersPlaced: 0,
    ordersRefused: 0,
  };
  /**
   * Requests TWS answers only with an error (EXERCISE_OPTIONS, UPDATE_DISPLAY_GROUP…): kept
   * just long enough to route such an error back, bounded, never replayed.
   */
  readonly fireIds = new Map<number, { tenantId: string; localId: number }>();

  rememberFire(upstreamId: number, tenantId: string, localId: number): void {
    this.fireIds.set(upstreamId, { tenantId, localId });
    if (this.fireIds.size > MAX_FIRE_IDS) {
      const oldest = this.fireIds.keys().next().value;
      if (oldest !== undefined) this.fireIds.delete(oldest);
    }
  }

  /** The market data type the upstream connection has now (TWS default 1, per socket). */
  upstreamMarketDataType = 1;
  upstreamTypeGeneration = -1;
  replayedGeneration = -1;
  /** The subscribe message each broadcast kind was opened with, to send again after a drop. */
  readonly broadcastRequests = new Map<string, readonly string[]>();

  constructor(line: UpstreamPort, pacer: Pacer, o: ResolvedSwitchOptions, events: EventHub<SwitchEvent>) {
    this.line = line;
    this.pacer = pacer;
    this.holds = new HoldBook(pacer);
    this.o = o;
    this.log = o.logger;
    this.events = events;
    this.lane = new OrderLane(this);
    this.reconciler = new OrderReconciler(this);
  }

  /** One audit line per order message and outcome; never filtered by log level. */
  audit(
    m: Omit<RefusedMessage, "sender">,
    outcome: AuditOutcome,
    status?: string,
    kind: AuditRecord["kind"] = m.action,
  ): void {
    const audit = this.o.audit;
    if (!audit) {
      // No state dir, no audit file: a refusal still leaves a trace.
      if (outcome.startsWith("refused"))
        this.log.warn({ owner: m.owner, localId: m.localId, kind, outcome }, "order message refused");
      return;
    }
    audit.append({
      ts: new Date(this.o.clock.now()).toISOString(),
      owner: m.owner,
      localId: m.localId,
      upstreamId: m.entry?.upstreamId ?? null,
      upstreamClientId: m.upstreamClientId,
      generation: m.generation,
      kind,
      outcome,
      ...(status === undefined ? {} : { status }),
    });
  }

  get version(): number {
    return this.line.serverVersion ?? DEFAULT_SERVER_VERSION;
  }

  get lineUp(): boolean {
    return isUp(this.line.state);
  }

  count(kind: string, outcome: string): void {
    const key = `${kind}|${outcome}`;
    this.counters.requests.set(key, (this.counters.requests.get(key) ?? 0) + 1);
  }

  /** Answer a tenant with an ERR_MSG under its own id, as TWS would. */
  errorTo(tenant: Tenant, id: number, code: number, message: string): void {
    tenant.deliver(toFields(ERR_MSG, { id, code, message, advancedOrderRejectJson: "" }, this.version));
  }

  tenantOfOwner(owner: string): Tenant | undefined {
    const id = this.owners.get(owner);
    return id === undefined ? undefined : this.tenants.get(id);
  }

  /** Every open socket of an owner, newest first. */
  tenantsOfOwner(owner: string): Tenant[] {
    const out: Tenant[] = [];
    for (const t of this.tenants.values()) if (t.orderOwner === owner) out.unshift(t);
    return out;
  }

  addWaiter(key: WaiterKey, tenantId: string): void {
    let set = this.waiters.get(key);
    if (!set) {
      set = new Map();
      this.waiters.set(key, set);
    }
    if (!set.has(tenantId)) set.set(tenantId, this.o.clock.now());
  }

  /** Tenants waiting on `key`; `clear` ends their wait. */
  waitersOf(key: WaiterKey, clear: boolean): Tenant[] {
    const set = this.waiters.get(key);
    if (!set) return [];
    if (clear) {
      this.waiters.delete(key);
      this.askedAt.delete(key);
    }
    return [...set.keys()].map((id) => this.tenants.get(id)).filter((t): t is Tenant => t !== undefined);
  }

  /**
   * The one way a live request ends: out of the table, its hold released (once), counted.
   * Returns the request, or undefined when it had already ended.
   */
  endRequest(upstreamId: number, why: HoldEnd, outcome?: string): LiveRequest | undefined {
    const r = this.requests.remove(upstreamId);
    if (!r) return undefined;
    if (r.group) this.groups.remove(r.group);
    this.holds.release(upstreamId, why);
    if (outcome) this.count(r.route.name, outcome);
    return r;
  }

  /**
   * A live request that will not be written: it ends and its tenant hears why, under its own
   * id. `err` decides the code: a pacing rule's own IB code (101 for market-data lines), 504
   * when the line is not there, else 322.
   */
  failRequest(upstreamId: number, err: unknown, outcome = "failed"): void {
    const live = this.requests.byUpstream(upstreamId);
    if (!live) return;
    const to = this.recipients(live);
    this.endRequest(upstreamId, "failed", outcome);
    const { code, message } = this.errorFor(err);
    for (const { tenant, localId } of to) this.errorTo(tenant, localId, code, message);
  }

  /** Who hears about a live request: its tenant, or every member of its group, by own id. */
  recipients(live: LiveRequest): { tenant: Tenant; localId: number }[] {
    if (!live.group) {
      const tenant = this.tenants.get(live.tenantId);
      return tenant ? [{ tenant, localId: live.localId }] : [];
    }
    const out: { tenant: Tenant; localId: number }[] = [];
    for (const m of live.group.members.values()) {
      const tenant = this.tenants.get(m.tenantId);
      if (tenant) out.push({ tenant, localId: m.localId });
    }
    return out;
  }

  /**
   * The upstream cancel of a live request, or undefined when it has no cancel message. Ids are
   * upstream ids; CANCEL_MKT_DEPTH carries isSmartDepth.
   */
  cancelFieldsOf(live: LiveRequest): string[] | undefined {
    const cancelId = live.route.cancelledBy;
    if (cancelId === undefined) return undefined;
    const cancelRoute = outRoute(cancelId);
    const fields =
      cancelRoute?.idIndex === 1
        ? [String(cancelId), String(live.upstreamId)]
        : [String(cancelId), "1", String(live.upstreamId)];
    if (cancelId === OUT.CANCEL_MKT_DEPTH) fields.push("0");
    return fields;
  }

  /**
   * The last member left a group: its cancel is queued (if TWS has seen the request, or it
   * still waits in the pacer, where the cancel withdraws it), then the request ends and its
   * hold goes back. In that order, so the freed line cannot go out before the cancel.
   */
  endGroup(live: LiveRequest, deadlineMs?: number): void {
    const g = live.group;
    if (!g) return;
    const fields = this.cancelFieldsOf(live);
    const seen = this.lineUp && live.generation === this.line.generation;
    if (fields && (live.pending || seen))
      this.dispatch(live.pending ? g.pacerTenant : SWITCH_TENANT, fields, {
        priority: "urgent",
        queueLimit: Number.MAX_SAFE_INTEGER,
        deadlineMs,
        onFail: (err) => {
          this.count(g.route.name, "cancel_lost");
          this.log.warn({ err, message: g.route.name }, "a group's cancel could not be written upstream");
        },
      });
    this.count(g.route.name, "group_ended");
    this.endRequest(live.upstreamId, "cancelled");
  }

  /** A tenant's own pacing deadline (OpenTenantOptions.pacingDeadlineMs, else queueTimeoutMs). */
  pacingDeadlineOf(tenantId: string): number {
    return this.pacingDeadlines.get(tenantId) ?? this.o.queueTimeoutMs;
  }

  /** When a member of `g` stops waiting for the group's request to leave the pacer. */
  #waitEnd(g: Group, m: Member): number {
    return m.waitUntil ?? g.waitFloor ?? g.createdAt + this.o.queueTimeoutMs;
  }

  /** The earliest time a member of `g` stops waiting (the group's pacer deadline). */
  #nextWaitEnd(g: Group, now: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const m of g.members.values()) next = Math.min(next, this.#waitEnd(g, m));
    return Number.isFinite(next) ? next : now;
  }

  /**
   * The pacer wait of a group's request: each member waits by its own deadline. The pacer's
   * deadline is the earliest member's; when it passes, the members past theirs hear the
   * pacer's timeout alone and leave the group, and the request keeps its place for the rest.
   * Only when every member's time is up does it fail (to all of them, `failRequest`).
   */
  groupWait(g: Group): Pick<DispatchOptions, "deadlineMs" | "onDeadline" | "onQueued"> {
    return {
      deadlineMs: Math.max(1, this.#nextWaitEnd(g, this.o.clock.now()) - this.o.clock.now()),
      onQueued: (wait) => {
        g.wait = wait;
      },
      onDeadline: (err) => {
        const now = this.o.clock.now();
        const late: Member[] = [];
        let next = Number.POSITIVE_INFINITY;
        for (const m of g.members.values()) {
          const end = this.#waitEnd(g, m);
          if (end <= now) late.push(m);
          else next = Math.min(next, end);
        }
        if (!Number.isFinite(next)) return undefined;
        const { code, message } = this.errorFor(err);
        for (const m of late) {
          this.groups.leave(m.tenantId, g.route, m.localId);
          this.count(g.route.name, "timeout");
          const t = this.tenants.get(m.tenantId);
          if (t) this.errorTo(t, m.localId, code, message);
        }
        return next - now;
      },
    };
  }

  /** A member joined `g` while its request waits: the pacer deadline follows the earliest. */
  groupWaitChanged(g: Group): void {
    const now = this.o.clock.now();
    g.wait?.setDeadline(Math.max(1, this.#nextWaitEnd(g, now) - now));
  }

  /** The IB error a tenant gets for a request the switch could not write. */
  errorFor(err: unknown): { code: number; message: string } {
    if (err instanceof PacingTimeoutError && err.ruleId !== undefined) {
      const rule = findRule(this.pacer.rules, err.ruleId);
      if (rule) return { code: rule.ibCode, message: `${rule.ibMessage} (${err.message})` };
    }
    if (err instanceof UpstreamUnavailableError)
      return { code: NOT_CONNECTED, message: `Not connected: ${err.message}` };
    const text = err instanceof Error ? err.message : String(err);
    return { code: PROCESSING_ERROR, message: `Error processing request: not sent (${text})` };
  }

  /**
   * The REQ_MARKET_DATA_TYPE to write just before a market-data request made under `type`:
   * the socket has one type at a time (a fresh socket starts at 1), so what to switch is
   * decided at write time, and the type itself is the one the tenant had when it asked.
   */
  typeSwitchFor(type: number): string[][] {
    if (this.upstreamTypeGeneration !== this.line.generation) {
      this.upstreamTypeGeneration = this.line.generation;
      this.upstreamMarketDataType = 1;
    }
    if (type === this.upstreamMarketDataType) return [];
    this.upstreamMarketDataType = type;
    return [[String(OUT.REQ_MARKET_DATA_TYPE), "1", String(type)]];
  }

  /** Whether a market-data item may need a type switch in front (the pacer counts 2 frames). */
  mayNeedTypeSwitch(type: number): boolean {
    if (type !== 1 || this.upstreamMarketDataType !== 1) return true;
    for (const t of this.tenants.values()) if (t.marketDataType !== 1) return true;
    return false;
  }

  /**
   * Send upstream through the pacer — the only way the switch writes. Each call has an
   * outcome: written, withdrawn (a cancel elided in the pacer), or failed, and a failure is
   * always answered: a live request (`entry`) fails through `failRequest`, anything else
   * through `onFail`. `entry` is written only if it is still current when the pacer lets it
   * go (a replay may have moved it to a fresh id); a hold the pacer gave to an item that is
   * not written goes back at once.
   */
  dispatch(tenantId: string, fields: readonly string[], options: DispatchOptions): void {
    const { entry, marketDataType } = options;
    const req = classifyOutgoing(fields, {
      version: this.version,
      tenant: tenantId,
      priority: options.priority,
    });
    const paced =
      marketDataType !== undefined && this.mayNeedTypeSwitch(marketDataType) ? { ...req, messages: 2 } : req;
    if (entry) entry.pending = true;
    const onRelease = (permit: Permit): void => {
      const hold = permit.elided ? undefined : permit.request.hold;
      const current = entry ? this.requests.byUpstream(entry.upstreamId) : undefined;
      if (current) current.pending = false;
      if (permit.elided) return;
      // Moved to a fresh id by a replay, ended meanwhile, or already written: stale.
      if (entry && (current === undefined || current.generation !== undefined)) {
        if (hold !== undefined) this.holds.refuse(tenantId, hold);
        return;
      }
      if (!this.lineUp) {
        if (hold !== undefined) this.holds.refuse(tenantId, hold);
        // A live request waits for the line (≤ queueTimeoutMs) and is replayed when it is
        // back; anything else hears now that it was never written.
        if (current) current.strandedAt = this.o.clock.now();
        else options.onFail?.(new UpstreamUnavailableError("the upstream line dropped before it was sent"));
        return;
      }
      if (marketDataType !== undefined) for (const f of this.typeSwitchFor(marketDataType)) this.line.send(f);
      this.line.send(fields);
      if (current) {
        current.generation = this.line.generation;
        if (hold !== undefined) {
          // A group's slot is the switch's once written, whoever it waited under: it
          // goes only with the group, never with a member that closes (pacer.releaseTenant).
          const owner =
            current.group &&
            tenantId !== SWITCH_TENANT &&
            this.pacer.transferHold(tenantId, hold, SWITCH_TENANT)
              ? SWITCH_TENANT
              : tenantId;
          this.holds.taken(current.upstreamId, owner, hold);
        }
      }
      options.onWrite?.();
    };
    const onError = (err: unknown): void => {
      if (entry) {
        // Cancelled meanwhile (withdrawn in the pacer) or moved: nobody waits for this one.
        const current = this.requests.byUpstream(entry.upstreamId);
        if (current === undefined || current.generation !== undefined) return;
        current.pending = false;
        // A shared one-shot waited under a tenant that left: it waits again under a member.
        const g = current.group;
        if (g && err instanceof ClosedError && g.pacerTenant !== tenantId && g.members.size > 0) {
          this.dispatch(g.pacerTenant, fields, { ...options, ...this.groupWait(g), entry: current });
          return;
        }
        this.failRequest(entry.upstreamId, err, options.failOutcome ?? "failed");
        return;
      }
      options.onFail?.(err);
    };
    // Most requests find room at once: released here, synchronously, as acquire() would.
    try {
      if (this.pacer.releaseNow(paced, onRelease)) return;
    } catch (err) {
      // As from acquire(): the failure is answered after the caller's own step, not inside it.
      queueMicrotask(() => onError(err));
      return;
    }
    this.pacer
      .acquire(paced, {
        deadlineMs: options.deadlineMs ?? this.pacingDeadlines.get(tenantId) ?? this.o.queueTimeoutMs,
        queueLimit: options.queueLimit,
        onDeadline: options.onDeadline,
        onQueued: options.onQueued,
        onRelease,
      })
      .catch(onError);
  }
}

export interface DispatchOptions {
  /** The live request this writes; its failure is answered through the table. */
  entry?: LiveRequest;
  priority?: Priority;
  /** Anything that is not a live request must say who hears of a failure. */
  onFail?: (err: unknown) => void;
  /** After the frame is on the wire (e.g. an open-orders question starts its answer). */
  onWrite?: () => void;
  /** A market-data request: the tenant's market data type is applied in the same item. */
  /** The market-data type the request was made under (its REQ_MARKET_DATA_TYPE goes first). */
  marketDataType?: number;
  deadlineMs?: number;
  queueLimit?: number;
  /** Counter outcome when the entry fails (e.g. "replay_failed"). */
  failOutcome?: string;
  /** AcquireOptions.onDeadline: a group's members each wait by their own deadline. */
  onDeadline?: (err: PacingTimeoutError) => number | undefined;
  onQueued?: (wait: QueuedWait) => void;
}
