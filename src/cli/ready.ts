import type { Logger } from "../logger.js";

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

/**
 * An uncaught exception or unhandled rejection leaves the daemon in a state nobody can vouch
 * for: log it as fatal, close the lines (bounded by `graceMs`) and exit 1, so a supervisor
 * restarts a clean process rather than one that silently stopped answering.
 */
export function onFatal(log: Logger, close: () => Promise<void>, graceMs = 4_500): void {
  let failing = false;
  const handler = (err: unknown) => {
    if (failing) return;
    failing = true;
    log.fatal({ err }, "uncaught exception: closing the lines and exiting");
    setTimeout(() => process.exit(1), graceMs).unref();
    close().then(
      () => process.exit(1),
      () => process.exit(1),
    );
  };
  process.on("uncaughtException", handler);
  process.on("unhandledRejection", handler);
}
