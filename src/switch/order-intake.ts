/**
 * Order messages from tenants: who may send them, when, and what goes into the owner's lane.
 *
 * Invariants:
 *  - read-only refuses every order message with 201;
 *  - HTTP tenants never place orders; an in-process tenant only with an owner of its own and
 *    a journal (a state dir): never under a per-run owner;
 *  - only the owner's newest open socket may send order messages; an older one gets 201 for a
 *    new order and 399 for a modify or cancel, and never regains the right;
 *  - order messages are accepted only while the line is `ready` and no reconciliation runs;
 *    they are never queued for later (201 / 399 at once);
 *  - a new order at or below the owner's high-water mark that the map does not know gets 103;
 *  - every refusal, of any cause and code, gets an audit line;
 *  - a modify or cancel of an order placed under another upstream client id is refused: TWS
 *    would take the modify as a second order;
 *  - every order the switch writes carries an orderRef (the client's own, else
 *    `sb:<line>:<owner>:<localId>`), so reconciliation can find it in completed orders.
 */
import { OUT } from "../protocol/message-ids.js";
import { type OutRoute } from "../protocol/routing.js";
import type { SwitchCore } from "./core.js";
import { readId, withId } from "./fields.js";
import {
  ORDER_REJECTED,
  type OrderAction,
  type RefusedMessage,
  refuseOrderMessage,
} from "./order-answers.js";
import { GLOBAL_CANCEL_FIELDS, type LaneItem } from "./order-lane.js";
import type { OrderEntry } from "./order-map.js";
import type { Tenant } from "./tenant.js";

const DUPLICATE_ORDER_ID = 103;
const ORDER_NOT_FOUND = 135;
/** Field indexes of PLACE_ORDER (message id = 0). */
const ORDER_REF_INDEX = 26;
const PARENT_ID_INDEX = 28;

export function handleOrder(
  core: SwitchCore,
  tenant: Tenant,
  route: OutRoute,
  fields: readonly string[],
): void {
  const v = core.version;
  const localId = route.idIndex === undefined ? -1 : (readId(fields, route.idIndex, v) ?? -1);
  const owner = tenant.orderOwner;
  const known =
    route.id === OUT.PLACE_ORDER || route.id === OUT.CANCEL_ORDER
      ? core.orders.byLocal(owner, localId)
      : undefined;
  const action = actionOf(route.id, known);
  const base = {
    action,
    sender: tenant,
    owner,
    localId,
    entry: known,
    generation: core.line.generation,
    upstreamClientId: core.line.clientId ?? 0,
  };
  if (core.o.readOnly) {
    // Read-only keeps 201 for everything.
    refuseHere(core, base, ORDER_REJECTED, "Order rejected - reason:Switchboard is in read-only mode");
    return;
  }
  const refusal = whyNot(core, tenant);
  if (refusal !== undefined) {
    refuseOrderMessage(core, base, refusal);
    return;
  }
  switch (route.id) {
    case OUT.PLACE_ORDER:
      place(core, tenant, fields, localId, known);
      return;
    case OUT.CANCEL_ORDER:
      if (!known || known.state === "refused") {
        refuseHere(core, base, ORDER_NOT_FOUND, `Can't find order with id =${localId}`);
        return;
      }
      if (known.upstreamClientId !== base.upstreamClientId) {
        refuseOrderMessage(core, base, otherClientId(known, base.upstreamClientId));
        return;
      }
      emitOrder(core, tenant, "cancel", known);
      core.lane.accept({ ...base, fields: withId(fields, route.idIndex ?? 2, v, known.upstreamId) });
      return;
    case OUT.REQ_GLOBAL_CANCEL:
      // Never forwarded: at TWS it would cancel every tenant's orders. Cancel this owner's own,
      // each through the lane behind whatever the owner sent before.
      for (const e of core.orders.forTenant(owner)) {
        if (e.state === "refused" || e.state === "finished" || e.upstreamClientId !== base.upstreamClientId)
          continue;
        core.lane.accept({
          ...base,
          localId: e.localId,
          entry: e,
          fields: GLOBAL_CANCEL_FIELDS(e.upstreamId),
        });
      }
      return;
    case OUT.EXERCISE_OPTIONS: {
      const upstreamId = core.ids.nextRequestId();
      core.rememberFire(upstreamId, tenant.id, localId);
      core.lane.accept({ ...base, fields: withId(fields, route.idIndex ?? 1, v, upstreamId) });
      return;
    }
  }
}

