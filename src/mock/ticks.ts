/**
 * The tick messages of one market-data line, built from a quote (pure: the same seed,
 * instrument and time give the same frames). Delayed data (types 3, 4) uses IB's delayed
 * tick types.
 */
import { encodeMessage } from "../protocol/codec.js";
import {
  TICK_GENERIC,
  TICK_OPTION_COMPUTATION,
  TICK_PRICE,
  TICK_SIZE,
  TICK_STRING,
} from "../protocol/messages/market-data.js";
import type { Instrument } from "./catalogue.js";
import { midPrice, quoteAt, type TopOfBook } from "./prices.js";

/** Live → delayed tick type (IB's numbering). */
const DELAYED: Readonly<Record<number, number>> = {
  0: 69,
  1: 66,
  2: 67,
  3: 70,
  4: 68,
  5: 71,
  6: 72,
  7: 73,
  8: 74,
  9: 75,
  14: 76,
  45: 88,
};

export interface TickOptions {
  tickerId: number;
  marketDataType: number;
  /** Generic tick ids requested ("233,236"). */
  genericTicks: ReadonlySet<string>;
  version: number;
}

function t(type: number, delayed: boolean): number {
  return delayed ? (DELAYED[type] ?? type) : type;
}

/** The frames of one streaming round: top of book, last, volume, last timestamp. */
export function roundFrames(q: TopOfBook, nowMs: number, o: TickOptions): Buffer[] {
  const d = o.marketDataType >= 3;
  const v = o.version;
  const id = o.tickerId;
  // canAutoExecute (bit 0) on bid/ask, as TWS marks live quotes.
  const frames = [
    encodeMessage(
      TICK_PRICE,
      { tickerId: id, tickType: t(1, d), price: q.bid, size: String(q.bidSize), attrMask: 1 },
      v,
    ),
    encodeMessage(
      TICK_PRICE,
      { tickerId: id, tickType: t(2, d), price: q.ask, size: String(q.askSize), attrMask: 1 },
      v,
    ),
    encodeMessage(
      TICK_PRICE,
      { tickerId: id, tickType: t(4, d), price: q.last, size: String(q.lastSize), attrMask: 0 },
      v,
    ),
    encodeMessage(
      TICK_SIZE,
      { tickerId: id, tickType: t(8, d), size: String(Math.floor(q.volume / 100)) },
      v,
    ),
    encodeMessage(
      TICK_STRING,
      { tickerId: id, tickType: t(45, d), value: String(Math.floor(nowMs / 1000)) },
      v,
    ),
  ];
  if (o.genericTicks.has("233")) {
    const rt = `${q.last};${q.lastSize / 100};${nowMs};${Math.floor(q.volume / 100)};${q.last};false`;
    frames.push(encodeMessage(TICK_STRING, { tickerId: id, tickType: 48, value: rt }, v));
  }
  return frames;
}

/** The first frames of a line: a full round plus the day's open/high/low/close and extras. */
export function initialFrames(inst: Instrument, seed: number, nowMs: number, o: TickOptions): Buffer[] {
  const q = quoteAt(inst, seed, nowMs);
  const d = o.marketDataType >= 3;
  const v = o.version;
  const id = o.tickerId;
  const frames = roundFrames(q, nowMs, o);
  for (const [type, price] of [
    [6, q.high],
    [7, q.low],
    [9, q.close],
    [14, q.open],
  ] as const) {
    frames.push(
      encodeMessage(
        TICK_PRICE,
        { tickerId: id, tickType: t(type, d), price, size: undefined, attrMask: 0 },
        v,
      ),
    );
  }
  frames.push(encodeMessage(TICK_GENERIC, { tickerId: id, tickType: 49, value: 0 }, v)); // not halted
  if (o.genericTicks.has("236"))
    frames.push(encodeMessage(TICK_GENERIC, { tickerId: id, tickType: 46, value: 3 }, v));
  if (inst.contract.secType === "OPT") frames.push(optionComputation(inst, seed, nowMs, id, v));
  return frames;
}

/** A model option computation (tick 13) that is plausible, not a pricing model. */
function optionComputation(
  inst: Instrument,
  seed: number,
  nowMs: number,
  tickerId: number,
  v: number,
): Buffer {
  const c = inst.contract;
  const opt = midPrice(inst, seed, nowMs);
  const und = Math.max(1, c.right === "C" ? opt + c.strike - 6 : c.strike - opt + 6);
  const moneyness = (und - c.strike) / und;
  const delta =
    c.right === "C"
      ? 0.5 + Math.max(-0.45, Math.min(0.45, moneyness * 5))
      : -0.5 + Math.max(-0.45, Math.min(0.45, moneyness * 5));
  return encodeMessage(
    TICK_OPTION_COMPUTATION,
    {
      tickerId,
      tickType: 13,
      tickAttrib: 0,
      impliedVol: 0.28,
      delta,
      optPrice: opt,
      pvDividend: 0,
      gamma: 0.03,
      vega: 0.2,
      theta: -0.05,
      undPrice: und,
    },
    v,
  );
}
