/**
 * Options of the mock gateway: every default is a named constant, resolved once so the rest
 * of the mock never sees `undefined`.
 */
import { type Clock, systemClock } from "../clock.js";
import { InvalidArgumentError } from "../errors.js";
import { type Logger, silentLogger } from "../logger.js";
import {
  DEFAULT_PACING_PROFILE,
  PACING_PROFILES,
  type PacingProfile,
  type PacingRules,
  resolveRules,
} from "../pacing/rules.js";
import { MAX_FRAME_BYTES } from "../protocol/frame.js";
import { DEFAULT_SERVER_VERSION, MAX_SERVER_VERSION, MIN_SERVER_VERSION } from "../protocol/versions.js";
import { parseInstant, runningClockFrom, type WallClock } from "./wall-clock.js";

export const DEFAULT_MOCK_HOST = "127.0.0.1";
export const DEFAULT_MOCK_PORT = 4002;
export const DEFAULT_MOCK_CONTROL_PORT = 4102;
export const DEFAULT_MOCK_ACCOUNTS: readonly string[] = ["DU1234567"];
/** TWS accepts up to 32 simultaneous API clients. */
export const DEFAULT_MAX_CLIENTS = 32;
export const DEFAULT_SEED = 1;
export const DEFAULT_TIME_SCALE = 1;
export const DEFAULT_ID_HOLD_MS = 0;
export const DEFAULT_MAX_RATE_VIOLATIONS = 3;
/** Violations of the 50 msg/s rule are counted over this window (never scaled: it is a socket rule). */
export const DEFAULT_RATE_VIOLATION_WINDOW_MS = 60_000;
/** How often streaming market data ticks (in real time; not scaled). */
export const DEFAULT_TICK_INTERVAL_MS = 250;
/** IB's real-time bars are 5-second bars; this one is scaled by --time-scale. */
export const DEFAULT_REAL_TIME_BAR_MS = 5_000;
/** A socket whose unsent output exceeds this loses streaming ticks (bounded memory). */
export const DEFAULT_MAX_WRITE_BUFFER_BYTES = 8 * 1024 * 1024;
export const DEFAULT_FIRST_ORDER_ID = 1;
/** HMDS answers at once unless a benchmark asks for IB's latency. */
export const DEFAULT_HISTORY_LATENCY_MS = 0;
export const DEFAULT_HISTORY_SOFT_LIMIT = 60;

export interface MockGatewayOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** HTTP control API; 0 picks a free port, null disables it. */
  controlPort?: number | null;
  accounts?: readonly string[];
  maxClients?: number;
  /** Highest version negotiated (157..178). */
  serverVersion?: number;
  seed?: number;
  timeScale?: number;
  /** Keep a departed client's id taken this long, as TWS does. */
  idHoldMs?: number;
  maxRateViolations?: number;
  /** IB's pacing as published now (`current`, default) or before it lifted the limits for large bars. */
  pacingProfile?: PacingProfile;
  /** A parsed `--pacing-rules` JSON override (of the profile's table). */
  pacingRules?: unknown;
  /** HMDS answer latency in IB's real ms (scaled by timeScale); 0 = at once. */
  historyLatencyMs?: number;
  /** Extra µs per bar answered (scaled by timeScale). */
  historyBarCostUs?: number;
  /** Large-bar answers per 10 min before the soft slow-down (default 60). */
  historySoftLimit?: number;
  tickIntervalMs?: number;
  maxFrameBytes?: number;
  maxWriteBufferBytes?: number;
  /** Timers and IB's windows (tests may pass a ManualClock). */
  clock?: Clock;
  /**
   * Where the mock's calendar starts (ISO 8601 with a zone, epoch ms or a Date); from there
   * it runs at real pace. Default: the system time.
   */
  now?: string | number | Date;
  /** The calendar clock itself (e.g. `frozenClock(...)`); wins over `now`. */
  wallClock?: WallClock;
  logger?: Logger;
}

export interface ResolvedMockOptions {
  host: string;
  port: number;
  controlPort: number | null;
  accounts: readonly string[];
  maxClients: number;
  serverVersion: number;
  seed: number;
  timeScale: number;
  idHoldMs: number;
  maxRateViolations: number;
  rateViolationWindowMs: number;
  rules: PacingRules;
  pacingProfile: PacingProfile;
  historyLatencyMs: number;
  historyBarCostUs: number;
  historySoftLimit: number;
  tickIntervalMs: number;
  realTimeBarMs: number;
  maxFrameBytes: number;
  maxWriteBufferBytes: number;
  firstOrderId: number;
  clock: Clock;
  wall: WallClock;
  logger: Logger;
}

