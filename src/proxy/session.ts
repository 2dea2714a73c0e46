/**
 * One downstream socket of the proxy: the server side of the handshake at the upstream's
 * version, START_API answered locally, then every frame handed to the session's tenant and
 * every tenant message written back. Framing, the handshake and the byte counters live here;
 * what the upstream is doing is told to the session by the server (proxy-server.ts).
 */
import type { Socket } from "node:net";
import type { TimerHandle } from "../clock.js";
import { decodeFields } from "../protocol/fields.js";
import { FrameDecoder } from "../protocol/frame.js";
import {
  encodeServerHello,
  formatConnectionTime,
  PrefixReader,
  parseVersionRange,
  type VersionRange,
} from "../protocol/handshake.js";
import { OUT } from "../protocol/message-ids.js";
import type { Tenant } from "../switch/tenant.js";
import {
  CLIENT_ID_IN_USE,
  connectionNoticeCode,
  FARM_OK,
  LOST,
  managedAcctsFields,
  nextValidIdFields,
  noticeFields,
  RESTORED_DATA_KEPT,
  RESTORED_DATA_LOST,
  SOCKET_RESET,
  UNSUPPORTED_VERSION,
  versionRefusal,
} from "./notices.js";
import type { ResolvedProxyOptions } from "./options.js";
import type { DownstreamSnapshot, DownstreamState } from "./proxy-events.js";
import { DownstreamWriter } from "./writer.js";

/** What a session needs of the server: the upstream's view, ids, tenants. */
export interface SessionHost {
  /** The upstream's negotiated version; undefined until it has been ready once. */
  upstreamVersion(): number | undefined;
  upstreamUp(): boolean;
  accounts(): readonly string[];
  /** Strict mode: false when another downstream holds this client id (→ 326). */
  claimClientId(session: DownstreamSession, clientId: number): boolean;
  openTenant(session: DownstreamSession, clientId: number): Tenant;
  nextOrderId(tenant: Tenant): number;
  closed(session: DownstreamSession, reason: string): void;
  /** Counted once per kind of trouble (bad input, slow consumer, refused version…). */
  trouble(session: DownstreamSession, kind: SessionTrouble, detail: string): void;
}

export type SessionTrouble =
  | "bad_input"
  | "slow_consumer"
  | "handshake_timeout"
  | "upstream_wait_timeout"
  | "version_refused"
  | "client_id_in_use"
  | "version_changed";

/** A peer that ignores our FIN must not keep its socket forever. */
const END_GRACE_MS = 2_000;

export class DownstreamSession {
  readonly id: number;
  readonly remote: string;
  readonly address: string | undefined;
  readonly connectedAt: number;
  bytesIn = 0;
  messagesIn = 0;
  waits = 0;
  waitedMs = 0;
  #state: DownstreamState = "handshaking";
  #reason = "";
  #version: number | undefined;
  #range: VersionRange | undefined;
  #clientId: number | undefined;
  #tenant: Tenant | undefined;
  /** The downstream was told connectivity is lost (1100) and not yet that it is back. */
  #lost = false;
  #early: Buffer[] = [];
  #handshakeTimer: TimerHandle | undefined;
  #waitTimer: TimerHandle | undefined;
  #endTimer: TimerHandle | undefined;
  readonly #socket: Socket;
  readonly #host: SessionHost;
  readonly #o: ResolvedProxyOptions;
  readonly #prefix = new PrefixReader();
  readonly #frames: FrameDecoder;
  readonly #out: DownstreamWriter;

