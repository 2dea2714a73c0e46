/**
 * What the pacer needs to know about one outgoing message, and how to get it from a raw
 * frame. Classification uses the shared codec and routing table only (no layouts here), so
 * the switch, the proxy and the mock gateway all see a frame the same way.
 */
import { fromFields } from "../protocol/codec.js";
import { decodeFields, FieldReader } from "../protocol/fields.js";
import { IN, OUT } from "../protocol/message-ids.js";
import { ERR_MSG } from "../protocol/messages/connection.js";
import { contractKey, readContract } from "../protocol/messages/contract.js";
import { REQ_HEAD_TIMESTAMP, REQ_HISTORICAL_DATA } from "../protocol/messages/history.js";
import { REQ_MKT_DATA, REQ_TICK_BY_TICK_DATA } from "../protocol/messages/market-data.js";
import { ENDS_WHEN_LAST_FIELD_TRUE, fieldIndex, inRoute, outRoute } from "../protocol/routing.js";
import { DEFAULT_RULES, type KeyField, type PacingRules, type RequestKind } from "./rules.js";

/** Strict classes: urgent (heartbeats, cancels, orders) always go before the others. */
export type Priority = "urgent" | "high" | "normal" | "bulk";
export const PRIORITIES: readonly Priority[] = ["urgent", "high", "normal", "bulk"];

/** The fields keyed rules group by; absent fields count as "". */
export type RequestKey = Partial<Record<KeyField, string>>;

export interface PacingRequest {
  /** Who asked: fairness is per tenant. */
  readonly tenant: string;
  readonly kind: RequestKind;
  /** Units this request uses in weighted rules (BID_ASK historical = 2). */
  readonly cost: number;
  /**
   * Frames the item writes: a REQ_MARKET_DATA_TYPE travels with the request it precedes as
   * one item, and the message-rate rule counts both.
   */
  readonly messages: number;
  readonly key: RequestKey;
  readonly priority: Priority;
  /** A capacity slot this request holds until released or cancelled ("mkt:12"). */
  readonly hold: string | undefined;
  /** The hold this message frees (a cancel). */
  readonly releases: string | undefined;
  /** Independent one-shot queries may overtake each other when a keyed rule blocks one. */
  readonly reorderable: boolean;
  readonly messageId: number | undefined;
  readonly reqId: number | undefined;
}

export type PacingRequestInit = Pick<PacingRequest, "tenant" | "kind"> & Partial<PacingRequest>;

const REORDERABLE: ReadonlySet<RequestKind> = new Set([
  "historicalData",
  "historicalTicks",
  "headTimestamp",
  "histogram",
]);

export function defaultPriority(kind: RequestKind): Priority {
  if (kind === "cancel" || kind === "heartbeat" || kind === "order") return "urgent";
  return "normal";
}

/** Fill the defaults of a request descriptor. */
export function pacingRequest(init: PacingRequestInit): PacingRequest {
  return {
    cost: 1,
    messages: 1,
    key: {},
    priority: defaultPriority(init.kind),
    hold: undefined,
    releases: undefined,
    reorderable: REORDERABLE.has(init.kind),
    messageId: undefined,
    reqId: undefined,
    ...init,
  };
}

/** Family of a hold key: ids are unique on a line, the family keeps cancels unambiguous. */
const HOLD_FAMILY: Partial<Record<number, string>> = {
  [OUT.REQ_HISTORICAL_DATA]: "hist",
  [OUT.REQ_HEAD_TIMESTAMP]: "hist",
  [OUT.REQ_HISTOGRAM_DATA]: "hist",
  [OUT.REQ_HISTORICAL_TICKS]: "hist",
  [OUT.REQ_MKT_DATA]: "mkt",
  [OUT.REQ_MKT_DEPTH]: "depth",
  [OUT.REQ_TICK_BY_TICK_DATA]: "tbt",
  [OUT.REQ_REAL_TIME_BARS]: "rtb",
  [OUT.REQ_ACCOUNT_SUMMARY]: "acct",
  [OUT.REQ_SCANNER_SUBSCRIPTION]: "scan",
};

