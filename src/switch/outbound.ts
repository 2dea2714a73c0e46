/**
 * Tenant → line. Every message is looked up in the routing table: request ids get a fresh
 * upstream id, orders are mapped per tenant and never queued, singletons are answered
 * locally or shared, broadcasts are reference-counted. Nothing is dropped without an answer.
 */
import { fromFields, toFields } from "../protocol/codec.js";
import { IN, OUT } from "../protocol/message-ids.js";
import { MANAGED_ACCTS, NEXT_VALID_ID } from "../protocol/messages/connection.js";
import { REQ_HISTORICAL_DATA } from "../protocol/messages/history.js";
import { REQ_MKT_DATA } from "../protocol/messages/market-data.js";
import { inRoute, type OutRoute, outRoute } from "../protocol/routing.js";
import { UpstreamUnavailableError } from "../errors.js";
import { SWITCH_TENANT, type SwitchCore, type WaiterKey } from "./core.js";
import { groupKeyOf, type GroupKind } from "./groups.js";
import type { OpenOrderQuestion } from "./open-orders.js";
import { handleOrder } from "./order-intake.js";
import { readId, setField, withId } from "./fields.js";
import type { RequestLifetime } from "./request-table.js";
import type { Tenant } from "./tenant.js";

/** Singleton requests and the message that answers (or ends) them. */
export const SINGLETON_ANSWER: Readonly<Record<number, number>> = {
  [OUT.REQ_CURRENT_TIME]: IN.CURRENT_TIME,
  [OUT.REQ_OPEN_ORDERS]: IN.OPEN_ORDER_END,
  [OUT.REQ_ALL_OPEN_ORDERS]: IN.OPEN_ORDER_END,
  [OUT.REQ_COMPLETED_ORDERS]: IN.COMPLETED_ORDERS_END,
  [OUT.REQ_FA]: IN.RECEIVE_FA,
  [OUT.REQ_SCANNER_PARAMETERS]: IN.SCANNER_PARAMETERS,
  [OUT.REQ_FAMILY_CODES]: IN.FAMILY_CODES,
  [OUT.REQ_MKT_DEPTH_EXCHANGES]: IN.MKT_DEPTH_EXCHANGES,
  [OUT.REQ_NEWS_PROVIDERS]: IN.NEWS_PROVIDERS,
};

const ORDER_REFUSED = 201;
const NOT_CONNECTED = 504;
const DUPLICATE_TICKER = 102;
const PROCESSING_ERROR = 322;
const CANT_FIND_ID = 300;
const ONLY_CLIENT_ZERO = 327;
const UNSUPPORTED = 321;
/** A singleton's answer that has not come after this long is asked for again. */
export const SINGLETON_RETRY_MS = 10_000;

/**
 * One message from a tenant. `marketDataType`: the tenant's type when it sent the message,
 * for a request that was held while the line was down (the tenant may have changed it since).
 */
export function handleOutbound(
  core: SwitchCore,
  tenant: Tenant,
  fields: readonly string[],
  marketDataType = tenant.marketDataType,
): void {
  tenant.messagesOut++;
  const msgId = Number(fields[0]);
  const route = outRoute(msgId);
  if (!route) {
    core.count("unknown", "refused");
    core.errorTo(tenant, -1, UNSUPPORTED, `Switchboard does not route message id ${fields[0] ?? ""}`);
    return;
  }
  if (route.order) {
    handleOrder(core, tenant, route, fields);
    return;
  }
  // Cancels and broadcasts act on the book at once, also while the line is down: a cancel
  // that waited (and could time out) would leave its stream to be restored; a broadcast is
  // re-opened by the replay. Singletons wait as waiters.
  if (
    !core.lineUp &&
    route.kind !== "singleton" &&
    route.kind !== "broadcast" &&
    route.cancels === undefined
  ) {
    hold(core, tenant, fields, route);
    return;
  }
  switch (route.kind) {
    case "request":
      if (route.cancels !== undefined) handleCancel(core, tenant, route, fields);
      else handleRequest(core, tenant, route, fields, marketDataType);
      return;
    case "singleton":
      handleSingleton(core, tenant, route, fields);
      return;
    case "broadcast":
      handleBroadcast(core, tenant, route, fields);
      return;
    case "keyed": {
      const key = `${IN.MARKET_RULE}:${fields[1] ?? ""}`;
      core.addWaiter(key, tenant.id);
      core.dispatch(tenant.id, fields, { onFail: (err) => failWaiters(core, key, err) });
      return;
    }
    default:
      core.count(route.name, "refused");
      core.errorTo(tenant, -1, UNSUPPORTED, `${route.name} is not available through Switchboard`);
  }
}

