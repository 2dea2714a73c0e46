/**
 * The systemd unit in docs/deploy.md is a valid unit: `systemd-analyze verify` accepts it
 * (run where systemd-analyze is installed; elsewhere the unit's required settings are still
 * checked). ExecStart names `/usr/bin/env`, which exists on every Linux machine.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "sb-deploy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function unit(): string {
  const doc = readFileSync(join(ROOT, "docs", "deploy.md"), "utf8");
  const m = /<!-- unit:switchboard\.service -->\s*```ini\n([\s\S]*?)```/.exec(doc);
  if (!m) throw new Error("docs/deploy.md has no unit block");
  return m[1]!;
}

describe("docs/deploy.md systemd unit", () => {
  it("has what the daemon needs: ExecStart of switchboard start, a state dir, no restart on exit 2", () => {
    const u = unit();
    expect(u).toMatch(/^ExecStart=.*switchboard start/m);
    expect(u).toMatch(/^StateDirectory=switchboard$/m);
    expect(u).toMatch(/^RestartPreventExitStatus=2$/m);
    expect(u).toMatch(/^KillSignal=SIGTERM$/m);
  });

  const analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].find((p) => existsSync(p));
  it.runIf(analyze !== undefined)("passes systemd-analyze verify", async () => {
    const file = join(dir, "switchboard.service");
    writeFileSync(file, unit());
    const r = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(analyze!, ["verify", file], { timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, out: stdout + stderr }),
      );
    });
    // Lines about other units on this machine are not ours; ours must have none.
    const ours = r.out.split("\n").filter((l) => l.includes("switchboard.service"));
    expect(ours, r.out).toEqual([]);
    expect(r.code, r.out).toBe(0);
  });
});