export function holdKey(requestMessageId: number, reqId: number): string | undefined {
  const family = HOLD_FAMILY[requestMessageId];
  return family === undefined ? undefined : `${family}:${reqId}`;
}

/** The request id of an outgoing message by the routing table, when it has one. */
function outReqId(id: number, fields: readonly string[], version: number): number | undefined {
  const route = outRoute(id);
  if (!route?.idIndex) return undefined;
  const raw = fields[fieldIndex(route.idIndex, version)];
  const n = raw === undefined || raw === "" ? Number.NaN : Number(raw);
  return Number.isInteger(n) ? n : undefined;
}

export interface ClassifyOptions {
  version: number;
  tenant: string;
  /** For costs (BID_ASK counts 2); defaults to IB's table. */
  rules?: PacingRules;
  priority?: Priority;
}

/**
 * Describe one outgoing message (fields, message id first) for the pacer. Unknown or
 * malformed messages still count against the message rate as kind "other".
 */
export function classifyOutgoing(fields: readonly string[], options: ClassifyOptions): PacingRequest {
  const id = Number(fields[0]);
  const rules = options.rules ?? DEFAULT_RULES;
  const base = { tenant: options.tenant, messageId: id, reqId: outReqId(id, fields, options.version) };
  const withPriority = (r: PacingRequest): PacingRequest =>
    options.priority === undefined ? r : { ...r, priority: options.priority };
  try {
    return withPriority(describe(id, fields, options.version, rules, base));
  } catch {
    // A frame we cannot read is still one message on the wire: pace it, let TWS judge it.
    return withPriority(pacingRequest({ ...base, kind: "other" }));
  }
}

/** Same as classifyOutgoing, from a frame payload (no length prefix). */
export function classifyPayload(payload: Uint8Array, options: ClassifyOptions): PacingRequest {
  return classifyOutgoing(decodeFields(payload), options);
}

type Base = { tenant: string; messageId: number; reqId: number | undefined };

