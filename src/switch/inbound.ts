/**
 * Line → tenant. The routing table says where an id sits; the request table and order map
 * say whose it is. Answers are rewritten to the tenant's own ids; messages for retired ids
 * are counted and dropped; connection notices reach every tenant.
 */
import { incomingReleases } from "../pacing/request.js";
import { fromFields } from "../protocol/codec.js";
import { IN, OUT } from "../protocol/message-ids.js";
import { COMPLETED_ORDER } from "../protocol/messages/open-order.js";
import { ENDS_WHEN_LAST_FIELD_TRUE, fieldIndex, type InRoute, inRoute } from "../protocol/routing.js";
import { V } from "../protocol/versions.js";

import type { SwitchCore } from "./core.js";
import { readId, setField, withId } from "./fields.js";
import { historyKeepMs } from "./history-keep.js";
import type { Tenant } from "./tenant.js";

/** Codes that report on a request without ending it. */
export function isWarningCode(code: number): boolean {
  return (code >= 2100 && code < 2200) || [110, 165, 399, 404, 434, 492, 10090, 10167].includes(code);
}

/** Notices with id -1 that concern the line itself, not the tenants. */
const LINE_ONLY_NOTICES = new Set([326]);

/**
 * `payload`: the frame `fields` were decoded from, when the line has it: answers that only
 * need their request id rewritten are then forwarded as those bytes with the id patched
 * (Tenant.deliverRewritten), never decoded into a field array per recipient.
 */
export function handleInbound(
  core: SwitchCore,
  msgId: number,
  fields: readonly string[],
  payload?: Buffer,
): void {
  const route = inRoute(msgId);
  if (!route) {
    drop(core, "unroutable");
    return;
  }
  if (msgId === IN.ERR_MSG) {
    handleError(core, fields);
    return;
  }
  switch (route.kind) {
    case "request":
      if (msgId === IN.EXECUTION_DATA) handleExecution(core, route, fields);
      else handleAnswer(core, route, fields, payload);
      return;
    case "order":
      handleOrderMessage(core, route, fields);
      return;
    case "broadcast":
      for (const id of core.broadcasts.deliver(msgId, fields)) core.tenants.get(id)?.deliver(fields);
      return;
    case "singleton":
      handleSingletonAnswer(core, msgId, fields);
      return;
    case "keyed":
      handleKeyed(core, msgId, fields);
      return;
    default:
      drop(core, "unroutable");
      return;
  }
}

function drop(core: SwitchCore, why: "retired" | "unroutable"): void {
  if (why === "retired") core.counters.droppedRetired++;
  else core.counters.droppedUnroutable++;
}

function handleAnswer(core: SwitchCore, route: InRoute, fields: readonly string[], payload?: Buffer): void {
  const v = core.version;
  const upstreamId = route.idIndex === undefined ? undefined : readId(fields, route.idIndex, v);
  const live = upstreamId === undefined ? undefined : core.requests.byUpstream(upstreamId);
  if (!live || route.idIndex === undefined) {
    drop(core, "retired");
    return;
  }
  const ends =
    live.lifetime === "oneshot" &&
    (route.ends === true || (ENDS_WHEN_LAST_FIELD_TRUE.has(route.id) && fields[fields.length - 1] === "1"));
  const g = live.group;
  const idIndex = fieldIndex(route.idIndex, v);
  // The proxy takes the upstream bytes with the id patched in (Tenant.deliverRewritten).
  const bytes = payload !== undefined && idIndex < fields.length ? payload : undefined;
  if (g) {
    core.groups.record(g, route.id, fields, idIndex, core.o.clock.now());
    // Members that use the same local id get the same message (the same array, or the same
    // bytes: the proxy encodes a message it sees again in the same turn once and copies it).
    let sameId: number | undefined;
    let same: readonly string[] = fields;
    for (const m of g.members.values()) {
      const t = core.tenants.get(m.tenantId);
      if (!t) continue;
      if (bytes) {
        t.deliverRewritten(bytes, fields, idIndex, m.localId);
        continue;
      }
      if (m.localId !== sameId) {
        sameId = m.localId;
        same = withId(fields, idIndex, v, m.localId);
      }
      t.deliver(same);
    }
    if (ends) {
      const now = core.o.clock.now();
      const ttl =
        g.route.id === OUT.REQ_CONTRACT_DATA
          ? core.o.contractCacheMs
          : historyKeepMs(live.fields, g.answers, v, core.o.historyCacheMs, g.createdAt, now);
      core.answers.put(g.key, g.answers, now, ttl);
    }
  } else {
    const t = core.tenants.get(live.tenantId);
    if (t && bytes) t.deliverRewritten(bytes, fields, idIndex, live.localId);
    else t?.deliver(withId(fields, idIndex, v, live.localId));
  }
  if (ends) core.endRequest(live.upstreamId, "answered", "answered");
  // A stream whose first answer is complete (keepUpToDate history) no longer holds an open
  // historical request: its slot goes back now, the stream lives on.
  else if (incomingReleases(fields, v).length > 0) core.holds.release(live.upstreamId, "answered");
}

