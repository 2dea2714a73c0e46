import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";
import type { Logger } from "../logger.js";
import { silentLogger } from "../logger.js";
import type { OrderAudit, OrderJournal } from "./order-journal.js";

export const DEFAULT_MAX_QUEUED_PER_TENANT = 1_000;
export const DEFAULT_QUEUE_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_LIVE_REQUESTS_PER_TENANT = 10_000;
/** IB counts an identical historical request within 15 s as a pacing violation. */
export const DEFAULT_HISTORY_CACHE_MS = 15_000;
export const DEFAULT_CONTRACT_CACHE_MS = 600_000;
export const DEFAULT_MAX_ORDER_LANE = 1_000;

export interface SwitchOptions {
  clock?: Clock;
  logger?: Logger;
  /** Refuse PLACE_ORDER, CANCEL_ORDER, EXERCISE_OPTIONS and REQ_GLOBAL_CANCEL with 201. */
  readOnly?: boolean;
  /** Requests held while the line is down, per tenant. */
  maxQueuedPerTenant?: number;
  /** How long a held request waits for the line before it gets 504. */
  queueTimeoutMs?: number;
  maxLiveRequestsPerTenant?: number;
  /** Order messages one owner may have waiting in its lane; past it: 201 / 399 "order lane full". */
  maxOrderLane?: number;
  /** Keeps orders and high-water marks across restarts; memory only without it. */
  journal?: OrderJournal;
  /** An identical historical request within this long is answered from the last answer (0 = off). */
  historyCacheMs?: number;
  /** Contract details are answered from the last answer this long, for every tenant (0 = off). */
  contractCacheMs?: number;
  /** One line per order message and outcome. */
  audit?: OrderAudit;
  /**
   * Asked right before every order message is accepted and again right before it is written
   * upstream: a reason means "not now" (201 for a new order, 399 for a modify or cancel). An HA
   * daemon says no once its lease renewal is no longer fresh (src/ha/freshness.ts).
   */
  orderGate?: () => string | undefined;
  /**
   * Numbers for tenant ids (`<kind>-<n>`). The daemon passes one counter to all its switches,
   * so a tenant id names one tenant in the whole daemon; default: a counter of this switch.
   */
  nextTenantNumber?: () => number;
}

export interface ResolvedSwitchOptions {
  clock: Clock;
  logger: Logger;
  readOnly: boolean;
  maxQueuedPerTenant: number;
  queueTimeoutMs: number;
  maxLiveRequestsPerTenant: number;
  maxOrderLane: number;
  journal: OrderJournal | undefined;
  historyCacheMs: number;
  contractCacheMs: number;
  audit: OrderAudit | undefined;
  orderGate: () => string | undefined;
  nextTenantNumber: () => number;
}

export function resolveSwitchOptions(o: SwitchOptions = {}): ResolvedSwitchOptions {
  return {
    clock: o.clock ?? systemClock,
    logger: o.logger ?? silentLogger,
    readOnly: o.readOnly ?? false,
    maxQueuedPerTenant: o.maxQueuedPerTenant ?? DEFAULT_MAX_QUEUED_PER_TENANT,
    queueTimeoutMs: o.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS,
    maxLiveRequestsPerTenant: o.maxLiveRequestsPerTenant ?? DEFAULT_MAX_LIVE_REQUESTS_PER_TENANT,
    maxOrderLane: o.maxOrderLane ?? DEFAULT_MAX_ORDER_LANE,
    journal: o.journal,
    historyCacheMs: o.historyCacheMs ?? DEFAULT_HISTORY_CACHE_MS,
    contractCacheMs: o.contractCacheMs ?? DEFAULT_CONTRACT_CACHE_MS,
    audit: o.audit,
    orderGate: o.orderGate ?? (() => undefined),
    nextTenantNumber: o.nextTenantNumber ?? counter(),
  };
}

function counter(): () => number {
  let n = 1;
  return () => n++;
}
