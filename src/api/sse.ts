/**
 * GET /events: Server-Sent Events from the daemon's event log. Each frame is
 * `event: <type>`, `id: <seq>`, `data: {"type","ts",…}`. `Last-Event-ID` (header, or
 * `?lastEventId=` for clients that cannot set it) replays what the 1,000-event ring still
 * holds. A client that stops reading is cut off once its socket buffer passes a limit,
 * rather than buffering without bound.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Clock, TimerHandle } from "../clock.js";
import type { EventLog, LoggedEvent } from "../daemon/event-log.js";

export const SSE_KEEPALIVE_MS = 15_000;
export const SSE_MAX_BUFFER_BYTES = 4 * 1024 * 1024;
/** Tells EventSource how long to wait before reconnecting. */
export const SSE_RETRY_MS = 2_000;

export function frame(e: LoggedEvent): string {
  return `event: ${e.type}\nid: ${e.id}\ndata: ${JSON.stringify(e.data)}\n\n`;
}

export interface SseOptions {
  log: EventLog;
  clock: Clock;
  /** Only these types, when given. */
  types?: ReadonlySet<string>;
  /** Closes every open stream (daemon shutdown). */
  closing: AbortSignal;
}

export function streamEvents(request: FastifyRequest, reply: FastifyReply, o: SseOptions): void {
  const header = request.headers["last-event-id"];
  const q = (request.query as Record<string, unknown> | undefined)?.lastEventId;
  const lastText = typeof header === "string" ? header : typeof q === "string" ? q : undefined;
  const lastId = lastText !== undefined && /^\d+$/.test(lastText) ? Number(lastText) : undefined;

  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  res.write(`retry: ${SSE_RETRY_MS}\n: switchboard events; last id ${o.log.lastId}\n\n`);

  let keepalive: TimerHandle | undefined;
  let done = false;
  let off: () => void = () => {};
  const send = (e: LoggedEvent) => {
    if (done || (o.types && !o.types.has(e.type))) return;
    if (res.writableLength > SSE_MAX_BUFFER_BYTES) {
      finish();
      return;
    }
    res.write(frame(e));
  };
  const tick = () => {
    keepalive = o.clock.setTimeout(() => {
      if (done) return;
      res.write(": keepalive\n\n");
      tick();
    }, SSE_KEEPALIVE_MS);
  };
  const finish = () => {
    if (done) return;
    done = true;
    off();
    o.clock.clearTimeout(keepalive);
    o.closing.removeEventListener("abort", finish);
    res.end();
  };
  if (lastId !== undefined) for (const e of o.log.since(lastId)) send(e);
  if (done) return;
  const unsubscribe = o.log.subscribe(send);
  off = () => void unsubscribe();
  tick();
  res.on("close", finish);
  o.closing.addEventListener("abort", finish, { once: true });
  // The client may be gone already; its "close" would then never fire again.
  if (res.destroyed) finish();
}