function actionOf(msgId: number, known: OrderEntry | undefined): OrderAction {
  switch (msgId) {
    case OUT.PLACE_ORDER:
      return known && known.state !== "refused" ? "modify" : "place";
    case OUT.CANCEL_ORDER:
      return "cancel";
    case OUT.REQ_GLOBAL_CANCEL:
      return "globalCancel";
    default:
      return "exercise";
  }
}

/** Why this tenant may not send an order message now, or undefined. */
function whyNot(core: SwitchCore, tenant: Tenant): string | undefined {
  if (tenant.kind === "http") return "HTTP tenants do not place orders";
  if (tenant.kind === "client") {
    // An order identity must outlive the process, or a restart forgets which orders are whose.
    if (!tenant.stableOwner)
      return "an in-process client places orders only with an owner (acquire(purpose, { owner }))";
    if (!core.o.journal)
      return "an in-process client places orders only with a state dir (the order journal)";
  }
  if (core.tenantOfOwner(tenant.orderOwner) !== tenant)
    return `client id ${tenant.clientId} is used by a newer connection`;
  if (core.line.state !== "ready") return `upstream not ready (${core.line.state})`;
  if (core.reconciler.running) return "upstream not ready (reconciling orders with TWS)";
  return core.o.orderGate();
}

const otherClientId = (e: OrderEntry, now: number): string =>
  `order ${e.localId} was placed under client id ${e.upstreamClientId}, the line now uses ${now}`;

function place(
  core: SwitchCore,
  tenant: Tenant,
  fields: readonly string[],
  localId: number,
  known: OrderEntry | undefined,
): void {
  const v = core.version;
  const owner = tenant.orderOwner;
  const lineClientId = core.line.clientId ?? 0;
  const modify = known !== undefined && known.state !== "refused";
  const base = {
    sender: tenant,
    owner,
    localId,
    generation: core.line.generation,
    upstreamClientId: lineClientId,
  };
  if (modify && known.state === "unknown") {
    // TWS may or may not have it: a PLACE_ORDER now could create it a second time.
    refuseOrderMessage(
      core,
      { ...base, action: "modify", entry: known },
      "outcome unknown until reconciled with TWS",
    );
    return;
  }
  if (modify && known.upstreamClientId !== lineClientId) {
    // Placed under another upstream client id (before a restart or a forced switch): TWS
    // would take this as a new order. Refuse rather than risk a second one.
    refuseOrderMessage(core, { ...base, action: "modify", entry: known }, otherClientId(known, lineClientId));
    return;
  }
  const action = modify ? "modify" : "place";
  if (!modify && known === undefined && localId <= core.orders.highWater(owner)) {
    refuseHere(
      core,
      { ...base, action, entry: undefined },
      DUPLICATE_ORDER_ID,
      `Duplicate order id: ${localId} is not above the last one used`,
    );
    return;
  }
  const parentLocal = Number(fields[PARENT_ID_INDEX] ?? "0");
  const parent = parentLocal > 0 ? core.orders.byLocal(owner, parentLocal) : undefined;
  if (parentLocal > 0 && !parent) {
    // 201 for a new order, 399 (and its status) for a modify.
    refuseOrderMessage(core, { ...base, action, entry: known }, `unknown parent order ${parentLocal}`);
    return;
  }
  const entry = modify
    ? known
    : core.orders.add({
        owner,
        localId,
        upstreamId: core.ids.nextOrderId(),
        upstreamClientId: lineClientId,
        orderRef: fields[ORDER_REF_INDEX] || `sb:${core.line.name}:${owner}:${localId}`,
      });
  const up = withId(fields, 1, v, entry.upstreamId);
  if (ORDER_REF_INDEX < up.length) up[ORDER_REF_INDEX] = entry.orderRef;
  if (parent) up[PARENT_ID_INDEX] = String(parent.upstreamId);
  core.counters.ordersPlaced++;
  emitOrder(core, tenant, action, entry);
  const item: LaneItem = { ...base, action, entry, fields: up };
  core.lane.accept(item);
}

/** A refusal decided here with IB's own code (read-only, 103, 135): audited too. */
function refuseHere(core: SwitchCore, m: RefusedMessage, code: number, message: string): void {
  core.counters.ordersRefused++;
  core.audit(m, `refused(${code})`);
  core.errorTo(m.sender, m.localId, code, message);
}

function emitOrder(
  core: SwitchCore,
  tenant: Tenant,
  action: "place" | "modify" | "cancel",
  e: OrderEntry,
): void {
  core.events.emit({
    type: "switch.order",
    ts: core.o.clock.now(),
    tenant: tenant.id,
    action,
    localId: e.localId,
    upstreamId: e.upstreamId,
  });
}
