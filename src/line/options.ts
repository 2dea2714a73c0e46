/**
 * Line options: every knob has a DEFAULT_* constant (units in the name) and is resolved once;
 * the rest of the line never sees `undefined`. Heartbeat and fast-path defaults are the ones
 * interfaces.md fixes ("Line states and health").
 */
import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";
import { InvalidArgumentError } from "../errors.js";
import type { Logger } from "../logger.js";
import { silentLogger } from "../logger.js";
import { MAX_FRAME_BYTES } from "../protocol/frame.js";
import { MAX_SERVER_VERSION, MIN_SERVER_VERSION } from "../protocol/versions.js";
import { type BackoffFn, exponentialBackoff } from "./backoff.js";
import { type ClientIdSource, fixedClientId } from "./client-ids.js";
import { type Connector, hostPortConnector } from "./connector.js";
import type { IdentityCheck } from "./identity-guard.js";

export const DEFAULT_LINE_NAME = "default";
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 4002;
export const DEFAULT_CLIENT_ID = 0;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** From socket open to NEXT_VALID_ID + MANAGED_ACCTS. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
export const DEFAULT_HEARTBEAT_IDLE_MS = 2_000;
export const DEFAULT_HEARTBEAT_DEADLINE_MS = 2_500;
export const DEFAULT_HEARTBEAT_MAX_MISSED = 1;
export const DEFAULT_BACKOFF_INITIAL_MS = 250;
export const DEFAULT_BACKOFF_MAX_MS = 30_000;
/** Ready this long and the next loss starts backoff from the first attempt again. */
export const DEFAULT_STABLE_AFTER_MS = 60_000;
export const DEFAULT_FAST_PROBE_INTERVAL_MS = 500;
export const DEFAULT_SLEEP_CHECK_INTERVAL_MS = 1_000;
export const DEFAULT_SLEEP_MIN_LATE_MS = 10_000;
/** A line with placed orders waits this long for its own id after 326 (interfaces.md, "Orders"). */
export const DEFAULT_ORDER_CLIENT_ID_WAIT_MS = 30_000;
/** close() waits this long for the socket to flush before it cuts it. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 2_000;

export interface LineOptions {
  name?: string;
  host?: string;
  port?: number;
  /** How to reach the gateway; replaces host/port. */
  connector?: Connector;
  /** A fixed client id; shorthand for `clientIds: fixedClientId(n)`. */
  clientId?: number;
  clientIds?: ClientIdSource;
  minVersion?: number;
  maxVersion?: number;
  /** Text after the version range in the hello, e.g. "+PACEAPI". */
  connectOptions?: string;
  connectTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  heartbeatIdleMs?: number;
  heartbeatDeadlineMs?: number;
  heartbeatMaxMissed?: number;
  /** Custom reconnect delays; replaces backoffInitialMs/backoffMaxMs. */
  backoff?: BackoffFn;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  stableAfterMs?: number;
  /** 0 turns the fast path off. */
  fastProbeIntervalMs?: number;
  sleepCheckIntervalMs?: number;
  sleepMinLateMs?: number;
  orderClientIdWaitMs?: number;
  closeTimeoutMs?: number;
  maxFrameBytes?: number;
  /**
   * permIds (0 when not known yet) of the live orders under the line's client id, supplied by
   * the switch. Without it the line assumes orders are live once it wrote a PLACE_ORDER.
   */
  placedOrders?: () => readonly number[];
  /**
   * The identity the line holds to (line identity): asked at every handshake; a gateway with
   * other accounts is refused. Without it any accounts are accepted.
   */
  identity?: IdentityCheck;
  clock?: Clock;
  /** A draw in [0, 1) for backoff jitter. */
  random?: () => number;
  logger?: Logger;
}

export interface ResolvedLineOptions {
  name: string;
  connector: Connector;
  clientIds: ClientIdSource;
  minVersion: number;
  maxVersion: number;
  connectOptions: string;
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
  heartbeatIdleMs: number;
  heartbeatDeadlineMs: number;
  heartbeatMaxMissed: number;
  backoff: BackoffFn;
  stableAfterMs: number;
  fastProbeIntervalMs: number;
  sleepCheckIntervalMs: number;
  sleepMinLateMs: number;
  orderClientIdWaitMs: number;
  closeTimeoutMs: number;
  maxFrameBytes: number;
  placedOrders: (() => readonly number[]) | undefined;
  identity: IdentityCheck | undefined;
  clock: Clock;
  random: () => number;
  logger: Logger;
}

