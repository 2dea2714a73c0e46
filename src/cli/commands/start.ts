/**
 * `switchboard start`: the daemon. Flags come from the config table (src/config/schema.ts),
 * so file keys, env vars and flags can never drift apart. Prints the READY line on stdout,
 * logs to stderr, stops cleanly on SIGINT/SIGTERM (exit 0).
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { Command, Option } from "commander";
import { systemClock } from "../../clock.js";
import {
  CONFIG_KEY_NAMES,
  CONFIG_KEYS,
  ConfigError,
  NESTED_FLAGS,
  ENV_PREFIX,
  envSegment,
  type DaemonConfig,
  flagOf,
  loadConfig,
} from "../../config/index.js";
import type { PortInUseError } from "../../daemon/port-in-use.js";
import { isSwitchboardError } from "../../errors.js";
import { CliExit, EXIT_FAILURE, EXIT_USAGE } from "../exit-codes.js";
import type { SetExit } from "../main.js";
import { onFatal, onShutdown, printReady } from "../ready.js";

export const DEFAULT_CONFIG_FILE = "switchboard.yaml";

export function register(program: Command, setExit: SetExit, version: () => Promise<string>): void {
  const cmd = new Command("start").description(
    "run the daemon: lines, HTTP API, built-in mock when no upstream is set",
  );
  cmd.addOption(
    new Option(
      "--config <file>",
      `YAML config file (default ./${DEFAULT_CONFIG_FILE} when present; env SWITCHBOARD_CONFIG)`,
    ),
  );
  for (const key of CONFIG_KEY_NAMES) {
    const spec = CONFIG_KEYS[key];
    if (spec.arg === null) continue;
    const text = `${spec.description}${"default" in spec ? ` (default ${spec.default})` : ""}`;
    cmd.addOption(new Option(spec.arg === undefined ? flagOf(key) : `${flagOf(key)} ${spec.arg}`, text));
  }
  const nested = Object.entries(NESTED_FLAGS).map(([path, spec]) => {
    const flag = flagOf(
      path
        .split(".")
        .map((p, i) => (i === 0 ? p : p[0]!.toUpperCase() + p.slice(1)))
        .join(""),
    );
    const option = new Option(`${flag} ${spec.arg}`, spec.description);
    cmd.addOption(option);
    return { path, name: option.attributeName() };
  });
  cmd.action(async (_opts: Record<string, unknown>, self: Command) => {
    const flags: Record<string, unknown> = {};
    for (const key of CONFIG_KEY_NAMES) {
      if (self.getOptionValueSource(key) === "cli") flags[key] = self.getOptionValue(key);
    }
    for (const { path, name } of nested) {
      if (self.getOptionValueSource(name) === "cli") flags[path] = self.getOptionValue(name);
    }
    const config = await resolveConfig(self.getOptionValue("config") as string | undefined, flags);
    // The daemon's parts load only now: `--help` and a config error never pay for them.
    const [{ Daemon }, { createLogger }, { PortInUseError }] = await Promise.all([
      import("../../daemon/daemon.js"),
      import("../../logger.js"),
      import("../../daemon/port-in-use.js"),
    ]);
    const logger = createLogger({
      level: config.logLevel,
      name: "switchboard",
      ...(config.logFormat === undefined ? {} : { format: config.logFormat }),
    });
    const daemon = new Daemon(config, {
      clock: systemClock,
      logger,
      // The one place a real random source is named: backoff jitter and auto probe ids.
      random: Math.random,
      env: process.env,
      version: await version(),
      pid: process.pid,
      // A standby that became active serves now: a second READY line says so.
      onPromoted: (r) => printReady({ ...r }),
    });
    onFatal(logger, () => daemon.close());
    let ready: Awaited<ReturnType<typeof daemon.start>>;
    try {
      ready = await daemon.start();
    } catch (err) {
      if (err instanceof PortInUseError) throw new CliExit(EXIT_FAILURE, await portInUseText(err));
      // An HA group's Redis without persistence, or lines that differ from the group's: usage errors.
      if (isSwitchboardError(err) && err.code === "config" && config.ha !== undefined)
        throw new CliExit(EXIT_USAGE, `switchboard start: ${err.message}`);
      throw new CliExit(EXIT_FAILURE, `switchboard start: ${(err as Error).message}`);
    }
    // Signal handlers first: a script may send SIGTERM the moment it reads READY.
    const stopped = onShutdown(() => daemon.close());
    printReady({ ...ready });
    process.stderr.write(
      `Switchboard API ${ready.http}  ·  dashboard ${ready.http}/  ·  health ${ready.http}/health` +
        (ready.upstream === "mock"
          ? `  ·  upstream: BUILT-IN MOCK (port ${ready.mockPort})\n`
          : `  ·  upstream ${ready.upstream}\n`),
    );
    const code = await stopped;
    setExit(code);
    // Everything is closed; if a stray handle still holds the loop, do not hang past the deadline.
    setTimeout(() => process.exit(code), 500).unref();
  });
  program.addCommand(cmd);
}

async function resolveConfig(
  flagFile: string | undefined,
  flags: Record<string, unknown>,
): Promise<DaemonConfig> {
  const explicit = flagFile ?? process.env.SWITCHBOARD_CONFIG;
  const name = explicit ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  let file: { name: string; text: string } | undefined;
  if (name !== undefined) {
    try {
      file = { name, text: await readFile(name, "utf8") };
    } catch (err) {
      throw new CliExit(
        EXIT_USAGE,
        `switchboard start: --config ${name}: cannot read: ${(err as Error).message}`,
      );
    }
  }
  try {
    return loadConfig({ ...(file ? { file } : {}), env: process.env, flags });
  } catch (err) {
    if (err instanceof ConfigError || (isSwitchboardError(err) && err.code === "invalid_argument")) {
      throw new CliExit(EXIT_USAGE, `switchboard start: ${err.message}`);
    }
    throw err;
  }
}

/**
 * "port 4300 on 127.0.0.1 is already in use by pid 812 (node …): stop that process or choose
 * another port with --http-port <n> (config key httpPort, env SWITCHBOARD_HTTP_PORT)".
 */
async function portInUseText(err: PortInUseError): Promise<string> {
  const { portHolder } = await import("../../daemon/port-in-use.js");
  const holder = await portHolder(err.port);
  const who = holder
    ? ` by pid ${holder.pid}${holder.command ? ` (${holder.command})` : ""}`
    : " (by a process this user cannot see; try `ss -ltnp` or `lsof -i`)";
  const line = /^lines\.(\d+)\.proxyPort$/.exec(err.key);
  if (line) {
    // A later line's port has no flag: only its config key (and the nested env var) set it.
    return (
      `switchboard start: port ${err.port} on ${err.host} is already in use${who}: ` +
      `stop that process or choose another port with config key lines[${line[1]}].proxyPort ` +
      `(env ${ENV_PREFIX}LINES__${line[1]}__PROXY_PORT; 0 = any free port)`
    );
  }
  return (
    `switchboard start: port ${err.port} on ${err.host} is already in use${who}: ` +
    `stop that process or choose another port with ${flagOf(err.key)} <n> ` +
    `(config key ${err.key}, env ${ENV_PREFIX}${envSegment(err.key)}; 0 = any free port)`
  );
}
