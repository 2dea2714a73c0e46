/**
 * The daemon's live heap, measured through its inspector (the harness starts the daemon with
 * `--inspect=127.0.0.1:<port>`): a full collection first, then the heap in use. Unlike the
 * heap size in /metrics, which also counts garbage not yet collected, this is what the daemon
 * keeps — the figure a leak shows in. Loopback only, and only in chaos runs.
 */
import WebSocket from "ws";

const CALL_TIMEOUT_MS = 30_000;

interface Reply {
  id?: number;
  result?: { usedSize?: number; result?: { value?: unknown } };
  error?: { message: string };
}

/** The live heap, and the part of it that is compiled code (V8's code spaces). */
export interface LiveHeap {
  usedBytes: number;
  codeBytes: number;
}

// Evaluated in the daemon with the inspector's command-line API, which provides `require`.
const CODE_SPACES = `require("node:v8").getHeapSpaceStatistics()
  .filter((s) => s.space_name.startsWith("code_"))
  .reduce((n, s) => n + s.space_used_size, 0)`;

export class HeapProbe {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, (r: Reply) => void>();
  #next = 0;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on("message", (data: Buffer) => {
      const r = JSON.parse(data.toString()) as Reply;
      if (r.id === undefined) return;
      this.#pending.get(r.id)?.(r);
      this.#pending.delete(r.id);
    });
    ws.on("close", () => {
      for (const fn of this.#pending.values()) fn({ error: { message: "inspector closed" } });
      this.#pending.clear();
    });
  }

  /** Attach to the inspector on `port` (its first target: the daemon's main thread). */
  static async connect(port: number): Promise<HeapProbe> {
    const res = await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(5_000) });
    const targets = (await res.json()) as { webSocketDebuggerUrl?: string }[];
    const url = targets[0]?.webSocketDebuggerUrl;
    if (!url) throw new Error(`no inspector target on port ${port}`);
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new HeapProbe(ws);
  }

  get open(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  /**
   * Bytes in use after a full collection, and how many of them are compiled code: code grows
   * while V8 compiles more of the daemon's functions, which is warm-up, not a leak.
   */
  async liveHeap(): Promise<LiveHeap> {
    await this.#call("HeapProfiler.collectGarbage");
    const r = await this.#call("Runtime.getHeapUsage");
    const used = r.result?.usedSize;
    if (typeof used !== "number") throw new Error("Runtime.getHeapUsage gave no usedSize");
    const c = await this.#call("Runtime.evaluate", {
      expression: CODE_SPACES,
      includeCommandLineAPI: true,
      returnByValue: true,
    });
    const code = c.result?.result?.value;
    if (typeof code !== "number") throw new Error("the daemon's code spaces could not be read");
    return { usedBytes: used, codeBytes: code };
  }

  close(): void {
    this.#ws.terminate();
  }

  #call(method: string, params: Record<string, unknown> = {}): Promise<Reply> {
    const id = ++this.#next;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method}: no answer within ${CALL_TIMEOUT_MS} ms`));
      }, CALL_TIMEOUT_MS);
      this.#pending.set(id, (r) => {
        clearTimeout(timer);
        if (r.error) reject(new Error(`${method}: ${r.error.message}`));
        else resolve(r);
      });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }
}
