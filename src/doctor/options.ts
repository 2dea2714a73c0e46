/** Doctor options: every default a named constant, resolved once. */
import { type Clock, systemClock } from "../clock.js";
import { InvalidArgumentError } from "../errors.js";
import { DEFAULT_PURPOSES } from "../registry/index.js";
import { PORT_CONVENTIONS } from "./facts.js";
import { type SystemInspector, systemInspector } from "./owner.js";
import type { LeaseHolder } from "./types.js";

export { PORT_CONVENTIONS };

export const DEFAULT_DOCTOR_HOST = "127.0.0.1";
/** Probed in this order when no --port is given. */
export const DEFAULT_DOCTOR_PORTS: readonly number[] = [7496, 7497, 4001, 4002];
/** Per step (connect, hello, start, time): a healthy local TWS answers each in milliseconds. */
export const DEFAULT_DOCTOR_TIMEOUT_MS = 2_000;
export const DEFAULT_DAEMON_URL = "http://127.0.0.1:4300";
/** IB stamps bars and order times with its clock; beyond this gap results look shifted. */
export const DEFAULT_CLOCK_SKEW_WARN_MS = 3_000;
/** The mock's control port sits 100 above its API port by default (4002 → 4102). */
export const MOCK_CONTROL_PORT_OFFSET = 100;
/** The registry's range for health checks and diagnostics. */
export const PROBE_ID_RANGE = DEFAULT_PURPOSES.checks ?? { min: 200, max: 299 };

export interface DoctorOptions {
  host?: string;
  /** Ports to check; default the four usual ones. Given ports make every silent one an error. */
  ports?: readonly number[];
  /** Extra or overriding port conventions, e.g. {5555: "paper"} for a container's mapped port. */
  expect?: Readonly<Record<number, "paper" | "live">>;
  timeoutMs?: number;
  /** A client id to test (e.g. your app's); 326 on it is an error naming who holds it. */
  clientId?: number | null;
  /** Where the daemon's /health is asked; null skips the check. */
  daemonUrl?: string | null;
  /** Current leases, as holders of client ids; default none (the CLI reads the file store). */
  leases?: () => Promise<LeaseHolder[]>;
  /** Candidate control ports of a Switchboard mock listening on `port`. */
  mockControlPorts?: (port: number) => number[];
  inspector?: SystemInspector;
  clock?: Clock;
  random?: () => number;
  clockSkewWarnMs?: number;
}

export interface ResolvedDoctorOptions {
  host: string;
  ports: number[];
  explicitPorts: boolean;
  expect: Readonly<Record<number, "paper" | "live">>;
  timeoutMs: number;
  clientId: number | null;
  daemonUrl: string | null;
  leases: () => Promise<LeaseHolder[]>;
  mockControlPorts: (port: number) => number[];
  inspector: SystemInspector;
  clock: Clock;
  random: () => number;
  clockSkewWarnMs: number;
}

export function resolveDoctorOptions(o: DoctorOptions = {}): ResolvedDoctorOptions {
  const ports = [...new Set(o.ports && o.ports.length > 0 ? o.ports : DEFAULT_DOCTOR_PORTS)];
  for (const p of ports) {
    if (!Number.isInteger(p) || p < 1 || p > 65_535) {
      throw new InvalidArgumentError("port", `port ${p} is not an integer in 1..65535`);
    }
  }
  const timeoutMs = o.timeoutMs ?? DEFAULT_DOCTOR_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 1 || timeoutMs > 600_000) {
    throw new InvalidArgumentError("timeout", `timeout ${timeoutMs} ms is not in 1..600000`);
  }
  const clientId = o.clientId ?? null;
  if (clientId !== null && (!Number.isInteger(clientId) || clientId < 0 || clientId > 2_147_483_647)) {
    throw new InvalidArgumentError("client-id", `client id ${clientId} is not an integer in 0..2147483647`);
  }
  return {
    host: o.host ?? DEFAULT_DOCTOR_HOST,
    ports,
    explicitPorts: o.ports !== undefined && o.ports.length > 0,
    expect: { ...PORT_CONVENTIONS, ...(o.expect ?? {}) },
    timeoutMs,
    clientId,
    daemonUrl: o.daemonUrl === undefined ? DEFAULT_DAEMON_URL : o.daemonUrl,
    leases: o.leases ?? (async () => []),
    mockControlPorts:
      o.mockControlPorts ??
      ((port) => (port + MOCK_CONTROL_PORT_OFFSET <= 65_535 ? [port + MOCK_CONTROL_PORT_OFFSET] : [])),
    inspector: o.inspector ?? systemInspector(),
    clock: o.clock ?? systemClock,
    // Only picks a probe id; nothing else depends on chance.
    random: o.random ?? Math.random,
    clockSkewWarnMs: o.clockSkewWarnMs ?? DEFAULT_CLOCK_SKEW_WARN_MS,
  };
}

/**
 * Probe ids: the requested id first (if any), then ids from the checks range that no lease
 * holds, in random order so two doctors at once rarely collide. At most two are used.
 */
export function probeClientIds(
  requested: number | null,
  leased: ReadonlySet<number>,
  random: () => number,
): number[] {
  const { min, max } = PROBE_ID_RANGE;
  const free: number[] = [];
  for (let id = min; id <= max; id++) if (!leased.has(id) && id !== requested) free.push(id);
  const picks: number[] = [];
  while (picks.length < 2 && free.length > 0) {
    const i = Math.min(free.length - 1, Math.floor(random() * free.length));
    picks.push(...free.splice(i, 1));
  }
  return requested === null ? picks : [requested, ...picks.slice(0, 1)];
}
