/**
 * What @stoqey/ib makes of a list of messages: a scripted TWS sends them at a server version
 * and the client's events are collected in order, with its errors.
 */
import { EventName, IBApi } from "@stoqey/ib";
import { scriptedTws } from "./fixtures.test-util.js";

export interface StoqeyEvent {
  event: string;
  args: unknown[];
}

const EVENTS = [
  EventName.openOrder,
  EventName.orderStatus,
  EventName.execDetails,
  EventName.commissionReport,
  EventName.completedOrder,
  EventName.contractDetails,
  EventName.managedAccounts,
  EventName.nextValidId,
  EventName.position,
  EventName.historicalData,
  EventName.headTimestamp,
  EventName.error,
] as const;

/** The last message is followed by CURRENT_TIME, whose event marks the end of the read. */
export async function readWithStoqey(
  version: number,
  messages: readonly (readonly string[])[],
): Promise<StoqeyEvent[]> {
  const tws = await scriptedTws(version, [...messages, ["49", "1", "1700000000"]]);
  const api = new IBApi({ host: "127.0.0.1", port: tws.port });
  const events: StoqeyEvent[] = [];
  // One listener for many events: the typed overloads take one event name each.
  const on = api.on.bind(api) as (event: string, listener: (...args: unknown[]) => void) => void;
  for (const e of EVENTS) {
    on(e, (...args: unknown[]) => {
      events.push({ event: e, args: e === EventName.error ? [String(args[0]), args[1], args[2]] : args });
    });
  }
  try {
    const done = new Promise<void>((resolve) => api.once(EventName.currentTime, () => resolve()));
    api.connect(0);
    await done;
    return events;
  } finally {
    api.disconnect();
    await tws.close();
  }
}
