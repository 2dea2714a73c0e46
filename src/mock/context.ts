/**
 * What a request handler may use: the gateway's services, never its sockets or listeners.
 * Handlers are plain functions (handlers/*.ts) registered by message id.
 */
import type { Clock } from "../clock.js";
import type { AccountBook } from "./accounts.js";
import type { Catalogue } from "./catalogue.js";
import type { HistoryLog } from "./history-log.js";
import type { HmdsLoad } from "./hmds.js";
import type { ResolvedMockOptions } from "./options.js";
import type { OrderBook } from "./orders.js";
import type { MockSession } from "./session.js";
import type { SubscriptionBook } from "./subscriptions.js";
import type { WallClock } from "./wall-clock.js";

export interface MockContext {
  readonly opts: ResolvedMockOptions;
  /** Timers and IB's windows: real (or test) time. */
  readonly clock: Clock;
  /** The gateway's calendar: what time it says and which bars exist. */
  readonly wall: WallClock;
  readonly subs: SubscriptionBook;
  readonly catalogue: Catalogue;
  readonly accounts: AccountBook;
  readonly orders: OrderBook;
  /** How long the historical-data service takes to answer. */
  readonly hmds: HmdsLoad;
  /** Historical requests seen and their answers (/state historyRequests). */
  readonly history: HistoryLog;
  /** A live session by id (orders answer the session that placed them). */
  sessionOf(id: number): MockSession | undefined;
  /** Send ERR_MSG to one session (counted in errorsSent). */
  error(session: MockSession, id: number, code: number, message: string): void;
  /** Free the capacity slot a request took (answered, failed or cancelled). */
  release(session: MockSession, hold: string | undefined): void;
  /** The next order id for a client id (never goes down while the mock lives). */
  nextOrderId(clientId: number): number;
  /** An order id was used: later NEXT_VALID_ID answers stay above it. */
  useOrderId(clientId: number, orderId: number): void;
}

/** fields: the message's fields, message id first. `hold`: the slot the enforcer gave it. */
export type Handler = (
  ctx: MockContext,
  session: MockSession,
  fields: string[],
  hold: string | undefined,
) => void;
