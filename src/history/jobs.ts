/**
 * Backfill jobs of the daemon (`/api/history/jobs`): each job is one runBackfill over the
 * daemon's own line and pacer, written into the dataset under the daemon's `historyDir` —
 * never a path from the request.
 *
 * Invariants:
 * - jobs run one at a time, in the order they were posted: two runs in one dataset would
 *   race on its coverage file, and they would share one pacer budget anyway;
 * - stopping a job lets its requests in flight finish and be recorded (resumable: posting
 *   the same job again asks only what is missing);
 * - progress reaches the event log at most once a second per job (`history.progress`), so a
 *   long job cannot push everything else out of the 1,000-event ring; the end is always
 *   published (`history.done`);
 * - finished jobs are kept for listing up to a bound, oldest dropped first.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { Clock, TimerHandle } from "../clock.js";
import type { BaseEvent } from "../events.js";
import { type BackfillEvent, type BarSource, runBackfill } from "./backfill.js";
import type { DatasetFormat } from "./bar-table.js";
import { Dataset, DatasetError } from "./dataset.js";

export const MAX_FINISHED_JOBS = 100;
export const PROGRESS_EVENT_INTERVAL_MS = 1_000;
/** At daemon shutdown, answers in flight are awaited this long, then abandoned (asked again next time). */
export const CLOSE_GRACE_MS = 10_000;
/** CSV datasets live beside the Parquet one; `_` keeps Hive readers of the Parquet out of it. */
export const CSV_SUBDIR = "_csv";

export interface JobSpec {
  readonly symbols: readonly string[];
  readonly bar: string;
  readonly from: string;
  readonly to: string;
  readonly what: string;
  readonly rth: boolean;
  readonly secType: string;
  readonly exchange: string;
  readonly currency: string;
  readonly format: DatasetFormat;
  readonly allowMock: boolean;
  /** Fixed requests in flight; absent: adaptive. */
  readonly concurrency?: number | undefined;
  /** The daemon line the job asks through (absent: the first). */
  readonly line?: string | undefined;
}

export type JobState = "queued" | "running" | "stopping" | "done" | "failed" | "stopped";

export interface JobProgress {
  chunks: number;
  done: number;
  requests: number;
  bars: number;
  noData: number;
  pacingWaits: number;
}

export interface JobView {
  readonly id: string;
  readonly state: JobState;
  readonly spec: JobSpec;
  readonly createdAt: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly progress: JobProgress;
  readonly failed: readonly { symbol: string; message: string }[];
  readonly error?: { code: string; message: string };
}

interface Job {
  id: string;
  state: JobState;
  spec: JobSpec;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  progress: JobProgress;
  failed: { symbol: string; message: string }[];
  error?: { code: string; message: string };
  stop: AbortController;
  abandon: AbortController;
  lastEventAt: number;
}

export interface HistoryJobsOptions {
  /** The daemon's historyDir: the Parquet dataset, CSV under `_csv/`. */
  dir: string;
  source: BarSource;
  /** The source of a job that names its line (`spec.line`); absent: every job uses `source`. */
  sourceOf?: (line: string) => BarSource;
  clock: Clock;
  emit: (e: BaseEvent) => void;
}

export class HistoryJobs {
  readonly #o: HistoryJobsOptions;
  readonly #jobs = new Map<string, Job>();
  readonly #queue: Job[] = [];
  readonly #datasets = new Map<DatasetFormat, Promise<Dataset>>();
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(options: HistoryJobsOptions) {
    this.#o = options;
  }

  datasetDir(format: DatasetFormat): string {
    return format === "parquet" ? this.#o.dir : join(this.#o.dir, CSV_SUBDIR);
  }

  create(spec: JobSpec): JobView {
    const job: Job = {
      id: randomUUID(),
      state: "queued",
      spec,
      createdAt: this.#o.clock.now(),
      progress: { chunks: 0, done: 0, requests: 0, bars: 0, noData: 0, pacingWaits: 0 },
      failed: [],
      stop: new AbortController(),
      abandon: new AbortController(),
      lastEventAt: 0,
    };
    if (this.#closed) {
      job.state = "stopped";
      job.error = { code: "closed", message: "the daemon is stopping" };
    }
    this.#jobs.set(job.id, job);
    this.#trim();
    if (!this.#closed) {
      this.#queue.push(job);
      this.#publish(job, true);
      this.#running ??= this.#drain();
    }
    return view(job);
  }