/** While the line is down: hold, bounded in count and time, then answer 504. */
function hold(core: SwitchCore, tenant: Tenant, fields: readonly string[], route: OutRoute): void {
  const list = core.held.get(tenant.id) ?? [];
  const localId = route.idIndex === undefined ? -1 : (readId(fields, route.idIndex, core.version) ?? -1);
  if (list.length >= core.o.maxQueuedPerTenant) {
    core.count(route.name, "queue_full");
    core.errorTo(
      tenant,
      localId,
      NOT_CONNECTED,
      "Not connected: Switchboard's queue for this client is full",
    );
    return;
  }
  list.push({ tenant, fields, at: core.o.clock.now(), marketDataType: tenant.marketDataType });
  core.held.set(tenant.id, list);
}

function lifetimeOf(core: SwitchCore, route: OutRoute, fields: readonly string[]): RequestLifetime {
  if (route.lifetime === "subscription") return "subscription";
  if (route.lifetime !== "conditional") return "oneshot";
  try {
    if (route.id === OUT.REQ_MKT_DATA) {
      const m = fromFields(REQ_MKT_DATA, fields, core.version);
      return m.snapshot || m.regulatorySnapshot ? "oneshot" : "subscription";
    }
    if (route.id === OUT.REQ_HISTORICAL_DATA) {
      return fromFields(REQ_HISTORICAL_DATA, fields, core.version).keepUpToDate ? "subscription" : "oneshot";
    }
  } catch {
    // Malformed: let TWS judge it; it lives until its answer or error.
  }
  return "oneshot";
}

function handleRequest(
  core: SwitchCore,
  tenant: Tenant,
  route: OutRoute,
  fields: readonly string[],
  marketDataType = tenant.marketDataType,
): void {
  const v = core.version;
  const idIndex = route.idIndex ?? 1;
  const localId = readId(fields, idIndex, v);
  if (localId === undefined) {
    core.count(route.name, "refused");
    core.errorTo(tenant, -1, PROCESSING_ERROR, `${route.name}: the request id is missing`);
    return;
  }
  if (core.requests.byLocal(tenant.id, route, localId) || core.groups.of(tenant.id, route, localId)) {
    core.count(route.name, "duplicate");
    const code = route.id === OUT.REQ_MKT_DATA ? DUPLICATE_TICKER : PROCESSING_ERROR;
    core.errorTo(tenant, localId, code, `Duplicate ticker id ${localId}`);
    return;
  }
  if (
    core.requests.countFor(tenant.id) + core.groups.countFor(tenant.id) >=
    core.o.maxLiveRequestsPerTenant
  ) {
    core.count(route.name, "refused");
    core.errorTo(tenant, localId, PROCESSING_ERROR, "Too many open requests for this client");
    return;
  }
  if (route.lifetime === "fire") {
    // Nothing answers it but an error: route that back, never replay it, never fail it late.
    const upstreamId = core.ids.nextRequestId();
    core.rememberFire(upstreamId, tenant.id, localId);
    const failCode = route.id === OUT.EXERCISE_OPTIONS ? ORDER_REFUSED : PROCESSING_ERROR;
    core.count(route.name, "sent");
    core.dispatch(tenant.id, withId(fields, idIndex, v, upstreamId), {
      priority: route.id === OUT.EXERCISE_OPTIONS ? "high" : undefined,
      onFail: (err) =>
        core.errorTo(
          tenant,
          localId,
          failCode,
          `Not sent: ${err instanceof Error ? err.message : String(err)}`,
        ),
    });
    return;
  }
  const shared = groupKeyOf(route, fields, v, marketDataType);
  if (shared) {
    joinGroup(core, tenant, route, fields, localId, shared.key, shared.kind, marketDataType);
    return;
  }
  const upstreamId = core.ids.nextRequestId();
  const entry = {
    upstreamId,
    tenantId: tenant.id,
    localId,
    route,
    lifetime: lifetimeOf(core, route, fields),
    fields: [...fields],
    generation: undefined,
    pending: false,
    ...(route.id === OUT.REQ_MKT_DATA ? { marketDataType } : {}),
  };
  core.requests.add(entry);
  const up = withId(fields, idIndex, v, upstreamId);
  if (route.id === OUT.REQ_EXECUTIONS && Number(up[3]) === tenant.clientId) {
    setField(up, 3, v, String(core.line.clientId ?? 0));
  }
  core.count(route.name, "sent");
  core.dispatch(tenant.id, up, {
    entry,
    marketDataType: entry.marketDataType,
    failOutcome: "rejected",
  });
}

