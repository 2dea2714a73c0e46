/**
 * The switch's shared state and the few helpers both directions use. Not exported from the
 * package: outbound.ts (tenant → line), inbound.ts (line → tenant) and replay.ts work on it.
 */
import { UpstreamUnavailableError } from "../errors.js";
import type { EventHub } from "../events.js";
import type { Logger } from "../logger.js";
import { classifyOutgoing, type Priority } from "../pacing/request.js";
import type { Pacer } from "../pacing/scheduler.js";
import { toFields } from "../protocol/codec.js";
import { ERR_MSG } from "../protocol/messages/connection.js";
import { DEFAULT_SERVER_VERSION } from "../protocol/versions.js";
import { BroadcastHub } from "./broadcasts.js";
import { IdSpace } from "./id-space.js";
import type { ResolvedSwitchOptions } from "./options.js";
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
  readonly orders = new OrderMap();
  readonly lane: OrderLane;
  readonly reconciler: OrderReconciler;
  readonly broadcasts = new BroadcastHub();
  readonly tenants = new Map<string, Tenant>();
  /** Order owner → the open tenant that speaks for it now. */
  readonly owners = new Map<string, string>();
  readonly waiters = new Map<WaiterKey, Set<string>>();
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
    if (!audit) return;
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
      set = new Set();
      this.waiters.set(key, set);
    }
    set.add(tenantId);
  }

  /** Tenants waiting on `key`; `clear` ends their wait. */
  waitersOf(key: WaiterKey, clear: boolean): Tenant[] {
    const set = this.waiters.get(key);
    if (!set) return [];
    if (clear) {
      this.waiters.delete(key);
      this.askedAt.delete(key);
    }
    return [...set].map((id) => this.tenants.get(id)).filter((t): t is Tenant => t !== undefined);
  }

  /**
   * Send upstream through the pacer. `entry` (a live request) is written only if it is
   * still current when the pacer releases it: a replay may have moved it to a fresh id.
   */
  dispatch(
    tenantId: string,
    fields: readonly string[],
    options: { entry?: LiveRequest; priority?: Priority; onFail?: (err: unknown) => void } = {},
  ): void {
    const req = classifyOutgoing(fields, {
      version: this.version,
      tenant: tenantId,
      priority: options.priority,
    });
    const { entry } = options;
    if (entry) entry.pending = true;
    this.pacer
      .acquire(req, {
        deadlineMs: this.o.queueTimeoutMs,
        onRelease: (permit) => {
          const current = entry ? this.requests.byUpstream(entry.upstreamId) : undefined;
          if (current) current.pending = false;
          if (permit.elided) return;
          if (!this.lineUp) {
            // Requests in the table are replayed or failed by replay.ts; anything else the
            // caller must hear about (an order that waited in the pacer across a drop gets
            // 201 rather than silence: it was never written).
            if (!entry)
              options.onFail?.(new UpstreamUnavailableError("the upstream line dropped before it was sent"));
            return;
          }
          if (entry) {
            // Moved to a fresh id by a replay, or already written: this permit is stale.
            if (current === undefined || current.generation !== undefined) return;
            current.generation = this.line.generation;
          }
          this.line.send(fields);
        },
      })
      .catch((err: unknown) => {
        // Cancelled or moved to a fresh id meanwhile: nobody waits for this one any more.
        if (entry && this.requests.byUpstream(entry.upstreamId) === undefined) return;
        if (entry) this.requests.remove(entry.upstreamId);
        options.onFail?.(err);
      });
  }
}
