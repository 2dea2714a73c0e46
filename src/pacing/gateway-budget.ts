/**
 * The rules IB counts per TWS, not per API connection (rule scope `gateway`: the historical
 * windows, open historical requests, market-data lines, depth, scanners…), shared by the
 * pacers of every line that connects to the same TWS. Each line's pacer keeps its own
 * `connection` rules (the 50 messages/s, the pause after error 100, what was sent into a
 * silence) in a ledger of its own; see SplitLedger.
 *
 * Invariants:
 * - one GatewayBudget per TWS (host:port) in a process; its ledger holds only `gateway` rules;
 * - entries are kept per pacer (`<scope>\0<tenant>`), so two lines' equal upstream ids, or
 *   their switch tenants of one name, never free each other's slots;
 * - a slot freed by one pacer wakes every other pacer of the budget (a capacity rule that was
 *   full is waited out only by a release, never by a timer);
 * - the remembered windows (pacer memory) are restored once, by the budget, never by each
 *   pacer (twice would count every remembered request twice).
 */
import { SwitchboardError } from "../errors.js";
import { type LedgerMode, PacingLedger, type RuleUse } from "./checker.js";
import type { PacerMemoryStore } from "./memory.js";
import { REMEMBERED_RULES } from "./memory.js";
import type { PacingRequest } from "./request.js";
import type { PacingRules } from "./rules.js";

export interface GatewayBudgetOptions {
  rules: PacingRules;
  /** The pacer's mode: targets and a guard widening each window. */
  mode: LedgerMode;
  /** Keeps the historical windows across restarts (one store per TWS). */
  memory?: PacerMemoryStore;
  /** Wall-clock now (the memory's entries are epoch ms). */
  now: number;
  /** What the budget counts for: "127.0.0.1:4002", "mock"… (pace status shows it). */
  name: string;
}

export class GatewayBudget {
  readonly name: string;
  readonly #ledger: PacingLedger;
  readonly #memory: PacerMemoryStore | undefined;
  readonly #wakers = new Map<string, () => void>();

  constructor(o: GatewayBudgetOptions) {
    this.name = o.name;
    this.#memory = o.memory;
    this.#ledger = new PacingLedger(o.rules, {
      mode: o.mode,
      scopes: ["gateway"],
      ...(o.memory ? { remembered: REMEMBERED_RULES } : {}),
    });
    const remembered = o.memory?.load();
    if (remembered) this.#ledger.restoreWindows(remembered, o.now);
  }

  /** A pacer joins: `wake` pumps it when another pacer frees a slot. Returns its ledger view. */
  join(scope: string, own: PacingLedger, wake: () => void): SplitLedger {
    if (this.#wakers.has(scope))
      throw new SwitchboardError(
        "invalid_argument",
        `a pacer for line ${scope} already shares the budget of ${this.name}`,
        {
          field: "line",
        },
      );
    this.#wakers.set(scope, wake);
    return new SplitLedger(own, this, scope);
  }

  leave(scope: string): void {
    this.#wakers.delete(scope);
  }

  /** The pacers sharing this budget. */
  get scopes(): string[] {
    return [...this.#wakers.keys()];
  }

  /** @internal the shared ledger (SplitLedger only). */
  get ledger(): PacingLedger {
    return this.#ledger;
  }

  /** @internal a slot was freed by `scope`: the other pacers may now send. */
  freed(scope: string): void {
    for (const [s, wake] of this.#wakers) if (s !== scope) wake();
  }

  /**
   * Hands the remembered windows to the store when they changed (any pacer of the budget may
   * call it). Throws what the store throws.
   */
  remember(now: number): void {
    if (!this.#memory || !this.#ledger.takeChanged()) return;
    this.#memory.save(this.#ledger.rememberedWindows(now));
  }
}

/** What the pacer needs of a ledger: a PacingLedger, or a SplitLedger over two. */
export interface PacerLedger {
  earliest(req: PacingRequest, now: number): { at: number; ruleId: string | undefined };
  record(req: PacingRequest, now: number): void;
  release(tenant: string, hold: string): boolean;
  restamp(tenant: string, hold: string, at: number): void;
  heard(now: number): boolean;
  transfer(from: string, hold: string, to: string): boolean;
  releaseTenant(tenant: string): number;
  usage(now: number): RuleUse[];
  readonly openHolds: number;
}

/**
 * One pacer's view: its own ledger for the `connection` rules, the budget's for the `gateway`
 * rules (under the pacer's scope). Both see every request; each counts the rules of its scope.
 */
export class SplitLedger implements PacerLedger {
  readonly #own: PacingLedger;
  readonly #budget: GatewayBudget;
  readonly #scope: string;

  constructor(own: PacingLedger, budget: GatewayBudget, scope: string) {
    this.#own = own;
    this.#budget = budget;
    this.#scope = scope;
  }

  #tenant(tenant: string): string {
    return `${this.#scope}\u0000${tenant}`;
  }

  #req(req: PacingRequest): PacingRequest {
    return { ...req, tenant: this.#tenant(req.tenant) };
  }

  earliest(req: PacingRequest, now: number): { at: number; ruleId: string | undefined } {
    const a = this.#own.earliest(req, now);
    const b = this.#budget.ledger.earliest(this.#req(req), now);
    return b.at > a.at ? b : a;
  }

  record(req: PacingRequest, now: number): void {
    this.#own.record(req, now);
    const shared = this.#budget.ledger;
    const held = req.releases !== undefined && shared.isHeld(this.#tenant(req.tenant), req.releases);
    shared.record(this.#req(req), now);
    // A cancel freed a slot of the TWS's: the other lines may use it.
    if (held) this.#budget.freed(this.#scope);
  }

  release(tenant: string, hold: string): boolean {
    const own = this.#own.release(tenant, hold);
    const shared = this.#budget.ledger.release(this.#tenant(tenant), hold);
    if (shared) this.#budget.freed(this.#scope);
    return own || shared;
  }

  restamp(tenant: string, hold: string, at: number): void {
    this.#own.restamp(tenant, hold, at);
    this.#budget.ledger.restamp(this.#tenant(tenant), hold, at);
  }

  heard(now: number): boolean {
    // Only connection rules hold what was sent into a silence (the message rate).
    return this.#own.heard(now);
  }

  transfer(from: string, hold: string, to: string): boolean {
    const own = this.#own.transfer(from, hold, to);
    const shared = this.#budget.ledger.transfer(this.#tenant(from), hold, this.#tenant(to));
    return own || shared;
  }

  releaseTenant(tenant: string): number {
    const own = this.#own.releaseTenant(tenant);
    const shared = this.#budget.ledger.releaseTenant(this.#tenant(tenant));
    if (shared > 0) this.#budget.freed(this.#scope);
    return Math.max(own, shared);
  }

  usage(now: number): RuleUse[] {
    // Disjoint rule sets: the connection rules of this line, then the TWS's (all its lines).
    return [...this.#own.usage(now), ...this.#budget.ledger.usage(now)];
  }

  get openHolds(): number {
    return this.#own.openHolds;
  }
}