function handleError(core: SwitchCore, fields: readonly string[]): void {
  const v = core.version;
  const id = Number(fields[2]);
  const code = Number(fields[3]);
  const message = fields[4] ?? "";
  core.pacer.observeError(code, message, id);
  if (id === -1 || !Number.isFinite(id)) {
    if (LINE_ONLY_NOTICES.has(code)) return;
    for (const t of core.tenants.values()) t.deliver(fields);
    return;
  }
  const live = core.requests.byUpstream(id);
  if (live) {
    // A group's error reaches every member; a warning is kept for members joining later.
    const warning = isWarningCode(code);
    if (live.group && warning && live.group.kind === "stream")
      core.groups.record(live.group, IN.ERR_MSG, fields, 2, core.o.clock.now());
    for (const { tenant, localId } of core.recipients(live)) tenant.deliver(withId(fields, 2, v, localId));
    if (!warning) core.endRequest(live.upstreamId, "error", "error");
    return;
  }
  const fire = core.fireIds.get(id);
  if (fire) {
    core.tenants.get(fire.tenantId)?.deliver(withId(fields, 2, v, fire.localId));
    return;
  }
  const order = core.orders.byUpstream(id);
  if (order) {
    const out = withId(fields, 2, v, order.localId);
    for (const t of core.tenantsOfOwner(order.owner)) t.deliver(out);
    return;
  }
  drop(core, "retired");
}

/** ORDER_STATUS, OPEN_ORDER, ORDER_BOUND, DELTA_NEUTRAL_VALIDATION. */
function handleOrderMessage(core: SwitchCore, route: InRoute, fields: readonly string[]): void {
  const v = core.version;
  if (route.idIndex === undefined) {
    drop(core, "unroutable");
    return;
  }
  const upstreamId = readId(fields, route.idIndex, v);
  const order = upstreamId === undefined ? undefined : core.orders.byUpstream(upstreamId);
  if (!order) {
    // Orders no tenant placed (manual TWS orders, other API clients) go to whoever asked for all.
    if (route.id === IN.OPEN_ORDER || route.id === IN.ORDER_STATUS) {
      for (const id of core.openOrders.unknownOrderTenants()) core.tenants.get(id)?.deliver(fields);
      return;
    }
    drop(core, "retired");
    return;
  }
  // Every open socket of the owner shares its order identity, so each sees its statuses.
  const tenants = core.tenantsOfOwner(order.owner);
  const tenant = tenants[0];
  if (!tenant) return;
  const out = withId(fields, route.idIndex, v, order.localId);
  if (route.clientIdIndex !== undefined) setField(out, route.clientIdIndex, v, String(tenant.clientId));
  if (route.id === IN.OPEN_ORDER) {
    const permId = Number(fields[25]);
    if (permId > 0) order.permId = permId;
    const parentIndex = v >= V.FA_PROFILE_DESUPPORT ? 57 : 58;
    const parentUp = Number(fields[parentIndex]);
    const parent = parentUp > 0 ? core.orders.byUpstream(parentUp) : undefined;
    if (parent) out[parentIndex] = String(parent.localId);
  }
  if (route.id === IN.ORDER_STATUS) {
    const parent = core.orders.byUpstream(Number(fields[7]));
    if (parent) out[7] = String(parent.localId);
  }
  for (const t of tenants) t.deliver(out);
}

