/** The line's states, its legal transitions, its events and its snapshot shape. */

export type LineState =
  "disconnected" | "connecting" | "handshaking" | "ready" | "degraded" | "reconnecting" | "closed";

/** Every legal move; #transition refuses anything else (a bug, never a runtime condition). */
export const LINE_TRANSITIONS: Readonly<Record<LineState, readonly LineState[]>> = {
  disconnected: ["connecting", "closed"],
  // → disconnected: the gateway has another identity (interfaces.md "Line identity"); the
  // line waits for its own and retries from there.
  connecting: ["handshaking", "reconnecting", "disconnected", "closed"],
  handshaking: ["ready", "reconnecting", "disconnected", "closed"],
  ready: ["degraded", "reconnecting", "closed"],
  degraded: ["ready", "reconnecting", "closed"],
  reconnecting: ["connecting", "closed"],
  closed: [],
};

export function isLegalTransition(from: LineState, to: LineState): boolean {
  return LINE_TRANSITIONS[from].includes(to);
}

export type NoticeLevel = "info" | "warn" | "error";

export type LineEvent =
  | {
      type: "line.state";
      ts: number;
      line: string;
      from: LineState;
      to: LineState;
      reason: string;
      /** The socket generation this transition belongs to. */
      generation: number;
      /** The connector's target at the transition ("auto:127.0.0.1:4002", "mock", host:port). */
      upstream?: string;
    }
  | {
      type: "line.notice";
      ts: number;
      line: string;
      /** −1 for connection-level notices. */
      id: number;
      code: number;
      message: string;
      level: NoticeLevel;
    }
  | {
      type: "line.resubscribe";
      ts: number;
      line: string;
      /** True when TWS dropped subscriptions (1101) or the socket itself was replaced. */
      dataLost: boolean;
      cause: "1101" | "reconnect";
      generation: number;
    }
  | {
      /** A gateway answered with accounts that are not the line's: refused, never ready. */
      type: "line.identity_changed";
      ts: number;
      line: string;
      /** The identity the line holds to, e.g. "paper DU111". */
      expected: string;
      got: { accounts: string[]; mode: "paper" | "live" };
      /** Where the refused gateway was ("127.0.0.1:7496"). */
      upstream: string;
      reason: string;
    }
  | {
      type: "orders.orphaned";
      ts: number;
      line: string;
      /** The id the orders were placed under; the line moves away from it. */
      clientId: number;
      permIds: number[];
    };

export interface LineSnapshot {
  name: string;
  target: string;
  state: LineState;
  reason: string;
  generation: number;
  clientId: number | null;
  serverVersion: number | null;
  accounts: string[];
  nextValidId: number | null;
  /** ISO 8601 time the current socket became ready; null while not ready or degraded. */
  connectedSince: string | null;
  /** ms since the last inbound message on the current socket; null without one. */
  lastHeartbeatAgoMs: number | null;
  heartbeatRttMs: number | null;
  /** Times the line came back to ready after losing its socket. */
  reconnects: number;
  /** Connect attempts since the line was last ready. */
  attempts: number;
  /** Share of the time since start() spent ready, 0..1. */
  uptimeRatio: number;
  /** Last loss: ms from the last sign of life to the moment the line declared it lost. */
  timeToDetectMs: number | null;
  /** Last recovery: ms from the loss to ready again. */
  timeToRecoverMs: number | null;
  /** Sleeps (late timers) noticed since start. */
  sleeps: number;
}
