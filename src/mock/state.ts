/** The shape of `GET /state` (interfaces.md, "Mock control"). */
import type { FaultSnapshot } from "./faults.js";
import type { HistoryRequestView } from "./history-log.js";
import type { SubscriptionView } from "./subscriptions.js";

export interface MockClientView {
  clientId: number;
  remote: string;
  /** ISO 8601. */
  connectedAt: string;
  requests: number;
  serverVersion: number;
}

export interface MockOrderView {
  clientId: number;
  orderId: number;
  orderRef: string;
  permId: number;
  /** How many PLACE_ORDER messages created this order (1 = never placed twice). */
  placeCount: number;
  /** How many PLACE_ORDER messages modified it after its creation. */
  modifyCount: number;
  status: string;
}

export interface MockCounters {
  /** Messages received from started clients. */
  requests: number;
  /** Error 100, 101, 162 (pacing) and other rule violations answered. */
  pacingViolations: number;
  /** ERR_MSG frames sent (notices included). */
  errorsSent: number;
  /** Client sockets closed by the mock (faults, rule disconnects, bad input). */
  dropped: number;
  /** Messages read during a stall and applied when it ended. */
  stalledRequests: number;
  /** Socket reads held by a stall (applied in order when it ends). */
  stalledReads: number;
  /** New sockets left without a handshake reply during a stall. */
  stalledHandshakes: number;
  /** Connections refused (over max clients, down, unsupported version). */
  refused: number;
  /** Streaming messages skipped because a client did not read (bounded buffers). */
  backpressureDrops: number;
}

export interface MockState {
  clients: MockClientView[];
  subscriptions: number;
  counters: MockCounters;
  orders: MockOrderView[];
  subscriptionList: SubscriptionView[];
  /** The last 1,000 historical and head-timestamp requests and how each was answered. */
  historyRequests: HistoryRequestView[];
  /** The gateway's calendar time (ISO 8601): `--now` plus elapsed time, or frozen. */
  now: string;
  /** Extras: the mock's own view (not in the contract's minimum). */
  port: number;
  serverVersion: number;
  listening: boolean;
  faults: FaultSnapshot;
}

export function emptyCounters(): MockCounters {
  return {
    requests: 0,
    pacingViolations: 0,
    errorsSent: 0,
    dropped: 0,
    stalledRequests: 0,
    stalledReads: 0,
    stalledHandshakes: 0,
    refused: 0,
    backpressureDrops: 0,
  };
}
