import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import {
  applyAcquire,
  applyReject,
  applyRelease,
  applyRenew,
  candidateIds,
  deadLeases,
  isCooling,
  isExpired,
  publicLease,
  sweepDoc,
} from "./policy.js";
import { DEFAULT_PURPOSES, parsePurposes, resolvePurposes } from "./purposes.js";
import { type AcquireRequest, EMPTY_DOC, type Lease, type LeaseDoc } from "./types.js";

const clock = new ManualClock(1_000_000);

function req(over: Partial<AcquireRequest> = {}): AcquireRequest {
  return {
    upstream: "paper",
    purpose: "ui",
    candidates: candidateIds({ min: 1, max: 3 }),
    owner: "dash",
    host: "h1",
    pid: null,
    token: "t",
    now: clock.now(),
    ttlMs: 1_000,
    ...over,
  };
}

function take(doc: LeaseDoc, over: Partial<AcquireRequest> = {}): { doc: LeaseDoc; lease: Lease | null } {
  const r = applyAcquire(doc, req(over));
  return { doc: r.doc, lease: r.result.granted };
}

describe("purposes", () => {
  it("defaults are the documented ranges", () => {
    const p = resolvePurposes();
    expect([...p.values()].map((x) => [x.name, x.min, x.max])).toEqual([
      ["ui", 1, 9],
      ["workers", 10, 99],
      ["manual", 100, 199],
      ["checks", 200, 299],
      ["agents", 300, 399],
      ["backfill", 400, 499],
      ["proxy", 900, 999],
    ]);
    expect(DEFAULT_PURPOSES.workers).toEqual({ min: 10, max: 99 });
  });

  it("rejects overlaps, bad bounds and bad names, naming the purpose", () => {
    expect(() => resolvePurposes({ a: { min: 1, max: 10 }, b: { min: 10, max: 20 } })).toThrow(
      /"b".*overlaps.*"a"/,
    );
    expect(() => resolvePurposes({ a: { min: 5, max: 1 } })).toThrow(/purpose "a"/);
    expect(() => resolvePurposes({ "Bad Name": { min: 1, max: 2 } })).toThrow(/purpose name/);
    expect(() => resolvePurposes({})).toThrow(/at least one/);
  });

  it("parses the flag form", () => {
    expect(parsePurposes("ui=1-9, bots=500-549,solo=7")).toEqual({
      ui: { min: 1, max: 9 },
      bots: { min: 500, max: 549 },
      solo: { min: 7, max: 7 },
    });
    expect(() => parsePurposes("ui:1-9")).toThrow(/name=min-max/);
  });
});

