/**
 * Runs a backfill: for each symbol its contract and head timestamp, then the planned chunks
 * (plan.ts) through a source of bars, a few in flight at once, each answer written and
 * recorded at once (dataset.ts). A year whose chunks are all recorded is merged into its year
 * file at once. Stopping (SIGINT) lets the requests in flight finish and be recorded, then
 * merges: a rerun asks only what is still missing.
 *
 * Only IB's "no data" answer is recorded as no data; a pacing error is asked again after
 * its backoff, and any other failure stops that symbol (named in the outcome) without
 * recording the span.
 */
import { calendarFor } from "../calendar/calendars.js";
import type { BarRow } from "./bar-table.js";
import { type Dataset, seriesKey, type SeriesRecord, type UpstreamIdentity } from "./dataset.js";
import { type Chunk, planChunks } from "./plan.js";

export interface ContractSpec {
  readonly secType: string;
  readonly exchange: string;
  readonly currency: string;
}

export interface ChunkAsk {
  readonly symbol: string;
  readonly contract: ContractSpec;
  readonly conId: number;
  readonly barSize: string;
  readonly what: string;
  readonly rth: boolean;
  readonly endMs: number;
  readonly duration: string;
}

/** A bar as the source gives it (time in UTC ms). */
export type SourceBar = Omit<BarRow, "conId">;

/** What a source answers for a chunk: bars, IB's "no data", or a pacing refusal to retry. */
export type ChunkAnswer =
  | { readonly kind: "bars"; readonly bars: readonly SourceBar[] }
  | { readonly kind: "noData" }
  | { readonly kind: "pacing"; readonly retryAfterMs: number };

/** Where bars come from: the line in-process, or a running daemon's /api/history. */
export interface BarSource {
  identity(): Promise<UpstreamIdentity>;
  conId(symbol: string, contract: ContractSpec, signal: AbortSignal): Promise<number>;
  /** UTC ms of the earliest data, or undefined when the source cannot tell. */
  headTimestamp(ask: Omit<ChunkAsk, "endMs" | "duration">, signal: AbortSignal): Promise<number | undefined>;
  bars(ask: ChunkAsk, signal: AbortSignal): Promise<ChunkAnswer>;
}

export interface BackfillOptions {
  readonly symbols: readonly string[];
  readonly contract: ContractSpec;
  readonly barSize: string;
  readonly what: string;
  readonly rth: boolean;
  readonly from: string;
  readonly to: string;
  readonly now: number;
  /** Requests in flight at once (IB allows 50 open historical requests). */
  readonly concurrency?: number;
  readonly allowMock: boolean;
}

export type BackfillEvent =
  | {
      type: "plan";
      symbol: string;
      chunks: number;
      recorded: number;
    }
  | {
      type: "progress";
      symbol: string;
      end: string;
      duration: string;
      bars: number;
      noData: boolean;
      done: number;
      total: number;
      barsTotal: number;
      requests: number;
      pacingWaits: number;
    }
  | { type: "pacing"; symbol: string; retryAfterMs: number }
  /** Every planned chunk of a year is recorded: its parts are merged into the year file. */
  | { type: "merged"; symbol: string; year: number }
  | { type: "error"; symbol: string; message: string };

export interface BackfillOutcome {
  requests: number;
  bars: number;
  noData: number;
  pacingWaits: number;
  failed: { symbol: string; message: string }[];
  interrupted: boolean;
}

export const DEFAULT_CONCURRENCY = 8;

