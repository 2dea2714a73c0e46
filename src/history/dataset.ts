/**
 * A backfill dataset on disk: Hive-partitioned year files
 * `<out>/bar=<1min>/what=<TRADES>/symbol=<AAPL>/<yyyy>.parquet`, and under `_switchboard/`
 * the coverage file and the part files of spans not merged yet.
 *
 * Invariants (each holds after a kill -9 at any moment):
 * - every file is written atomically (files.ts), so only whole files exist;
 * - a part file is on disk before the coverage file records its span, so a recorded span's
 *   bars are always somewhere: in its part file, or (once merged) in the year file;
 * - a part file the coverage file does not name is a leftover of a killed run and is removed
 *   (its span is asked again: it was never recorded);
 * - merging is idempotent (rows keyed by time), so a merge cut short is simply done again;
 * - merges run one at a time, and forget only the parts they merged;
 * - one dataset holds one upstream source: mock bars and real bars never mix.
 */
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { type BarRow, type DatasetFormat, encodeBars, readBars } from "./bar-table.js";
import { removeTemporaries, writeAtomic } from "./files.js";
import type { Span } from "./plan.js";

export const META_DIR = "_switchboard";
export const COVERAGE_FILE = "coverage.json";

/** Where the bars came from: a Switchboard mock, or IB's paper or live accounts. */
export interface UpstreamIdentity {
  readonly kind: "mock" | "paper" | "live";
  readonly accounts: readonly string[];
}

export interface RecordedSpan extends Span {
  readonly bars: number;
  /** IB answered "HMDS query returned no data" (never a pacing or other error). */
  readonly noData?: true;
  /** The part file holding the bars, until they are merged into the year files. */
  readonly part?: string;
}

export interface SeriesId {
  readonly symbol: string;
  readonly bar: string;
  readonly what: string;
}

export interface SeriesRecord extends SeriesId {
  readonly rth: boolean;
  conId?: number;
  /** Head timestamp (UTC ms), asked once and kept. */
  head?: number;
  spans: RecordedSpan[];
}

interface CoverageFile {
  version: 1;
  format: DatasetFormat;
  source?: UpstreamIdentity;
  series: Record<string, SeriesRecord>;
}

export class DatasetError extends Error {
  constructor(
    message: string,
    readonly code: "source_mismatch" | "mock_refused" | "format_mismatch" | "rth_mismatch",
  ) {
    super(message);
    this.name = "DatasetError";
  }
}

/** "1 min" → "1min", as the partition directory spells it. */
export const barDir = (bar: string) => bar.replace(/\s+/g, "");

export function seriesKey(s: SeriesId): string {
  return `bar=${barDir(s.bar)}/what=${s.what}/symbol=${s.symbol}`;
}

export function identityOf(accounts: readonly string[], mock: boolean): UpstreamIdentity {
  const sorted = [...accounts].sort();
  if (mock) return { kind: "mock", accounts: sorted };
  // Paper iff every managed account starts with D (the contract's rule).
  return {
    kind: sorted.length > 0 && sorted.every((a) => a.startsWith("D")) ? "paper" : "live",
    accounts: sorted,
  };
}

const describe = (s: UpstreamIdentity) => `${s.kind} ${s.accounts.join(",") || "(no accounts)"}`;

export class Dataset {
  readonly out: string;
  readonly #meta: string;
  #cov: CoverageFile;
  #saving: Promise<void> = Promise.resolve();
  #merging: Promise<void> = Promise.resolve();
  #pendingSave: Promise<void> | undefined;

  private constructor(out: string, cov: CoverageFile) {
    this.out = out;
    this.#meta = join(out, META_DIR);
    this.#cov = cov;
  }

  get format(): DatasetFormat {
    return this.#cov.format;
  }

  /** Opens (or creates) a dataset and clears what a killed run left half done. */
  static async open(out: string, format: DatasetFormat): Promise<Dataset> {
    const meta = join(out, META_DIR);
    await mkdir(join(meta, "parts"), { recursive: true });
    await removeTemporaries(out);
    let cov: CoverageFile;
    try {
      cov = JSON.parse(await readFile(join(meta, COVERAGE_FILE), "utf8")) as CoverageFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      cov = { version: 1, format, series: {} };
    }
    if (cov.format !== format) {
      throw new DatasetError(
        `${out} holds ${cov.format} files; this run asked for ${format}`,
        "format_mismatch",
      );
    }
    const ds = new Dataset(out, cov);
    await ds.#removeStrayParts();
    return ds;
  }

  get source(): UpstreamIdentity | undefined {
    return this.#cov.source;
  }

  /** Records the upstream, or refuses one that differs from the dataset's. */
  async bindSource(source: UpstreamIdentity, allowMock: boolean): Promise<void> {
    if (source.kind === "mock" && !allowMock) {
      throw new DatasetError(
        "the upstream is a Switchboard mock: its bars are made up (give --allow-mock)",
        "mock_refused",
      );
    }
    const had = this.#cov.source;
    if (had) {
      const same =
        had.kind === source.kind && (had.kind === "mock" || had.accounts.join() === source.accounts.join());
      if (!same) {
        throw new DatasetError(
          `${this.out} holds bars from ${describe(had)}; this upstream is ${describe(source)} (use another --out)`,
          "source_mismatch",
        );
      }
      return;
    }
    this.#cov.source = source;
    await this.#save();
  }

