/** The one line a long-running command prints to stdout once it serves: `READY {json}`. */
export function printReady(info: Record<string, unknown>): void {
  process.stdout.write(`READY ${JSON.stringify(info)}\n`);
}

/**
 * Run `stop` on the first SIGINT/SIGTERM and exit 0 when it finishes; a second signal or a
 * stop that takes longer than `graceMs` exits at once.
 */
export function onShutdown(stop: () => Promise<void>, graceMs = 4_500): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const handler = () => {
      if (stopping) {
        resolve(1);
        return;
      }
      stopping = true;
      const timer = setTimeout(() => resolve(1), graceMs);
      timer.unref();
      stop().then(
        () => {
          clearTimeout(timer);
          resolve(0);
        },
        () => {
          clearTimeout(timer);
          resolve(1);
        },
      );
    };
    process.on("SIGINT", handler);
    process.on("SIGTERM", handler);
  });
}
