/**
 * A line: one managed upstream connection that always knows its true state and heals
 * itself. One writer of state (#transition), one reconnect attempt at a time (#dialing), a
 * generation per socket so callbacks of an old socket do nothing, and time from a Clock.
 */
import type { TimerHandle } from "../clock.js";
import { AbortedError, ClosedError, isSwitchboardError, UpstreamUnavailableError } from "../errors.js";
import { EventHub } from "../events.js";
import type { Logger } from "../logger.js";
import { encodeMessage, fromFields, type MessageCodec, peekMessageId } from "../protocol/codec.js";
import { encodeMessageFrame, HEADER_BYTES } from "../protocol/frame.js";
import { IN, OUT } from "../protocol/message-ids.js";
import { EMPTY } from "../protocol/messages/common.js";
import {
  ERR_MSG,
  type ErrMsg,
  MANAGED_ACCTS,
  NEXT_VALID_ID,
  REQ_CURRENT_TIME,
} from "../protocol/messages/connection.js";
import { openWithin } from "./connector.js";
import { Heartbeat, type HeartbeatEvent } from "./heartbeat.js";
import { type IdentityMismatch, isIdentityMismatch } from "./identity.js";
import { LineClientId } from "./line-client-id.js";
import { isLegalTransition, type LineEvent, type LineSnapshot, type LineState } from "./line-events.js";
import { LineMetrics } from "./line-metrics.js";
import { classifyNotice, isLineNotice } from "./notices.js";
import { type LineOptions, type ResolvedLineOptions, resolveLineOptions } from "./options.js";
import { Retry } from "./retry.js";
import { Session } from "./session.js";
import { SleepDetector } from "./sleep-detector.js";
import { TransitionLog } from "./transition-log.js";
import type { Transport } from "./transport.js";
import { type WaitStateOptions, waitForState } from "./wait-state.js";

/** Inbound messages for the switch: message id, all fields (id first), socket generation. */
/**
 * One inbound message. `payload` is the frame it was decoded from (no length prefix), for a
 * listener that forwards the bytes (the proxy); it is valid during the call only.
 */
export type LineMessageListener = (
  msgId: number,
  fields: readonly string[],
  generation: number,
  payload: Buffer,
) => void;

export type LineReadyOptions = WaitStateOptions;

interface RetryPlan {
  /** Probe TCP every fastProbeIntervalMs during the wait (useful only when TCP itself failed). */
  fastPath: boolean;
  /** Override the backoff delay. */
  delayMs?: number;
  /**
   * Retry within this many ms, jittered in [capMs / 2, capMs], instead of the backoff, and
   * without counting an attempt (the gateway answered; only something on it is busy).
   */
  capMs?: number;
}

/**
 * After a 326 the next look is at most this far off, however long the backoff has grown: TWS
 * is up and answering, and the id it refuses is freed when TWS notices its old socket is
 * gone — waiting 16 or 30 s past that moment (the backoff's later steps) would keep every
 * tenant off the line for no gain. Jittered in [½, 1] of it, so lines refused together do not
 * redial in step, and at most two handshakes a second: no load on TWS. These looks are not
 * backoff attempts: a backoff that gives up after N attempts is about a gateway that does not
 * answer, and must not end a line that waits for its own id (live orders under it).
 */
export const CLIENT_ID_RETRY_MAX_MS = 1_000;

