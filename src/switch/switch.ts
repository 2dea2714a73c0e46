/**
 * The switch: many tenants, one line. Tenants never touch the socket; they hand messages to
 * the switch, which owns the upstream id spaces, the routing of answers, the subscription
 * book and the pacing of everything it writes.
 */
import { ClosedError, TimeoutError, UpstreamUnavailableError } from "../errors.js";
import { EventHub } from "../events.js";
import type { Pacer } from "../pacing/scheduler.js";
import { OUT } from "../protocol/message-ids.js";
import { outRoute } from "../protocol/routing.js";
import { type HeldRequest, SWITCH_TENANT, SwitchCore } from "./core.js";
import { handleInbound } from "./inbound.js";
import { resolveSwitchOptions, type SwitchOptions } from "./options.js";
import { handleOutbound, leaveGroup } from "./outbound.js";
import { failInFlight, replay } from "./replay.js";
import type { SwitchEvent } from "./switch-events.js";
import { Tenant, type TenantKind, type TenantPort, type TenantSnapshot } from "./tenant.js";
import { isUp, type UpstreamPort } from "./upstream.js";

export interface OpenTenantOptions {
  kind: TenantKind;
  name?: string;
  /** The client id the tenant believes it has (the proxy's downstream id). */
  clientId?: number;
  /**
   * How long this tenant's requests may wait for pacing room (default: the switch's
   * queueTimeoutMs). HTTP data calls set it past their own deadline, which then decides.
   */
  pacingDeadlineMs?: number;
  /**
   * The order identity of an in-process tenant (`acquire(purpose, { owner })`): stable across
   * runs, so its orders and order ids survive. Proxy tenants are owned by their virtual
   * client id; HTTP tenants never place orders.
   */
  owner?: string;
}

export interface SwitchSnapshot {
  line: string;
  tenants: TenantSnapshot[];
  liveRequests: number;
  orders: number;
  requests: { kind: string; outcome: string; count: number }[];
  droppedRetired: number;
  droppedUnroutable: number;
  ordersPlaced: number;
  ordersRefused: number;
  /** Shared upstream requests (fan-out). */
  groups: GroupSnapshot[];
  /** Upstream requests saved by sharing: members beyond the first of every group. */
  linesSaved: number;
  /** Requests answered from a kept answer (history, contract details). */
  cacheHits: number;
}

export interface GroupSnapshot {
  kind: "stream" | "oneshot";
  request: string;
  upstreamId: number;
  members: number;
  /** Messages per second fanned out (over the last full second). */
  ticksPerSecond: number;
  messages: number;
  createdAt: string;
}

const NOT_CONNECTED = 504;
/** Below the pacer's 45 msg/s aim: sizes the deadline of a departed tenant's cancels. */
const CANCELS_PER_SECOND = 40;
const SWEEP_MS = 1_000;

export class Switch implements AsyncDisposable {
  readonly events: EventHub<SwitchEvent>;
  readonly #core: SwitchCore;
  readonly #port: TenantPort;
  readonly #unsubscribe: (() => void)[] = [];
  #closed = false;
  #sweep: ReturnType<SwitchCore["o"]["clock"]["setTimeout"]> | undefined;

