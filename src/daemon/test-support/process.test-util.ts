/**
 * Real processes for the daemon's tests: `node bin/switchboard.js …` started as a user
 * would, READY parsed from stdout, stderr kept for messages, and every process stopped by
 * the test that started it. Waits are bounded; nothing asserts on time.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { TEST_NOW } from "../../mock/test-now.test-util.js";

export const BIN = fileURLToPath(new URL("../../../bin/switchboard.js", import.meta.url));
const READY_TIMEOUT_MS = 15_000;

export interface Proc {
  readonly child: ChildProcess;
  readonly ready: Record<string, unknown>;
  /** Every READY line so far (an HA standby prints a second one when it becomes active). */
  readies(): Record<string, unknown>[];
  stderr(): string;
  /** Send a signal and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startProcess(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Proc> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...cleanEnv(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (b: Buffer) => {
    err += b.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no READY within ${READY_TIMEOUT_MS} ms; stderr:\n${err}`));
    }, READY_TIMEOUT_MS);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before READY; stderr:\n${err}`));
    });
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /^READY (.*)$/m.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.removeAllListeners("data");
      const readies = [JSON.parse(m[1]!) as Record<string, unknown>];
      let rest = out.slice(m.index + m[0].length);
      child.stdout.on("data", (more: Buffer) => {
        rest += more.toString();
        let nl: number;
        while ((nl = rest.indexOf("\n")) !== -1) {
          const line = rest.slice(0, nl);
          rest = rest.slice(nl + 1);
          if (line.startsWith("READY ")) readies.push(JSON.parse(line.slice(6)) as Record<string, unknown>);
        }
      });
      resolve({
        child,
        ready: readies[0]!,
        readies: () => readies,
        stderr: () => err,
        stop: async (signal = "SIGTERM") => {
          if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
          child.kill(signal);
          return exited;
        },
      });
    });
  });
}

/** Run to completion: exit code, stdout and stderr. */
export function run(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  cwd?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...cleanEnv(), ...env },
      stdio: ["ignore", "pipe", "pipe"],
      ...(cwd ? { cwd } : {}),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on("data", (b: Buffer) => {
      stderr += b.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), READY_TIMEOUT_MS);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The user's SWITCHBOARD_* variables must not leak into a test's daemon. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SWITCHBOARD_")) env[k] = v;
  return env;
}

/** Poll `fn` until it returns a value (bounded by `limit` tries, `everyMs` apart). */
export async function until<T>(
  fn: () => Promise<T | undefined>,
  what: string,
  limit = 200,
  everyMs = 50,
): Promise<T> {
  for (let i = 0; i < limit; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/**
 * `switchboard mock-gateway` standing for a real gateway: its managed `accounts` (DU… paper,
 * U… live), none of the signs a mock is recognised by, its calendar at TEST_NOW.
 */
export function startUnmarkedGateway(accounts: string, port = 0): Promise<Proc> {
  return startProcess([
    "mock-gateway",
    "--port",
    String(port),
    "--control-port",
    "0",
    "--accounts",
    accounts,
    "--unmarked",
    "--now",
    TEST_NOW,
  ]);
}

/**
 * `switchboard mock-gateway` on ephemeral ports (gateway and control), its calendar at
 * TEST_NOW; `extra` adds flags (e.g. `--id-hold-ms`).
 */
export function startMockGateway(extra: readonly string[] = []): Promise<Proc> {
  return startProcess(["mock-gateway", "--port", "0", "--control-port", "0", "--now", TEST_NOW, ...extra]);
}

/** Where a process test's daemon connects and keeps its state; the rest is optional. */
export interface DaemonArgs {
  /** `host:port`, `mock` or `auto`; omitted for an HA spare that has no line of its own. */
  upstream?: string;
  stateDir: string;
  redis?: string;
  /** Default 0 (any free port). */
  proxyPort?: number;
  /** Flags appended as given (`--token`, `--ha-group`, `--log-level`…). */
  extra?: readonly string[];
}

/** `switchboard start` as the process tests run it: HTTP and proxy on free ports. */
export function daemonArgs(o: DaemonArgs): string[] {
  return [
    "start",
    "--http-port",
    "0",
    "--proxy-port",
    String(o.proxyPort ?? 0),
    ...(o.upstream === undefined ? [] : ["--upstream", o.upstream]),
    "--state-dir",
    o.stateDir,
    ...(o.redis === undefined ? [] : ["--redis", o.redis]),
    ...(o.extra ?? []),
  ];
}
