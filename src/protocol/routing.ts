/**
 * The routing table: for every message id and direction, where its id field sits, what kind
 * of id it is, and how the request lives (one answer, a stream until cancelled, nothing back).
 * The switch and the proxy rewrite ids and track requests from this table alone.
 */
import { IN, OUT } from "./message-ids.js";
import { V } from "./versions.js";

/**
 * request: a reqId/tickerId chosen by the client; order: an order id; singleton: no id, one
 * answer per connection; broadcast: account-wide stream fanned out to every subscriber;
 * keyed: keyed by something other than an id (execId, marketRuleId); connection: session-level.
 */
export type RouteKind = "request" | "order" | "singleton" | "broadcast" | "keyed" | "connection";

/**
 * oneshot: answered, then done (by an end message, a final single message, or an error);
 * subscription: streams until its cancel message; conditional: decided by a field
 * (snapshot / keepUpToDate); fire: no answer expected.
 */
export type Lifetime = "oneshot" | "subscription" | "conditional" | "fire";

export type FieldIndex = number | ((version: number) => number);

export interface OutRoute {
  readonly id: number;
  readonly name: string;
  readonly kind: RouteKind;
  /** Field index (message id = 0) of the request or order id. */
  readonly idIndex?: FieldIndex;
  readonly lifetime: Lifetime;
  /** The message that cancels this request, when one exists. */
  readonly cancelledBy?: number;
  /** For a cancel message: the request message it cancels. */
  readonly cancels?: number;
  /** Order messages: never queued, never resent, refused in read-only mode. */
  readonly order?: boolean;
  /** Safe to send again after a drop (no side effects, same answer). */
  readonly idempotent?: boolean;
  /** Other fields holding ids that must be rewritten with the main one. */
  readonly extraIds?: readonly { index: FieldIndex; kind: "order" | "clientId" }[];
}

export interface InRoute {
  readonly id: number;
  readonly name: string;
  readonly kind: RouteKind;
  readonly idIndex?: FieldIndex;
  /** Receiving it completes the request it answers. */
  readonly ends?: boolean;
  /** Field holding the upstream client id (rewritten for downstream clients). */
  readonly clientIdIndex?: FieldIndex;
  /** A second id: the order id of an execution (live fills come with reqId -1). */
  readonly orderIdIndex?: FieldIndex;
}

export function fieldIndex(index: FieldIndex, version: number): number {
  return typeof index === "number" ? index : index(version);
}

const r = (
  id: number,
  name: string,
  kind: RouteKind,
  lifetime: Lifetime,
  extra: Partial<Omit<OutRoute, "id" | "name" | "kind" | "lifetime">> = {},
): OutRoute => ({ id, name, kind, lifetime, ...extra });

const req1 = { idIndex: 1 } as const;
const req2 = { idIndex: 2 } as const;

