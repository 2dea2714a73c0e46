/**
 * `switchboard status`: the daemon's lines, tenants, leases and pacing at a glance, read from
 * its HTTP API. Exit 0 when the daemon answers healthy, 1 when it is degraded, down or not
 * reachable (so scripts can use it as a check). `--json` prints everything as one object.
 */
import type { IncomingMessage } from "node:http";
import type { Command } from "commander";
import { CliExit, EXIT_FAILURE, EXIT_OK } from "../exit-codes.js";
import type { SetExit } from "../main.js";

export const DEFAULT_STATUS_URL = "http://127.0.0.1:4300";
const TIMEOUT_MS = 5_000;

interface Flags {
  url?: string;
  json?: boolean;
  token?: string;
}

type Json = Record<string, unknown>;

export function register(program: Command, setExit: SetExit): void {
  program
    .command("status")
    .description("show the daemon's lines, tenants, leases and pacing")
    .option("--url <url>", `daemon URL (env SWITCHBOARD_URL, default ${DEFAULT_STATUS_URL})`)
    .option("--token <token>", "API token (env SWITCHBOARD_TOKEN)")
    .option("--json", "print JSON")
    .action(async (flags: Flags) => {
      const base = (flags.url ?? process.env.SWITCHBOARD_URL ?? DEFAULT_STATUS_URL).replace(/\/+$/, "");
      const token = flags.token ?? process.env.SWITCHBOARD_TOKEN;
      const get = (path: string) => getJson(base + path, token);
      let health: Awaited<ReturnType<typeof get>>;
      try {
        health = await get("/health");
      } catch (err) {
        // Scripts that asked for JSON read stdout: they get the failure there too.
        if (flags.json && err instanceof StatusFailure) {
          process.stdout.write(
            `${JSON.stringify({ success: false, error: { code: err.code, message: err.message } })}\n`,
          );
        }
        throw err;
      }
      const [pool, leases, paceStatus, paceStats] = await Promise.all([
        get("/api/ib/pool/status"),
        get("/api/ids"),
        get("/api/ib/pace/status"),
        get("/api/ib/pace/stats"),
      ]);
      const data = {
        url: base,
        health: health.data,
        pool: pool.data,
        leases: leases.data,
        pace: { status: paceStatus.data, stats: paceStats.data },
      };
      if (flags.json) process.stdout.write(`${JSON.stringify({ success: true, data })}\n`);
      else process.stdout.write(render(data));
      setExit(health.status === 200 ? EXIT_OK : EXIT_FAILURE);
    });
}

/** Exit 1 with a stable code, which `--json` prints on stdout. */
class StatusFailure extends CliExit {
  readonly code: string;
  constructor(code: string, message: string) {
    super(EXIT_FAILURE, message);
    this.code = code;
  }
}

