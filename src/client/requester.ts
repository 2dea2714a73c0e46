/**
 * Request/answer bookkeeping for one tenant: each pending request is keyed by its own id
 * (or by the answer message for id-less requests), collects its answers until done, and is
 * always settled — by its answer, an IB error, a timeout, an abort or the tenant closing.
 */
import type { Clock, TimerHandle } from "../clock.js";
import { AbortedError, ClosedError, IbError, SwitchboardError, TimeoutError } from "../errors.js";
import { IN } from "../protocol/message-ids.js";
import { fieldIndex, inRoute } from "../protocol/routing.js";
import { isWarningCode } from "../switch/inbound.js";
import type { Tenant } from "../switch/tenant.js";

/** What a collector returns: keep going, or finish with a value. */
export type Step<T> = { done: false } | { done: true; value: T };
export const more: { done: false } = { done: false };
export const done = <T>(value: T): Step<T> => ({ done: true, value });

export interface RequestSpec<T> {
  /** Request id (own id space of this client) or an answer key for id-less requests. */
  key: string;
  send: readonly string[];
  collect(fields: readonly string[]): Step<T>;
  /** Sent upstream when the caller gives up (timeout, abort) on a request TWS may still serve. */
  cancel?: readonly string[];
  timeoutMs: number;
  signal?: AbortSignal;
  what: string;
}

interface Pending {
  collect(fields: readonly string[]): void;
  fail(err: SwitchboardError): void;
}

export const idKey = (id: number) => `#${id}`;
export const answerKey = (msgId: number) => `@${msgId}`;

export class Requester {
  readonly #tenant: Tenant;
  readonly #clock: Clock;
  readonly #maxPending: number;
  readonly #pending = new Map<string, Pending>();
  readonly #version: () => number;
  #nextId = 1;
  #closed = false;

  constructor(tenant: Tenant, clock: Clock, version: () => number, maxPending: number) {
    this.#tenant = tenant;
    this.#clock = clock;
    this.#version = version;
    this.#maxPending = maxPending;
    tenant.onMessage((f) => this.#onMessage(f));
    tenant.onClose(() => this.close());
  }

  nextId(): number {
    return this.#nextId++;
  }

  get pending(): number {
    return this.#pending.size;
  }

  send(fields: readonly string[]): void {
    if (this.#closed) throw new ClosedError("client");
    this.#tenant.send(fields);
  }

  run<T>(spec: RequestSpec<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#closed) return reject(new ClosedError("client"));
      if (spec.signal?.aborted) return reject(new AbortedError(spec.signal.reason));
      if (this.#pending.has(spec.key))
        return reject(
          new SwitchboardError("invalid_argument", `${spec.what}: a request with this id is already pending`),
        );
      if (this.#pending.size >= this.#maxPending)
        return reject(new SwitchboardError("queue_full", "too many pending requests on this client"));
      const settle = () => {
        this.#pending.delete(spec.key);
        this.#clock.clearTimeout(timer);
        spec.signal?.removeEventListener("abort", onAbort);
      };
      const giveUp = (err: SwitchboardError) => {
        settle();
        if (spec.cancel && !this.#closed) this.#tenant.send(spec.cancel);
        reject(err);
      };
      const onAbort = () => giveUp(new AbortedError(spec.signal?.reason));
      this.#pending.set(spec.key, {
        collect: (fields) => {
          let step: Step<T>;
          try {
            step = spec.collect(fields);
          } catch (err) {
            settle();
            reject(err);
            return;
          }
          if (step.done) {
            settle();
            resolve(step.value);
          }
        },
        fail: (err) => {
          settle();
          reject(err);
        },
      });
      // Declared after `settle` uses it: nothing can settle before the request is sent below.
      const timer: TimerHandle = this.#clock.setTimeout(
        () => giveUp(new TimeoutError(spec.what, spec.timeoutMs)),
        spec.timeoutMs,
      );
      spec.signal?.addEventListener("abort", onAbort, { once: true });
      this.#tenant.send(spec.send);
    });
  }

  /** Register a listener for a streaming request; returns its detach function. */
  listen(
    key: string,
    onFields: (fields: readonly string[]) => void,
    onError: (err: SwitchboardError) => void,
  ): () => void {
    this.#pending.set(key, { collect: onFields, fail: onError });
    return () => this.#pending.delete(key);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of [...this.#pending.values()]) p.fail(new ClosedError("client"));
    this.#pending.clear();
  }

  #onMessage(fields: readonly string[]): void {
    const msgId = Number(fields[0]);
    if (msgId === IN.ERR_MSG) {
      const id = Number(fields[2]);
      const code = Number(fields[3]);
      if (id === -1 || isWarningCode(code)) return;
      this.#pending.get(idKey(id))?.fail(new IbError(code, fields[4] ?? "", id));
      return;
    }
    const route = inRoute(msgId);
    if (route?.kind === "request" && route.idIndex !== undefined) {
      const id = Number(fields[fieldIndex(route.idIndex, this.#version())]);
      this.#pending.get(idKey(id))?.collect(fields);
      return;
    }
    this.#pending.get(answerKey(msgId))?.collect(fields);
  }
}
