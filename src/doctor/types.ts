/**
 * Data shapes of the doctor. Probes gather raw facts (ProbeResult, OwnerInfo…); analysis
 * turns facts into findings; the report prints them. The JSON shape printed by `--json` is
 * `DoctorJson` and is part of the outside contract (shared/interfaces.md): keep it exact.
 */

export type FindingLevel = "ok" | "warn" | "error";

export type FindingCode =
  | "no-listener"
  | "refused"
  | "connect-timeout"
  | "handshake-stalled"
  | "not-tws"
  | "client-id-in-use"
  | "paper-live-mismatch"
  | "multiple-gateways"
  | "server-version-old"
  | "farm-broken"
  | "clock-skew"
  | "daemon-unhealthy"
  | "daemon-healthy"
  /** A daemon line's identity (paper/live, accounts), or its refusal of another one. */
  | "line-identity"
  | "mock-gateway";

export interface Finding {
  level: FindingLevel;
  /** Names the check; with level "ok" it is a check that ran and passed. */
  code: FindingCode;
  port?: number;
  message: string;
  /** What to do about it: a command to run or a setting to change. Never done by the doctor. */
  fix?: string;
}

/** A process seen through /proc, `ss` or `lsof`. */
export interface ProcessInfo {
  pid: number;
  /** Full command line, arguments joined by spaces; "" when it could not be read. */
  command: string;
}

/** An established TCP connection whose far end is the probed port: a client of that TWS. */
export interface PeerConnection {
  localPort: number;
  process: ProcessInfo | null;
}

/** How the TCP connect went. */
export type ConnectOutcome =
  | { kind: "connected"; ms: number }
  | { kind: "refused"; ms: number }
  | { kind: "timeout"; ms: number }
  | { kind: "error"; ms: number; errno: string; message: string };

/** An ERR_MSG seen during the probe (id −1 notices mostly: farms, 326). */
export interface Notice {
  id: number;
  code: number;
  message: string;
}

/** Where a handshake stopped. */
export type HandshakeStage =
  /** waiting for the server's [version, time] answer to our "API\0" hello */
  | "hello"
  /** START_API sent, waiting for NEXT_VALID_ID and MANAGED_ACCTS */
  | "start"
  /** ready, waiting for CURRENT_TIME */
  | "time";

export type HandshakeOutcome =
  /** Ready (NEXT_VALID_ID and MANAGED_ACCTS seen). */
  | { kind: "ok" }
  /** No answer within the timeout at `stage`; the socket stayed open. */
  | { kind: "stalled"; stage: HandshakeStage }
  /** The peer closed (or reset) the socket at `stage` without a 326. */
  | { kind: "closed"; stage: HandshakeStage }
  /** The peer answered with bytes that are not the TWS API. */
  | { kind: "not-tws"; detail: string }
  /** TWS answered 326: the client id is already connected. */
  | { kind: "client-id-in-use"; clientId: number };

/** One handshake attempt with one client id. */
export interface HandshakeAttempt {
  clientId: number;
  outcome: HandshakeOutcome;
  serverVersion: number | null;
  connectionTime: string | null;
  accounts: string[];
  nextValidId: number | null;
  notices: Notice[];
  /** TWS's CURRENT_TIME answer in epoch seconds, and our clock when it was asked and answered. */
  serverTime: { epochSeconds: number; sentAtMs: number; receivedAtMs: number } | null;
}

/** Everything one probe of host:port learned. */
export interface ProbeResult {
  host: string;
  port: number;
  connect: ConnectOutcome;
  /** Empty when the TCP connect failed; two when the first id got 326 and a second was tried. */
  attempts: HandshakeAttempt[];
  /** Client-side ports of the probe's own sockets, so they are not listed as other clients. */
  localPorts: number[];
}

/** How the doctor knows a listener is Switchboard's own mock gateway. */
export type MockEvidence = "command-line" | "control-port";

/** All facts about one endpoint, before analysis. */
export interface EndpointFacts {
  probe: ProbeResult;
  /** The process that owns the listening socket, when it could be found. */
  owner: ProcessInfo | null;
  /** Other clients connected to this port right now (our own probe excluded). */
  peers: PeerConnection[];
  mock: MockEvidence | null;
  /** "paper" / "live" when the port has a convention (4002 paper, 4001 live, …) or --expect. */
  expected: "paper" | "live" | null;
  /** Leases from the client-id registry for this upstream, as holders of ids. */
  leases: LeaseHolder[];
}

export interface LeaseHolder {
  clientId: number;
  /** The upstream the lease is scoped to ("default" when the holder named none). */
  upstream: string;
  purpose: string;
  owner: string;
  pid: number | null;
  expiresAt: number;
}

/** A TWS or IB Gateway process found on the machine, listening or not. */
export interface GatewayProcess extends ProcessInfo {
  kind: "gateway" | "tws";
  listenPorts: number[];
}

/** One line of the daemon's /health, as far as the doctor reads it. */
export interface DaemonLine {
  name: string;
  state: string;
  reason: string;
  upstream: string | null;
  /** null when the daemon does not report identities (older versions). */
  identity: { mode: "paper" | "live" | "mock" | null; accounts: string[] } | null;
}

export type DaemonHealth =
  | { kind: "absent"; url: string }
  | { kind: "healthy"; url: string; upstream: string | null; lines: DaemonLine[] }
  | { kind: "unhealthy"; url: string; status: number; detail: string; lines: DaemonLine[] }
  | { kind: "error"; url: string; detail: string };

export interface DoctorFacts {
  host: string;
  /** True when the ports were chosen by the user (`--port`), false for the four defaults. */
  explicitPorts: boolean;
  endpoints: EndpointFacts[];
  gatewayProcesses: GatewayProcess[];
  daemon: DaemonHealth;
  /** Client id the user asked to check (`--client-id`), or null for a probe id. */
  requestedClientId: number | null;
}

/** The `--json` shape (contract). */
export interface EndpointJson {
  host: string;
  port: number;
  listening: boolean;
  process: { pid: number; command: string } | null;
  handshake: { ok: boolean; serverVersion: number | null; accounts: string[]; paper: boolean | null } | null;
}

export interface DoctorJson {
  success: true;
  data: { endpoints: EndpointJson[]; findings: Finding[] };
}

export interface DoctorReport {
  facts: DoctorFacts;
  findings: Finding[];
  /** 1 iff a finding has level "error", else 0. */
  exitCode: 0 | 1;
}