async function getJson(url: string, token: string | undefined): Promise<{ status: number; data: Json }> {
  let res: { status: number; text: string };
  try {
    res = await httpGet(url, {
      accept: "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    });
  } catch (err) {
    const cause = (err as { code?: string }).code ?? (err as Error).message;
    throw new StatusFailure(
      "unreachable",
      `status: no daemon answering at ${url} (${cause}); start one with \`switchboard start\``,
    );
  }
  let body: Json = {};
  try {
    body = JSON.parse(res.text) as Json;
  } catch {
    // not JSON: reported below as an HTTP error
  }
  if (res.status === 401)
    throw new StatusFailure(
      "unauthorized",
      "status: the daemon wants a token: give --token or SWITCHBOARD_TOKEN",
    );
  if (body.success !== true && res.status !== 503) {
    const e = (body.error ?? {}) as Json;
    throw new StatusFailure(
      String(e.code ?? "http_error"),
      `status: ${url}: HTTP ${res.status} ${String(e.code ?? "")} ${String(e.message ?? "")}`,
    );
  }
  return { status: res.status, data: (body.data ?? {}) as Json };
}

const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);
const cell = (v: unknown): string => (v === null || v === undefined ? "-" : String(v));

export function table(head: readonly string[], rows: readonly (readonly unknown[])[]): string {
  if (rows.length === 0) return "  (none)\n";
  const all = [head.map(String), ...rows.map((r) => r.map(cell))];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return `${all
    .map(
      (r) =>
        `  ${r
          .map((c, i) => c.padEnd(widths[i]!))
          .join("  ")
          .trimEnd()}`,
    )
    .join("\n")}\n`;
}

/** "PAPER DU111", "LIVE U222", "MOCK", "?" (not known yet) or "-" (a daemon without identities). */
function identityCell(identity: unknown): string {
  if (typeof identity !== "object" || identity === null) return "-";
  const { mode, accounts } = identity as { mode?: unknown; accounts?: unknown };
  if (typeof mode !== "string") return "?";
  const list = Array.isArray(accounts) ? accounts.join(",") : "";
  return mode === "mock" ? "MOCK" : `${mode.toUpperCase()}${list ? ` ${list}` : ""}`;
}

/** Every line's pacing (a daemon of one line, or an older one: its one pacer). */
function pacings(pace: { status: Json; stats: Json }): string[] {
  const statuses = (pace.status.lines ?? undefined) as Record<string, Json> | undefined;
  const stats = (pace.stats.lines ?? undefined) as Record<string, Json> | undefined;
  if (!statuses || Object.keys(statuses).length <= 1) return [pacing("", pace.status, pace.stats)];
  return Object.entries(statuses).map(([name, st]) => pacing(name, st, stats?.[name] ?? {}));
}

/** The pool's view of each line (proxy port, read-only, tenants), by name. */
function poolLine(pool: Json, name: unknown): Json {
  return arr(pool.lines).find((l) => l.name === name) ?? {};
}

/** One line's pacing: the rules of its connection and of its TWS (shared with the lines named). */
function pacing(name: string, status: Json, stats: Json): string {
  const waits = (stats.waits ?? {}) as Json;
  const violations = (stats.violations ?? {}) as Json;
  const gateway = (status.gateway ?? undefined) as { name?: unknown; lines?: unknown } | undefined;
  const shared = Array.isArray(gateway?.lines) ? (gateway.lines as unknown[]).filter((l) => l !== name) : [];
  return [
    `Pacing${name ? ` of line ${name}` : ""}${
      gateway
        ? ` (TWS ${cell(gateway.name)}${shared.length > 0 ? `, per-TWS rules shared with ${shared.join(", ")}` : ""})`
        : ""
    }\n`,
    table(
      ["RULE", "TYPE", "USED", "TARGET", "LIMIT", "WINDOW"],
      arr(status.rules).map((r) => [
        r.ruleId,
        r.type,
        r.used,
        r.target,
        r.limit,
        r.windowMs === undefined ? "-" : `${r.windowMs} ms`,
      ]),
    ),
    `  queued ${cell(status.queued)} · released ${cell(stats.released)} · wait p99 ${cell(waits.p99Ms)} ms · violations ${cell(violations.total)}\n`,
  ].join("");
}

function render(d: {
  url: string;
  health: Json;
  pool: Json;
  leases: unknown;
  pace: { status: Json; stats: Json };
}): string {
  const h = d.health;
  return [
    `Switchboard at ${d.url}: ${cell(h.status).toUpperCase()} (upstream ${cell(h.upstream)})\n`,
    "Lines\n",
    table(
      [
        "NAME",
        "IDENTITY",
        "STATE",
        "UPSTREAM",
        "CLIENT ID",
        "VERSION",
        "SINCE",
        "HEARTBEAT",
        "RECONNECTS",
        "PROXY",
        "ORDERS",
        "TENANTS",
        "REASON",
      ],
      arr(h.lines).map((l) => [
        l.name,
        identityCell(l.identity),
        l.state,
        l.upstream,
        l.clientId,
        l.serverVersion,
        l.connectedSince,
        l.lastHeartbeatAgoMs === null || l.lastHeartbeatAgoMs === undefined
          ? "-"
          : `${l.lastHeartbeatAgoMs} ms`,
        l.reconnects,
        poolLine(d.pool, l.name).proxyPort,
        poolLine(d.pool, l.name).readOnly === true ? "read-only" : "allowed",
        poolLine(d.pool, l.name).tenants,
        l.reason,
      ]),
    ),
    "Tenants\n",
    table(
      ["ID", "KIND", "NAME", "CLIENT ID", "LINE", "REQUESTS", "SUBSCRIPTIONS"],
      arr(d.pool.tenants).map((t) => [
        t.id,
        t.kind,
        t.name,
        t.clientId,
        t.line,
        t.liveRequests,
        t.subscriptions,
      ]),
    ),
    "Leases\n",
    table(
      ["UPSTREAM", "ID", "PURPOSE", "OWNER", "PID", "EXPIRES"],
      arr(d.leases).map((l) => [
        l.upstream,
        l.clientId,
        l.purpose,
        l.owner,
        l.pid,
        new Date(Number(l.expiresAt)).toISOString(),
      ]),
    ),
    ...pacings(d.pace),
  ].join("");
}

/**
 * A GET over node:http: `status` runs in scripts and loops, and the global fetch costs more
 * to load than the whole rest of the command.
 */
async function httpGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const { request } = url.startsWith("https:") ? await import("node:https") : await import("node:http");
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, timeout: TIMEOUT_MS }, (res: IncomingMessage) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        text += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })));
    req.on("error", reject);
    req.end();
  });
}
