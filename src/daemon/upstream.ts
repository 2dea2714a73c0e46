/**
 * Connectors for the three upstream forms of the config: a fixed host:port, the built-in
 * mock (a host:port known only once the mock listens) and `auto`, which probes the `autoPorts`
 * with a real handshake, paper first, and never settles on a Switchboard mock unless allowed.
 * `auto` keeps searching on every connect attempt (target "auto:searching") and never falls
 * back to the built-in mock by itself.
 *
 * Line identity: `auto` settles only on a gateway whose accounts are the line's (recorded or
 * pinned), and on a live one only when the config says `mode: live`. When the only gateways
 * answering have another identity, the attempt fails with IdentityMismatchError and the line
 * waits `disconnected` with reason identity_changed — never silently paper → live.
 */
import type { Clock } from "../clock.js";
import { detectMock } from "../doctor/checks.js";
import { PROBE_ID_RANGE } from "../doctor/options.js";
import { systemInspector } from "../doctor/owner.js";
import { probeEndpoint } from "../doctor/probe.js";
import { UpstreamUnavailableError } from "../errors.js";
import { type Connector, hostPortConnector } from "../line/connector.js";
import { type IdentityMismatch, IdentityMismatchError } from "../line/identity.js";
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
  /** The line's identity rule for a gateway `auto` found (none: any gateway that is not a mock). */
  identity?: { acceptForAuto(accounts: readonly string[]): IdentityMismatch | undefined };
}

export interface AutoConnector extends Connector {
  /** The port `auto` settled on, if any. */
  readonly found: number | undefined;
  /** The gateway settled on is a Switchboard mock (only with allowMock): it records no identity. */
  readonly foundMock: boolean;
}

/** What one search remembers across searches (so the log says each skip once) and reports. */
export interface SearchMemo {
  skippedMocks: Set<number>;
  /** Gateways already reported as another identity ("port accounts"). */
  skippedStrangers: Set<string>;
  /** The first gateway of another identity seen in the latest search. */
  stranger?: { mismatch: IdentityMismatch; port: number };
}

export function searchMemo(): SearchMemo {
  return { skippedMocks: new Set(), skippedStrangers: new Set() };
}

/**
 * One pass over `auto`'s ports: the first that completes a real handshake, is not a
 * Switchboard mock (unless allowed) and is of the line's identity (when it has one).
 */
export async function searchGateway(
  o: AutoConnectorOptions,
  signal: AbortSignal,
  memo: SearchMemo = searchMemo(),
): Promise<{ port: number; mock: boolean } | undefined> {
  const timeoutMs = o.probeTimeoutMs ?? DEFAULT_AUTO_PROBE_TIMEOUT_MS;
  delete memo.stranger;
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
    const ok = probe.attempts.find((x) => x.outcome.kind === "ok");
    if (!ok) continue;
    const inspection = await systemInspector()
      .inspect([port], new Set(probe.localPorts))
      .catch(() => undefined);
    const owner = inspection?.owners.get(port) ?? null;
    const mock = await detectMock(AUTO_HOST, owner, [port + MOCK_CONTROL_OFFSET], timeoutMs, o.clock);
    if (mock && !o.allowMock) {
      if (!memo.skippedMocks.has(port)) {
        memo.skippedMocks.add(port);
        o.logger.warn(
          { port, evidence: mock },
          "auto: skipping a Switchboard mock gateway (give --allow-mock to use it)",
        );
      }
      continue;
    }
    const mismatch = o.identity?.acceptForAuto(ok.accounts);
    if (mismatch) {
      memo.stranger ??= { mismatch, port };
      const key = `${port} ${ok.accounts.join(",")}`;
      if (!memo.skippedStrangers.has(key)) {
        memo.skippedStrangers.add(key);
        o.logger.warn(
          { port, accounts: ok.accounts },
          `auto: skipping ${AUTO_HOST}:${port}: ${mismatch.reason}`,
        );
      }
      continue;
    }
    return { port, mock: mock !== null };
  }
  return undefined;
}

export function autoConnector(o: AutoConnectorOptions): AutoConnector {
  let found: number | undefined;
  let foundMock = false;
  const memo = searchMemo();
  const search = (signal: AbortSignal) => searchGateway(o, signal, memo);

  return {
    get target() {
      return found === undefined ? "auto:searching" : `auto:${AUTO_HOST}:${found}`;
    },
    get found() {
      return found;
    },
    get foundMock() {
      return found !== undefined && foundMock;
    },
    rejected() {
      // The gateway on `found` now answers with another identity: search again next time.
      found = undefined;
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
      const hit = await search(signal);
      if (hit === undefined) {
        const stranger = memo.stranger;
        if (stranger) throw new IdentityMismatchError(stranger.mismatch, `${AUTO_HOST}:${stranger.port}`);
        throw new UpstreamUnavailableError(
          `auto: no TWS / IB Gateway answered on ports ${o.ports.join(", ")}`,
        );
      }
      found = hit.port;
      foundMock = hit.mock;
      o.logger.info({ port: hit.port, mock: hit.mock }, "auto: found a gateway");
      return tcpDialer.dial(AUTO_HOST, hit.port, signal);
    },
    async probe(signal) {
      const ports = found === undefined ? o.ports : [found];
      for (const port of ports) if (await tcpDialer.probe(AUTO_HOST, port, signal)) return true;
      return false;
    },
  };
}
