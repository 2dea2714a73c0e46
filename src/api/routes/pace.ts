/** /api/ib/pace/*: the pacer's window use now, and its waits and violations since start. */
import { z } from "zod";
import type { RouteContext } from "./context.js";
import { lineParam } from "./data-params.js";
import { type Route, route } from "./spec.js";

const lineQuery = z.object({ line: lineParam });

export function paceRoutes(ctx: RouteContext): Route[] {
  return [
    route({
      method: "GET",
      url: "/api/ib/pace/status",
      tag: "pacing",
      summary:
        "Current use of every pacing rule window, queued requests per tenant, of one line's pacer (line=, default the first); `lines` has every line's",
      auth: "token",
      query: lineQuery,
      errors: [400],
      response: z.looseObject({
        state: z.string(),
        profile: z.string(),
        rules: z.array(z.looseObject({})),
        queued: z.number(),
        line: z.string().optional(),
        lines: z.record(z.string(), z.looseObject({})).optional(),
      }),
      async handler({ query }) {
        const p = ctx.view.pace(query.line);
        return {
          ...p.status,
          ...(p.lines
            ? { lines: Object.fromEntries(Object.entries(p.lines).map(([n, v]) => [n, v.status])) }
            : {}),
        };
      },
    }),
    route({
      method: "GET",
      url: "/api/ib/pace/stats",
      tag: "pacing",
      summary:
        "Waits (p50/p99/max, by rule), releases by kind, violations by IB code, rejections, of one line's pacer (line=, default the first); `lines` has every line's",
      auth: "token",
      query: lineQuery,
      errors: [400],
      response: z.looseObject({
        released: z.number(),
        waits: z.looseObject({}),
        violations: z.looseObject({}),
        lines: z.record(z.string(), z.looseObject({})).optional(),
      }),
      async handler({ query }) {
        const p = ctx.view.pace(query.line);
        return {
          ...p.stats,
          ...(p.lines
            ? { lines: Object.fromEntries(Object.entries(p.lines).map(([n, v]) => [n, v.stats])) }
            : {}),
        };
      },
    }),
  ];
}
