/** Historical bars, head timestamp and real-time bars, with IB's validation errors. */
import { fromFields } from "../../protocol/codec.js";
import { OUT } from "../../protocol/message-ids.js";
import {
  CANCEL_HEAD_TIMESTAMP,
  CANCEL_HISTORICAL_DATA,
  CANCEL_REAL_TIME_BARS,
  HEAD_TIMESTAMP,
  HISTORICAL_DATA,
  REQ_HEAD_TIMESTAMP,
  REQ_HISTORICAL_DATA,
  REQ_REAL_TIME_BARS,
} from "../../protocol/messages/history.js";
import { historyWindow, parseDuration } from "../../calendar/durations.js";
import { barSeconds } from "../../history/bar-sizes.js";
import {
  calendarOf,
  formatBarTime,
  headTimestampOf,
  makeBar,
  normalizeBarSize,
  parseEndDateTime,
  planBars,
  WHAT_TO_SHOW_NO_DATA,
  WHAT_TO_SHOW_WITH_DATA,
} from "../bars.js";
import type { Instrument } from "../catalogue.js";
import type { Handler, MockContext } from "../context.js";
import type { MockSession } from "../session.js";

const HMDS = "Historical Market Data Service error message:";

function invalid(ctx: MockContext, s: MockSession, reqId: number, cause: string): void {
  ctx.error(s, reqId, 321, `Error validating request.-'bP' : cause - ${cause}`);
}

/** Checks shared by bars and head timestamp; returns false after answering the error. */
function checkWhatToShow(
  ctx: MockContext,
  s: MockSession,
  reqId: number,
  inst: Instrument,
  what: string,
): boolean {
  if (WHAT_TO_SHOW_WITH_DATA.has(what)) return true;
  if (WHAT_TO_SHOW_NO_DATA.has(what)) {
    const c = inst.contract;
    ctx.error(
      s,
      reqId,
      162,
      `${HMDS}No data of type ${what} is available for the exchange '${c.exchange}' and the security type '${c.secType}'`,
    );
  } else {
    invalid(ctx, s, reqId, `Historical data query whatToShow '${what}' is invalid`);
  }
  return false;
}

function noData(ctx: MockContext, s: MockSession, reqId: number, inst: Instrument, what: string): void {
  ctx.error(
    s,
    reqId,
    162,
    `${HMDS}HMDS query returned no data: ${inst.contract.symbol}@${inst.contract.exchange} ${what}`,
  );
}

const historicalData: Handler = (ctx, s, fields, hold) => {
  const m = fromFields(REQ_HISTORICAL_DATA, fields, s.version);
  // Errors free the open-request slot at once; an answer frees it when it is sent.
  let answered = false;
  try {
    const r = ctx.catalogue.resolve(m.contract);
    if ("error" in r) return ctx.error(s, m.reqId, 200, r.error);
    const inst = r.instrument;
    ctx.history.resolved(s.id, m.reqId, inst.contract.conId);
    const barSize = normalizeBarSize(m.barSize);
    if (!barSize)
      return invalid(ctx, s, m.reqId, `Historical data bar size setting '${m.barSize}' is invalid.`);
    const duration = parseDuration(m.duration);
    if (duration === undefined)
      return invalid(ctx, s, m.reqId, `Historical data duration '${m.duration}' is invalid.`);
    const what = m.whatToShow.toUpperCase();
    if (!checkWhatToShow(ctx, s, m.reqId, inst, what)) return;
    if (m.keepUpToDate && m.endDateTime.trim())
      return invalid(ctx, s, m.reqId, "End date not supported with live updates");
    const now = ctx.wall.now();
    const parsedEnd = parseEndDateTime(m.endDateTime, now);
    if (parsedEnd === undefined)
      return invalid(ctx, s, m.reqId, `End date/time '${m.endDateTime}' is invalid.`);
    const req = { instrument: inst, seed: ctx.opts.seed, barSize, whatToShow: what, useRTH: m.useRTH };
    // Nothing exists after the gateway's now, nor before the instrument's first data.
    const endMs = Math.min(parsedEnd, now);
    if (endMs <= headTimestampOf(inst, m.useRTH)) return noData(ctx, s, m.reqId, inst, what);
    const cal = calendarOf(inst);
    const window = historyWindow(cal, endMs, duration, m.useRTH);
    const spans = planBars(req, window);
    // IB's step table: an answer holds at most what the longest duration for its bar size holds.
    if (spans === "tooMany") return ctx.error(s, m.reqId, 162, `${HMDS}Time length exceed max.`);
    if (spans.length === 0) return noData(ctx, s, m.reqId, inst, what);
    const bars = spans.map((span) => makeBar(req, span, m.formatDate));
    const answer = () => {
      ctx.history.answer(s.id, m.reqId, "bars");
      s.send(HISTORICAL_DATA, {
        reqId: m.reqId,
        start: formatBarTime(window.start, 1, cal),
        end: formatBarTime(window.end, 1, cal),
        bars,
      });
      if (m.keepUpToDate) {
        ctx.subs.add({
          sessionId: s.id,
          clientId: s.clientId ?? 0,
          kind: "historicalUpdates",
          reqId: m.reqId,
          conId: inst.contract.conId,
          hold: undefined,
          detail: { barSize, whatToShow: what, formatDate: m.formatDate, useRTH: m.useRTH },
        });
      }
      // One answer ends the request (below V 196), so its open-request slot frees with it.
      ctx.release(s, hold);
    };
    const delay = ctx.hmds.delayFor(bars.length, barSeconds(barSize) ?? 60, ctx.clock.now());
    answered = true;
    if (delay > 0) ctx.clock.setTimeout(answer, delay);
    else answer();
  } finally {
    if (!answered) ctx.release(s, hold);
  }
};