  /** The series record, created on first use; a dataset keeps one useRTH per series. */
  series(id: SeriesId, rth: boolean): SeriesRecord {
    const key = seriesKey(id);
    const had = this.#cov.series[key];
    if (had) {
      if (had.rth !== rth) {
        throw new DatasetError(
          `${key} holds bars with rth=${had.rth}; this run asked rth=${rth}`,
          "rth_mismatch",
        );
      }
      return had;
    }
    const fresh: SeriesRecord = { ...id, rth, spans: [] };
    this.#cov.series[key] = fresh;
    return fresh;
  }

  async setHead(s: SeriesRecord, conId: number, head: number): Promise<void> {
    s.conId = conId;
    s.head = head;
    await this.#save();
  }

  /** Writes the span's part (if it has bars), then records the span. */
  async record(s: SeriesRecord, span: Span, rows: readonly BarRow[] | "noData"): Promise<void> {
    if (rows === "noData") {
      s.spans.push({ ...span, bars: 0, noData: true });
    } else {
      const part = `${seriesKey(s).replaceAll("/", "_")}_${span.start}-${span.end}.json`;
      await writeAtomic(join(this.#meta, "parts", part), JSON.stringify(rows));
      s.spans.push({ ...span, bars: rows.length, part });
    }
    await this.#save();
  }

  /** Merges every part into its year files, then forgets and removes the parts. */
  merge(): Promise<void> {
    return this.#serialMerge(async () => {
      for (const s of Object.values(this.#cov.series)) await this.#mergeParts(s, () => true);
    });
  }

  /**
   * Merges the parts of one series that hold bars of `year` (UTC) into the year files: called
   * when a year of the series completes, so finished years are plain files while the run
   * goes on. A part that reaches into the next year is merged whole (rows go to their year).
   */
  mergeYear(s: SeriesRecord, year: number): Promise<void> {
    const start = Date.UTC(year, 0, 1);
    const end = Date.UTC(year + 1, 0, 1);
    return this.#serialMerge(() => this.#mergeParts(s, (x) => x.start < end && x.end > start));
  }

  /** One merge at a time: two merges of one series must not write the same year file at once. */
  #serialMerge(fn: () => Promise<void>): Promise<void> {
    const next = this.#merging.then(fn);
    this.#merging = next.catch(() => undefined);
    return next;
  }

  async #mergeParts(s: SeriesRecord, which: (x: RecordedSpan) => boolean): Promise<void> {
    const parts = s.spans.filter((x) => x.part !== undefined && which(x));
    if (parts.length === 0) return;
    const byYear = new Map<number, BarRow[]>();
    for (const p of parts) {
      const rows = JSON.parse(
        await readFile(join(this.#meta, "parts", p.part as string), "utf8"),
      ) as BarRow[];
      for (const r of rows) {
        const y = new Date(r.time).getUTCFullYear();
        let list = byYear.get(y);
        if (!list) byYear.set(y, (list = []));
        list.push(r);
      }
    }
    for (const [year, rows] of byYear) {
      const path = this.yearFile(s, year);
      const merged = new Map<number, BarRow>();
      try {
        for (const r of await readBars(path, this.format)) merged.set(r.time, r);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
      for (const r of rows) merged.set(r.time, r);
      const sorted = [...merged.values()].sort((a, b) => a.time - b.time);
      await writeAtomic(path, encodeBars(sorted, this.format));
    }
    // Only the parts merged here are forgotten: spans recorded meanwhile keep their parts.
    const done = new Set(parts.map((p) => p.part as string));
    s.spans = s.spans.map((x) =>
      x.part === undefined || !done.has(x.part) ? x : { start: x.start, end: x.end, bars: x.bars },
    );
    await this.#save();
    for (const name of done) await rm(join(this.#meta, "parts", name), { force: true });
  }

  yearFile(s: SeriesId, year: number): string {
    return join(this.out, seriesKey(s), `${year}.${this.format}`);
  }

  /** Parts not named by the coverage file: a killed run wrote them but never recorded them. */
  async #removeStrayParts(): Promise<void> {
    const named = new Set<string>();
    for (const s of Object.values(this.#cov.series)) for (const x of s.spans) if (x.part) named.add(x.part);
    const dir = join(this.#meta, "parts");
    for (const f of await readdir(dir)) if (!named.has(f)) await rm(join(dir, f), { force: true });
  }

  /**
   * Saves are chained, so concurrent records never interleave their writes, and grouped: a
   * save not yet started is shared by every change made before it starts (it writes the
   * coverage as it is then), so many records in flight cost one write, not one each.
   */
  #save(): Promise<void> {
    if (this.#pendingSave) return this.#pendingSave;
    const next = this.#saving.then(() => {
      this.#pendingSave = undefined;
      return writeAtomic(join(this.#meta, COVERAGE_FILE), `${JSON.stringify(this.#cov, null, 1)}\n`);
    });
    this.#pendingSave = next;
    this.#saving = next.catch(() => undefined);
    return next;
  }
}
