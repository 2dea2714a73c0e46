/**
 * The identity a line holds to: the config's pin plus the identity recorded at its first
 * ready (kept in the line's journal through an IdentityStore, so a restarted daemon knows it).
 * The line asks it at every handshake; the `auto` connector asks it before it settles on a
 * gateway.
 *
 * Invariants:
 *  - the record is written once, at the first ready with no record, and only from a gateway
 *    that is not a Switchboard mock (a mock's accounts say nothing about a real line);
 *  - `forget()` is the only way back to an open expectation (`switchboard lines forget`);
 *  - an open expectation accepts a live gateway only where the caller allows it (`auto` needs
 *    `lines[].mode: live`; an explicit host:port is the user's own choice).
 */
import {
  checkIdentity,
  describeExpectation,
  describeIdentity,
  IDENTITY_CHANGED,
  type IdentityExpectation,
  type IdentityMismatch,
  type IdentityPin,
  identityOf,
  isOpen,
  type LineIdentity,
  type LineMode,
} from "./identity.js";

/** Where a recorded identity lives (the line's journal; Redis with `ha`). */
export interface IdentityStore {
  load(): LineIdentity | undefined;
  record(identity: LineIdentity): void;
}

/** What the line needs: a check at each handshake and a word at each ready. */
export interface IdentityCheck {
  check(accounts: readonly string[]): IdentityMismatch | undefined;
  /** The line became ready with these accounts. */
  confirmed(accounts: readonly string[]): void;
}

/** How status, health and the dashboard show a line's identity. */
export interface IdentityView {
  /** "mock" for the built-in or a recognised Switchboard mock; null while nothing is known. */
  mode: LineMode | "mock" | null;
  accounts: string[];
  /** Where the expectation comes from. */
  source: "recorded" | "config" | "mock" | "none";
  /** The pin from the config, if any. */
  pinned: { mode?: LineMode; accounts?: string[] } | null;
}

export interface IdentityGuardOptions {
  pin?: IdentityPin;
  store?: IdentityStore;
  /** True while the line's gateway is a Switchboard mock (it records no identity). */
  isMock?: () => boolean;
}

export class IdentityGuard implements IdentityCheck {
  readonly #pin: IdentityPin;
  readonly #store: IdentityStore | undefined;
  readonly #isMock: () => boolean;
  #recorded: LineIdentity | undefined;

  constructor(o: IdentityGuardOptions = {}) {
    this.#pin = o.pin ?? {};
    this.#store = o.store;
    this.#isMock = o.isMock ?? (() => false);
    this.#recorded = o.store?.load();
  }

  get expectation(): IdentityExpectation {
    return { pin: this.#pin, recorded: this.#recorded };
  }

  get recorded(): LineIdentity | undefined {
    return this.#recorded;
  }

  describe(): string {
    return describeExpectation(this.expectation);
  }

  check(accounts: readonly string[]): IdentityMismatch | undefined {
    return checkIdentity(this.expectation, accounts);
  }

  /**
   * May `auto` settle on a gateway with these accounts? Only on the expected identity, and on
   * a live one only when the config says `mode: live`.
   */
  acceptForAuto(accounts: readonly string[]): IdentityMismatch | undefined {
    const mismatch = this.check(accounts);
    if (mismatch) return mismatch;
    const got = identityOf(accounts);
    if (got.mode === "live" && this.#pin.mode !== "live" && this.#recorded?.mode !== "live") {
      // An open expectation: `auto` looks for paper unless the config says live.
      const expected = isOpen(this.expectation)
        ? "paper (set lines[].mode: live for a live gateway)"
        : this.describe();
      return {
        expected,
        got,
        reason: `${IDENTITY_CHANGED}: expected ${expected}, got ${describeIdentity(got)}`,
      };
    }
    return undefined;
  }

  confirmed(accounts: readonly string[]): void {
    if (this.#recorded !== undefined || this.#isMock() || accounts.length === 0) return;
    const identity = identityOf(accounts);
    this.#store?.record(identity);
    this.#recorded = identity;
  }

  /** Back to what the config pins (the journal's record was cleared). */
  forget(): void {
    this.#recorded = undefined;
  }

  view(currentAccounts: readonly string[]): IdentityView {
    const pinned =
      this.#pin.mode === undefined && this.#pin.accounts === undefined
        ? null
        : {
            ...(this.#pin.mode ? { mode: this.#pin.mode } : {}),
            ...(this.#pin.accounts ? { accounts: [...this.#pin.accounts].sort() } : {}),
          };
    if (this.#isMock()) {
      return { mode: "mock", accounts: [...currentAccounts].sort(), source: "mock", pinned };
    }
    if (this.#recorded) {
      return {
        mode: this.#recorded.mode,
        accounts: [...this.#recorded.accounts],
        source: "recorded",
        pinned,
      };
    }
    if (pinned) {
      return { mode: pinned.mode ?? null, accounts: pinned.accounts ?? [], source: "config", pinned };
    }
    return { mode: null, accounts: [], source: "none", pinned };
  }
}
