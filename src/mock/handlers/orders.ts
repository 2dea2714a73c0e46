/**
 * Order messages: PLACE_ORDER (new or modify), CANCEL_ORDER, REQ_GLOBAL_CANCEL, open and
 * completed orders, executions. Answers go to the session of the client id that placed the
 * order, as TWS routes them.
 */
import { fromFields } from "../../protocol/codec.js";
import { formatJavaDouble } from "../../protocol/fields.js";
import { OUT } from "../../protocol/message-ids.js";
import { COMPLETED_ORDER, OPEN_ORDER } from "../../protocol/messages/open-order.js";
import {
  CANCEL_ORDER,
  COMMISSION_REPORT,
  type CommissionReport,
  COMPLETED_ORDERS_END,
  EXECUTION_DATA,
  EXECUTION_DATA_END,
  OPEN_ORDER_END,
  ORDER_STATUS,
  PLACE_ORDER,
  REQ_AUTO_OPEN_ORDERS,
  REQ_COMPLETED_ORDERS,
  REQ_EXECUTIONS,
} from "../../protocol/messages/orders.js";
import type { Handler, MockContext } from "../context.js";
import { isActive, type MockOrder } from "../orders.js";
import type { MockSession } from "../session.js";
import { sendPortfolio, sendPosition } from "./account.js";

/**
 * As TWS writes an open order: "?" for a contract without a right, 0.0 for an unset price,
 * and every field the mock does not model with TWS's plain-order value (ORDER_DEFAULTS).
 */
export function sendOpenOrder(s: MockSession, o: MockOrder, commission?: CommissionReport): void {
  s.send(OPEN_ORDER, {
    orderId: o.orderId,
    contract: { ...o.contract, right: o.contract.right || "?" },
    action: o.action,
    totalQuantity: String(o.quantity),
    orderType: o.orderType,
    lmtPrice: o.lmtPrice ?? 0,
    auxPrice: o.auxPrice ?? 0,
    tif: o.tif,
    ocaGroup: "",
    account: o.account,
    openClose: "",
    origin: 0,
    orderRef: o.orderRef,
    clientId: o.clientId,
    permId: o.permId,
    outsideRth: o.outsideRth,
    hidden: false,
    parentId: o.parentId,
    whatIf: false,
    status: o.status,
    warningText: "",
    // Once a fill's commission is known TWS repeats the order with it.
    unmodeled: commission
      ? { commission: formatJavaDouble(commission.commission), commissionCurrency: commission.currency }
      : {},
  });
}

export function sendOrderStatus(s: MockSession, o: MockOrder): void {
  s.send(ORDER_STATUS, {
    orderId: o.orderId,
    status: o.status,
    filled: String(o.filled),
    remaining: String(o.quantity - o.filled),
    avgFillPrice: Math.round(o.avgFillPrice * 1e6) / 1e6,
    permId: o.permId,
    parentId: o.parentId,
    lastFillPrice: o.lastFillPrice,
    clientId: o.clientId,
    whyHeld: "",
    mktCapPrice: 0,
  });
}

/** Trade an order at `price`: execution, status, commission, and the account's new position. */
export function executeFill(ctx: MockContext, o: MockOrder, price: number): void {
  const now = ctx.wall.now();
  const f = ctx.orders.fill(o, price, now);
  const qty = Number(f.execution.shares);
  ctx.accounts.fill(o.account, o.instrument, o.action === "BUY" ? qty : -qty, price, f.commission.commission);
  const owner = ctx.sessionOf(o.sessionId);
  if (owner) {
    // TWS's order: execution, order and status, the order again with its commission,
    // then the commission report.
    owner.send(EXECUTION_DATA, { reqId: -1, execution: f.execution });
    sendOpenOrder(owner, o);
    sendOrderStatus(owner, o);
    sendOpenOrder(owner, o, f.commission);
    owner.send(COMMISSION_REPORT, f.commission);
  }
  const pos = ctx.accounts.position(o.account, o.instrument.contract.conId);
  if (!pos) return;
  for (const sub of ctx.subs.all()) {
    const s = ctx.sessionOf(sub.sessionId);
    if (!s) continue;
    if (sub.kind === "positions") sendPosition(s, pos);
    if (sub.kind === "accountUpdates" && sub.detail.account === o.account) sendPortfolio(ctx, s, pos);
  }
}

