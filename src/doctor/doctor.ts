/**
 * The doctor as a library function: gather facts (probes, sockets, processes, leases, the
 * daemon), analyse them into findings, and hand back a report. It only reads; every fix it
 * suggests is for the user to run.
 */

import { analyze } from "./analysis.js";
import { checkDaemon, detectMock } from "./checks.js";
import { leasesForEndpoint } from "./leases.js";
import {
  type DoctorOptions,
  probeClientIds,
  type ResolvedDoctorOptions,
  resolveDoctorOptions,
} from "./options.js";
import type { PortInspection } from "./owner.js";
import { probeEndpoint } from "./probe.js";
import { isLocalAddress } from "./proc-net.js";
import type { DaemonHealth, DoctorFacts, DoctorReport, LeaseHolder } from "./types.js";

export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const o = resolveDoctorOptions(options);
  const facts = await collectFacts(o);
  const findings = analyze(facts, { clockSkewWarnMs: o.clockSkewWarnMs });
  return { facts, findings, exitCode: findings.some((f) => f.level === "error") ? 1 : 0 };
}

export async function collectFacts(o: ResolvedDoctorOptions): Promise<DoctorFacts> {
  const leases: LeaseHolder[] = await o.leases().catch(() => []);
  const leased = new Set(leases.map((l) => l.clientId));
  const daemon: Promise<DaemonHealth> =
    o.daemonUrl === null
      ? Promise.resolve({ kind: "absent", url: "" })
      : checkDaemon(o.daemonUrl, o.timeoutMs, o.clock);

  const probes = await Promise.all(
    o.ports.map((port) =>
      probeEndpoint({
        host: o.host,
        port,
        timeoutMs: o.timeoutMs,
        clientIds: probeClientIds(o.clientId, leased, o.random),
        clock: o.clock,
      }),
    ),
  );
  // Sockets are read after the probes so the clients listed are the ones still connected.
  const ownPorts = new Set(probes.flatMap((p) => p.localPorts));
  const empty: PortInspection = { owners: new Map(), peers: new Map(), gateways: [] };
  // Sockets and processes of this machine say nothing about another host's listeners.
  const local = o.host === "localhost" || isLocalAddress(o.host);
  const inspection = local ? await o.inspector.inspect(o.ports, ownPorts).catch(() => empty) : empty;

  const endpoints = await Promise.all(
    probes.map(async (probe) => {
      const owner = inspection.owners.get(probe.port) ?? null;
      const listening = probe.connect.kind === "connected";
      const mock = listening
        ? await detectMock(
            o.host,
            owner,
            o.mockControlPorts(probe.port),
            Math.min(o.timeoutMs, 1_000),
            o.clock,
          )
        : null;
      return {
        probe,
        owner,
        peers: inspection.peers.get(probe.port) ?? [],
        mock,
        expected: o.expect[probe.port] ?? null,
        leases: leasesForEndpoint(leases, o.host, probe.port),
      };
    }),
  );
  return {
    host: o.host,
    explicitPorts: o.explicitPorts,
    endpoints,
    gatewayProcesses: inspection.gateways,
    daemon: await daemon,
    requestedClientId: o.clientId,
  };
}
