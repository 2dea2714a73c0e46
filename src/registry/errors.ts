/** Typed failures of the registry; callers branch on `code`. */
import { SwitchboardError } from "../errors.js";
import type { PublicLease } from "./types.js";

/** Every id of a purpose is leased or cooling down (HTTP 409). */
export class RangeExhaustedError extends SwitchboardError {
  readonly purpose: string;
  readonly upstream: string;
  readonly holders: readonly PublicLease[];
  constructor(
    purpose: string,
    upstream: string,
    range: { min: number; max: number },
    holders: readonly PublicLease[],
  ) {
    const who = summarizeHolders(holders);
    super(
      "range_exhausted",
      `no free client id for purpose "${purpose}" (${range.min}..${range.max}) on upstream "${upstream}"` +
        (who ? `; held by ${who}` : "; the free ids are cooling down after error 326"),
      { field: "purpose" },
    );
    this.purpose = purpose;
    this.upstream = upstream;
    this.holders = holders;
  }
}

/** The lease exists but the token does not match, or it has already expired. */
export class LeaseInvalidError extends SwitchboardError {
  readonly clientId: number;
  constructor(clientId: number, reason: "bad_token" | "expired") {
    super(
      "lease_invalid",
      reason === "bad_token"
        ? `the token does not match the lease on client id ${clientId}`
        : `the lease on client id ${clientId} has expired`,
      { field: reason === "bad_token" ? "token" : "clientId" },
    );
    this.clientId = clientId;
  }
}

export class LeaseNotFoundError extends SwitchboardError {
  readonly clientId: number;
  constructor(clientId: number, upstream: string) {
    super("not_found", `client id ${clientId} is not leased on upstream "${upstream}"`, {
      field: "clientId",
    });
    this.clientId = clientId;
  }
}

/** The backing store failed (unreadable file, lock timeout, Redis error). */
export class StoreError extends SwitchboardError {
  constructor(message: string, cause?: unknown) {
    super("store", message, { cause });
  }
}

function summarizeHolders(holders: readonly PublicLease[]): string {
  const byOwner = new Map<string, number[]>();
  for (const h of holders) {
    const key = h.pid === null ? `${h.owner}@${h.host}` : `${h.owner}@${h.host} pid ${h.pid}`;
    const ids = byOwner.get(key) ?? [];
    ids.push(h.clientId);
    byOwner.set(key, ids);
  }
  const parts = [...byOwner].map(([who, ids]) => `${who} (${ids.join(", ")})`);
  return parts.length > 8
    ? `${parts.slice(0, 8).join("; ")}; and ${parts.length - 8} more`
    : parts.join("; ");
}