const place: Handler = (ctx, s, fields) => {
  const m = fromFields(PLACE_ORDER, fields, s.version);
  const clientId = s.clientId ?? 0;
  const existing = ctx.orders.get(clientId, m.orderId);
  if (existing) {
    existing.modifyCount++;
    if (!isActive(existing)) {
      ctx.error(
        s,
        m.orderId,
        existing.status === "Filled" ? 104 : 105,
        `Cannot modify a ${existing.status.toLowerCase()} order`,
      );
      return;
    }
    // A repeated PLACE_ORDER for a live order modifies it.
    existing.quantity = Number(m.totalQuantity) || existing.quantity;
    existing.lmtPrice = m.lmtPrice;
    existing.auxPrice = m.auxPrice;
    existing.orderType = m.orderType.toUpperCase();
    existing.sessionId = s.id;
    sendOpenOrder(s, existing);
    sendOrderStatus(s, existing);
    tryFill(ctx, existing);
    return;
  }
  const r = ctx.catalogue.resolve(m.contract);
  if ("error" in r) return ctx.error(s, m.orderId, 200, r.error);
  const action = m.action.toUpperCase();
  if (action !== "BUY" && action !== "SELL" && action !== "SSHORT") {
    return ctx.error(
      s,
      m.orderId,
      321,
      `Error validating request.-'bO' : cause - Invalid action '${m.action}'`,
    );
  }
  const quantity = Number(m.totalQuantity);
  if (!Number.isFinite(quantity) || quantity <= 0)
    return ctx.error(s, m.orderId, 434, "The order size cannot be zero.");
  const orderType = m.orderType.toUpperCase();
  if (orderType === "LMT" && m.lmtPrice === undefined) {
    return ctx.error(
      s,
      m.orderId,
      321,
      "Error validating request.-'bO' : cause - A limit price is required for LMT orders",
    );
  }
  const account = m.account || (ctx.accounts.accounts[0] as string);
  if (!ctx.accounts.has(account)) {
    return ctx.error(
      s,
      m.orderId,
      321,
      `Error validating request.-'bO' : cause - Invalid account '${account}'`,
    );
  }
  ctx.useOrderId(clientId, m.orderId);
  const inst = r.instrument;
  const o = ctx.orders.add({
    clientId,
    orderId: m.orderId,
    instrument: inst,
    contract: { ...inst.contract, exchange: m.contract.exchange || inst.contract.exchange },
    account,
    sessionId: s.id,
    action: action === "SSHORT" ? "SELL" : action,
    quantity,
    orderType,
    lmtPrice: m.lmtPrice,
    auxPrice: m.auxPrice,
    tif: m.tif || "DAY",
    orderRef: m.orderRef,
    parentId: m.parentId,
    outsideRth: m.outsideRth,
    transmit: m.transmit,
    placeCount: 1,
    modifyCount: 0,
    status: m.transmit ? "Submitted" : "Inactive",
    filled: 0,
    avgFillPrice: 0,
    lastFillPrice: 0,
    completedTime: "",
    completedStatus: "",
  });
  if (!o)
    return ctx.error(s, m.orderId, 201, "Order rejected - reason:the mock gateway holds too many orders");
  sendOpenOrder(s, o);
  sendOrderStatus(s, o);
  tryFill(ctx, o);
};

export function tryFill(ctx: MockContext, o: MockOrder): void {
  const price = ctx.orders.marketable(o, ctx.opts.seed, ctx.wall.now());
  if (price !== undefined) executeFill(ctx, o, price);
}

function cancelOne(ctx: MockContext, o: MockOrder): void {
  ctx.orders.cancel(o, ctx.wall.now());
  const owner = ctx.sessionOf(o.sessionId);
  if (!owner) return;
  sendOrderStatus(owner, o);
  ctx.error(owner, o.orderId, 202, "Order Canceled - reason:");
}