const UP: ReadonlySet<LineState> = new Set(["ready", "degraded"]);
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class Line implements AsyncDisposable {
  readonly name: string;
  readonly #o: ResolvedLineOptions;
  readonly #log: Logger;
  readonly #hub = new EventHub<LineEvent>();
  readonly #listeners = new Set<LineMessageListener>();
  readonly #metrics = new LineMetrics();
  readonly #heartbeat: Heartbeat;
  readonly #sleep: SleepDetector;
  #state: LineState = "disconnected";
  #reason = "created";
  #generation = 0;
  #session: Session | undefined;
  /** What this session's handshake has seen; readiness needs both (ib_async's rule). */
  #handshake = { nextValidId: false, accounts: false };
  readonly #id: LineClientId;
  #dialing: Promise<void> | undefined;
  #dialAbort: AbortController | undefined;
  readonly #retry: Retry;
  #handshakeTimer: TimerHandle | undefined;
  #closing: Promise<void> | undefined;
  readonly #transitions: TransitionLog;
  #serverVersion: number | undefined;
  #accounts: string[] = [];
  #nextValidId: number | undefined;
  /** Answers to our own heartbeat probes still to come; they are not the switch's. */
  #ownProbes = 0;

  constructor(options: LineOptions = {}) {
    this.#o = resolveLineOptions(options);
    this.name = this.#o.name;
    this.#log = this.#o.logger.child({ part: "line", lineId: this.name });
    this.#heartbeat = new Heartbeat(
      {
        probe: () => this.#sendProbe(),
        stale: (info) =>
          this.#lose(this.#generation, `heartbeat: nothing received for ${info.quietMs} ms`, {
            fastPath: true,
          }),
        emit: (e) => this.#onHeartbeat(e),
      },
      this.#o.clock,
      {
        idleMs: this.#o.heartbeatIdleMs,
        deadlineMs: this.#o.heartbeatDeadlineMs,
        maxMissed: this.#o.heartbeatMaxMissed,
        sleepMinLateMs: this.#o.sleepMinLateMs,
      },
    );
    this.#transitions = new TransitionLog(this.#log);
    this.#id = new LineClientId(this.#o, (err) => this.#log.warn({ err }, "client id release failed"));
    this.#retry = new Retry(
      {
        connect: (reason) => this.#connectNow(reason),
        // A line refused for its identity waits in `disconnected` (generation > 0 once it dialled).
        waiting: (gen) =>
          gen === this.#generation &&
          (this.#state === "reconnecting" || (this.#state === "disconnected" && gen > 0)),
      },
      this.#o,
    );
    this.#sleep = new SleepDetector(
      this.#o.clock,
      { intervalMs: this.#o.sleepCheckIntervalMs, minLateMs: this.#o.sleepMinLateMs },
      (e) => this.#onSleep(e.lateMs),
    );
  }

  get state(): LineState {
    return this.#state;
  }
  get reason(): string {
    return this.#reason;
  }
  get generation(): number {
    return this.#generation;
  }
  get serverVersion(): number | undefined {
    return this.#serverVersion;
  }
  get accounts(): readonly string[] {
    return this.#accounts;
  }
  get nextValidId(): number | undefined {
    return this.#nextValidId;
  }
  get clientId(): number | undefined {
    return this.#id.clientId;
  }

  /** Begin connecting; never throws for an absent gateway (the line keeps trying). */
  start(): void {
    if (this.#state === "closed") throw new ClosedError(`line ${this.name}`);
    if (this.#state !== "disconnected") return;
    this.#metrics.started(this.#o.clock.now());
    this.#sleep.start();
    this.#connectNow("start");
  }

  /** Resolve once the line is ready; reject on close, timeout or abort. */
  ready(options: LineReadyOptions = {}): Promise<void> {
    if (this.#state === "ready") return Promise.resolve();
    if (this.#state === "closed") return Promise.reject(new ClosedError(`line ${this.name}`));
    const onState = (fn: (e: Extract<LineEvent, { type: "line.state" }>) => void) =>
      this.#hub.on("line.state", fn);
    return waitForState(onState, this.#o.clock, `line ${this.name}`, "ready", options);
  }

  /** Send one complete frame, or the fields of one message. Only while ready or degraded. */
  send(data: Uint8Array | readonly string[]): void {
    if (this.#state === "closed") throw new ClosedError(`line ${this.name}`);
    const session = this.#session;
    if (!session || !UP.has(this.#state)) {
      throw new UpstreamUnavailableError(`line ${this.name} is ${this.#state}`);
    }
    const frame = data instanceof Uint8Array ? data : encodeMessageFrame(data);
    if (peekMessageId(frame.subarray(HEADER_BYTES)) === OUT.PLACE_ORDER) this.#id.orderPlaced();
    session.write(frame);
  }

  sendMessage<T>(codec: MessageCodec<T>, msg: T): void {
    this.send(encodeMessage(codec, msg, this.#serverVersion ?? this.#o.maxVersion));
  }

  onMessage(listener: LineMessageListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  on<T extends LineEvent["type"]>(type: T, fn: (event: Extract<LineEvent, { type: T }>) => void): () => void {
    return this.#hub.on(type, fn);
  }

  /** Every line event from now on, in a queue of its own (bounded; see EventHub). */
  status(options: { limit?: number; signal?: AbortSignal } = {}): AsyncIterableIterator<LineEvent> {
    return this.#hub.events(options);
  }

  snapshot(): LineSnapshot {
    const now = this.#o.clock.now();
    return {
      name: this.name,
      target: this.#o.connector.target,
      state: this.#state,
      reason: this.#reason,
      generation: this.#generation,
      clientId: this.#id.clientId ?? null,
      serverVersion: this.#serverVersion ?? null,
      accounts: [...this.#accounts],
      nextValidId: this.#nextValidId ?? null,
      lastHeartbeatAgoMs: UP.has(this.#state) ? now - this.#heartbeat.lastReceivedAt : null,
      heartbeatRttMs: this.#heartbeat.rttMs ?? null,
      ...this.#metrics.view(now),
    };
  }

  /** Graceful: send nothing more, flush what was written, close the socket, release the id. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown("closed", true);
    return this.#closing;
  }

  /** Immediate: cut the socket now. */
  destroy(error?: Error): void {
    this.#closing ??= this.#shutdown(error ? `destroyed: ${error.message}` : "destroyed", false);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ── the one writer of state ────────────────────────────────────────────────────────────

  #transition(to: LineState, reason: string): void {
    const from = this.#state;
    if (!isLegalTransition(from, to)) {
      // A bug, not a runtime condition: the property test drives every path.
      throw new Error(`line ${this.name}: illegal transition ${from} → ${to} (${reason})`);
    }
    this.#state = to;
    this.#reason = reason;
    const now = this.#o.clock.now();
    const recovered = this.#metrics.transition(from, to, now);
    const { generation } = this;
    this.#transitions.log({
      from,
      to,
      reason,
      generation,
      clientId: this.#id.clientId,
      attempt: this.#retry.attempt,
    });
    this.#hub.emit({
      type: "line.state",
      ts: now,
      line: this.name,
      from,
      to,
      reason,
      generation: this.#generation,
      // Where the line is (for `auto`, the port it settled on): says which gateway it became ready on.
      upstream: this.#o.connector.target,
    });
    // A new socket starts with no subscriptions: whoever holds them must replay.
    if (recovered) this.#emitResubscribe("reconnect");
  }

  #emitResubscribe(cause: "1101" | "reconnect"): void {
    const ts = this.#o.clock.now();
    this.#hub.emit({
      type: "line.resubscribe",
      ts,
      line: this.name,
      dataLost: true,
      cause,
      generation: this.#generation,
    });
  }

  // ── connecting: one memoized attempt ────────────────────────────────────────────────────

  #connectNow(reason: string): void {
    if (this.#state === "closed" || this.#dialing || this.#session) return;
    this.#retry.cancel();
    this.#dialing = this.#dial(reason);
  }

  async #dial(reason: string): Promise<void> {
    this.#transition("connecting", reason);
    const gen = ++this.#generation;
    const live = () => gen === this.#generation && this.#state === "connecting";
    let transport: Transport;
    try {
      if ((await this.#id.ensure(() => this.#state === "closed")) === undefined) return;
      const ac = new AbortController();
      this.#dialAbort = ac;
      transport = await openWithin(this.#o.connector, this.#o.clock, this.#o.connectTimeoutMs, ac.signal);
    } catch (err) {
      this.#dialing = undefined;
      this.#dialAbort = undefined;
      if (!live()) return;
      // `auto` found only gateways of another identity: refused before any handshake of ours.
      if (isIdentityMismatch(err)) {
        this.#refuseIdentity(err.mismatch, err.where);
        return;
      }
      // An exhausted id range is not a network fault: no TCP fast path for it.
      const exhausted = isSwitchboardError(err) && err.code === "range_exhausted";
      this.#scheduleRetry(`connect failed: ${message(err)}`, { fastPath: !exhausted });
      return;
    }
    this.#dialing = undefined;
    this.#dialAbort = undefined;
    const clientId = this.#id.clientId;
    if (!live() || clientId === undefined) {
      transport.destroy();
      return;
    }
    const session = new Session(
      transport,
      gen,
      { ...this.#o, clientId },
      {
        hello: (h) => {
          if (this.#isCurrent(gen)) this.#serverVersion = h.serverVersion;
        },
        message: (id, fields, payload) => {
          if (this.#isCurrent(gen)) this.#onMessage(id, fields, gen, payload);
        },
        closed: (why) => this.#lose(gen, why, { fastPath: true }),
      },
    );
    this.#session = session;
    this.#handshake = { nextValidId: false, accounts: false };
    this.#ownProbes = 0;
    this.#transition("handshaking", `socket open to ${session.remote}`);
    const ms = this.#o.handshakeTimeoutMs;
    // The socket is fine but the gateway does not talk: TCP probes would learn nothing new.
    this.#handshakeTimer = this.#o.clock.setTimeout(
      () => this.#lose(gen, `handshake timeout after ${ms} ms`, { fastPath: false }),
      ms,
    );
    session.start();
  }

  #isCurrent(gen: number): boolean {
    return gen === this.#generation && this.#session?.generation === gen && this.#state !== "closed";
  }

  // ── inbound ────────────────────────────────────────────────────────────────────────────

  #onMessage(msgId: number, fields: string[], gen: number, payload: Buffer): void {
    this.#heartbeat.received();
    const v = this.#serverVersion ?? this.#o.maxVersion;
    let notice: ErrMsg | undefined;
    switch (msgId) {
      case IN.CURRENT_TIME:
        this.#heartbeat.answered();
        if (this.#ownProbes > 0) {
          this.#ownProbes--;
          return;
        }
        break;
      case IN.NEXT_VALID_ID:
        this.#nextValidId = fromFields(NEXT_VALID_ID, fields, v).orderId;
        this.#handshake.nextValidId = true;
        break;
      case IN.MANAGED_ACCTS: {
        const accounts = fromFields(MANAGED_ACCTS, fields, v).accounts;
        const mismatch = this.#o.identity?.check(accounts);
        if (mismatch) {
          // Not forwarded: nothing of a gateway with another identity reaches the tenants.
          if (this.#state === "handshaking") this.#refuseIdentity(mismatch, this.#session?.remote ?? "?");
          else this.#lose(gen, mismatch.reason, { fastPath: false });
          return;
        }
        this.#accounts = accounts;
        this.#handshake.accounts = true;
        break;
      }
      case IN.ERR_MSG:
        notice = fromFields(ERR_MSG, fields, v);
        break;
    }
    for (const listener of this.#listeners) {
      try {
        listener(msgId, fields, gen, payload);
      } catch (err) {
        this.#log.error({ err, msgId }, "message listener threw");
      }
    }
    if (notice && isLineNotice(notice.id, notice.code)) this.#onNotice(notice, gen);
    if (this.#state === "handshaking" && this.#handshake.nextValidId && this.#handshake.accounts) {
      this.#o.clock.clearTimeout(this.#handshakeTimer);
      this.#heartbeat.start();
      this.#id.ready();
      // Recorded (on disk) before anyone may use the line: a restart knows it at once.
      this.#o.identity?.confirmed(this.#accounts);
      this.#transition("ready", "handshake complete");
    }
  }

  #onNotice(n: ErrMsg, gen: number): void {
    const rule = classifyNotice(n.code);
    const ts = this.#o.clock.now();
    this.#hub.emit({
      type: "line.notice",
      ts,
      line: this.name,
      id: n.id,
      code: n.code,
      message: n.message,
      level: rule.level,
    });
    this.#log[rule.level]({ code: n.code, id: n.id }, n.message);
    const why = `${n.code} ${n.message}`;
    switch (rule.action) {
      case "degrade":
        if (this.#state === "ready") this.#transition("degraded", why);
        break;
      case "restore-data-lost":
        if (this.#state === "degraded") this.#transition("ready", why);
        if (this.#state === "ready") this.#emitResubscribe("1101");
        break;
      case "restore-data-kept":
        if (this.#state === "degraded") this.#transition("ready", why);
        break;
      case "reconnect":
        this.#lose(gen, why, { fastPath: true, delayMs: 0 });
        break;
      case "client-id-in-use":
        this.#onClientIdInUse(gen);
        break;
    }
  }

  /**
   * Move the line to another client id at once (`switchboard lines switch-client-id`): the
   * orders under the old id are reported as `orders.orphaned` — TWS keeps them under that id.
   * Undefined when the line holds no id.
   */
  switchClientId(): { clientId: number; permIds: number[] } | undefined {
    const forced = this.#id.forceSwitch();
    if (!forced) return undefined;
    const { clientId, permIds } = forced;
    this.#hub.emit({ type: "orders.orphaned", ts: this.#o.clock.now(), line: this.name, clientId, permIds });
    this.#log.error({ clientId, permIds }, "client id switched by the user; its orders are orphaned");
    if (this.#state !== "closed")
      this.#lose(this.#generation, `client id ${clientId} switched by the user`, {
        fastPath: true,
        delayMs: 0,
      });
    return forced;
  }

  #onClientIdInUse(gen: number): void {
    const decision = this.#id.inUse();
    if (!decision) return;
    const { clientId } = decision;
    if (decision.kind === "wait") {
      const how = decision.longWait ? "still waiting" : "waiting";
      this.#lose(
        gen,
        `client_id_held: 326: client id ${clientId} in use; ${how} for it (live orders under it)`,
        { fastPath: false, capMs: CLIENT_ID_RETRY_MAX_MS },
      );
      return;
    }
    const permIds = decision.orphanedPermIds;
    if (permIds) {
      const ts = this.#o.clock.now();
      this.#hub.emit({ type: "orders.orphaned", ts, line: this.name, clientId, permIds });
      this.#log.error({ clientId, permIds }, "moving to another client id; its orders are orphaned");
    }
    this.#lose(gen, `326: client id ${clientId} in use`, { fastPath: false, capMs: CLIENT_ID_RETRY_MAX_MS });
  }

  // ── heartbeat and sleep ─────────────────────────────────────────────────────────────────

  #sendProbe(): void {
    const session = this.#session;
    if (!session || this.#serverVersion === undefined) return;
    if (session.write(encodeMessage(REQ_CURRENT_TIME, EMPTY, this.#serverVersion))) this.#ownProbes++;
  }

  #onHeartbeat(e: HeartbeatEvent): void {
    if (e.type === "missed") this.#log.debug({ missed: e.missed }, "heartbeat probe unanswered");
    else if (e.type === "sleep") this.#log.debug({ lateMs: e.lateMs }, "heartbeat timer fired late");
  }

  #onSleep(lateMs: number): void {
    this.#metrics.sleeps++;
    this.#log.info({ lateMs, state: this.#state }, "timers fired late: the machine slept; checking the line");
    if (UP.has(this.#state)) this.#heartbeat.probeNow("sleep");
    else if (this.#state === "reconnecting") this.#connectNow("woke from sleep");
  }

  // ── losing the socket, waiting, closing ─────────────────────────────────────────────────

  #lose(gen: number, reason: string, plan: RetryPlan): void {
    if (!this.#isCurrent(gen)) return;
    const now = this.#o.clock.now();
    const session = this.#session;
    this.#session = undefined;
    this.#o.clock.clearTimeout(this.#handshakeTimer);
    this.#heartbeat.stop();
    if (UP.has(this.#state)) {
      this.#metrics.lost(now, this.#heartbeat.lastReceivedAt);
      this.#retry.lost(now - (this.#metrics.connectedSince() ?? now));
    }
    session?.destroy();
    this.#scheduleRetry(reason, plan);
  }

  /**
   * A gateway with another identity (line identity): close its socket, say so, and wait in
   * `disconnected` for the line's own identity. No TCP fast path: the stranger accepts TCP,
   * so only the backoff paces the next look.
   */
  #refuseIdentity(mismatch: IdentityMismatch, where: string): void {
    const session = this.#session;
    this.#session = undefined;
    this.#o.clock.clearTimeout(this.#handshakeTimer);
    this.#heartbeat.stop();
    session?.destroy();
    this.#o.connector.rejected?.();
    this.#log.error(
      { expected: mismatch.expected, got: mismatch.got, upstream: where },
      `refused ${where}: ${mismatch.reason}`,
    );
    this.#hub.emit({
      type: "line.identity_changed",
      ts: this.#o.clock.now(),
      line: this.name,
      expected: mismatch.expected,
      got: { accounts: [...mismatch.got.accounts], mode: mismatch.got.mode },
      upstream: where,
      reason: mismatch.reason,
    });
    const delay = this.#retry.next();
    if (delay === null) {
      this.#closing ??= this.#shutdown(
        `gave up after ${this.#retry.attempt - 1} attempts: ${mismatch.reason}`,
        false,
      );
      return;
    }
    this.#transition("disconnected", mismatch.reason);
    if (this.#state === "disconnected") this.#retry.arm(delay, false, this.#generation);
  }

  #scheduleRetry(reason: string, plan: RetryPlan): void {
    const delay =
      plan.capMs !== undefined
        ? Math.round((plan.capMs * (1 + this.#o.random())) / 2)
        : this.#retry.next(plan.delayMs);
    if (delay === null) {
      this.#closing ??= this.#shutdown(`gave up after ${this.#retry.attempt - 1} attempts: ${reason}`, false);
      return;
    }
    this.#transition("reconnecting", reason);
    // A state listener may have closed the line in the meantime.
    if (this.#state === "reconnecting") this.#retry.arm(delay, plan.fastPath, this.#generation);
  }

  async #shutdown(reason: string, graceful: boolean): Promise<void> {
    if (this.#state === "closed") return;
    const { clock } = this.#o;
    const session = this.#session;
    this.#session = undefined;
    this.#heartbeat.stop();
    this.#sleep.stop();
    this.#retry.cancel();
    clock.clearTimeout(this.#handshakeTimer);
    this.#dialAbort?.abort(new AbortedError("line closed"));
    this.#transition("closed", reason);
    if (session) {
      if (graceful) {
        let timer: TimerHandle | undefined;
        await Promise.race([
          session.end(),
          new Promise<void>((r) => {
            timer = clock.setTimeout(r, this.#o.closeTimeoutMs);
          }),
        ]);
        clock.clearTimeout(timer);
      }
      session.destroy();
    }
    await this.#id.release();
  }
}
