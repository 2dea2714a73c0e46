/** Session-level requests: current time, ids, managed accounts, market-data type. */
import { fromFields } from "../../protocol/codec.js";
import { OUT } from "../../protocol/message-ids.js";
import {
  CURRENT_TIME,
  MANAGED_ACCTS,
  NEXT_VALID_ID,
  REQ_MARKET_DATA_TYPE,
} from "../../protocol/messages/connection.js";
import type { Handler } from "../context.js";

export const connectionHandlers: ReadonlyMap<number, Handler> = new Map<number, Handler>([
  [OUT.REQ_CURRENT_TIME, (ctx, s) => s.send(CURRENT_TIME, { time: Math.floor(ctx.wall.now() / 1000) })],
  [OUT.REQ_IDS, (ctx, s) => s.send(NEXT_VALID_ID, { orderId: ctx.nextOrderId(s.clientId ?? 0) })],
  [OUT.REQ_MANAGED_ACCTS, (ctx, s) => s.send(MANAGED_ACCTS, { accounts: [...ctx.opts.accounts] })],
  [
    OUT.REQ_MARKET_DATA_TYPE,
    (_ctx, s, fields) => {
      // TWS answers nothing here; the type shows in MARKET_DATA_TYPE at the start of each stream.
      const { marketDataType } = fromFields(REQ_MARKET_DATA_TYPE, fields, s.version);
      if (marketDataType >= 1 && marketDataType <= 4) s.marketDataType = marketDataType;
    },
  ],
]);