  list(): JobView[] {
    return [...this.#jobs.values()].map(view);
  }

  get(id: string): JobView | undefined {
    const j = this.#jobs.get(id);
    return j && view(j);
  }

  /** Stops a job: queued ones at once, a running one after its requests in flight. */
  stop(id: string): JobView | undefined {
    const job = this.#jobs.get(id);
    if (!job) return undefined;
    if (job.state === "queued") {
      this.#queue.splice(this.#queue.indexOf(job), 1);
      this.#finish(job, "stopped");
    } else if (job.state === "running") {
      job.state = "stopping";
      job.stop.abort();
      this.#publish(job, true);
    }
    return view(job);
  }

  /**
   * Stops every job (resumably) and waits for the running one to record what it has — at most
   * CLOSE_GRACE_MS: then its requests still in flight are abandoned (never recorded, so asked
   * again by the next run), and the daemon's shutdown is not held by a slow answer.
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const j of [...this.#queue]) this.stop(j.id);
    for (const j of this.#jobs.values()) if (j.state === "running") this.stop(j.id);
    const running = this.#running;
    if (!running) return;
    let timer: TimerHandle | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = this.#o.clock.setTimeout(resolve, CLOSE_GRACE_MS);
    });
    await Promise.race([running, grace]);
    this.#o.clock.clearTimeout(timer);
    for (const j of this.#jobs.values()) j.abandon.abort();
    await running;
  }

  async #drain(): Promise<void> {
    try {
      for (let job = this.#queue.shift(); job; job = this.#queue.shift()) await this.#run(job);
    } finally {
      this.#running = undefined;
    }
  }

  async #run(job: Job): Promise<void> {
    job.state = "running";
    job.startedAt = this.#o.clock.now();
    this.#publish(job, true);
    const s = job.spec;
    try {
      const ds = await this.#dataset(s.format);
      const outcome = await runBackfill(
        ds,
        s.line !== undefined && this.#o.sourceOf ? this.#o.sourceOf(s.line) : this.#o.source,
        {
          symbols: s.symbols,
          contract: { secType: s.secType, exchange: s.exchange, currency: s.currency },
          barSize: s.bar,
          what: s.what,
          rth: s.rth,
          from: s.from,
          to: s.to,
          now: this.#o.clock.now(),
          ...(s.concurrency === undefined ? {} : { concurrency: s.concurrency }),
          allowMock: s.allowMock,
          abandon: job.abandon.signal,
        },
        (e) => this.#onEvent(job, e),
        job.stop.signal,
      );
      job.progress.requests = outcome.requests;
      job.progress.bars = outcome.bars;
      job.progress.noData = outcome.noData;
      job.progress.pacingWaits = outcome.pacingWaits;
      job.failed = outcome.failed;
      this.#finish(
        job,
        outcome.failed.length > 0
          ? "failed"
          : outcome.interrupted || job.stop.signal.aborted
            ? "stopped"
            : "done",
      );
    } catch (err) {
      job.error = {
        code: err instanceof DatasetError ? err.code : "failed",
        message: err instanceof Error ? err.message : String(err),
      };
      this.#finish(job, "failed");
    }
  }

  #dataset(format: DatasetFormat): Promise<Dataset> {
    let ds = this.#datasets.get(format);
    if (!ds) {
      ds = Dataset.open(this.datasetDir(format), format);
      // A failed open is tried again by the next job (the directory may be fixed by then).
      ds.catch(() => this.#datasets.delete(format));
      this.#datasets.set(format, ds);
    }
    return ds;
  }

  #onEvent(job: Job, e: BackfillEvent): void {
    const p = job.progress;
    if (e.type === "plan") p.chunks += e.chunks;
    else if (e.type === "progress") {
      p.done++;
      p.bars = e.barsTotal;
      p.requests = e.requests;
      p.pacingWaits = e.pacingWaits;
      if (e.noData) p.noData++;
    } else if (e.type === "pacing") p.pacingWaits++;
    else if (e.type === "error") job.failed.push({ symbol: e.symbol, message: e.message });
    this.#publish(job, false);
  }

  #finish(job: Job, state: JobState): void {
    job.state = state;
    job.finishedAt = this.#o.clock.now();
    const v = view(job);
    this.#o.emit({
      type: "history.done",
      ts: job.finishedAt,
      id: v.id,
      state: v.state,
      progress: v.progress,
      failed: v.failed,
      ...(v.error ? { error: v.error } : {}),
    } as BaseEvent);
  }

  #publish(job: Job, always: boolean): void {
    const now = this.#o.clock.now();
    if (!always && now - job.lastEventAt < PROGRESS_EVENT_INTERVAL_MS) return;
    job.lastEventAt = now;
    this.#o.emit({
      type: "history.progress",
      ts: now,
      id: job.id,
      state: job.state,
      symbols: job.spec.symbols,
      progress: { ...job.progress },
    } as BaseEvent);
  }

  #trim(): void {
    const finished = [...this.#jobs.values()].filter((j) => j.finishedAt !== undefined);
    for (const j of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED_JOBS)))
      this.#jobs.delete(j.id);
  }
}

function view(j: Job): JobView {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  const started = iso(j.startedAt);
  const finished = iso(j.finishedAt);
  return {
    id: j.id,
    state: j.state,
    spec: j.spec,
    createdAt: new Date(j.createdAt).toISOString(),
    ...(started ? { startedAt: started } : {}),
    ...(finished ? { finishedAt: finished } : {}),
    progress: { ...j.progress },
    failed: [...j.failed],
    ...(j.error ? { error: j.error } : {}),
  };
}
