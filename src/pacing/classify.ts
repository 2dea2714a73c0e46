/**
 * What an IB error means for a retry. Retrying only what a retry can fix: pacing (after the
 * window frees), a capacity limit (after a slot frees), a session conflict (later). Never: no
 * data, no permission, a bad request, a cancel confirmation. Code 162 carries several
 * meanings in one number, so its text decides; and a request that ends before the
 * instrument's head timestamp is "no data before this date", whatever the text says, so a
 * backfill stops instead of retrying a pacing error forever (seed 003).
 */

export type ErrorClass = "pacing" | "no_data" | "no_permission" | "invalid_request" | "cancelled" | "other";

export interface IbErrorClassification {
  readonly class: ErrorClass;
  /** A stable word for logs and docs: "message_rate", "hmds_pacing", "before_head_timestamp"… */
  readonly reason: string;
  /** The request it names is over (false for warnings such as 10167 or 10090). */
  readonly terminal: boolean;
  readonly retryable: boolean;
  /** Suggested first wait before a retry, in IB's real time (scale it with the rules). */
  readonly backoffMs: number | undefined;
  /** Counts as a pacing violation in stats and events. */
  readonly violation: boolean;
}

export interface ErrorContext {
  /** Epoch ms of the requested period's end (historical requests). */
  readonly requestEndMs?: number;
  /** Epoch ms of the earliest data IB has for this contract/whatToShow (REQ_HEAD_TIMESTAMP). */
  readonly headTimestampMs?: number;
}

const c = (
  cls: ErrorClass,
  reason: string,
  terminal: boolean,
  retryable: boolean,
  backoffMs?: number,
  violation = false,
): IbErrorClassification => ({ class: cls, reason, terminal, retryable, backoffMs, violation });

/** IB advises 10 s+ after an HMDS pacing violation; 15 s clears the identical-request rule too. */
export const HMDS_PACING_BACKOFF_MS = 15_000;

export function classifyIbError(
  code: number,
  message = "",
  context: ErrorContext = {},
): IbErrorClassification {
  const text = message.toLowerCase();
  const beforeHead =
    context.requestEndMs !== undefined &&
    context.headTimestampMs !== undefined &&
    context.requestEndMs <= context.headTimestampMs;
  switch (code) {
    case 100:
      return c("pacing", "message_rate", false, true, 1_000, true);
    case 101:
      return c("pacing", "market_data_lines", true, true, 1_000, true);
    case 309:
      return c("pacing", "market_depth_limit", true, true, 1_000, true);
    case 10190:
      return c("pacing", "tick_by_tick_limit", true, true, 15_000, true);
    case 162:
      return classify162(text, beforeHead);
    case 165:
      return c("other", "hmds_notice", false, false);
    case 166:
      return c("invalid_request", "expired_contract", true, false);
    case 200:
      return c("invalid_request", "no_security_definition", true, false);
    case 320:
    case 321:
      return c("invalid_request", code === 320 ? "unreadable_request" : "invalid_field", true, false);
    case 322:
      if (/max|exceed|limit/.test(text)) return c("pacing", "capacity_limit", true, true, 1_000, true);
      return c("invalid_request", "request_rejected", true, false);
    case 354:
      return c("no_permission", "not_subscribed", true, false);
    case 366:
      return c("cancelled", "no_such_query", false, false);
    case 420:
      if (text.includes("pacing"))
        return c("pacing", "realtime_pacing", true, true, HMDS_PACING_BACKOFF_MS, true);
      if (text.includes("ip address")) return c("other", "session_elsewhere", true, true, 30_000);
      return c("invalid_request", "invalid_realtime_query", true, false);
    case 10089:
      return c("no_permission", "needs_api_subscription", true, false);
    case 10090:
      return c("no_permission", "partially_subscribed", false, false);
    case 10167:
      return c("no_permission", "delayed_data_shown", false, false);
    case 10168:
    case 10186:
      return c("no_permission", "delayed_not_enabled", true, false);
    case 10197:
      return c("other", "competing_session", true, true, 30_000);
    default:
      if (code >= 2100 && code < 3000) return c("other", "notice", false, false);
      return c("other", "unclassified", true, false);
  }
}

