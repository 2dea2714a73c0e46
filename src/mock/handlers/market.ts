/** Top-of-book market data: TICK_REQ_PARAMS, MARKET_DATA_TYPE, ticks; snapshots end with 57. */
import { fromFields } from "../../protocol/codec.js";
import { OUT } from "../../protocol/message-ids.js";
import { MARKET_DATA_TYPE } from "../../protocol/messages/connection.js";
import {
  CANCEL_MKT_DATA,
  REQ_MKT_DATA,
  TICK_REQ_PARAMS,
  TICK_SNAPSHOT_END,
} from "../../protocol/messages/market-data.js";
import type { Handler } from "../context.js";
import { initialFrames } from "../ticks.js";

const marketData: Handler = (ctx, s, fields, hold) => {
  const m = fromFields(REQ_MKT_DATA, fields, s.version);
  const fail = (code: number, text: string) => {
    ctx.release(s, hold);
    ctx.error(s, m.tickerId, code, text);
  };
  const r = ctx.catalogue.resolve(m.contract);
  if ("error" in r) return fail(200, r.error);
  const snapshot = m.snapshot || m.regulatorySnapshot;
  // IB: generic ticks are not allowed on snapshots.
  if (snapshot && m.genericTickList.trim())
    return fail(
      321,
      "Error validating request.-'bN' : cause - Snapshot market data subscription is not applicable to generic ticks",
    );
  if (!snapshot && ctx.subs.get(s.id, "marketData", m.tickerId))
    return fail(322, `Error processing request.-'bN' : cause - Duplicate ticker id ${m.tickerId}`);
  const inst = r.instrument;
  s.send(TICK_REQ_PARAMS, {
    tickerId: m.tickerId,
    minTick: inst.minTick,
    bboExchange: "9c0001",
    snapshotPermissions: 3,
  });
  s.send(MARKET_DATA_TYPE, { reqId: m.tickerId, marketDataType: s.marketDataType });
  const genericTicks = new Set(
    m.genericTickList
      .split(",")
      .map((g) => g.trim())
      .filter(Boolean),
  );
  const opts = { tickerId: m.tickerId, marketDataType: s.marketDataType, genericTicks, version: s.version };
  for (const f of initialFrames(inst, ctx.opts.seed, ctx.wall.now(), opts)) s.sendRaw(f);
  if (snapshot) {
    s.send(TICK_SNAPSHOT_END, { tickerId: m.tickerId });
    ctx.release(s, hold);
    return;
  }
  ctx.subs.add({
    sessionId: s.id,
    clientId: s.clientId ?? 0,
    kind: "marketData",
    reqId: m.tickerId,
    conId: inst.contract.conId,
    hold,
    detail: { genericTicks: [...genericTicks].join(","), marketDataType: s.marketDataType },
  });
};

const cancelMarketData: Handler = (ctx, s, fields) => {
  const { tickerId } = fromFields(CANCEL_MKT_DATA, fields, s.version);
  // Cancelling an unknown ticker is silently ignored by TWS (some versions answer 300).
  ctx.subs.remove(s.id, "marketData", tickerId);
};

export const marketHandlers: ReadonlyMap<number, Handler> = new Map<number, Handler>([
  [OUT.REQ_MKT_DATA, marketData],
  [OUT.CANCEL_MKT_DATA, cancelMarketData],
]);
