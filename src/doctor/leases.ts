/**
 * Read the client-id registry's file store without touching it. The registry's own `list()`
 * sweeps expired leases (a write), and the doctor never changes anything, so it reads
 * leases.json as it is and leaves expired entries out itself.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { LEASES_FILE, type Lease } from "../registry/index.js";
import { isRecord } from "./http.js";
import type { LeaseHolder } from "./types.js";

export async function readFileLeases(stateDir: string, now: number): Promise<LeaseHolder[]> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(join(stateDir, LEASES_FILE), "utf8"));
  } catch {
    // No store yet, or mid-rename: no leases to show is the honest answer.
    return [];
  }
  if (!isRecord(doc) || !Array.isArray(doc.leases)) return [];
  const out: LeaseHolder[] = [];
  for (const l of doc.leases as Partial<Lease>[]) {
    if (typeof l.clientId !== "number" || typeof l.expiresAt !== "number" || l.expiresAt <= now) continue;
    out.push({
      clientId: l.clientId,
      upstream: typeof l.upstream === "string" ? l.upstream : "default",
      purpose: typeof l.purpose === "string" ? l.purpose : "",
      owner: typeof l.owner === "string" ? l.owner : "",
      pid: typeof l.pid === "number" ? l.pid : null,
      expiresAt: l.expiresAt,
    });
  }
  return out;
}

/**
 * Leases that may hold ids on host:port. Lease upstreams are free-form names; a lease counts
 * for this endpoint when its upstream names the port ("127.0.0.1:4002", "paper:4002") or is
 * the unnamed "default" line (which could be any of them, so it is shown everywhere).
 */
export function leasesForEndpoint(leases: readonly LeaseHolder[], host: string, port: number): LeaseHolder[] {
  return leases.filter(
    (l) => l.upstream === "default" || l.upstream === `${host}:${port}` || l.upstream.endsWith(`:${port}`),
  );
}
