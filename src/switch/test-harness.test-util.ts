/** A real mock gateway, a real line to it, a pacer and a switch: the stack tests drive. */
import { Line } from "../line/line.js";
import { MockGateway } from "../mock/gateway.js";
import { resolveRules } from "../pacing/rules.js";
import { Pacer } from "../pacing/scheduler.js";
import { toFields } from "../protocol/codec.js";
import { IN } from "../protocol/message-ids.js";
import { type Contract, contract } from "../protocol/messages/contract.js";
import { REQ_CONTRACT_DATA } from "../protocol/messages/contracts.js";
import { REQ_MKT_DATA } from "../protocol/messages/market-data.js";
import type { SwitchOptions } from "./options.js";
import { Switch } from "./switch.js";
import type { Tenant } from "./tenant.js";
import { TEST_NOW } from "../mock/test-now.test-util.js";

export interface Stack {
  mock: MockGateway;
  line: Line;
  pacer: Pacer;
  sw: Switch;
  close(): Promise<void>;
}

export async function startStack(
  options: {
    readOnly?: boolean;
    tickIntervalMs?: number;
    switch?: SwitchOptions;
    /** The mock's historical-data answer latency (default 0). */
    historyLatencyMs?: number;
    /** The pacer's market-data line budget (default IB's 100). */
    marketDataLines?: number;
  } = {},
): Promise<Stack> {
  const mock = new MockGateway({
    port: 0,
    controlPort: null,
    tickIntervalMs: options.tickIntervalMs ?? 50,
    now: TEST_NOW,
    ...(options.historyLatencyMs === undefined ? {} : { historyLatencyMs: options.historyLatencyMs }),
  });
  await mock.start();
  const line = new Line({
    host: "127.0.0.1",
    port: mock.port,
    clientId: 1,
    backoffInitialMs: 50,
    backoffMaxMs: 500,
    fastProbeIntervalMs: 100,
  });
  line.start();
  await line.ready({ timeoutMs: 10_000 });
  const pacer = new Pacer(
    options.marketDataLines === undefined
      ? {}
      : {
          rules: resolveRules({
            override: { rules: { marketDataLines: { limit: options.marketDataLines } } },
          }),
        },
  );
  const sw = new Switch(line, pacer, { readOnly: options.readOnly ?? false, ...options.switch });
  return {
    mock,
    line,
    pacer,
    sw,
    async close() {
      await sw.close();
      await line.close();
      await pacer.close();
      await mock.close();
    },
  };
}

/** Everything a tenant receives, with a bounded wait for the next match. */
export class Inbox {
  readonly messages: string[][] = [];
  #wake: (() => void) | undefined;

  constructor(tenant: Tenant) {
    tenant.onMessage((f) => {
      this.messages.push([...f]);
      this.#wake?.();
    });
  }

  /** Wait for a message matching `pred` that arrives after index `from`. */
  async next(
    pred: (f: string[]) => boolean,
    options: { from?: number; timeoutMs?: number } = {},
  ): Promise<string[]> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    let from = options.from ?? 0;
    for (;;) {
      for (; from < this.messages.length; from++) {
        const m = this.messages[from] as string[];
        if (pred(m)) return m;
      }
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no matching message within the wait; last: ${JSON.stringify(this.messages.slice(-3))}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  get length(): number {
    return this.messages.length;
  }
}

export const is =
  (msgId: number, id?: number, index = 2) =>
  (f: string[]) =>
    Number(f[0]) === msgId && (id === undefined || Number(f[index]) === id);

export const V = 178;
export const AAPL = contract({ symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" });
export const MSFT = contract({ symbol: "MSFT", secType: "STK", exchange: "SMART", currency: "USD" });

export const contractReq = (reqId: number, c: Contract = AAPL) =>
  toFields(
    REQ_CONTRACT_DATA,
    { reqId, contract: c, includeExpired: false, secIdType: "", secId: "", issuerId: "" },
    V,
  );

export const mktData = (tickerId: number, c: Contract = AAPL, genericTickList = "") =>
  toFields(
    REQ_MKT_DATA,
    {
      tickerId,
      contract: c,
      comboLegs: [],
      deltaNeutral: undefined,
      genericTickList,
      snapshot: false,
      regulatorySnapshot: false,
      mktDataOptions: "",
    },
    V,
  );

export const isTick = (tickerId: number) => (f: string[]) =>
  (Number(f[0]) === IN.TICK_PRICE || Number(f[0]) === IN.TICK_SIZE) && Number(f[2]) === tickerId;
