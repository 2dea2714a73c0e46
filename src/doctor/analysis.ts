/**
 * Facts → findings. Pure: no I/O, no clock. Each finding says what was seen, what it means
 * and (for warn/error) what to do. The texts answer the questions of a day spent guessing:
 * is anything listening, which port is paper and which is live, who holds my client id,
 * why does the connect "succeed" and then time out.
 */
import { MIN_SERVER_VERSION } from "../protocol/index.js";
import { clockSkewMs, describeProcess, farmStates, lastAttempt, modeOf, PORT_CONVENTIONS } from "./facts.js";
import { daemonFindings, gatewayFindings } from "./global-findings.js";
import type { DoctorFacts, EndpointFacts, Finding, HandshakeAttempt } from "./types.js";

export interface AnalysisOptions {
  clockSkewWarnMs: number;
}

const API_SETTINGS =
  "TWS: Edit → Global Configuration → API → Settings (Gateway: Configure → Settings → API → Settings)";
const ONE_OF_32 =
  "TWS and IB Gateway accept up to 32 API clients at once, each with its own client id; one client never locks the others out.";

export function analyze(facts: DoctorFacts, options: AnalysisOptions): Finding[] {
  const findings: Finding[] = [];
  const listening = facts.endpoints.filter((e) => e.probe.connect.kind === "connected");
  if (!facts.explicitPorts && listening.length === 0) findings.push(nothingAnywhere(facts));
  for (const e of facts.endpoints) findings.push(...endpointFindings(e, facts, options));
  findings.push(...gatewayFindings(facts));
  findings.push(...daemonFindings(facts));
  return findings;
}

function nothingAnywhere(facts: DoctorFacts): Finding {
  const ports = facts.endpoints.map((e) => e.probe.port).join(", ");
  const procs = facts.gatewayProcesses;
  const seen = procs.length
    ? ` ${procs.map((p) => `${p.kind === "tws" ? "TWS" : "IB Gateway"} ${describeProcess(p)} runs but listens ${p.listenPorts.length ? `only on ${p.listenPorts.join(", ")}` : "on no TCP port"}`).join("; ")}.`
    : " No TWS or IB Gateway process was found either.";
  return {
    level: "error",
    code: "no-listener",
    message: `Nothing listens on ${facts.host} ports ${ports}.${seen} Clients report this as error 502 "Couldn't connect to TWS".`,
    fix: procs.length
      ? `A Gateway that runs without listening is at its login or a dialog, or its socket port is another one: finish the login, and compare the socket port in ${API_SETTINGS} with the port your app uses (switchboard doctor --port <n>).`
      : `Start TWS or IB Gateway and log in; make sure "Enable ActiveX and Socket Clients" is on in ${API_SETTINGS}; then run switchboard doctor again.`,
  };
}

function endpointFindings(e: EndpointFacts, facts: DoctorFacts, o: AnalysisOptions): Finding[] {
  const { port } = e.probe;
  const where = `${e.probe.host}:${port}`;
  const c = e.probe.connect;
  const owner = e.owner ? ` (listener: ${describeProcess(e.owner)})` : "";
  if (c.kind === "refused") {
    if (!facts.explicitPorts) return [];
    return [
      {
        level: "error",
        code: "no-listener",
        port,
        message: `Nothing listens on ${where} (connection refused in ${c.ms} ms); clients report error 502 "Couldn't connect to TWS".`,
        fix: `Start TWS / IB Gateway, or set its socket port to ${port} in ${API_SETTINGS}; if your app should use another port, point it there.`,
      },
    ];
  }
  if (c.kind === "timeout" || (c.kind === "error" && /UNREACH|ETIMEDOUT/.test(c.errno))) {
    return [
      {
        level: "error",
        code: "connect-timeout",
        port,
        message: `No answer to a TCP connect to ${where} in ${c.ms} ms${c.kind === "error" ? ` (${c.errno})` : ""}: packets are dropped on the way (firewall, wrong host, a container port not published), not refused.`,
        fix: `Check the host name and that ${port} is reachable from here (a Docker gateway needs -p ${port}:${port}); on the TWS machine the socket port must be ${port}.`,
      },
    ];
  }
  if (c.kind === "error") {
    return [
      {
        level: "error",
        code: "refused",
        port,
        message: `Connecting to ${where} failed with ${c.errno}: ${c.message}`,
        fix: "Check the --host value and the machine's network settings.",
      },
    ];
  }
  const out: Finding[] = [];
  out.push(...idFindings(e, facts));
  const a = lastAttempt(e.probe);
  if (a) out.push(...handshakeFindings(e, a, owner, o));
  if (e.mock) {
    out.push({
      level: "warn",
      code: "mock-gateway",
      port,
      message: `${where} is Switchboard's mock gateway (recognised by its ${e.mock === "command-line" ? "command line" : "control API"}), not IB: prices are synthetic and orders go nowhere.`,
      fix: "Fine for tests; for real data point your app at TWS / IB Gateway instead.",
    });
  }
  return out;
}

