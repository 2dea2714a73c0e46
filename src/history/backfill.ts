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
import { setMaxListeners } from "node:events";
import { AdaptiveConcurrency, IB_OPEN_HISTORICAL } from "./concurrency.js";
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
  /**
   * Requests in flight at once (IB allows 50 open historical requests); without it the
   * number adapts to the answers (concurrency.ts).
   */
  readonly concurrency?: number;
  readonly allowMock: boolean;
  /**
   * Aborts the requests in flight (their spans stay unrecorded and are asked again by the
   * next run): for a shutdown that cannot wait for slow answers. `stop` lets them finish.
   */
  readonly abandon?: AbortSignal;
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

/** Where the adaptive limit starts (and the fixed one when `concurrency` is given). */
export const DEFAULT_CONCURRENCY = 8;

interface Job {
  symbol: string;
  series: SeriesRecord;
  chunk: Chunk;
  ask: ChunkAsk;
}

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
  const totals = new Map<string, { done: number; total: number }>();
  // Chunks still to record per symbol and UTC year: at 0 the year is complete and merged.
  const pendingYears = new Map<string, number>();
  // Each symbol's chunks, newest first; symbols are served in turn so each advances.
  const queues = new Map<string, Job[]>();
  const failedSymbols = new Set<string>();
  const fail = (symbol: string, message: string) => {
    failedSymbols.add(symbol);
    out.failed.push({ symbol, message });
    emit({ type: "error", symbol, message });
  };
  // Series are opened first so a usage mismatch (rth) fails before any request.
  const seriesOf = o.symbols.map((symbol) => ds.series({ symbol, bar: o.barSize, what: o.what }, o.rth));
  const ctl =
    o.concurrency === undefined ? new AdaptiveConcurrency({ initial: DEFAULT_CONCURRENCY }) : undefined;
  const limit = () => ctl?.limit ?? Math.max(1, o.concurrency ?? DEFAULT_CONCURRENCY);

  /** Contract and head timestamp of one symbol, then its chunks join the queue. */
  async function plan(symbol: string, series: SeriesRecord): Promise<void> {
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
    const list: Job[] = chunks.map((chunk) => ({
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
    }));
    for (const j of list) {
      for (const y of yearsOf(j.chunk.span)) {
        const k = `${symbol}|${y}`;
        pendingYears.set(k, (pendingYears.get(k) ?? 0) + 1);
      }
    }
    queues.set(symbol, list);
  }

  let turn = 0;
  /** The next chunk: symbols in turn, skipping failed ones. */
  function take(): Job | undefined {
    const symbols = [...queues.keys()];
    for (let i = 0; i < symbols.length; i++) {
      const symbol = symbols[(turn + i) % symbols.length] as string;
      const q = queues.get(symbol) as Job[];
      if (failedSymbols.has(symbol)) q.length = 0;
      const job = q.shift();
      if (job) {
        turn = (turn + i + 1) % symbols.length;
        return job;
      }
    }
    return undefined;
  }
  const left = () => [...queues.entries()].some(([s, q]) => q.length > 0 && !failedSymbols.has(s));

  // An in-flight request is finished and recorded even after stop: its signal is not `stop`.
  const inflightSignal = o.abandon ?? new AbortController().signal;
  // Every request in flight and every symbol being planned listens on these at once.
  setMaxListeners(IB_OPEN_HISTORICAL + 8, inflightSignal);
  setMaxListeners(Math.max(10, o.symbols.length + 8), stop);
  async function runJob(job: Job): Promise<void> {
    for (;;) {
      out.requests++;
      ctl?.started(Date.now());
      const answer = await source.bars(job.ask, inflightSignal);
      if (answer.kind === "pacing") {
        out.pacingWaits++;
        ctl?.pacing();
        emit({ type: "pacing", symbol: job.symbol, retryAfterMs: answer.retryAfterMs });
        if (stop.aborted) return;
        await new Promise((r) => setTimeout(r, answer.retryAfterMs));
        if (stop.aborted) return;
        continue;
      }
      ctl?.answered(Date.now());
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
        const remaining = (pendingYears.get(k) ?? 1) - 1;
        pendingYears.set(k, remaining);
        if (remaining === 0 && !failedSymbols.has(job.symbol)) {
          await ds.mergeYear(job.series, y);
          emit({ type: "merged", symbol: job.symbol, year: y });
        }
      }
      return;
    }
  }

  // Chunks start as soon as a symbol is planned; the other symbols plan meanwhile.
  let planning = o.symbols.length;
  let inflight = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (!stop.aborted && inflight < limit()) {
        const job = take();
        if (!job) break;
        inflight++;
        runJob(job)
          .catch((err: unknown) => {
            if (stop.aborted) return;
            fail(
              job.symbol,
              `${seriesKey(job.series)} ${job.chunk.duration} to ${new Date(job.chunk.endMs).toISOString()}: ${err instanceof Error ? err.message : String(err)}`,
            );
          })
          .finally(() => {
            inflight--;
            pump();
          });
      }
      if (inflight === 0 && (planning === 0 || stop.aborted) && (stop.aborted || !left())) resolve();
    };
    stop.addEventListener("abort", pump, { once: true });
    for (const [i, symbol] of o.symbols.entries()) {
      plan(symbol, seriesOf[i] as SeriesRecord)
        .catch((err: unknown) => {
          if (!stop.aborted) fail(symbol, err instanceof Error ? err.message : String(err));
        })
        .finally(() => {
          planning--;
          pump();
        });
    }
  });
  out.interrupted = stop.aborted && left();
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
