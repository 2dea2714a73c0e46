import type { Command } from "commander";
import { CliExit, EXIT_USAGE } from "../exit-codes.js";

/** Registers a command that exists in the contract but is not built yet. */
export function registerNotAvailable(program: Command, name: string, description: string): void {
  program
    .command(name)
    .description(`${description} (not available yet)`)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .action(() => {
      throw new CliExit(EXIT_USAGE, `switchboard ${name}: not available yet`);
    });
}
