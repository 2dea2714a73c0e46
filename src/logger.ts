/**
 * Logging: pino to stderr (stdout is reserved for the READY line). Pretty when stderr is a
 * TTY, JSON otherwise; `format` forces one (`--log-format json|pretty`). Pretty printing runs
 * in this thread and writes synchronously, so nothing is lost when the process exits right
 * after a fatal line. Each part takes a child logger with its own bindings (`part`, `lineId`,
 * `tenantId`).
 */
import { createRequire } from "node:module";
import pino, { type DestinationStream, type Logger } from "pino";

export type { Logger } from "pino";

export const LOG_FORMATS = ["json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
  level?: string;
  /** Default: pretty when stderr is a TTY, else json. */
  format?: LogFormat;
  name?: string;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  const format = options.format ?? (process.stderr.isTTY === true ? "pretty" : "json");
  const pretty = format === "pretty" ? prettyStream() : undefined;
  return pino({ level, name: options.name }, pretty ?? pino.destination({ dest: 2, sync: true }));
}

/** A logger that drops everything: the library default, so embedding apps stay quiet. */
export const silentLogger: Logger = pino({ level: "silent" });

type PrettyFactory = (o: Record<string, unknown>) => DestinationStream;

function prettyStream(): DestinationStream | undefined {
  let build: PrettyFactory;
  try {
    // Loaded only when asked for: JSON logging never pays for it.
    const mod = createRequire(import.meta.url)("pino-pretty") as PrettyFactory | { default: PrettyFactory };
    build = typeof mod === "function" ? mod : mod.default;
  } catch {
    return undefined;
  }
  return build({
    destination: 2,
    sync: true,
    colorize: process.stderr.isTTY === true,
    translateTime: "SYS:HH:MM:ss.l",
    ignore: "pid,hostname",
  });
}
