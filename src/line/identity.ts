/**
 * Line identity: which IB accounts a line works for, and whether they are paper or live.
 * Pure rules, no I/O; the guard (identity-guard.ts) keeps the expectation and its record.
 *
 * Invariants:
 *  - paper iff every managed account starts with "D" (IB's paper accounts are DU…, live U…);
 *  - identities compare as sorted account lists plus mode, so TWS's account order never
 *    matters;
 *  - an expectation is what the config pins (`lines[].accounts`, `lines[].mode`) and what the
 *    line recorded at its first ready; a handshake must satisfy every part of it. Nothing
 *    here ever widens an expectation: a paper line never becomes a live one by itself.
 */
import { UpstreamUnavailableError } from "../errors.js";

export type LineMode = "paper" | "live";
export const LINE_MODES: readonly LineMode[] = ["paper", "live"];

export interface LineIdentity {
  /** Sorted. */
  readonly accounts: readonly string[];
  readonly mode: LineMode;
}

/** What the config pins up front; either part may be absent. */
export interface IdentityPin {
  readonly accounts?: readonly string[];
  readonly mode?: LineMode;
}

export interface IdentityExpectation {
  readonly pin: IdentityPin;
  readonly recorded: LineIdentity | undefined;
}

export interface IdentityMismatch {
  /** "paper DU111" — what the line accepts. */
  readonly expected: string;
  readonly got: LineIdentity;
  /** `identity_changed: expected paper DU111, got live U222` — the line's reason. */
  readonly reason: string;
}

export const IDENTITY_CHANGED = "identity_changed";

export function modeOf(accounts: readonly string[]): LineMode {
  return accounts.length > 0 && accounts.every((a) => a.startsWith("D")) ? "paper" : "live";
}

export function identityOf(accounts: readonly string[]): LineIdentity {
  const sorted = [...accounts].sort();
  return { accounts: sorted, mode: modeOf(sorted) };
}

export function describeIdentity(i: { accounts?: readonly string[]; mode?: LineMode }): string {
  const accounts = i.accounts && i.accounts.length > 0 ? [...i.accounts].sort().join(",") : "";
  return [i.mode ?? (i.accounts ? modeOf(i.accounts) : ""), accounts].filter((s) => s !== "").join(" ");
}

function sameAccounts(a: readonly string[], b: readonly string[]): boolean {
  const x = [...a].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** True when nothing is pinned and nothing recorded: the first ready decides. */
export function isOpen(e: IdentityExpectation): boolean {
  return e.recorded === undefined && e.pin.mode === undefined && e.pin.accounts === undefined;
}

/** The expectation in words, recorded identity first (it is the more precise). */
export function describeExpectation(e: IdentityExpectation): string {
  if (e.recorded) return describeIdentity(e.recorded);
  if (isOpen(e)) return "any";
  return describeIdentity(e.pin);
}

/** undefined when `accounts` satisfy the expectation; else what went wrong, for the line's reason. */
export function checkIdentity(
  e: IdentityExpectation,
  accounts: readonly string[],
): IdentityMismatch | undefined {
  const got = identityOf(accounts);
  const ok =
    (e.pin.mode === undefined || e.pin.mode === got.mode) &&
    (e.pin.accounts === undefined || sameAccounts(e.pin.accounts, got.accounts)) &&
    (e.recorded === undefined ||
      (e.recorded.mode === got.mode && sameAccounts(e.recorded.accounts, got.accounts)));
  if (ok) return undefined;
  const expected = describeExpectation(e);
  return {
    expected,
    got,
    reason: `${IDENTITY_CHANGED}: expected ${expected}, got ${describeIdentity(got)}`,
  };
}

/**
 * A gateway whose accounts are not the line's: its socket is closed and the line waits for
 * its own identity. Code upstream_unavailable with reason identity_changed, as the HTTP
 * answers carry it.
 */
export class IdentityMismatchError extends UpstreamUnavailableError {
  readonly mismatch: IdentityMismatch;
  readonly where: string;
  constructor(mismatch: IdentityMismatch, where: string) {
    super(`${mismatch.reason} (at ${where})`, { reason: IDENTITY_CHANGED });
    this.mismatch = mismatch;
    this.where = where;
  }
}

export function isIdentityMismatch(err: unknown): err is IdentityMismatchError {
  return err instanceof IdentityMismatchError;
}
