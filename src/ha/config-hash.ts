/**
 * Every daemon of an HA group must manage the same lines: a standby that takes over must
 * connect what the active connected, under the same names (journals, client-id leases and
 * proxy ports hang on them). The group keeps a hash of the active's `lines` in Redis.
 */
import { createHash } from "node:crypto";

/** JSON with object keys sorted at every depth, so key order in the YAML never matters. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

/** Hash of a `lines` config as the daemon resolved it (order of lines counts: the first is the default). */
export function linesHash(lines: readonly unknown[]): string {
  return createHash("sha256").update(canonical(lines)).digest("hex");
}
