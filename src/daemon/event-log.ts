/**
 * The daemon's event log: every event of every part (line, pacer, registry, switch) gets a
 * sequence number and lands in a ring of the last 1,000, so an SSE client that reconnects
 * with Last-Event-ID gets what it missed. Listeners are called synchronously; the SSE side
 * bounds its own buffers. High-rate events (single pacer waits) never enter the ring: they
 * go to taps only (metrics), and reach the ring as digests (wait-digest.ts).
 */
import type { BaseEvent } from "../events.js";

export const DEFAULT_EVENT_RING_SIZE = 1_000;

export interface LoggedEvent {
  readonly id: number;
  readonly type: string;
  /** The event itself: `{type, ts, …}`. */
  readonly data: BaseEvent;
}

export type EventLogListener = (e: LoggedEvent) => void;

export class EventLog {
  readonly #ring: (LoggedEvent | undefined)[];
  readonly #listeners = new Set<EventLogListener>();
  readonly #taps = new Set<(e: BaseEvent) => void>();
  readonly #counts = new Map<string, number>();
  #seq = 0;

  constructor(size = DEFAULT_EVENT_RING_SIZE) {
    this.#ring = new Array(Math.max(1, size));
  }

  get lastId(): number {
    return this.#seq;
  }

  /** Oldest id still held (lastId + 1 when empty). */
  get oldestId(): number {
    return Math.max(1, this.#seq - this.#ring.length + 1);
  }

  /** Events seen since start, by type. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }

  /** A high-rate event: seen by taps (metrics) only; no sequence number, not in the ring. */
  observe(data: BaseEvent): void {
    for (const fn of [...this.#taps]) {
      try {
        fn(data);
      } catch {
        // As for listeners: one failing tap must not stop the others.
      }
    }
  }

  /** Every event, ring ones and high-rate ones alike (metrics). */
  tap(fn: (e: BaseEvent) => void): () => void {
    this.#taps.add(fn);
    return () => this.#taps.delete(fn);
  }

  push(data: BaseEvent): LoggedEvent {
    this.observe(data);
    const e: LoggedEvent = { id: ++this.#seq, type: data.type, data };
    this.#ring[e.id % this.#ring.length] = e;
    this.#counts.set(e.type, (this.#counts.get(e.type) ?? 0) + 1);
    for (const fn of [...this.#listeners]) {
      try {
        fn(e);
      } catch {
        // A failing listener (a broken SSE socket) must not stop the others.
      }
    }
    return e;
  }

  /** Held events with id > lastId, oldest first. */
  since(lastId: number): LoggedEvent[] {
    const out: LoggedEvent[] = [];
    for (let id = Math.max(lastId + 1, this.oldestId); id <= this.#seq; id++) {
      const e = this.#ring[id % this.#ring.length];
      if (e && e.id === id) out.push(e);
    }
    return out;
  }

  subscribe(fn: EventLogListener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  get subscribers(): number {
    return this.#listeners.size;
  }
}
