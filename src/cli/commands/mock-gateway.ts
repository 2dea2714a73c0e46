/** `switchboard mock-gateway`: the mock IB Gateway as a process (flags as in interfaces.md). */
import { readFile } from "node:fs/promises";
import { type Command, InvalidArgumentError as CommanderArgError, Option } from "commander";
import { parseInstant } from "../../calendar/instant.js";
import { isSwitchboardError } from "../../errors.js";
import type { MockGateway } from "../../mock/gateway.js";
import {
  DEFAULT_ID_HOLD_MS,
  DEFAULT_HISTORY_LATENCY_MS,
  DEFAULT_MAX_CLIENTS,
  DEFAULT_MAX_RATE_VIOLATIONS,
  DEFAULT_MOCK_ACCOUNTS,
  DEFAULT_MOCK_CONTROL_PORT,
  DEFAULT_MOCK_HOST,
  DEFAULT_MOCK_PORT,
  DEFAULT_SEED,
  DEFAULT_TIME_SCALE,
} from "../../mock/options.js";
import { DEFAULT_PACING_PROFILE, PACING_PROFILES, type PacingProfile } from "../../pacing/rules.js";
import { DEFAULT_SERVER_VERSION, MAX_SERVER_VERSION, MIN_SERVER_VERSION } from "../../protocol/versions.js";
import { CliExit, EXIT_FAILURE, EXIT_USAGE } from "../exit-codes.js";
import { onShutdown, printReady } from "../ready.js";

function int(flag: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || n < min || n > max) {
      throw new CommanderArgError(`${flag} must be an integer in ${min}..${max}, got "${v}"`);
    }
    return n;
  };
}

function positive(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0)
      throw new CommanderArgError(`${flag} must be a positive number, got "${v}"`);
    return n;
  };
}

interface Flags {
  host: string;
  port: number;
  controlPort: number;
  accounts: string;
  maxClients: number;
  serverVersion: number;
  seed: number;
  timeScale: number;
  idHoldMs: number;
  maxRateViolations: number;
  pacingRules?: string;
  pacingProfile: PacingProfile;
  historyLatencyMs: number;
  historyBarCostUs: number;
  now?: string;
  unmarked?: boolean;
}

/**
 * The process title of an unmarked mock: no `mock-gateway` in it, so Switchboard's mock
 * detection (doctor/checks.ts `detectMock`) does not see one, and no gateway name either, so
 * the doctor does not count it as an IB process.
 */
export const UNMARKED_TITLE = "switchboard-unmarked-gateway";