const cancelHistoricalData: Handler = (ctx, s, fields) => {
  const { reqId } = fromFields(CANCEL_HISTORICAL_DATA, fields, s.version);
  if (!ctx.subs.remove(s.id, "historicalUpdates", reqId)) {
    ctx.error(s, reqId, 366, `No historical data query found for ticker id:${reqId}`);
  }
};

const headTimestamp: Handler = (ctx, s, fields, hold) => {
  const m = fromFields(REQ_HEAD_TIMESTAMP, fields, s.version);
  let answered = false;
  try {
    const r = ctx.catalogue.resolve(m.contract);
    if ("error" in r) return ctx.error(s, m.reqId, 200, r.error);
    const inst = r.instrument;
    ctx.history.resolved(s.id, m.reqId, inst.contract.conId);
    const what = m.whatToShow.toUpperCase();
    if (!checkWhatToShow(ctx, s, m.reqId, inst, what)) return;
    const answer = () => {
      ctx.history.answer(s.id, m.reqId, "bars");
      s.send(HEAD_TIMESTAMP, {
        reqId: m.reqId,
        headTimestamp: formatBarTime(headTimestampOf(inst, m.useRTH), m.formatDate, calendarOf(inst)),
      });
      ctx.release(s, hold);
    };
    const delay = ctx.hmds.delayFor(1, 0, ctx.clock.now());
    answered = true;
    if (delay > 0) ctx.clock.setTimeout(answer, delay);
    else answer();
  } finally {
    if (!answered) ctx.release(s, hold);
  }
};

const realTimeBars: Handler = (ctx, s, fields, hold) => {
  const m = fromFields(REQ_REAL_TIME_BARS, fields, s.version);
  const fail = (code: number, text: string) => {
    ctx.release(s, hold);
    ctx.error(s, m.tickerId, code, text);
  };
  const r = ctx.catalogue.resolve(m.contract);
  if ("error" in r) return fail(200, r.error);
  const what = m.whatToShow.toUpperCase();
  if (!["TRADES", "MIDPOINT", "BID", "ASK"].includes(what))
    return fail(
      321,
      `Error validating request.-'bR' : cause - Invalid whatToShow '${m.whatToShow}' for real-time bars`,
    );
  if (m.barSize !== 5)
    return fail(321, "Error validating request.-'bR' : cause - Only 5 seconds bars are supported");
  const added = ctx.subs.add({
    sessionId: s.id,
    clientId: s.clientId ?? 0,
    kind: "realTimeBars",
    reqId: m.tickerId,
    conId: r.instrument.contract.conId,
    hold,
    detail: { whatToShow: what },
  });
  if (!added) fail(322, `Error processing request.-'bR' : cause - Duplicate ticker id ${m.tickerId}`);
};

const cancelRealTimeBars: Handler = (ctx, s, fields) => {
  const { tickerId } = fromFields(CANCEL_REAL_TIME_BARS, fields, s.version);
  ctx.subs.remove(s.id, "realTimeBars", tickerId);
};

export const historyHandlers: ReadonlyMap<number, Handler> = new Map<number, Handler>([
  [OUT.REQ_HISTORICAL_DATA, historicalData],
  [OUT.CANCEL_HISTORICAL_DATA, cancelHistoricalData],
  [OUT.REQ_HEAD_TIMESTAMP, headTimestamp],
  [OUT.CANCEL_HEAD_TIMESTAMP, (_ctx, s, fields) => void fromFields(CANCEL_HEAD_TIMESTAMP, fields, s.version)],
  [OUT.REQ_REAL_TIME_BARS, realTimeBars],
  [OUT.CANCEL_REAL_TIME_BARS, cancelRealTimeBars],
]);
