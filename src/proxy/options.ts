/**
 * Options of the TWS-protocol proxy: every default a named constant, resolved once, so the
 * rest of the proxy never sees `undefined`.
 */

import { AllowList, isLoopbackHost } from "../access/allow-list.js";
import { type Clock, systemClock } from "../clock.js";
import { InvalidArgumentError } from "../errors.js";
import { type Logger, silentLogger } from "../logger.js";
import { MAX_FRAME_BYTES } from "../protocol/frame.js";

export const DEFAULT_PROXY_HOST = "127.0.0.1";
export const DEFAULT_PROXY_PORT = 4010;
/** interfaces.md "Versions": downstream frames are bounded far below IB's 16 MiB. */
export const DEFAULT_PROXY_MAX_FRAME_BYTES = 1024 * 1024;
/** A downstream handshake (prefix, version, START_API) must finish within this. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Until the upstream has been ready once, a new downstream waits this long for its version. */
export const DEFAULT_UPSTREAM_WAIT_MS = 10_000;
/** Unsent output above this drops the downstream: a client that does not read must not grow memory. */
export const DEFAULT_MAX_WRITE_BUFFER_BYTES = 8 * 1024 * 1024;
/** Downstream sockets at once; one more is refused. */
export const DEFAULT_MAX_DOWNSTREAMS = 1_000;
/** Frames a downstream may send before its handshake is answered (TWS reads none of them). */
export const DEFAULT_MAX_EARLY_FRAMES = 16;

/** What the proxy reads of the pacer: its wait events, to count waits per downstream. */
export interface PacerWaits {
  readonly events: {
    on(type: "pacer.wait", fn: (e: { tenant: string; waitedMs: number }) => void): () => void;
  };
}

export interface ProxyOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Downstream addresses allowed, as CIDRs or plain addresses; empty = any (loopback binds only). */
  allow?: readonly string[];
  /** Answer a second downstream with a client id already connected with 326, as TWS does. */
  strictClientIds?: boolean;
  maxFrameBytes?: number;
  handshakeTimeoutMs?: number;
  upstreamWaitMs?: number;
  maxWriteBufferBytes?: number;
  maxDownstreams?: number;
  /** The pacer the switch uses; its wait events become per-downstream `waits`. */
  pacer?: PacerWaits;
  clock?: Clock;
  logger?: Logger;
}

export interface ResolvedProxyOptions {
  host: string;
  port: number;
  allow: AllowList;
  strictClientIds: boolean;
  maxFrameBytes: number;
  handshakeTimeoutMs: number;
  upstreamWaitMs: number;
  maxWriteBufferBytes: number;
  maxDownstreams: number;
  maxEarlyFrames: number;
  pacer: PacerWaits | undefined;
  clock: Clock;
  logger: Logger;
}

function positive(
  field: string,
  v: number | undefined,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v <= 0 || v > max) {
    throw new InvalidArgumentError(field, `proxy ${field} must be an integer in 1..${max}, got ${v}`);
  }
  return v;
}

export function resolveProxyOptions(o: ProxyOptions = {}): ResolvedProxyOptions {
  const host = o.host ?? DEFAULT_PROXY_HOST;
  const port = o.port ?? DEFAULT_PROXY_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InvalidArgumentError("proxyPort", `proxy port must be 0..65535, got ${port}`);
  }
  const allow = new AllowList(o.allow ?? []);
  // interfaces.md "Access": anyone who can reach a non-loopback proxy could trade the account.
  if (allow.empty && !isLoopbackHost(host)) {
    throw new InvalidArgumentError(
      "allow",
      `the proxy binds ${host}, which is not loopback: give --allow <cidr,…> naming the clients allowed`,
    );
  }
  return {
    host,
    port,
    allow,
    strictClientIds: o.strictClientIds ?? false,
    maxFrameBytes: positive("maxFrameBytes", o.maxFrameBytes, DEFAULT_PROXY_MAX_FRAME_BYTES, MAX_FRAME_BYTES),
    handshakeTimeoutMs: positive("handshakeTimeoutMs", o.handshakeTimeoutMs, DEFAULT_HANDSHAKE_TIMEOUT_MS),
    upstreamWaitMs: positive("upstreamWaitMs", o.upstreamWaitMs, DEFAULT_UPSTREAM_WAIT_MS),
    maxWriteBufferBytes: positive(
      "maxWriteBufferBytes",
      o.maxWriteBufferBytes,
      DEFAULT_MAX_WRITE_BUFFER_BYTES,
    ),
    maxDownstreams: positive("maxDownstreams", o.maxDownstreams, DEFAULT_MAX_DOWNSTREAMS),
    maxEarlyFrames: DEFAULT_MAX_EARLY_FRAMES,
    pacer: o.pacer,
    clock: o.clock ?? systemClock,
    logger: o.logger ?? silentLogger,
  };
}