function describe(
  id: number,
  fields: readonly string[],
  version: number,
  rules: PacingRules,
  base: Base,
): PacingRequest {
  const hold = base.reqId === undefined ? undefined : holdKey(id, base.reqId);
  const costOf = (what: string) => rules.whatToShowCost[what.toUpperCase()] ?? 1;
  switch (id) {
    case OUT.REQ_HISTORICAL_DATA: {
      const m = fromFields(REQ_HISTORICAL_DATA, fields, version);
      return pacingRequest({
        ...base,
        kind: "historicalData",
        cost: costOf(m.whatToShow),
        hold,
        key: {
          contract: contractKey(m.contract),
          exchange: m.contract.exchange,
          whatToShow: m.whatToShow.toUpperCase(),
          end: m.endDateTime,
          duration: m.duration,
          barSize: m.barSize,
          useRTH: m.useRTH ? "1" : "0",
        },
      });
    }
    case OUT.REQ_HEAD_TIMESTAMP: {
      const m = fromFields(REQ_HEAD_TIMESTAMP, fields, version);
      const key = { contract: contractKey(m.contract), exchange: m.contract.exchange };
      return pacingRequest({
        ...base,
        kind: "headTimestamp",
        cost: costOf(m.whatToShow),
        hold,
        key: { ...key, whatToShow: m.whatToShow.toUpperCase(), useRTH: m.useRTH ? "1" : "0" },
      });
    }
    case OUT.REQ_HISTORICAL_TICKS: {
      // [96, reqId, C12, includeExpired, start, end, numberOfTicks, whatToShow, useRth, …]
      const r = new FieldReader(fields, 2);
      const c = readContract(r);
      r.skip();
      const start = r.str();
      const end = r.str();
      const n = r.str();
      const whatToShow = r.str().toUpperCase();
      const useRTH = r.bool() ? "1" : "0";
      const key = { contract: contractKey(c), exchange: c.exchange, whatToShow, useRTH };
      return pacingRequest({
        ...base,
        kind: "historicalTicks",
        cost: costOf(whatToShow),
        hold,
        key: { ...key, end: `${start}|${end}`, duration: n, barSize: "ticks" },
      });
    }
    case OUT.REQ_HISTOGRAM_DATA: {
      const c = readContract(new FieldReader(fields, 2));
      return pacingRequest({
        ...base,
        kind: "histogram",
        hold,
        key: { contract: contractKey(c), exchange: c.exchange },
      });
    }
    case OUT.REQ_MKT_DATA: {
      const m = fromFields(REQ_MKT_DATA, fields, version);
      const snapshot = m.snapshot || m.regulatorySnapshot;
      return pacingRequest({
        ...base,
        kind: snapshot ? "marketDataSnapshot" : "marketData",
        hold,
        key: { contract: contractKey(m.contract), exchange: m.contract.exchange },
      });
    }
    case OUT.REQ_TICK_BY_TICK_DATA: {
      const m = fromFields(REQ_TICK_BY_TICK_DATA, fields, version);
      return pacingRequest({
        ...base,
        kind: "tickByTick",
        hold,
        key: { contract: contractKey(m.contract), exchange: m.contract.exchange },
      });
    }
    case OUT.REQ_MKT_DEPTH:
      return pacingRequest({ ...base, kind: "marketDepth", hold });
    case OUT.REQ_REAL_TIME_BARS:
      return pacingRequest({ ...base, kind: "realTimeBars", hold });
    case OUT.REQ_ACCOUNT_SUMMARY:
      return pacingRequest({ ...base, kind: "accountSummary", hold });
    case OUT.REQ_SCANNER_SUBSCRIPTION:
      return pacingRequest({ ...base, kind: "scanner", hold });
    case OUT.REQ_CURRENT_TIME:
      return pacingRequest({ ...base, kind: "heartbeat" });
    default:
      break;
  }
  const route = outRoute(id);
  if (route?.order) return pacingRequest({ ...base, kind: "order" });
  if (route?.cancels !== undefined) {
    const releases = base.reqId === undefined ? undefined : holdKey(route.cancels, base.reqId);
    return pacingRequest({ ...base, kind: "cancel", releases });
  }
  return pacingRequest({ ...base, kind: "other" });
}

/**
 * The holds an incoming message ends (so the open-request slot frees at once): the end of a
 * historical answer, a snapshot's end, or a terminal error for that id. Warnings (2100+,
 * 10167, 10090, 165) end nothing.
 */
export function incomingReleases(fields: readonly string[], version: number): string[] {
  const id = Number(fields[0]);
  if (id === IN.ERR_MSG) {
    const m = fromFields(ERR_MSG, fields, version);
    if (m.id < 0 || !isTerminalErrorCode(m.code)) return [];
    return ["hist", "mkt", "depth", "tbt", "rtb", "acct", "scan"].map((f) => `${f}:${m.id}`);
  }
  const route = inRoute(id);
  if (!route?.idIndex) return [];
  const reqId = Number(fields[fieldIndex(route.idIndex, version)]);
  if (!Number.isInteger(reqId)) return [];
  switch (id) {
    case IN.HISTORICAL_DATA:
    case IN.HEAD_TIMESTAMP:
    case IN.HISTOGRAM_DATA:
      return [`hist:${reqId}`];
    case IN.TICK_SNAPSHOT_END:
      return [`mkt:${reqId}`];
    default:
      if (ENDS_WHEN_LAST_FIELD_TRUE.has(id) && fields[fields.length - 1] === "1") return [`hist:${reqId}`];
      return [];
  }
}

/** Codes that are notices or warnings: the request they name goes on. */
const NON_TERMINAL = new Set([165, 399, 404, 434, 10090, 10167, 2100, 2109, 2137]);

export function isTerminalErrorCode(code: number): boolean {
  if (NON_TERMINAL.has(code)) return false;
  if (code >= 2100 && code < 3000) return false;
  if (code === 1100 || code === 1101 || code === 1102 || code === 1300) return false;
  return true;
}
