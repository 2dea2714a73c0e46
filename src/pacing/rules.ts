/**
 * IB's pacing rules as data: ONE table that the pacer uses to schedule and the mock gateway
 * uses to enforce, so both agree by construction. Numbers are IB's documented defaults
 * (tws-protocol.md section 7, interfaces.md "Pacing rules"); every one can be overridden
 * from JSON (`--pacing-rules file.json`) and every window except the 1 s message rate is
 * scaled by one time-scale factor.
 */
import { z } from "zod";
import { InvalidArgumentError } from "../errors.js";
import { barSeconds } from "../history/bar-sizes.js";

/** What a request is, as far as pacing cares. */
export type RequestKind =
  | "historicalData"
  | "historicalTicks"
  | "headTimestamp"
  | "histogram"
  | "marketData"
  | "marketDataSnapshot"
  | "marketDepth"
  | "tickByTick"
  | "realTimeBars"
  | "accountSummary"
  | "scanner"
  | "cancel"
  | "heartbeat"
  | "order"
  | "other";

export const REQUEST_KINDS: readonly RequestKind[] = [
  "historicalData",
  "historicalTicks",
  "headTimestamp",
  "histogram",
  "marketData",
  "marketDataSnapshot",
  "marketDepth",
  "tickByTick",
  "realTimeBars",
  "accountSummary",
  "scanner",
  "cancel",
  "heartbeat",
  "order",
  "other",
];

/** Fields of a request that a keyed window rule can group by. */
export type KeyField = "contract" | "exchange" | "whatToShow" | "end" | "duration" | "barSize" | "useRTH";

/**
 * "connection": counted per API connection (IB's 50 msg/s). "gateway": counted per TWS /
 * Gateway across every client on it (historical-data pacing is done by IB's HMDS per session).
 */
export type RuleScope = "connection" | "gateway";

interface RuleBase {
  readonly id: string;
  readonly description: string;
  /** Request kinds the rule counts; "*" = every message. */
  readonly appliesTo: readonly RequestKind[] | "*";
  readonly limit: number;
  readonly scope: RuleScope;
  /** The error IB answers with when the rule is broken (the mock sends exactly this). */
  readonly ibCode: number;
  readonly ibMessage: string;
  readonly enabled: boolean;
}

/** At most `limit` units inside any sliding window of `windowMs`; unit `limit + 1` is a violation. */
export interface WindowRule extends RuleBase {
  readonly type: "window";
  readonly windowMs: number;
  /** What the pacer aims at (≤ limit): IB tolerates 50 msg/s, we send at most 45. */
  readonly target: number;
  /** Group requests by these fields (one window per distinct key); [] = one window. */
  readonly keyBy: readonly KeyField[];
  /** Count the request's cost (BID_ASK = 2) rather than 1. */
  readonly weighted: boolean;
  /** false only for the message rate: `--time-scale` never shortens it. */
  readonly scalable: boolean;
  /**
   * Historical-data requests count only when their bars are at most this many seconds
   * (IB's current limits: 30); other kinds in `appliesTo` always count. Absent: every bar size.
   */
  readonly maxBarSeconds?: number;
  /**
   * Pacer only (the gateway ignores it): send at most ceil(target × spreadMs / windowMs) units
   * in any `spreadMs`. A full window sent as one burst is counted by the gateway when it reads
   * it; if that burst reaches it later than the next one (a busy event loop on either side),
   * the gateway sees both in one window and answers 100. Spread evenly, the same target
   * survives a difference in delay of about 1.5 × spreadMs.
   */
  readonly spreadMs?: number;
  /**
   * Pacer only: a unit sent while nothing has come back from the gateway since keeps counting
   * until something does (or this long). A frozen TWS reads nothing and answers nothing; when
   * it wakes it counts everything it read at once, so what the pacer sent into the silence
   * must not have left its window yet.
   */
  readonly holdUnheardMs?: number;
}

/** At most `limit` requests open at once; a request holds a slot until it ends or is cancelled. */
export interface CapacityRule extends RuleBase {
  readonly type: "capacity";
}

export type PacingRule = WindowRule | CapacityRule;