function classify162(text: string, beforeHead: boolean): IbErrorClassification {
  // A cancel confirmation is not a failure, whatever else is known.
  if (text.includes("query cancelled") || text.includes("query canceled")) {
    return c("cancelled", "query_cancelled", true, false);
  }
  // Before the first bar IB has, no retry will ever find data; IB may still word it as
  // pacing or as a timeout, which is how backfills loop forever.
  if (beforeHead) return c("no_data", "before_head_timestamp", true, false);
  if (text.includes("pacing violation")) {
    return c("pacing", "hmds_pacing", true, true, HMDS_PACING_BACKOFF_MS, true);
  }
  if (text.includes("returned no data") || text.includes("no data"))
    return c("no_data", "hmds_no_data", true, false);
  if (text.includes("permission")) return c("no_permission", "no_market_data_permissions", true, false);
  if (text.includes("ip address")) return c("other", "session_elsewhere", true, true, 30_000);
  if (/time length exceed|invalid|must occur|illegal|bar size/.test(text)) {
    return c("invalid_request", "hmds_invalid", true, false);
  }
  if (text.includes("simultaneous") || text.includes("max number")) {
    return c("pacing", "open_historical_limit", true, true, 1_000, true);
  }
  // Unknown HMDS trouble (farm hiccup, timeout): one later retry is reasonable.
  return c("other", "hmds_error", true, true, HMDS_PACING_BACKOFF_MS);
}

/**
 * Delay before retry number `attempt` (0-based): capped exponential from the suggested
 * backoff, scaled by the time scale, with full jitter from an injected random().
 */
export function retryDelayMs(
  cls: IbErrorClassification,
  attempt: number,
  options: { random: () => number; timeScale?: number; capMs?: number; maxAttempts?: number },
): number | undefined {
  if (!cls.retryable || cls.backoffMs === undefined) return undefined;
  if (attempt >= (options.maxAttempts ?? 5)) return undefined;
  const scale = options.timeScale ?? 1;
  const cap = (options.capMs ?? 120_000) / scale;
  const base = Math.min(cap, (cls.backoffMs / scale) * 2 ** attempt);
  // Half fixed, half jitter: never sooner than half the window IB asked for.
  return base / 2 + (base / 2) * options.random();
}

const UNITS_MS: Record<string, number> = {
  S: 1_000,
  D: 86_400_000,
  W: 7 * 86_400_000,
  M: 31 * 86_400_000,
  Y: 366 * 86_400_000,
};

/** IB duration text ("30 S", "2 W", "1 Y") in ms; months and years rounded up. */
export function parseIbDurationMs(duration: string): number | undefined {
  const m = /^\s*(\d+)\s*([SDWMY])\s*$/i.exec(duration);
  if (!m) return undefined;
  const unit = UNITS_MS[(m[2] as string).toUpperCase()];
  return unit === undefined ? undefined : Number(m[1]) * unit;
}

/**
 * IB end/start date text to epoch ms: "yyyyMMdd-HH:mm:ss" (UTC), "yyyyMMdd HH:mm:ss[ zone]"
 * (the zone is read as UTC: a few hours do not matter for telling "before the head
 * timestamp"), "yyyyMMdd", or epoch seconds. Empty means now and gives undefined.
 */
export function parseIbDateTimeMs(text: string): number | undefined {
  const t = text.trim();
  if (t === "") return undefined;
  if (/^\d{9,10}$/.test(t)) return Number(t) * 1_000;
  const m = /^(\d{4})(\d{2})(\d{2})(?:[ -](\d{2}):(\d{2}):(\d{2}))?/.exec(t);
  if (!m) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0"] = m;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
}
