/**
 * The command line loads only what the command it runs needs: `--help`, `--version` and
 * `ids …` must not load the HTTP server, Redis client, mock, doctor or daemon (that is what
 * made a cold `--help` take half a second and 50 parallel `ids lease` take 25 s). The child's
 * module loads are recorded by a resolve hook (module.register) that appends every resolved
 * URL to a file; the assertions read that file. Timings live in bench/cli.bench.mjs.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN } from "../daemon/test-support/process.test-util.js";

/** Modules a light command must not load. */
const HEAVY = [
  /\/node_modules\/fastify\//,
  /\/node_modules\/ioredis\//,
  /\/node_modules\/pino-pretty\//,
  /\/node_modules\/prom-client\//,
  /\/dist\/(mock|doctor|daemon|api|proxy|switch)\//,
  // The identity rules (paper iff every account starts with D) check lines[].mode against
  // lines[].accounts in the config; the line itself is not loaded.
  /\/dist\/line\/(?!identity\.js)/,
  // The pacing rules table is data the config names (pacing profiles); the pacer is not.
  /\/dist\/pacing\/(?!rules\.js)/,
];

let dir: string;
let register: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sb-lazy-"));
  const hooks = join(dir, "hooks.mjs");
  writeFileSync(
    hooks,
    [
      'import { appendFileSync } from "node:fs";',
      "export async function resolve(specifier, context, next) {",
      "  const r = await next(specifier, context);",
      "  appendFileSync(process.env.SB_LOAD_LOG, r.url + '\\n');",
      "  return r;",
      "}",
    ].join("\n"),
  );
  register = join(dir, "register.mjs");
  writeFileSync(
    register,
    `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function loads(args: string[]): Promise<{ code: number | null; loaded: string[]; stderr: string }> {
  const log = join(dir, `load-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(log, "");
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", pathToFileURL(register).href, BIN, ...args], {
      env: { ...process.env, SB_LOAD_LOG: log, SWITCHBOARD_URL: "" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => {
      stderr += b.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, loaded: readFileSync(log, "utf8").split("\n").filter(Boolean), stderr });
    });
  });
}

describe("light commands load no heavy module", () => {
  const cases: [string, string[]][] = [
    ["--help", ["--help"]],
    ["--version", ["--version"]],
    ["help ids", ["help", "ids"]],
    ["ids list", ["ids", "list", "--state-dir", "STATE"]],
    ["ids lease", ["ids", "lease", "agents", "--state-dir", "STATE", "--json"]],
    ["start --help", ["start", "--help"]],
  ];
  for (const [name, args] of cases) {
    it(name, async () => {
      const r = await loads(args.map((a) => (a === "STATE" ? join(dir, "state") : a)));
      expect(r.code, r.stderr).toBe(0);
      // The hook saw the CLI itself: the record is real, not empty.
      expect(r.loaded.some((u) => u.endsWith("/dist/cli/main.js"))).toBe(true);
      const heavy = r.loaded.filter((u) => HEAVY.some((h) => h.test(u)));
      expect(heavy).toEqual([]);
    });
  }

  it("the command that runs still loads its parts (the hook sees them)", async () => {
    const r = await loads(["doctor", "--port", "1", "--no-daemon", "--json", "--timeout", "200"]);
    expect(r.loaded.some((u) => /\/dist\/doctor\//.test(u))).toBe(true);
  });
});
