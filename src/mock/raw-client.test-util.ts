/** A bare TWS API client over our own codec, for driving the mock in tests and benches. */
import { connect, type Socket } from "node:net";
import { encodeMessage, type MessageCodec } from "../protocol/codec.js";
import { decodeFields, encodeFields } from "../protocol/fields.js";
import { encodeFrame, FrameDecoder } from "../protocol/frame.js";
import { encodeClientHello, parseServerHello } from "../protocol/handshake.js";
import { START_API } from "../protocol/messages/connection.js";

export interface RawClientOptions {
  clientId?: number;
  min?: number;
  max?: number;
  /** Send START_API after the hello (default true). */
  start?: boolean;
  /** Wait for NEXT_VALID_ID before resolving (default true when start). */
  waitReady?: boolean;
}

export class RawClient {
  readonly socket: Socket;
  readonly messages: string[][] = [];
  serverVersion = 0;
  connectionTime = "";
  readonly closed: Promise<void>;
  #isClosed = false;
  #waiters: { pred: (f: string[]) => boolean; resolve: (f: string[]) => void }[] = [];
  #helloResolve: (() => void) | undefined;
  readonly #frames = new FrameDecoder();

  private constructor(socket: Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) =>
      socket.on("close", () => {
        this.#isClosed = true;
        resolve();
      }),
    );
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      for (const payload of this.#frames.push(chunk)) {
        const fields = decodeFields(payload);
        if (this.serverVersion === 0) {
          const hello = parseServerHello(fields);
          this.serverVersion = hello.serverVersion;
          this.connectionTime = hello.connectionTime;
          this.#helloResolve?.();
          continue;
        }
        this.messages.push(fields);
        for (const w of [...this.#waiters]) {
          if (w.pred(fields)) {
            this.#waiters.splice(this.#waiters.indexOf(w), 1);
            w.resolve(fields);
          }
        }
      }
    });
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  static open(port: number, host = "127.0.0.1"): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host }, () => {
        socket.off("error", reject);
        resolve(new RawClient(socket));
      });
      socket.once("error", reject);
    });
  }

  static async connect(port: number, options: RawClientOptions = {}): Promise<RawClient> {
    const c = await RawClient.open(port);
    await c.hello(options.min ?? 157, options.max ?? 178);
    if (options.start ?? true) {
      c.send(START_API, { clientId: options.clientId ?? 1, optionalCapabilities: "" });
      if (options.waitReady ?? true) await c.waitFor((f) => f[0] === "9");
    }
    return c;
  }

  hello(min: number, max: number): Promise<void> {
    const p = new Promise<void>((resolve) => {
      this.#helloResolve = resolve;
    });
    this.socket.write(encodeClientHello({ min, max, options: "" }));
    return Promise.race([p, this.closed.then(() => Promise.reject(new Error("closed before hello")))]);
  }

  send<T>(codec: MessageCodec<T>, msg: T): void {
    this.socket.write(encodeMessage(codec, msg, this.serverVersion || 178));
  }

  sendFields(fields: readonly string[]): void {
    this.socket.write(encodeFrame(encodeFields(fields)));
  }

  /** Resolve with the first message (already received or arriving) that matches. */
  waitFor(pred: (f: string[]) => boolean, timeoutMs = 5_000): Promise<string[]> {
    const seen = this.messages.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching message within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#waiters.push({
        pred,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  /** The first message matching after the current end of the log. */
  next(pred: (f: string[]) => boolean, timeoutMs = 5_000): Promise<string[]> {
    const from = this.messages.length;
    const seen = this.messages.slice(from).find(pred);
    if (seen) return Promise.resolve(seen);
    return this.waitFor((f) => this.messages.indexOf(f) >= from && pred(f), timeoutMs);
  }

  errors(code?: number): string[][] {
    return this.messages.filter((f) => f[0] === "4" && (code === undefined || f[3] === String(code)));
  }

  close(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }
}

export async function waitUntil(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
