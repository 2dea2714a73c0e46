/**
 * Where an HA group keeps its state in Redis. Everything of group `g` lives under
 * `switchboard:ha:<g>:`, so one Redis can serve several groups (and the registry's
 * `switchboard:ids:` leases beside them). Key names are built here only.
 *
 *   lease                 the HA lease JSON {holder, token, host, pid, since}, PX = leaseMs
 *   fence                 INCR counter: the fencing token of each grant (never expires)
 *   config                the hash of the group's `lines` (every daemon must agree)
 *   line:<l>:orders       hash upstream order id -> order record JSON (the journal)
 *   line:<l>:marks        hash owner -> high-water mark
 *   line:<l>:identity     the line's recorded identity JSON
 *   audit:<daemon>        one stream per daemon (audit appends are not fenced)
 */
export const HA_PREFIX = "switchboard:ha:";

export interface GroupKeys {
  readonly base: string;
  readonly lease: string;
  readonly fence: string;
  readonly config: string;
  line(name: string): LineKeys;
  audit(daemon: string): string;
}

export interface LineKeys {
  readonly orders: string;
  readonly marks: string;
  readonly identity: string;
}

export function groupKeys(group: string, prefix = HA_PREFIX): GroupKeys {
  const base = `${prefix}${group}:`;
  return {
    base,
    lease: `${base}lease`,
    fence: `${base}fence`,
    config: `${base}config`,
    line: (name) => ({
      orders: `${base}line:${name}:orders`,
      marks: `${base}line:${name}:marks`,
      identity: `${base}line:${name}:identity`,
    }),
    audit: (daemon) => `${base}audit:${daemon}`,
  };
}

/** The owner name of the line client-id leases a group holds (they pass from active to active). */
export function groupLeaseOwner(group: string): string {
  return `switchboard-ha/${group}`;
}
