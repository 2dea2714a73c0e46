/** The proxy's states, events and snapshot shapes (read by the API, metrics and tests). */

/**
 * handshaking: reading `API\0` and the version range; waiting: the upstream has never been
 * ready, so its version is not known yet; starting: hello sent, waiting for START_API;
 * open: a tenant of the switch; closed: gone.
 */
export type DownstreamState = "handshaking" | "waiting" | "starting" | "open" | "closed";

export type ProxyState = "idle" | "listening" | "closing" | "closed";

export interface DownstreamSnapshot {
  id: number;
  remote: string;
  state: DownstreamState;
  /** The virtual client id from START_API; null before it. */
  clientId: number | null;
  /** The server version this downstream was served; null before the hello. */
  version: number | null;
  /** The switch tenant carrying its traffic; null before START_API. */
  tenant: string | null;
  connectedAt: string;
  /** Messages received from the downstream / written to it (start-up answers included). */
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Open subscriptions of its tenant (market data, bars, broadcasts…). */
  subscriptions: number;
  liveRequests: number;
  /** Requests held by the switch while the upstream is down. */
  queued: number;
  orders: number;
  /** Requests of its tenant that waited in the pacer, and how long in total. */
  waits: number;
  waitedMs: number;
  /** Bytes written but not yet taken by the client. */
  writeBufferBytes: number;
  /** The client was told 1100 and not yet 1102. */
  lost: boolean;
}

export interface ProxyCounters {
  accepted: number;
  /** Refused at accept: not on the allow-list, or over maxDownstreams, or closing. */
  refused: number;
  closed: number;
  badInput: number;
  slowConsumers: number;
  handshakeTimeouts: number;
  upstreamWaitTimeouts: number;
  versionRefused: number;
  clientIdInUse: number;
  versionChanged: number;
}

export interface ProxySnapshot {
  state: ProxyState;
  host: string;
  port: number | null;
  strictClientIds: boolean;
  readOnly: boolean;
  allow: string[];
  /** The version downstreams are served (the upstream's); null until it was ready once. */
  serverVersion: number | null;
  downstreams: DownstreamSnapshot[];
  counters: ProxyCounters;
}

export type ProxyEvent =
  | { type: "proxy.state"; ts: number; from: ProxyState; to: ProxyState; reason: string }
  | { type: "downstream.open"; ts: number; id: number; remote: string; clientId: number; tenant: string }
  | {
      type: "downstream.close";
      ts: number;
      id: number;
      remote: string;
      clientId: number | null;
      tenant: string | null;
      reason: string;
    }
  | { type: "downstream.refused"; ts: number; remote: string; reason: string };
