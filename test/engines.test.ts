/**
 * Every runtime dependency installs on the Node versions `engines` promises: `npm ci` on
 * Node 20 must print no EBADENGINE warning (cookie 2, pulled in through fastify, wanted Node
 * 22). The installed tree of production dependencies is walked as npm lists it, and each
 * package's own `engines.node` must accept both Node 20.0 and the Node running the test.
 */
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** npm's own range logic (semver ships no types; this is the part used here). */
const semver = createRequire(import.meta.url)("semver") as {
  satisfies(version: string, range: string): boolean;
  minVersion(range: string): { version: string } | null;
  validRange(range: string): string | null;
};

function productionPackages(): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(
      "npm",
      ["ls", "--omit=dev", "--all", "--parseable"],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout) => {
        // npm ls exits non-zero for extraneous packages; the list is still complete.
        if (err && !stdout) reject(err);
        else resolve(stdout.split("\n").filter((l) => l.includes("node_modules")));
      },
    );
  });
}

describe("runtime dependencies and engines", () => {
  it("every production package accepts the Node versions package.json promises", async () => {
    const promised = (
      JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { engines: { node: string } }
    ).engines.node;
    const lowest = semver.minVersion(promised)!.version;
    const dirs = await productionPackages();
    expect(dirs.length).toBeGreaterThan(20);
    const refused: string[] = [];
    for (const dir of dirs) {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name: string;
        version: string;
        engines?: { node?: string };
      };
      const range = pkg.engines?.node;
      if (range === undefined || semver.validRange(range) === null) continue;
      for (const v of [lowest, process.versions.node]) {
        if (!semver.satisfies(v, range))
          refused.push(`${pkg.name}@${pkg.version} wants node ${range}, not ${v}`);
      }
    }
    expect(refused).toEqual([]);
  });
});
