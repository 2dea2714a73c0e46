/**
 * The live event stream over EventSource, kept open across daemon restarts. The browser
 * reconnects by itself after a dropped stream and sends Last-Event-ID; but it gives up for good
 * when an answer is not a 200 event stream (a daemon that is starting, or a proxy's error
 * page), so then we open a new EventSource ourselves, with capped backoff, resuming from the
 * last id via `?lastEventId=` (a new EventSource cannot set the header).
 */
import type { DaemonEvent } from "./types.js";

export type StreamState = "connecting" | "open" | "down";

export interface StreamHandlers {
  event(id: number, e: DaemonEvent): void;
  state(s: StreamState): void;
}

/** Every type the daemon sends (EventSource only delivers named events it is told about). */
export const EVENT_TYPES = [
  "line.state",
  "line.notice",
  "line.resubscribe",
  "orders.orphaned",
  "line.identity_changed",
  "pacer.wait",
  "pacer.violation",
  "pacer.state",
  "lease.granted",
  "lease.renewed",
  "lease.released",
  "lease.expired",
  "tenant.open",
  "tenant.close",
  "switch.replayed",
  "switch.order",
  "history.progress",
  "history.done",
] as const;

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 15_000;

export class EventStream {
  readonly #url: (lastId: number | null) => string;
  readonly #on: StreamHandlers;
  #es: EventSource | undefined;
  #lastId: number | null;
  #state: StreamState | "closed" = "connecting";
  #retryMs = RETRY_MIN_MS;
  #timer: number | undefined;

  /** `from` is where to start: 0 replays what the daemon's ring still holds. */
  constructor(url: (lastId: number | null) => string, on: StreamHandlers, from: number | null = 0) {
    this.#url = url;
    this.#on = on;
    this.#lastId = from;
    this.#open();
  }

  get lastId(): number | null {
    return this.#lastId;
  }

  /** Start again from `from` (a restarted daemon numbers its events from 1 again). */
  restart(from: number | null): void {
    if (this.#state === "closed") return;
    this.#lastId = from;
    this.#es?.close();
    window.clearTimeout(this.#timer);
    this.#open();
  }

  close(): void {
    this.#es?.close();
    window.clearTimeout(this.#timer);
    this.#transition("closed");
  }

  #open(): void {
    const es = new EventSource(this.#url(this.#lastId));
    this.#es = es;
    this.#transition("connecting");
    es.onopen = () => {
      this.#retryMs = RETRY_MIN_MS;
      this.#transition("open");
    };
    es.onerror = () => {
      if (this.#es !== es) return;
      this.#transition("down");
      if (es.readyState !== EventSource.CLOSED) return; // the browser retries by itself
      es.close();
      this.#timer = window.setTimeout(() => this.#open(), this.#retryMs);
      this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs * 2);
    };
    const onEvent = (m: MessageEvent<string>) => {
      if (this.#es !== es) return;
      const id = Number(m.lastEventId);
      if (Number.isFinite(id) && m.lastEventId !== "") this.#lastId = id;
      let data: DaemonEvent;
      try {
        data = JSON.parse(m.data) as DaemonEvent;
      } catch {
        return; // not ours; the daemon always sends JSON
      }
      this.#on.event(id, data);
    };
    for (const t of EVENT_TYPES) es.addEventListener(t, onEvent);
    es.onmessage = onEvent;
  }

  #transition(to: StreamState | "closed"): void {
    if (this.#state === to) return;
    this.#state = to;
    if (to !== "closed") this.#on.state(to);
  }
}
