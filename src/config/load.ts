/**
 * Config layers: the YAML file, then SWITCHBOARD_* env vars, then flags (each overrides the
 * one before). All three are validated by the one schema; every error names the key, where it
 * came from and what the key accepts (exit 2 at the CLI edge).
 */

import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { isLoopbackHost } from "../access/allow-list.js";
import { isSwitchboardError, SwitchboardError } from "../errors.js";
import { DEFAULT_PACING_PROFILE, type PacingProfile, resolveRules } from "../pacing/rules.js";
import { DEFAULT_PURPOSES, type PurposeRanges, resolvePurposes } from "../registry/purposes.js";
import { modeOf } from "../line/identity.js";
import {
  AUTO_PORTS,
  CONFIG_KEY_NAMES,
  CONFIG_KEYS,
  type ConfigInput,
  configSchema,
  DEFAULT_BIND_HOST,
  DEFAULT_HA_LEASE_MS,
  DEFAULT_HTTP_PORT,
  DEFAULT_LINE_NAME,
  DEFAULT_LOG_LEVEL,
  DEFAULT_MOCK_PORT,
  DEFAULT_PROXY_PORT,
  ENV_PREFIX,
  envSegment,
  flagOf,
  type KeySpec,
  keyOfEnvSegment,
  LINE_KEYS,
  type LOG_FORMATS,
  type LOG_LEVELS,
  parseUpstream,
  type UpstreamSpec,
} from "./schema.js";

export interface LineConfig {
  readonly name: string;
  readonly upstream: UpstreamSpec;
  readonly required: boolean;
  /** Pinned identity (line identity): a gateway of the other kind is refused. */
  readonly mode?: "paper" | "live";
  readonly accounts?: readonly string[];
  /** The line's own proxy port (0 = any free port); the first line's defaults to `proxyPort`. */
  readonly proxyPort: number;
  /** The config key that set `proxyPort` (a port in use names it). */
  readonly proxyPortKey: "proxyPort" | `lines.${number}.proxyPort`;
  /** Order messages refused with 201: the line's `readOnly`, else the daemon's. */
  readonly readOnly: boolean;
}

export interface DaemonConfig {
  readonly lines: readonly LineConfig[];
  /** True when nothing named an upstream and the built-in mock stands in. */
  readonly implicitMock: boolean;
  readonly httpPort: number;
  /** The first line's proxy port (READY `proxyPort`); every line has its own in `lines`. */
  readonly proxyPort: number;
  readonly host: string;
  readonly readOnly: boolean;
  /** Proxy: a duplicate virtual client id gets 326 (default: allowed, each socket its own tenant). */
  readonly strictClientIds: boolean;
  readonly token: string | undefined;
  readonly mockPort: number;
  /** The built-in mock's calendar start (ISO 8601), if pinned. */
  readonly mockNow: string | undefined;
  readonly pacingProfile: PacingProfile;
  /** The parsed `pacingRules` file (checked against the profile's table). */
  readonly pacingRules: unknown;
  /** An identical historical request within this long is answered from the last answer (0 = off; undefined: the switch's default). */
  readonly historyCacheMs: number | undefined;
  /** Contract details are answered from the last answer this long (0 = off; undefined: the switch's default). */
  readonly contractCacheMs: number | undefined;
  readonly allow: readonly string[];
  readonly allowMock: boolean;
  /** The ports `auto` probes, in order. */
  readonly autoPorts: readonly number[];
  readonly stateDir: string | undefined;
  /** History jobs' dataset; undefined = `<stateDir>/bars`. */
  readonly historyDir: string | undefined;
  readonly redis: string | undefined;
  /** Standby through Redis (needs `redis`). */
  readonly ha: { readonly group: string; readonly leaseMs: number } | undefined;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  /** Client-id purposes: the defaults with the config's `purposes` merged over them. */
  readonly purposes: PurposeRanges;
  /** undefined: pretty on a TTY, JSON otherwise. */
  readonly logFormat: (typeof LOG_FORMATS)[number] | undefined;
  /** The file that was read, if any. */
  readonly file: string | undefined;
}

export class ConfigError extends SwitchboardError {
  constructor(key: string, message: string) {
    super("config", message, { field: key });
  }
}

/** Env vars with our prefix that belong to other commands (`status`) or to file selection. */
const FOREIGN_ENV = new Set(["SWITCHBOARD_URL", "SWITCHBOARD_CONFIG"]);

