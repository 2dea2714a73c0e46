/** Waiting for a line state with a bound: timeout on the injected clock, abort signal, close. */
import type { Clock, TimerHandle } from "../clock.js";
import { AbortedError, ClosedError, TimeoutError } from "../errors.js";
import type { LineEvent, LineState } from "./line-events.js";

export interface WaitStateOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

type OnState = (fn: (e: Extract<LineEvent, { type: "line.state" }>) => void) => () => void;

/** Resolve when a transition reaches `target`; reject on `closed`, timeout or abort. */
export function waitForState(
  onState: OnState,
  clock: Clock,
  what: string,
  target: LineState,
  options: WaitStateOptions,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let timer: TimerHandle | undefined;
    const finish = (fn: () => void) => {
      off();
      clock.clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      fn();
    };
    const off = onState((e) => {
      if (e.to === target) finish(resolve);
      else if (e.to === "closed") finish(() => reject(new ClosedError(what)));
    });
    const onAbort = () => finish(() => reject(new AbortedError(options.signal?.reason)));
    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.timeoutMs !== undefined) {
      const ms = options.timeoutMs;
      timer = clock.setTimeout(() => finish(() => reject(new TimeoutError(`${what} ${target}`, ms))), ms);
    }
  });
}
