/**
 * @stoqey/ib as a test client: connect, collect its errors, and the usual start of a
 * session (accounts, contract details, history, current time). Shared by the tests that run
 * it against the mock directly and through the proxy.
 */
import { type Contract, EventName, IBApi, SecType } from "@stoqey/ib";
import { expect } from "vitest";
import { TEST_NOW } from "./test-now.test-util.js";

export const AAPL: Contract = { symbol: "AAPL", secType: SecType.STK, exchange: "SMART", currency: "USD" };

export interface StoqeyClient {
  api: IBApi;
  errors: { code: number; reqId: number; message: string }[];
  nextId: number;
}

/** Connect and wait for NEXT_VALID_ID; `onClose` receives the disconnect for cleanup. */
export async function connectStoqey(
  port: number,
  clientId: number,
  onClose: (c: { close(): Promise<void> }) => void,
): Promise<StoqeyClient> {
  const api = new IBApi({ host: "127.0.0.1", port });
  const c: StoqeyClient = { api, errors: [], nextId: 0 };
  api.on(EventName.error, (err: Error, code: number, reqId: number) =>
    c.errors.push({ code, reqId, message: err.message }),
  );
  const ready = new Promise<void>((resolve) =>
    api.once(EventName.nextValidId, (id: number) => {
      c.nextId = id;
      resolve();
    }),
  );
  api.connect(clientId);
  onClose({ close: async () => void api.disconnect() });
  await ready;
  return c;
}

/** Its decoder answers a message with a field too few or too many with error 505. */
export function expectNo505(c: StoqeyClient): void {
  expect(c.errors.filter((e) => e.code === 505)).toEqual([]);
}

/**
 * Accounts, AAPL's contract details, 5-minute bars of `1 D` with useRTH=0, TWS's time. At
 * TEST_NOW (11:00 New York) the session so far is 04:00–11:00: 84 complete bars.
 */
export async function expectSessionBasics(c: StoqeyClient): Promise<void> {
  const accounts = new Promise<string>((r) => c.api.once(EventName.managedAccounts, r));
  c.api.reqManagedAccts();
  expect(await accounts).toBe("DU1234567");

  const details: number[] = [];
  const detailsEnd = new Promise<void>((resolve) => {
    c.api.on(EventName.contractDetails, (_id, d) => details.push(d.contract.conId ?? 0));
    c.api.once(EventName.contractDetailsEnd, () => resolve());
  });
  c.api.reqContractDetails(1, AAPL);
  await detailsEnd;
  expect(details).toEqual([265598]);

  const bars: number[] = [];
  const histDone = new Promise<void>((resolve) =>
    c.api.on(EventName.historicalData, (_id, time: string, open: number) => {
      if (time.startsWith("finished")) resolve();
      else bars.push(open);
    }),
  );
  c.api.reqHistoricalData(2, AAPL, "", "1 D", "5 mins" as never, "TRADES" as never, 0, 1, false);
  await histDone;
  expect(bars.length).toBe(84);

  const time = new Promise<number>((r) => c.api.once(EventName.currentTime, r));
  c.api.reqCurrentTime();
  expect(await time).toBeGreaterThanOrEqual(Date.parse(TEST_NOW) / 1000);
}
