/**
 * A workload client: one app connected to the daemon's proxy with a virtual client id. It
 * holds market-data streams, asks contract details and history, and runs orders through
 * place → modify → cancel, each order with a unique orderRef. When its connection drops it
 * reconnects and subscribes again, as apps do. The transport (a library) is the subclass's.
 *
 * Invariants: every request is entered in the ledger before it is sent and settled by the
 * first answer or error for its id; a lost connection settles the client's open requests as
 * lost and ends its streams; one order step at a time per order.
 */
import { type RequestKind, RequestLedger } from "./ledger.js";
import { endsStream, StreamBook } from "./streams.js";

export interface WorkerContext {
  ledger: RequestLedger;
  /** The run's clock (ms since start). */
  now(): number;
  proxyPort: number;
  /** Prefix of every orderRef of this run (one per seed). */
  refPrefix: string;
  /** Deadline of a request. */
  timeoutMs: number;
  /** Called with every order this worker sends, before it is sent. */
  onOrderRef(ref: string): void;
}

export interface StreamSpec {
  symbol: string;
  genericTicks: string;
}

export type Action = "contract" | "history" | "order";

interface OrderTrack {
  orderId: number;
  ref: string;
  step: "placed" | "modified" | "done";
  market: boolean;
}

const RECONNECT_MIN_MS = 300;
const RECONNECT_MAX_MS = 2_000;

export abstract class Worker {
  readonly name: string;
  readonly virtualId: number;
  readonly streams: StreamBook;
  protected readonly ctx: WorkerContext;
  readonly #specs: readonly StreamSpec[];
  #stopped = false;
  #connected = false;
  #nextReqId = 1_000;
  #nextOrderId = 0;
  #orders: OrderTrack[] = [];
  #orderCount = 0;
  #pendingOrderKey = new Map<number, string>();
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  connects = 0;

  constructor(name: string, virtualId: number, specs: readonly StreamSpec[], ctx: WorkerContext) {
    this.name = name;
    this.virtualId = virtualId;
    this.#specs = specs;
    this.ctx = ctx;
    this.streams = new StreamBook(name);
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Open the transport; resolves with the next valid order id once the API is started. */
  protected abstract connectOnce(): Promise<number>;
  protected abstract closeTransport(): void;
  protected abstract sendMarketData(reqId: number, spec: StreamSpec): void;
  protected abstract sendContract(reqId: number, symbol: string): void;
  protected abstract sendHistory(reqId: number, symbol: string): void;
  protected abstract sendOrder(orderId: number, ref: string, price: number | undefined): void;
  protected abstract sendCancel(orderId: number): void;

  async start(): Promise<void> {
    await this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#reconnectTimer);
    this.closeTransport();
    this.ctx.ledger.lost(this.name);
    this.streams.clear();
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    try {
      const nextId = await this.connectOnce();
      this.connects++;
      this.#connected = true;
      this.#nextOrderId = Math.max(this.#nextOrderId, nextId);
      for (const spec of this.#specs) this.#subscribe(spec);
    } catch {
      this.#scheduleReconnect();
    }
  }

  /** The subclass reports its socket closed. */
  protected onClosed(): void {
    this.#connected = false;
    this.ctx.ledger.lost(this.name);
    this.streams.clear();
    this.#pendingOrderKey.clear();
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#stopped || this.#reconnectTimer) return;
    const wait = RECONNECT_MIN_MS + Math.floor(Math.random() * (RECONNECT_MAX_MS - RECONNECT_MIN_MS));
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#connect();
    }, wait);
  }

  #open(key: string, kind: RequestKind): void {
    this.ctx.ledger.open(this.name, key, kind, this.ctx.now(), this.ctx.timeoutMs);
  }

  #subscribe(spec: StreamSpec): void {
    const reqId = this.#nextReqId++;
    this.#open(`req:${reqId}`, "marketData");
    this.streams.open(reqId, spec.symbol, this.ctx.now(), `${spec.symbol}/${spec.genericTicks}`);
    this.sendMarketData(reqId, spec);
  }

  act(action: Action, symbol: string): void {
    if (!this.#connected) return;
    const reqId = this.#nextReqId++;
    switch (action) {
      case "contract":
        this.#open(`req:${reqId}`, "contract");
        this.sendContract(reqId, symbol);
        return;
      case "history":
        this.#open(`req:${reqId}`, "history");
        this.sendHistory(reqId, symbol);
        return;
      case "order":
        this.#orderStep();
        return;
    }
  }

  #orderStep(): void {
    // One step at a time per order: the next step waits for the answer to the last.
    const busy = [...this.#pendingOrderKey.values()].length > 0;
    if (busy) return;
    const open = this.#orders.find((o) => o.step !== "done");
    if (open && !open.market) {
      if (open.step === "placed") {
        open.step = "modified";
        this.#orderMessage(open.orderId, "modify", () => this.sendOrder(open.orderId, open.ref, 1.01));
      } else {
        open.step = "done";
        this.#orderMessage(open.orderId, "cancel", () => this.sendCancel(open.orderId));
      }
      return;
    }
    const orderId = this.#nextOrderId++;
    const ref = `${this.ctx.refPrefix}:${this.name}:${++this.#orderCount}`;
    // One order in five is a market order: it fills, and fills travel too.
    const market = this.#orderCount % 5 === 0;
    this.#orders = this.#orders.filter((o) => o.step !== "done");
    this.#orders.push({ orderId, ref, step: market ? "done" : "placed", market });
    this.ctx.onOrderRef(ref);
    this.#orderMessage(orderId, "place", () => this.sendOrder(orderId, ref, market ? undefined : 1));
  }

  #orderMessage(orderId: number, kind: "place" | "modify" | "cancel", send: () => void): void {
    const key = `order:${orderId}:${kind}`;
    this.#pendingOrderKey.set(orderId, key);
    this.#open(key, kind);
    send();
  }

  // What the transport reports back.

  protected onTick(reqId: number): void {
    if (this.streams.tick(reqId, this.ctx.now()))
      this.ctx.ledger.settle(this.name, `req:${reqId}`, "answered");
  }

  protected onAnswer(reqId: number): void {
    this.ctx.ledger.settle(this.name, `req:${reqId}`, "answered");
  }

  protected onOrderNews(orderId: number): void {
    const key = this.#pendingOrderKey.get(orderId);
    if (!key) return;
    this.#pendingOrderKey.delete(orderId);
    this.ctx.ledger.settle(this.name, key, "answered");
  }

  protected onError(id: number, code: number): void {
    if (id < 0) return;
    const orderKey = this.#pendingOrderKey.get(id);
    if (orderKey) {
      this.#pendingOrderKey.delete(id);
      this.ctx.ledger.settle(this.name, orderKey, "errored");
      // 201: the order was refused (never placed); forget it.
      if (code === 201) this.#orders = this.#orders.filter((o) => o.orderId !== id);
      return;
    }
    this.ctx.ledger.settle(this.name, `req:${id}`, "errored");
    if (this.streams.has(id) && endsStream(code)) this.streams.end(id);
  }

  /** An order id the client may use from now on (NEXT_VALID_ID after a reconnect). */
  protected onNextValidId(id: number): void {
    this.#nextOrderId = Math.max(this.#nextOrderId, id);
  }
}
