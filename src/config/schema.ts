/**
 * The daemon's configuration: ONE table of keys is the single source for the YAML file, the
 * SWITCHBOARD_* environment, the command-line flags, the error messages and docs/api.md.
 * Each key has a zod schema that accepts the typed YAML value and the string form that env
 * and flags carry, plus a one-line "accepted" text that every error message repeats.
 */

import { isIP } from "node:net";
import { z } from "zod";
import { parseCidr } from "../access/allow-list.js";
import { parseInstant } from "../calendar/instant.js";
import { DEFAULT_PACING_PROFILE, PACING_PROFILES } from "../pacing/rules.js";
import { type IdRange, parsePurposes } from "../registry/purposes.js";

export const DEFAULT_HTTP_PORT = 4300;
export const DEFAULT_PROXY_PORT = 4010;
export const DEFAULT_BIND_HOST = "127.0.0.1";
/** 0 = the built-in mock takes a free loopback port. */
export const DEFAULT_MOCK_PORT = 0;
export const DEFAULT_LOG_LEVEL = "info";
export const DEFAULT_LINE_NAME = "default";
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
/** The same list as logger.ts (not imported: loading the config must not load pino). */
export const LOG_FORMATS = ["json", "pretty"] as const;
/** The ports `auto` probes, paper first (Gateway paper, TWS paper, Gateway live, TWS live). */
export const AUTO_PORTS: readonly number[] = [4002, 7497, 4001, 7496];
const AUTO_PORTS_TEXT = AUTO_PORTS.join(",");
/** The same value as src/ha/freshness.ts (not imported: loading the config must stay light). */
export const DEFAULT_HA_LEASE_MS = 5_000;
const DEFAULT_HA_LEASE_MS_TEXT = String(DEFAULT_HA_LEASE_MS);
/** Flags of nested keys (`--ha-group` sets `ha.group`): config path → flag value placeholder and help. */
export const NESTED_FLAGS = {
  "ha.group": { arg: "<name>", description: "HA group: daemons sharing one Redis lease (needs --redis)" },
  "ha.leaseMs": {
    arg: "<ms>",
    description: `HA lease length; renewed every leaseMs/5 (default ${DEFAULT_HA_LEASE_MS})`,
  },
} as const;

const LINE_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/i;
const ACCOUNT = /^[A-Za-z0-9]{1,32}$/;
const HOST_PORT = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+)):(\d{1,5})$/i;

const toInt = (v: unknown): unknown =>
  typeof v === "string" && /^\s*-?\d+\s*$/.test(v) ? Number(v) : typeof v === "string" ? Number.NaN : v;

const toBool = (v: unknown): unknown => {
  if (typeof v !== "string") return v;
  const s = v.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(s)) return true;
  if (["false", "0", "no", "off"].includes(s)) return false;
  return v;
};

const toList = (v: unknown): unknown =>
  typeof v === "string"
    ? v
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
    : v;

export type UpstreamSpec = { kind: "mock" } | { kind: "auto" } | { kind: "tcp"; host: string; port: number };

export function parseUpstream(text: string): UpstreamSpec | undefined {
  const t = text.trim();
  if (t === "mock") return { kind: "mock" };
  if (t === "auto") return { kind: "auto" };
  const m = HOST_PORT.exec(t);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65_535) return undefined;
  return { kind: "tcp", host: m[1] ?? m[2]!, port };
}

export function upstreamText(u: UpstreamSpec): string {
  if (u.kind !== "tcp") return u.kind;
  return u.host.includes(":") ? `[${u.host}]:${u.port}` : `${u.host}:${u.port}`;
}

/** `1000-1999`, `7` or `{min, max}` → a range. */
const rangeSchema = z.preprocess(
  (v) => {
    if (typeof v === "number") return { min: v, max: v };
    if (typeof v !== "string") return v;
    const m = /^\s*(\d+)\s*(?:(?:-|\.\.)\s*(\d+))?\s*$/.exec(v);
    return m ? { min: Number(m[1]), max: Number(m[2] ?? m[1]) } : v;
  },
  z.strictObject({ min: z.number().int().min(0), max: z.number().int().min(0) }),
);

