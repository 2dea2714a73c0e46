/**
 * The one answer shape, `{success, data}` / `{success:false, error:{code, message, ibCode?,
 * field?}}`, and the one table from error code to HTTP status (interfaces.md, "Errors").
 */
import { isSwitchboardError } from "../errors.js";

export interface ApiError {
  code: string;
  message: string;
  ibCode?: number;
  field?: string;
  reason?: string;
}

export const STATUS_OF_CODE: Readonly<Record<string, number>> = {
  invalid_argument: 400,
  config: 400,
  unauthorized: 401,
  forbidden: 403,
  lease_invalid: 403,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  range_exhausted: 409,
  pacing_timeout: 429,
  queue_full: 429,
  not_implemented: 501,
  ib_error: 502,
  unhealthy: 503,
  upstream_unavailable: 503,
  closed: 503,
  standby: 503,
  timeout: 504,
};

export interface ErrorAnswer {
  status: number;
  body: { success: false; error: ApiError };
  headers: Record<string, string>;
}

export function ok<T>(data: T): { success: true; data: T } {
  return { success: true, data };
}

export function failure(status: number, error: ApiError, headers: Record<string, string> = {}): ErrorAnswer {
  return { status, body: { success: false, error }, headers };
}

/** Map anything thrown by a handler to the answer the client sees. */
export function errorAnswer(err: unknown): ErrorAnswer {
  if (isSwitchboardError(err)) {
    let code: string = err.code;
    // A wrong lease token is "forbidden" to an HTTP client; the registry's own code stays in logs.
    if (code === "lease_invalid") code = err.field === "token" ? "forbidden" : "not_found";
    const status = STATUS_OF_CODE[code] ?? 500;
    const headers: Record<string, string> = {};
    if (code === "pacing_timeout" || code === "upstream_unavailable" || code === "queue_full") {
      // Retry-After in whole seconds, at least 1: when room or the line is expected back.
      const after = (err as { retryAfterMs?: number }).retryAfterMs;
      headers["retry-after"] = String(Math.max(1, Math.ceil((after ?? 1_000) / 1_000)));
    }
    return failure(
      status,
      {
        code,
        message: err.message,
        ...(err.ibCode === undefined ? {} : { ibCode: err.ibCode }),
        ...(err.field === undefined ? {} : { field: err.field }),
        ...(err.reason === undefined ? {} : { reason: err.reason }),
      },
      headers,
    );
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (code === "not_implemented") {
    return failure(501, { code, message: (err as Error).message });
  }
  return failure(500, { code: "internal", message: err instanceof Error ? err.message : String(err) });
}
