/**
 * The backfill's progress on a terminal: a bar per symbol and one overall, with requests,
 * bars, ETA and pacing waits (cli-progress, on stderr so stdout stays clean).
 */
import cliProgress from "cli-progress";
import type { BackfillEvent } from "./backfill.js";

export interface ProgressView {
  update(e: BackfillEvent): void;
  stop(): void;
}

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): ProgressView {
  const multi = new cliProgress.MultiBar(
    {
      stream,
      clearOnComplete: false,
      hideCursor: true,
      format:
        "{name} |{bar}| {value}/{total} requests · {bars} bars · ETA {eta_formatted} · {waits} pacing waits",
    },
    cliProgress.Presets.shades_classic,
  );
  const overall = multi.create(0, 0, { name: "all     ", bars: 0, waits: 0 });
  const perSymbol = new Map<string, cliProgress.SingleBar>();
  const symbolBars = new Map<string, number>();
  let total = 0;
  let done = 0;
  let waits = 0;
  let bars = 0;
  return {
    update(e) {
      if (e.type === "plan") {
        total += e.chunks;
        overall.setTotal(total);
        perSymbol.set(e.symbol, multi.create(e.chunks, 0, { name: e.symbol.padEnd(8), bars: 0, waits: 0 }));
      } else if (e.type === "progress") {
        done++;
        bars = e.barsTotal;
        const n = (symbolBars.get(e.symbol) ?? 0) + e.bars;
        symbolBars.set(e.symbol, n);
        perSymbol.get(e.symbol)?.increment(1, { bars: n });
        overall.update(done, { bars, waits });
      } else if (e.type === "pacing") {
        waits++;
        overall.update(done, { bars, waits });
      } else if (e.type === "merged") {
        multi.log(`${e.symbol}: ${e.year} complete\n`);
      } else {
        multi.log(`${e.symbol}: ${e.message}\n`);
      }
    },
    stop() {
      multi.stop();
    },
  };
}