export interface PacingRules {
  readonly rules: readonly PacingRule[];
  /** Cost of a historical request by whatToShow; anything not listed costs 1. */
  readonly whatToShowCost: Readonly<Record<string, number>>;
  /** The factor applied by scaleRules (1 = IB's real windows). */
  readonly timeScale: number;
  /** The profile the table comes from (absent on hand-built tables). */
  readonly profile?: PacingProfile;
}

const HMDS = "Historical Market Data Service error message:";
const HISTORICAL_KINDS: readonly RequestKind[] = [
  "historicalData",
  "historicalTicks",
  "headTimestamp",
  "histogram",
];
const IDENTICAL_KEY: readonly KeyField[] = [
  "contract",
  "exchange",
  "end",
  "duration",
  "barSize",
  "whatToShow",
  "useRTH",
];

/**
 * The table IB enforced before it lifted the hard historical limits for larger bars: the
 * 15 s identical, 6-per-2 s and 60-per-10-min rules on every bar size.
 */
export const LEGACY_RULES: PacingRules = {
  timeScale: 1,
  whatToShowCost: { BID_ASK: 2 },
  rules: [
    {
      type: "window",
      id: "messageRate",
      description: "messages per sliding second per connection",
      appliesTo: "*",
      windowMs: 1_000,
      limit: 50,
      target: 45,
      spreadMs: 100,
      holdUnheardMs: 5_000,
      keyBy: [],
      weighted: false,
      scalable: false,
      scope: "connection",
      ibCode: 100,
      ibMessage: "Max rate of messages per second has been exceeded:max=50",
      enabled: true,
    },
    {
      type: "window",
      id: "historicalIdentical",
      description:
        "identical historical request (contract, exchange, end, duration, bar, what, RTH) within 15 s",
      appliesTo: ["historicalData", "historicalTicks"],
      windowMs: 15_000,
      limit: 1,
      target: 1,
      keyBy: IDENTICAL_KEY,
      weighted: false,
      scalable: true,
      scope: "gateway",
      ibCode: 162,
      ibMessage: `${HMDS}Historical data request pacing violation`,
      enabled: true,
    },
    {
      type: "window",
      id: "historicalSameContract",
      description: "historical requests per (contract, exchange, whatToShow) per 2 s",
      appliesTo: HISTORICAL_KINDS,
      windowMs: 2_000,
      limit: 5,
      target: 5,
      keyBy: ["contract", "exchange", "whatToShow"],
      weighted: true,
      scalable: true,
      scope: "gateway",
      ibCode: 162,
      ibMessage: `${HMDS}Historical data request pacing violation`,
      enabled: true,
    },
    {
      type: "window",
      id: "historicalTotal",
      description: "historical requests per sliding 10 minutes",
      appliesTo: HISTORICAL_KINDS,
      windowMs: 600_000,
      limit: 60,
      target: 60,
      keyBy: [],
      weighted: true,
      scalable: true,
      scope: "gateway",
      ibCode: 162,
      ibMessage: `${HMDS}Historical data request pacing violation`,
      enabled: true,
    },
    {
      type: "window",
      id: "tickByTickPerContract",
      description: "tick-by-tick requests per instrument per 15 s",
      appliesTo: ["tickByTick"],
      windowMs: 15_000,
      limit: 1,
      target: 1,
      keyBy: ["contract"],
      weighted: false,
      scalable: true,
      scope: "gateway",
      ibCode: 10190,
      ibMessage: "Max number of tick-by-tick requests has been reached.",
      enabled: true,
    },
    capacity(
      "openHistorical",
      "simultaneous open historical requests",
      HISTORICAL_KINDS,
      50,
      322,
      "Error processing request:Max number of simultaneous open historical data requests (50) exceeded",
    ),
    capacity(
      "marketDataLines",
      "market-data lines in use",
      ["marketData", "marketDataSnapshot"],
      100,
      101,
      "Max number of tickers has been reached",
    ),
    capacity(
      "marketDepth",
      "market-depth subscriptions",
      ["marketDepth"],
      3,
      309,
      "Max number (3) of market depth requests has been reached",
    ),
    capacity(
      "accountSummary",
      "account-summary subscriptions",
      ["accountSummary"],
      2,
      322,
      "Error processing request:Maximum number of account summary requests exceeded",
    ),
    capacity(
      "scanners",
      "market-scanner subscriptions",
      ["scanner"],
      10,
      322,
      "Error processing request:Maximum number of scanner subscriptions (10) exceeded",
    ),
    capacity(
      "tickByTick",
      "tick-by-tick subscriptions",
      ["tickByTick"],
      3,
      10190,
      "Max number of tick-by-tick requests has been reached.",
    ),
  ],
};

