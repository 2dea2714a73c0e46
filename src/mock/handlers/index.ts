/** Every request the mock answers, by outgoing message id. */
import type { Handler } from "../context.js";
import { accountHandlers } from "./account.js";
import { connectionHandlers } from "./connection.js";
import { contractHandlers } from "./contracts.js";
import { historyHandlers } from "./history.js";
import { marketHandlers } from "./market.js";
import { orderHandlers } from "./orders.js";

export const HANDLERS: ReadonlyMap<number, Handler> = new Map<number, Handler>([
  ...connectionHandlers,
  ...contractHandlers,
  ...historyHandlers,
  ...marketHandlers,
  ...accountHandlers,
  ...orderHandlers,
]);
