/**
 * Bars inside the daemon: a backfill job asks through the daemon's own data service, so its
 * requests take seats on the primary line's switch and wait in the same pacer as every other
 * tenant (HTTP callers, proxy clients). The same answers as over HTTP: IB's "no data" is
 * recorded, a pacing refusal (429 pacing_timeout) is waited out and asked again.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { DataService, SEC_TYPES, WHAT_TO_SHOW } from "../api/data-service.js";
import { isSwitchboardError } from "../errors.js";
import type { BarSource, ChunkAnswer, ContractSpec } from "./backfill.js";
import type { UpstreamIdentity } from "./dataset.js";

/** Per call: long enough to wait for pacing room behind other tenants. */
export const JOB_CALL_TIMEOUT_MS = 300_000;
const DEFAULT_RETRY_MS = 1_000;

type SecType = (typeof SEC_TYPES)[number];
type What = (typeof WHAT_TO_SHOW)[number];

function retryAfterOf(err: unknown): number | undefined {
  if (!isSwitchboardError(err) || err.code !== "pacing_timeout") return undefined;
  const ms = (err as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof ms === "number" && ms > 0 ? ms : DEFAULT_RETRY_MS;
}

export function serviceSource(data: () => DataService, identity: () => Promise<UpstreamIdentity>): BarSource {
  const contract = (symbol: string, c: ContractSpec) => ({
    symbol,
    secType: c.secType as SecType,
    exchange: c.exchange,
    currency: c.currency,
  });
  const call = (signal: AbortSignal) => ({ signal, timeoutMs: JOB_CALL_TIMEOUT_MS });
  return {
    identity,
    async conId(symbol, c, signal) {
      const [first] = await data().qualify(contract(symbol, c), call(signal));
      return first?.conId as number;
    },
    async headTimestamp(ask, signal) {
      for (;;) {
        try {
          const a = await data().headTimestamp(
            { ...contract(ask.symbol, ask.contract), what: ask.what as What, rth: ask.rth },
            call(signal),
          );
          return Date.parse(a.head);
        } catch (err) {
          const wait = retryAfterOf(err);
          if (wait === undefined) throw err;
          await delay(wait, undefined, { signal });
        }
      }
    },
    async bars(ask, signal): Promise<ChunkAnswer> {
      try {
        const a = await data().history(
          {
            ...contract(ask.symbol, ask.contract),
            bar: ask.barSize,
            duration: ask.duration,
            end: new Date(ask.endMs),
            what: ask.what as What,
            rth: ask.rth,
          },
          call(signal),
        );
        if (a.noData === true) return { kind: "noData" };
        return {
          kind: "bars",
          bars: a.bars.map((b) => ({
            time: Date.parse(b.time),
            open: b.open,
            high: b.high,
            low: b.low,
            close: b.close,
            volume: b.volume,
            wap: b.wap,
            count: b.count,
          })),
        };
      } catch (err) {
        const wait = retryAfterOf(err);
        if (wait === undefined) throw err;
        return { kind: "pacing", retryAfterMs: wait };
      }
    },
  };
}
