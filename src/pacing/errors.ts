/** Errors a caller of the pacer sees. Callers branch on `code`. */
import { SwitchboardError } from "../errors.js";

/** The request waited past its deadline (HTTP 429 with Retry-After). */
export class PacingTimeoutError extends SwitchboardError {
  /** When room is expected, if known (ms from now). */
  readonly retryAfterMs: number | undefined;
  readonly ruleId: string | undefined;
  constructor(waitedMs: number, ruleId: string | undefined, retryAfterMs: number | undefined) {
    super(
      "pacing_timeout",
      `request waited ${Math.round(waitedMs)} ms for pacing room${ruleId ? ` (held back by ${ruleId})` : ""}`,
    );
    this.retryAfterMs = retryAfterMs;
    this.ruleId = ruleId;
  }
}

/** The tenant's pacing queue is full. */
export class PacingQueueFullError extends SwitchboardError {
  constructor(tenant: string, limit: number) {
    super(
      "queue_full",
      `pacing queue of tenant "${tenant}" is full (${limit} requests); raise maxQueuePerTenant`,
    );
  }
}
