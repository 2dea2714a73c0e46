/** The dashboard at `/`, its bundled files under /assets/, and the chart history it draws. */
import { z } from "zod";
import { SwitchboardError } from "../../errors.js";
import { type AssetSet, assetHeaders, dashboardPage, loadAssets, PAGE_HEADERS } from "../dashboard-assets.js";
import type { PoolHistory } from "../pool-history.js";
import type { RouteContext } from "./context.js";
import { HANDLED, type Route, route } from "./spec.js";

const sampleSchema = z.object({
  ts: z.number().describe("ms since the epoch"),
  requests: z.number().int().describe("requests through every switch since start"),
  requestRate: z.number().describe("requests per second since the previous sample"),
  lines: z.array(z.object({ name: z.string(), state: z.string(), heartbeatRttMs: z.number().nullable() })),
});

export function dashboardRoutes(ctx: RouteContext, history: PoolHistory, version: string): Route[] {
  let assets: Promise<AssetSet> | undefined;
  const files = () => {
    assets ??= loadAssets();
    return assets;
  };
  return [
    route({
      method: "GET",
      url: "/",
      tag: "meta",
      summary: "The dashboard (lines, tenants, leases, pacing, events, charts)",
      description:
        "The page holds no data; its script reads the token from `?token=` (then removes it from " +
        "the address bar and keeps it in the tab's sessionStorage) and calls the API with it. " +
        "Without a valid token (when one is set) the same page comes with status 401 and no data, " +
        "so a reload still finds the token kept in the tab.",
      auth: "none",
      produces: "html",
      query: z.object({ token: z.string().optional() }),
      errors: [401],
      async handler({ request, reply }) {
        const v = ctx.access.check(
          "token-or-query",
          request.socket.remoteAddress,
          request.headers.authorization,
          (request.query as Record<string, unknown> | undefined)?.token,
        );
        const h = ctx.view.health();
        const summary = v.ok
          ? `${h.status} · upstream ${h.upstream} · ${h.lines.map((l) => `${l.name} ${l.state}`).join(", ")}`
          : undefined;
        await reply
          .code(v.ok ? 200 : v.status)
          .headers(PAGE_HEADERS)
          .send(dashboardPage(await files(), version, summary));
        return HANDLED;
      },
    }),
    route({
      method: "GET",
      url: "/assets/:name",
      tag: "meta",
      summary: "The dashboard's bundled script and style (no data; cacheable for a year by hash)",
      auth: "none",
      produces: "text",
      params: z.object({ name: z.string().regex(/^[\w.-]+$/) }),
      query: z.object({ v: z.string().optional().describe("content hash; makes the answer immutable") }),
      errors: [404],
      async handler({ params, query, request, reply }) {
        const a = (await files()).get(params.name);
        if (!a) throw new SwitchboardError("not_found", `no dashboard file ${params.name}`);
        const headers = assetHeaders(a, query.v);
        if (request.headers["if-none-match"] === headers.etag) {
          await reply.code(304).headers(headers).send();
        } else {
          await reply.headers(headers).send(a.body);
        }
        return HANDLED;
      },
    }),
    route({
      method: "GET",
      url: "/api/ib/pool/history",
      tag: "pool",
      summary: "Samples for charts: heartbeat RTT per line and request rate, the last hour",
      description:
        "A bounded in-memory ring (720 samples, one every 5 s); it starts empty when the daemon starts.",
      auth: "token",
      query: z.object({
        since: z.coerce.number().optional().describe("only samples with ts greater than this (ms)"),
      }),
      response: z.object({
        intervalMs: z.number().int(),
        capacity: z.number().int(),
        samples: z.array(sampleSchema),
      }),
      async handler({ query }) {
        return {
          intervalMs: history.intervalMs,
          capacity: history.capacity,
          samples: history.samples(query.since),
        };
      },
    }),
  ];
}
