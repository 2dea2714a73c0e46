/** The doctor's HTTP checks: the daemon's /health and the mock gateway's control API. */
import type { Clock } from "../clock.js";
import { getJson, isRecord } from "./http.js";
import type { DaemonHealth, DaemonLine, MockEvidence, ProcessInfo } from "./types.js";

const MODES = new Set(["paper", "live", "mock"]);

function daemonLine(l: Record<string, unknown>): DaemonLine {
  const id = isRecord(l.identity) ? l.identity : null;
  const mode =
    id && typeof id.mode === "string" && MODES.has(id.mode) ? (id.mode as "paper" | "live" | "mock") : null;
  return {
    name: String(l.name),
    state: String(l.state),
    reason: typeof l.reason === "string" ? l.reason : "",
    upstream: typeof l.upstream === "string" ? l.upstream : null,
    identity: id
      ? { mode, accounts: Array.isArray(id.accounts) ? id.accounts.filter((a) => typeof a === "string") : [] }
      : null,
  };
}

/** GET <url>/health. Nothing listening is "absent" (the daemon is optional), not a problem. */
export async function checkDaemon(url: string, timeoutMs: number, clock: Clock): Promise<DaemonHealth> {
  const base = url.replace(/\/+$/, "");
  const a = await getJson(`${base}/health`, timeoutMs, clock);
  if (a.kind === "refused") return { kind: "absent", url: base };
  if (a.kind === "timeout") {
    return {
      kind: "error",
      url: base,
      detail: `accepted the connection but did not answer /health in ${timeoutMs} ms`,
    };
  }
  if (a.kind === "error") return { kind: "error", url: base, detail: a.detail };
  const data = isRecord(a.body) && isRecord(a.body.data) ? a.body.data : null;
  const upstream = data && typeof data.upstream === "string" ? data.upstream : null;
  const lines = data && Array.isArray(data.lines) ? data.lines.filter(isRecord) : [];
  const seen = lines.map(daemonLine);
  if (a.status === 200 && isRecord(a.body) && a.body.success === true)
    return { kind: "healthy", url: base, upstream, lines: seen };
  const status = data && typeof data.status === "string" ? data.status : null;
  const bad = lines
    .filter((l) => l.state !== "ready")
    .map(
      (l) => `${String(l.name)} ${String(l.state)}${typeof l.reason === "string" ? ` (${l.reason})` : ""}`,
    );
  const detail = status
    ? `status ${status}${upstream ? `, upstream ${upstream}` : ""}${bad.length ? `; lines: ${bad.join(", ")}` : ""}`
    : `HTTP ${a.status}`;
  return { kind: "unhealthy", url: base, status: a.status, detail, lines: seen };
}

/**
 * Is this listener Switchboard's mock gateway? Two signs, either is enough:
 * - the owning process's command line runs `mock-gateway` (the CLI form), or
 * - a control API answers GET /state on a candidate control port (by default port + 100,
 *   the mock's 4002 → 4102 layout) with the mock's own shape: `{success, data: {clients: [],
 *   counters: {pacingViolations…}}}`. That shape is specific enough that a stranger will not
 *   match it by chance; the request only reads.
 * The in-process mock of `switchboard start` is recognised through the daemon's /health
 * (`upstream: "mock"`), not here.
 */
export async function detectMock(
  host: string,
  owner: ProcessInfo | null,
  controlPorts: readonly number[],
  timeoutMs: number,
  clock: Clock,
): Promise<MockEvidence | null> {
  if (owner && /\bmock-gateway\b/.test(owner.command)) return "command-line";
  for (const cp of controlPorts) {
    const hostPart = host.includes(":") ? `[${host}]` : host;
    const a = await getJson(`http://${hostPart}:${cp}/state`, timeoutMs, clock);
    if (a.kind !== "answer" || a.status !== 200 || !isRecord(a.body)) continue;
    const data = a.body.data;
    if (
      isRecord(data) &&
      Array.isArray(data.clients) &&
      isRecord(data.counters) &&
      "pacingViolations" in data.counters
    ) {
      return "control-port";
    }
  }
  return null;
}
