/**
 * Account requests: positions, account summary, account updates (and their multi forms),
 * PnL. Each answers its initial set and end message, then stays subscribed until cancelled.
 */
import { fromFields } from "../../protocol/codec.js";
import { OUT } from "../../protocol/message-ids.js";
import {
  ACCOUNT_SUMMARY,
  ACCOUNT_SUMMARY_END,
  ACCOUNT_UPDATE_MULTI,
  ACCOUNT_UPDATE_MULTI_END,
  ACCT_DOWNLOAD_END,
  ACCT_UPDATE_TIME,
  ACCT_VALUE,
  CANCEL_ACCOUNT_SUMMARY,
  CANCEL_ACCOUNT_UPDATES_MULTI,
  CANCEL_PNL,
  CANCEL_PNL_SINGLE,
  CANCEL_POSITIONS_MULTI,
  PNL,
  PNL_SINGLE,
  PORTFOLIO_VALUE,
  POSITION_DATA,
  POSITION_END,
  POSITION_MULTI,
  POSITION_MULTI_END,
  REQ_ACCOUNT_DATA,
  REQ_ACCOUNT_SUMMARY,
  REQ_ACCOUNT_UPDATES_MULTI,
  REQ_PNL,
  REQ_PNL_SINGLE,
  REQ_POSITIONS_MULTI,
} from "../../protocol/messages/account.js";
import type { Position } from "../accounts.js";
import type { Handler, MockContext } from "../context.js";
import type { MockSession } from "../session.js";
import type { SubscriptionKind } from "../subscriptions.js";

function subscribe(
  ctx: MockContext,
  s: MockSession,
  kind: SubscriptionKind,
  reqId: number,
  hold: string | undefined,
  detail: Record<string, string | number | boolean> = {},
  conId = 0,
): boolean {
  return ctx.subs.add({ sessionId: s.id, clientId: s.clientId ?? 0, kind, reqId, conId, hold, detail });
}

export function sendPosition(s: MockSession, p: Position): void {
  s.send(POSITION_DATA, {
    account: p.account,
    contract: p.instrument.contract,
    position: String(p.quantity),
    avgCost: p.avgCost,
  });
}

export function sendPortfolio(ctx: MockContext, s: MockSession, p: Position): void {
  const mark = ctx.accounts.markPrice(p.instrument, ctx.wall.now());
  const value = p.quantity * mark * ctx.accounts.multiplier(p.instrument);
  s.send(PORTFOLIO_VALUE, {
    contract: p.instrument.contract,
    position: String(p.quantity),
    marketPrice: mark,
    marketValue: Math.round(value * 100) / 100,
    averageCost: p.avgCost,
    unrealizedPNL: Math.round((value - p.quantity * p.avgCost) * 100) / 100,
    realizedPNL: Math.round(p.realized * 100) / 100,
    account: p.account,
  });
}

/** The whole account-updates dump: values, portfolio, update time, download end. */
export function sendAccountUpdates(ctx: MockContext, s: MockSession, account: string): void {
  const now = ctx.wall.now();
  s.send(ACCT_VALUE, { key: "AccountCode", value: account, currency: "", account });
  for (const t of [...ctx.accounts.summary(account, now), ...ctx.accounts.ledger(account, now)]) {
    s.send(ACCT_VALUE, { key: t.tag, value: t.value, currency: t.currency, account });
  }
  for (const p of ctx.accounts.positions(account)) sendPortfolio(ctx, s, p);
  const d = new Date(now);
  s.send(ACCT_UPDATE_TIME, {
    time: `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`,
  });
  s.send(ACCT_DOWNLOAD_END, { account });
}

const positions: Handler = (ctx, s) => {
  for (const a of ctx.accounts.accounts) for (const p of ctx.accounts.positions(a)) sendPosition(s, p);
  s.send(POSITION_END, {});
  subscribe(ctx, s, "positions", -1, undefined);
};

const accountData: Handler = (ctx, s, fields) => {
  const m = fromFields(REQ_ACCOUNT_DATA, fields, s.version);
  const account = m.account || (ctx.accounts.accounts[0] as string);
  // One account per connection: a new subscription replaces the old one.
  ctx.subs.remove(s.id, "accountUpdates", -1);
  if (!m.subscribe) return;
  if (!ctx.accounts.has(account)) {
    ctx.error(s, -1, 321, `Error validating request.-'bA' : cause - Invalid account code '${account}'`);
    return;
  }
  subscribe(ctx, s, "accountUpdates", -1, undefined, { account });
  sendAccountUpdates(ctx, s, account);
};

const accountSummary: Handler = (ctx, s, fields, hold) => {
  const m = fromFields(REQ_ACCOUNT_SUMMARY, fields, s.version);
  if (!subscribe(ctx, s, "accountSummary", m.reqId, hold, { tags: m.tags })) {
    ctx.release(s, hold);
    ctx.error(s, m.reqId, 322, `Error processing request.-'bB' : cause - Duplicate Id ${m.reqId}`);
    return;
  }
  const wanted = new Set(
    m.tags
      .split(",")
      .map((t) => t.trim())
      .filter(Boolean),
  );
  const now = ctx.wall.now();
  for (const account of ctx.accounts.accounts) {
    const rows = [
      ...ctx.accounts.summary(account, now).filter((t) => wanted.has(t.tag)),
      ...([...wanted].some((w) => w.startsWith("$LEDGER")) ? ctx.accounts.ledger(account, now) : []),
    ];
    for (const t of rows)
      s.send(ACCOUNT_SUMMARY, { reqId: m.reqId, account, tag: t.tag, value: t.value, currency: t.currency });
  }
  s.send(ACCOUNT_SUMMARY_END, { reqId: m.reqId });
};