/**
 * Executions: answers to REQ_EXECUTIONS by reqId (to the tenant that asked), live fills
 * (reqId -1) by order id — to every open socket of the order's owner, which share its order
 * identity.
 */
function handleExecution(core: SwitchCore, route: InRoute, fields: readonly string[]): void {
  const v = core.version;
  const reqId = Number(fields[1]);
  const orderUp = Number(fields[2]);
  const execId = fields[14] ?? "";
  const order = core.orders.byUpstream(orderUp);
  let tenants: Tenant[];
  let reqLocal = -1;
  if (reqId !== -1) {
    const live = core.requests.byUpstream(reqId);
    if (!live) {
      drop(core, "retired");
      return;
    }
    const tenant = core.tenants.get(live.tenantId);
    reqLocal = live.localId;
    // A tenant sees its own fills, and fills of orders no tenant placed.
    if (!tenant || (order && order.owner !== tenant.orderOwner)) return;
    tenants = [tenant];
  } else {
    if (!order) {
      drop(core, "retired");
      return;
    }
    tenants = core.tenantsOfOwner(order.owner);
  }
  const first = tenants[0];
  if (!first) return;
  const out = fields.slice();
  out[1] = String(reqLocal);
  if (order) {
    out[2] = String(order.localId);
    // Sockets of one owner share its virtual client id.
    if (route.clientIdIndex !== undefined) setField(out, route.clientIdIndex, v, String(first.clientId));
  }
  if (execId) core.orders.recordExec(execId, order?.owner ?? first.orderOwner);
  for (const t of tenants) t.deliver(out);
}

function handleSingletonAnswer(core: SwitchCore, msgId: number, fields: readonly string[]): void {
  switch (msgId) {
    case IN.NEXT_VALID_ID:
    case IN.MANAGED_ACCTS:
      // The line's own; tenants get theirs from the switch (REQ_IDS, START_API).
      return;
    case IN.COMPLETED_ORDER: {
      // A tenant sees its own completed orders and those no tenant placed, never another's.
      const owner = completedOrderOwner(core, fields);
      for (const t of core.waitersOf(IN.COMPLETED_ORDERS_END, false))
        if (owner === undefined || owner === t.orderOwner) t.deliver(fields);
      return;
    }
    case IN.OPEN_ORDER_END:
      // Answers the oldest open-order question written on this socket, and only its tenants.
      for (const id of core.openOrders.answered()) core.tenants.get(id)?.deliver(fields);
      return;
    default: {
      const waiting = core.waitersOf(msgId, true);
      if (waiting.length === 0) {
        drop(core, "retired");
        return;
      }
      for (const t of waiting) t.deliver(fields);
    }
  }
}

function handleKeyed(core: SwitchCore, msgId: number, fields: readonly string[]): void {
  if (msgId === IN.COMMISSION_REPORT) {
    // Follows its execution: to every open socket of the owner of that fill.
    const owner = core.orders.ownerOfExec(fields[2] ?? "");
    const tenants = owner === undefined ? [] : core.tenantsOfOwner(owner);
    if (tenants.length === 0) {
      drop(core, "retired");
      return;
    }
    for (const t of tenants) t.deliver(fields);
    return;
  }
  if (msgId === IN.MARKET_RULE) {
    const waiting = core.waitersOf(`${IN.MARKET_RULE}:${fields[1] ?? ""}`, true);
    for (const t of waiting) t.deliver(fields);
    return;
  }
  drop(core, "unroutable");
}

/** The owner of a completed order by its permId; undefined when no tenant placed it. */
function completedOrderOwner(core: SwitchCore, fields: readonly string[]): string | undefined {
  let permId = 0;
  try {
    permId = fromFields(COMPLETED_ORDER, fields, core.version).permId;
  } catch {
    return undefined;
  }
  return permId > 0 ? core.orders.ownerOfPermId(permId) : undefined;
}
