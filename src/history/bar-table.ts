/**
 * The dataset's rows and the two file formats of its year files: Parquet (hyparquet-writer,
 * read back with hyparquet) and CSV. Columns, in order: time (timestamp UTC, ms), open, high,
 * low, close, volume, wap (double), count (int64), conId (int64).
 */
import { readFile } from "node:fs/promises";
import { parquetReadObjects } from "hyparquet";
import { parquetWriteBuffer } from "hyparquet-writer";

export interface BarRow {
  /** UTC ms of the bar's start. */
  readonly time: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly wap: number;
  readonly count: number;
  readonly conId: number;
}

export type DatasetFormat = "parquet" | "csv";

export const CSV_HEADER = "time,open,high,low,close,volume,wap,count,conId";

export function encodeBars(rows: readonly BarRow[], format: DatasetFormat): Uint8Array | string {
  if (format === "csv") {
    const lines = rows.map((r) =>
      [
        new Date(r.time).toISOString(),
        r.open,
        r.high,
        r.low,
        r.close,
        r.volume,
        r.wap,
        r.count,
        r.conId,
      ].join(","),
    );
    return `${CSV_HEADER}\n${lines.join("\n")}${lines.length ? "\n" : ""}`;
  }
  const col = (name: keyof BarRow) => rows.map((r) => r[name]);
  const big = (name: keyof BarRow) => rows.map((r) => BigInt(r[name]));
  const buf = parquetWriteBuffer({
    columnData: [
      { name: "time", data: rows.map((r) => new Date(r.time)), type: "TIMESTAMP" },
      { name: "open", data: col("open"), type: "DOUBLE" },
      { name: "high", data: col("high"), type: "DOUBLE" },
      { name: "low", data: col("low"), type: "DOUBLE" },
      { name: "close", data: col("close"), type: "DOUBLE" },
      { name: "volume", data: col("volume"), type: "DOUBLE" },
      { name: "wap", data: col("wap"), type: "DOUBLE" },
      { name: "count", data: big("count"), type: "INT64" },
      { name: "conId", data: big("conId"), type: "INT64" },
    ],
  });
  return new Uint8Array(buf);
}

export async function readBars(path: string, format: DatasetFormat): Promise<BarRow[]> {
  if (format === "csv") {
    const text = await readFile(path, "utf8");
    return text
      .split("\n")
      .slice(1)
      .filter((l) => l.length > 0)
      .map((l) => {
        const [time, open, high, low, close, volume, wap, count, conId] = l.split(",");
        return {
          time: Date.parse(time as string),
          open: Number(open),
          high: Number(high),
          low: Number(low),
          close: Number(close),
          volume: Number(volume),
          wap: Number(wap),
          count: Number(count),
          conId: Number(conId),
        };
      });
  }
  const bytes = await readFile(path);
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const rows = (await parquetReadObjects({ file })) as Record<string, unknown>[];
  const n = (v: unknown) => (typeof v === "bigint" ? Number(v) : Number(v));
  return rows.map((r) => ({
    time: r.time instanceof Date ? r.time.getTime() : n(r.time),
    open: n(r.open),
    high: n(r.high),
    low: n(r.low),
    close: n(r.close),
    volume: n(r.volume),
    wap: n(r.wap),
    count: n(r.count),
    conId: n(r.conId),
  }));
}
