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
import type { Registry } from "../registry/registry.js";
import type { BarSource, ChunkAnswer, SourceBar } from "./backfill.js";
import { identityOf, type UpstreamIdentity } from "./dataset.js";
import { ibTime, ibUtc } from "./ib-time.js";
import { isSwitchboardMock } from "./mock-detect.js";

export { ibTime, ibUtc };

export const BACKFILL_PURPOSE = "backfill";

export interface LineSourceOptions {
  host: string;
  port: number;
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
  const sb = await Switchboard.connect({
    line: {
      host: o.host,
      port: o.port,
      clientIds: registryClientIds({
        registry: o.registry,
        upstream: () => `${o.host}:${o.port}`,
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
      const mock = o.mock === true || (await isSwitchboardMock(o.host, o.port));
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
