/**
 * Each member's own pacing deadline in a shared request (groupWait), over a real
 * line to the mock gateway: a tenant that asks again at once when it hears its timeout (an
 * in-process client's onError does this synchronously) must not leave a stale pacer deadline
 * that later times out members of the written request.
 */
import { afterEach, describe, expect, it } from "vitest";
import { toFields } from "../protocol/codec.js";
import { IN } from "../protocol/message-ids.js";
import { CANCEL_MKT_DATA } from "../protocol/messages/market-data.js";
import { Inbox, is, isTick, mktData, MSFT, type Stack, startStack, V } from "./test-harness.test-util.js";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe("each member's own deadline in a shared stream", () => {
  it("a member that asks again at once on its timeout does not get another member a late timeout after the stream went out", async () => {
    stack = await startStack({ marketDataLines: 1 });
    const s = stack;
    const x = s.sw.openTenant({ kind: "client", name: "holds-the-line" });
    const xIn = new Inbox(x);
    x.send(mktData(1, MSFT));
    await xIn.next(isTick(1));
    // a waits 300 ms and asks again (same contract) the moment it hears its timeout, once.
    const a = s.sw.openTenant({ kind: "client", name: "retries", pacingDeadlineMs: 300 });
    const aIn = new Inbox(a);
    let retried = false;
    a.onMessage((f) => {
      if (!retried && is(IN.ERR_MSG, 5)([...f])) {
        retried = true;
        a.send(mktData(7));
      }
    });
    // b waits 3 s, c the default 30 s.
    const b = s.sw.openTenant({ kind: "client", name: "patient", pacingDeadlineMs: 3_000 });
    const bIn = new Inbox(b);
    const c = s.sw.openTenant({ kind: "client", name: "very-patient" });
    const cIn = new Inbox(c);
    a.send(mktData(5));
    b.send(mktData(6));
    c.send(mktData(8));
    // a hears its timeout for 5 (at 300 ms), asks again as 7, and hears its timeout for 7 too.
    expect((await aIn.next(is(IN.ERR_MSG, 5)))[3]).toBe("101");
    expect((await aIn.next(is(IN.ERR_MSG, 7)))[3]).toBe("101");
    // Well before b's 3 s, the line frees: the shared request goes out for b and c.
    x.send(toFields(CANCEL_MKT_DATA, { tickerId: 1 }, V));
    await bIn.next(isTick(6));
    await cIn.next(isTick(8));
    const from = bIn.messages.length;
    // Past b's 3 s: b is served and stays served.
    await new Promise((r) => setTimeout(r, 3_200));
    expect(bIn.messages.filter(is(IN.ERR_MSG, 6))).toEqual([]);
    expect(bIn.messages.slice(from).filter(isTick(6)).length).toBeGreaterThan(0);
    expect(
      s.sw
        .snapshot()
        .groups.filter((g) => g.request === "REQ_MKT_DATA")
        .map((g) => g.members),
    ).toEqual([2]);
    await bIn.next(isTick(6), { from: bIn.messages.length });
  });
});
