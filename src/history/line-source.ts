/**
 * Bars in-process: a line of our own to the gateway under a `backfill` client-id lease, its
 * pacer in front of every request, the typed client for contract, head timestamp and bars.
 */
import { systemClock } from "../clock.js";
import { isSwitchboardError } from "../errors.js";
import { registryClientIds } from "../daemon/client-ids.js";
import { silentLogger } from "../logger.js";
import { classifyIbError } from "../pacing/classify.js";
import { Switchboard } from "../pool/pool.js";
import type { Bar } from "../client/bars.js";
import type { Connector } from "../line/connector.js";
import type { Registry } from "../registry/registry.js";
import type { BarSource, ChunkAnswer, SourceBar } from "./backfill.js";
import { identityOf, type UpstreamIdentity } from "./dataset.js";
import { ibTime, ibUtc } from "./ib-time.js";
import { isSwitchboardMock } from "./mock-detect.js";

export { ibTime, ibUtc };

export const BACKFILL_PURPOSE = "backfill";

export interface LineSourceOptions {
  /** A fixed gateway… */
  host?: string;
  port?: number;
  /** …or a connector (`auto`, the built-in mock) and where it got to once connected. */
  connector?: Connector;
  endpoint?: () => { host: string; port: number } | undefined;
  /** The upstream is known to be a Switchboard mock (the built-in one). */
  mock?: boolean;
  registry: Registry;
  timeoutMs?: number;
  /** IB's windows scaled down (benchmarks against a time-scaled mock). */
  timeScale?: number;
}

export interface LineSource extends BarSource {
  close(): Promise<void>;
}

/** The typed client's bar (ISO time, numbers) as a dataset row. */
export function sourceBar(b: Bar): SourceBar {
  return {
    time: Date.parse(b.time),
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
    volume: b.volume,
    wap: b.wap,
    count: b.count,
  };
}

export async function connectLineSource(o: LineSourceOptions): Promise<LineSource> {
  const endpoint = (): { host: string; port: number } | undefined =>
    o.endpoint?.() ??
    (o.host !== undefined && o.port !== undefined ? { host: o.host, port: o.port } : undefined);
  const where = o.connector ? { connector: o.connector } : { host: o.host, port: o.port };
  const sb = await Switchboard.connect({
    line: {
      ...where,
      clientIds: registryClientIds({
        registry: o.registry,
        // Leases are scoped by the gateway: the one `auto` found once it found one.
        upstream: () => {
          const e = endpoint();
          return e ? `${e.host}:${e.port}` : (o.connector?.target ?? "unknown");
        },
        owner: `switchboard-history/${process.pid}`,
        pid: process.pid,
        clock: systemClock,
        logger: silentLogger,
        purpose: BACKFILL_PURPOSE,
      }),
    },
    readyTimeoutMs: o.timeoutMs ?? 15_000,
    ...(o.timeScale === undefined ? {} : { timeScale: o.timeScale }),
  });
  const client = await sb.acquire(BACKFILL_PURPOSE);
  const call = (signal: AbortSignal) => ({ signal, timeoutMs: o.timeoutMs ?? 60_000 });
  return {
    async identity(): Promise<UpstreamIdentity> {
      const e = endpoint();
      const mock = o.mock === true || (e !== undefined && (await isSwitchboardMock(e.host, e.port)));
      return identityOf(sb.line.accounts, mock);
    },
    async conId(symbol, contract, signal) {
      const [c] = await client.qualifyContracts([{ symbol, ...contract }], call(signal));
      return c?.conId as number;
    },
    async headTimestamp(ask, signal) {
      const text = await client.headTimestamp(
        {
          contract: { conId: ask.conId, exchange: ask.contract.exchange },
          whatToShow: ask.what,
          useRTH: ask.rth,
        },
        call(signal),
      );
      return ibTime(text);
    },
    async bars(ask, signal): Promise<ChunkAnswer> {
      try {
        const bars = await client.historicalBars(
          {
            contract: { conId: ask.conId, exchange: ask.contract.exchange },
            endDateTime: ibUtc(ask.endMs),
            duration: ask.duration,
            barSize: ask.barSize,
            whatToShow: ask.what,
            useRTH: ask.rth,
          },
          call(signal),
        );
        return { kind: "bars", bars: bars.map(sourceBar) };
      } catch (err) {
        if (isSwitchboardError(err) && err.ibCode !== undefined) {
          const cls = classifyIbError(err.ibCode, err.message);
          // Only IB's own "no data" answer is recorded as no data.
          if (cls.class === "no_data") return { kind: "noData" };
          if (cls.class === "pacing") return { kind: "pacing", retryAfterMs: cls.backoffMs ?? 10_000 };
        }
        if (isSwitchboardError(err) && err.code === "pacing_timeout")
          return { kind: "pacing", retryAfterMs: 1_000 };
        throw err;
      }
    },
    async close() {
      await client.close();
      await sb.close();
    },
  };
}
