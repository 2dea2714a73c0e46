/**
 * How a line obtains a transport. The line asks a Connector and never knows whether it
 * reached a fixed host:port, an `auto`-probed gateway or an in-process mock; the daemon adds
 * those strategies later by implementing this interface.
 */
import type { Clock } from "../clock.js";
import { TimeoutError } from "../errors.js";
import { tcpDialer } from "./tcp-transport.js";
import type { Dialer, Transport } from "./transport.js";

export interface Connector {
  /** Where this connector goes, for logs and snapshots ("127.0.0.1:4002", "auto", "mock"). */
  readonly target: string;
  /** Open a transport; must leave nothing open when `signal` aborts. */
  open(signal: AbortSignal): Promise<Transport>;
  /** Cheap reachability check used during backoff to take the fast path back. */
  probe(signal: AbortSignal): Promise<boolean>;
  /**
   * The gateway last opened answered with another identity (line identity): a connector
   * that chose it (`auto`) looks elsewhere next time.
   */
  rejected?(): void;
}

export function hostPortConnector(host: string, port: number, dialer: Dialer = tcpDialer): Connector {
  return {
    target: `${host}:${port}`,
    open: (signal) => dialer.dial(host, port, signal),
    probe: (signal) => dialer.probe(host, port, signal),
  };
}

/**
 * Open through `connector`, giving up after `timeoutMs` on `clock` (TimeoutError) or when
 * `signal` aborts (the line's close). Leaves nothing open on either.
 */
export async function openWithin(
  connector: Connector,
  clock: Clock,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Transport> {
  const ac = new AbortController();
  const onAbort = () => ac.abort(signal.reason);
  if (signal.aborted) onAbort();
  signal.addEventListener("abort", onAbort, { once: true });
  const timer = clock.setTimeout(() => ac.abort(new TimeoutError("connect", timeoutMs)), timeoutMs);
  try {
    return await connector.open(ac.signal);
  } finally {
    clock.clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}