/** How long a finished answer of `route` answers identical requests (0: not kept). */
function cacheMsOf(core: SwitchCore, route: OutRoute): number {
  if (route.id === OUT.REQ_HISTORICAL_DATA) return core.o.historyCacheMs;
  if (route.id === OUT.REQ_CONTRACT_DATA) return core.o.contractCacheMs;
  return 0;
}

/** Every answer kept for a group, rewritten to one member's id. */
function deliverAs(
  core: SwitchCore,
  tenant: Tenant,
  answers: Iterable<readonly string[]>,
  localId: number,
): void {
  const v = core.version;
  for (const f of answers) {
    const r = inRoute(Number(f[0]));
    const idx = Number(f[0]) === IN.ERR_MSG ? 2 : r?.idIndex;
    tenant.deliver(idx === undefined ? f : withId(f, idx, v, localId));
  }
}

/**
 * A request others may share: answered from a kept answer, joined to the live group with the
 * same key (a late joiner gets the group's last values at once), or the first of a new group
 * whose one upstream request the switch owns.
 */
function joinGroup(
  core: SwitchCore,
  tenant: Tenant,
  route: OutRoute,
  fields: readonly string[],
  localId: number,
  key: string,
  kind: GroupKind,
  marketDataType: number,
): void {
  const now = core.o.clock.now();
  if (kind === "oneshot" && cacheMsOf(core, route) > 0) {
    const kept = core.answers.get(key, now);
    if (kept) {
      core.count(route.name, "cached");
      deliverAs(core, tenant, kept, localId);
      return;
    }
  }
  const live = core.groups.byKey(key);
  if (live) {
    // A member joining while the request still waits in the pacer waits by its own deadline.
    const waiting = core.requests.byUpstream(live.upstreamId)?.pending === true;
    core.groups.join(live, tenant.id, localId, waiting ? now + core.pacingDeadlineOf(tenant.id) : undefined);
    if (waiting) core.groupWaitChanged(live);
    core.count(route.name, "shared");
    deliverAs(core, tenant, live.kind === "stream" ? live.last.values() : live.answers, localId);
    return;
  }
  const v = core.version;
  const upstreamId = core.ids.nextRequestId();
  // Streams wait under the switch (their line outlives any member); one-shots under the
  // tenant that asked first, so history stays fairly queued between tenants.
  const pacerTenant = kind === "stream" ? SWITCH_TENANT : tenant.id;
  const group = core.groups.create({ key, kind, route, upstreamId, pacerTenant, now });
  core.groups.join(group, tenant.id, localId, now + core.pacingDeadlineOf(tenant.id));
  const entry = {
    upstreamId,
    tenantId: SWITCH_TENANT,
    localId: upstreamId,
    route,
    lifetime: kind === "stream" ? ("subscription" as const) : ("oneshot" as const),
    fields: withId(fields, route.idIndex ?? 1, v, upstreamId),
    group,
    generation: undefined,
    pending: false,
    ...(route.id === OUT.REQ_MKT_DATA ? { marketDataType } : {}),
  };
  core.requests.add(entry);
  core.count(route.name, "sent");
  core.dispatch(pacerTenant, entry.fields, {
    entry,
    marketDataType: entry.marketDataType,
    failOutcome: "rejected",
    // Each member waits by its own deadline, not the first asker's.
    ...core.groupWait(group),
    // Bounded by the members' live-request limits, not by the switch's pacer queue.
    queueLimit: kind === "stream" ? Number.MAX_SAFE_INTEGER : undefined,
  });
}

/** A member leaves its group; the last one out cancels upstream. */
export function leaveGroup(
  core: SwitchCore,
  tenant: Tenant,
  route: OutRoute,
  localId: number,
  cancelDeadlineMs?: number,
): boolean {
  const g = core.groups.leave(tenant.id, route, localId);
  if (!g) return false;
  if (g.members.size === 0) {
    const live = core.requests.byUpstream(g.upstreamId);
    if (live) core.endGroup(live, cancelDeadlineMs);
    else core.groups.remove(g);
  }
  return true;
}