function intIn(field: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(field, `${field} must be an integer in ${min}..${max}, got ${v}`);
  }
  return v;
}

export function resolveMockOptions(o: MockGatewayOptions = {}): ResolvedMockOptions {
  const timeScale = o.timeScale ?? DEFAULT_TIME_SCALE;
  if (!Number.isFinite(timeScale) || timeScale <= 0) {
    throw new InvalidArgumentError("timeScale", `timeScale must be a positive number, got ${timeScale}`);
  }
  const accounts = o.accounts ?? DEFAULT_MOCK_ACCOUNTS;
  if (accounts.length === 0 || accounts.some((a) => !/^[A-Za-z0-9]+$/.test(a))) {
    throw new InvalidArgumentError(
      "accounts",
      `accounts must be a non-empty list of account codes like DU1234567`,
    );
  }
  const clock = o.clock ?? systemClock;
  const pacingProfile = o.pacingProfile ?? DEFAULT_PACING_PROFILE;
  if (!PACING_PROFILES.includes(pacingProfile))
    throw new InvalidArgumentError(
      "pacingProfile",
      `pacingProfile must be one of ${PACING_PROFILES.join(", ")}, got ${String(pacingProfile)}`,
    );
  let wall: WallClock = o.wallClock ?? clock;
  if (!o.wallClock && o.now !== undefined) {
    const start = parseInstant(o.now);
    if (start === undefined)
      throw new InvalidArgumentError(
        "now",
        `now must be an ISO 8601 instant with a zone, like 2026-12-06T15:00:00Z, got ${String(o.now)}`,
      );
    wall = runningClockFrom(start);
  }
  return {
    host: o.host ?? DEFAULT_MOCK_HOST,
    port: intIn("port", o.port ?? DEFAULT_MOCK_PORT, 0, 65_535),
    controlPort:
      o.controlPort === null
        ? null
        : intIn("controlPort", o.controlPort ?? DEFAULT_MOCK_CONTROL_PORT, 0, 65_535),
    accounts: [...accounts],
    maxClients: intIn("maxClients", o.maxClients ?? DEFAULT_MAX_CLIENTS, 1, 10_000),
    serverVersion: intIn(
      "serverVersion",
      o.serverVersion ?? DEFAULT_SERVER_VERSION,
      MIN_SERVER_VERSION,
      MAX_SERVER_VERSION,
    ),
    seed: intIn("seed", o.seed ?? DEFAULT_SEED, -(2 ** 31), 2 ** 31 - 1),
    timeScale,
    idHoldMs: intIn("idHoldMs", o.idHoldMs ?? DEFAULT_ID_HOLD_MS, 0, 86_400_000),
    maxRateViolations: intIn(
      "maxRateViolations",
      o.maxRateViolations ?? DEFAULT_MAX_RATE_VIOLATIONS,
      1,
      1_000_000,
    ),
    rateViolationWindowMs: DEFAULT_RATE_VIOLATION_WINDOW_MS,
    rules: resolveRules({ profile: pacingProfile, override: o.pacingRules, timeScale }),
    pacingProfile,
    historyLatencyMs: intIn("historyLatencyMs", o.historyLatencyMs ?? DEFAULT_HISTORY_LATENCY_MS, 0, 600_000),
    historyBarCostUs: intIn("historyBarCostUs", o.historyBarCostUs ?? 0, 0, 1_000_000),
    historySoftLimit: intIn(
      "historySoftLimit",
      o.historySoftLimit ?? DEFAULT_HISTORY_SOFT_LIMIT,
      0,
      1_000_000,
    ),
    tickIntervalMs: intIn("tickIntervalMs", o.tickIntervalMs ?? DEFAULT_TICK_INTERVAL_MS, 1, 3_600_000),
    realTimeBarMs: Math.max(1, Math.round(DEFAULT_REAL_TIME_BAR_MS / timeScale)),
    maxFrameBytes: intIn("maxFrameBytes", o.maxFrameBytes ?? MAX_FRAME_BYTES, 16, MAX_FRAME_BYTES),
    maxWriteBufferBytes: o.maxWriteBufferBytes ?? DEFAULT_MAX_WRITE_BUFFER_BYTES,
    firstOrderId: DEFAULT_FIRST_ORDER_ID,
    clock,
    wall,
    logger: o.logger ?? silentLogger,
  };
}
