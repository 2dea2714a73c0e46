/**
 * `switchboard ids list|lease|release|renew`: client-id leases without the daemon, against the
 * file store in the state dir (default) or a Redis store (`--redis redis://…`).
 * `lease` and `renew` print the client id alone on stdout (scripts do `ID=$(switchboard ids
 * lease workers)`); the token goes to stderr; `--json` prints the lease JSON instead.
 */
import { hostname, userInfo } from "node:os";
import type { Command } from "commander";
import { isSwitchboardError } from "../../errors.js";
// Module by module, not the registry's index: that would load ioredis for every `ids` call.
import { FileLeaseStore } from "../../registry/file-store.js";
import { isProcessAlive } from "../../registry/liveness.js";
import { DEFAULT_UPSTREAM } from "../../registry/options.js";
import { Registry } from "../../registry/registry.js";
import { defaultStateDir } from "../../registry/state-dir.js";
import type { PurposeRanges } from "../../registry/purposes.js";
import type { LeaseStore } from "../../registry/store.js";
import type { Lease } from "../../registry/types.js";
import { CliExit, EXIT_FAILURE, EXIT_USAGE } from "../exit-codes.js";

/** How long one `ids` call waits for the file store's lock (the library default is 10 s). */
const CLI_LOCK_TIMEOUT_MS = 60_000;

interface CommonFlags {
  stateDir?: string;
  purposesFile?: string;
  redis?: string;
  upstream?: string;
  json?: boolean;
}

const FLAG_OF_FIELD: Record<string, string> = {
  ttlMs: "--ttl",
  owner: "--owner",
  pid: "--pid",
  token: "--token",
  upstream: "--upstream",
  purpose: "<purpose>",
  clientId: "<clientId>",
  purposes: "purposes",
};

export function register(program: Command): void {
  const ids = program
    .command("ids")
    .description("client-id leases: list | lease <purpose> | release <clientId> | renew <clientId>");

  common(ids.command("list").description("show current leases")).action((flags: CommonFlags) =>
    run(flags, async (reg) => {
      const leases = await reg.list(flags.upstream === undefined ? {} : { upstream: flags.upstream });
      if (flags.json) {
        out(`${JSON.stringify(leases.map(({ ageMs: _a, ...l }) => leaseJson(l)))}\n`);
        return;
      }
      out(formatTable(leases));
      out(`\n${formatPurposes(reg, leases)}`);
    }),
  );

  common(ids.command("purposes").description("show each purpose's client-id range and its leases")).action(
    (flags: CommonFlags) =>
      run(flags, async (reg) => {
        const leases = await reg.list(flags.upstream === undefined ? {} : { upstream: flags.upstream });
        if (flags.json) {
          const rows = reg.purposes.map((p) => ({
            name: p.name,
            min: p.min,
            max: p.max,
            size: p.size,
            leased: leases.filter((l) => l.purpose === p.name).length,
          }));
          out(`${JSON.stringify(rows)}\n`);
          return;
        }
        out(formatPurposes(reg, leases));
      }),
  );

  common(ids.command("lease").argument("<purpose>", "ui, workers, manual, checks, agents, backfill, proxy…"))
    .description("lease a free client id of a purpose; prints the id alone")
    .option("--owner <name>", "who holds the lease (default: user@host)")
    .option("--ttl <ms>", "lease length in ms (default 600000)")
    .option("--pid <n>", "bind the lease to a local process: it is reclaimed when that process is gone")
    .option("--id <n>", "lease this id of the purpose's range and no other (exit 1 while it is held)")
    .action(
      (purpose: string, flags: CommonFlags & { owner?: string; ttl?: string; pid?: string; id?: string }) =>
        run(flags, async (reg) => {
          const pid = flags.pid === undefined ? undefined : intFlag("--pid", flags.pid);
          const clientId = flags.id === undefined ? undefined : intFlag("--id", flags.id);
          if (pid !== undefined && !isProcessAlive(pid))
            throw new CliExit(EXIT_USAGE, `--pid ${pid}: no such process`);
          const lease = await reg.lease(
            purpose,
            flags.owner ?? defaultOwner(),
            flags.ttl === undefined ? undefined : intFlag("--ttl", flags.ttl),
            {
              ...(pid === undefined ? {} : { pid }),
              ...(clientId === undefined ? {} : { clientId }),
              ...(flags.upstream === undefined ? {} : { upstream: flags.upstream }),
            },
          );
          printLease(lease, flags.json === true, "leased");
        }),
    );

  common(ids.command("renew").argument("<clientId>"))
    .description("extend a lease; needs its token")
    .requiredOption("--token <token>", "the token printed when the lease was taken")
    .option("--ttl <ms>", "new lease length from now in ms (default 600000)")
    .action((id: string, flags: CommonFlags & { token: string; ttl?: string }) =>
      run(flags, async (reg) => {
        const lease = await reg.renew(
          intFlag("<clientId>", id),
          flags.token,
          flags.ttl === undefined ? undefined : intFlag("--ttl", flags.ttl),
          flags.upstream === undefined ? {} : { upstream: flags.upstream },
        );
        printLease(lease, flags.json === true, "renewed");
      }),
    );

  common(ids.command("release").argument("<clientId>"))
    .description("give a client id back; needs its token or --force")
    .option("--token <token>", "the token printed when the lease was taken")
    .option("--force", "release whoever holds it")
    .action((id: string, flags: CommonFlags & { token?: string; force?: boolean }) =>
      run(flags, async (reg) => {
        if (flags.token === undefined && !flags.force) {
          throw new CliExit(EXIT_USAGE, "ids release: give --token <token> (from `ids lease`) or --force");
        }
        const lease = await reg.release(intFlag("<clientId>", id), {
          ...(flags.token === undefined ? { force: true } : { token: flags.token }),
          ...(flags.upstream === undefined ? {} : { upstream: flags.upstream }),
        });
        if (flags.json) out(`${JSON.stringify(leaseJson(lease))}\n`);
        else process.stderr.write(`released client id ${lease.clientId} (upstream ${lease.upstream})\n`);
      }),
    );
}