function handleCancel(core: SwitchCore, tenant: Tenant, route: OutRoute, fields: readonly string[]): void {
  const v = core.version;
  const idIndex = route.idIndex ?? 1;
  const localId = readId(fields, idIndex, v);
  const target = route.cancels === undefined ? undefined : outRoute(route.cancels);
  if (target && localId !== undefined && leaveGroup(core, tenant, target, localId)) {
    core.count(route.name, "left");
    return;
  }
  const live =
    localId === undefined || !target ? undefined : core.requests.byLocal(tenant.id, target, localId);
  if (!live && localId !== undefined && target && withdrawHeld(core, tenant, target, localId)) {
    // Still held while the line is down: both are dropped, nothing reaches TWS (as in the pacer).
    core.count(route.name, "withdrawn");
    return;
  }
  if (!live || localId === undefined) {
    core.count(route.name, "unknown_id");
    core.errorTo(tenant, localId ?? -1, CANT_FIND_ID, `Can't find EId with tickerId:${localId ?? ""}`);
    return;
  }
  core.count(route.name, "sent");
  // A cancel goes out for a request TWS has seen; one still waiting in the pacer is withdrawn
  // there (the pacer drops both), so it never takes a slot or reaches TWS. The cancel is
  // queued before the line is given back, so nothing can take the line ahead of it.
  if (live.pending || (core.lineUp && live.generation === core.line.generation))
    core.dispatch(tenant.id, withId(fields, idIndex, v, live.upstreamId), {
      priority: "urgent",
      // Bounded by the tenant's live requests: a full queue must not keep a stream open at TWS
      // after its line was given back.
      queueLimit: Number.MAX_SAFE_INTEGER,
      onFail: (err) => cancelLost(core, route.name, err),
    });
  core.endRequest(live.upstreamId, "cancelled");
}

/** Remove the tenant's held request `route`/`localId` (not yet sent). Returns whether it was held. */
function withdrawHeld(core: SwitchCore, tenant: Tenant, route: OutRoute, localId: number): boolean {
  const list = core.held.get(tenant.id);
  if (!list) return false;
  const i = list.findIndex(
    (h) => Number(h.fields[0]) === route.id && readId(h.fields, route.idIndex ?? 1, core.version) === localId,
  );
  if (i === -1) return false;
  list.splice(i, 1);
  if (list.length === 0) core.held.delete(tenant.id);
  return true;
}

function handleSingleton(core: SwitchCore, tenant: Tenant, route: OutRoute, fields: readonly string[]): void {
  const v = core.version;
  switch (route.id) {
    case OUT.REQ_IDS:
      tenant.deliver(toFields(NEXT_VALID_ID, { orderId: core.orders.nextLocalId(tenant.orderOwner) }, v));
      return;
    case OUT.REQ_MANAGED_ACCTS:
      tenant.deliver(toFields(MANAGED_ACCTS, { accounts: [...core.line.accounts] }, v));
      return;
    case OUT.REQ_MARKET_DATA_TYPE:
      tenant.marketDataType = Number(fields[2]) || 1;
      return;
    case OUT.REQ_AUTO_OPEN_ORDERS:
      core.errorTo(
        tenant,
        -1,
        ONLY_CLIENT_ZERO,
        "Only the default client (client id 0) can auto bind orders",
      );
      return;
    case OUT.SET_SERVER_LOGLEVEL:
      // TWS-wide and answered by nothing: it would change the log level for every tenant.
      core.count(route.name, "ignored");
      return;
    case OUT.REQ_OPEN_ORDERS:
    case OUT.REQ_ALL_OPEN_ORDERS:
      handleOpenOrders(core, tenant, route, fields);
      return;
  }
  const answer = SINGLETON_ANSWER[route.id];
  if (answer === undefined) {
    core.count(route.name, "refused");
    core.errorTo(tenant, -1, UNSUPPORTED, `${route.name} is not available through Switchboard`);
    return;
  }
  const now = core.o.clock.now();
  const askedAt = core.askedAt.get(answer);
  // Ask TWS when nobody is waiting yet, or when the last question went unanswered too long
  // (a lost answer must not block this request for every tenant).
  const first =
    (core.waiters.get(answer)?.size ?? 0) === 0 ||
    askedAt === undefined ||
    now - askedAt > SINGLETON_RETRY_MS;
  if (first) core.askedAt.set(answer, now);
  core.addWaiter(answer, tenant.id);
  core.count(route.name, first ? "sent" : "shared");
  // One question in flight answers everyone waiting: no need to ask TWS twice.
  if (first && core.lineUp) askSingleton(core, tenant.id, fields, answer);
}