/** A mapping `{api: 1000-1999}` (YAML) or the flag / env form `api=1000-1999,backfill=2000-2999`. */
const purposesSchema = z.preprocess(
  (v) => {
    if (typeof v !== "string") return v;
    try {
      return parsePurposes(v);
    } catch {
      return v;
    }
  },
  z.record(z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/), rangeSchema),
);
export type PurposesInput = Readonly<Record<string, IdRange>>;

const upstreamSchema = z.string().refine((s) => parseUpstream(s) !== undefined);
const portSchema = z.preprocess(toInt, z.number().int().min(0).max(65_535));

export interface KeySpec {
  /** Accepts both the YAML value and the env/flag string. */
  readonly schema: z.ZodType;
  /** What the key accepts, repeated by every error message about it. */
  readonly accepts: string;
  readonly description: string;
  /** Flag value placeholder; undefined for a boolean switch; null when the key has no flag. */
  readonly arg: string | undefined | null;
  readonly default?: string;
}

export const LINE_KEYS = {
  name: {
    schema: z.string().regex(LINE_NAME),
    accepts: "1..32 letters, digits, '-' or '_'",
    description: "line name (metrics label, /health)",
    arg: null,
  },
  upstream: {
    schema: upstreamSchema,
    accepts: '"mock", "auto" or host:port',
    description: "where the line connects",
    arg: null,
  },
  required: {
    schema: z.preprocess(toBool, z.boolean()).optional(),
    accepts: "true or false",
    description: "must be ready for /health to answer 200 (default true)",
    arg: null,
  },
  mode: {
    schema: z.enum(["paper", "live"]).optional(),
    accepts: "paper or live",
    description:
      "pins the line's identity: a gateway of the other kind is refused (reason identity_changed); `auto` takes a live gateway only with mode: live",
    arg: null,
  },
  accounts: {
    schema: z.preprocess(toList, z.array(z.string().regex(ACCOUNT)).min(1)).optional(),
    accepts: "a non-empty list of IB account codes (letters and digits, e.g. [DU1234567])",
    description:
      "pins the line's accounts: a gateway managing other accounts is refused (reason identity_changed)",
    arg: null,
  },
  proxyPort: {
    schema: portSchema.optional(),
    accepts: "an integer 0..65535 (0 = any free port)",
    description:
      "the line's own TWS-protocol proxy port (the first line may use the top-level proxyPort; every other line needs one)",
    arg: null,
  },
  readOnly: {
    schema: z.preprocess(toBool, z.boolean()).optional(),
    accepts: "true or false",
    description: "refuse this line's order messages with 201 (overrides --read-only for this line)",
    arg: null,
  },
} as const satisfies Record<
  "name" | "upstream" | "required" | "mode" | "accounts" | "proxyPort" | "readOnly",
  KeySpec
>;

const lineSchema = z.strictObject({
  name: LINE_KEYS.name.schema,
  upstream: LINE_KEYS.upstream.schema,
  required: LINE_KEYS.required.schema,
  mode: LINE_KEYS.mode.schema,
  accounts: LINE_KEYS.accounts.schema,
  proxyPort: LINE_KEYS.proxyPort.schema,
  readOnly: LINE_KEYS.readOnly.schema,
});

