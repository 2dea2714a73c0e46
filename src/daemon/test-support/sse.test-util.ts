/** A minimal SSE reader over fetch for tests: collects frames, waits for one that matches. */
export interface SseFrame {
  event: string;
  id: number;
  data: Record<string, unknown>;
}

export interface SseReader {
  readonly frames: SseFrame[];
  readonly status: number;
  waitFor(pred: (f: SseFrame) => boolean, what: string, limitMs?: number): Promise<SseFrame>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const ac = new AbortController();
  const res = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: ac.signal });
  const frames: SseFrame[] = [];
  const waiters = new Set<() => void>();
  if (res.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buf = "";
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += decoder.decode(chunk, { stream: true });
          for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const f: Partial<SseFrame> = {};
            for (const line of block.split("\n")) {
              if (line.startsWith("event: ")) f.event = line.slice(7);
              else if (line.startsWith("id: ")) f.id = Number(line.slice(4));
              else if (line.startsWith("data: "))
                f.data = JSON.parse(line.slice(6)) as Record<string, unknown>;
            }
            if (f.event && f.data) frames.push(f as SseFrame);
          }
          for (const w of [...waiters]) w();
        }
      } catch {
        // Aborted by close().
      }
    })();
  }
  return {
    frames,
    status: res.status,
    waitFor(pred, what, limitMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const f = frames.find(pred);
          if (!f) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(f);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no SSE frame: ${what}; got ${frames.map((f) => f.event).join(", ")}`));
        }, limitMs);
        waiters.add(check);
        check();
      });
    },
    close: () => ac.abort(),
  };
}
