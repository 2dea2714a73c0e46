/** In-memory store for single-process library use and tests. Bounded by the id ranges. */
import { ClosedError } from "../errors.js";
import { applyAcquire, applyReject, applyRelease, applyRenew, sweepDoc } from "./policy.js";
import type { LeaseStore } from "./store.js";
import {
  type AcquireRequest,
  type AcquireResult,
  type Cooldown,
  EMPTY_DOC,
  type LeaseDoc,
  type LeaseOpResult,
  type ListResult,
  type RejectRequest,
  type ReleaseRequest,
  type RenewRequest,
} from "./types.js";

export class MemoryLeaseStore implements LeaseStore {
  readonly kind = "memory" as const;
  readonly location = "memory";
  #doc: LeaseDoc = EMPTY_DOC;
  #state: "open" | "closed" = "open";

  async acquire(req: AcquireRequest): Promise<AcquireResult> {
    return this.#apply((d) => applyAcquire(d, req));
  }

  async renew(req: RenewRequest): Promise<LeaseOpResult> {
    return this.#apply((d) => applyRenew(d, req));
  }

  async release(req: ReleaseRequest): Promise<LeaseOpResult> {
    return this.#apply((d) => applyRelease(d, req));
  }

  async reject(req: RejectRequest): Promise<Cooldown> {
    return this.#apply((d) => applyReject(d, req));
  }

  async list(now: number): Promise<ListResult> {
    const { leases, cooldowns, expired } = this.#apply((d) => {
      const s = sweepDoc(d, now);
      return { doc: s.doc, result: { leases: s.doc.leases, cooldowns: s.doc.cooldowns, expired: s.result } };
    });
    return { leases, cooldowns, expired };
  }

  async close(): Promise<void> {
    this.#state = "closed";
  }

  #apply<R>(fn: (doc: LeaseDoc) => { doc: LeaseDoc; result: R }): R {
    if (this.#state === "closed") throw new ClosedError("memory lease store");
    const { doc, result } = fn(this.#doc);
    this.#doc = doc;
    return result;
  }
}
