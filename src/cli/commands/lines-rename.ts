/**
 * `switchboard lines rename <old> <new>`: a line renamed in the config keeps its orders — its
 * order journal and audit trail move to the new name. Works on the journal itself (its lock
 * refuses while a daemon holds it); refused if the new name has a journal or audit already.
 */
import type { Command } from "commander";
import { isSwitchboardError } from "../../errors.js";
import { CliExit, EXIT_FAILURE } from "../exit-codes.js";

interface Flags {
  stateDir?: string;
  json?: boolean;
}

export function registerRename(lines: Command): void {
  lines
    .command("rename")
    .argument("<old>", "the line's old name")
    .argument("<new>", "its new name (as in the config now)")
    .description("move a line's order journal and audit trail to its new name; the daemon must be stopped")
    .option(
      "--state-dir <dir>",
      "state dir of the journals (env SWITCHBOARD_STATE_DIR, default $XDG_STATE_HOME/switchboard)",
    )
    .option("--json", "print JSON")
    .action(async (from: string, to: string, flags: Flags) => {
      const [{ FileOrderJournal }, { defaultStateDir }] = await Promise.all([
        import("../../orders/journal.js"),
        import("../../registry/state-dir.js"),
      ]);
      const stateDir = flags.stateDir ?? process.env.SWITCHBOARD_STATE_DIR ?? defaultStateDir(process.env);
      try {
        FileOrderJournal.rename(stateDir, from, to);
      } catch (err) {
        if (isSwitchboardError(err))
          throw new CliExit(EXIT_FAILURE, `switchboard lines rename: ${err.message}`);
        throw err;
      }
      process.stdout.write(
        flags.json
          ? `${JSON.stringify({ success: true, data: { from, to } })}\n`
          : `line ${from}: order journal and audit trail are now line ${to}'s\n`,
      );
    });
}
