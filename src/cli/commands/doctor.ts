/**
 * `switchboard doctor [--host 127.0.0.1] [--port <n>]… [--json] [--timeout ms] [--url <daemon>]
 *  [--client-id <n>] [--expect <port>=paper|live]…`
 * Finds TWS / IB Gateway listeners, probes each and explains every finding. Reads only.
 * Exit 0 when no finding is an error, 1 when one is, 2 for bad usage. `--json` prints
 * `{success:true, data:{endpoints, findings}}` (shared/interfaces.md).
 */
import type { Command } from "commander";
import { systemClock } from "../../clock.js";
import { isSwitchboardError } from "../../errors.js";
import { defaultStateDir } from "../../registry/state-dir.js";
import { CliExit, EXIT_USAGE } from "../exit-codes.js";
import type { SetExit } from "../main.js";

interface DoctorFlags {
  host: string;
  port: string[];
  json?: boolean;
  timeout?: string;
  url?: string;
  daemon: boolean;
  clientId?: string;
  expect: string[];
  stateDir?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function register(program: Command, setExit: SetExit): void {
  program
    .command("doctor")
    .description("find TWS / IB Gateway listeners, probe them and explain what is wrong (reads only)")
    .option("--host <host>", "host to probe", "127.0.0.1")
    .option("--port <n>", "check only this port (repeatable); default 7496, 7497, 4001, 4002", collect, [])
    .option("--json", "print {success, data:{endpoints, findings}} instead of the report")
    .option("--timeout <ms>", "limit for the connect and for each handshake step", "2000")
    .option("--url <url>", "the Switchboard daemon whose /health is checked", "http://127.0.0.1:4300")
    .option("--no-daemon", "skip the daemon's health check")
    .option("--client-id <n>", "also test whether this client id is free (e.g. your app's)")
    .option("--expect <port=mode>", "declare a port paper or live, e.g. 5555=paper (repeatable)", collect, [])
    .option("--state-dir <dir>", "the client-id registry's state dir (leases shown as id holders)")
    .action(async (flags: DoctorFlags) => {
      const ports = flags.port.map((p) => intFlag("--port", p, 1, 65_535));
      const timeoutMs = intFlag("--timeout", flags.timeout ?? "2000", 1, 600_000);
      const clientId =
        flags.clientId === undefined ? null : intFlag("--client-id", flags.clientId, 0, 2_147_483_647);
      const expect: Record<number, "paper" | "live"> = {};
      for (const e of flags.expect) {
        const m = /^(\d{1,5})=(paper|live)$/.exec(e);
        if (!m) throw new CliExit(EXIT_USAGE, `--expect ${e}: expected <port>=paper or <port>=live`);
        expect[intFlag("--expect", m[1] ?? "", 1, 65_535)] = m[2] as "paper" | "live";
      }
      if (flags.daemon && !/^https?:\/\/[^/]+/.test(flags.url ?? "")) {
        throw new CliExit(EXIT_USAGE, `--url ${flags.url}: expected http://host:port`);
      }
      const stateDir = flags.stateDir ?? defaultStateDir(process.env);
      // Loaded here, not at start: other commands never pay for the doctor.
      const { formatHuman, readFileLeases, runDoctor, toJson } = await import("../../doctor/index.js");
      try {
        const report = await runDoctor({
          host: flags.host,
          ports,
          expect,
          timeoutMs,
          clientId,
          daemonUrl: flags.daemon ? (flags.url ?? null) : null,
          leases: () => readFileLeases(stateDir, systemClock.now()),
        });
        process.stdout.write(flags.json ? `${JSON.stringify(toJson(report))}\n` : formatHuman(report));
        setExit(report.exitCode);
      } catch (err) {
        if (isSwitchboardError(err) && err.code === "invalid_argument") {
          throw new CliExit(EXIT_USAGE, `--${err.field ?? "doctor"}: ${err.message}`);
        }
        throw err;
      }
    });
}

function intFlag(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n < min || n > max) {
    throw new CliExit(EXIT_USAGE, `${flag} ${text}: expected an integer in ${min}..${max}`);
  }
  return n;
}