/** Write a singleton question; if it cannot be written, everyone waiting for it hears why. */
export function askSingleton(
  core: SwitchCore,
  tenantId: string,
  fields: readonly string[],
  answer: number,
): void {
  core.dispatch(tenantId, fields, {
    onFail: (err) => {
      // Line gone before it was written: the replay asks again for whoever still waits.
      if (err instanceof UpstreamUnavailableError) return;
      failWaiters(core, answer, err);
    },
  });
}

/** Everyone waiting on `key` gets the error (id -1: singletons have no id) and stops waiting. */
export function failWaiters(core: SwitchCore, key: WaiterKey, err: unknown): void {
  const { code, message } = core.errorFor(err);
  for (const t of core.waitersOf(key, true)) {
    core.count("singleton", "failed");
    core.errorTo(t, -1, code, message);
  }
}

/** REQ_OPEN_ORDERS / REQ_ALL_OPEN_ORDERS: questions answered in the order they were written. */
function handleOpenOrders(
  core: SwitchCore,
  tenant: Tenant,
  route: OutRoute,
  fields: readonly string[],
): void {
  const q = core.openOrders.ask(tenant.id, route.id === OUT.REQ_ALL_OPEN_ORDERS, core.o.clock.now());
  core.count(route.name, q ? "sent" : "shared");
  // While the line is down the question is asked again on ready (replay), as other waits.
  if (!q) return;
  if (!core.lineUp) {
    core.openOrders.notWritten(q, true);
    return;
  }
  sendOpenOrderQuestion(core, tenant.id, fields, q);
}

export function sendOpenOrderQuestion(
  core: SwitchCore,
  tenantId: string,
  fields: readonly string[],
  q: OpenOrderQuestion,
): void {
  core.dispatch(tenantId, fields, {
    onWrite: () => core.openOrders.written(q),
    onFail: (err) => {
      const down = err instanceof UpstreamUnavailableError;
      const { code, message } = core.errorFor(err);
      for (const id of core.openOrders.notWritten(q, down)) {
        const t = core.tenants.get(id);
        if (t) core.errorTo(t, -1, code, message);
      }
    },
  });
}

/** A cancel that could not be written: TWS keeps the stream; count it so it shows. */
function cancelLost(core: SwitchCore, name: string, err: unknown): void {
  core.count(name, "lost");
  core.log.warn({ err, message: name }, "a cancel could not be written upstream");
}

function handleBroadcast(core: SwitchCore, tenant: Tenant, route: OutRoute, fields: readonly string[]): void {
  const send = (f: readonly string[]) =>
    core.dispatch(tenant.id, f, {
      onFail: (err) => {
        // Line gone first: the replay re-opens every active broadcast.
        if (err instanceof UpstreamUnavailableError) return;
        const { code, message } = core.errorFor(err);
        core.count(route.name, "failed");
        core.errorTo(tenant, -1, code, message);
      },
    });
  switch (route.id) {
    case OUT.REQ_POSITIONS:
    case OUT.REQ_NEWS_BULLETINS: {
      const kind = route.id === OUT.REQ_POSITIONS ? "positions" : "news";
      if (core.broadcasts.isSubscribed(kind, tenant.id)) return;
      const r = core.broadcasts.join(kind, tenant.id);
      if (r.subscribeUpstream) {
        core.broadcastRequests.set(kind, fields);
        send(fields);
      }
      for (const f of r.replay) tenant.deliver(f);
      return;
    }
    case OUT.CANCEL_POSITIONS:
    case OUT.CANCEL_NEWS_BULLETINS: {
      const kind = route.id === OUT.CANCEL_POSITIONS ? "positions" : "news";
      if (core.broadcasts.leave(kind, tenant.id)) send(fields);
      return;
    }
    case OUT.REQ_ACCOUNT_DATA: {
      const subscribe = fields[2] === "1";
      if (subscribe) {
        if (core.broadcasts.isSubscribed("account", tenant.id)) return;
        const active = core.broadcasts.active().find((b) => b.kind === "account");
        if (active && active.account !== (fields[3] ?? "")) {
          // TWS streams one account per connection, and another tenant's account is live.
          core.errorTo(
            tenant,
            -1,
            UNSUPPORTED,
            `Account updates for ${active.account} already stream on this line; use REQ_ACCOUNT_UPDATES_MULTI`,
          );
          return;
        }
        const r = core.broadcasts.join("account", tenant.id, fields[3] ?? "");
        if (r.subscribeUpstream) {
          core.broadcastRequests.set("account", fields);
          send(fields);
        }
        for (const f of r.replay) tenant.deliver(f);
      } else if (core.broadcasts.leave("account", tenant.id)) {
        send(fields);
      }
      return;
    }
  }
}
