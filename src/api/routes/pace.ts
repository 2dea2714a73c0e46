/** /api/ib/pace/*: the pacer's window use now, and its waits and violations since start. */
import { z } from "zod";
import type { RouteContext } from "./context.js";
import { type Route, route } from "./spec.js";

export function paceRoutes(ctx: RouteContext): Route[] {
  return [
    route({
      method: "GET",
      url: "/api/ib/pace/status",
      tag: "pacing",
      summary: "Current use of every pacing rule window, queued requests per tenant",
      auth: "token",
      response: z.looseObject({
        state: z.string(),
        profile: z.string(),
        rules: z.array(z.looseObject({})),
        queued: z.number(),
      }),
      async handler() {
        return ctx.view.pace().status;
      },
    }),
    route({
      method: "GET",
      url: "/api/ib/pace/stats",
      tag: "pacing",
      summary: "Waits (p50/p99/max, by rule), releases by kind, violations by IB code, rejections",
      auth: "token",
      response: z.looseObject({
        released: z.number(),
        waits: z.looseObject({}),
        violations: z.looseObject({}),
      }),
      async handler() {
        return ctx.view.pace().stats;
      },
    }),
  ];
}
