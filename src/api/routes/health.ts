/** /health and /api/ib/pool/*: lines, tenants, counters, health detail. */
import { z } from "zod";
import { SwitchboardError } from "../../errors.js";
import type { RouteContext } from "./context.js";
import { HANDLED, type Route, route } from "./spec.js";

const lineState = z.enum([
  "disconnected",
  "connecting",
  "handshaking",
  "ready",
  "degraded",
  "reconnecting",
  "closed",
]);

export const healthSchema = z
  .object({
    status: z
      .enum(["healthy", "degraded", "down", "standby"])
      .describe("standby: a daemon of an HA group that is not the active one (no lines, no proxy ports)"),
    upstream: z
      .string()
      .describe('"mock", "host:port", "auto:searching" or "auto:host:port" of the first line'),
    lines: z.array(
      z.object({
        name: z.string(),
        state: lineState,
        reason: z.string(),
        required: z.boolean(),
        upstream: z.string(),
        clientId: z.number().int().nullable(),
        serverVersion: z.number().int().nullable(),
        connectedSince: z.string().nullable(),
        lastHeartbeatAgoMs: z.number().nullable(),
        reconnects: z.number().int(),
        identity: z
          .object({
            mode: z.enum(["paper", "live", "mock"]).nullable(),
            accounts: z.array(z.string()),
          })
          .describe(
            "the identity the line holds to: paper (every account DU…), live, or mock; null until known",
          ),
      }),
    ),
  })
  .meta({ id: "Health" });

const tenant = z.looseObject({
  id: z.string(),
  kind: z.string(),
  name: z.string(),
  clientId: z.number().int(),
  state: z.string(),
});

export function healthRoutes(ctx: RouteContext): Route[] {
  const { view } = ctx;
  return [
    route({
      method: "POST",
      url: "/api/lines/:name/switch-client-id",
      tag: "pool",
      summary: "Move a line to another client id now; its live orders are reported as orders.orphaned",
      auth: "token",
      params: z.object({ name: z.string().min(1) }),
      response: z.object({
        line: z.string(),
        clientId: z.number().int(),
        permIds: z.array(z.number().int()),
      }),
      errors: [404],
      async handler({ params }) {
        const done = view.switchClientId?.(params.name);
        if (!done) throw new SwitchboardError("not_found", `no line "${params.name}" holding a client id`);
        return done;
      },
    }),
    route({
      method: "GET",
      url: "/livez",
      tag: "health",
      summary:
        "Liveness: 200 while the process serves HTTP, active or standby (for a supervisor, not a load balancer)",
      auth: "none",
      response: z.object({
        alive: z.literal(true),
        role: z.enum(["active", "standby", "stepping_down"]).nullable().describe("HA role; null without ha"),
      }),
      async handler() {
        return { alive: true as const, role: view.ha?.()?.role ?? null };
      },
    }),
    route({
      method: "GET",
      url: "/health",
      tag: "health",
      summary: "Health: 200 when every required line is ready, else 503 with the same data",
      auth: "none",
      response: healthSchema,
      errors: [503],
      async handler({ reply }) {
        const data = view.health();
        if (data.status === "healthy") return data;
        if (data.status === "standby") {
          const ha = view.ha?.();
          await reply.code(503).send({
            success: false,
            data,
            error: {
              code: "standby",
              message: `this daemon stands by in HA group ${ha?.group ?? "?"}: the active daemon serves the lines`,
              reason: "standby",
            },
          });
          return HANDLED;
        }
        const lines = data.lines.filter((l) => l.required && l.state !== "ready");
        // A stable word when the line's reason starts with one (identity_changed, client_id_held).
        const reason = lines.map((l) => /^([a-z_]+):/.exec(l.reason)?.[1]).find((w) => w !== undefined);
        await reply.code(503).send({
          success: false,
          data,
          error: {
            code: "unhealthy",
            message: `status ${data.status}: ${lines.map((l) => `${l.name} ${l.state} (${l.reason})`).join("; ")}`,
            ...(reason ? { reason } : {}),
          },
        });
        return HANDLED;
      },
    }),
    route({
      method: "GET",
      url: "/api/ib/pool/status",
      tag: "pool",
      summary: "Lines (full snapshots) and tenants",
      auth: "token",
      response: z.object({
        upstream: z.string(),
        lines: z.array(z.looseObject({ name: z.string(), state: lineState })),
        tenants: z.array(tenant),
        groups: z
          .array(
            z.object({
              line: z.string(),
              kind: z.enum(["stream", "oneshot"]),
              request: z.string().describe("REQ_MKT_DATA, REQ_TICK_BY_TICK_DATA, REQ_REAL_TIME_BARS…"),
              upstreamId: z.number().int(),
              members: z.number().int(),
              ticksPerSecond: z.number(),
              messages: z.number().int(),
              createdAt: z.string(),
            }),
          )
          .describe("Shared upstream requests (fan-out): one per identical subscription"),
        linesSaved: z
          .number()
          .int()
          .describe("Upstream requests saved by sharing (members beyond the first)"),
      }),
      async handler() {
        const fanout = view.fanout?.() ?? [];
        return {
          upstream: view.info().upstream,
          lines: view.lines(),
          tenants: view.tenants(),
          groups: fanout.flatMap((f) => f.groups),
          linesSaved: fanout.reduce((n, f) => n + f.linesSaved, 0),
        };
      },
    }),
    route({
      method: "GET",
      url: "/api/ib/pool/metrics",
      tag: "pool",
      summary: "Counters: per line (reconnects, uptime, detect/recover times), switch, events",
      auth: "token",
      response: z.looseObject({ lines: z.array(z.looseObject({ name: z.string() })) }),
      async handler() {
        return {
          lines: view.lines().map((l) => ({
            name: l.name,
            reconnects: l.reconnects,
            attempts: l.attempts,
            uptimeRatio: l.uptimeRatio,
            timeToDetectMs: l.timeToDetectMs,
            timeToRecoverMs: l.timeToRecoverMs,
            heartbeatRttMs: l.heartbeatRttMs,
            sleeps: l.sleeps,
          })),
          tenants: view.tenants().length,
          switch: view.switchCounters(),
          events: view.events.counts(),
          lastEventId: view.events.lastId,
        };
      },
    }),
    route({
      method: "GET",
      url: "/api/ib/pool/health",
      tag: "pool",
      summary: "Health detail (always 200 while the API runs; /health is the probe)",
      auth: "token",
      response: healthSchema.extend({ info: z.looseObject({}) }),
      async handler() {
        return { ...view.health(), info: view.info() };
      },
    }),
  ];
}
