/**
 * A workload client on the project's own codec, speaking bytes the way a hand-written client
 * (or another language's library) does.
 */
import { connect, type Socket } from "node:net";
import { toFields } from "../protocol/codec.js";
import { decodeFields, encodeFields } from "../protocol/fields.js";
import { encodeFrame, FrameDecoder } from "../protocol/frame.js";
import { encodeClientHello, parseServerHello } from "../protocol/handshake.js";
import { START_API } from "../protocol/messages/connection.js";
import { REQ_CONTRACT_DATA } from "../protocol/messages/contracts.js";
import { contract } from "../protocol/messages/contract.js";
import { REQ_HISTORICAL_DATA } from "../protocol/messages/history.js";
import { REQ_MKT_DATA } from "../protocol/messages/market-data.js";
import { CANCEL_ORDER, PLACE_ORDER, placeOrder } from "../protocol/messages/orders.js";
import { type StreamSpec, Worker } from "./worker.js";

const stock = (symbol: string) => contract({ symbol, secType: "STK", exchange: "SMART", currency: "USD" });
const CONNECT_TIMEOUT_MS = 10_000;

export class RawWorker extends Worker {
  #socket: Socket | undefined;
  #version = 0;

  protected connectOnce(): Promise<number> {
    const socket = connect({ host: "127.0.0.1", port: this.ctx.proxyPort });
    socket.setNoDelay(true);
    this.#socket = socket;
    this.#version = 0;
    const frames = new FrameDecoder();
    return new Promise<number>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => fail(new Error("no NEXT_VALID_ID")), CONNECT_TIMEOUT_MS);
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      socket.on("error", () => {});
      socket.on("close", () => {
        if (!settled) return fail(new Error("closed before NEXT_VALID_ID"));
        if (this.#socket !== socket) return;
        this.#socket = undefined;
        this.onClosed();
      });
      socket.on("connect", () => socket.write(encodeClientHello({ min: 157, max: 178, options: "" })));
      socket.on("data", (chunk: Buffer) => {
        let payloads: Uint8Array[];
        try {
          payloads = frames.push(chunk);
        } catch {
          socket.destroy();
          return;
        }
        for (const payload of payloads) {
          const f = decodeFields(payload);
          if (this.#version === 0) {
            this.#version = parseServerHello(f).serverVersion;
            socket.write(
              encodeFrame(
                encodeFields(
                  toFields(START_API, { clientId: this.virtualId, optionalCapabilities: "" }, this.#version),
                ),
              ),
            );
            continue;
          }
          if (f[0] === "9" && !settled) {
            settled = true;
            clearTimeout(timer);
            resolve(Number(f[2]));
            continue;
          }
          this.#dispatch(f);
        }
      });
    });
  }

  #dispatch(f: string[]): void {
    switch (f[0]) {
      case "1": // TICK_PRICE: id, version, tickerId…
      case "2": // TICK_SIZE
        this.onTick(Number(f[2]));
        return;
      case "4": // ERR_MSG: id, version, id, code, text
        this.onError(Number(f[2]), Number(f[3]));
        return;
      case "52": // CONTRACT_DATA_END: id, version, reqId
        this.onAnswer(Number(f[2]));
        return;
      case "17": // HISTORICAL_DATA: id, reqId (no version field at these server versions)
        this.onAnswer(Number(f[1]));
        return;
      case "3": // ORDER_STATUS: id, orderId
      case "5": // OPEN_ORDER: id, orderId
        this.onOrderNews(Number(f[1]));
        return;
      case "9":
        this.onNextValidId(Number(f[2]));
        return;
    }
  }

  #write(fields: string[]): void {
    this.#socket?.write(encodeFrame(encodeFields(fields)));
  }

  protected closeTransport(): void {
    const s = this.#socket;
    this.#socket = undefined;
    s?.destroy();
  }

  protected sendMarketData(reqId: number, spec: StreamSpec): void {
    this.#write(
      toFields(
        REQ_MKT_DATA,
        {
          tickerId: reqId,
          contract: stock(spec.symbol),
          comboLegs: [],
          deltaNeutral: undefined,
          genericTickList: spec.genericTicks,
          snapshot: false,
          regulatorySnapshot: false,
          mktDataOptions: "",
        },
        this.#version,
      ),
    );
  }

  protected sendContract(reqId: number, symbol: string): void {
    this.#write(
      toFields(
        REQ_CONTRACT_DATA,
        { reqId, contract: stock(symbol), includeExpired: false, secIdType: "", secId: "", issuerId: "" },
        this.#version,
      ),
    );
  }

  protected sendHistory(reqId: number, symbol: string): void {
    this.#write(
      toFields(
        REQ_HISTORICAL_DATA,
        {
          reqId,
          contract: stock(symbol),
          includeExpired: false,
          endDateTime: "",
          barSize: "5 mins",
          duration: "1 D",
          useRTH: true,
          whatToShow: "TRADES",
          formatDate: 1,
          comboLegs: [],
          keepUpToDate: false,
          chartOptions: "",
        },
        this.#version,
      ),
    );
  }

  protected sendOrder(orderId: number, ref: string, price: number | undefined): void {
    this.#write(
      toFields(
        PLACE_ORDER,
        placeOrder({
          orderId,
          contract: stock("AAPL"),
          action: "BUY",
          totalQuantity: "1",
          orderType: price === undefined ? "MKT" : "LMT",
          lmtPrice: price,
          orderRef: ref,
        }),
        this.#version,
      ),
    );
  }

  protected sendCancel(orderId: number): void {
    this.#write(toFields(CANCEL_ORDER, { orderId, manualOrderCancelTime: "" }, this.#version));
  }
}
