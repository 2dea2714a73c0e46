/** /metrics, /events and /openapi.json (the dashboard at `/` is in dashboard.ts). */
import { z } from "zod";
import { streamEvents } from "../sse.js";
import type { RouteContext } from "./context.js";
import type { Route } from "./spec.js";
import { HANDLED, route } from "./spec.js";

export function metaRoutes(ctx: RouteContext, openapi: () => Record<string, unknown>): Route[] {
  return [
    route({
      method: "GET",
      url: "/metrics",
      tag: "observability",
      summary:
        "Prometheus text: line state, reconnects, heartbeat RTT, requests, pacing, leases, tenants, process",
      auth: "token",
      produces: "text",
      async handler({ reply }) {
        const text = await ctx.metrics.text();
        await reply.type(ctx.metrics.contentType).send(text);
        return HANDLED;
      },
    }),
    route({
      method: "GET",
      url: "/events",
      tag: "observability",
      summary: "Server-Sent Events (line.state, line.notice, line.resubscribe, pacer.*, lease.*, tenant.*)",
      description:
        "Frames `event: <type>`, `id: <seq>`, `data: {type, ts, …}`. Last-Event-ID replays from a 1,000-event ring.",
      auth: "token-or-query",
      produces: "sse",
      query: z.object({
        types: z.string().optional().describe("comma-separated event types to receive (default all)"),
        lastEventId: z.string().regex(/^\d+$/).optional().describe("same as the Last-Event-ID header"),
        token: z.string().optional().describe("the API token, for clients that cannot set headers"),
      }),
      async handler({ request, reply, query }) {
        const types =
          query.types === undefined ? undefined : new Set(query.types.split(",").map((t) => t.trim()));
        streamEvents(request, reply, {
          log: ctx.view.events,
          clock: ctx.clock,
          closing: ctx.closing,
          ...(types ? { types } : {}),
        });
        return HANDLED;
      },
    }),
    route({
      method: "GET",
      url: "/openapi.json",
      tag: "meta",
      summary: "This API as OpenAPI 3.1 (generated from the route schemas)",
      auth: "token",
      produces: "text",
      async handler({ reply }) {
        await reply.type("application/json").send(openapi());
        return HANDLED;
      },
    }),
  ];
}