  constructor(line: UpstreamPort, pacer: Pacer, options: SwitchOptions = {}) {
    this.events = new EventHub<SwitchEvent>();
    this.#core = new SwitchCore(line, pacer, resolveSwitchOptions(options), this.events);
    this.#port = {
      send: (tenant, fields) => this.#send(tenant, fields),
      close: (tenant) => this.#closeTenant(tenant),
      snapshotOf: (tenant) => this.#snapshotOf(tenant),
    };
    this.#unsubscribe.push(
      line.onMessage((msgId, fields, _generation, payload) => {
        this.#core.pacer.heard();
        // The reconciliation's own executions question is answered to nobody else.
        if (this.#core.reconciler.observe(msgId, fields)) return;
        handleInbound(this.#core, msgId, fields, payload);
      }),
      line.on("line.state", (e) => this.#onLineState(e.from, e.to)),
      line.on("line.resubscribe", (e) => {
        if (e.cause === "1101") replay(this.#core, "1101");
        else if (this.#core.replayedGeneration !== e.generation) replay(this.#core, "reconnect");
      }),
    );
    const saved = this.#core.o.journal?.load();
    if (saved) {
      for (const o of saved.orders) this.#core.orders.add(o);
      for (const [owner, mark] of Object.entries(saved.highWater))
        this.#core.orders.raiseHighWater(owner, mark);
      this.#core.ids.seedOrders(this.#core.orders.maxUpstreamId() + 1);
    }
    if (isUp(line.state)) {
      this.#core.ids.seedOrders(line.nextValidId ?? 1);
      this.#core.replayedGeneration = line.generation;
      // Orders from the journal are settled with TWS before any order message is accepted.
      if (line.state === "ready") this.#core.reconciler.onReady();
    }
  }

  get line(): UpstreamPort {
    return this.#core.line;
  }

  get readOnly(): boolean {
    return this.#core.o.readOnly;
  }

  /** The next order id a tenant may use: its own NEXT_VALID_ID. */
  nextOrderId(tenant: Tenant): number {
    return this.#core.orders.nextLocalId(tenant.orderOwner);
  }

  openTenant(options: OpenTenantOptions): Tenant {
    if (this.#closed) throw new ClosedError("switch");
    const id = `${options.kind}-${this.#core.o.nextTenantNumber()}`;
    const clientId = options.clientId ?? 0;
    // The order owner is (line, virtual client id) for a proxy client, whatever socket it
    // comes on: the newest socket of an owner holds its order rights (set below), older ones
    // lose them for good. In-process tenants bring a stable owner name; without one their
    // owner lives as long as this switch and they may not place orders (order-intake.ts).
    const orderOwner =
      options.kind === "proxy"
        ? `proxy:${clientId}`
        : options.owner !== undefined
          ? `client:${options.owner}`
          : id;
    const tenant = new Tenant(this.#port, {
      id,
      kind: options.kind,
      name: options.name ?? id,
      clientId,
      orderOwner,
      stableOwner: options.kind === "proxy" || (options.kind === "client" && options.owner !== undefined),
      openedAt: this.#core.o.clock.now(),
    });
    this.#core.tenants.set(id, tenant);
    if (options.pacingDeadlineMs !== undefined) this.#core.pacingDeadlines.set(id, options.pacingDeadlineMs);
    this.#core.owners.set(orderOwner, id);
    const sharing = this.#core.tenantsOfOwner(orderOwner);
    if (options.kind === "proxy" && sharing.length > 1) {
      this.events.emit({
        type: "order.shared_owner",
        ts: this.#core.o.clock.now(),
        owner: orderOwner,
        tenants: sharing.map((t) => t.id),
      });
    }
    this.events.emit({
      type: "tenant.open",
      ts: this.#core.o.clock.now(),
      tenant: id,
      kind: tenant.kind,
      name: tenant.name,
      clientId: tenant.clientId,
    });
    return tenant;
  }

  /** Orders not known to be finished: they hold their upstream client id. */
  liveOrders(): {
    upstreamClientId: number;
    upstreamId: number;
    permId: number;
    owner: string;
    localId: number;
  }[] {
    return this.#core.orders.live().map((e) => ({
      upstreamClientId: e.upstreamClientId,
      upstreamId: e.upstreamId,
      permId: e.permId,
      owner: e.owner,
      localId: e.localId,
    }));
  }

  /**
   * Order messages accepted and not yet written or refused, whether a reconciliation runs, and
   * `held`: the entries of TWS's order lists it keeps (none once a run has ended).
   */
  orderLane(): { pending: number; reconciling: boolean; reconciliations: number; held: number } {
    const c = this.#core;
    return {
      pending: c.lane.pending,
      reconciling: c.reconciler.running,
      reconciliations: c.reconciler.runs,
      held: c.reconciler.held,
    };
  }

