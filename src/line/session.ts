/**
 * One socket's worth of protocol: the client hello, the server's version answer, START_API,
 * then framing and field splitting. It knows nothing of readiness, notices or reconnects;
 * the line decides those from the messages it is handed.
 */
import { HandshakeError, ProtocolError } from "../errors.js";
import { encodeMessage, peekMessageId } from "../protocol/codec.js";
import { decodeFields } from "../protocol/fields.js";
import { FrameDecoder } from "../protocol/frame.js";
import { encodeClientHello, parseServerHello, type ServerHello } from "../protocol/handshake.js";
import { START_API } from "../protocol/messages/connection.js";
import type { Transport } from "./transport.js";

export interface SessionHandlers {
  hello(hello: ServerHello): void;
  /** `payload`: the frame's bytes the fields were decoded from (valid during the call). */
  message(msgId: number, fields: string[], payload: Buffer): void;
  /** The socket is gone or the stream broke; not called after our own end()/destroy(). */
  closed(reason: string): void;
}

export interface SessionOptions {
  minVersion: number;
  maxVersion: number;
  connectOptions: string;
  clientId: number;
  maxFrameBytes: number;
}

type SessionPhase = "hello" | "api" | "ended";

export class Session {
  readonly generation: number;
  readonly #transport: Transport;
  readonly #options: SessionOptions;
  readonly #handlers: SessionHandlers;
  readonly #decoder: FrameDecoder;
  #phase: SessionPhase = "hello";
  #serverVersion = 0;

  constructor(transport: Transport, generation: number, options: SessionOptions, handlers: SessionHandlers) {
    this.generation = generation;
    this.#transport = transport;
    this.#options = options;
    this.#handlers = handlers;
    this.#decoder = new FrameDecoder({ maxFrameBytes: options.maxFrameBytes });
  }

  get remote(): string {
    return this.#transport.remote;
  }

  start(): void {
    this.#transport.listen({
      data: (chunk) => this.#onData(chunk),
      closed: (err) => this.#end(err ? `socket closed: ${err.message}` : "socket closed by peer"),
    });
    const { minVersion: min, maxVersion: max, connectOptions: options } = this.#options;
    this.#transport.write(encodeClientHello({ min, max, options }));
  }

  /** Write a complete frame. Returns false once the session has ended (nothing is sent). */
  write(frame: Uint8Array): boolean {
    if (this.#phase !== "api") return false;
    this.#transport.write(frame);
    return true;
  }

  /** Graceful: flush, FIN, wait for the close. */
  end(): Promise<void> {
    this.#phase = "ended";
    return this.#transport.end();
  }

  destroy(): void {
    this.#phase = "ended";
    this.#transport.destroy();
  }

  #end(reason: string): void {
    if (this.#phase === "ended") return;
    this.#phase = "ended";
    this.#transport.destroy();
    this.#handlers.closed(reason);
  }

  #onData(chunk: Buffer): void {
    if (this.#phase === "ended") return;
    let payloads: Buffer[];
    try {
      payloads = this.#decoder.push(chunk);
    } catch (err) {
      this.#end(`protocol error: ${(err as Error).message}`);
      return;
    }
    for (const payload of payloads) {
      // A handler may have ended the session (326, 1300) while this loop ran.
      if ((this.#phase as SessionPhase) === "ended") return;
      try {
        if (this.#phase === "hello") this.#onHello(payload);
        else this.#handlers.message(peekMessageId(payload), decodeFields(payload), payload);
      } catch (err) {
        if (err instanceof ProtocolError || err instanceof HandshakeError) {
          this.#end(`protocol error: ${err.message}`);
          return;
        }
        throw err;
      }
    }
  }

  #onHello(payload: Buffer): void {
    const hello = parseServerHello(decodeFields(payload));
    const { minVersion, maxVersion, clientId } = this.#options;
    if (hello.serverVersion < minVersion || hello.serverVersion > maxVersion) {
      throw new HandshakeError(
        `server chose version ${hello.serverVersion}, outside ${minVersion}..${maxVersion}`,
      );
    }
    this.#serverVersion = hello.serverVersion;
    this.#phase = "api";
    this.#transport.write(
      encodeMessage(START_API, { clientId, optionalCapabilities: "" }, this.#serverVersion),
    );
    this.#handlers.hello(hello);
  }
}