describe("lease policy", () => {
  it("offers the lowest free id first", () => {
    expect(candidateIds({ min: 10, max: 13 })).toEqual([10, 11, 12, 13]);
    let { doc, lease } = take(EMPTY_DOC);
    expect(lease?.clientId).toBe(1);
    ({ doc, lease } = take(doc));
    expect(lease?.clientId).toBe(2);
    const released = applyRelease(doc, { upstream: "paper", clientId: 1, token: "t", now: clock.now() });
    expect(take(released.doc).lease?.clientId).toBe(1);
  });

  it("grants nothing when every candidate is leased or cooling down", () => {
    let doc: LeaseDoc = EMPTY_DOC;
    doc = take(doc).doc;
    doc = take(doc).doc;
    doc = applyReject(doc, {
      upstream: "paper",
      clientId: 3,
      until: clock.now() + 60_000,
      now: clock.now(),
    }).doc;
    expect(take(doc).lease).toBeNull();
    // Another upstream is a separate id space.
    expect(take(doc, { upstream: "live" }).lease?.clientId).toBe(1);
  });

  it("expires leases at expiresAt and reports them", () => {
    const { doc, lease } = take(EMPTY_DOC);
    expect(isExpired(lease!, clock.now() + 999)).toBe(false);
    expect(isExpired(lease!, clock.now() + 1_000)).toBe(true);
    const s = sweepDoc(doc, clock.now() + 1_000);
    expect(s.result).toEqual([lease]);
    expect(s.doc.leases).toEqual([]);
    const again = applyAcquire(doc, req({ now: clock.now() + 5_000 }));
    expect(again.result.granted?.clientId).toBe(1);
    expect(again.result.expired).toEqual([lease]);
  });

  it("cool-down ends at `until`; a longer one wins", () => {
    const now = clock.now();
    let doc = applyReject(EMPTY_DOC, { upstream: "p", clientId: 5, until: now + 60_000, now }).doc;
    doc = applyReject(doc, { upstream: "p", clientId: 5, until: now + 10_000, now }).doc;
    expect(doc.cooldowns).toEqual([{ upstream: "p", clientId: 5, until: now + 60_000 }]);
    expect(isCooling(doc.cooldowns[0]!, now + 59_999)).toBe(true);
    expect(isCooling(doc.cooldowns[0]!, now + 60_000)).toBe(false);
  });

  it("renew needs the token and a live lease", () => {
    const { doc } = take(EMPTY_DOC);
    const now = clock.now();
    const ok = applyRenew(doc, { upstream: "paper", clientId: 1, token: "t", now: now + 500, ttlMs: 2_000 });
    expect(ok.result).toMatchObject({ ok: true, lease: { expiresAt: now + 2_500, leasedAt: now } });
    expect(
      applyRenew(doc, { upstream: "paper", clientId: 1, token: "x", now, ttlMs: 1 }).result,
    ).toMatchObject({
      ok: false,
      reason: "bad_token",
    });
    // A wrong token must not end the lease.
    expect(applyRenew(doc, { upstream: "paper", clientId: 1, token: "x", now, ttlMs: 1 }).doc).toBe(doc);
    expect(
      applyRenew(doc, { upstream: "paper", clientId: 2, token: "t", now, ttlMs: 1 }).result,
    ).toMatchObject({
      ok: false,
      reason: "not_found",
    });
    const late = applyRenew(doc, { upstream: "paper", clientId: 1, token: "t", now: now + 1_000, ttlMs: 1 });
    expect(late.result).toMatchObject({ ok: false, reason: "expired" });
    expect(late.doc.leases).toEqual([]);
  });

  it("release needs the token unless forced", () => {
    const { doc } = take(EMPTY_DOC);
    const now = clock.now();
    expect(applyRelease(doc, { upstream: "paper", clientId: 1, token: "x", now }).result).toMatchObject({
      ok: false,
      reason: "bad_token",
    });
    const forced = applyRelease(doc, { upstream: "paper", clientId: 1, token: null, now });
    expect(forced.result.ok).toBe(true);
    expect(forced.doc.leases).toEqual([]);
  });

  it("judges dead pids only on its own host, never TTL-only leases", () => {
    const base = take(EMPTY_DOC).lease!;
    const leases: Lease[] = [
      { ...base, clientId: 1, pid: 100, host: "h1" },
      { ...base, clientId: 2, pid: 200, host: "h1" },
      { ...base, clientId: 3, pid: 100, host: "h2" },
      { ...base, clientId: 4, pid: null, host: "h1" },
    ];
    const dead = deadLeases(leases, "h1", (pid) => pid !== 100);
    expect(dead.map((l) => l.clientId)).toEqual([1]);
  });

  it("public leases carry no token", () => {
    expect(publicLease(take(EMPTY_DOC).lease!)).not.toHaveProperty("token");
  });

  it("property: no id is ever leased twice on one upstream", () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("lease" as const),
        upstream: fc.constantFrom("a", "b"),
        ttl: fc.integer({ min: 1, max: 50 }),
      }),
      fc.record({
        kind: fc.constant("release" as const),
        upstream: fc.constantFrom("a", "b"),
        id: fc.integer({ min: 1, max: 6 }),
      }),
      fc.record({
        kind: fc.constant("reject" as const),
        upstream: fc.constantFrom("a", "b"),
        id: fc.integer({ min: 1, max: 6 }),
      }),
      fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 30 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        let doc: LeaseDoc = EMPTY_DOC;
        let now = 0;
        for (const o of ops) {
          if (o.kind === "tick") now += o.ms;
          else if (o.kind === "lease") {
            const r = applyAcquire(
              doc,
              req({ upstream: o.upstream, candidates: [1, 2, 3, 4, 5, 6], now, ttlMs: o.ttl }),
            );
            doc = r.doc;
            const g = r.result.granted;
            if (g)
              expect(
                doc.cooldowns.some(
                  (c) => c.upstream === g.upstream && c.clientId === g.clientId && c.until > now,
                ),
              ).toBe(false);
          } else if (o.kind === "release") {
            doc = applyRelease(doc, { upstream: o.upstream, clientId: o.id, token: null, now }).doc;
          } else {
            doc = applyReject(doc, { upstream: o.upstream, clientId: o.id, until: now + 20, now }).doc;
          }
          const live = doc.leases.filter((l) => !isExpired(l, now)).map((l) => `${l.upstream}/${l.clientId}`);
          expect(new Set(live).size).toBe(live.length);
        }
      }),
    );
  });
});
