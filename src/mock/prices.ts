/**
 * The price path: a pure function of (seed, instrument, time). Several octaves of smooth
 * value noise, each scaled to the instrument's volatility over its period, give a path that
 * looks like a market at every zoom (years of daily bars or seconds of ticks) and never needs
 * state: the same (seed, symbol, time) always gives the same price.
 */
import type { Instrument } from "./catalogue.js";
import { unit, valueNoise } from "./rng.js";

const DAY_MS = 86_400_000;
const YEAR_MS = 365 * DAY_MS;
const OCTAVE_PERIODS_MS: readonly number[] = [
  180 * DAY_MS,
  30 * DAY_MS,
  5 * DAY_MS,
  DAY_MS,
  4 * 3_600_000,
  30 * 60_000,
  5 * 60_000,
  30_000,
  5_000,
];

export function roundToTick(price: number, tick: number): number {
  return Math.round(Math.round(price / tick) * tick * 1e6) / 1e6;
}

/** Mid price at time t (ms). */
export function midPrice(inst: Instrument, seed: number, tMs: number): number {
  const id = inst.contract.conId;
  let x = 0;
  for (const p of OCTAVE_PERIODS_MS)
    x += inst.volatility * Math.sqrt(p / YEAR_MS) * valueNoise(tMs / p, seed, id, p);
  return Math.max(inst.minTick, roundToTick(inst.basePrice * Math.exp(x), inst.minTick));
}

export function spreadOf(inst: Instrument, mid: number): number {
  return Math.max(inst.minTick, roundToTick(mid * 0.0002, inst.minTick));
}

export interface Quote {
  bid: number;
  ask: number;
  last: number;
  bidSize: number;
  askSize: number;
  lastSize: number;
  /** Today's volume so far, in shares / contracts. */
  volume: number;
  open: number;
  high: number;
  low: number;
  /** Yesterday's close. */
  close: number;
}

export type TopOfBook = Omit<Quote, "open" | "high" | "low" | "close">;

/** Bid, ask, last and sizes at time t: what every streaming round needs (cheap). */
export function topOfBook(inst: Instrument, seed: number, tMs: number): TopOfBook {
  const id = inst.contract.conId;
  const mid = midPrice(inst, seed, tMs);
  const spread = spreadOf(inst, mid);
  const bid = roundToTick(mid - spread / 2, inst.minTick);
  const ask = roundToTick(bid + spread, inst.minTick);
  const sec = Math.floor(tMs / 1000);
  const pick = unit(seed, id, 0, sec);
  const last = pick < 0.45 ? bid : pick < 0.9 ? ask : mid;
  const size = (tag: number) => 100 * (1 + Math.floor(unit(seed, id, tag, sec) * 20));
  const dayStart = Math.floor(tMs / DAY_MS) * DAY_MS;
  return {
    bid,
    ask,
    last,
    bidSize: size(1),
    askSize: size(2),
    lastSize: size(3),
    volume: Math.floor(((tMs - dayStart) / 1000) * (50 + unit(seed, id, 4, Math.floor(tMs / DAY_MS)) * 200)),
  };
}

/** Top of book plus the day's open, high, low and yesterday's close (first ticks of a line). */
export function quoteAt(inst: Instrument, seed: number, tMs: number): Quote {
  const top = topOfBook(inst, seed, tMs);
  const last = top.last;
  const dayStart = Math.floor(tMs / DAY_MS) * DAY_MS;
  const open = midPrice(inst, seed, dayStart);
  let high = Math.max(open, last);
  let low = Math.min(open, last);
  for (let t = dayStart; t < tMs; t += 3_600_000) {
    const p = midPrice(inst, seed, t);
    high = Math.max(high, p);
    low = Math.min(low, p);
  }
  return {
    ...top,
    open,
    high,
    low,
    close: midPrice(inst, seed, dayStart - 3 * 3_600_000),
  };
}
