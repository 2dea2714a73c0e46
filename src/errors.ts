/**
 * Typed errors shared by every part. Callers branch on `code` (a stable string);
 * `ibCode` carries IB's numeric error code where IB has one.
 * The brand symbol makes `isSwitchboardError` work across two copies of the package.
 */
const BRAND = Symbol.for("ib-switchboard.error");

export type ErrorCode =
  | "invalid_argument"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "range_exhausted"
  | "pacing_timeout"
  | "unhealthy"
  | "upstream_unavailable"
  | "timeout"
  | "closed"
  | "aborted"
  | "protocol"
  | "frame_too_large"
  | "handshake"
  | "client_id_in_use"
  | "ib_error"
  | "lease_invalid"
  | "store"
  | "queue_full"
  | "config"
  /** This daemon is a standby of an HA group (HTTP 503). */
  | "standby"
  /** A write to the HA group's state carried a fencing token that is no longer current. */
  | "fenced";

export interface SwitchboardErrorOptions {
  ibCode?: number;
  field?: string;
  /** A stable word for why (the line's last failure, `identity_changed`, `client_id_held`…). */
  reason?: string;
  cause?: unknown;
}

export class SwitchboardError extends Error {
  readonly code: ErrorCode;
  readonly ibCode: number | undefined;
  readonly field: string | undefined;
  readonly reason: string | undefined;
  readonly [BRAND] = true;

  constructor(code: ErrorCode, message: string, options: SwitchboardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.ibCode = options.ibCode;
    this.field = options.field;
    this.reason = options.reason;
  }

  /** The wire shape used by every HTTP answer: `{code, message, ibCode?, field?}`. */
  toJSON(): { code: ErrorCode; message: string; ibCode?: number; field?: string; reason?: string } {
    return {
      code: this.code,
      message: this.message,
      ...(this.ibCode === undefined ? {} : { ibCode: this.ibCode }),
      ...(this.field === undefined ? {} : { field: this.field }),
      ...(this.reason === undefined ? {} : { reason: this.reason }),
    };
  }
}

export function isSwitchboardError(err: unknown): err is SwitchboardError {
  return typeof err === "object" && err !== null && (err as Record<symbol, unknown>)[BRAND] === true;
}

export class InvalidArgumentError extends SwitchboardError {
  constructor(field: string, message: string) {
    super("invalid_argument", message, { field });
  }
}

export class ClosedError extends SwitchboardError {
  constructor(what: string) {
    super("closed", `${what} is closed`);
  }
}

export class AbortedError extends SwitchboardError {
  constructor(reason?: unknown) {
    super("aborted", "the operation was aborted", { cause: reason });
  }
}

export class TimeoutError extends SwitchboardError {
  constructor(what: string, ms: number) {
    super("timeout", `${what} did not finish within ${ms} ms`);
  }
}

/** A malformed frame or message: the stream cannot be trusted past this point. */
export class ProtocolError extends SwitchboardError {
  constructor(message: string, options: SwitchboardErrorOptions = {}) {
    super("protocol", message, options);
  }
}

/** IB client-side code 507 "bad message length". */
export class FrameTooLargeError extends SwitchboardError {
  readonly length: number;
  readonly limit: number;
  constructor(length: number, limit: number) {
    super("frame_too_large", `frame of ${length} bytes exceeds the limit of ${limit} bytes`, { ibCode: 507 });
    this.length = length;
    this.limit = limit;
  }
}

export class HandshakeError extends SwitchboardError {
  constructor(message: string, options: SwitchboardErrorOptions = {}) {
    super("handshake", message, options);
  }
}

/** IB error 326: the client id is already connected to this TWS / Gateway. */
export class ClientIdInUseError extends SwitchboardError {
  readonly clientId: number;
  constructor(clientId: number) {
    super("client_id_in_use", `client id ${clientId} is already in use`, { ibCode: 326 });
    this.clientId = clientId;
  }
}

/** An ERR_MSG from TWS tied to a request. */
export class IbError extends SwitchboardError {
  readonly reqId: number;
  constructor(ibCode: number, message: string, reqId: number) {
    super(ibCodeToErrorCode(ibCode), message, { ibCode });
    this.reqId = reqId;
  }
}

export class UpstreamUnavailableError extends SwitchboardError {
  constructor(message = "the upstream line is not ready", options: SwitchboardErrorOptions = {}) {
    super("upstream_unavailable", message, { ibCode: 504, ...options });
  }
}

function ibCodeToErrorCode(ibCode: number): ErrorCode {
  if (ibCode === 200) return "not_found";
  if (ibCode === 326) return "client_id_in_use";
  // 504 "Not connected": the switch or a client library answered for a line that is down.
  if (ibCode === 504) return "upstream_unavailable";
  return "ib_error";
}