function handshakeFindings(
  e: EndpointFacts,
  a: HandshakeAttempt,
  owner: string,
  o: AnalysisOptions,
): Finding[] {
  const { port } = e.probe;
  const where = `${e.probe.host}:${port}`;
  const oc = a.outcome;
  const connectMs = e.probe.connect.ms;
  if (oc.kind === "not-tws") {
    return [
      {
        level: "error",
        code: "not-tws",
        port,
        message: `Something listens on ${where}${owner} but does not speak the TWS API (${oc.detail}).`,
        fix: `This is not TWS or IB Gateway: point your app at TWS's socket port (see ${API_SETTINGS}), or move the other program off port ${port}.`,
      },
    ];
  }
  if (oc.kind === "closed") {
    return [
      {
        level: "error",
        code: "refused",
        port,
        message:
          oc.stage === "hello"
            ? `${where}${owner} accepted the TCP connection and closed it without answering the API hello. TWS does this when the client's address is not allowed ("Allow connections from localhost only", Trusted IPs) or when it already serves 32 API clients.`
            : `${where}${owner} answered the hello (server version ${a.serverVersion}) but closed the connection after START_API with client id ${a.clientId}, without an error message.`,
        fix:
          oc.stage === "hello"
            ? `Add this machine's address to Trusted IPs in ${API_SETTINGS}, and close API clients you no longer need.`
            : "Try another client id (switchboard doctor --client-id <n>); if every id is closed, restart TWS / IB Gateway.",
      },
    ];
  }
  if (oc.kind === "stalled") {
    const msg =
      oc.stage === "hello"
        ? `${where}${owner} accepted the TCP connection in ${connectMs} ms but did not answer the API hello within the timeout. TWS waits like this while its "Accept incoming connection?" dialog is open (address not in Trusted IPs), while IB Gateway is still logging in or shows a dialog (2FA, "existing session"), or when it is frozen.`
        : `${where}${owner} answered the hello (server version ${a.serverVersion}; ib_async / ib_insync log "Logged on to server version ${a.serverVersion}" here) but sent neither the next order id nor the account list after START_API with client id ${a.clientId}: this is the "connected, then TimeoutError" symptom. Usual causes: a dialog open in TWS / Gateway, the same IB user logged in elsewhere (one session per user), or TWS busy or frozen. ${ONE_OF_32}`;
    return [
      {
        level: "error",
        code: "handshake-stalled",
        port,
        message: msg,
        fix: `Look at the TWS / Gateway window for a dialog and answer it; make sure no other session of the same IB user is logged in; if it stays stuck, restart it${e.owner ? ` (its process: kill ${e.owner.pid})` : ""}.`,
      },
    ];
  }
  if (oc.kind !== "ok") return [];
  const out: Finding[] = [];
  const v = a.serverVersion ?? 0;
  if (v < MIN_SERVER_VERSION) {
    out.push({
      level: "error",
      code: "server-version-old",
      port,
      message: `${where} speaks API server version ${v}; Switchboard and ib_async need ${MIN_SERVER_VERSION} or newer.`,
      fix: "Update TWS / IB Gateway to a current stable or latest release.",
    });
  }
  const mode = modeOf(a.accounts);
  const origin = port in PORT_CONVENTIONS ? "the usual use of this port" : "--expect";
  if (e.expected && mode !== e.expected) {
    const live = mode === "live";
    out.push({
      level: live ? "error" : "warn",
      code: "paper-live-mismatch",
      port,
      message: live
        ? `${where} is expected to be paper (${origin}) but serves LIVE account(s) ${a.accounts.join(", ")}: orders sent here trade real money.`
        : `${where} is expected to be live (${origin}) but serves paper account(s) ${a.accounts.join(", ")}: orders sent here are simulated.`,
      fix: live
        ? `If you meant paper trading, log in here with the paper user; for live trading use a live port on purpose. Set the socket port in ${API_SETTINGS} so paper and live keep their usual ports (7497/4002 paper, 7496/4001 live).`
        : `Live trading needs the live login; set the socket port in ${API_SETTINGS} so paper and live keep their usual ports (7497/4002 paper, 7496/4001 live).`,
    });
  }
  const broken = farmStates(a.notices).filter((f) => f.state === "broken");
  if (broken.length > 0) {
    out.push({
      level: "warn",
      code: "farm-broken",
      port,
      message: `${where} reports broken connections: ${broken.map((f) => `${f.farm} (${f.code})`).join(", ")}. Market data (2103), historical data (2105) or contract lookups (2157) stall until IB reconnects them.`,
      fix: "Usually transient (IB's nightly restart, a network blip): wait a minute and run the doctor again; if it lasts, check the internet connection of the TWS machine.",
    });
  }
  const skew = clockSkewMs(a);
  if (skew !== null && e.mock && Math.abs(skew) > o.clockSkewWarnMs) {
    // A mock's calendar may be pinned on purpose (`--now`): its time is a setting, not a fault.
    out.push({
      level: "ok",
      code: "clock-skew",
      port,
      message: `${where} is a mock gateway whose calendar is set ${(Math.abs(skew) / 1000).toFixed(0)} s ${skew > 0 ? "ahead of" : "behind"} this machine (mock-gateway --now): not clock skew.`,
    });
  } else if (skew !== null) {
    const s = (Math.abs(skew) / 1000).toFixed(1);
    out.push(
      Math.abs(skew) > o.clockSkewWarnMs
        ? {
            level: "warn",
            code: "clock-skew",
            port,
            message: `This machine's clock is ${s} s ${skew > 0 ? "behind" : "ahead of"} TWS's: bar times, "end" times of history requests and order times will look shifted.`,
            fix: "Turn on time synchronisation on both machines (timedatectl set-ntp true, or your OS's clock settings).",
          }
        : {
            level: "ok",
            code: "clock-skew",
            port,
            message: `TWS's clock and this machine's agree within ${s} s.`,
          },
    );
  }
  return out;
}

