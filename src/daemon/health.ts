/**
 * Health as interfaces.md defines it: `healthy` when every required line is ready,
 * `degraded` when each is ready or degraded (socket up, e.g. during 1100), else `down`; a
 * daemon with no line at all (an HA active whose takeover failed) is `down`, never `healthy`.
 * Only `healthy` answers 200.
 */
import type { IdentityView } from "../line/identity-guard.js";
import type { LineSnapshot, LineState } from "../line/line-events.js";

/** `standby`: a daemon of an HA group that is not the active one (no lines, no proxy). */
export type HealthStatus = "healthy" | "degraded" | "down" | "standby";

export interface LineView extends LineSnapshot {
  readonly required: boolean;
  /** What the line connects to: "mock", "host:port", "auto:searching", "auto:host:port". */
  readonly upstream: string;
  /** The identity the line holds to (line identity). */
  readonly identity: IdentityView;
  /** The line's own proxy port (null until it listens). */
  readonly proxyPort?: number | null;
  /** Order messages on this line are refused with 201. */
  readonly readOnly?: boolean;
  /** Open tenants of the line's switch (pool status lists them, each naming its line). */
  readonly tenants?: number;
  /** Their ids (unique in the daemon; `tenants` of pool status has each in full). */
  readonly tenantIds?: readonly string[];
}

export interface HealthLine {
  name: string;
  state: LineState;
  reason: string;
  required: boolean;
  upstream: string;
  clientId: number | null;
  serverVersion: number | null;
  connectedSince: string | null;
  lastHeartbeatAgoMs: number | null;
  reconnects: number;
  /** paper / live / mock and the accounts the line holds to (null mode: not known yet). */
  identity: { mode: IdentityView["mode"]; accounts: string[] };
}

export interface HealthReport {
  status: HealthStatus;
  upstream: string;
  lines: HealthLine[];
}

export function healthOf(lines: readonly LineView[]): HealthReport {
  const required = lines.filter((l) => l.required);
  // No line at all (an HA active whose takeover has not built them): nothing is served.
  const status: HealthStatus =
    lines.length === 0
      ? "down"
      : required.every((l) => l.state === "ready")
        ? "healthy"
        : required.every((l) => l.state === "ready" || l.state === "degraded")
          ? "degraded"
          : "down";
  return {
    status,
    // The first line is the primary one (the data routes use it); every line names its own.
    upstream: lines[0]?.upstream ?? "none",
    lines: lines.map((l) => ({
      name: l.name,
      state: l.state,
      reason: l.reason,
      required: l.required,
      upstream: l.upstream,
      clientId: l.clientId,
      serverVersion: l.serverVersion,
      connectedSince: l.connectedSince,
      lastHeartbeatAgoMs: l.lastHeartbeatAgoMs,
      reconnects: l.reconnects,
      identity: { mode: l.identity.mode, accounts: l.identity.accounts },
    })),
  };
}