/** Bars of 30 secs or less still meet IB's hard historical limits (its current rules). */
export const SMALL_BAR_SECONDS = 30;
const HARD_HISTORICAL = new Set(["historicalIdentical", "historicalSameContract", "historicalTotal"]);

/**
 * IB's rules as published now: the hard historical limits apply to bars of 30 secs or less
 * (and to head timestamps, histograms and ticks); larger bars are limited by the 50 open
 * historical requests and the message rate.
 */
export const CURRENT_RULES: PacingRules = {
  ...LEGACY_RULES,
  rules: LEGACY_RULES.rules.map((r) =>
    r.type === "window" && HARD_HISTORICAL.has(r.id) ? { ...r, maxBarSeconds: SMALL_BAR_SECONDS } : r,
  ),
};

export type PacingProfile = "current" | "legacy";
export const PACING_PROFILES: readonly PacingProfile[] = ["current", "legacy"];
export const DEFAULT_PACING_PROFILE: PacingProfile = "current";

const PROFILE_TABLES: Readonly<Record<PacingProfile, PacingRules>> = {
  current: CURRENT_RULES,
  legacy: LEGACY_RULES,
};

/** The table of a profile (the default one: `current`). */
export function profileRules(profile: PacingProfile = DEFAULT_PACING_PROFILE): PacingRules {
  const t = PROFILE_TABLES[profile];
  if (!t) {
    throw new InvalidArgumentError(
      "pacingProfile",
      `pacing profile must be one of ${PACING_PROFILES.join(", ")}, got ${String(profile)}`,
    );
  }
  return t;
}

/** The default table: the `current` profile. */
export const DEFAULT_RULES: PacingRules = CURRENT_RULES;

function capacity(
  id: string,
  description: string,
  appliesTo: readonly RequestKind[],
  limit: number,
  ibCode: number,
  ibMessage: string,
): CapacityRule {
  return {
    type: "capacity",
    id,
    description,
    appliesTo,
    limit,
    scope: "gateway",
    ibCode,
    ibMessage,
    enabled: true,
  };
}

/**
 * Does the rule count this request? `barSize` (IB's spelling) matters only for rules limited
 * to small bars; a historical request of unknown bar size counts (the safe side).
 */
export function ruleApplies(rule: PacingRule, kind: RequestKind, barSize?: string): boolean {
  if (!rule.enabled || (rule.appliesTo !== "*" && !rule.appliesTo.includes(kind))) return false;
  if (rule.type !== "window" || rule.maxBarSeconds === undefined || kind !== "historicalData") return true;
  const seconds = barSeconds(barSize);
  return seconds === undefined || seconds <= rule.maxBarSeconds;
}

/**
 * Shorten every scalable window by `timeScale` (k = 10 makes 10 min last 1 min). The 1 s
 * message rate is never scaled: it is a property of the socket, not of IB's servers.
 * Scaling is relative to IB's real numbers, so scaling twice does not compound. Windows are
 * rounded up to whole ms so every time comparison in the ledger is exact integer arithmetic.
 */
export function scaleRules(rules: PacingRules, timeScale: number): PacingRules {
  if (!Number.isFinite(timeScale) || timeScale <= 0) {
    throw new InvalidArgumentError("timeScale", `time scale must be a positive number, got ${timeScale}`);
  }
  const factor = timeScale / rules.timeScale;
  return {
    ...rules,
    timeScale,
    rules: rules.rules.map((r) =>
      r.type === "window" && r.scalable ? { ...r, windowMs: Math.ceil(r.windowMs / factor) } : r,
    ),
  };
}

const ruleOverride = z.strictObject({
  windowMs: z.number().positive().optional(),
  limit: z.number().int().positive().optional(),
  target: z.number().int().positive().optional(),
  /** Pacer-only smoothing of a window rule; 0 turns it off. */
  spreadMs: z.number().int().min(0).optional(),
  /** Pacer-only: how long a unit sent into the gateway's silence may count; 0 turns it off. */
  holdUnheardMs: z.number().int().min(0).optional(),
  enabled: z.boolean().optional(),
});

