/**
 * Logging: pino to stderr (stdout is reserved for the READY line). JSON when stderr is not
 * a TTY, pretty when it is and pino-pretty is installed. Each part takes a child logger with
 * its own bindings (`part`, `lineId`, `tenantId`).
 */
import { createRequire } from "node:module";
import pino, { type Logger } from "pino";

export type { Logger } from "pino";

export interface LoggerOptions {
  level?: string;
  pretty?: boolean;
  name?: string;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  const pretty = options.pretty ?? process.stderr.isTTY === true;
  if (pretty && hasPrettyTransport()) {
    return pino({
      level,
      name: options.name,
      transport: { target: "pino-pretty", options: { destination: 2, colorize: true } },
    });
  }
  return pino({ level, name: options.name }, pino.destination({ dest: 2, sync: true }));
}

/** A logger that drops everything: the library default, so embedding apps stay quiet. */
export const silentLogger: Logger = pino({ level: "silent" });

function hasPrettyTransport(): boolean {
  try {
    createRequire(import.meta.url).resolve("pino-pretty");
    return true;
  } catch {
    return false;
  }
}
