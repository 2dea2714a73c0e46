/**
 * What an owner hears about its orders from the switch itself (interfaces.md, "Which error an
 * order message gets"):
 *  - 201 only for an order that was never written upstream (a new order refused, or one found
 *    absent at reconciliation);
 *  - 399 (a warning, so client libraries keep the order alive) for a refused modify or cancel
 *    and for an order whose outcome is unknown, followed by the order's last known status.
 * Read-only refusals keep 201 for everything (outbound decides that before the lane).
 */
import { toFields } from "../protocol/codec.js";
import { IN } from "../protocol/message-ids.js";
import { ORDER_STATUS } from "../protocol/messages/orders.js";
import type { SwitchCore } from "./core.js";
import { withId } from "./fields.js";
import type { OrderEntry } from "./order-map.js";
import type { Tenant } from "./tenant.js";

export type OrderAction = "place" | "modify" | "cancel" | "globalCancel" | "exercise";

export const ORDER_REJECTED = 201;
export const ORDER_WARNING = 399;

/** The part of a lane item a refusal needs. */
export interface RefusedMessage {
  readonly action: OrderAction;
  readonly sender: Tenant;
  readonly owner: string;
  readonly localId: number;
  readonly entry: OrderEntry | undefined;
  readonly generation: number;
  readonly upstreamClientId: number;
}

/** Is this message a new order (never written before), as far as the answer code goes? */
export const isNew = (action: OrderAction): boolean => action === "place" || action === "exercise";

/** Refuse one order message with the code the contract gives it; the order is never written. */
export function refuseOrderMessage(core: SwitchCore, m: RefusedMessage, reason: string): void {
  core.counters.ordersRefused++;
  const code = isNew(m.action) ? ORDER_REJECTED : ORDER_WARNING;
  if (m.action === "place" && m.entry && m.entry.state === "pending") {
    m.entry.state = "refused";
    m.entry.finishedAt = core.o.clock.now();
  }
  core.audit(m, `refused(${code})`);
  const targets = refusalTargets(core, m.sender, m.owner);
  for (const t of targets) {
    if (code === ORDER_REJECTED) {
      core.errorTo(t, m.localId, code, `Order rejected - reason:${reason}`);
    } else {
      core.errorTo(t, m.localId, code, `Order Message: Warning: ${reason}`);
      if (m.entry) deliverLastStatus(core, m.entry, t);
    }
  }
}

/**
 * Who hears that a message was refused: its sender, while open, and every open socket of the
 * owner. Order ids belong to the owner, not the socket (a socket's new order id is above the
 * owner's high-water mark), so the refused order id means the same order to each of them —
 * and a client that reconnected hears about a message its old socket sent.
 */
export function refusalTargets(core: SwitchCore, sender: Tenant | undefined, owner: string): Tenant[] {
  const out: Tenant[] = [];
  if (sender && sender.state === "open") out.push(sender);
  for (const t of core.tenantsOfOwner(owner)) if (!out.includes(t)) out.push(t);
  return out;
}

/**
 * Every open socket of the owner: sockets that share a virtual client id share its order
 * identity, so each hears what becomes of its orders (outcome unknown, reconciled status).
 */
export function answerTargets(core: SwitchCore, owner: string): Tenant[] {
  return core.tenantsOfOwner(owner);
}

/** The order's last ORDER_STATUS in the tenant's ids; a PendingSubmit one if TWS sent none yet. */
export function deliverLastStatus(core: SwitchCore, e: OrderEntry, tenant: Tenant): void {
  const v = core.version;
  if (e.lastStatus) {
    const out = withId(e.lastStatus, 1, v, e.localId);
    out[9] = String(tenant.clientId);
    const parent = core.orders.byUpstream(Number(out[7]));
    if (parent) out[7] = String(parent.localId);
    tenant.deliver(out);
    return;
  }
  tenant.deliver(
    toFields(
      ORDER_STATUS,
      {
        orderId: e.localId,
        status: "PendingSubmit",
        filled: "0",
        remaining: undefined,
        avgFillPrice: 0,
        permId: e.permId,
        parentId: 0,
        lastFillPrice: 0,
        clientId: tenant.clientId,
        whyHeld: "",
        mktCapPrice: 0,
      },
      v,
    ),
  );
}

/** A status the switch learnt from reconciliation (completed orders), in the tenant's ids. */
export function deliverStatus(
  core: SwitchCore,
  e: OrderEntry,
  tenant: Tenant,
  status: string,
  filled: string,
  remaining: string,
): void {
  const fields = toFields(
    ORDER_STATUS,
    {
      orderId: e.localId,
      status,
      filled,
      remaining,
      avgFillPrice: 0,
      permId: e.permId,
      parentId: 0,
      lastFillPrice: 0,
      clientId: tenant.clientId,
      whyHeld: "",
      mktCapPrice: 0,
    },
    core.version,
  );
  if (Number(fields[0]) === IN.ORDER_STATUS) tenant.deliver(fields);
}
