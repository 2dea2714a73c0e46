/**
 * `switchboard history <symbol…>`: backfill bars into a Parquet (or CSV) dataset, resumable.
 * Through a running daemon's /api/history when one is given (--url, SWITCHBOARD_URL), else
 * in-process on a line of its own under a `backfill` client-id lease. Progress: one JSON line
 * per step on stdout (`{"type":"progress"|"done"|"error",…}`); on a TTY without --json a
 * short line per step on stderr.
 */
import type { Command } from "commander";
import type { BackfillEvent, BarSource } from "../../history/backfill.js";
import type { Dataset } from "../../history/dataset.js";
import { CliExit, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "../exit-codes.js";
import type { SetExit } from "../main.js";

interface HistoryFlags {
  bar: string;
  from: string;
  to?: string;
  what: string;
  rth?: boolean;
  secType: string;
  exchange: string;
  currency: string;
  out: string;
  format: string;
  url?: string;
  token?: string;
  line?: string;
  upstream: string;
  autoPorts: string;
  stateDir?: string;
  allowMock?: boolean;
  json?: boolean;
  concurrency: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function register(program: Command, setExit: SetExit): void {
  registerHistory(program, setExit);
}

export function registerHistory(program: Command, setExit: SetExit): void {
  program
    .command("history")
    .description("backfill historical bars into a Parquet dataset (resumable, with progress)")
    .argument("<symbols...>", "symbols, e.g. AAPL MSFT")
    .requiredOption("--bar <size>", 'bar size, e.g. "1 min", "5 mins", "1 day"')
    .requiredOption("--from <date>", "first trading date, yyyy-mm-dd")
    .option("--to <date>", "last trading date, yyyy-mm-dd (default: today, UTC)")
    .option("--what <whatToShow>", "TRADES, MIDPOINT, BID, ASK…", "TRADES")
    .option("--rth", "regular trading hours only")
    .option("--sec-type <t>", "security type", "STK")
    .option("--exchange <e>", "exchange", "SMART")
    .option("--currency <c>", "currency", "USD")
    .option("--out <dir>", "dataset directory", "./bars")
    .option("--format <f>", "parquet or csv", "parquet")
    .option("--url <url>", "a running daemon (also SWITCHBOARD_URL): chunks go through its /api/history")
    .option("--token <t>", "the daemon's HTTP token")
    .option("--line <name>", "with a daemon: the line to ask (default: its first line)")
    .option(
      "--upstream <mock|host:port|auto>",
      "in-process: the gateway, as for `start` (auto: probe IB's usual ports, paper first)",
      "auto",
    )
    .option("--auto-ports <ports>", "in-process: the ports `auto` probes", "4002,7497,4001,7496")
    .option("--state-dir <dir>", "in-process: where client-id leases live")
    .option("--allow-mock", "accept a Switchboard mock's (made-up) bars")
    .option("--json", "JSON lines even on a TTY")
    .option(
      "--concurrency <n|auto>",
      "requests in flight at once (auto: adapts to how fast IB answers, up to 48)",
      "auto",
    )
    .action(async (symbols: string[], flags: HistoryFlags) => {
      setExit(await history(symbols, flags));
    });
}

function usage(message: string): never {
  throw new CliExit(EXIT_USAGE, `switchboard history: ${message}`);
}

async function history(symbols: string[], f: HistoryFlags): Promise<number> {
  // Loaded when the command runs: `--help` and other commands never pay for them.
  const { normalizeBarSize } = await import("../../history/bar-sizes.js");
  const { runBackfill } = await import("../../history/backfill.js");
  const { Dataset, DatasetError } = await import("../../history/dataset.js");
  const bar =
    normalizeBarSize(f.bar) ?? usage(`--bar "${f.bar}" is not an IB bar size (e.g. "1 min", "1 day")`);
  if (!DATE.test(f.from)) usage(`--from must be yyyy-mm-dd, got "${f.from}"`);
  const to = f.to ?? new Date().toISOString().slice(0, 10);
  if (!DATE.test(to)) usage(`--to must be yyyy-mm-dd, got "${to}"`);
  if (f.from > to) usage(`--from (${f.from}) is after --to (${to})`);
  if (f.format !== "parquet" && f.format !== "csv")
    usage(`--format must be parquet or csv, got "${f.format}"`);
  const concurrency = f.concurrency === "auto" ? undefined : Number(f.concurrency);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 50)) {
    usage(`--concurrency must be auto or an integer 1..50 (IB allows 50 open historical requests)`);
  }
  const upper = [...new Set(symbols.map((s) => s.toUpperCase()))];
  const url = f.url ?? process.env.SWITCHBOARD_URL;
  const { parseUpstream } = await import("../../config/schema.js");
  const upstream =
    parseUpstream(f.upstream) ?? usage(`--upstream must be mock, auto or host:port, got "${f.upstream}"`);
  const autoPorts = f.autoPorts.split(",").map((p) => Number(p.trim()));
  if (autoPorts.length === 0 || autoPorts.some((p) => !Number.isInteger(p) || p < 1 || p > 65_535))
    usage(`--auto-ports must be a comma-separated list of ports, got "${f.autoPorts}"`);
  if (upstream.kind === "mock" && f.allowMock !== true)
    usage("--upstream mock serves made-up bars: give --allow-mock");

  const json = f.json === true || !process.stderr.isTTY;
  const bars = json ? undefined : (await import("../../history/progress-bars.js")).terminalProgress();
  const emit = (e: BackfillEvent | Record<string, unknown>) => {
    if (json) process.stdout.write(`${JSON.stringify(e)}\n`);
    else if (
      bars &&
      ["plan", "progress", "pacing", "merged", "error"].includes(String(e.type)) &&
      "symbol" in e
    ) {
      bars.update(e as BackfillEvent);
    } else {
      bars?.stop();
      process.stderr.write(`${humanLine(e)}\n`);
    }
  };

  let ds: Dataset;
  try {
    ds = await Dataset.open(f.out, f.format);
  } catch (err) {
    if (err instanceof DatasetError) usage(err.message);
    throw err;
  }

  let source: BarSource;
  let close = async () => {};
  if (url) {
    const { daemonSource } = await import("../../history/daemon-source.js");
    source = daemonSource({
      url,
      ...(f.token ? { token: f.token } : {}),
      ...(f.line === undefined ? {} : { line: f.line }),
    });
  } else {
    const { connectLineSource } = await import("../../history/line-source.js");
    const { FileLeaseStore, Registry, defaultStateDir } = await import("../../registry/index.js");
    const registry = new Registry({
      store: new FileLeaseStore({ stateDir: f.stateDir ?? defaultStateDir(process.env) }),
    });
    let mock: { close(): Promise<void> } | undefined;
    try {
      let where: Parameters<typeof connectLineSource>[0];
      if (upstream.kind === "tcp") {
        where = { host: upstream.host, port: upstream.port, registry };
      } else if (upstream.kind === "auto") {
        // One pass over the ports, as `start --upstream auto` does on each connect.
        const { searchGateway, AUTO_HOST } = await import("../../daemon/upstream.js");
        const { systemClock } = await import("../../clock.js");
        const { silentLogger } = await import("../../logger.js");
        const found = await searchGateway(
          {
            ports: autoPorts,
            allowMock: f.allowMock === true,
            clock: systemClock,
            random: Math.random,
            logger: silentLogger,
          },
          AbortSignal.timeout(60_000),
        );
        if (found === undefined)
          throw new Error("no TWS / IB Gateway answered (a Switchboard mock needs --allow-mock)");
        where = { host: AUTO_HOST, port: found.port, registry };
      } else {
        // The built-in mock, in this process (as `start` runs it).
        const { MockGateway } = await import("../../mock/gateway.js");
        const gw = new MockGateway({ host: "127.0.0.1", port: 0, controlPort: 0 });
        mock = gw;
        const info = await gw.start();
        where = { host: "127.0.0.1", port: info.port, mock: true, registry };
      }
      const line = await connectLineSource(where);
      source = line;
      close = async () => {
        await line.close();
        await registry.close();
        await mock?.close();
      };
    } catch (err) {
      await registry.close();
      await mock?.close();
      emit({
        type: "error",
        message: `cannot reach ${f.upstream}${upstream.kind === "auto" ? ` (ports ${autoPorts.join(", ")})` : ""}: ${err instanceof Error ? err.message : String(err)}`,
      });
      return EXIT_FAILURE;
    }
  }

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const outcome = await runBackfill(
      ds,
      source,
      {
        symbols: upper,
        contract: {
          secType: f.secType.toUpperCase(),
          exchange: f.exchange.toUpperCase(),
          currency: f.currency.toUpperCase(),
        },
        barSize: bar,
        what: f.what.toUpperCase(),
        rth: f.rth === true,
        from: f.from,
        to,
        now: Date.now(),
        ...(concurrency === undefined ? {} : { concurrency }),
        allowMock: f.allowMock === true,
      },
      emit,
      stop.signal,
    );
    const ok = outcome.failed.length === 0 && !outcome.interrupted;
    emit({ type: "done", ok, out: f.out, ...outcome });
    return ok ? EXIT_OK : EXIT_FAILURE;
  } catch (err) {
    if (err instanceof DatasetError) {
      emit({ type: "error", code: err.code, message: err.message });
      return err.code === "mock_refused" || err.code === "rth_mismatch" ? EXIT_USAGE : EXIT_FAILURE;
    }
    emit({ type: "error", message: err instanceof Error ? err.message : String(err) });
    return EXIT_FAILURE;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await close();
  }
}

function humanLine(e: BackfillEvent | Record<string, unknown>): string {
  switch (e.type) {
    case "progress": {
      const p = e as Extract<BackfillEvent, { type: "progress" }>;
      return `${p.symbol} ${p.done}/${p.total} ${p.end} ${p.noData ? "no data" : `${p.bars} bars`} · ${p.barsTotal} bars, ${p.requests} requests, ${p.pacingWaits} pacing waits`;
    }
    case "done": {
      const d = e as {
        ok: boolean;
        out: string;
        requests: number;
        bars: number;
        noData: number;
        failed: unknown[];
        interrupted: boolean;
      };
      const state = d.ok
        ? "done"
        : d.interrupted
          ? "interrupted (run again to resume)"
          : `${d.failed.length} failed`;
      return `${state}: ${d.bars} bars in ${d.out}, ${d.requests} requests, ${d.noData} spans without data`;
    }
    case "plan":
      return `${String(e.symbol)}: ${String(e.chunks)} requests to go (${String(e.recorded)} spans recorded)`;
    default:
      return JSON.stringify(e);
  }
}