function conflict(a: string, b: string): never {
  throw new InvalidArgumentError(a, `line options: give either ${a} or ${b}, not both`);
}

function ms(field: string, value: number | undefined, fallback: number, min = 0): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min) {
    throw new InvalidArgumentError(field, `line options: ${field} must be a number >= ${min} (ms), got ${v}`);
  }
  return v;
}

function int(field: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(
      field,
      `line options: ${field} must be an integer in ${min}..${max}, got ${v}`,
    );
  }
  return v;
}

export function resolveLineOptions(options: LineOptions = {}): ResolvedLineOptions {
  if (options.connector && (options.host !== undefined || options.port !== undefined)) {
    conflict("connector", "host/port");
  }
  if (options.clientIds && options.clientId !== undefined) conflict("clientIds", "clientId");
  if (options.backoff && (options.backoffInitialMs !== undefined || options.backoffMaxMs !== undefined)) {
    conflict("backoff", "backoffInitialMs/backoffMaxMs");
  }
  const minVersion = int("minVersion", options.minVersion, MIN_SERVER_VERSION, 100, MAX_SERVER_VERSION);
  const maxVersion = int(
    "maxVersion",
    options.maxVersion,
    MAX_SERVER_VERSION,
    minVersion,
    MAX_SERVER_VERSION,
  );
  const host = options.host ?? DEFAULT_HOST;
  const port = int("port", options.port, DEFAULT_PORT, 1, 65_535);
  const initialMs = ms("backoffInitialMs", options.backoffInitialMs, DEFAULT_BACKOFF_INITIAL_MS, 1);
  const maxMs = ms("backoffMaxMs", options.backoffMaxMs, DEFAULT_BACKOFF_MAX_MS, initialMs);
  return {
    name: options.name ?? DEFAULT_LINE_NAME,
    connector: options.connector ?? hostPortConnector(host, port),
    clientIds:
      options.clientIds ??
      fixedClientId(int("clientId", options.clientId, DEFAULT_CLIENT_ID, 0, 2 ** 31 - 1)),
    minVersion,
    maxVersion,
    connectOptions: options.connectOptions ?? "",
    connectTimeoutMs: ms("connectTimeoutMs", options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 1),
    handshakeTimeoutMs: ms("handshakeTimeoutMs", options.handshakeTimeoutMs, DEFAULT_HANDSHAKE_TIMEOUT_MS, 1),
    heartbeatIdleMs: ms("heartbeatIdleMs", options.heartbeatIdleMs, DEFAULT_HEARTBEAT_IDLE_MS, 1),
    heartbeatDeadlineMs: ms(
      "heartbeatDeadlineMs",
      options.heartbeatDeadlineMs,
      DEFAULT_HEARTBEAT_DEADLINE_MS,
      1,
    ),
    heartbeatMaxMissed: int(
      "heartbeatMaxMissed",
      options.heartbeatMaxMissed,
      DEFAULT_HEARTBEAT_MAX_MISSED,
      1,
      100,
    ),
    backoff: options.backoff ?? exponentialBackoff({ initialMs, maxMs }),
    stableAfterMs: ms("stableAfterMs", options.stableAfterMs, DEFAULT_STABLE_AFTER_MS),
    fastProbeIntervalMs: ms(
      "fastProbeIntervalMs",
      options.fastProbeIntervalMs,
      DEFAULT_FAST_PROBE_INTERVAL_MS,
    ),
    sleepCheckIntervalMs: ms(
      "sleepCheckIntervalMs",
      options.sleepCheckIntervalMs,
      DEFAULT_SLEEP_CHECK_INTERVAL_MS,
      1,
    ),
    sleepMinLateMs: ms("sleepMinLateMs", options.sleepMinLateMs, DEFAULT_SLEEP_MIN_LATE_MS),
    orderClientIdWaitMs: ms(
      "orderClientIdWaitMs",
      options.orderClientIdWaitMs,
      DEFAULT_ORDER_CLIENT_ID_WAIT_MS,
    ),
    closeTimeoutMs: ms("closeTimeoutMs", options.closeTimeoutMs, DEFAULT_CLOSE_TIMEOUT_MS),
    maxFrameBytes: int("maxFrameBytes", options.maxFrameBytes, MAX_FRAME_BYTES, 1, MAX_FRAME_BYTES),
    placedOrders: options.placedOrders,
    identity: options.identity,
    clock: options.clock ?? systemClock,
    // The one place a real random source is named: the default for an injected dependency.
    random: options.random ?? Math.random,
    logger: options.logger ?? silentLogger,
  };
}
