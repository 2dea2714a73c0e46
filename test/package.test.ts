/**
 * The package as another project gets it: `npm pack` of this checkout, unpacked into a fresh
 * ESM project's node_modules (no network: the checkout's installed runtime dependencies are
 * linked beside it — only those package.json declares, so a missing declaration fails here),
 * then the three entry points imported and the README's two library snippets run: the
 * TypeScript one (compiled with tsc, `await using`) and the plain-JS one (try/finally, as
 * Node 20 needs), against `startMockGateway({ port: 0 })` from `ib-switchboard/mock`.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
};

function sh(
  cmd: string,
  args: string[],
  cwd: string,
  timeout = 120_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The code block after `<!-- snippet:<name> -->` in the README. */
function snippet(name: string): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const m = new RegExp(`<!-- snippet:${name} -->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!m) throw new Error(`README has no snippet ${name}`);
  return m[1]!;
}

let dir: string;
let project: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sb-pack-"));
  // dist/ is built by `pretest`; scripts are skipped so packing does not rebuild it.
  const packed = await sh("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], ROOT);
  expect(packed.code, packed.stderr).toBe(0);
  const tarball = join(dir, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
  project = join(dir, "app");
  const target = join(project, "node_modules", "ib-switchboard");
  mkdirSync(target, { recursive: true });
  const untar = await sh("tar", ["-xzf", tarball, "-C", target, "--strip-components=1"], dir);
  expect(untar.code, untar.stderr).toBe(0);
  // The user's own dev tools for the TypeScript snippet, plus the package's declared deps.
  const links = [...Object.keys(pkg.dependencies), "typescript", "@types/node"];
  for (const name of links) {
    const at = join(project, "node_modules", name);
    mkdirSync(join(at, ".."), { recursive: true });
    symlinkSync(join(ROOT, "node_modules", name), at, "dir");
  }
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "app", private: true, type: "module" }, null, 2),
  );
}, 180_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Prepended to each snippet: a mock on a free port, whose port replaces the snippet's 4002. */
const withMock = (code: string) =>
  [
    'import { startMockGateway } from "ib-switchboard/mock";',
    "const gw = await startMockGateway({ port: 0 });",
    code.replace(/^import .*$/m, (line) => `${line}\n`).replace("port: 4002", "port: gw.port"),
    "await gw.close();",
    'console.log("DONE");',
  ].join("\n");

describe("the packed package in a fresh ESM project", () => {
  it("imports ib-switchboard, ib-switchboard/mock and ib-switchboard/doctor, and the doctor finds the mock", async () => {
    writeFileSync(
      join(project, "entry.mjs"),
      [
        'import { Switchboard, IbClient, isSwitchboardError } from "ib-switchboard";',
        'import { startMockGateway, MockGateway } from "ib-switchboard/mock";',
        'import { runDoctor, toJson } from "ib-switchboard/doctor";',
        "const gw = await startMockGateway({ port: 0 });",
        "const report = await runDoctor({ ports: [gw.port], daemonUrl: null, timeoutMs: 5000, mockControlPorts: () => [gw.controlPort] });",
        "await gw.close();",
        "console.log(JSON.stringify({",
        "  kinds: [typeof Switchboard, typeof IbClient, typeof isSwitchboardError, typeof MockGateway],",
        "  port: gw.port, controlPort: gw.controlPort,",
        "  codes: toJson(report).data.findings.map((f) => f.code),",
        "}));",
      ].join("\n"),
    );
    const r = await sh(process.execPath, ["entry.mjs"], project, 60_000);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as {
      kinds: string[];
      port: number;
      controlPort: number;
      codes: string[];
    };
    expect(out.kinds).toEqual(["function", "function", "function", "function"]);
    expect(out.port).toBeGreaterThan(0);
    expect(out.controlPort).toBeGreaterThan(0);
    expect(out.codes).toContain("mock-gateway");
  }, 120_000);

  it("runs the README's plain-JavaScript snippet on this Node", async () => {
    writeFileSync(join(project, "readme.mjs"), withMock(snippet("library-js")));
    const r = await sh(process.execPath, ["readme.mjs"], project, 60_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("DONE");
    // The last bar, printed by the snippet: numbers and an ISO time.
    expect(r.stdout).toMatch(/time: '\d{4}-\d{2}-\d{2}T[\d:.]+Z'/);
    expect(r.stdout).toMatch(/volume: \d/);
  }, 120_000);

  it("compiles the README's TypeScript snippet against the shipped types and runs it", async () => {
    writeFileSync(join(project, "readme.ts"), withMock(snippet("library-ts")));
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          lib: ["ES2022", "ESNext.Disposable"],
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          types: ["node"],
          outDir: "out",
        },
        files: ["readme.ts"],
      }),
    );
    const tsc = await sh(
      process.execPath,
      [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "."],
      project,
    );
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
    const r = await sh(process.execPath, [join("out", "readme.js")], project, 60_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("DONE");
    expect(r.stdout).toMatch(/volume: \d/);
  }, 180_000);
});
