import type { Command } from "commander";
import { CliExit, EXIT_USAGE } from "../exit-codes.js";
import type { CommandModule } from "../main.js";

/** A command that exists in the contract but is not built yet: it exits 2 saying so. */
export function notAvailable(name: string, description: string): CommandModule {
  return {
    register(program: Command) {
      program
        .command(name)
        .description(`${description} (not available yet)`)
        .allowUnknownOption(true)
        .allowExcessArguments(true)
        .action(() => {
          throw new CliExit(EXIT_USAGE, `switchboard ${name}: not available yet`);
        });
    },
  };
}