export interface ConfigSources {
  /** Text and name of the YAML file, when there is one. */
  file?: { name: string; text: string };
  env?: Readonly<Record<string, string | undefined>>;
  /** Already camelCase keys (commander's names); only keys the user gave. */
  flags?: Readonly<Record<string, unknown>>;
}

type Origin = { kind: "file"; name: string } | { kind: "env"; name: string } | { kind: "flag"; name: string };

export function loadConfig(sources: ConfigSources): DaemonConfig {
  const raw: Record<string, unknown> = {};
  const origins = new Map<string, Origin>();
  if (sources.file) {
    const doc = readYaml(sources.file.name, sources.file.text);
    for (const [k, v] of Object.entries(doc)) {
      raw[k] = v;
      origins.set(k, { kind: "file", name: sources.file.name });
    }
    // The file is checked on its own too: a bad value in it is a mistake even while a flag
    // happens to override that key today (it would surface the day the flag is dropped).
    const alone = configSchema.safeParse(doc);
    if (!alone.success) throw issueError(alone.error.issues[0]!, raw, origins);
  }
  for (const [name, value] of Object.entries(sources.env ?? {})) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined || FOREIGN_ENV.has(name)) continue;
    const path = name
      .slice(ENV_PREFIX.length)
      .split("__")
      .map((seg) => (/^\d+$/.test(seg) ? Number(seg) : keyOfEnvSegment(seg)));
    const top = String(path[0]);
    if (!(CONFIG_KEY_NAMES as string[]).includes(top)) {
      throw new ConfigError(
        top,
        `unknown config key from env ${name}; accepted: ${CONFIG_KEY_NAMES.map((k) => ENV_PREFIX + envSegment(k)).join(", ")}` +
          " (nested keys joined by __)",
      );
    }
    setPath(raw, path, value);
    origins.set(path.join("."), { kind: "env", name });
    if (path.length === 1) origins.set(top, { kind: "env", name });
  }
  for (const [k, v] of Object.entries(sources.flags ?? {})) {
    if (v === undefined) continue;
    if (k.includes(".")) {
      // A flag of a nested key (`--ha-group` → ha.group): sets that field only.
      const path = k.split(".");
      setPath(raw, path, v);
      origins.set(k, {
        kind: "flag",
        name: flagOf(path.map((p, i) => (i === 0 ? p : p[0]!.toUpperCase() + p.slice(1))).join("")),
      });
      continue;
    }
    raw[k] = v;
    origins.set(k, { kind: "flag", name: flagOf(k) });
    // A flag replaces the whole key: nested origins from lower layers no longer apply.
    for (const p of [...origins.keys()]) if (p.startsWith(`${k}.`)) origins.delete(p);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw issueError(parsed.error.issues[0]!, raw, origins);
  return resolve(parsed.data, origins, sources.file?.name);
}

