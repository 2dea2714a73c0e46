/**
 * The byte pipe under a line. Pure types: the line and its tests see only this interface;
 * tcp-transport.ts is the one module that touches node:net, and the property test plugs in a
 * fake.
 */
export interface TransportHandlers {
  /** Bytes arrived. */
  data(chunk: Buffer): void;
  /** The pipe is gone (peer closed, error, or our own destroy); called once. */
  closed(error: Error | undefined): void;
}

export interface Transport {
  /** "host:port" of the peer, for logs. */
  readonly remote: string;
  /** Start delivering data; nothing is delivered (or lost) before this call. */
  listen(handlers: TransportHandlers): void;
  write(bytes: Uint8Array): void;
  /** Graceful: flush what was written, send FIN, resolve once the pipe is closed. */
  end(): Promise<void>;
  /** Immediate: drop the pipe now. */
  destroy(error?: Error): void;
}

/** Opens transports to one address. */
export interface Dialer {
  /** Open a transport; rejects (and leaves nothing open) when `signal` aborts first. */
  dial(host: string, port: number, signal: AbortSignal): Promise<Transport>;
  /** A cheap reachability check: can a TCP connection be opened at all? Closes it at once. */
  probe(host: string, port: number, signal: AbortSignal): Promise<boolean>;
}