export async function runBackfill(
  ds: Dataset,
  source: BarSource,
  o: BackfillOptions,
  emit: (e: BackfillEvent) => void,
  stop: AbortSignal,
): Promise<BackfillOutcome> {
  await ds.bindSource(await source.identity(), o.allowMock);
  const out: BackfillOutcome = {
    requests: 0,
    bars: 0,
    noData: 0,
    pacingWaits: 0,
    failed: [],
    interrupted: false,
  };
  const calendar = calendarFor(o.contract);
  interface Job {
    symbol: string;
    series: SeriesRecord;
    chunk: Chunk;
    ask: ChunkAsk;
  }
  const jobs: Job[] = [];
  const totals = new Map<string, { done: number; total: number }>();
  // Series are opened first so a usage mismatch (rth) fails before any request.
  const seriesOf = o.symbols.map((symbol) => ds.series({ symbol, bar: o.barSize, what: o.what }, o.rth));
  for (const [i, symbol] of o.symbols.entries()) {
    if (stop.aborted) break;
    const series = seriesOf[i] as SeriesRecord;
    try {
      if (series.conId === undefined || series.head === undefined) {
        const conId = await source.conId(symbol, o.contract, stop);
        const head = await source.headTimestamp(
          { symbol, contract: o.contract, conId, barSize: o.barSize, what: o.what, rth: o.rth },
          stop,
        );
        out.requests += head === undefined ? 0 : 1;
        if (head === undefined) series.conId = conId;
        else await ds.setHead(series, conId, head);
      }
      const chunks = planChunks({
        calendar,
        barSize: o.barSize,
        rth: o.rth,
        from: o.from,
        to: o.to,
        now: o.now,
        ...(series.head === undefined ? {} : { head: series.head }),
        covered: series.spans,
      });
      emit({ type: "plan", symbol, chunks: chunks.length, recorded: series.spans.length });
      totals.set(symbol, { done: 0, total: chunks.length });
      for (const chunk of chunks) {
        jobs.push({
          symbol,
          series,
          chunk,
          ask: {
            symbol,
            contract: o.contract,
            conId: series.conId as number,
            barSize: o.barSize,
            what: o.what,
            rth: o.rth,
            endMs: chunk.endMs,
            duration: chunk.duration,
          },
        });
      }
    } catch (err) {
      if (stop.aborted) break;
      const message = err instanceof Error ? err.message : String(err);
      out.failed.push({ symbol, message });
      emit({ type: "error", symbol, message });
    }
  }
  // Newest first across symbols, taking symbols in turn so each advances.
  const order = interleave(jobs);
  // Chunks still to record per symbol and UTC year: at 0 the year is complete and merged.
  const pendingYears = new Map<string, number>();
  for (const j of jobs) {
    for (const y of yearsOf(j.chunk.span)) {
      const k = `${j.symbol}|${y}`;
      pendingYears.set(k, (pendingYears.get(k) ?? 0) + 1);
    }
  }
  const failedSymbols = new Set(out.failed.map((f) => f.symbol));
  let next = 0;
  const worker = async () => {
    while (!stop.aborted && next < order.length) {
      const job = order[next++] as Job;
      if (failedSymbols.has(job.symbol)) continue;
      try {
        await runJob(job);
      } catch (err) {
        if (stop.aborted) return;
        const message = `${seriesKey(job.series)} ${job.chunk.duration} to ${new Date(job.chunk.endMs).toISOString()}: ${err instanceof Error ? err.message : String(err)}`;
        failedSymbols.add(job.symbol);
        out.failed.push({ symbol: job.symbol, message });
        emit({ type: "error", symbol: job.symbol, message });
      }
    }
  };
  // An in-flight request is finished and recorded even after stop: its signal is not `stop`.
  const inflight = new AbortController();
  async function runJob(job: Job): Promise<void> {
    for (;;) {
      out.requests++;
      const answer = await source.bars(job.ask, inflight.signal);
      if (answer.kind === "pacing") {
        out.pacingWaits++;
        emit({ type: "pacing", symbol: job.symbol, retryAfterMs: answer.retryAfterMs });
        if (stop.aborted) return;
        await new Promise((r) => setTimeout(r, answer.retryAfterMs));
        if (stop.aborted) return;
        continue;
      }
      const conId = job.ask.conId;
      const rows =
        answer.kind === "noData"
          ? ("noData" as const)
          : answer.bars
              // A chunk records only its own span: the answer may reach into a neighbour's.
              .filter((b) => b.time >= job.chunk.span.start && b.time < job.chunk.span.end)
              .map((b) => ({ ...b, conId }));
      await ds.record(job.series, job.chunk.span, rows);
      const t = totals.get(job.symbol) as { done: number; total: number };
      t.done++;
      const n = rows === "noData" ? 0 : rows.length;
      out.bars += n;
      if (rows === "noData") out.noData++;
      emit({
        type: "progress",
        symbol: job.symbol,
        end: new Date(job.chunk.endMs).toISOString(),
        duration: job.chunk.duration,
        bars: n,
        noData: rows === "noData",
        done: t.done,
        total: t.total,
        barsTotal: out.bars,
        requests: out.requests,
        pacingWaits: out.pacingWaits,
      });
      for (const y of yearsOf(job.chunk.span)) {
        const k = `${job.symbol}|${y}`;
        const left = (pendingYears.get(k) ?? 1) - 1;
        pendingYears.set(k, left);
        if (left === 0 && !failedSymbols.has(job.symbol)) {
          await ds.mergeYear(job.series, y);
          emit({ type: "merged", symbol: job.symbol, year: y });
        }
      }
      return;
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? DEFAULT_CONCURRENCY) }, worker));
  out.interrupted = stop.aborted && next < order.length;
  await ds.merge();
  return out;
}

/** The UTC years a span of data touches. */
function yearsOf(span: { start: number; end: number }): number[] {
  const first = new Date(span.start).getUTCFullYear();
  const last = new Date(span.end - 1).getUTCFullYear();
  const out: number[] = [];
  for (let y = first; y <= last; y++) out.push(y);
  return out;
}

function interleave<T extends { symbol: string }>(jobs: readonly T[]): T[] {
  const bySymbol = new Map<string, T[]>();
  for (const j of jobs) {
    let list = bySymbol.get(j.symbol);
    if (!list) bySymbol.set(j.symbol, (list = []));
    list.push(j);
  }
  const lists = [...bySymbol.values()];
  const out: T[] = [];
  for (let i = 0; out.length < jobs.length; i++) for (const l of lists) if (i < l.length) out.push(l[i] as T);
  return out;
}