function readYaml(name: string, text: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError("config", `cannot parse ${name}: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new ConfigError("config", `${name}: expected a mapping of keys (${CONFIG_KEY_NAMES.join(", ")})`);
  }
  return doc as Record<string, unknown>;
}

function setPath(target: Record<string, unknown>, path: readonly (string | number)[], value: unknown): void {
  let node: Record<string | number, unknown> = target;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    const nextIsIndex = typeof path[i + 1] === "number";
    let child = node[key];
    if (typeof child !== "object" || child === null) {
      child = nextIsIndex ? [] : {};
      node[key] = child;
    } else {
      // Copy so an env override never edits the parsed YAML in place.
      child = Array.isArray(child) ? [...child] : { ...(child as object) };
      node[key] = child;
    }
    node = child as Record<string | number, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function originText(path: readonly PropertyKey[], origins: ReadonlyMap<string, Origin>): string {
  for (let n = path.length; n >= 1; n--) {
    const o = origins.get(path.slice(0, n).map(String).join("."));
    if (o) return o.kind === "file" ? `in ${o.name}` : `from ${o.kind} ${o.name}`;
  }
  return "default";
}

function specOf(path: readonly PropertyKey[]): KeySpec | undefined {
  const top = String(path[0]);
  if (top === "lines" && path.length >= 3) return LINE_KEYS[String(path[2]) as keyof typeof LINE_KEYS];
  return CONFIG_KEYS[top as keyof typeof CONFIG_KEYS];
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v = raw;
  for (const p of path)
    v = typeof v === "object" && v !== null ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

function issueError(
  issue: z.core.$ZodIssue,
  raw: Record<string, unknown>,
  origins: ReadonlyMap<string, Origin>,
): ConfigError {
  const path = issue.path;
  if (issue.code === "unrecognized_keys") {
    const key = [...path.map(String), issue.keys[0]!].join(".");
    const accepted = path.length === 0 ? CONFIG_KEY_NAMES : Object.keys(LINE_KEYS);
    return new ConfigError(
      key,
      `unknown config key "${key}" (${originText([...path, issue.keys[0]!], origins)}); accepted keys: ${accepted.join(", ")}`,
    );
  }
  const key = path.map(String).join(".");
  const spec = specOf(path);
  const shown = valueAt(raw, path);
  const got = shown === undefined ? "nothing" : JSON.stringify(shown);
  return new ConfigError(
    key,
    `config key "${key}" (${originText(path, origins)}): got ${got}; accepted: ${spec?.accepts ?? issue.message}`,
  );
}

function resolve(
  c: ConfigInput,
  origins: ReadonlyMap<string, Origin>,
  file: string | undefined,
): DaemonConfig {
  const rank = (k: string) => ({ file: 0, env: 1, flag: 2 })[origins.get(k)?.kind ?? "file"];
  let lines: LineConfig[];
  if (c.upstream !== undefined && c.lines !== undefined && rank("upstream") === rank("lines")) {
    throw new ConfigError(
      "upstream",
      `config keys "upstream" and "lines" both given (${originText(["upstream"], origins)}); upstream is shorthand for one line named "${DEFAULT_LINE_NAME}": give one of them`,
    );
  }
  const useUpstream = c.upstream !== undefined && (c.lines === undefined || rank("upstream") > rank("lines"));
  for (const key of ["mode", "accounts"] as const) {
    if (c[key] !== undefined && !useUpstream) {
      throw new ConfigError(
        key,
        `config key "${key}" (${originText([key], origins)}) pins the line that "upstream" makes; with "lines" (or no upstream) give lines[].${key} instead`,
      );
    }
  }
  const readOnly = c.readOnly ?? false;
  const proxyPort = c.proxyPort ?? DEFAULT_PROXY_PORT;
  if (useUpstream) {
    lines = [
      {
        name: DEFAULT_LINE_NAME,
        upstream: parseUpstream(c.upstream!)!,
        required: true,
        ...(c.mode === undefined ? {} : { mode: c.mode }),
        ...(c.accounts === undefined ? {} : { accounts: c.accounts }),
        proxyPort,
        proxyPortKey: "proxyPort",
        readOnly,
      },
    ];
  } else if (c.lines) {
    lines = c.lines.map((l, i) => ({
      name: l.name,
      upstream: parseUpstream(l.upstream)!,
      required: l.required ?? true,
      ...(l.mode === undefined ? {} : { mode: l.mode }),
      ...(l.accounts === undefined ? {} : { accounts: l.accounts }),
      proxyPort: l.proxyPort ?? (i === 0 ? proxyPort : -1),
      proxyPortKey: l.proxyPort === undefined ? ("proxyPort" as const) : (`lines.${i}.proxyPort` as const),
      readOnly: l.readOnly ?? readOnly,
    }));
    const seen = new Set<string>();
    const ports = new Map<number, number>();
    for (const [i, l] of lines.entries()) {
      checkPin(l, `lines.${i}.`);
      if (seen.has(l.name)) {
        throw new ConfigError(
          `lines.${i}.name`,
          `config key "lines.${i}.name": line name "${l.name}" is used twice; names must be unique`,
        );
      }
      seen.add(l.name);
      if (l.proxyPort < 0) {
        throw new ConfigError(
          `lines.${i}.proxyPort`,
          `config key "lines.${i}.proxyPort": line "${l.name}" needs its own proxy port (every line but the first; ` +
            `the first may use the top-level "proxyPort"); accepted: ${LINE_KEYS.proxyPort.accepts}`,
        );
      }
      // Port 0 asks for any free port: several lines may ask for it.
      const other = ports.get(l.proxyPort);
      if (other !== undefined) {
        const first = lines[other]!;
        throw new ConfigError(
          l.proxyPortKey,
          `config key "${l.proxyPortKey}": lines "${first.name}" (${first.proxyPortKey}) and "${l.name}" (${l.proxyPortKey}) ` +
            `both use proxy port ${l.proxyPort}; every line needs a port of its own`,
        );
      }
      if (l.proxyPort !== 0) ports.set(l.proxyPort, i);
    }
  } else {
    lines = [
      {
        name: DEFAULT_LINE_NAME,
        upstream: { kind: "mock" },
        required: true,
        proxyPort,
        proxyPortKey: "proxyPort",
        readOnly,
      },
    ];
  }
  if (useUpstream) checkPin(lines[0]!, "");
  const host = c.host ?? DEFAULT_BIND_HOST;
  const allow = c.allow ?? [];
  if (!isLoopbackHost(host) && (c.token === undefined || allow.length === 0)) {
    throw new ConfigError(
      "host",
      `config key "host" (${originText(["host"], origins)}): binding ${host} (not loopback) needs both ${flagOf("token")} and ${flagOf("allow")} <cidr,…>; accepted without them: 127.0.0.1, ::1, localhost`,
    );
  }
  if (c.ha !== undefined && c.redis === undefined) {
    throw new ConfigError(
      "ha",
      `config key "ha" (${originText(["ha"], origins)}): an HA group keeps its lease, orders and identity in Redis: give ${flagOf("redis")} <url> (config key redis) too`,
    );
  }
  return {
    lines,
    implicitMock: !useUpstream && c.lines === undefined,
    httpPort: c.httpPort ?? DEFAULT_HTTP_PORT,
    proxyPort: lines[0]!.proxyPort,
    host,
    readOnly,
    strictClientIds: c.strictClientIds ?? false,
    token: c.token,
    mockPort: c.mockPort ?? DEFAULT_MOCK_PORT,
    mockNow: c.mockNow,
    pacingProfile: c.pacingProfile ?? DEFAULT_PACING_PROFILE,
    pacingRules: readPacingRules(c.pacingRules, c.pacingProfile ?? DEFAULT_PACING_PROFILE, origins),
    historyCacheMs: c.historyCacheMs,
    contractCacheMs: c.contractCacheMs,
    allow,
    allowMock: c.allowMock ?? false,
    autoPorts: c.autoPorts ?? AUTO_PORTS,
    stateDir: c.stateDir,
    historyDir: c.historyDir,
    redis: c.redis,
    ha: c.ha === undefined ? undefined : { group: c.ha.group, leaseMs: c.ha.leaseMs ?? DEFAULT_HA_LEASE_MS },
    logLevel: c.logLevel ?? DEFAULT_LOG_LEVEL,
    logFormat: c.logFormat,
    purposes: purposesOf(c.purposes, origins),
    file,
  };
}

/** A pinned mode the pinned accounts contradict can never be met: a config error, not a line that waits forever. */
function checkPin(l: LineConfig, prefix: string): void {
  if (l.mode === undefined || l.accounts === undefined || modeOf(l.accounts) === l.mode) return;
  throw new ConfigError(
    `${prefix}accounts`,
    `config key "${prefix}accounts": ${l.accounts.join(",")} are ${modeOf(l.accounts)} accounts but "${prefix}mode" is ${l.mode} (paper accounts start with D)`,
  );
}

/** Read and check a `pacingRules` file now, so a bad one is a start error naming the key. */
function readPacingRules(
  path: string | undefined,
  profile: PacingProfile,
  origins: ReadonlyMap<string, Origin>,
): unknown {
  if (path === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ConfigError(
      "pacingRules",
      `config key "pacingRules" (${originText(["pacingRules"], origins)}): cannot read ${path}: ${(err as Error).message}`,
    );
  }
  try {
    resolveRules({ profile, override: json });
  } catch (err) {
    throw new ConfigError(
      "pacingRules",
      `config key "pacingRules" (${originText(["pacingRules"], origins)}): ${(err as Error).message}`,
    );
  }
  return json;
}

/** The defaults with the configured ranges over them, checked for overlaps (key named). */
export function purposesOf(
  configured: PurposeRanges | undefined,
  origins: ReadonlyMap<string, Origin> = new Map(),
): PurposeRanges {
  const table: PurposeRanges = { ...DEFAULT_PURPOSES, ...configured };
  try {
    resolvePurposes(table);
  } catch (err) {
    if (!isSwitchboardError(err)) throw err;
    throw new ConfigError(
      err.field ?? "purposes",
      `config key "${err.field ?? "purposes"}" (${originText(["purposes"], origins)}): ${err.message}; ` +
        `configured purposes are merged over the defaults ${Object.entries(DEFAULT_PURPOSES)
          .map(([n, r]) => `${n}=${r.min}-${r.max}`)
          .join(",")}`,
    );
  }
  return table;
}