function common(cmd: Command): Command {
  return cmd
    .option(
      "--state-dir <dir>",
      "file store directory (default $XDG_STATE_HOME/switchboard or ~/.local/state/switchboard)",
    )
    .option("--redis <url>", "use the Redis store at redis://host:port instead of the file store")
    .option("--upstream <name>", `leases are scoped by upstream (default "${DEFAULT_UPSTREAM}")`)
    .option(
      "--purposes-file <file>",
      "YAML with the purposes and their id ranges (a `purposes:` mapping, as in switchboard.yaml); env SWITCHBOARD_PURPOSES=name=min-max,…",
    )
    .option("--json", "print JSON");
}

async function run(flags: CommonFlags, fn: (reg: Registry) => Promise<void>): Promise<void> {
  if (flags.redis !== undefined && !/^rediss?:\/\//.test(flags.redis)) {
    throw new CliExit(EXIT_USAGE, `--redis ${flags.redis}: expected redis://host:port or rediss://…`);
  }
  if (flags.redis !== undefined && flags.stateDir !== undefined) {
    throw new CliExit(EXIT_USAGE, "--redis and --state-dir choose different stores; give one of them");
  }
  const store: LeaseStore =
    flags.redis === undefined
      ? new FileLeaseStore({
          stateDir: flags.stateDir ?? defaultStateDir(process.env),
          // Many scripts may lease at once on a busy machine: waiting beats failing here.
          lockTimeoutMs: CLI_LOCK_TIMEOUT_MS,
        })
      : new (await import("../../registry/redis-store.js")).RedisLeaseStore({ url: flags.redis });
  const purposes = await loadPurposes(flags.purposesFile, process.env.SWITCHBOARD_PURPOSES);
  const reg = new Registry({ store, ...(purposes === undefined ? {} : { purposes }) });
  try {
    await fn(reg);
  } catch (err) {
    if (err instanceof CliExit || !isSwitchboardError(err)) throw err;
    if (err.code === "invalid_argument") {
      const flag = err.field === undefined ? "" : `${FLAG_OF_FIELD[err.field] ?? err.field}: `;
      throw new CliExit(EXIT_USAGE, `ids: ${flag}${err.message}`);
    }
    throw new CliExit(EXIT_FAILURE, `ids: ${err.message} [${err.code}]`);
  } finally {
    await reg.close();
  }
}

