/** Drives lease-worker.mjs processes from tests: spawn, broadcast a command, collect replies. */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const WORKER_SCRIPT = fileURLToPath(new URL("./lease-worker.mjs", import.meta.url));

export interface WorkerConfig {
  store: "file" | "redis";
  stateDir?: string;
  url?: string;
  purpose: string;
}

export type Reply = { ready?: number; id?: number; released?: number; error?: string };

export class Worker {
  readonly child: ChildProcess;
  readonly #waiting: ((r: Reply) => void)[] = [];
  readonly #buffer: Reply[] = [];
  readonly exited: Promise<void>;
  lines = 0;

  constructor(cfg: WorkerConfig) {
    this.child = spawn(process.execPath, [WORKER_SCRIPT, JSON.stringify(cfg)], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    this.exited = new Promise((resolve) => this.child.once("exit", () => resolve()));
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      this.lines++;
      const r = JSON.parse(line) as Reply;
      const w = this.#waiting.shift();
      if (w) w(r);
      else this.#buffer.push(r);
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  next(): Promise<Reply> {
    const r = this.#buffer.shift();
    if (r) return Promise.resolve(r);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  send(cmd: string): void {
    this.child.stdin!.write(`${cmd}\n`);
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited;
  }
}

export async function spawnWorkers(n: number, cfg: WorkerConfig): Promise<Worker[]> {
  const workers = Array.from({ length: n }, () => new Worker(cfg));
  const hello = await Promise.all(workers.map((w) => w.next()));
  for (const h of hello)
    if (h.ready === undefined) throw new Error(`worker failed to start: ${JSON.stringify(h)}`);
  return workers;
}

/** Send `cmd` to every worker at once and collect one reply from each. */
export async function broadcast(workers: readonly Worker[], cmd: string): Promise<Reply[]> {
  const replies = workers.map((w) => w.next());
  for (const w of workers) w.send(cmd);
  return Promise.all(replies);
}
