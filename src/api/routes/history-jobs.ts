/**
 * Backfill jobs over HTTP: `POST /api/history/jobs` takes the CLI's fields (never a path: the
 * daemon writes under its own `historyDir`), answers 202 with the job's id, and the job runs
 * in the daemon on its line and pacer. GET lists or shows jobs; DELETE stops one resumably.
 * Progress goes out as SSE `history.progress` / `history.done`.
 */
import { z } from "zod";
import { SwitchboardError } from "../../errors.js";
import { normalizeBarSize } from "../../history/bar-sizes.js";
import type { JobSpec } from "../../history/jobs.js";
import { SEC_TYPES, WHAT_TO_SHOW } from "../data-service.js";
import type { RouteContext } from "./context.js";
import { lineParam } from "./data-params.js";
import { type Route, route } from "./spec.js";

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const date = z
  .string()
  .regex(DATE, "expected a date yyyy-mm-dd")
  .refine((d) => !Number.isNaN(Date.parse(d)), "expected a real date yyyy-mm-dd");

export const jobBody = z
  .object({
    symbols: z
      .array(
        z
          .string()
          .regex(/^[A-Za-z0-9 .\-/]{1,32}$/, "expected 1..32 letters, digits, space, '.', '-' or '/'"),
      )
      .min(1)
      .max(100)
      .describe('symbols, e.g. ["AAPL", "MSFT"]'),
    bar: z
      .string()
      .default("1 min")
      .transform((v, c) => {
        const ib = normalizeBarSize(v);
        if (!ib)
          c.addIssue({ code: "custom", message: 'expected an IB bar size like "1 min", "5 mins", "1 day"' });
        return ib ?? "";
      }),
    from: date.describe("first trading date, yyyy-mm-dd"),
    to: date.optional().describe("last trading date, yyyy-mm-dd (default: today, UTC)"),
    what: z.enum(WHAT_TO_SHOW).default("TRADES"),
    rth: z.boolean().default(false).describe("regular trading hours only (the CLI's --rth)"),
    secType: z.enum(SEC_TYPES).default("STK"),
    exchange: z
      .string()
      .regex(/^[A-Za-z0-9.]{1,16}$/, "expected an exchange code like SMART")
      .default("SMART"),
    currency: z
      .string()
      .regex(/^[A-Za-z]{3}$/, "expected a 3-letter currency code")
      .default("USD"),
    format: z.enum(["parquet", "csv"]).default("parquet"),
    allowMock: z.boolean().default(false).describe("accept a Switchboard mock's (made-up) bars"),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(50)
      .optional()
      .describe("requests in flight at once (default: adapts to how fast IB answers)"),
    line: lineParam,
  })
  .meta({ id: "HistoryJobRequest" });

const progressSchema = z.object({
  chunks: z.number().int(),
  done: z.number().int(),
  requests: z.number().int(),
  bars: z.number().int(),
  noData: z.number().int(),
  pacingWaits: z.number().int(),
});

export const jobSchema = z
  .object({
    id: z.string(),
    state: z.enum(["queued", "running", "stopping", "done", "failed", "stopped"]),
    spec: z.object({
      symbols: z.array(z.string()),
      bar: z.string(),
      from: z.string(),
      to: z.string(),
      what: z.string(),
      rth: z.boolean(),
      secType: z.string(),
      exchange: z.string(),
      currency: z.string(),
      format: z.enum(["parquet", "csv"]),
      allowMock: z.boolean(),
      concurrency: z.number().int().optional(),
      line: z.string().optional().describe("the line the job asks through (absent: the first)"),
    }),
    createdAt: z.string(),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    progress: progressSchema,
    failed: z.array(z.object({ symbol: z.string(), message: z.string() })),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  })
  .meta({ id: "HistoryJob" });

const idParams = z.object({ id: z.string().min(1).max(64) });

export function historyJobRoutes(ctx: RouteContext): Route[] {
  const jobs = () => {
    const j = ctx.view.historyJobs;
    if (!j) throw new SwitchboardError("unhealthy", "the daemon has not started its history jobs");
    return j;
  };
  const notFound = (id: string) => new SwitchboardError("not_found", `no history job ${id}`, { field: "id" });
  return [
    route({
      method: "POST",
      url: "/api/history/jobs",
      tag: "history",
      summary: "Start a backfill job in the daemon (written under its historyDir); 202 with the job",
      auth: "token",
      body: jobBody,
      response: jobSchema,
      status: 202,
      errors: [400, 403, 503],
      async handler({ body }) {
        const to = body.to ?? new Date(ctx.clock.now()).toISOString().slice(0, 10);
        if (body.from > to)
          throw new SwitchboardError("invalid_argument", `from (${body.from}) is after to (${to})`, {
            field: "from",
          });
        const lines = ctx.view.lineNames?.() ?? [];
        if (body.line !== undefined && !lines.includes(body.line))
          throw new SwitchboardError(
            "invalid_argument",
            `no line "${body.line}"; configured lines: ${lines.join(", ")}`,
            { field: "line" },
          );
        const spec: JobSpec = {
          ...body,
          to,
          symbols: [...new Set(body.symbols.map((s) => s.toUpperCase()))],
          what: body.what,
          exchange: body.exchange.toUpperCase(),
          currency: body.currency.toUpperCase(),
        };
        return jobs().create(spec);
      },
    }),
    route({
      method: "GET",
      url: "/api/history/jobs",
      tag: "history",
      summary: "Backfill jobs: queued, running and recently finished",
      auth: "token",
      response: z.array(jobSchema),
      errors: [503],
      handler: async () => jobs().list(),
    }),
    route({
      method: "GET",
      url: "/api/history/jobs/:id",
      tag: "history",
      summary: "One backfill job",
      auth: "token",
      params: idParams,
      response: jobSchema,
      errors: [404, 503],
      async handler({ params }) {
        const j = jobs().get(params.id);
        if (!j) throw notFound(params.id);
        return j;
      },
    }),
    route({
      method: "DELETE",
      url: "/api/history/jobs/:id",
      tag: "history",
      summary: "Stop a backfill job: requests in flight finish and are recorded (post it again to resume)",
      auth: "token",
      params: idParams,
      response: jobSchema,
      errors: [404, 503],
      async handler({ params }) {
        const j = jobs().stop(params.id);
        if (!j) throw notFound(params.id);
        return j;
      },
    }),
  ];
}