/**
 * The purpose table from `--purposes-file` (or SWITCHBOARD_PURPOSES), merged over the
 * defaults exactly as the daemon does, so both hand out the same ranges. The config parser
 * loads only when a table is given: plain `ids` calls stay light.
 */
async function loadPurposes(
  file: string | undefined,
  envText: string | undefined,
): Promise<PurposeRanges | undefined> {
  if (file === undefined && (envText === undefined || envText === "")) return undefined;
  const [{ readFile }, { parse }, { CONFIG_KEYS }, { purposesOf, ConfigError }] = await Promise.all([
    import("node:fs/promises"),
    import("yaml"),
    import("../../config/schema.js"),
    import("../../config/load.js"),
  ]);
  let raw: unknown = envText;
  let where = "env SWITCHBOARD_PURPOSES";
  if (file !== undefined) {
    where = `--purposes-file ${file}`;
    let doc: unknown;
    try {
      doc = parse(await readFile(file, "utf8"));
    } catch (err) {
      throw new CliExit(EXIT_USAGE, `${where}: cannot read: ${(err as Error).message}`);
    }
    raw =
      typeof doc === "object" && doc !== null && "purposes" in doc
        ? (doc as { purposes: unknown }).purposes
        : doc;
  }
  const parsed = CONFIG_KEYS.purposes.schema.safeParse(raw);
  if (!parsed.success || parsed.data === undefined) {
    throw new CliExit(EXIT_USAGE, `${where}: expected ${CONFIG_KEYS.purposes.accepts}`);
  }
  try {
    return purposesOf(parsed.data);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliExit(EXIT_USAGE, `${where}: ${err.message}`);
    throw err;
  }
}

function formatPurposes(reg: Registry, leases: readonly Lease[]): string {
  const rows = [["PURPOSE", "IDS", "LEASED"]];
  for (const p of reg.purposes) {
    const n = leases.filter((l) => l.purpose === p.name).length;
    rows.push([p.name, `${p.min}-${p.max}`, `${n}/${p.size}`]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")}\n`;
}

/** The lease JSON of interfaces.md, in its documented field order. */
function leaseJson(l: Lease): Lease {
  return {
    clientId: l.clientId,
    purpose: l.purpose,
    owner: l.owner,
    token: l.token,
    expiresAt: l.expiresAt,
    leasedAt: l.leasedAt,
    host: l.host,
    pid: l.pid,
    upstream: l.upstream,
  };
}

function printLease(lease: Lease, json: boolean, verb: string): void {
  if (json) {
    out(`${JSON.stringify(leaseJson(lease))}\n`);
    return;
  }
  out(`${lease.clientId}\n`);
  process.stderr.write(
    `${verb} client id ${lease.clientId} (purpose ${lease.purpose}, upstream ${lease.upstream}) ` +
      `until ${new Date(lease.expiresAt).toISOString()}; token ${lease.token}\n`,
  );
}

function formatTable(leases: readonly (Lease & { ageMs: number })[]): string {
  if (leases.length === 0) return "no leases\n";
  const rows = [["UPSTREAM", "ID", "PURPOSE", "OWNER", "HOST", "PID", "AGE", "EXPIRES"]];
  for (const l of leases) {
    rows.push([
      l.upstream,
      String(l.clientId),
      l.purpose,
      l.owner,
      l.host,
      l.pid === null ? "-" : String(l.pid),
      duration(l.ageMs),
      new Date(l.expiresAt).toISOString(),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")}\n`;
}

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

function intFlag(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new CliExit(EXIT_USAGE, `${flag} ${value}: expected a non-negative integer`);
  }
  return Number(value);
}

function defaultOwner(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `cli@${hostname()}`;
  }
}

function out(text: string): void {
  process.stdout.write(text);
}
