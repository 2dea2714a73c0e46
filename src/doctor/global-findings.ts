/**
 * Findings about the machine as a whole rather than one port: several gateways (which is
 * which, the same login twice, leftover instances) and the Switchboard daemon's health. Pure.
 */
import { describeProcess, isPaper, lastAttempt } from "./facts.js";
import type { DaemonHealth, DaemonLine, DoctorFacts, EndpointFacts, Finding } from "./types.js";

export function gatewayFindings(facts: DoctorFacts): Finding[] {
  const out: Finding[] = [];
  const ready = facts.endpoints.filter((e) => lastAttempt(e.probe)?.outcome.kind === "ok");
  if (ready.length >= 2) {
    const label = (e: EndpointFacts) => {
      const a = lastAttempt(e.probe);
      const accounts = a?.accounts ?? [];
      const kind = e.mock ? "Switchboard mock" : e.owner ? describeProcess(e.owner) : "owner unknown";
      return `${e.probe.port}: ${isPaper(accounts) ? "paper" : "live"} ${accounts.join(",")} (${kind})`;
    };
    const seen = new Map<string, number>();
    const shared = new Set<string>();
    for (const e of ready) {
      for (const acct of lastAttempt(e.probe)?.accounts ?? []) {
        if (seen.has(acct) && seen.get(acct) !== e.probe.port) shared.add(acct);
        seen.set(acct, e.probe.port);
      }
    }
    out.push({
      level: shared.size > 0 ? "warn" : "ok",
      code: "multiple-gateways",
      message: `${ready.length} gateways answer — ${ready.map(label).join("; ")}.${shared.size ? ` Account ${[...shared].join(", ")} is served by more than one: the same IB user logged in twice, and each login can knock the other out.` : " Make sure each app uses the port of the mode it means."}`,
      ...(shared.size ? { fix: "Keep one TWS / Gateway per IB user; log out or stop the others." } : {}),
    });
  }
  const probed = new Set(
    facts.endpoints.filter((e) => e.probe.connect.kind === "connected").map((e) => e.probe.port),
  );
  const idle = facts.gatewayProcesses.filter((p) => !p.listenPorts.some((port) => probed.has(port)));
  if (facts.gatewayProcesses.length >= 2 && idle.length > 0) {
    out.push({
      level: "warn",
      code: "multiple-gateways",
      message: `${facts.gatewayProcesses.length} TWS / IB Gateway processes run; ${idle.map((p) => `${describeProcess(p)} listens on ${p.listenPorts.length ? p.listenPorts.join(", ") : "no API port"}`).join("; ")}. Leftover instances hold logins and confuse which port is which.`,
      fix: `Keep one instance per IB user and port; stop the extra ones (e.g. kill ${idle.map((p) => p.pid).join(" ")} — check the command lines first).`,
    });
  }
  return out;
}

export function daemonFindings(facts: DoctorFacts): Finding[] {
  const d = facts.daemon;
  if (d.kind === "absent") return [];
  return [
    ...healthFindings(d),
    ...(d.kind === "error" ? [] : d.lines.flatMap((l) => identityFindings(d.url, l))),
  ];
}

/**
 * A line's identity: which accounts it holds to, and whether it refuses the gateway it
 * found (reason identity_changed) — the one situation a restart of the wrong kind of gateway
 * leaves behind, with what to do about it.
 */
function identityFindings(url: string, l: DaemonLine): Finding[] {
  if (l.reason.startsWith("identity_changed")) {
    return [
      {
        level: "error",
        code: "line-identity",
        message: `Line ${l.name} of the daemon at ${url} refuses the gateway it reaches: ${l.reason}. It waits for its own accounts and places nothing elsewhere.`,
        fix:
          `Bring back the gateway of the expected accounts. If the change is meant: stop the daemon, run ` +
          `switchboard lines forget ${l.name} (refused while orders are live) and check lines[].mode / lines[].accounts in the config.`,
      },
    ];
  }
  const id = l.identity;
  if (!id || id.mode === null || id.mode === "mock") return [];
  return [
    {
      level: "ok",
      code: "line-identity",
      message: `Line ${l.name} holds to ${id.mode.toUpperCase()} ${id.accounts.join(",") || "(accounts not recorded yet)"}${l.upstream ? ` (upstream ${l.upstream})` : ""}.`,
    },
  ];
}

function healthFindings(d: Exclude<DaemonHealth, { kind: "absent" }>): Finding[] {
  if (d.kind === "healthy") {
    return [
      {
        // A healthy daemon is not "unhealthy" at any level: on its built-in mock it is a mock
        // finding (a warning: no IB behind it), else a plain ok.
        level: d.upstream === "mock" ? "warn" : "ok",
        code: d.upstream === "mock" ? "mock-gateway" : "daemon-healthy",
        message: `The Switchboard daemon at ${d.url} is healthy${d.upstream ? ` (upstream ${d.upstream})` : ""}.${d.upstream === "mock" ? " It runs its built-in mock gateway, not IB." : ""}`,
        ...(d.upstream === "mock"
          ? { fix: "Start it with --upstream <host:port> or --upstream auto for real data." }
          : {}),
      },
    ];
  }
  if (d.kind === "unhealthy") {
    return [
      {
        level: /degraded/.test(d.detail) ? "warn" : "error",
        code: "daemon-unhealthy",
        message: `The Switchboard daemon at ${d.url} is not healthy: ${d.detail}.`,
        fix: `See why with: switchboard status --url ${d.url} (and its log on stderr).`,
      },
    ];
  }
  return [
    {
      level: "error",
      code: "daemon-unhealthy",
      message: `The Switchboard daemon at ${d.url} ${d.detail}: its event loop may be blocked, or another program holds the port.`,
      fix: "Look at the daemon's log; restart it if it stays silent.",
    },
  ];
}