const positionsMulti: Handler = (ctx, s, fields) => {
  const m = fromFields(REQ_POSITIONS_MULTI, fields, s.version);
  for (const a of ctx.accounts.select(m.account)) {
    for (const p of ctx.accounts.positions(a)) {
      s.send(POSITION_MULTI, {
        reqId: m.reqId,
        account: a,
        contract: p.instrument.contract,
        position: String(p.quantity),
        avgCost: p.avgCost,
        modelCode: m.modelCode,
      });
    }
  }
  s.send(POSITION_MULTI_END, { reqId: m.reqId });
  subscribe(ctx, s, "positionsMulti", m.reqId, undefined, { account: m.account });
};

const accountUpdatesMulti: Handler = (ctx, s, fields) => {
  const m = fromFields(REQ_ACCOUNT_UPDATES_MULTI, fields, s.version);
  const now = ctx.wall.now();
  for (const a of ctx.accounts.select(m.account)) {
    const rows = m.ledgerAndNLV
      ? ctx.accounts.ledger(a, now)
      : [...ctx.accounts.summary(a, now), ...ctx.accounts.ledger(a, now)];
    for (const t of rows) {
      s.send(ACCOUNT_UPDATE_MULTI, {
        reqId: m.reqId,
        account: a,
        modelCode: m.modelCode,
        key: t.tag,
        value: t.value,
        currency: t.currency,
      });
    }
  }
  s.send(ACCOUNT_UPDATE_MULTI_END, { reqId: m.reqId });
  subscribe(ctx, s, "accountUpdatesMulti", m.reqId, undefined, { account: m.account });
};

export function sendPnl(ctx: MockContext, s: MockSession, reqId: number, account: string): void {
  let daily = 0;
  let unrealized = 0;
  let realized = 0;
  for (const a of ctx.accounts.select(account)) {
    const v = ctx.accounts.values(a, ctx.wall.now());
    unrealized += v.unrealized;
    realized += v.realized;
    daily += v.unrealized * 0.01;
  }
  const r = (n: number) => Math.round(n * 100) / 100;
  s.send(PNL, { reqId, dailyPnL: r(daily), unrealizedPnL: r(unrealized), realizedPnL: r(realized) });
}

export function sendPnlSingle(
  ctx: MockContext,
  s: MockSession,
  reqId: number,
  account: string,
  conId: number,
): void {
  const now = ctx.wall.now();
  let qty = 0;
  let value = 0;
  let unrealized = 0;
  let realized = 0;
  for (const a of ctx.accounts.select(account)) {
    const p = ctx.accounts.position(a, conId);
    if (!p) continue;
    const v = p.quantity * ctx.accounts.markPrice(p.instrument, now) * ctx.accounts.multiplier(p.instrument);
    qty += p.quantity;
    value += v;
    unrealized += v - p.quantity * p.avgCost;
    realized += p.realized;
  }
  const r = (n: number) => Math.round(n * 100) / 100;
  s.send(PNL_SINGLE, {
    reqId,
    position: String(qty),
    dailyPnL: r(unrealized * 0.01),
    unrealizedPnL: r(unrealized),
    realizedPnL: r(realized),
    value: r(value),
  });
}

const pnl: Handler = (ctx, s, fields) => {
  const m = fromFields(REQ_PNL, fields, s.version);
  subscribe(ctx, s, "pnl", m.reqId, undefined, { account: m.account });
  sendPnl(ctx, s, m.reqId, m.account);
};

const pnlSingle: Handler = (ctx, s, fields) => {
  const m = fromFields(REQ_PNL_SINGLE, fields, s.version);
  if (!ctx.catalogue.byConId(m.conId)) {
    ctx.error(s, m.reqId, 200, "No security definition has been found for the request");
    return;
  }
  subscribe(ctx, s, "pnlSingle", m.reqId, undefined, { account: m.account }, m.conId);
  sendPnlSingle(ctx, s, m.reqId, m.account, m.conId);
};

const cancel =
  (kind: SubscriptionKind, read: (fields: string[], v: number) => number): Handler =>
  (ctx, s, fields) => {
    ctx.subs.remove(s.id, kind, read(fields, s.version));
  };

export const accountHandlers: ReadonlyMap<number, Handler> = new Map<number, Handler>([
  [OUT.REQ_POSITIONS, positions],
  [OUT.CANCEL_POSITIONS, cancel("positions", () => -1)],
  [OUT.REQ_ACCOUNT_DATA, accountData],
  [OUT.REQ_ACCOUNT_SUMMARY, accountSummary],
  [
    OUT.CANCEL_ACCOUNT_SUMMARY,
    cancel("accountSummary", (f, v) => fromFields(CANCEL_ACCOUNT_SUMMARY, f, v).reqId),
  ],
  [OUT.REQ_POSITIONS_MULTI, positionsMulti],
  [
    OUT.CANCEL_POSITIONS_MULTI,
    cancel("positionsMulti", (f, v) => fromFields(CANCEL_POSITIONS_MULTI, f, v).reqId),
  ],
  [OUT.REQ_ACCOUNT_UPDATES_MULTI, accountUpdatesMulti],
  [
    OUT.CANCEL_ACCOUNT_UPDATES_MULTI,
    cancel("accountUpdatesMulti", (f, v) => fromFields(CANCEL_ACCOUNT_UPDATES_MULTI, f, v).reqId),
  ],
  [OUT.REQ_PNL, pnl],
  [OUT.CANCEL_PNL, cancel("pnl", (f, v) => fromFields(CANCEL_PNL, f, v).reqId)],
  [OUT.REQ_PNL_SINGLE, pnlSingle],
  [OUT.CANCEL_PNL_SINGLE, cancel("pnlSingle", (f, v) => fromFields(CANCEL_PNL_SINGLE, f, v).reqId)],
]);
