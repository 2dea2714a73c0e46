/**
 * The mock's clock-driven pushes: market-data ticks every tick interval, and every
 * real-time-bar interval the 5-second bars, keepUpToDate bar updates and PnL. One timer
 * each for the whole gateway, not one per subscription.
 */
import type { TimerHandle } from "../clock.js";
import { encodeMessage } from "../protocol/codec.js";
import { HISTORICAL_DATA_UPDATE, REAL_TIME_BARS } from "../protocol/messages/history.js";
import { currentBar, makeBar } from "./bars.js";
import type { MockGateway, MockPlugin } from "./gateway.js";
import { sendPnl, sendPnlSingle } from "./handlers/account.js";
import { tryFill } from "./handlers/orders.js";
import { midPrice, topOfBook } from "./prices.js";
import { unit } from "./rng.js";
import { roundFrames } from "./ticks.js";

export class Streamer implements MockPlugin {
  #gw: MockGateway | undefined;
  #tickTimer: TimerHandle | undefined;
  #barTimer: TimerHandle | undefined;
  #running = false;
  /** Ticks pushed since start (the bench reads it). */
  ticksSent = 0;

  start(gw: MockGateway): void {
    this.#gw = gw;
    this.#running = true;
    this.#scheduleTicks();
    this.#scheduleBars();
  }

  close(): void {
    this.#running = false;
    this.#gw?.clock.clearTimeout(this.#tickTimer);
    this.#gw?.clock.clearTimeout(this.#barTimer);
  }

  #scheduleTicks(): void {
    const gw = this.#gw;
    if (!gw || !this.#running) return;
    this.#tickTimer = gw.clock.setTimeout(() => {
      this.tickRound();
      this.#scheduleTicks();
    }, gw.opts.tickIntervalMs);
  }

  #scheduleBars(): void {
    const gw = this.#gw;
    if (!gw || !this.#running) return;
    this.#barTimer = gw.clock.setTimeout(() => {
      this.barRound();
      this.#scheduleBars();
    }, gw.opts.realTimeBarMs);
  }

  /** One round of ticks to every market-data line (stalls and full buffers drop them). */
  tickRound(): void {
    const gw = this.#gw;
    if (!gw || gw.faults.stalled()) return;
    const now = gw.wall.now();
    for (const sub of gw.subs.all("marketData")) {
      const s = gw.session(sub.sessionId);
      const inst = gw.catalogue.byConId(sub.conId);
      if (!s || !inst) continue;
      const generic = String(sub.detail.genericTicks ?? "");
      const frames = roundFrames(topOfBook(inst, gw.opts.seed, now), now, {
        tickerId: sub.reqId,
        marketDataType: Number(sub.detail.marketDataType ?? 1),
        genericTicks: new Set(generic ? generic.split(",") : []),
        version: s.version,
      });
      for (const f of frames) s.sendRaw(f, { droppable: true });
      this.ticksSent += frames.length;
      sub.seq++;
    }
    // Resting orders trade when the market reaches them.
    for (const o of gw.orders.active()) tryFill(gw, o);
  }

  barRound(): void {
    const gw = this.#gw;
    if (!gw || gw.faults.stalled()) return;
    const now = gw.wall.now();
    const seed = gw.opts.seed;
    for (const sub of gw.subs.all()) {
      const s = gw.session(sub.sessionId);
      if (!s) continue;
      const inst = gw.catalogue.byConId(sub.conId);
      if (sub.kind === "realTimeBars" && inst) {
        const start = Math.floor(now / 5_000) * 5_000 - 5_000;
        const prices = [0, 1, 2, 3, 4, 5].map((i) => midPrice(inst, seed, start + i * 1_000));
        const volume = Math.floor(100 + unit(seed, sub.conId, "rtb", start) * 5_000);
        const close = prices[5] as number;
        s.sendRaw(
          encodeMessage(
            REAL_TIME_BARS,
            {
              reqId: sub.reqId,
              time: start / 1000,
              open: prices[0] as number,
              high: Math.max(...prices),
              low: Math.min(...prices),
              close,
              volume: sub.detail.whatToShow === "TRADES" ? String(volume) : "-1",
              wap: sub.detail.whatToShow === "TRADES" ? String(close) : "-1",
              count: sub.detail.whatToShow === "TRADES" ? Math.max(1, Math.floor(volume / 100)) : -1,
            },
            s.version,
          ),
          { droppable: true },
        );
      } else if (sub.kind === "historicalUpdates" && inst) {
        // The bar in progress, only while its session trades (as the calendar says).
        const barSize = String(sub.detail.barSize);
        const useRTH = sub.detail.useRTH === true;
        const span = currentBar(inst, barSize, useRTH, now);
        if (!span) continue;
        const req = { instrument: inst, seed, barSize, whatToShow: String(sub.detail.whatToShow), useRTH };
        const bar = makeBar(req, span, Number(sub.detail.formatDate ?? 1));
        s.sendRaw(encodeMessage(HISTORICAL_DATA_UPDATE, { reqId: sub.reqId, bar }, s.version), {
          droppable: true,
        });
      } else if (sub.kind === "pnl") {
        sendPnl(gw, s, sub.reqId, String(sub.detail.account ?? ""));
      } else if (sub.kind === "pnlSingle") {
        sendPnlSingle(gw, s, sub.reqId, String(sub.detail.account ?? ""), sub.conId);
      }
    }
  }
}
