/**
 * One downstream socket of the mock: prefix, version frame, START_API, then messages. The
 * session owns framing and its own state; what to answer is the gateway's job (SessionHost).
 */
import type { Socket } from "node:net";
import type { Clock } from "../clock.js";
import { encodeMessage, type MessageCodec } from "../protocol/codec.js";
import { decodeFields } from "../protocol/fields.js";
import { FrameDecoder } from "../protocol/frame.js";
import {
  encodeServerHello,
  PrefixReader,
  parseVersionRange,
  type VersionRange,
} from "../protocol/handshake.js";

export type SessionState = "prefix" | "version" | "awaitingStart" | "ready" | "closed";

export interface SessionHost {
  /** The version to serve, or undefined to refuse (the socket is closed, as TWS does). */
  negotiate(range: VersionRange): number | undefined;
  /**
   * A stalled gateway is a frozen TWS: it reads but answers nothing; what it read is applied
   * in order when the stall ends (`resume()`).
   */
  stalled(): boolean;
  latencyMs(): number;
  connectionTime(): string;
  startApi(session: MockSession, clientId: number, capabilities: string): void;
  message(session: MockSession, fields: string[]): void;
  closed(session: MockSession, reason: string): void;
  /** Frames or bytes the mock cannot read: only this socket is closed. */
  badInput(session: MockSession, reason: string): void;
  /** Output dropped (stall, full buffer), or a handshake held by a stall. */
  dropped(session: MockSession, what: "stall" | "backpressure" | "handshake" | "held"): void;
}

export interface SessionOptions {
  maxFrameBytes: number;
  maxWriteBufferBytes: number;
  clock: Clock;
  /** The gateway's calendar time (connectedAt). */
  wallNow: () => number;
}

export class MockSession {
  readonly id: number;
  readonly remote: string;
  readonly connectedAt: number;
  /** Set by REQ_MARKET_DATA_TYPE: 1 live, 2 frozen, 3 delayed, 4 delayed-frozen. */
  marketDataType = 1;
  #state: SessionState = "prefix";
  #reason = "";
  #version = 0;
  #clientId: number | undefined;
  #requests = 0;
  /** Chunks read while the gateway was stalled, in read order. */
  #held: Buffer[] = [];
  /** The socket closed while chunks were held: closing waits until they are applied. */
  #closeAfterHeld: string | undefined;
  /** True while held messages are being applied (the gateway counts them). */
  resuming = false;
  readonly #socket: Socket;
  readonly #host: SessionHost;
  readonly #opts: SessionOptions;
  readonly #prefix = new PrefixReader();
  readonly #frames: FrameDecoder;

