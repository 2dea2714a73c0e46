/**
 * IB's rules, enforced with the shared pacing table and checker (src/pacing): the mock and
 * the pacer agree by construction. Per connection: the 50 msg/s rate (error 100, and a
 * disconnect after `maxRateViolations` within 60 s). Per gateway: historical pacing (162),
 * market-data lines (101) and the other capacity rules of the table.
 */
import { ENFORCE_MODE, PacingLedger, type Violation } from "../pacing/checker.js";
import { classifyOutgoing, type PacingRequest } from "../pacing/request.js";
import type { PacingRules } from "../pacing/rules.js";

export type Verdict =
  | { type: "ok"; request: PacingRequest }
  /** The message broke the rate: it is not processed. `disconnect` after too many. */
  | { type: "rate"; violation: Violation; disconnect: boolean }
  /** A request broke a gateway rule: answer `violation.ibCode` under the request's id. */
  | { type: "rule"; violation: Violation; reqId: number };

interface ConnectionLedger {
  ledger: PacingLedger;
  violations: number[];
}

export interface EnforcerOptions {
  rules: PacingRules;
  maxRateViolations: number;
  rateViolationWindowMs: number;
}

export class RuleEnforcer {
  readonly #opts: EnforcerOptions;
  readonly #gateway: PacingLedger;
  readonly #connections = new Map<number, ConnectionLedger>();

  constructor(opts: EnforcerOptions) {
    this.#opts = opts;
    this.#gateway = new PacingLedger(opts.rules, { mode: ENFORCE_MODE, scopes: ["gateway"] });
  }

  /** Judge one arriving message of a started session. */
  admit(sessionId: number, fields: readonly string[], version: number, now: number): Verdict {
    const tenant = String(sessionId);
    const request = classifyOutgoing(fields, { version, tenant, rules: this.#opts.rules });
    let conn = this.#connections.get(sessionId);
    if (!conn) {
      conn = {
        ledger: new PacingLedger(this.#opts.rules, { mode: ENFORCE_MODE, scopes: ["connection"] }),
        violations: [],
      };
      this.#connections.set(sessionId, conn);
    }
    const rate = conn.ledger.admit(request, now);
    if (rate) {
      const horizon = now - this.#opts.rateViolationWindowMs;
      conn.violations = conn.violations.filter((t) => t > horizon);
      conn.violations.push(now);
      return {
        type: "rate",
        violation: rate,
        disconnect: conn.violations.length >= this.#opts.maxRateViolations,
      };
    }
    const v = this.#gateway.admit(request, now);
    if (v) return { type: "rule", violation: v, reqId: request.reqId ?? -1 };
    return { type: "ok", request };
  }

  /** A request ended (answered, failed, cancelled): free its capacity slot. */
  release(sessionId: number, hold: string | undefined): void {
    if (hold !== undefined) this.#gateway.release(String(sessionId), hold);
  }

  /** The session went away: its slots and its rate window go with it. */
  forget(sessionId: number): void {
    this.#gateway.releaseTenant(String(sessionId));
    this.#connections.delete(sessionId);
  }

  get openHolds(): number {
    return this.#gateway.openHolds;
  }
}