/** 326 on a probe: who holds the id (connections to the port, registry leases). */
function idFindings(e: EndpointFacts, facts: DoctorFacts): Finding[] {
  const taken = e.probe.attempts.filter((a) => a.outcome.kind === "client-id-in-use");
  if (taken.length === 0) return [];
  const { port } = e.probe;
  const ids = taken.map((a) => a.clientId);
  const requested = facts.requestedClientId !== null && ids.includes(facts.requestedClientId);
  const recovered = lastAttempt(e.probe)?.outcome.kind === "ok";
  const holders = [
    ...e.peers.map((p) =>
      p.process ? describeProcess(p.process) : `an unknown process (local port ${p.localPort})`,
    ),
  ];
  const leases = e.leases.filter((l) => ids.includes(l.clientId));
  const leaseText = leases.map(
    (l) =>
      `lease of id ${l.clientId} by "${l.owner}"${l.pid !== null ? ` (pid ${l.pid})` : ""} for ${l.purpose}`,
  );
  const who = [
    holders.length
      ? `Clients connected to port ${port} now: ${holders.join("; ")}`
      : `No other client connection to port ${port} is visible from here (it may belong to another user or machine, or TWS still holds the id of a client that died)`,
    ...(leaseText.length ? [`Registry: ${leaseText.join("; ")}`] : []),
  ].join(". ");
  const pids = e.peers.flatMap((p) => (p.process ? [p.process.pid] : []));
  return [
    {
      level: requested || !recovered ? "error" : "warn",
      code: "client-id-in-use",
      port,
      message: `Client id ${ids.join(" and ")} is already connected to ${e.probe.host}:${port} (error 326)${requested ? "" : `; the doctor's probe ${recovered ? "went on with another id" : "found no free id"}`}. ${who}. ${ONE_OF_32}`,
      fix: `Give every app its own id, leased so two never collide: switchboard ids lease workers --owner <app> --pid <its pid>. ${pids.length ? `A leftover process holding the id can be stopped with: kill ${[...new Set(pids)].join(" ")} (check the command first). ` : ""}TWS frees the id of a client that died after a short while.`,
    },
  ];
}
