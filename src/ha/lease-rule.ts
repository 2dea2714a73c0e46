/**
 * The HA lease's rule as pure code: what the Redis script (lease-scripts.ts) does to the
 * lease, on Redis's clock. The property tests run holders against this model; the Redis
 * tests check that the script does the same.
 *
 * Invariants:
 *  - a grant happens only when no lease exists (it lapsed, or was released); it takes the next
 *    fencing token (INCR of a persisted counter), so tokens only grow;
 *  - a renewal succeeds only for the current holder with its current token and pushes the
 *    expiry to `now + leaseMs`; any gap (the lease lapsed, even if nobody took it) makes the
 *    renewal `lost`, never a silent re-grant under the old token;
 *  - a release removes the lease only for its holder and token.
 */
export interface LeaseRecord {
  readonly holder: string;
  readonly token: number;
  readonly expiresAt: number;
}

export interface LeaseModel {
  readonly lease: LeaseRecord | null;
  readonly fence: number;
}

export type LeaseCall =
  | { readonly kind: "acquire"; readonly holder: string }
  | { readonly kind: "renew"; readonly holder: string; readonly token: number }
  | { readonly kind: "release"; readonly holder: string; readonly token: number };

export type LeaseAnswer =
  | { readonly status: "granted"; readonly token: number }
  | { readonly status: "renewed"; readonly token: number }
  | { readonly status: "held"; readonly holder: string }
  | { readonly status: "lost" }
  | { readonly status: "released" }
  | { readonly status: "not_held" };

export function applyLeaseCall(
  m: LeaseModel,
  call: LeaseCall,
  now: number,
  leaseMs: number,
): { model: LeaseModel; answer: LeaseAnswer } {
  const lease = m.lease !== null && m.lease.expiresAt > now ? m.lease : null;
  const mine = lease !== null && lease.holder === call.holder;
  switch (call.kind) {
    case "acquire": {
      if (lease !== null) return { model: { ...m, lease }, answer: { status: "held", holder: lease.holder } };
      const token = m.fence + 1;
      return {
        model: { fence: token, lease: { holder: call.holder, token, expiresAt: now + leaseMs } },
        answer: { status: "granted", token },
      };
    }
    case "renew": {
      if (!mine || lease.token !== call.token) return { model: { ...m, lease }, answer: { status: "lost" } };
      return {
        model: { ...m, lease: { ...lease, expiresAt: now + leaseMs } },
        answer: { status: "renewed", token: call.token },
      };
    }
    case "release": {
      if (!mine || lease.token !== call.token)
        return { model: { ...m, lease }, answer: { status: "not_held" } };
      return { model: { ...m, lease: null }, answer: { status: "released" } };
    }
  }
}
