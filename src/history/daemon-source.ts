/**
 * Bars through a running daemon: each chunk is one `GET /api/history`, so the backfill shares
 * the daemon's line and pacer. 200 with `noData` is IB's "no data"; 429 `pacing_timeout` is
 * waited out (Retry-After) and asked again, never recorded as no data.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { BarSource, ChunkAnswer, SourceBar } from "./backfill.js";
import { identityOf, type UpstreamIdentity } from "./dataset.js";
import { isSwitchboardMock } from "./mock-detect.js";

export interface DaemonSourceOptions {
  url: string;
  token?: string;
  timeoutMs?: number;
  /** The daemon's line to ask (`line=`); default: its first line. */
  line?: string;
}

interface Envelope {
  success: boolean;
  data?: unknown;
  error?: { code: string; message: string };
}

export class DaemonError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
    this.name = "DaemonError";
  }
}

export function daemonSource(o: DaemonSourceOptions): BarSource {
  const base = o.url.replace(/\/+$/, "");
  const timeoutMs = o.timeoutMs ?? 60_000;
  const onLine: Record<string, string> = o.line === undefined ? {} : { line: o.line };
  async function get(
    path: string,
    signal: AbortSignal,
  ): Promise<{ status: number; body: Envelope; retryAfter: string | null }> {
    const res = await fetch(`${base}${path}`, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs + 5_000)]),
      headers: o.token ? { authorization: `Bearer ${o.token}` } : {},
    });
    const body = (await res.json()) as Envelope;
    return { status: res.status, body, retryAfter: res.headers.get("retry-after") };
  }
  const fail = (path: string, r: { status: number; body: Envelope }) =>
    new DaemonError(
      `${path.split("?")[0]}: ${r.status} ${r.body.error?.code ?? ""} ${r.body.error?.message ?? ""}`.trim(),
      r.status,
      r.body.error?.code ?? String(r.status),
    );
  return {
    async identity(): Promise<UpstreamIdentity> {
      const never = new AbortController().signal;
      const health = await get("/health", never);
      const data = health.body.data as { upstream?: string; lines?: { accounts?: string[] }[] } | undefined;
      const pool = await get("/api/ib/pool/status", never);
      type PoolLine = { name?: string; upstream?: string; accounts?: string[]; identity?: unknown };
      const lines = ((pool.body.data as { lines?: PoolLine[] } | undefined)?.lines ?? []) as PoolLine[];
      const line = o.line === undefined ? lines[0] : lines.find((l) => l.name === o.line);
      if (o.line !== undefined && !line)
        throw new DaemonError(
          `the daemon has no line "${o.line}"; its lines: ${lines.map((l) => l.name).join(", ")}`,
          400,
          "invalid_argument",
        );
      const accounts = line?.accounts ?? [];
      const upstream = o.line === undefined ? data?.upstream : line?.upstream;
      // "host:port", or "auto:host:port" once `auto` found its gateway.
      const hostPort = /^(.+):(\d+)$/.exec((upstream ?? "").replace(/^auto:/, ""));
      const mode = (line?.identity as { mode?: unknown } | undefined)?.mode;
      const mock =
        upstream === "mock" ||
        line?.identity === "mock" ||
        mode === "mock" ||
        (hostPort !== null && (await isSwitchboardMock(hostPort[1] as string, Number(hostPort[2]))));
      return identityOf(accounts, mock);
    },
    async conId(symbol, contract, signal) {
      const q = new URLSearchParams({ symbol, ...contract, timeoutMs: String(timeoutMs), ...onLine });
      const path = `/api/contracts/qualify?${q}`;
      const r = await get(path, signal);
      if (r.status !== 200) throw fail(path, r);
      const list = r.body.data as { conId: number }[];
      return (list[0] as { conId: number }).conId;
    },
    // The plan never starts before the head: asked once per series through the daemon's
    // pacer (IB paces head timestamps too).
    async headTimestamp(ask, signal) {
      const q = new URLSearchParams({
        symbol: ask.symbol,
        ...ask.contract,
        what: ask.what,
        rth: String(ask.rth),
        timeoutMs: String(timeoutMs),
        ...onLine,
      });
      const path = `/api/history/head?${q}`;
      for (;;) {
        const r = await get(path, signal);
        if (r.status === 429) {
          const s = Number(r.retryAfter);
          await delay(Number.isFinite(s) && s > 0 ? s * 1000 : 1_000, undefined, { signal });
          continue;
        }
        if (r.status !== 200) throw fail(path, r);
        return Date.parse((r.body.data as { head: string }).head);
      }
    },
    async bars(ask, signal): Promise<ChunkAnswer> {
      const q = new URLSearchParams({
        symbol: ask.symbol,
        ...ask.contract,
        bar: ask.barSize,
        duration: ask.duration,
        end: new Date(ask.endMs).toISOString(),
        what: ask.what,
        rth: String(ask.rth),
        timeoutMs: String(timeoutMs),
        ...onLine,
      });
      const path = `/api/history?${q}`;
      const r = await get(path, signal);
      if (r.status === 429) {
        const s = Number(r.retryAfter);
        return { kind: "pacing", retryAfterMs: Number.isFinite(s) && s > 0 ? s * 1000 : 1_000 };
      }
      if (r.status !== 200) throw fail(path, r);
      const data = r.body.data as { bars: Record<string, unknown>[]; noData?: boolean };
      if (data.noData === true) return { kind: "noData" };
      return {
        kind: "bars",
        bars: data.bars.map((b): SourceBar => ({
          time: Date.parse(String(b.time)),
          open: Number(b.open),
          high: Number(b.high),
          low: Number(b.low),
          close: Number(b.close),
          volume: Number(b.volume),
          wap: Number(b.wap),
          count: Number(b.count),
        })),
      };
    },
  };
}