  constructor(id: number, socket: Socket, host: SessionHost, o: ResolvedProxyOptions) {
    this.id = id;
    this.#socket = socket;
    this.#host = host;
    this.#o = o;
    this.address = socket.remoteAddress;
    this.remote = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? 0}`;
    this.connectedAt = o.clock.now();
    this.#frames = new FrameDecoder({ maxFrameBytes: o.maxFrameBytes });
    this.#out = new DownstreamWriter(socket, o.maxWriteBufferBytes);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", () => {}); // "close" follows; a reset peer is not our failure
    socket.on("close", () => this.#transition("closed", this.#reason || "downstream closed"));
    this.#handshakeTimer = o.clock.setTimeout(() => {
      this.#host.trouble(this, "handshake_timeout", `no START_API within ${o.handshakeTimeoutMs} ms`);
      this.destroy("handshake timeout");
    }, o.handshakeTimeoutMs);
  }

  get state(): DownstreamState {
    return this.#state;
  }
  get version(): number | undefined {
    return this.#version;
  }
  get clientId(): number | undefined {
    return this.#clientId;
  }
  get tenant(): Tenant | undefined {
    return this.#tenant;
  }

  // ── told by the server ────────────────────────────────────────────────────────────────

  /** The upstream is ready (for the first time, or again): answer a waiting handshake. */
  upstreamReady(): void {
    if (this.#state === "waiting" && this.#range) this.#answerHello(this.#range);
  }

  /** The upstream socket is gone: tell the client as TWS tells it when IB is unreachable. */
  upstreamLost(): void {
    if (this.#state !== "open" || this.#lost) return;
    this.#write(noticeFields(LOST, this.#version ?? 0));
  }

  /**
   * The upstream is ready again after a reconnect. A different version means every layout
   * may differ: TWS's answer to that is 1300 and a closed socket. Otherwise the switch has
   * restored the subscriptions, so "data maintained" is the truth.
   */
  upstreamRestored(version: number): void {
    if (this.#state === "closed" || this.#version === undefined) return;
    if (version !== this.#version) {
      this.#host.trouble(
        this,
        "version_changed",
        `upstream now speaks ${version}, this client ${this.#version}`,
      );
      if (this.#state === "open") this.#write(noticeFields(SOCKET_RESET, this.#version));
      this.end("upstream version changed");
      return;
    }
    if (this.#state === "open" && this.#lost) this.#write(noticeFields(RESTORED_DATA_KEPT, version));
  }

  pacerWait(waitedMs: number): void {
    this.waits++;
    this.waitedMs += waitedMs;
  }

  // ── lifecycle ─────────────────────────────────────────────────────────────────────────

  /** Flush what is written, then close. */
  end(reason: string): void {
    if (this.#state === "closed") return;
    this.#reason ||= reason;
    // What this turn batched goes out before the FIN (the 326 / 1300 / 506 that explains it).
    this.#out.end();
    this.#o.clock.clearTimeout(this.#endTimer);
    this.#endTimer = this.#o.clock.setTimeout(() => this.destroy(reason), END_GRACE_MS);
  }

  destroy(reason: string): void {
    if (this.#state === "closed") return;
    this.#reason ||= reason;
    this.#socket.destroy();
    this.#transition("closed", this.#reason);
  }

  snapshot(): DownstreamSnapshot {
    const t = this.#tenant?.snapshot();
    return {
      id: this.id,
      remote: this.remote,
      state: this.#state,
      clientId: this.#clientId ?? null,
      version: this.#version ?? null,
      tenant: this.#tenant?.id ?? null,
      connectedAt: new Date(this.connectedAt).toISOString(),
      messagesIn: this.messagesIn,
      messagesOut: this.#out.messagesOut,
      bytesIn: this.bytesIn,
      bytesOut: this.#out.bytesOut,
      subscriptions: t?.subscriptions ?? 0,
      liveRequests: t?.liveRequests ?? 0,
      queued: t?.queued ?? 0,
      orders: t?.orders ?? 0,
      waits: this.waits,
      waitedMs: this.waitedMs,
      writeBufferBytes: this.#socket.destroyed ? 0 : this.#out.buffered,
      lost: this.#lost,
    };
  }

  // ── the one writer of state ───────────────────────────────────────────────────────────

  #transition(to: DownstreamState, reason: string): void {
    const from = this.#state;
    if (from === to || from === "closed") return;
    this.#state = to;
    if (to === "open" || to === "closed") this.#o.clock.clearTimeout(this.#handshakeTimer);
    if (to !== "waiting") this.#o.clock.clearTimeout(this.#waitTimer);
    if (to === "closed") {
      this.#reason = reason;
      this.#early = [];
      this.#o.clock.clearTimeout(this.#endTimer);
      // Cancels what the client left open upstream; its orders stay (interfaces.md "Orders").
      void this.#tenant?.close();
      this.#host.closed(this, reason);
    }
  }

  // ── inbound bytes ─────────────────────────────────────────────────────────────────────

  #onData(chunk: Buffer): void {
    if (this.#state === "closed") return;
    this.bytesIn += chunk.length;
    try {
      let rest = chunk;
      if (!this.#prefix.done) {
        rest = chunk.subarray(this.#prefix.push(chunk));
        if (rest.length === 0) return;
      }
      for (const payload of this.#frames.push(rest)) {
        // A frame may have closed the session (326, refused version): read no further.
        if (this.state === "closed") return;
        this.#onFrame(payload);
      }
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      this.#host.trouble(this, "bad_input", detail);
      this.destroy(`bad input: ${detail}`);
    }
  }

  #onFrame(payload: Buffer): void {
    switch (this.#state) {
      case "handshaking": {
        const range = parseVersionRange(payload);
        this.#range = range;
        if (this.#host.upstreamVersion() === undefined) {
          // interfaces.md "Versions": wait for the upstream's version before answering.
          this.#transition("waiting", "upstream not ready yet");
          this.#waitTimer = this.#o.clock.setTimeout(() => {
            this.#host.trouble(
              this,
              "upstream_wait_timeout",
              `upstream not ready in ${this.#o.upstreamWaitMs} ms`,
            );
            this.destroy("upstream not ready");
          }, this.#o.upstreamWaitMs);
          return;
        }
        this.#answerHello(range);
        return;
      }
      case "waiting":
        // Nothing is read before the hello; keep a few frames for after it, bounded.
        if (this.#early.length >= this.#o.maxEarlyFrames)
          throw new Error("too many frames before the handshake");
        this.#early.push(Buffer.from(payload));
        return;
      case "starting":
        this.#onStartFrame(decodeFields(payload));
        return;
      case "open": {
        const fields = decodeFields(payload);
        this.messagesIn++;
        // A second START_API is ignored, as TWS ignores it.
        if (fields[0] === String(OUT.START_API)) return;
        this.#tenant?.send(fields);
        return;
      }
    }
  }

