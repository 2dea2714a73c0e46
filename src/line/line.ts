/**
 * A line: one managed upstream connection that always knows its true state and heals
 * itself. One writer of state (#transition), one reconnect attempt at a time (#dialing), a
 * generation per socket so callbacks of an old socket do nothing, and time from a Clock.
 */
import type { TimerHandle } from "../clock.js";
import {
  AbortedError,
  ClosedError,
  isSwitchboardError,
  TimeoutError,
  UpstreamUnavailableError,
} from "../errors.js";
import { EventHub } from "../events.js";
import type { Logger } from "../logger.js";
import { encodeMessage, fromFields, type MessageCodec, peekMessageId } from "../protocol/codec.js";
import { encodeFields } from "../protocol/fields.js";
import { encodeFrame, HEADER_BYTES } from "../protocol/frame.js";
import { IN, OUT } from "../protocol/message-ids.js";
import { EMPTY } from "../protocol/messages/common.js";
import {
  ERR_MSG,
  type ErrMsg,
  MANAGED_ACCTS,
  NEXT_VALID_ID,
  REQ_CURRENT_TIME,
} from "../protocol/messages/connection.js";
import { attemptAfterLoss } from "./backoff.js";
import type { ClientIdLease } from "./client-ids.js";
import { Heartbeat, type HeartbeatEvent } from "./heartbeat.js";
import { isLegalTransition, type LineEvent, type LineSnapshot, type LineState } from "./line-events.js";
import { LineMetrics } from "./line-metrics.js";
import { classifyNotice, isLineNotice } from "./notices.js";
import { type LineOptions, type ResolvedLineOptions, resolveLineOptions } from "./options.js";
import { Session } from "./session.js";
import { SleepDetector } from "./sleep-detector.js";
import type { Transport } from "./transport.js";

/** Inbound messages for the switch: message id, all fields (id first), socket generation. */
export type LineMessageListener = (msgId: number, fields: readonly string[], generation: number) => void;