export const OUT_ROUTES: readonly OutRoute[] = [
  r(OUT.REQ_MKT_DATA, "REQ_MKT_DATA", "request", "conditional", {
    ...req2,
    cancelledBy: OUT.CANCEL_MKT_DATA,
  }),
  r(OUT.CANCEL_MKT_DATA, "CANCEL_MKT_DATA", "request", "fire", { ...req2, cancels: OUT.REQ_MKT_DATA }),
  r(OUT.PLACE_ORDER, "PLACE_ORDER", "order", "fire", {
    idIndex: 1,
    order: true,
    extraIds: [{ index: 28, kind: "order" }],
  }),
  r(OUT.CANCEL_ORDER, "CANCEL_ORDER", "order", "fire", { idIndex: 2, order: true }),
  r(OUT.REQ_OPEN_ORDERS, "REQ_OPEN_ORDERS", "singleton", "oneshot", { idempotent: true }),
  r(OUT.REQ_ACCOUNT_DATA, "REQ_ACCOUNT_DATA", "broadcast", "subscription"),
  r(OUT.REQ_EXECUTIONS, "REQ_EXECUTIONS", "request", "oneshot", {
    ...req2,
    idempotent: true,
    extraIds: [{ index: 3, kind: "clientId" }],
  }),
  r(OUT.REQ_IDS, "REQ_IDS", "singleton", "oneshot", { idempotent: true }),
  r(OUT.REQ_CONTRACT_DATA, "REQ_CONTRACT_DATA", "request", "oneshot", { ...req2, idempotent: true }),
  r(OUT.REQ_MKT_DEPTH, "REQ_MKT_DEPTH", "request", "subscription", {
    ...req2,
    cancelledBy: OUT.CANCEL_MKT_DEPTH,
  }),
  r(OUT.CANCEL_MKT_DEPTH, "CANCEL_MKT_DEPTH", "request", "fire", { ...req2, cancels: OUT.REQ_MKT_DEPTH }),
  r(OUT.REQ_NEWS_BULLETINS, "REQ_NEWS_BULLETINS", "broadcast", "subscription", {
    cancelledBy: OUT.CANCEL_NEWS_BULLETINS,
  }),
  r(OUT.CANCEL_NEWS_BULLETINS, "CANCEL_NEWS_BULLETINS", "broadcast", "fire", {
    cancels: OUT.REQ_NEWS_BULLETINS,
  }),
  r(OUT.SET_SERVER_LOGLEVEL, "SET_SERVER_LOGLEVEL", "singleton", "fire"),
  r(OUT.REQ_AUTO_OPEN_ORDERS, "REQ_AUTO_OPEN_ORDERS", "singleton", "subscription"),
  r(OUT.REQ_ALL_OPEN_ORDERS, "REQ_ALL_OPEN_ORDERS", "singleton", "oneshot", { idempotent: true }),
  r(OUT.REQ_MANAGED_ACCTS, "REQ_MANAGED_ACCTS", "singleton", "oneshot", { idempotent: true }),
  r(OUT.REQ_FA, "REQ_FA", "singleton", "oneshot", { idempotent: true }),
  r(OUT.REPLACE_FA, "REPLACE_FA", "request", "oneshot", { idIndex: 4 }),
  r(OUT.REQ_HISTORICAL_DATA, "REQ_HISTORICAL_DATA", "request", "conditional", {
    ...req1,
    idempotent: true,
    cancelledBy: OUT.CANCEL_HISTORICAL_DATA,
  }),
  r(OUT.EXERCISE_OPTIONS, "EXERCISE_OPTIONS", "request", "fire", { ...req2, order: true }),
  r(OUT.REQ_SCANNER_SUBSCRIPTION, "REQ_SCANNER_SUBSCRIPTION", "request", "subscription", {
    ...req1,
    cancelledBy: OUT.CANCEL_SCANNER_SUBSCRIPTION,
  }),
  r(OUT.CANCEL_SCANNER_SUBSCRIPTION, "CANCEL_SCANNER_SUBSCRIPTION", "request", "fire", {
    ...req2,
    cancels: OUT.REQ_SCANNER_SUBSCRIPTION,
  }),
  r(OUT.REQ_SCANNER_PARAMETERS, "REQ_SCANNER_PARAMETERS", "singleton", "oneshot", { idempotent: true }),
  r(OUT.CANCEL_HISTORICAL_DATA, "CANCEL_HISTORICAL_DATA", "request", "fire", {
    ...req2,
    cancels: OUT.REQ_HISTORICAL_DATA,
  }),
  r(OUT.REQ_CURRENT_TIME, "REQ_CURRENT_TIME", "singleton", "oneshot", { idempotent: true }),
  r(OUT.REQ_REAL_TIME_BARS, "REQ_REAL_TIME_BARS", "request", "subscription", {
    ...req2,
    cancelledBy: OUT.CANCEL_REAL_TIME_BARS,
  }),
  r(OUT.CANCEL_REAL_TIME_BARS, "CANCEL_REAL_TIME_BARS", "request", "fire", {
    ...req2,
    cancels: OUT.REQ_REAL_TIME_BARS,
  }),
  r(OUT.REQ_FUNDAMENTAL_DATA, "REQ_FUNDAMENTAL_DATA", "request", "oneshot", {
    ...req2,
    idempotent: true,
    cancelledBy: OUT.CANCEL_FUNDAMENTAL_DATA,
  }),
  r(OUT.CANCEL_FUNDAMENTAL_DATA, "CANCEL_FUNDAMENTAL_DATA", "request", "fire", {
    ...req2,
    cancels: OUT.REQ_FUNDAMENTAL_DATA,
  }),
  r(OUT.REQ_CALC_IMPLIED_VOLAT, "REQ_CALC_IMPLIED_VOLAT", "request", "subscription", {
    ...req2,
    cancelledBy: OUT.CANCEL_CALC_IMPLIED_VOLAT,
  }),
  r(OUT.REQ_CALC_OPTION_PRICE, "REQ_CALC_OPTION_PRICE", "request", "subscription", {
    ...req2,
    cancelledBy: OUT.CANCEL_CALC_OPTION_PRICE,
  }),
  r(OUT.CANCEL_CALC_IMPLIED_VOLAT, "CANCEL_CALC_IMPLIED_VOLAT", "request", "fire", {
    ...req2,
    cancels: OUT.REQ_CALC_IMPLIED_VOLAT,
  }),
  r(OUT.CANCEL_CALC_OPTION_PRICE, "CANCEL_CALC_OPTION_PRICE", "request", "fire", {
    ...req2,
    cancels: OUT.REQ_CALC_OPTION_PRICE,
  }),
  r(OUT.REQ_GLOBAL_CANCEL, "REQ_GLOBAL_CANCEL", "singleton", "fire", { order: true }),
  r(OUT.REQ_MARKET_DATA_TYPE, "REQ_MARKET_DATA_TYPE", "singleton", "fire"),
  r(OUT.REQ_POSITIONS, "REQ_POSITIONS", "broadcast", "subscription", { cancelledBy: OUT.CANCEL_POSITIONS }),
  r(OUT.REQ_ACCOUNT_SUMMARY, "REQ_ACCOUNT_SUMMARY", "request", "subscription", {
    ...req2,
    cancelledBy: OUT.CANCEL_ACCOUNT_SUMMARY,
  }),
  r(OUT.CANCEL_ACCOUNT_SUMMARY, "CANCEL_ACCOUNT_SUMMARY", "request", "fire", {
    ...req2,
    cancels: OUT.REQ_ACCOUNT_SUMMARY,
  }),
  r(OUT.CANCEL_POSITIONS, "CANCEL_POSITIONS", "broadcast", "fire", { cancels: OUT.REQ_POSITIONS }),
  r(OUT.VERIFY_REQUEST, "VERIFY_REQUEST", "connection", "oneshot"),
  r(OUT.VERIFY_MESSAGE, "VERIFY_MESSAGE", "connection", "oneshot"),
  r(OUT.QUERY_DISPLAY_GROUPS, "QUERY_DISPLAY_GROUPS", "request", "oneshot", req2),
  r(OUT.SUBSCRIBE_TO_GROUP_EVENTS, "SUBSCRIBE_TO_GROUP_EVENTS", "request", "subscription", {
    ...req2,
    cancelledBy: OUT.UNSUBSCRIBE_FROM_GROUP_EVENTS,
  }),
  r(OUT.UPDATE_DISPLAY_GROUP, "UPDATE_DISPLAY_GROUP", "request", "fire", req2),
  r(OUT.UNSUBSCRIBE_FROM_GROUP_EVENTS, "UNSUBSCRIBE_FROM_GROUP_EVENTS", "request", "fire", {
    ...req2,
    cancels: OUT.SUBSCRIBE_TO_GROUP_EVENTS,
  }),
  r(OUT.START_API, "START_API", "connection", "fire"),
  r(OUT.VERIFY_AND_AUTH_REQUEST, "VERIFY_AND_AUTH_REQUEST", "connection", "oneshot"),
  r(OUT.VERIFY_AND_AUTH_MESSAGE, "VERIFY_AND_AUTH_MESSAGE", "connection", "oneshot"),
  r(OUT.REQ_POSITIONS_MULTI, "REQ_POSITIONS_MULTI", "request", "subscription", {
    ...req2,
    cancelledBy: OUT.CANCEL_POSITIONS_MULTI,
  }),
  r(OUT.CANCEL_POSITIONS_MULTI, "CANCEL_POSITIONS_MULTI", "request", "fire", {
    ...req2,
    cancels: OUT.REQ_POSITIONS_MULTI,
  }),
  r(OUT.REQ_ACCOUNT_UPDATES_MULTI, "REQ_ACCOUNT_UPDATES_MULTI", "request", "subscription", {
    ...req2,
    cancelledBy: OUT.CANCEL_ACCOUNT_UPDATES_MULTI,
  }),
  r(OUT.CANCEL_ACCOUNT_UPDATES_MULTI, "CANCEL_ACCOUNT_UPDATES_MULTI", "request", "fire", {
    ...req2,
    cancels: OUT.REQ_ACCOUNT_UPDATES_MULTI,
  }),
  r(OUT.REQ_SEC_DEF_OPT_PARAMS, "REQ_SEC_DEF_OPT_PARAMS", "request", "oneshot", {
    ...req1,
    idempotent: true,
  }),
  r(OUT.REQ_SOFT_DOLLAR_TIERS, "REQ_SOFT_DOLLAR_TIERS", "request", "oneshot", { ...req1, idempotent: true }),
  r(OUT.REQ_FAMILY_CODES, "REQ_FAMILY_CODES", "singleton", "oneshot", { idempotent: true }),
  r(OUT.REQ_MATCHING_SYMBOLS, "REQ_MATCHING_SYMBOLS", "request", "oneshot", { ...req1, idempotent: true }),
  r(OUT.REQ_MKT_DEPTH_EXCHANGES, "REQ_MKT_DEPTH_EXCHANGES", "singleton", "oneshot", { idempotent: true }),
  r(OUT.REQ_SMART_COMPONENTS, "REQ_SMART_COMPONENTS", "request", "oneshot", { ...req1, idempotent: true }),
  r(OUT.REQ_NEWS_ARTICLE, "REQ_NEWS_ARTICLE", "request", "oneshot", { ...req1, idempotent: true }),
  r(OUT.REQ_NEWS_PROVIDERS, "REQ_NEWS_PROVIDERS", "singleton", "oneshot", { idempotent: true }),
  r(OUT.REQ_HISTORICAL_NEWS, "REQ_HISTORICAL_NEWS", "request", "oneshot", { ...req1, idempotent: true }),
  r(OUT.REQ_HEAD_TIMESTAMP, "REQ_HEAD_TIMESTAMP", "request", "oneshot", {
    ...req1,
    idempotent: true,
    cancelledBy: OUT.CANCEL_HEAD_TIMESTAMP,
  }),
  r(OUT.REQ_HISTOGRAM_DATA, "REQ_HISTOGRAM_DATA", "request", "oneshot", {
    ...req1,
    idempotent: true,
    cancelledBy: OUT.CANCEL_HISTOGRAM_DATA,
  }),
  r(OUT.CANCEL_HISTOGRAM_DATA, "CANCEL_HISTOGRAM_DATA", "request", "fire", {
    ...req1,
    cancels: OUT.REQ_HISTOGRAM_DATA,
  }),
  r(OUT.CANCEL_HEAD_TIMESTAMP, "CANCEL_HEAD_TIMESTAMP", "request", "fire", {
    ...req1,
    cancels: OUT.REQ_HEAD_TIMESTAMP,
  }),
  r(OUT.REQ_MARKET_RULE, "REQ_MARKET_RULE", "keyed", "oneshot", { idempotent: true }),
  r(OUT.REQ_PNL, "REQ_PNL", "request", "subscription", { ...req1, cancelledBy: OUT.CANCEL_PNL }),
  r(OUT.CANCEL_PNL, "CANCEL_PNL", "request", "fire", { ...req1, cancels: OUT.REQ_PNL }),
  r(OUT.REQ_PNL_SINGLE, "REQ_PNL_SINGLE", "request", "subscription", {
    ...req1,
    cancelledBy: OUT.CANCEL_PNL_SINGLE,
  }),
  r(OUT.CANCEL_PNL_SINGLE, "CANCEL_PNL_SINGLE", "request", "fire", { ...req1, cancels: OUT.REQ_PNL_SINGLE }),
  r(OUT.REQ_HISTORICAL_TICKS, "REQ_HISTORICAL_TICKS", "request", "oneshot", { ...req1, idempotent: true }),
  r(OUT.REQ_TICK_BY_TICK_DATA, "REQ_TICK_BY_TICK_DATA", "request", "subscription", {
    ...req1,
    cancelledBy: OUT.CANCEL_TICK_BY_TICK_DATA,
  }),
  r(OUT.CANCEL_TICK_BY_TICK_DATA, "CANCEL_TICK_BY_TICK_DATA", "request", "fire", {
    ...req1,
    cancels: OUT.REQ_TICK_BY_TICK_DATA,
  }),
  r(OUT.REQ_COMPLETED_ORDERS, "REQ_COMPLETED_ORDERS", "singleton", "oneshot", { idempotent: true }),
  r(OUT.REQ_WSH_META_DATA, "REQ_WSH_META_DATA", "request", "oneshot", {
    ...req1,
    cancelledBy: OUT.CANCEL_WSH_META_DATA,
  }),
  r(OUT.CANCEL_WSH_META_DATA, "CANCEL_WSH_META_DATA", "request", "fire", {
    ...req1,
    cancels: OUT.REQ_WSH_META_DATA,
  }),
  r(OUT.REQ_WSH_EVENT_DATA, "REQ_WSH_EVENT_DATA", "request", "oneshot", {
    ...req1,
    cancelledBy: OUT.CANCEL_WSH_EVENT_DATA,
  }),
  r(OUT.CANCEL_WSH_EVENT_DATA, "CANCEL_WSH_EVENT_DATA", "request", "fire", {
    ...req1,
    cancels: OUT.REQ_WSH_EVENT_DATA,
  }),
  r(OUT.REQ_USER_INFO, "REQ_USER_INFO", "request", "oneshot", { ...req1, idempotent: true }),
];

