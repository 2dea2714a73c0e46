/**
 * The lease policy, pure: which id to offer, when a lease or cool-down is over, which leases
 * belong to dead local processes, and how each operation changes a lease document. No I/O
 * and no clock of its own: `now` comes in with every call. The memory and file stores apply
 * these functions to their document; the Redis store runs the same rules in Lua.
 */
import type { IdRange } from "./purposes.js";
import type {
  AcquireRequest,
  AcquireResult,
  Cooldown,
  Lease,
  LeaseDoc,
  LeaseOpResult,
  PublicLease,
  RejectRequest,
  ReleaseRequest,
  RenewRequest,
} from "./types.js";

/**
 * Ids to try, best first: lowest first, so ids stay small and stable across restarts (logs
 * and TWS's client list stay readable). Cool-downs are checked by the store, atomically.
 */
export function candidateIds(range: IdRange): number[] {
  const ids: number[] = [];
  for (let id = range.min; id <= range.max; id++) ids.push(id);
  return ids;
}

export function isExpired(lease: Lease, now: number): boolean {
  return lease.expiresAt <= now;
}

export function isCooling(cooldown: Cooldown, now: number): boolean {
  return cooldown.until > now;
}

/**
 * Leases whose owning process is gone. Only leases taken on `host` are judged: a pid on
 * another machine means nothing here, those end by TTL alone.
 */
export function deadLeases(
  leases: readonly Lease[],
  host: string,
  isPidAlive: (pid: number) => boolean,
): Lease[] {
  return leases.filter((l) => l.host === host && l.pid !== null && !isPidAlive(l.pid));
}

export function publicLease(lease: Lease): PublicLease {
  const { token: _token, ...rest } = lease;
  return rest;
}

export interface DocChange<R> {
  readonly doc: LeaseDoc;
  readonly result: R;
}

/** Drop expired leases and finished cool-downs. */
export function sweepDoc(doc: LeaseDoc, now: number): DocChange<Lease[]> {
  const expired = doc.leases.filter((l) => isExpired(l, now));
  const cooldowns = doc.cooldowns.filter((c) => isCooling(c, now));
  if (expired.length === 0 && cooldowns.length === doc.cooldowns.length) return { doc, result: [] };
  return {
    doc: { version: 1, leases: doc.leases.filter((l) => !isExpired(l, now)), cooldowns },
    result: expired,
  };
}

export function applyAcquire(doc0: LeaseDoc, req: AcquireRequest): DocChange<AcquireResult> {
  const { doc, result: expired } = sweepDoc(doc0, req.now);
  const taken = new Set<number>();
  for (const l of doc.leases) if (l.upstream === req.upstream) taken.add(l.clientId);
  for (const c of doc.cooldowns) if (c.upstream === req.upstream) taken.add(c.clientId);
  const clientId = req.candidates.find((id) => !taken.has(id));
  if (clientId === undefined) return { doc, result: { granted: null, expired } };
  const lease: Lease = {
    clientId,
    purpose: req.purpose,
    owner: req.owner,
    token: req.token,
    expiresAt: req.now + req.ttlMs,
    leasedAt: req.now,
    host: req.host,
    pid: req.pid,
    upstream: req.upstream,
  };
  return { doc: { ...doc, leases: [...doc.leases, lease] }, result: { granted: lease, expired } };
}

function findLease(doc: LeaseDoc, upstream: string, clientId: number): Lease | undefined {
  return doc.leases.find((l) => l.upstream === upstream && l.clientId === clientId);
}

function withoutLease(doc: LeaseDoc, lease: Lease): LeaseDoc {
  return { ...doc, leases: doc.leases.filter((l) => l !== lease) };
}

/** Shared checks of renew and release: present, not expired, token matches (unless forced). */
function check(doc: LeaseDoc, upstream: string, clientId: number, token: string | null, now: number) {
  const lease = findLease(doc, upstream, clientId);
  if (!lease) return { ok: false as const, reason: "not_found" as const };
  if (isExpired(lease, now)) return { ok: false as const, reason: "expired" as const, lease };
  if (token !== null && lease.token !== token)
    return { ok: false as const, reason: "bad_token" as const, lease };
  return { ok: true as const, lease };
}

export function applyRenew(doc: LeaseDoc, req: RenewRequest): DocChange<LeaseOpResult> {
  const c = check(doc, req.upstream, req.clientId, req.token, req.now);
  if (!c.ok) {
    // An expired lease found here is removed, so the caller's expiry report and the doc agree.
    // A wrong token changes nothing: otherwise anyone could end any lease by guessing badly.
    return { doc: c.reason === "expired" && c.lease ? withoutLease(doc, c.lease) : doc, result: c };
  }
  const renewed: Lease = { ...c.lease, expiresAt: req.now + req.ttlMs };
  return {
    doc: { ...doc, leases: doc.leases.map((l) => (l === c.lease ? renewed : l)) },
    result: { ok: true, lease: renewed },
  };
}

export function applyRelease(doc: LeaseDoc, req: ReleaseRequest): DocChange<LeaseOpResult> {
  const c = check(doc, req.upstream, req.clientId, req.token, req.now);
  if (!c.ok) {
    return { doc: c.reason === "expired" && c.lease ? withoutLease(doc, c.lease) : doc, result: c };
  }
  return { doc: withoutLease(doc, c.lease), result: c };
}

/** Put an id on cool-down (after error 326); a later, longer cool-down wins. */
export function applyReject(doc: LeaseDoc, req: RejectRequest): DocChange<Cooldown> {
  const prior = doc.cooldowns.find((c) => c.upstream === req.upstream && c.clientId === req.clientId);
  const cooldown: Cooldown = {
    upstream: req.upstream,
    clientId: req.clientId,
    until: Math.max(req.until, prior?.until ?? 0),
  };
  const rest = doc.cooldowns.filter((c) => c !== prior && isCooling(c, req.now));
  return { doc: { ...doc, cooldowns: [...rest, cooldown] }, result: cooldown };
}
