/**
 * A listener of the daemon could not bind because another process holds its port. The error
 * names the port, the config key (so the CLI can name the flag, key and env var) and, when the
 * machine lets us see it, the process that holds the port.
 */
import { SwitchboardError } from "../errors.js";

/** The config key of the port: a later line's proxy port is `lines.<n>.proxyPort`. */
export type PortKey = "httpPort" | "proxyPort" | "mockPort" | `lines.${number}.proxyPort`;

export class PortInUseError extends SwitchboardError {
  readonly key: PortKey;
  readonly host: string;
  readonly port: number;
  constructor(key: PortKey, host: string, port: number, cause: unknown) {
    super("invalid_argument", `port ${port} on ${host} is already in use`, { field: key, cause });
    this.key = key;
    this.host = host;
    this.port = port;
  }
}

/** Turns an EADDRINUSE from `listen` into a PortInUseError naming `key`; other errors pass. */
export async function listening<T>(key: PortKey, host: string, port: number, listen: Promise<T>): Promise<T> {
  try {
    return await listen;
  } catch (err) {
    if ((err as { code?: unknown }).code === "EADDRINUSE") throw new PortInUseError(key, host, port, err);
    throw err;
  }
}

/** The process listening on `port` on this machine, when it can be seen (Linux /proc, lsof). */
export async function portHolder(port: number): Promise<{ pid: number; command: string } | null> {
  try {
    const { systemInspector } = await import("../doctor/owner.js");
    const found = await systemInspector().inspect([port], new Set());
    return found.owners.get(port) ?? null;
  } catch {
    return null;
  }
}