  constructor(id: number, socket: Socket, host: SessionHost, opts: SessionOptions) {
    this.id = id;
    this.#socket = socket;
    this.#host = host;
    this.#opts = opts;
    this.remote = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? 0}`;
    this.connectedAt = opts.wallNow();
    this.#frames = new FrameDecoder({ maxFrameBytes: opts.maxFrameBytes });
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", () => {}); // the close event follows; a reset peer is not our failure
    socket.on("close", () => {
      const reason = this.#reason || "peer closed";
      // What TWS read before the peer left still happens, and the client id stays taken until then.
      if (this.#held.length > 0) this.#closeAfterHeld = reason;
      else this.#transition("closed", reason);
    });
  }

  get state(): SessionState {
    return this.#state;
  }
  get version(): number {
    return this.#version;
  }
  get clientId(): number | undefined {
    return this.#clientId;
  }
  get requests(): number {
    return this.#requests;
  }
  get open(): boolean {
    return this.#state !== "closed";
  }

  #transition(to: SessionState, reason: string): void {
    if (this.#state === to || this.#state === "closed") return;
    this.#state = to;
    if (to === "closed") {
      this.#reason = reason;
      this.#host.closed(this, reason);
    }
  }

  /** Accept START_API: from now on messages are dispatched. */
  accept(clientId: number): void {
    this.#clientId = clientId;
    this.#transition("ready", "started");
  }

  /** Send one message (subject to latency and stall faults). */
  send<T>(codec: MessageCodec<T>, msg: T): void {
    this.sendRaw(encodeMessage(codec, msg, this.#version));
  }

  sendRaw(frame: Buffer, options: { droppable?: boolean } = {}): void {
    if (this.#state === "closed") return;
    if (this.#host.stalled()) {
      this.#host.dropped(this, "stall");
      return;
    }
    if (options.droppable && this.#socket.writableLength > this.#opts.maxWriteBufferBytes) {
      this.#host.dropped(this, "backpressure");
      return;
    }
    const latency = this.#host.latencyMs();
    if (latency > 0) this.#opts.clock.setTimeout(() => this.#write(frame), latency);
    else this.#write(frame);
  }

  #write(frame: Buffer): void {
    if (this.#state !== "closed" && !this.#socket.destroyed) this.#socket.write(frame);
  }

  /** Flush what is written, then close (used after 326 so the error arrives first). */
  end(reason: string): void {
    if (this.#state === "closed") return;
    this.#reason = reason;
    const latency = this.#host.latencyMs();
    const finish = () => this.#socket.end();
    if (latency > 0) this.#opts.clock.setTimeout(finish, latency + 1);
    else finish();
    // A peer that never reads must not keep the socket forever.
    this.#opts.clock.setTimeout(() => this.destroy(reason), 2_000);
  }

  /** Close at once. */
  destroy(reason: string): void {
    if (this.#state === "closed") return;
    this.#reason = reason;
    this.#socket.destroy();
    this.#transition("closed", reason);
  }

  #onData(chunk: Buffer): void {
    if (this.#state === "closed") return;
    if (this.#held.length > 0 || this.#host.stalled()) {
      if (this.#held.length === 0 && this.#state !== "ready") this.#host.dropped(this, "handshake");
      this.#host.dropped(this, "held");
      this.#held.push(chunk);
      return;
    }
    this.#consume(chunk);
  }

  /** The stall is over: apply what was read during it, in order, then a pending close. */
  resume(): void {
    if (this.#held.length === 0 || this.#host.stalled()) return;
    const held = this.#held;
    this.#held = [];
    this.resuming = true;
    try {
      for (const chunk of held) {
        if (this.#state === "closed") break;
        this.#consume(chunk);
      }
    } finally {
      this.resuming = false;
    }
    if (this.#closeAfterHeld !== undefined) this.#transition("closed", this.#closeAfterHeld);
  }

  #consume(chunk: Buffer): void {
    try {
      let rest = chunk;
      if (this.#state === "prefix") {
        const used = this.#prefix.push(chunk);
        rest = chunk.subarray(used);
        if (!this.#prefix.done) return;
        this.#transition("version", "prefix read");
      }
      if (rest.length === 0) return;
      for (const payload of this.#frames.push(rest)) {
        if (!this.open) return;
        this.#onFrame(payload);
      }
    } catch (err) {
      this.#host.badInput(this, err instanceof Error ? err.message : String(err));
      this.destroy("bad input");
    }
  }

  #onFrame(payload: Buffer): void {
    switch (this.#state) {
      case "version": {
        const range = parseVersionRange(payload);
        const v = this.#host.negotiate(range);
        if (v === undefined) {
          this.destroy(`cannot serve client range v${range.min}..${range.max}`);
          return;
        }
        this.#version = v;
        this.#transition("awaitingStart", "hello sent");
        this.sendRaw(encodeServerHello(v, this.#host.connectionTime()));
        return;
      }
      case "awaitingStart": {
        const fields = decodeFields(payload);
        // Anything before START_API is ignored, as TWS does.
        if (fields[0] !== "71") return;
        const clientId = Number(fields[2]);
        if (!Number.isInteger(clientId)) {
          this.destroy("START_API without a client id");
          return;
        }
        this.#host.startApi(this, clientId, fields[3] ?? "");
        return;
      }
      case "ready":
        this.#requests++;
        this.#host.message(this, decodeFields(payload));
        return;
      default:
        return;
    }
  }
}