/** The shape of a `--pacing-rules file.json` override. */
export const pacingRulesOverrideSchema = z.strictObject({
  rules: z.record(z.string(), ruleOverride).optional(),
  whatToShowCost: z.record(z.string(), z.number().int().positive()).optional(),
});
export type PacingRulesOverride = z.infer<typeof pacingRulesOverrideSchema>;

/**
 * Apply a parsed JSON override to a table. Unknown rule ids, a target above the limit or a
 * window on a capacity rule are refused with the key named (the CLI exits 2 on them).
 */
export function applyRulesOverride(base: PacingRules, json: unknown): PacingRules {
  const parsed = pacingRulesOverrideSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // An unknown key is reported on its parent; name the key itself.
    const path = issue
      ? [...issue.path, ...(issue.code === "unrecognized_keys" ? issue.keys.slice(0, 1) : [])]
      : [];
    const field = path.map(String).join(".");
    throw new InvalidArgumentError(
      field || "pacingRules",
      `invalid pacing rules: ${field} ${issue?.message ?? ""}`,
    );
  }
  const over = parsed.data;
  const known = new Set(base.rules.map((r) => r.id));
  for (const id of Object.keys(over.rules ?? {})) {
    if (!known.has(id)) {
      throw new InvalidArgumentError(
        `rules.${id}`,
        `unknown pacing rule "${id}"; known: ${[...known].join(", ")}`,
      );
    }
  }
  const rules = base.rules.map((r): PacingRule => {
    const o = over.rules?.[r.id];
    if (!o) return r;
    if (r.type === "capacity") {
      if (
        o.windowMs !== undefined ||
        o.target !== undefined ||
        o.spreadMs !== undefined ||
        o.holdUnheardMs !== undefined
      ) {
        throw new InvalidArgumentError(
          `rules.${r.id}`,
          `"${r.id}" is a capacity rule: only limit and enabled apply`,
        );
      }
      return { ...r, limit: o.limit ?? r.limit, enabled: o.enabled ?? r.enabled };
    }
    const limit = o.limit ?? r.limit;
    // A lowered limit pulls the target down with it; the pacer never aims above the hard limit.
    const target = o.target ?? Math.min(r.target, limit);
    if (target > limit) {
      throw new InvalidArgumentError(`rules.${r.id}.target`, `target ${target} is above the limit ${limit}`);
    }
    // Overrides are written in IB's real time; the table may already be scaled.
    const windowMs =
      o.windowMs === undefined
        ? r.windowMs
        : r.scalable
          ? Math.ceil(o.windowMs / base.timeScale)
          : Math.ceil(o.windowMs);
    const { spreadMs: _spread, holdUnheardMs: _hold, ...rest } = r;
    const spreadMs = o.spreadMs ?? r.spreadMs;
    const holdUnheardMs = o.holdUnheardMs ?? r.holdUnheardMs;
    return {
      ...rest,
      limit,
      target,
      windowMs,
      enabled: o.enabled ?? r.enabled,
      ...(spreadMs ? { spreadMs } : {}),
      ...(holdUnheardMs ? { holdUnheardMs } : {}),
    };
  });
  return { ...base, rules, whatToShowCost: { ...base.whatToShowCost, ...(over.whatToShowCost ?? {}) } };
}

/** The rules a process runs with: the profile's table, then the override, then the time scale. */
export function resolveRules(
  options: { profile?: PacingProfile; override?: unknown; timeScale?: number } = {},
): PacingRules {
  const table = profileRules(options.profile);
  const base = options.override === undefined ? table : applyRulesOverride(table, options.override);
  return { ...scaleRules(base, options.timeScale ?? 1), profile: options.profile ?? DEFAULT_PACING_PROFILE };
}

export function findRule(rules: PacingRules, id: string): PacingRule | undefined {
  return rules.rules.find((r) => r.id === id);
}

/** Smallest enabled scaled window, so tests and benches can keep it ≥ 250 ms. */
export function smallestScaledWindowMs(rules: PacingRules): number {
  let min = Number.POSITIVE_INFINITY;
  for (const r of rules.rules)
    if (r.type === "window" && r.enabled && r.scalable) min = Math.min(min, r.windowMs);
  return min;
}
