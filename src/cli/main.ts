/**
 * The `switchboard` command line. Each subcommand lives in commands/<name>.ts and registers
 * itself; this file only wires them and maps failures to exit codes.
 *
 * Start-up cost is the first thing a user meets (`--help`, `ids lease` in scripts), so only
 * the command that runs is loaded: the others appear in the help listing from the small table
 * below, and every command module loads its heavy parts (fastify, ioredis, the mock, the
 * doctor) inside its action. src/cli/lazy.test.ts checks that `--help`, `--version` and
 * `ids …` load none of them.
 */
import { Command, CommanderError } from "commander";
import { CliExit, EXIT_FAILURE, EXIT_USAGE } from "./exit-codes.js";

export type SetExit = (code: number) => void;

export interface CommandModule {
  register(program: Command, setExit: SetExit, version: () => Promise<string>): void;
}

interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<CommandModule>;
}

/** Every command, in help order. `summary` is what `switchboard --help` lists. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: "start",
    summary: "run the daemon: lines, HTTP API, proxy; the built-in mock when no upstream is set",
    load: () => import("./commands/start.js"),
  },
  {
    name: "mock-gateway",
    summary: "run the mock IB Gateway (real TWS wire protocol, IB's rules, faults on command)",
    load: () => import("./commands/mock-gateway.js"),
  },
  {
    name: "doctor",
    summary: "find TWS / IB Gateway listeners, probe them and explain what is wrong (reads only)",
    load: () => import("./commands/doctor.js"),
  },
  {
    name: "status",
    summary: "show the daemon's lines, tenants, leases and pacing",
    load: () => import("./commands/status.js"),
  },
  {
    name: "ids",
    summary: "client-id leases: list | lease <purpose> | release <clientId> | renew <clientId>",
    load: () => import("./commands/ids.js"),
  },
  {
    name: "lines",
    summary:
      "a line's order state: switch-client-id <line> (reports its live orders as orphaned) | forget <line> | rename <old> <new>",
    load: () => import("./commands/lines.js"),
  },
  {
    name: "history",
    summary: "backfill historical bars into a Parquet (or CSV) dataset, resumable, with progress",
    load: () => import("./commands/history.js"),
  },
  {
    name: "bench",
    summary: "run the benchmarks (JSON on stdout, saved under bench/results/)",
    load: () => import("./commands/bench.js"),
  },
];

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command("switchboard")
    .description("One managed line to IB TWS / Gateway for every app: ids, pacing, reconnects, proxy, mock.")
    .version(await packageVersion())
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });

  let exitCode = 0;
  const setExit = (code: number) => {
    exitCode = code;
  };
  const chosen = chosenCommand(argv);
  for (const entry of COMMANDS) {
    if (entry.name === chosen) (await entry.load()).register(program, setExit, packageVersion);
    else program.command(entry.name).description(entry.summary);
  }
  // Commands built with `new Command()` and added do not inherit these settings: without
  // them a usage error inside a subcommand would call process.exit(1) instead of exiting 2.
  for (const cmd of descendants(program)) {
    cmd.exitOverride().configureOutput({
      writeErr: (s) => process.stderr.write(s),
      writeOut: (s) => process.stdout.write(s),
    });
  }

  if (chosen === undefined && !argv.slice(2).some((a) => /^(-h|--help|-V|--version)$/.test(a))) {
    // `switchboard` alone: say what there is, as a usage error (scripts see exit 2).
    program.outputHelp({ error: true });
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync(argv as string[]);
  } catch (err) {
    if (err instanceof CliExit) {
      if (err.message) process.stderr.write(`${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return 0;
      if (err.code === "commander.help") return 0;
      // `switchboard` alone prints the help and asks for a command: a usage error.
      return EXIT_USAGE;
    }
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT_FAILURE;
  }
  return exitCode;
}

/** The command the user named: the first word that is not an option (`help <cmd>` too). */
export function chosenCommand(argv: readonly string[]): string | undefined {
  const words = argv.slice(2).filter((a) => !a.startsWith("-"));
  return words[0] === "help" ? words[1] : words[0];
}

function* descendants(cmd: Command): Generator<Command> {
  for (const sub of cmd.commands) {
    yield sub;
    yield* descendants(sub);
  }
}

async function packageVersion(): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const url = new URL("../../package.json", import.meta.url);
  try {
    return (JSON.parse(await readFile(url, "utf8")) as { version: string }).version;
  } catch {
    return "0.0.0";
  }
}
