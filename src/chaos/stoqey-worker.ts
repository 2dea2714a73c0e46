/** A workload client on @stoqey/ib, the way a Node app talks to TWS. */
import {
  BarSizeSetting,
  type Contract,
  EventName,
  IBApi,
  OrderAction,
  OrderType,
  SecType,
  WhatToShow,
} from "@stoqey/ib";
import { type StreamSpec, Worker } from "./worker.js";

const stock = (symbol: string): Contract => ({
  symbol,
  secType: SecType.STK,
  exchange: "SMART",
  currency: "USD",
});
const CONNECT_TIMEOUT_MS = 10_000;

export class StoqeyWorker extends Worker {
  #api: IBApi | undefined;

  protected connectOnce(): Promise<number> {
    const api = new IBApi({ host: "127.0.0.1", port: this.ctx.proxyPort });
    this.#api = api;
    api.on(EventName.error, (_err: Error, code: number, reqId: number) => this.onError(reqId, code));
    api.on(EventName.tickPrice, (reqId: number) => this.onTick(reqId));
    api.on(EventName.tickSize, (reqId: number) => this.onTick(reqId));
    api.on(EventName.contractDetailsEnd, (reqId: number) => this.onAnswer(reqId));
    api.on(EventName.historicalData, (reqId: number) => this.onAnswer(reqId));
    api.on(EventName.orderStatus, (orderId: number) => this.onOrderNews(orderId));
    api.on(EventName.openOrder, (orderId: number) => this.onOrderNews(orderId));
    api.on(EventName.nextValidId, (id: number) => this.onNextValidId(id));
    return new Promise<number>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => fail(new Error("no NEXT_VALID_ID")), CONNECT_TIMEOUT_MS);
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        api.removeAllListeners();
        api.disconnect();
        reject(err);
      };
      api.once(EventName.nextValidId, (id: number) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        api.on(EventName.disconnected, () => {
          if (this.#api !== api) return;
          this.#api = undefined;
          api.removeAllListeners();
          this.onClosed();
        });
        resolve(id);
      });
      api.once(EventName.disconnected, () => fail(new Error("disconnected before NEXT_VALID_ID")));
      api.connect(this.virtualId);
    });
  }

  protected closeTransport(): void {
    const api = this.#api;
    this.#api = undefined;
    api?.removeAllListeners();
    api?.disconnect();
  }

  protected sendMarketData(reqId: number, spec: StreamSpec): void {
    this.#api?.reqMktData(reqId, stock(spec.symbol), spec.genericTicks, false, false);
  }

  protected sendContract(reqId: number, symbol: string): void {
    this.#api?.reqContractDetails(reqId, stock(symbol));
  }

  protected sendHistory(reqId: number, symbol: string): void {
    this.#api?.reqHistoricalData(
      reqId,
      stock(symbol),
      "",
      "1 D",
      BarSizeSetting.MINUTES_FIVE,
      WhatToShow.TRADES,
      1,
      1,
      false,
    );
  }

  protected sendOrder(orderId: number, ref: string, price: number | undefined): void {
    this.#api?.placeOrder(orderId, stock("AAPL"), {
      action: OrderAction.BUY,
      orderType: price === undefined ? OrderType.MKT : OrderType.LMT,
      ...(price === undefined ? {} : { lmtPrice: price }),
      totalQuantity: 1,
      orderRef: ref,
      transmit: true,
    });
  }

  protected sendCancel(orderId: number): void {
    this.#api?.cancelOrder(orderId);
  }
}
