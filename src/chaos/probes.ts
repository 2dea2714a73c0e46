/**
 * What the run reads from the processes, each call bounded in time: the daemon's Prometheus
 * text and pool/pace views, the mock's `/state`, the client-id leases (through the CLI, as a
 * user would list them).
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { MockState } from "../mock/state.js";
import type { Lease } from "./invariants.js";

const BIN = fileURLToPath(new URL("../../bin/switchboard.js", import.meta.url));
const TIMEOUT_MS = 3_000;

async function getJson<T>(url: string): Promise<T | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    const body = (await res.json()) as { success?: boolean; data?: T };
    return body.success ? body.data : undefined;
  } catch {
    return undefined;
  }
}

export interface DaemonSample {
  rssBytes: number;
  heapUsedBytes: number;
  /** nodejs_eventloop_lag_p99_seconds as reported (includes the monitor's 10 ms resolution). */
  lagP99Seconds: number;
  /** Set when /metrics did not answer 200 with the process metrics (a defect, not a fault). */
  metricsError: string | undefined;
  lineState: string;
  lineClientId: number | undefined;
  reconnects: number;
  /** Market-data lines the pacer holds. */
  heldLines: number;
}

interface PoolStatus {
  lines: { state: string; clientId?: number; reconnects?: number }[];
}
interface PaceStatus {
  rules: { ruleId: string; used: number }[];
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, "m").exec(text);
  return m ? Number(m[1]) : NaN;
}

export async function sampleDaemon(http: string): Promise<DaemonSample | undefined> {
  try {
    const [metricsRes, pool, pace] = await Promise.all([
      fetch(`${http}/metrics`, { signal: AbortSignal.timeout(TIMEOUT_MS) }).then(async (r) => ({
        status: r.status,
        text: await r.text(),
      })),
      getJson<PoolStatus>(`${http}/api/ib/pool/status`),
      getJson<PaceStatus>(`${http}/api/ib/pace/status`),
    ]);
    if (!pool || !pace) return undefined;
    const line = pool.lines[0];
    const rssBytes = metric(metricsRes.text, "process_resident_memory_bytes");
    return {
      rssBytes,
      heapUsedBytes: metric(metricsRes.text, "nodejs_heap_size_used_bytes"),
      lagP99Seconds: metric(metricsRes.text, "nodejs_eventloop_lag_p99_seconds"),
      metricsError:
        metricsRes.status === 200 && Number.isFinite(rssBytes)
          ? undefined
          : `/metrics answered ${metricsRes.status}: ${metricsRes.text.slice(0, 200)}`,
      lineState: line?.state ?? "unknown",
      lineClientId: line?.clientId,
      reconnects: line?.reconnects ?? 0,
      heldLines: pace.rules.find((r) => r.ruleId === "marketDataLines")?.used ?? 0,
    };
  } catch {
    return undefined;
  }
}

export function mockState(control: string): Promise<MockState | undefined> {
  return fetch(`${control}/state`, { signal: AbortSignal.timeout(TIMEOUT_MS) })
    .then(async (r) => ((await r.json()) as { data: MockState }).data)
    .catch(() => undefined);
}

export function switchboardCli(args: readonly string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 15_000 }, (err, stdout) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout });
    });
  });
}

export async function listLeases(store: readonly string[]): Promise<Lease[] | undefined> {
  const r = await switchboardCli(["ids", "list", "--json", ...store]);
  if (r.code !== 0) return undefined;
  try {
    return JSON.parse(r.stdout) as Lease[];
  } catch {
    return undefined;
  }
}
