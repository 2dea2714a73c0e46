/**
 * `switchboard bench [name…]`: runs the benchmarks of a source checkout (bench/run.mjs) and
 * prints their JSON. An installed package ships no benchmarks: that is a usage error.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { CliExit, EXIT_USAGE } from "../exit-codes.js";
import type { SetExit } from "../main.js";

export function register(program: Command, setExit: SetExit): void {
  program
    .command("bench")
    .description("run the benchmarks (JSON on stdout, saved under bench/results/)")
    .argument("[names...]", "only benchmarks whose file name starts with one of these")
    .action(async (names: string[]) => {
      const runner = fileURLToPath(new URL("../../../bench/run.mjs", import.meta.url));
      if (!existsSync(runner))
        throw new CliExit(EXIT_USAGE, "switchboard bench: benchmarks ship with the source checkout only");
      const code = await new Promise<number>((resolve) => {
        const child = spawn(process.execPath, [runner, ...names], { stdio: "inherit" });
        child.on("exit", (c) => resolve(c ?? 1));
      });
      setExit(code);
    });
}