  #answerHello(range: VersionRange): void {
    const v = this.#host.upstreamVersion();
    if (v === undefined) return;
    this.#version = v;
    this.#out.raw(encodeServerHello(v, formatConnectionTime(this.#o.clock.now(), "UTC")));
    if (v < range.min || v > range.max) {
      // One negotiated version across the proxy: the client must speak the upstream's.
      this.#host.trouble(this, "version_refused", `client offers ${range.min}..${range.max}, upstream ${v}`);
      this.#write(noticeFields(UNSUPPORTED_VERSION, v, versionRefusal(v, range.min, range.max)));
      this.end("version outside the client's range");
      return;
    }
    this.#transition("starting", "hello sent");
    const early = this.#early;
    this.#early = [];
    for (const p of early) if (this.#state === "starting" || this.#state === "open") this.#onFrame(p);
  }

  #onStartFrame(fields: string[]): void {
    // Anything before START_API is ignored, as TWS does.
    if (fields[0] !== String(OUT.START_API)) return;
    const v = this.#version ?? 0;
    const clientId = Number(fields[2]);
    if (!Number.isInteger(clientId)) throw new Error("START_API without a client id");
    this.#clientId = clientId;
    if (!this.#host.claimClientId(this, clientId)) {
      this.#host.trouble(this, "client_id_in_use", `client id ${clientId}`);
      this.#write(noticeFields(CLIENT_ID_IN_USE, v));
      this.end(`client id ${clientId} in use`);
      return;
    }
    const tenant = this.#host.openTenant(this, clientId);
    this.#tenant = tenant;
    tenant.onMessage((f) => this.#deliver(f), {
      frame: (payload, index, id) => this.#deliverFrame(payload, index, id),
    });
    tenant.onClose(() => this.end("tenant closed"));
    this.#transition("open", "START_API answered");
    this.#write(managedAcctsFields(this.#host.accounts(), v));
    this.#write(nextValidIdFields(this.#host.nextOrderId(tenant), v));
    if (this.#host.upstreamUp()) for (const code of FARM_OK) this.#write(noticeFields(code, v));
    else this.#write(noticeFields(LOST, v));
  }

  // ── outbound messages ─────────────────────────────────────────────────────────────────

  /** A message from the switch for this client. */
  #deliver(fields: readonly string[]): void {
    const code = connectionNoticeCode(fields);
    // The switch re-subscribed everything after 1101, so to this client the data is kept.
    if (code === RESTORED_DATA_LOST) this.#write(noticeFields(RESTORED_DATA_KEPT, this.#version ?? 0));
    else this.#write(fields);
  }

  /**
   * An answer forwarded as bytes with its id rewritten. Never a connection notice (those are
   * ERR_MSG with id -1, delivered as fields), so only the writer's limits apply.
   */
  #deliverFrame(payload: Buffer, index: number, id: number): void {
    if (this.#state === "closed") return;
    if (this.#out.patched(payload, index, id) === "overflow") this.#overflow();
  }

  #overflow(): void {
    this.#host.trouble(this, "slow_consumer", `more than ${this.#o.maxWriteBufferBytes} bytes unread`);
    this.destroy("slow consumer: output buffer full");
  }

  #write(fields: readonly string[]): void {
    if (this.#state === "closed") return;
    const code = connectionNoticeCode(fields);
    if (code === LOST) this.#lost = true;
    else if (code === RESTORED_DATA_KEPT || code === RESTORED_DATA_LOST) this.#lost = false;
    if (this.#out.message(fields) === "overflow") this.#overflow();
  }
}
