/** `switchboard ids …` as users run it: the built CLI in a child process, file store and Redis. */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServer, startRedis } from "../../registry/test-support/redis-server.test-util.js";

const BIN = fileURLToPath(new URL("../../../bin/switchboard.js", import.meta.url));
const LEASE_KEYS = [
  "clientId",
  "purpose",
  "owner",
  "token",
  "expiresAt",
  "leasedAt",
  "host",
  "pid",
  "upstream",
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sb(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, "ids", ...args], { env, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let redis: RedisServer;
let dir: string;
beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), "sb-cli-"));
});
afterAll(async () => {
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const stores: Record<string, () => string[]> = {
  file: () => ["--state-dir", join(dir, `s${Math.random().toString(36).slice(2)}`)],
  redis: () => ["--redis", `${redis.url}/0`, "--upstream", `u${Math.random().toString(36).slice(2)}`],
};

describe.each(Object.keys(stores))("switchboard ids (%s store)", (name) => {
  it("lease prints the id alone; list, renew and release follow the contract", async () => {
    const s = stores[name]!();
    const a = await sb(["lease", "workers", "--owner", "bot", "--ttl", "60000", ...s]);
    expect(a).toMatchObject({ code: 0, stdout: "10\n" });
    const token = /token (\w+)/.exec(a.stderr)?.[1];
    expect(token).toBeDefined();

    const b = await sb([
      "lease",
      "workers",
      "--owner",
      "bot2",
      "--ttl",
      "60000",
      "--pid",
      String(process.pid),
      "--json",
      ...s,
    ]);
    expect(b.code).toBe(0);
    const lb = JSON.parse(b.stdout);
    expect(Object.keys(lb)).toEqual(LEASE_KEYS);
    expect(lb).toMatchObject({ clientId: 11, purpose: "workers", owner: "bot2", pid: process.pid });

    const list = await sb(["list", "--json", ...s]);
    const leases = JSON.parse(list.stdout) as Record<string, unknown>[];
    expect(leases.map((l) => l.clientId)).toEqual([10, 11]);
    for (const l of leases) expect(Object.keys(l)).toEqual(LEASE_KEYS);
    const table = await sb(["list", ...s]);
    expect(table.stdout).toMatch(/UPSTREAM\s+ID\s+PURPOSE\s+OWNER/);
    expect(table.stdout).toMatch(/\b10\s+workers\s+bot\b/);

    const renewed = await sb(["renew", "10", "--token", token!, "--ttl", "120000", "--json", ...s]);
    expect(renewed.code).toBe(0);
    expect(JSON.parse(renewed.stdout).expiresAt).toBeGreaterThan(JSON.parse(list.stdout)[0].expiresAt);

    expect((await sb(["release", "10", ...s])).code).toBe(2);
    const wrong = await sb(["release", "10", "--token", "nope", ...s]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/token does not match/);
    expect((await sb(["release", "10", "--token", token!, ...s])).code).toBe(0);
    expect((await sb(["release", "11", "--force", ...s])).code).toBe(0);
    expect((await sb(["release", "11", "--force", ...s])).code).toBe(1);
    expect(JSON.parse((await sb(["list", "--json", ...s])).stdout)).toEqual([]);
  }, 60_000);

  it("lease --id takes that id or exits 1 naming its holder", async () => {
    const s = stores[name]!();
    const a = await sb(["lease", "workers", "--id", "42", "--owner", "line", ...s]);
    expect(a).toMatchObject({ code: 0, stdout: "42\n" });
    const again = await sb(["lease", "workers", "--id", "42", "--owner", "other", ...s]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/held by line/);
    expect((await sb(["lease", "workers", "--id", "5", ...s])).code).toBe(2);
  }, 60_000);

  it("an exhausted range exits 1 naming the purpose and holders", async () => {
    const s = stores[name]!();
    const runs = await Promise.all(
      Array.from({ length: 9 }, () => sb(["lease", "ui", "--owner", "screen", ...s])),
    );
    expect(runs.filter((r) => r.code !== 0)).toEqual([]);
    const ids = JSON.parse((await sb(["list", "--json", ...s])).stdout).map(
      (l: { clientId: number }) => l.clientId,
    );
    expect(ids.sort((x: number, y: number) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const r = await sb(["lease", "ui", "--owner", "late", ...s]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/purpose "ui".*held by screen/);
  }, 60_000);

  it("bad usage exits 2 naming the flag", async () => {
    const s = stores[name]!();
    const unknown = await sb(["lease", "nope", ...s]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /<purpose>.*accepted: ui, workers, manual, checks, agents, backfill, proxy/,
    );
    expect((await sb(["lease", "ui", "--ttl", "soon", ...s])).stderr).toMatch(/--ttl soon/);
    expect((await sb(["lease", "ui", "--pid", "999999999", ...s])).code).toBe(2);
  }, 60_000);
});

it("uses $XDG_STATE_HOME/switchboard when no store is given", async () => {
  const xdg = join(dir, "xdg");
  const env = { ...process.env, XDG_STATE_HOME: xdg };
  expect((await sb(["lease", "manual", "--owner", "me"], env)).stdout).toBe("100\n");
  const { readFile } = await import("node:fs/promises");
  const doc = JSON.parse(await readFile(join(xdg, "switchboard", "leases.json"), "utf8"));
  expect(doc.leases[0]).toMatchObject({ clientId: 100, owner: "me" });
});

it("a lease bound to a dead pid is reclaimed", async () => {
  const s = ["--state-dir", join(dir, "pid")];
  const { spawn } = await import("node:child_process");
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"]);
  const pid = child.pid!;
  const first = await sb(["lease", "checks", "--pid", String(pid), ...s]);
  expect(first).toMatchObject({ code: 0, stdout: "200\n" });
  await new Promise((r) => {
    child.once("exit", r);
    child.kill("SIGKILL");
  });
  expect(JSON.parse((await sb(["list", "--json", ...s])).stdout)).toEqual([]);
  expect(await sb(["lease", "checks", ...s])).toMatchObject({ code: 0, stdout: "200\n" });
}, 30_000);

it("an unreachable Redis exits 1", async () => {
  const r = await sb(["list", "--redis", "redis://127.0.0.1:1"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/redis/);
});