  tenants(): Tenant[] {
    return [...this.#core.tenants.values()];
  }

  snapshot(): SwitchSnapshot {
    const c = this.#core;
    return {
      line: c.line.name,
      tenants: this.tenants().map((t) => this.#snapshotOf(t)),
      liveRequests: c.requests.size,
      orders: c.orders.size,
      requests: [...c.counters.requests.entries()].map(([k, count]) => {
        const [kind = "", outcome = ""] = k.split("|");
        return { kind, outcome, count };
      }),
      droppedRetired: c.counters.droppedRetired,
      droppedUnroutable: c.counters.droppedUnroutable,
      ordersPlaced: c.counters.ordersPlaced,
      ordersRefused: c.counters.ordersRefused,
      groups: c.groups.all().map((g) => ({
        kind: g.kind,
        request: g.route.name,
        upstreamId: g.upstreamId,
        members: g.members.size,
        ticksPerSecond: Math.round(g.rate * 10) / 10,
        messages: g.messages,
        createdAt: new Date(g.createdAt).toISOString(),
      })),
      linesSaved: c.groups.saved,
      cacheHits: c.answers.hits,
    };
  }

  /** Closes every tenant (cancelling what they left open upstream); the line stays. */
  async close(): Promise<void> {
    if (this.#closed) return;
    for (const t of this.tenants()) this.#closeTenant(t);
    this.#closed = true;
    this.#core.lane.close();
    this.#core.o.clock.clearTimeout(this.#sweep);
    for (const off of this.#unsubscribe) off();
  }

  destroy(): void {
    void this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────

  #send(tenant: Tenant, fields: readonly string[]): void {
    if (tenant.state !== "open" || this.#closed) return;
    handleOutbound(this.#core, tenant, fields);
    if (this.#needsSweep()) this.#armSweep();
  }

  /** Something waits with a deadline: held or stranded requests, singleton questions. */
  #needsSweep(): boolean {
    const c = this.#core;
    return c.held.size > 0 || c.waiters.size > 0 || c.openOrders.waiting > 0 || !c.lineUp;
  }

  #onLineState(from: string, to: string): void {
    const c = this.#core;
    const wasUp = from === "ready" || from === "degraded";
    if (wasUp && !isUp(to as never)) {
      failInFlight(c);
      if (!this.#closed) this.#armSweep();
      c.reconciler.onConnectionLost();
    }
    if (to === "ready" && from === "handshaking") {
      // A new socket may be a restarted gateway: kept contract details and history answers
      // are not carried over to it.
      c.answers.clear();
      c.ids.seedOrders(c.line.nextValidId ?? 1);
      c.reconciler.onReady();
      if (c.replayedGeneration !== c.line.generation) replay(c, "reconnect");
      this.#drainHeld();
    }
  }

  #drainHeld(): void {
    const held = [...this.#core.held.values()].flat();
    this.#core.held.clear();
    held.sort((a, b) => a.at - b.at);
    for (const h of held)
      if (h.tenant.state === "open") handleOutbound(this.#core, h.tenant, h.fields, h.marketDataType);
  }

  #armSweep(): void {
    if (this.#sweep) return;
    this.#sweep = this.#core.o.clock.setTimeout(() => {
      this.#sweep = undefined;
      this.#expireHeld();
      this.#expireWaits();
      if (this.#needsSweep() && !this.#closed) this.#armSweep();
    }, SWEEP_MS);
  }

  #expireHeld(): void {
    const c = this.#core;
    const cutoff = c.o.clock.now() - c.o.queueTimeoutMs;
    for (const [tenantId, list] of c.held) {
      const keep: HeldRequest[] = [];
      for (const h of list) {
        if (h.at > cutoff) {
          keep.push(h);
          continue;
        }
        const route = outRoute(Number(h.fields[0]));
        const idIndex = route?.idIndex;
        const localId =
          idIndex === undefined
            ? -1
            : Number(h.fields[typeof idIndex === "number" ? idIndex : idIndex(c.version)]);
        c.count(route?.name ?? "unknown", "timeout");
        c.errorTo(
          h.tenant,
          Number.isFinite(localId) ? localId : -1,
          NOT_CONNECTED,
          "Not connected: the upstream line did not come back in time",
        );
      }
      if (keep.length > 0) c.held.set(tenantId, keep);
      else c.held.delete(tenantId);
    }
  }

  /**
   * Requests the pacer let go while the line was down wait for the replay as held ones do;
   * singleton questions wait at most as long. Then each tenant hears why, under its own id.
   */
  #expireWaits(): void {
    const c = this.#core;
    const cutoff = c.o.clock.now() - c.o.queueTimeoutMs;
    for (const r of c.requests.all()) {
      if (r.strandedAt !== undefined && r.strandedAt <= cutoff)
        c.failRequest(
          r.upstreamId,
          new UpstreamUnavailableError("the upstream line did not come back in time"),
          "timeout",
        );
    }
    const err = c.lineUp
      ? new TimeoutError("the answer from TWS", c.o.queueTimeoutMs)
      : new UpstreamUnavailableError("the upstream line did not come back in time");
    const { code, message } = c.errorFor(err);
    for (const [key, set] of c.waiters) {
      for (const [tenantId, since] of set) {
        if (since > cutoff) continue;
        set.delete(tenantId);
        const t = c.tenants.get(tenantId);
        c.count("singleton", "timeout");
        if (t) c.errorTo(t, -1, code, message);
      }
      if (set.size === 0) {
        c.waiters.delete(key);
        c.askedAt.delete(key);
      }
    }
    for (const tenantId of c.openOrders.expire(cutoff)) {
      const t = c.tenants.get(tenantId);
      c.count("REQ_OPEN_ORDERS", "timeout");
      if (t) c.errorTo(t, -1, code, message);
    }
  }

  #closeTenant(tenant: Tenant): void {
    const c = this.#core;
    if (!c.tenants.has(tenant.id)) return;
    // Its groups first: the last member out cancels upstream (queued before the group's line
    // is given back); a shared one-shot waiting under this tenant moves to a member that stays.
    const memberships = c.groups.membershipsOf(tenant.id);
    const ending = c.o.queueTimeoutMs + Math.ceil((memberships.length * 1_000) / CANCELS_PER_SECOND);
    for (const { group, localId } of memberships) leaveGroup(c, tenant, group.route, localId, ending);
    for (const g of c.groups.all()) {
      if (g.pacerTenant !== tenant.id) continue;
      const next = g.members.values().next().value;
      if (next) g.pacerTenant = next.tenantId;
    }
    const cancels: string[][] = [];
    for (const r of c.requests.forTenant(tenant.id)) {
      // Its holds go with pacer.releaseTenant below (holds.forgetTenant keeps the book in step).
      c.requests.remove(r.upstreamId);
      // Only what reached TWS needs a cancel; what still waits in the pacer is dropped below.
      if (r.generation === undefined || !c.lineUp) continue;
      const fields = c.cancelFieldsOf(r);
      if (fields) cancels.push(fields);
    }
    for (const { kind } of c.broadcasts.removeTenant(tenant.id)) {
      if (c.lineUp) {
        if (kind === "positions") cancels.push([String(OUT.CANCEL_POSITIONS), "1"]);
        if (kind === "news") cancels.push([String(OUT.CANCEL_NEWS_BULLETINS), "1"]);
        if (kind === "account") {
          const acct = c.broadcastRequests.get("account")?.[3] ?? "";
          cancels.push([String(OUT.REQ_ACCOUNT_DATA), "2", "0", acct]);
        }
      }
      c.broadcastRequests.delete(kind);
    }
    for (const [key, set] of c.waiters) {
      set.delete(tenant.id);
      if (set.size === 0) {
        c.waiters.delete(key);
        c.askedAt.delete(key);
      }
    }
    c.held.delete(tenant.id);
    c.openOrders.removeTenant(tenant.id);
    // The cancels go as the switch's own (queued under the tenant they would be dropped with
    // it and the subscriptions would stay open at TWS), and are queued before the tenant's
    // holds are freed, so no line it held can be taken before its cancel is written. They are
    // bounded by the tenant's live requests (maxLiveRequestsPerTenant), not by the pacer's
    // queue; their deadline grows with their number at the paced rate.
    const deadlineMs =
      c.o.queueTimeoutMs + Math.ceil(((cancels.length + memberships.length) * 1_000) / CANCELS_PER_SECOND);
    for (const fields of cancels)
      c.dispatch(SWITCH_TENANT, fields, {
        priority: "urgent",
        queueLimit: Number.MAX_SAFE_INTEGER,
        deadlineMs,
        onFail: (err) => {
          c.count("tenant_close_cancel", "lost");
          c.log.warn({ err, tenant: tenant.id }, "a departed tenant's cancel could not be written upstream");
        },
      });
    c.pacer.releaseTenant(tenant.id);
    c.holds.forgetTenant(tenant.id);
    const cancelled = cancels.length;
    c.tenants.delete(tenant.id);
    c.pacingDeadlines.delete(tenant.id);
    if (c.owners.get(tenant.orderOwner) === tenant.id) c.owners.delete(tenant.orderOwner);
    this.events.emit({
      type: "tenant.close",
      ts: c.o.clock.now(),
      tenant: tenant.id,
      kind: tenant.kind,
      name: tenant.name,
      cancelled,
    });
    tenant.markClosed();
  }

  #snapshotOf(tenant: Tenant): TenantSnapshot {
    const c = this.#core;
    const live = c.requests.forTenant(tenant.id);
    return {
      id: tenant.id,
      kind: tenant.kind,
      name: tenant.name,
      clientId: tenant.clientId,
      state: tenant.state,
      openedAt: new Date(tenant.openedAt).toISOString(),
      liveRequests: live.length + c.groups.countFor(tenant.id),
      subscriptions:
        live.filter((r) => r.lifetime === "subscription").length +
        c.groups.membershipsOf(tenant.id).filter((m) => m.group.kind === "stream").length +
        c.broadcasts.subscriberCount(tenant.id),
      orders: c.orders.forTenant(tenant.orderOwner).length,
      orderOwner: tenant.orderOwner,
      sharedOwner: c.tenantsOfOwner(tenant.orderOwner).length > 1,
      orderRights:
        tenant.kind !== "http" && tenant.stableOwner && c.tenantOfOwner(tenant.orderOwner) === tenant,
      messagesIn: tenant.messagesIn,
      messagesOut: tenant.messagesOut,
      queued: c.held.get(tenant.id)?.length ?? 0,
    };
  }
}
