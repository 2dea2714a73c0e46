/**
 * Data routes: qualify, history, quote. Each call gets an AbortSignal that fires at
 * `timeoutMs`, when the client goes away, or when the daemon stops, so no request hangs:
 * the answer is the data, 429 `pacing_timeout` (the pacer could not make room in time) or
 * 504 `timeout`.
 */
import type { ServerResponse } from "node:http";
import { z } from "zod";
import { AbortedError, TimeoutError } from "../../errors.js";
import { barSchema, type CallOptions, contractSchema, quoteSchema } from "../data-service.js";
import type { RouteContext } from "./context.js";
import { historyQuery, qualifyQuery, quoteParams, quoteQuery } from "./data-params.js";
import { type Route, route } from "./spec.js";

const ERRORS = [400, 404, 429, 501, 503, 504] as const;

export function dataRoutes(ctx: RouteContext): Route[] {
  const { data } = ctx.view;
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
      handler: ({ query, reply }) => bounded(ctx, reply.raw, query.timeoutMs, (o) => data.qualify(query, o)),
    }),
    route({
      method: "GET",
      url: "/api/history",
      tag: "data",
      summary: "Historical bars",
      auth: "token",
      query: historyQuery,
      response: z.object({ contract: contractSchema, bars: z.array(barSchema) }),
      errors: ERRORS,
      handler: ({ query, reply }) =>
        bounded(ctx, reply.raw, query.timeoutMs, (o) =>
          data.history({ ...query, end: query.end === undefined ? undefined : new Date(query.end) }, o),
        ),
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
        bounded(ctx, reply.raw, query.timeoutMs, (o) => data.quote({ ...query, symbol: params.symbol }, o)),
    }),
  ];
}

/** Run `fn` with a signal that aborts at the deadline; a deadline answer is 504. */
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
  let timer: ReturnType<typeof ctx.clock.setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = ctx.clock.setTimeout(() => {
      const err = new TimeoutError("request", timeoutMs);
      ac.abort(err);
      reject(err);
    }, timeoutMs);
  });
  try {
    return await Promise.race([fn({ signal: ac.signal, timeoutMs }), deadline]);
  } finally {
    ctx.clock.clearTimeout(timer);
    res.off("close", onGone);
    ctx.closing.removeEventListener("abort", onGone);
  }
}
