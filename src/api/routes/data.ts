/**
 * Data routes: qualify, history, head timestamp, quote. Each call gets an AbortSignal that fires at
 * `timeoutMs`, when the client goes away, or when the daemon stops, so no request hangs:
 * the answer is the data, 429 `pacing_timeout` (the pacer could not make room in time),
 * 503 `upstream_unavailable` (the line is down; see daemon/data.ts) or 504 `timeout`.
 */
import type { ServerResponse } from "node:http";
import { z } from "zod";
import { sleep, type TimerHandle } from "../../clock.js";
import { AbortedError, isSwitchboardError, SwitchboardError, TimeoutError } from "../../errors.js";
import {
  barSchema,
  type CallOptions,
  contractSchema,
  type DataService,
  headSchema,
  quoteSchema,
} from "../data-service.js";
import type { RouteContext } from "./context.js";
import { headQuery, historyQuery, qualifyQuery, quoteParams, quoteQuery } from "./data-params.js";
import { type Route, route } from "./spec.js";

const ERRORS = [400, 403, 404, 429, 501, 502, 503, 504] as const;
/** How long a call aborted at its deadline may take to say why (pacing or not). */
const EXPLAIN_GRACE_MS = 250;

export function dataRoutes(ctx: RouteContext): Route[] {
  // Read at call time: the daemon plugs its data services in after the routes are built.
  // `line=` picks the line (default: the first); an unknown one is a 400 naming the lines.
  const data = (line: string | undefined) =>
    ctx.view.dataOf ? ctx.view.dataOf(line) : unknownUnlessFirst(ctx, line);
  return [
    route({
      method: "GET",
      url: "/api/contracts/qualify",
      tag: "data",
      summary: "Qualified contract(s) for a symbol (unknown symbol: 404 with ibCode 200)",
      auth: "token",
      query: qualifyQuery,
      response: z.array(contractSchema),
      errors: ERRORS,
      handler: ({ query, reply }) =>
        bounded(ctx, reply.raw, query.timeoutMs, (o) => data(query.line).qualify(query, o)),
    }),
    route({
      method: "GET",
      url: "/api/history",
      tag: "data",
      summary: "Historical bars",
      auth: "token",
      query: historyQuery,
      response: z.object({
        contract: contractSchema,
        bars: z.array(barSchema),
        noData: z.boolean().optional(),
      }),
      errors: ERRORS,
      handler: ({ query, reply }) =>
        bounded(ctx, reply.raw, query.timeoutMs, (o) =>
          data(query.line).history(
            { ...query, end: query.end === undefined ? undefined : new Date(query.end) },
            o,
          ),
        ),
    }),
    route({
      method: "GET",
      url: "/api/history/head",
      tag: "data",
      summary: "Head timestamp: the earliest bar IB has for the contract and whatToShow",
      auth: "token",
      query: headQuery,
      response: headSchema,
      errors: ERRORS,
      handler: ({ query, reply }) =>
        bounded(ctx, reply.raw, query.timeoutMs, (o) => data(query.line).headTimestamp(query, o)),
    }),
    route({
      method: "GET",
      url: "/api/quotes/:symbol",
      tag: "data",
      summary: "Snapshot quote (never a paid regulatory snapshot)",
      auth: "token",
      params: quoteParams,
      query: quoteQuery,
      response: quoteSchema,
      errors: ERRORS,
      handler: ({ params, query, reply }) =>
        bounded(ctx, reply.raw, query.timeoutMs, (o) =>
          data(query.line).quote({ ...query, symbol: params.symbol }, o),
        ),
    }),
  ];
}

/** A view without lines of its own serves only the default line. */
function unknownUnlessFirst(ctx: RouteContext, line: string | undefined): DataService {
  if (line === undefined) return ctx.view.data;
  throw new SwitchboardError("invalid_argument", `no line "${line}"`, { field: "line" });
}

/**
 * Run `fn` with a signal that aborts at the deadline (reason: TimeoutError). The service
 * then says why it was late: `pacing_timeout` (429) while still waiting for pacing room,
 * else the answer is 504 `timeout`.
 */
async function bounded<T>(
  ctx: RouteContext,
  res: ServerResponse,
  timeoutMs: number,
  fn: (o: CallOptions) => Promise<T>,
): Promise<T> {
  const ac = new AbortController();
  // The response closing before we answered means the client went away.
  const onGone = () => {
    if (!res.writableEnded) ac.abort(new AbortedError("client went away or the daemon is stopping"));
  };
  res.once("close", onGone);
  ctx.closing.addEventListener("abort", onGone, { once: true });
  type Outcome = { ok: true; value: T } | { ok: false; error: unknown };
  // A call that throws at once (an unknown line) is an outcome like any other.
  const work: Promise<Outcome> = (async () => fn({ signal: ac.signal, timeoutMs }))().then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
  let timer: TimerHandle | undefined;
  try {
    const first = await Promise.race([
      work,
      new Promise<"deadline">((resolve) => {
        timer = ctx.clock.setTimeout(() => resolve("deadline"), timeoutMs);
      }),
    ]);
    if (first !== "deadline") {
      if (first.ok) return first.value;
      throw first.error;
    }
    const late = new TimeoutError("request", timeoutMs);
    ac.abort(late);
    const settled = await Promise.race([work, sleep(ctx.clock, EXPLAIN_GRACE_MS).then(() => undefined)]);
    if (
      settled &&
      !settled.ok &&
      isSwitchboardError(settled.error) &&
      (settled.error.code === "pacing_timeout" || settled.error.code === "upstream_unavailable")
    ) {
      // Still waiting for pacing room (429), or for a line that did not come back (503).
      throw settled.error;
    }
    throw late;
  } finally {
    ctx.clock.clearTimeout(timer);
    res.off("close", onGone);
    ctx.closing.removeEventListener("abort", onGone);
  }
}