export const CONFIG_KEYS = {
  upstream: {
    schema: upstreamSchema.optional(),
    accepts: '"mock", "auto" or host:port (e.g. 127.0.0.1:4002)',
    description: "shorthand for one line named `default`; none configured = the built-in mock",
    arg: "<mock|host:port|auto>",
  },
  mode: {
    schema: LINE_KEYS.mode.schema,
    accepts: "paper or live",
    description:
      "with `upstream`: pins the default line's identity (as lines[].mode); `auto` takes a live gateway only with live",
    arg: "<paper|live>",
  },
  accounts: {
    schema: LINE_KEYS.accounts.schema,
    accepts: "a comma-separated list of IB account codes (e.g. DU1234567)",
    description: "with `upstream`: pins the default line's accounts (as lines[].accounts)",
    arg: "<list>",
  },
  lines: {
    schema: z.array(lineSchema).min(1).max(16).optional(),
    accepts:
      "a list of 1..16 {name, upstream, required, mode, accounts, proxyPort, readOnly} with unique names and proxy ports",
    description: "upstream lines (config file / env only)",
    arg: null,
  },
  httpPort: {
    schema: portSchema.optional(),
    accepts: "an integer 0..65535 (0 = any free port)",
    description: "HTTP API port",
    arg: "<n>",
    default: String(DEFAULT_HTTP_PORT),
  },
  proxyPort: {
    schema: portSchema.optional(),
    accepts: "an integer 0..65535 (0 = any free port)",
    description: "TWS-protocol proxy port: any IB API client connects here as to TWS, with any client id",
    arg: "<n>",
    default: String(DEFAULT_PROXY_PORT),
  },
  host: {
    schema: z
      .string()
      .refine((s) => isIP(s) !== 0 || s === "localhost")
      .optional(),
    accepts: 'an IP address or "localhost"',
    description: "bind address of the HTTP API; non-loopback needs --token and --allow",
    arg: "<address>",
    default: DEFAULT_BIND_HOST,
  },
  readOnly: {
    schema: z.preprocess(toBool, z.boolean()).optional(),
    accepts: "true or false",
    description: "refuse order messages (PLACE_ORDER, CANCEL_ORDER, …) with error 201",
    arg: undefined,
  },
  strictClientIds: {
    schema: z.preprocess(toBool, z.boolean()).optional(),
    accepts: "true or false",
    description:
      "proxy: answer a second client with a client id already connected with 326, as TWS does (default: allowed)",
    arg: undefined,
  },
  token: {
    schema: z.string().min(8).max(512).optional(),
    accepts: "a string of 8..512 characters",
    description: "require `Authorization: Bearer <token>` on every route but /health",
    arg: "<token>",
  },
  mockPort: {
    schema: portSchema.optional(),
    accepts: "an integer 0..65535 (0 = any free port)",
    description: "port of the built-in mock gateway",
    arg: "<n>",
    default: String(DEFAULT_MOCK_PORT),
  },
  pacingProfile: {
    schema: z.enum(PACING_PROFILES).optional(),
    accepts: PACING_PROFILES.join(" or "),
    description:
      "IB's pacing: current (hard historical limits only for bars ≤ 30 secs and head timestamps) or legacy (every bar size)",
    arg: "<profile>",
    default: DEFAULT_PACING_PROFILE,
  },
  pacingRules: {
    schema: z.string().min(1).optional(),
    accepts: "a path to a JSON file of rule overrides",
    description: "override of the pacing profile's rules table (same file as mock-gateway --pacing-rules)",
    arg: "<file.json>",
  },
  historyCacheMs: {
    schema: z.preprocess(toInt, z.number().int().min(0).max(86_400_000)).optional(),
    accepts: "an integer 0..86400000 (ms; 0 = off)",
    description:
      "an identical historical request within this long is answered from the last answer (IB counts one within 15 s as a pacing violation)",
    arg: "<ms>",
    default: "15000",
  },
  contractCacheMs: {
    schema: z.preprocess(toInt, z.number().int().min(0).max(86_400_000)).optional(),
    accepts: "an integer 0..86400000 (ms; 0 = off)",
    description: "contract details are answered from the last answer this long, for every client",
    arg: "<ms>",
    default: "600000",
  },
  mockNow: {
    schema: z
      .string()
      .refine((t) => parseInstant(t) !== undefined)
      .optional(),
    accepts: "an ISO 8601 instant with a zone, e.g. 2026-12-06T15:00:00Z",
    description:
      "the built-in mock's calendar starts at this instant, then runs (which day it is, which bars exist)",
    arg: "<iso>",
  },
  allow: {
    schema: z.preprocess(toList, z.array(z.string().refine((s) => parseCidr(s) !== undefined))).optional(),
    accepts: "a comma-separated list of CIDRs or addresses (e.g. 10.0.0.0/8,::1)",
    description: "client addresses allowed to use the HTTP API (and the proxy)",
    arg: "<cidr,…>",
  },
  autoPorts: {
    schema: z
      .preprocess(
        (v) => {
          const list = toList(v);
          return Array.isArray(list) ? list.map(toInt) : list;
        },
        z.array(z.number().int().min(1).max(65_535)).min(1).max(32),
      )
      .optional(),
    accepts: "a list of 1..32 ports, e.g. 4002,7497,4001,7496",
    description: "the ports `auto` probes, in order (paper first)",
    arg: "<port,…>",
    default: AUTO_PORTS_TEXT,
  },
  allowMock: {
    schema: z.preprocess(toBool, z.boolean()).optional(),
    accepts: "true or false",
    description: "let `auto` pick a Switchboard mock gateway",
    arg: undefined,
  },
  stateDir: {
    schema: z.string().min(1).optional(),
    accepts: "a directory path",
    description: "file store of client-id leases (default $XDG_STATE_HOME/switchboard)",
    arg: "<dir>",
  },
  historyDir: {
    schema: z.string().min(1).optional(),
    accepts: "a directory path",
    description: "where history jobs (POST /api/history/jobs) write their dataset (default <stateDir>/bars)",
    arg: "<dir>",
  },
  redis: {
    schema: z
      .string()
      .regex(/^rediss?:\/\/\S+$/)
      .optional(),
    accepts: "redis://host:port or rediss://…",
    description: "keep client-id leases in Redis instead of the file store",
    arg: "<url>",
  },
  ha: {
    schema: z
      .strictObject({
        group: z.string().regex(LINE_NAME),
        leaseMs: z.preprocess(toInt, z.number().int().min(1_000).max(600_000)).optional(),
      })
      .optional(),
    accepts: `{group: 1..32 letters, digits, '-' or '_'; leaseMs: an integer 1000..600000 (default ${DEFAULT_HA_LEASE_MS_TEXT})}`,
    description:
      "standby through Redis: daemons of one group share a fenced lease; one is active, the others stand by (needs redis; flags --ha-group, --ha-lease-ms)",
    arg: null,
  },
  logLevel: {
    schema: z.enum(LOG_LEVELS).optional(),
    accepts: LOG_LEVELS.join(", "),
    description: "log level (pino, to stderr)",
    arg: "<level>",
    default: DEFAULT_LOG_LEVEL,
  },
  purposes: {
    schema: purposesSchema.optional(),
    accepts:
      "a mapping of purpose name to client-id range, e.g. {api: 1000-1999, backfill: 2000-2999} " +
      "(flag / env: api=1000-1999,backfill=2000-2999); ranges must not overlap",
    description:
      "client-id purposes and ranges, merged over the defaults (ui, workers, manual, checks, agents, proxy)",
    arg: "<name=min-max,…>",
  },
  logFormat: {
    schema: z.enum(LOG_FORMATS).optional(),
    accepts: LOG_FORMATS.join(", "),
    description: "log format on stderr (default: pretty on a terminal, JSON otherwise)",
    arg: "<json|pretty>",
  },
} as const satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof CONFIG_KEYS;
export const CONFIG_KEY_NAMES = Object.keys(CONFIG_KEYS) as ConfigKey[];

export const configSchema = z.strictObject(
  Object.fromEntries(CONFIG_KEY_NAMES.map((k) => [k, CONFIG_KEYS[k].schema])) as {
    [K in ConfigKey]: (typeof CONFIG_KEYS)[K]["schema"];
  },
);

export type ConfigInput = z.output<typeof configSchema>;

/** `httpPort` → `--http-port`. */
export const flagOf = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
/** `httpPort` → `HTTP_PORT`. */
export const envSegment = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
/** `HTTP_PORT` → `httpPort`. */
export const keyOfEnvSegment = (seg: string): string =>
  seg.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
export const ENV_PREFIX = "SWITCHBOARD_";
