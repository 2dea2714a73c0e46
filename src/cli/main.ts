/**
 * The `switchboard` command line. Each subcommand lives in commands/<name>.ts and registers
 * itself; this file only wires them and maps failures to exit codes.
 */
import { Command, CommanderError } from "commander";
import { registerBench } from "./commands/bench.js";
import { registerDoctor } from "./commands/doctor.js";
import { registerHistory } from "./commands/history.js";
import { registerIds } from "./commands/ids.js";
import { registerMockGateway } from "./commands/mock-gateway.js";
import { registerStart } from "./commands/start.js";
import { registerStatus } from "./commands/status.js";
import { CliExit, EXIT_FAILURE, EXIT_USAGE } from "./exit-codes.js";

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
  await registerCommands(program, setExit);

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
      return EXIT_USAGE;
    }
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT_FAILURE;
  }
  return exitCode;
}

export type SetExit = (code: number) => void;

async function registerCommands(program: Command, setExit: SetExit): Promise<void> {
  void setExit;
  registerStart(program, setExit, packageVersion);
  registerMockGateway(program, setExit);
  registerDoctor(program, setExit);
  registerStatus(program, setExit);
  registerIds(program);
  registerHistory(program, setExit);
  registerBench(program, setExit);
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
