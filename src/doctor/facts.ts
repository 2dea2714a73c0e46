/** Small readings of the facts shared by analysis and report. Pure. */
import type {
  EndpointFacts,
  EndpointJson,
  HandshakeAttempt,
  Notice,
  ProbeResult,
  ProcessInfo,
} from "./types.js";

/** What each usual port is for (TWS live/paper, Gateway live/paper). */
export const PORT_CONVENTIONS: Readonly<Record<number, "paper" | "live">> = {
  7496: "live",
  7497: "paper",
  4001: "live",
  4002: "paper",
};

const MAX_COMMAND_CHARS = 100;

/** Paper iff every managed account starts with "D" (IB's paper accounts are DU…/DF…). */
export function isPaper(accounts: readonly string[]): boolean {
  return accounts.length > 0 && accounts.every((a) => a.startsWith("D"));
}

export function modeOf(accounts: readonly string[]): "paper" | "live" {
  return isPaper(accounts) ? "paper" : "live";
}

export function lastAttempt(probe: ProbeResult): HandshakeAttempt | undefined {
  return probe.attempts[probe.attempts.length - 1];
}

export function describeProcess(p: ProcessInfo): string {
  const cmd =
    p.command.length > MAX_COMMAND_CHARS ? `${p.command.slice(0, MAX_COMMAND_CHARS - 1)}…` : p.command;
  return cmd ? `pid ${p.pid} ${cmd}` : `pid ${p.pid}`;
}

/** Farm-status notices: what each says about which farm. */
const FARM_CODES: Readonly<Record<number, { kind: string; state: "ok" | "broken" | "inactive" }>> = {
  1100: { kind: "IB servers", state: "broken" },
  1101: { kind: "IB servers", state: "ok" },
  1102: { kind: "IB servers", state: "ok" },
  2103: { kind: "market data farm", state: "broken" },
  2104: { kind: "market data farm", state: "ok" },
  2105: { kind: "HMDS farm", state: "broken" },
  2106: { kind: "HMDS farm", state: "ok" },
  2107: { kind: "HMDS farm", state: "inactive" },
  2108: { kind: "market data farm", state: "inactive" },
  2119: { kind: "market data farm", state: "inactive" },
  2157: { kind: "sec-def farm", state: "broken" },
  2158: { kind: "sec-def farm", state: "ok" },
};

export interface FarmState {
  farm: string;
  state: "ok" | "broken" | "inactive";
  code: number;
}

/**
 * The last word on each farm, in notice order: "2103 …:usfarm" followed by "2104 …:usfarm"
 * means it broke and came back, which is fine.
 */
export function farmStates(notices: readonly Notice[]): FarmState[] {
  const last = new Map<string, FarmState>();
  for (const n of notices) {
    const def = FARM_CODES[n.code];
    if (!def) continue;
    const name = /:\s*([A-Za-z0-9.-]+)\s*$/.exec(n.message)?.[1];
    const farm = name ? `${def.kind} ${name}` : def.kind;
    // A farm's OK for "usfarm" also settles an earlier break reported without a name.
    if (def.state !== "broken") last.delete(def.kind);
    last.set(farm, { farm, state: def.state, code: n.code });
  }
  return [...last.values()];
}

/** The contract's JSON shape of one endpoint. */
export function endpointJson(e: EndpointFacts): EndpointJson {
  const a = lastAttempt(e.probe);
  const listening = e.probe.connect.kind === "connected";
  return {
    host: e.probe.host,
    port: e.probe.port,
    listening,
    process: e.owner ? { pid: e.owner.pid, command: e.owner.command } : null,
    handshake:
      listening && a
        ? {
            ok: a.outcome.kind === "ok",
            serverVersion: a.serverVersion,
            accounts: a.accounts,
            paper: a.accounts.length > 0 ? isPaper(a.accounts) : null,
          }
        : null,
  };
}

/** Skew of TWS's clock against ours in ms (positive: TWS ahead), or null when not measured. */
export function clockSkewMs(attempt: HandshakeAttempt): number | null {
  const t = attempt.serverTime;
  if (!t || t.epochSeconds <= 0 || t.receivedAtMs <= 0) return null;
  // CURRENT_TIME is whole seconds: the true time lies in [s, s+1), so compare its middle with
  // the middle of our round trip.
  const ours = (t.sentAtMs + t.receivedAtMs) / 2;
  return t.epochSeconds * 1000 + 500 - ours;
}
