/**
 * The processes a chaos run drives: the mock gateway, the daemon in front of it, and (with
 * `redis`) a redis-server as the lease store — each a real process started as a user would,
 * on loopback ports chosen at start and kept across restarts (clients reconnect to the same
 * proxy port after a daemon is killed).
 *
 * Invariants: every process started here is stopped by `close()`, also after a failure; the
 * daemon's ports and state dir stay the same for the whole run.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../bin/switchboard.js", import.meta.url));
const READY_TIMEOUT_MS = 20_000;

export interface StackOptions {
  seed: number;
  /** The mock's calendar instant (ISO 8601): a trading session, so ticks flow. */
  now: string;
  redis: boolean;
  /** Keep the run directory (logs, journal, audit) after close. */
  keepDir?: boolean;
  /** Start the daemon with its inspector on a loopback port (`inspectPort`), for HeapProbe. */
  inspect?: boolean;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen({ host: "127.0.0.1", port: 0 }, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Started child with its READY line parsed; stdout/stderr go to a log file. */
interface Child {
  proc: ChildProcess;
  exited: Promise<void>;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("SWITCHBOARD_")) delete env[k];
  return env;
}

function startNode(
  args: readonly string[],
  log: WriteStream,
  nodeArgs: readonly string[] = [],
): Promise<Child & { ready: Record<string, unknown> }> {
  const proc = spawn(process.execPath, [...nodeArgs, BIN, ...args], {
    env: cleanEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  proc.stderr!.on("data", (b: Buffer) => log.write(b));
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`${args[0]}: no READY within ${READY_TIMEOUT_MS} ms`));
    }, READY_TIMEOUT_MS);
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`${args[0]} exited with ${code} before READY (see ${log.path as string})`));
    };
    proc.once("exit", onExit);
    const onData = (b: Buffer): void => {
      out += b.toString();
      const m = /^READY (.*)$/m.exec(out);
      if (!m) return;
      clearTimeout(timer);
      proc.off("exit", onExit);
      proc.stdout!.off("data", onData);
      proc.stdout!.on("data", (x: Buffer) => log.write(x));
      resolve({ proc, exited, ready: JSON.parse(m[1]!) as Record<string, unknown> });
    };
    proc.stdout!.on("data", onData);
  });
}

async function stop(c: Child | undefined, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (!c || c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  c.proc.kill(signal);
  const guard = setTimeout(() => c.proc.kill("SIGKILL"), 5_000);
  await c.exited;
  clearTimeout(guard);
}

export class ChaosStack {
  readonly dir: string;
  readonly stateDir: string;
  mockPort = 0;
  controlPort = 0;
  httpPort = 0;
  proxyPort = 0;
  redisPort = 0;
  /** The daemon's inspector port (0 without `inspect`). */
  inspectPort = 0;
  daemonRestarts = 0;
  readonly #o: StackOptions;
  readonly #log: WriteStream;
  #mock: Child | undefined;
  #daemon: Child | undefined;
  #redis: Child | undefined;

  constructor(o: StackOptions) {
    this.#o = o;
    this.dir = mkdtempSync(join(tmpdir(), "switchboard-chaos-"));
    this.stateDir = join(this.dir, "state");
    this.#log = createWriteStream(join(this.dir, "processes.log"));
  }

  get http(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }
  get control(): string {
    return `http://127.0.0.1:${this.controlPort}`;
  }
  get journalPath(): string {
    return join(this.stateDir, "orders-default.journal");
  }

  async start(): Promise<void> {
    [this.mockPort, this.controlPort, this.httpPort, this.proxyPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    if (this.#o.inspect) this.inspectPort = await freePort();
    if (this.#o.redis) await this.startRedis();
    const mock = await startNode(
      [
        "mock-gateway",
        "--port",
        String(this.mockPort),
        "--control-port",
        String(this.controlPort),
        "--now",
        this.#o.now,
        "--seed",
        String(this.#o.seed),
      ],
      this.#log,
    );
    this.#mock = mock;
    await this.startDaemon();
  }

  async startDaemon(): Promise<void> {
    const args = [
      "start",
      "--upstream",
      `127.0.0.1:${this.mockPort}`,
      "--http-port",
      String(this.httpPort),
      "--proxy-port",
      String(this.proxyPort),
      "--state-dir",
      this.stateDir,
      "--log-level",
      "warn",
      "--log-format",
      "json",
    ];
    if (this.#o.redis) args.push("--redis", `redis://127.0.0.1:${this.redisPort}`);
    // A killed daemon's ports may take a moment to free: retry briefly, never forever.
    let lastErr: unknown;
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        const inspect = this.inspectPort ? [`--inspect=127.0.0.1:${this.inspectPort}`] : [];
        this.#daemon = await startNode(args, this.#log, inspect);
        return;
      } catch (err) {
        lastErr = err;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
  }

  /** kill -9 the daemon and start it again on the same ports and state dir. */
  async killDaemon(): Promise<void> {
    await stop(this.#daemon, "SIGKILL");
    this.#daemon = undefined;
    this.daemonRestarts++;
    await this.startDaemon();
  }

  get daemonAlive(): boolean {
    const d = this.#daemon;
    return d !== undefined && d.proc.exitCode === null && d.proc.signalCode === null;
  }

  async startRedis(): Promise<void> {
    this.redisPort ||= await freePort();
    // Debian's redis-server aborts under libfaketime: start it without the preload.
    const env = { ...process.env };
    delete env["LD_PRELOAD"];
    delete env["FAKETIME"];
    const proc = spawn(
      "redis-server",
      [
        "--port",
        String(this.redisPort),
        "--bind",
        "127.0.0.1",
        "--appendonly",
        "yes",
        "--dir",
        this.dir,
        "--save",
        "",
      ],
      { env, stdio: ["ignore", "pipe", "pipe"] },
    );
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    await new Promise<void>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error("redis-server did not start")), 10_000);
      proc.once("error", reject);
      proc.stdout.on("data", (b: Buffer) => {
        out += b.toString();
        if (out.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    this.#redis = { proc, exited };
  }

  async restartRedis(): Promise<void> {
    await stop(this.#redis);
    await this.startRedis();
  }

  async close(): Promise<void> {
    await stop(this.#daemon);
    await stop(this.#mock);
    await stop(this.#redis);
    await new Promise<void>((resolve) => this.#log.end(() => resolve()));
    if (!this.#o.keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
