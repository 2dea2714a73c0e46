/**
 * Typed events: every stateful part publishes a discriminated union on `type` through an
 * EventHub. Listeners use `on()`; consumers that want a stream (SSE, status iterators) use
 * `events()`, which gives each caller its own bounded queue and drops it when the loop ends.
 */
export interface BaseEvent {
  readonly type: string;
  readonly ts: number;
}

type Listener<E> = (event: E) => void;

export const DEFAULT_EVENT_QUEUE_LIMIT = 10_000;

export class EventHub<E extends BaseEvent> {
  readonly #listeners = new Map<string, Set<Listener<E>>>();
  readonly #any = new Set<Listener<E>>();

  on<T extends E["type"]>(type: T, fn: Listener<Extract<E, { type: T }>>): () => void {
    let set = this.#listeners.get(type);
    if (!set) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    const l = fn as Listener<E>;
    set.add(l);
    return () => set.delete(l);
  }

  onAny(fn: Listener<E>): () => void {
    this.#any.add(fn);
    return () => this.#any.delete(fn);
  }

  emit(event: E): void {
    const set = this.#listeners.get(event.type);
    if (set) for (const fn of [...set]) safeCall(fn, event);
    for (const fn of [...this.#any]) safeCall(fn, event);
  }

  /**
   * An async iterator of every event from now on. When the consumer lags by more than
   * `limit` events, the oldest are dropped and counted in `dropped` rather than growing
   * memory without bound.
   */
  events(
    options: { limit?: number; signal?: AbortSignal } = {},
  ): AsyncIterableIterator<E> & { dropped: number } {
    const limit = options.limit ?? DEFAULT_EVENT_QUEUE_LIMIT;
    const queue: E[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const state = { dropped: 0 };
    const off = this.onAny((e) => {
      if (queue.length >= limit) {
        queue.shift();
        state.dropped++;
      }
      queue.push(e);
      wake?.();
    });
    const finish = () => {
      done = true;
      off();
      wake?.();
    };
    options.signal?.addEventListener("abort", finish, { once: true });
    const iterator = {
      get dropped() {
        return state.dropped;
      },
      async next(): Promise<IteratorResult<E>> {
        for (;;) {
          const e = queue.shift();
          if (e) return { value: e, done: false };
          if (done) return { value: undefined, done: true };
          await new Promise<void>((r) => {
            wake = r;
          });
          wake = undefined;
        }
      },
      async return(): Promise<IteratorResult<E>> {
        finish();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /** Resolve with the first event of `type` that matches `predicate`. */
  once<T extends E["type"]>(
    type: T,
    predicate: (e: Extract<E, { type: T }>) => boolean = () => true,
    signal?: AbortSignal,
  ): Promise<Extract<E, { type: T }>> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const off = this.on(type, (e) => {
        if (!predicate(e)) return;
        off();
        signal?.removeEventListener("abort", onAbort);
        resolve(e);
      });
      const onAbort = () => {
        off();
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  get listenerCount(): number {
    let n = this.#any.size;
    for (const s of this.#listeners.values()) n += s.size;
    return n;
  }
}

function safeCall<E>(fn: Listener<E>, event: E): void {
  try {
    fn(event);
  } catch (err) {
    // A listener's bug must not break the emitter's other listeners or its caller's state.
    queueMicrotask(() => {
      throw err;
    });
  }
}