export function register(program: Command, setExit: (code: number) => void): void {
  program
    .command("mock-gateway")
    .description("run the mock IB Gateway (real TWS wire protocol, IB's rules, faults on command)")
    .addOption(new Option("--host <host>", "listen address").default(DEFAULT_MOCK_HOST))
    .addOption(
      new Option("--port <n>", "API port (0 = any free)")
        .default(DEFAULT_MOCK_PORT)
        .argParser(int("--port", 0, 65535)),
    )
    .addOption(
      new Option("--control-port <n>", "control API port (0 = any free)")
        .default(DEFAULT_MOCK_CONTROL_PORT)
        .argParser(int("--control-port", 0, 65535)),
    )
    .addOption(
      new Option("--accounts <list>", "managed accounts, comma separated").default(
        DEFAULT_MOCK_ACCOUNTS.join(","),
      ),
    )
    .addOption(
      new Option("--max-clients <n>", "simultaneous API clients")
        .default(DEFAULT_MAX_CLIENTS)
        .argParser(int("--max-clients", 1, 10000)),
    )
    .addOption(
      new Option(
        "--server-version <n>",
        `highest server version served (${MIN_SERVER_VERSION}..${MAX_SERVER_VERSION})`,
      )
        .default(DEFAULT_SERVER_VERSION)
        .argParser(int("--server-version", MIN_SERVER_VERSION, MAX_SERVER_VERSION)),
    )
    .addOption(
      new Option("--seed <n>", "seed of bars and ticks")
        .default(DEFAULT_SEED)
        .argParser(int("--seed", -(2 ** 31), 2 ** 31 - 1)),
    )
    .addOption(
      new Option("--time-scale <k>", "make IB's windows k times shorter")
        .default(DEFAULT_TIME_SCALE)
        .argParser(positive("--time-scale")),
    )
    .addOption(
      new Option("--id-hold-ms <ms>", "keep a departed client's id taken this long")
        .default(DEFAULT_ID_HOLD_MS)
        .argParser(int("--id-hold-ms", 0, 86_400_000)),
    )
    .addOption(
      new Option("--max-rate-violations <n>", "error-100 violations within 60 s before a disconnect")
        .default(DEFAULT_MAX_RATE_VIOLATIONS)
        .argParser(int("--max-rate-violations", 1, 1_000_000)),
    )
    .addOption(
      new Option("--pacing-profile <profile>", "IB's pacing rules: current or legacy")
        .choices([...PACING_PROFILES])
        .default(DEFAULT_PACING_PROFILE),
    )
    .addOption(new Option("--pacing-rules <file.json>", "override of the profile's pacing rules table"))
    .addOption(
      new Option(
        "--history-latency-ms <ms>",
        "historical-data answer latency in IB's time (scaled by --time-scale)",
      )
        .default(DEFAULT_HISTORY_LATENCY_MS)
        .argParser(int("--history-latency-ms", 0, 600_000)),
    )
    .addOption(
      new Option("--history-bar-cost-us <us>", "extra historical-data latency per bar answered, in µs")
        .default(0)
        .argParser(int("--history-bar-cost-us", 0, 1_000_000)),
    )
    .addOption(
      new Option(
        "--now <iso>",
        "the calendar starts at this instant, then runs (e.g. 2026-12-06T15:00:00Z: a Sunday)",
      ).argParser((v: string) => {
        if (parseInstant(v) === undefined)
          throw new CommanderArgError(
            `--now must be an ISO 8601 instant with a zone, like 2026-12-06T15:00:00Z, got "${v}"`,
          );
        return v;
      }),
    )
    .addOption(
      new Option(
        "--unmarked",
        "hide the signs Switchboard recognises a mock by (process title; needs a control port other than --port + 100), " +
          "so a daemon treats it as a real gateway: for tests of what only real gateways get, e.g. line identity",
      ),
    )
    .action(async (flags: Flags) => {
      if (flags.unmarked && flags.port !== 0 && flags.controlPort === flags.port + 100) {
        throw new CliExit(
          EXIT_USAGE,
          `--unmarked: the control port ${flags.controlPort} is --port + 100, where Switchboard looks for a mock's control API; give another --control-port (0 = any free)`,
        );
      }
      // Before anything else: the command line is how a daemon or the doctor recognise a mock.
      if (flags.unmarked) process.title = UNMARKED_TITLE;
      const accounts = flags.accounts
        .split(",")
        .map((a) => a.trim())
        .filter((a) => a.length > 0);
      let pacingRules: unknown;
      if (flags.pacingRules) {
        try {
          pacingRules = JSON.parse(await readFile(flags.pacingRules, "utf8"));
        } catch (err) {
          throw new CliExit(
            EXIT_USAGE,
            `--pacing-rules: cannot read ${flags.pacingRules}: ${(err as Error).message}`,
          );
        }
      }
      const [{ createLogger }, { MockGateway }] = await Promise.all([
        import("../../logger.js"),
        import("../../mock/gateway.js"),
      ]);
      const logger = createLogger({ name: "mock-gateway" });
      let gw: MockGateway;
      try {
        gw = new MockGateway({
          host: flags.host,
          port: flags.port,
          controlPort: flags.controlPort,
          accounts,
          maxClients: flags.maxClients,
          serverVersion: flags.serverVersion,
          seed: flags.seed,
          timeScale: flags.timeScale,
          idHoldMs: flags.idHoldMs,
          maxRateViolations: flags.maxRateViolations,
          pacingRules,
          pacingProfile: flags.pacingProfile,
          historyLatencyMs: flags.historyLatencyMs,
          historyBarCostUs: flags.historyBarCostUs,
          ...(flags.now === undefined ? {} : { now: flags.now }),
          logger,
        });
      } catch (err) {
        if (isSwitchboardError(err)) {
          const field =
            err.field === "pacingRules" || err.field?.startsWith("rules")
              ? "--pacing-rules"
              : `--${err.field}`;
          throw new CliExit(EXIT_USAGE, `${field}: ${err.message}`);
        }
        throw err;
      }
      let info: Awaited<ReturnType<MockGateway["start"]>>;
      try {
        info = await gw.start();
      } catch (err) {
        await gw.close().catch(() => {});
        throw new CliExit(EXIT_FAILURE, `mock-gateway: cannot listen: ${(err as Error).message}`);
      }
      logger.warn(
        { ...info, accounts, ...(flags.unmarked ? { unmarked: true } : {}) },
        flags.unmarked
          ? "UNMARKED mock IB Gateway serving: Switchboard will take it for a real gateway (tests only; no real orders, no real data)"
          : "mock IB Gateway serving (not a real gateway: no real orders, no real data)",
      );
      if (flags.now !== undefined)
        logger.warn({ now: new Date(gw.wall.now()).toISOString() }, "mock calendar pinned by --now");
      // Signal handlers first: a script may send SIGTERM the moment it reads READY.
      const stopped = onShutdown(() => gw.close());
      printReady({ port: info.port, controlPort: info.controlPort, serverVersion: info.serverVersion });
      setExit(await stopped);
    });
}
