/**
 * `switchboard lines forget <line>`: clear the identity (accounts, paper|live) a line recorded
 * in its journal, so its next first ready records a new one. Works on the journal itself, so
 * the daemon that holds the line must be stopped (the journal's lock says who holds it).
 * Refused while the journal holds live orders: they belong to the recorded accounts, and a
 * line that forgot them could come back on other accounts while TWS still works them.
 */
import { existsSync } from "node:fs";
import type { Command } from "commander";
import type { FileOrderJournal as FileOrderJournalType } from "../../orders/journal.js";
import { CliExit, EXIT_FAILURE } from "../exit-codes.js";

interface Flags {
  stateDir?: string;
  json?: boolean;
}

export function registerForget(lines: Command): void {
  lines
    .command("forget")
    .argument("<line>", "the line's name (default: default)")
    .description("clear the line's recorded identity (paper/live, accounts); the daemon must be stopped")
    .option(
      "--state-dir <dir>",
      "state dir of the journals (env SWITCHBOARD_STATE_DIR, default $XDG_STATE_HOME/switchboard)",
    )
    .option("--json", "print JSON")
    .action(async (line: string, flags: Flags) => {
      const [{ FileOrderJournal, describeOrders }, { defaultStateDir }, { describeIdentity }] =
        await Promise.all([
          import("../../orders/journal.js"),
          import("../../registry/state-dir.js"),
          import("../../line/identity.js"),
        ]);
      const stateDir = flags.stateDir ?? process.env.SWITCHBOARD_STATE_DIR ?? defaultStateDir(process.env);
      const say = (data: { line: string; forgot: string | null }, text: string) =>
        process.stdout.write(flags.json ? `${JSON.stringify({ success: true, data })}\n` : `${text}\n`);
      if (!existsSync(FileOrderJournal.journalPath(stateDir, line))) {
        say({ line, forgot: null }, `line ${line}: no journal in ${stateDir}, no identity recorded`);
        return;
      }
      let journal: FileOrderJournalType;
      try {
        journal = FileOrderJournal.open({ stateDir, line });
      } catch (err) {
        throw new CliExit(
          EXIT_FAILURE,
          `switchboard lines forget: ${(err as Error).message} (stop the daemon that holds line ${line} first)`,
        );
      }
      try {
        const identity = journal.identity();
        const live = journal.load().orders.filter((o) => o.state !== "finished" && o.state !== "refused");
        if (live.length > 0) {
          throw new CliExit(
            EXIT_FAILURE,
            `switchboard lines forget: line ${line} holds ${live.length} live order(s)` +
              `${identity ? ` under ${describeIdentity(identity)}` : ""}: ${describeOrders(live)}; ` +
              "refused: let the line reconcile them with that gateway (or cancel them there) first",
          );
        }
        if (!identity) {
          say({ line, forgot: null }, `line ${line}: no identity recorded`);
          return;
        }
        journal.forgetIdentity();
        say(
          { line, forgot: describeIdentity(identity) },
          `line ${line} forgot its identity ${describeIdentity(identity)}; its next first ready records a new one`,
        );
      } finally {
        journal.close();
      }
    });
}
