/**
 * Connectors for the three upstream forms of the config: a fixed host:port, the built-in
 * mock (a host:port known only once the mock listens) and `auto`, which probes IB's usual
 * ports with a real handshake, paper first, and never settles on a Switchboard mock unless
 * allowed. `auto` keeps searching on every connect attempt (target "auto:searching") and never
 * falls back to the built-in mock by itself.
 */
import type { Clock } from "../clock.js";
import { detectMock } from "../doctor/checks.js";
import { PROBE_ID_RANGE } from "../doctor/options.js";
import { systemInspector } from "../doctor/owner.js";
import { probeEndpoint } from "../doctor/probe.js";
import { UpstreamUnavailableError } from "../errors.js";
import { type Connector, hostPortConnector } from "../line/connector.js";
import { tcpDialer } from "../line/tcp-transport.js";
import type { Logger } from "../logger.js";

export const AUTO_HOST = "127.0.0.1";
/** Per handshake stage of one auto probe; a live TWS answers in milliseconds. */
export const DEFAULT_AUTO_PROBE_TIMEOUT_MS = 1_500;
/** The mock's control API sits 100 above its API port by convention (4002 → 4102). */
const MOCK_CONTROL_OFFSET = 100;

export function mockConnector(port: () => number): Connector {
  return {
    target: "mock",
    open: (signal) => tcpDialer.dial("127.0.0.1", port(), signal),
    probe: (signal) => tcpDialer.probe("127.0.0.1", port(), signal),
  };
}

export { hostPortConnector };

export interface AutoConnectorOptions {
  ports: readonly number[];
  allowMock: boolean;
  clock: Clock;
  random: () => number;
  logger: Logger;
  probeTimeoutMs?: number;
}

export interface AutoConnector extends Connector {
  /** The port `auto` settled on, if any. */
  readonly found: number | undefined;
}

/**
 * One pass over `auto`'s ports: the first that completes a real handshake (and is not a
 * Switchboard mock, unless allowed). `skippedMocks` keeps the log to one line per mock.
 */
export async function searchGateway(
  o: AutoConnectorOptions,
  signal: AbortSignal,
  skippedMocks: Set<number> = new Set(),
): Promise<number | undefined> {
  const timeoutMs = o.probeTimeoutMs ?? DEFAULT_AUTO_PROBE_TIMEOUT_MS;
  for (const port of o.ports) {
    if (signal.aborted) return undefined;
    const span = PROBE_ID_RANGE.max - PROBE_ID_RANGE.min + 1;
    const first = PROBE_ID_RANGE.min + Math.floor(o.random() * span);
    const probe = await probeEndpoint({
      host: AUTO_HOST,
      port,
      timeoutMs,
      clientIds: [first, PROBE_ID_RANGE.min + ((first - PROBE_ID_RANGE.min + 1) % span)],
      clock: o.clock,
    });
    if (!probe.attempts.some((a) => a.outcome.kind === "ok")) continue;
    if (!o.allowMock) {
      const inspection = await systemInspector()
        .inspect([port], new Set(probe.localPorts))
        .catch(() => undefined);
      const owner = inspection?.owners.get(port) ?? null;
      const mock = await detectMock(AUTO_HOST, owner, [port + MOCK_CONTROL_OFFSET], timeoutMs, o.clock);
      if (mock) {
        if (!skippedMocks.has(port)) {
          skippedMocks.add(port);
          o.logger.warn(
            { port, evidence: mock },
            "auto: skipping a Switchboard mock gateway (give --allow-mock to use it)",
          );
        }
        continue;
      }
    }
    return port;
  }
  return undefined;
}

export function autoConnector(o: AutoConnectorOptions): AutoConnector {
  let found: number | undefined;
  /** Ports already reported as a skipped mock, so the log says it once. */
  const skippedMocks = new Set<number>();
  const search = (signal: AbortSignal) => searchGateway(o, signal, skippedMocks);

  return {
    get target() {
      return found === undefined ? "auto:searching" : `auto:${AUTO_HOST}:${found}`;
    },
    get found() {
      return found;
    },
    async open(signal) {
      if (found !== undefined) {
        try {
          return await tcpDialer.dial(AUTO_HOST, found, signal);
        } catch (err) {
          // The gateway we had went away: search again from the first port.
          o.logger.warn({ port: found, err }, "auto: upstream gone, searching again");
          found = undefined;
          throw err;
        }
      }
      const port = await search(signal);
      if (port === undefined) {
        throw new UpstreamUnavailableError(
          `auto: no TWS / IB Gateway answered on ports ${o.ports.join(", ")}`,
        );
      }
      found = port;
      o.logger.info({ port }, "auto: found a gateway");
      return tcpDialer.dial(AUTO_HOST, port, signal);
    },
    async probe(signal) {
      const ports = found === undefined ? o.ports : [found];
      for (const port of ports) if (await tcpDialer.probe(AUTO_HOST, port, signal)) return true;
      return false;
    },
  };
}
