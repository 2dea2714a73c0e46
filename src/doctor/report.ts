/** Printing a doctor report: human lines (✔ / ⚠ / ✖) or the contract's `--json`. Pure. */

import { clockSkewMs, describeProcess, endpointJson, farmStates, lastAttempt, modeOf } from "./facts.js";
import type { DoctorJson, DoctorReport, EndpointFacts, Finding } from "./types.js";

export function toJson(report: DoctorReport): DoctorJson {
  return {
    success: true,
    data: { endpoints: report.facts.endpoints.map(endpointJson), findings: report.findings },
  };
}

const MARK = { ok: "✔", warn: "⚠", error: "✖" } as const;

export interface HumanOptions {
  /** Show level "ok" findings too (default true). */
  showOk?: boolean;
}

export function formatHuman(report: DoctorReport, options: HumanOptions = {}): string {
  const { facts, findings } = report;
  const lines: string[] = [];
  lines.push(
    `switchboard doctor — ${facts.host}, port${facts.endpoints.length > 1 ? "s" : ""} ${facts.endpoints.map((e) => e.probe.port).join(", ")}`,
  );
  lines.push("");
  for (const e of facts.endpoints) lines.push(endpointLine(e, findings));
  const shown = findings.filter((f) => f.level !== "ok" || options.showOk !== false);
  if (shown.length > 0) lines.push("");
  for (const f of shown) {
    lines.push(`${MARK[f.level]} ${f.port === undefined ? "" : `${f.port} `}${f.code}: ${f.message}`);
    if (f.fix) lines.push(`    fix: ${f.fix}`);
  }
  const errors = findings.filter((f) => f.level === "error").length;
  const warns = findings.filter((f) => f.level === "warn").length;
  lines.push("");
  lines.push(
    errors + warns === 0
      ? "✔ no problems found"
      : `${errors} error${errors === 1 ? "" : "s"}, ${warns} warning${warns === 1 ? "" : "s"}${errors ? "" : " (exit 0: warnings only)"}`,
  );
  return `${lines.join("\n")}\n`;
}

/** One line per endpoint: what answers there, in a glance. */
function endpointLine(e: EndpointFacts, findings: readonly Finding[]): string {
  const { port } = e.probe;
  const c = e.probe.connect;
  const mine = findings.filter((f) => f.port === port);
  const mark = mine.some((f) => f.level === "error")
    ? MARK.error
    : mine.some((f) => f.level === "warn")
      ? MARK.warn
      : MARK.ok;
  if (c.kind === "refused") return `  ${mine.length ? MARK.error : "·"} ${port}  nothing listening`;
  if (c.kind !== "connected")
    return `  ${MARK.error} ${port}  ${c.kind === "timeout" ? "connect timed out" : `connect failed (${c.errno})`} after ${c.ms} ms`;
  const a = lastAttempt(e.probe);
  const who = e.mock ? "Switchboard mock gateway" : e.owner ? describeProcess(e.owner) : "owner unknown";
  if (a?.outcome.kind !== "ok") {
    const what = !a
      ? "not probed"
      : a.outcome.kind === "stalled"
        ? `handshake stalled at ${a.outcome.stage}`
        : a.outcome.kind;
    return `  ${mark} ${port}  ${what} — ${who}`;
  }
  const farms = farmStates(a.notices);
  const skew = clockSkewMs(a);
  const parts = [
    `${modeOf(a.accounts)} ${a.accounts.join(",")}`,
    `server version ${a.serverVersion}`,
    `connect ${c.ms} ms`,
    ...(farms.length ? [`farms ${farms.filter((f) => f.state === "broken").length ? "BROKEN" : "ok"}`] : []),
    ...(skew === null ? [] : [`clock ${skew >= 0 ? "+" : "−"}${(Math.abs(skew) / 1000).toFixed(1)} s`]),
    who,
  ];
  return `  ${mark} ${port}  ${parts.join(" · ")}`;
}