const cancel: Handler = (ctx, s, fields) => {
  const { orderId } = fromFields(CANCEL_ORDER, fields, s.version);
  const o = ctx.orders.get(s.clientId ?? 0, orderId);
  if (!o) return ctx.error(s, orderId, 135, `Can't find order with id =${orderId}`);
  if (!isActive(o)) {
    return ctx.error(
      s,
      orderId,
      161,
      `Cancel attempted when order is not in a cancellable state.  Order permId =${o.permId}`,
    );
  }
  o.sessionId = s.id;
  cancelOne(ctx, o);
};

const globalCancel: Handler = (ctx) => {
  for (const o of ctx.orders.active()) cancelOne(ctx, o);
};

function openOrders(all: boolean): Handler {
  return (ctx, s) => {
    for (const o of ctx.orders.active()) {
      if (!all && o.clientId !== (s.clientId ?? 0)) continue;
      sendOpenOrder(s, o);
      sendOrderStatus(s, o);
    }
    s.send(OPEN_ORDER_END, {});
  };
}

const autoOpenOrders: Handler = (ctx, s, fields) => {
  fromFields(REQ_AUTO_OPEN_ORDERS, fields, s.version);
  if (s.clientId !== 0) {
    ctx.error(s, -1, 327, "Only the default client (i.e 0) can auto bind orders.");
  }
};

const completedOrders: Handler = (ctx, s, fields) => {
  fromFields(REQ_COMPLETED_ORDERS, fields, s.version);
  for (const o of ctx.orders.all()) {
    if (isActive(o)) continue;
    s.send(COMPLETED_ORDER, {
      contract: o.contract,
      action: o.action,
      totalQuantity: String(o.quantity),
      orderType: o.orderType,
      lmtPrice: o.lmtPrice ?? 0,
      auxPrice: o.auxPrice ?? 0,
      tif: o.tif,
      account: o.account,
      orderRef: o.orderRef,
      permId: o.permId,
      status: o.status,
      filledQuantity: String(o.filled),
      completedTime: o.completedTime,
      completedStatus: o.completedStatus,
      unmodeled: { outsideRth: o.outsideRth ? "1" : "0" },
    });
  }
  s.send(COMPLETED_ORDERS_END, {});
};

const executions: Handler = (ctx, s, fields) => {
  const { reqId, filter: f } = fromFields(REQ_EXECUTIONS, fields, s.version);
  const side = f.side.toUpperCase();
  for (const fill of ctx.orders.fills()) {
    const e = fill.execution;
    if (f.clientId && e.clientId !== f.clientId) continue;
    if (f.acctCode && e.acctNumber !== f.acctCode) continue;
    if (f.symbol && e.contract.symbol !== f.symbol.toUpperCase()) continue;
    if (f.secType && e.contract.secType !== f.secType.toUpperCase()) continue;
    if (
      f.exchange &&
      e.exchange !== f.exchange.toUpperCase() &&
      e.contract.exchange !== f.exchange.toUpperCase()
    )
      continue;
    if (
      side &&
      !(side === e.side || (side === "BUY" && e.side === "BOT") || (side === "SELL" && e.side === "SLD"))
    )
      continue;
    if (f.time && e.time < f.time.replace(" ", "-")) continue;
    s.send(EXECUTION_DATA, { reqId, execution: e });
    s.send(COMMISSION_REPORT, fill.commission);
  }
  s.send(EXECUTION_DATA_END, { reqId });
};

export const orderHandlers: ReadonlyMap<number, Handler> = new Map<number, Handler>([
  [OUT.PLACE_ORDER, place],
  [OUT.CANCEL_ORDER, cancel],
  [OUT.REQ_GLOBAL_CANCEL, globalCancel],
  [OUT.REQ_OPEN_ORDERS, openOrders(false)],
  [OUT.REQ_ALL_OPEN_ORDERS, openOrders(true)],
  [OUT.REQ_AUTO_OPEN_ORDERS, autoOpenOrders],
  [OUT.REQ_COMPLETED_ORDERS, completedOrders],
  [OUT.REQ_EXECUTIONS, executions],
]);
