/** The only module of the line that touches node:net. */
import net from "node:net";
import type { Dialer, Transport, TransportHandlers } from "./transport.js";

/** A socket idle this long gets TCP keep-alive probes from the kernel (a backstop only). */
const KEEPALIVE_DELAY_MS = 10_000;

class TcpTransport implements Transport {
  readonly remote: string;
  readonly #socket: net.Socket;
  #handlers: TransportHandlers | undefined;
  #closed = false;
  #closeError: Error | undefined;

  constructor(socket: net.Socket, remote: string) {
    this.remote = remote;
    this.#socket = socket;
    // Paused until listen(): no chunk can arrive before the line is ready to frame it.
    socket.pause();
    socket.on("error", (err) => {
      this.#closeError ??= err;
    });
    socket.on("close", () => {
      this.#closed = true;
      this.#handlers?.closed(this.#closeError);
    });
  }

  listen(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    if (this.#closed) {
      handlers.closed(this.#closeError);
      return;
    }
    this.#socket.on("data", (chunk: Buffer) => handlers.data(chunk));
    this.#socket.resume();
  }

  write(bytes: Uint8Array): void {
    if (!this.#closed && this.#socket.writable) this.#socket.write(bytes);
  }

  end(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#socket.once("close", () => resolve());
      this.#socket.end();
    });
  }

  destroy(error?: Error): void {
    if (error) this.#closeError ??= error;
    this.#socket.destroy();
  }
}

function open(host: string, port: number, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const socket = net.connect({ host, port, noDelay: true });
    const onAbort = () => {
      socket.removeListener("error", onError);
      socket.destroy();
      reject(signal.reason);
    };
    const onError = (err: Error) => {
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      reject(err);
    };
    socket.once("connect", () => {
      signal.removeEventListener("abort", onAbort);
      socket.removeListener("error", onError);
      resolve(socket);
    });
    socket.once("error", onError);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

export const tcpDialer: Dialer = {
  async dial(host, port, signal) {
    const socket = await open(host, port, signal);
    socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    return new TcpTransport(socket, `${host}:${port}`);
  },
  async probe(host, port, signal) {
    try {
      const socket = await open(host, port, signal);
      // Reset rather than FIN: the gateway never sees a half-finished API session.
      socket.resetAndDestroy();
      return true;
    } catch {
      return false;
    }
  },
};
