/**
 * `switchboard lines switch-client-id <line>`: move a running daemon's line to another client
 * id now. TWS keeps the orders placed under the old id there, so they are reported as
 * `orders.orphaned`; a line never does this by itself while it holds live orders.
 * `lines forget` (lines-forget.ts) and `lines rename` (lines-rename.ts) work on a stopped
 * line's journal.
 */
import type { Command } from "commander";
import { CliExit, EXIT_FAILURE } from "../exit-codes.js";
import { registerForget } from "./lines-forget.js";
import { registerRename } from "./lines-rename.js";
import { DEFAULT_STATUS_URL } from "./status.js";

const TIMEOUT_MS = 5_000;

interface Flags {
  url?: string;
  token?: string;
  json?: boolean;
}

export function register(program: Command): void {
  registerLines(program);
}

export function registerLines(program: Command): void {
  const lines = program
    .command("lines")
    .description(
      "lines: switch-client-id <line> (a running daemon), forget <line> (a stopped one's identity), rename <old> <new> (a stopped one's journal)",
    );
  registerForget(lines);
  registerRename(lines);
  lines
    .command("switch-client-id")
    .argument("<line>", "the line's name (default: default)")
    .description("move the line to another client id now; its live orders are reported as orphaned")
    .option("--url <url>", `daemon URL (env SWITCHBOARD_URL, default ${DEFAULT_STATUS_URL})`)
    .option("--token <token>", "API token (env SWITCHBOARD_TOKEN)")
    .option("--json", "print JSON")
    .action(async (line: string, flags: Flags) => {
      const base = (flags.url ?? process.env.SWITCHBOARD_URL ?? DEFAULT_STATUS_URL).replace(/\/+$/, "");
      const token = flags.token ?? process.env.SWITCHBOARD_TOKEN;
      let res: Response;
      try {
        res = await fetch(`${base}/api/lines/${encodeURIComponent(line)}/switch-client-id`, {
          method: "POST",
          headers: { accept: "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
      } catch (err) {
        throw new CliExit(EXIT_FAILURE, `switchboard lines: cannot reach ${base}: ${(err as Error).message}`);
      }
      const body = (await res.json().catch(() => ({}))) as {
        success?: boolean;
        data?: { line: string; clientId: number; permIds: number[] };
        error?: { message?: string };
      };
      if (!res.ok || !body.success || !body.data) {
        throw new CliExit(EXIT_FAILURE, `switchboard lines: ${body.error?.message ?? `HTTP ${res.status}`}`);
      }
      const d = body.data;
      if (flags.json) process.stdout.write(`${JSON.stringify(body)}\n`);
      else
        process.stdout.write(
          `line ${d.line} left client id ${d.clientId}; orphaned orders (permIds): ${d.permIds.join(", ") || "none"}\n`,
        );
    });
}
