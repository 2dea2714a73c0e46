/**
 * How long a finished historical answer may answer identical requests. Pure.
 *
 * A request with an explicit end asks for fixed bars: its answer stays right, kept
 * `historyCacheMs`. A request with an empty end asks "up to now": TWS sends the bars
 * completed by then, so its answer goes stale at the next bar boundary of its bar size, on
 * the gateway's clock. The switch does not see that clock; the answer's own end
 * ("20261117 10:59:59 US/Eastern", whole seconds) is the gateway's time when it answered. So
 * the answer is kept until the boundary after that end, less the end's 1-second resolution,
 * counted from when the request was first queued (the gateway answered no earlier): never
 * past the boundary, whatever the two clocks say. Daily and larger bars keep
 * `historyCacheMs`.
 */
import { barSeconds } from "../history/bar-sizes.js";
import { fromFields } from "../protocol/codec.js";
import { IN } from "../protocol/message-ids.js";
import { HISTORICAL_DATA, REQ_HISTORICAL_DATA } from "../protocol/messages/history.js";

const DAY_SECONDS = 86_400;
/** The answer's end is in whole seconds: the gateway's time was up to this much later. */
const END_RESOLUTION_MS = 1_000;

/** Seconds since midnight of a TWS date-time ("20261117 10:59:59 US/Eastern"), or undefined. */
export function timeOfDaySeconds(text: string): number | undefined {
  const m = /\b(\d{2}):(\d{2}):(\d{2})\b/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * 3_600 + Number(m[2]) * 60 + Number(m[3]);
}

/**
 * Milliseconds from `now` that `answers` (to the historical request `request`) may be kept;
 * 0 or less: not kept. `askedAt`: when the shared request was first queued.
 */
export function historyKeepMs(
  request: readonly string[],
  answers: readonly (readonly string[])[],
  version: number,
  historyCacheMs: number,
  askedAt: number,
  now: number,
): number {
  let endDateTime: string;
  let barSize: string;
  try {
    ({ endDateTime, barSize } = fromFields(REQ_HISTORICAL_DATA, request, version));
  } catch {
    return 0;
  }
  if (endDateTime.trim() !== "") return historyCacheMs;
  const bar = barSeconds(barSize);
  if (bar === undefined) return 0;
  if (bar >= DAY_SECONDS) return historyCacheMs;
  const data = answers.find((f) => Number(f[0]) === IN.HISTORICAL_DATA);
  if (!data) return 0;
  let end: number | undefined;
  try {
    end = timeOfDaySeconds(fromFields(HISTORICAL_DATA, data, version).end);
  } catch {
    return 0;
  }
  if (end === undefined) return 0;
  const toBoundaryMs = (bar - (end % bar)) * 1_000;
  return Math.min(historyCacheMs, askedAt + toBoundaryMs - END_RESOLUTION_MS - now);
}