export interface LineReadyOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface RetryPlan {
  /** Probe TCP every fastProbeIntervalMs during the wait (useful only when TCP itself failed). */
  fastPath: boolean;
  /** Override the backoff delay. */
  delayMs?: number;
}

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
  #lease: ClientIdLease | undefined;
  #dialing: Promise<void> | undefined;
  #dialAbort: AbortController | undefined;
  #probeAbort: AbortController | undefined;
  #retryTimer: TimerHandle | undefined;
  #fastTimer: TimerHandle | undefined;
  #handshakeTimer: TimerHandle | undefined;
  #closing: Promise<void> | undefined;
  #backoffAttempt = 0;
  #lastLoggedReason = "";
  #serverVersion: number | undefined;
  #accounts: string[] = [];
  #nextValidId: number | undefined;
  /** Answers to our own heartbeat probes still to come; they are not the switch's. */
  #ownProbes = 0;
  #placedOrder = false;
  /** First 326 for our id while orders live under it (interfaces.md, "Orders"). */
  #idWaitSince: number | undefined;

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
    return this.#lease?.clientId;
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
    const { clock } = this.#o;
    return new Promise((resolve, reject) => {
      let timer: TimerHandle | undefined;
      const finish = (fn: () => void) => {
        off();
        clock.clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        fn();
      };
      const off = this.#hub.on("line.state", (e) => {
        if (e.to === "ready") finish(resolve);
        else if (e.to === "closed") finish(() => reject(new ClosedError(`line ${this.name}`)));
      });
      const onAbort = () => finish(() => reject(new AbortedError(options.signal?.reason)));
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener("abort", onAbort, { once: true });
      if (options.timeoutMs !== undefined) {
        const ms = options.timeoutMs;
        timer = clock.setTimeout(
          () => finish(() => reject(new TimeoutError(`line ${this.name} ready`, ms))),
          ms,
        );
      }
    });
  }

  /** Send one complete frame, or the fields of one message. Only while ready or degraded. */
  send(data: Uint8Array | readonly string[]): void {
    if (this.#state === "closed") throw new ClosedError(`line ${this.name}`);
    const session = this.#session;
    if (!session || !UP.has(this.#state)) {
      throw new UpstreamUnavailableError(`line ${this.name} is ${this.#state}`);
    }
    const frame = data instanceof Uint8Array ? data : encodeFrame(encodeFields(data));
    if (peekMessageId(frame.subarray(HEADER_BYTES)) === OUT.PLACE_ORDER) this.#placedOrder = true;
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
    const m = this.#metrics;
    const since = m.connectedSince();
    return {
      name: this.name,
      target: this.#o.connector.target,
      state: this.#state,
      reason: this.#reason,
      generation: this.#generation,
      clientId: this.#lease?.clientId ?? null,
      serverVersion: this.#serverVersion ?? null,
      accounts: [...this.#accounts],
      nextValidId: this.#nextValidId ?? null,
      connectedSince: since === undefined ? null : new Date(since).toISOString(),
      lastHeartbeatAgoMs: UP.has(this.#state) ? now - this.#heartbeat.lastReceivedAt : null,
      heartbeatRttMs: this.#heartbeat.rttMs ?? null,
      reconnects: m.reconnects,
      attempts: m.attempts,
      uptimeRatio: m.uptimeRatio(now),
      timeToDetectMs: m.timeToDetectMs,
      timeToRecoverMs: m.timeToRecoverMs,
      sleeps: m.sleeps,
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
    this.#logTransition(from, to, reason);
    this.#hub.emit({
      type: "line.state",
      ts: now,
      line: this.name,
      from,
      to,
      reason,
      generation: this.#generation,
    });
    // A new socket starts with no subscriptions: whoever holds them must replay.
    if (recovered) this.#emitResubscribe("reconnect");
  }

  #logTransition(from: LineState, to: LineState, reason: string): void {
    const fields = { from, to, reason, generation: this.#generation, clientId: this.#lease?.clientId };
    if (to === "ready") {
      this.#lastLoggedReason = "";
      this.#log.info(fields, "line ready");
    } else if (to === "degraded" || to === "closed") {
      this.#log[to === "degraded" ? "warn" : "info"](fields, `line ${to}`);
    } else if (to === "reconnecting" && reason !== this.#lastLoggedReason) {
      // Log the first failure of a kind; repeats of the same failure go to debug (no flood).
      this.#lastLoggedReason = reason;
      this.#log.warn({ ...fields, attempt: this.#backoffAttempt }, "line reconnecting");
    } else {
      this.#log.debug(fields, `line ${to}`);
    }
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
    this.#clearRetryTimers();
    this.#dialing = this.#dial(reason);
  }

  async #dial(reason: string): Promise<void> {
    this.#transition("connecting", reason);
    const gen = ++this.#generation;
    const live = () => gen === this.#generation && this.#state === "connecting";
    let transport: Transport;
    try {
      if (!this.#lease) {
        const lease = await this.#o.clientIds.acquire();
        if (this.#state === "closed") {
          await lease.release().catch(() => {});
          return;
        }
        this.#lease = lease;
      }
      transport = await this.#open();
    } catch (err) {
      this.#dialing = undefined;
      if (!live()) return;
      // An exhausted id range is not a network fault: no TCP fast path for it.
      const exhausted = isSwitchboardError(err) && err.code === "range_exhausted";
      this.#scheduleRetry(`connect failed: ${message(err)}`, { fastPath: !exhausted });
      return;
    }
    this.#dialing = undefined;
    const lease = this.#lease;
    if (!live() || !lease) {
      transport.destroy();
      return;
    }
    const session = new Session(
      transport,
      gen,
      { ...this.#o, clientId: lease.clientId },
      {
        hello: (h) => {
          if (this.#isCurrent(gen)) this.#serverVersion = h.serverVersion;
        },
        message: (id, fields) => {
          if (this.#isCurrent(gen)) this.#onMessage(id, fields, gen);
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

  async #open(): Promise<Transport> {
    const { clock, connectTimeoutMs: ms } = this.#o;
    const ac = new AbortController();
    this.#dialAbort = ac;
    const timer = clock.setTimeout(() => ac.abort(new TimeoutError("connect", ms)), ms);
    try {
      return await this.#o.connector.open(ac.signal);
    } finally {
      clock.clearTimeout(timer);
      this.#dialAbort = undefined;
    }
  }

  #isCurrent(gen: number): boolean {
    return gen === this.#generation && this.#session?.generation === gen && this.#state !== "closed";
  }

  // ── inbound ────────────────────────────────────────────────────────────────────────────

  #onMessage(msgId: number, fields: string[], gen: number): void {
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
      case IN.MANAGED_ACCTS:
        this.#accounts = fromFields(MANAGED_ACCTS, fields, v).accounts;
        this.#handshake.accounts = true;
        break;
      case IN.ERR_MSG:
        notice = fromFields(ERR_MSG, fields, v);
        break;
    }
    for (const listener of this.#listeners) {
      try {
        listener(msgId, fields, gen);
      } catch (err) {
        this.#log.error({ err, msgId }, "message listener threw");
      }
    }
    if (notice && isLineNotice(notice.id, notice.code)) this.#onNotice(notice, gen);
    if (this.#state === "handshaking" && this.#handshake.nextValidId && this.#handshake.accounts) {
      this.#o.clock.clearTimeout(this.#handshakeTimer);
      this.#heartbeat.start();
      this.#idWaitSince = undefined;
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

  #onClientIdInUse(gen: number): void {
    const lease = this.#lease;
    if (!lease) return;
    const now = this.#o.clock.now();
    const permIds = [...this.#o.placedOrders()];
    if (this.#placedOrder || permIds.length > 0) {
      // TWS ties orders to the id that placed them: wait for the id before giving it up.
      this.#idWaitSince ??= now;
      if (now - this.#idWaitSince < this.#o.orderClientIdWaitMs) {
        this.#lose(gen, `326: client id ${lease.clientId} in use; waiting for it (orders placed under it)`, {
          fastPath: false,
        });
        return;
      }
      this.#hub.emit({
        type: "orders.orphaned",
        ts: now,
        line: this.name,
        clientId: lease.clientId,
        permIds,
      });
      this.#log.error(
        { clientId: lease.clientId, permIds },
        "moving to another client id; its orders are orphaned",
      );
    }
    this.#idWaitSince = undefined;
    this.#placedOrder = false;
    this.#lease = undefined;
    this.#o.clientIds.rejected(lease.clientId);
    lease.release().catch((err: unknown) => this.#log.warn({ err }, "client id release failed"));
    this.#lose(gen, `326: client id ${lease.clientId} in use`, { fastPath: false });
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
      const since = this.#metrics.connectedSince() ?? now;
      this.#backoffAttempt = attemptAfterLoss(this.#backoffAttempt, now - since, this.#o.stableAfterMs);
    }
    session?.destroy();
    this.#scheduleRetry(reason, plan);
  }

  #scheduleRetry(reason: string, plan: RetryPlan): void {
    const { clock, fastProbeIntervalMs } = this.#o;
    this.#backoffAttempt++;
    const delay = plan.delayMs ?? this.#o.backoff(this.#backoffAttempt, this.#o.random());
    if (delay === null) {
      this.#closing ??= this.#shutdown(
        `gave up after ${this.#backoffAttempt - 1} attempts: ${reason}`,
        false,
      );
      return;
    }
    this.#transition("reconnecting", reason);
    this.#retryTimer = clock.setTimeout(() => {
      this.#retryTimer = undefined;
      this.#connectNow("backoff elapsed");
    }, delay);
    if (plan.fastPath && fastProbeIntervalMs > 0 && delay > fastProbeIntervalMs) this.#armFastProbe();
  }

  /** During backoff, a cheap TCP connect every fastProbeIntervalMs: the gateway is back → go. */
  #armFastProbe(): void {
    const { clock, fastProbeIntervalMs: every, connectTimeoutMs } = this.#o;
    this.#fastTimer = clock.setTimeout(() => {
      this.#fastTimer = undefined;
      if (this.#state !== "reconnecting") return;
      const gen = this.#generation;
      const ac = new AbortController();
      this.#probeAbort = ac;
      const limit = Math.min(connectTimeoutMs, every * 4);
      const timer = clock.setTimeout(() => ac.abort(new TimeoutError("probe", limit)), limit);
      this.#o.connector
        .probe(ac.signal)
        .catch(() => false)
        .then((reachable) => {
          clock.clearTimeout(timer);
          if (this.#probeAbort === ac) this.#probeAbort = undefined;
          if (this.#state !== "reconnecting" || gen !== this.#generation) return;
          if (reachable) this.#connectNow("gateway reachable (fast path)");
          else this.#armFastProbe();
        });
    }, every);
  }

  #clearRetryTimers(): void {
    this.#o.clock.clearTimeout(this.#retryTimer);
    this.#o.clock.clearTimeout(this.#fastTimer);
    this.#retryTimer = undefined;
    this.#fastTimer = undefined;
    this.#probeAbort?.abort(new AbortedError("line stopped probing"));
    this.#probeAbort = undefined;
  }

  async #shutdown(reason: string, graceful: boolean): Promise<void> {
    if (this.#state === "closed") return;
    const { clock } = this.#o;
    const session = this.#session;
    this.#session = undefined;
    this.#heartbeat.stop();
    this.#sleep.stop();
    this.#clearRetryTimers();
    clock.clearTimeout(this.#handshakeTimer);
    this.#dialAbort?.abort(new AbortedError("line closed"));
    this.#transition("closed", reason);
    const lease = this.#lease;
    this.#lease = undefined;
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
    await lease?.release().catch((err: unknown) => this.#log.warn({ err }, "client id release failed"));
  }
}