const i = (
  id: number,
  name: string,
  kind: RouteKind,
  extra: Partial<Omit<InRoute, "id" | "name" | "kind">> = {},
): InRoute => ({ id, name, kind, ...extra });

/** CONTRACT_DATA and BOND_CONTRACT_DATA lost their version field at SIZE_RULES (164). */
const contractDataId = (v: number) => (v >= V.SIZE_RULES ? 1 : 2);

export const IN_ROUTES: readonly InRoute[] = [
  i(IN.TICK_PRICE, "TICK_PRICE", "request", req2),
  i(IN.TICK_SIZE, "TICK_SIZE", "request", req2),
  i(IN.ORDER_STATUS, "ORDER_STATUS", "order", { idIndex: 1, clientIdIndex: 9 }),
  i(IN.ERR_MSG, "ERR_MSG", "request", req2),
  i(IN.OPEN_ORDER, "OPEN_ORDER", "order", { idIndex: 1, clientIdIndex: 24 }),
  i(IN.ACCT_VALUE, "ACCT_VALUE", "broadcast"),
  i(IN.PORTFOLIO_VALUE, "PORTFOLIO_VALUE", "broadcast"),
  i(IN.ACCT_UPDATE_TIME, "ACCT_UPDATE_TIME", "broadcast"),
  i(IN.NEXT_VALID_ID, "NEXT_VALID_ID", "singleton"),
  i(IN.CONTRACT_DATA, "CONTRACT_DATA", "request", { idIndex: contractDataId }),
  i(IN.EXECUTION_DATA, "EXECUTION_DATA", "request", { idIndex: 1, orderIdIndex: 2, clientIdIndex: 22 }),
  i(IN.MARKET_DEPTH, "MARKET_DEPTH", "request", req2),
  i(IN.MARKET_DEPTH_L2, "MARKET_DEPTH_L2", "request", req2),
  i(IN.NEWS_BULLETINS, "NEWS_BULLETINS", "broadcast"),
  i(IN.MANAGED_ACCTS, "MANAGED_ACCTS", "singleton"),
  i(IN.RECEIVE_FA, "RECEIVE_FA", "singleton", { ends: true }),
  i(IN.HISTORICAL_DATA, "HISTORICAL_DATA", "request", { ...req1, ends: true }),
  i(IN.BOND_CONTRACT_DATA, "BOND_CONTRACT_DATA", "request", { idIndex: contractDataId }),
  i(IN.SCANNER_PARAMETERS, "SCANNER_PARAMETERS", "singleton", { ends: true }),
  i(IN.SCANNER_DATA, "SCANNER_DATA", "request", req2),
  i(IN.TICK_OPTION_COMPUTATION, "TICK_OPTION_COMPUTATION", "request", req1),
  i(IN.TICK_GENERIC, "TICK_GENERIC", "request", req2),
  i(IN.TICK_STRING, "TICK_STRING", "request", req2),
  i(IN.TICK_EFP, "TICK_EFP", "request", req2),
  i(IN.CURRENT_TIME, "CURRENT_TIME", "singleton", { ends: true }),
  i(IN.REAL_TIME_BARS, "REAL_TIME_BARS", "request", req2),
  i(IN.FUNDAMENTAL_DATA, "FUNDAMENTAL_DATA", "request", { ...req2, ends: true }),
  i(IN.CONTRACT_DATA_END, "CONTRACT_DATA_END", "request", { ...req2, ends: true }),
  i(IN.OPEN_ORDER_END, "OPEN_ORDER_END", "singleton", { ends: true }),
  i(IN.ACCT_DOWNLOAD_END, "ACCT_DOWNLOAD_END", "broadcast"),
  i(IN.EXECUTION_DATA_END, "EXECUTION_DATA_END", "request", { ...req2, ends: true }),
  i(IN.DELTA_NEUTRAL_VALIDATION, "DELTA_NEUTRAL_VALIDATION", "order", req2),
  i(IN.TICK_SNAPSHOT_END, "TICK_SNAPSHOT_END", "request", { ...req2, ends: true }),
  i(IN.MARKET_DATA_TYPE, "MARKET_DATA_TYPE", "request", req2),
  i(IN.COMMISSION_REPORT, "COMMISSION_REPORT", "keyed"),
  i(IN.POSITION_DATA, "POSITION_DATA", "broadcast"),
  i(IN.POSITION_END, "POSITION_END", "broadcast"),
  i(IN.ACCOUNT_SUMMARY, "ACCOUNT_SUMMARY", "request", req2),
  i(IN.ACCOUNT_SUMMARY_END, "ACCOUNT_SUMMARY_END", "request", req2),
  i(IN.VERIFY_MESSAGE_API, "VERIFY_MESSAGE_API", "connection"),
  i(IN.VERIFY_COMPLETED, "VERIFY_COMPLETED", "connection"),
  i(IN.DISPLAY_GROUP_LIST, "DISPLAY_GROUP_LIST", "request", { ...req2, ends: true }),
  i(IN.DISPLAY_GROUP_UPDATED, "DISPLAY_GROUP_UPDATED", "request", req2),
  i(IN.VERIFY_AND_AUTH_MESSAGE_API, "VERIFY_AND_AUTH_MESSAGE_API", "connection"),
  i(IN.VERIFY_AND_AUTH_COMPLETED, "VERIFY_AND_AUTH_COMPLETED", "connection"),
  i(IN.POSITION_MULTI, "POSITION_MULTI", "request", req2),
  i(IN.POSITION_MULTI_END, "POSITION_MULTI_END", "request", req2),
  i(IN.ACCOUNT_UPDATE_MULTI, "ACCOUNT_UPDATE_MULTI", "request", req2),
  i(IN.ACCOUNT_UPDATE_MULTI_END, "ACCOUNT_UPDATE_MULTI_END", "request", req2),
  i(IN.SECURITY_DEFINITION_OPTION_PARAMETER, "SECURITY_DEFINITION_OPTION_PARAMETER", "request", req1),
  i(IN.SECURITY_DEFINITION_OPTION_PARAMETER_END, "SECURITY_DEFINITION_OPTION_PARAMETER_END", "request", {
    ...req1,
    ends: true,
  }),
  i(IN.SOFT_DOLLAR_TIERS, "SOFT_DOLLAR_TIERS", "request", { ...req1, ends: true }),
  i(IN.FAMILY_CODES, "FAMILY_CODES", "singleton", { ends: true }),
  i(IN.SYMBOL_SAMPLES, "SYMBOL_SAMPLES", "request", { ...req1, ends: true }),
  i(IN.MKT_DEPTH_EXCHANGES, "MKT_DEPTH_EXCHANGES", "singleton", { ends: true }),
  i(IN.TICK_REQ_PARAMS, "TICK_REQ_PARAMS", "request", req1),
  i(IN.SMART_COMPONENTS, "SMART_COMPONENTS", "request", { ...req1, ends: true }),
  i(IN.NEWS_ARTICLE, "NEWS_ARTICLE", "request", { ...req1, ends: true }),
  i(IN.TICK_NEWS, "TICK_NEWS", "request", req1),
  i(IN.NEWS_PROVIDERS, "NEWS_PROVIDERS", "singleton", { ends: true }),
  i(IN.HISTORICAL_NEWS, "HISTORICAL_NEWS", "request", req1),
  i(IN.HISTORICAL_NEWS_END, "HISTORICAL_NEWS_END", "request", { ...req1, ends: true }),
  i(IN.HEAD_TIMESTAMP, "HEAD_TIMESTAMP", "request", { ...req1, ends: true }),
  i(IN.HISTOGRAM_DATA, "HISTOGRAM_DATA", "request", { ...req1, ends: true }),
  i(IN.HISTORICAL_DATA_UPDATE, "HISTORICAL_DATA_UPDATE", "request", req1),
  i(IN.REROUTE_MKT_DATA_REQ, "REROUTE_MKT_DATA_REQ", "request", req1),
  i(IN.REROUTE_MKT_DEPTH_REQ, "REROUTE_MKT_DEPTH_REQ", "request", req1),
  i(IN.MARKET_RULE, "MARKET_RULE", "keyed"),
  i(IN.PNL, "PNL", "request", req1),
  i(IN.PNL_SINGLE, "PNL_SINGLE", "request", req1),
  i(IN.HISTORICAL_TICKS, "HISTORICAL_TICKS", "request", req1),
  i(IN.HISTORICAL_TICKS_BID_ASK, "HISTORICAL_TICKS_BID_ASK", "request", req1),
  i(IN.HISTORICAL_TICKS_LAST, "HISTORICAL_TICKS_LAST", "request", req1),
  i(IN.TICK_BY_TICK, "TICK_BY_TICK", "request", req1),
  i(IN.ORDER_BOUND, "ORDER_BOUND", "order", { idIndex: 3, clientIdIndex: 2 }),
  i(IN.COMPLETED_ORDER, "COMPLETED_ORDER", "singleton"),
  i(IN.COMPLETED_ORDERS_END, "COMPLETED_ORDERS_END", "singleton", { ends: true }),
  i(IN.REPLACE_FA_END, "REPLACE_FA_END", "request", { ...req1, ends: true }),
  i(IN.WSH_META_DATA, "WSH_META_DATA", "request", { ...req1, ends: true }),
  i(IN.WSH_EVENT_DATA, "WSH_EVENT_DATA", "request", { ...req1, ends: true }),
  i(IN.HISTORICAL_SCHEDULE, "HISTORICAL_SCHEDULE", "request", { ...req1, ends: true }),
  i(IN.USER_INFO, "USER_INFO", "request", { ...req1, ends: true }),
];

const OUT_BY_ID = new Map(OUT_ROUTES.map((x) => [x.id, x]));
const IN_BY_ID = new Map(IN_ROUTES.map((x) => [x.id, x]));

export function outRoute(id: number): OutRoute | undefined {
  return OUT_BY_ID.get(id);
}

export function inRoute(id: number): InRoute | undefined {
  return IN_BY_ID.get(id);
}

/**
 * Messages whose last field marks the end of a multi-message answer (HISTORICAL_TICKS*:
 * done flag). Kept apart because the end is a value, not a message id.
 */
export const ENDS_WHEN_LAST_FIELD_TRUE: ReadonlySet<number> = new Set([
  IN.HISTORICAL_TICKS,
  IN.HISTORICAL_TICKS_BID_ASK,
  IN.HISTORICAL_TICKS_LAST,
]);
