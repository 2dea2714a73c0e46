/** A line refusing a gateway of another identity, under a ManualClock and a fake network. */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import { FakeNet, flush } from "./fake-net.test-util.js";
import { IdentityGuard, type IdentityStore } from "./identity-guard.js";
import type { LineIdentity } from "./identity.js";
import { Line } from "./line.js";
import type { LineEvent } from "./line-events.js";

async function handshake(net: FakeNet, accounts: string[]): Promise<void> {
  net.settleDial(true);
  await flush();
  net.hello();
  net.nextValidId(7);
  net.accounts(accounts);
  await flush();
}

describe("Line identity", () => {
  it("records the first ready's identity, refuses another one without forwarding it, and comes back on its own", async () => {
    const clock = new ManualClock();
    const net = new FakeNet();
    const records: LineIdentity[] = [];
    const store: IdentityStore = { load: () => records.at(-1), record: (i) => records.push(i) };
    const line = new Line({
      connector: net.connector,
      clock,
      random: () => 1,
      identity: new IdentityGuard({ store }),
    });
    const events: LineEvent[] = [];
    line.on("line.state", (e) => events.push(e));
    line.on("line.identity_changed", (e) => events.push(e));
    const forwarded: number[] = [];
    line.start();
    await flush();
    await handshake(net, ["DU1"]);
    expect(line.state).toBe("ready");
    expect(records).toEqual([{ accounts: ["DU1"], mode: "paper" }]);

    net.current?.peerClose();
    await flush();
    line.onMessage((id) => forwarded.push(id));
    clock.advance(60_000);
    await flush();
    await handshake(net, ["U9"]);
    expect(line.state).toBe("disconnected");
    expect(line.reason).toBe("identity_changed: expected paper DU1, got live U9");
    expect(net.openCount).toBe(0);
    // Nothing of the stranger's reached the switch but what came before its accounts.
    expect(forwarded).not.toContain(15);
    expect(line.accounts).toEqual(["DU1"]);
    expect(events.filter((e) => e.type === "line.identity_changed")).toEqual([
      expect.objectContaining({
        expected: "paper DU1",
        got: { accounts: ["U9"], mode: "live" },
        reason: "identity_changed: expected paper DU1, got live U9",
      }),
    ]);

    // It retries after the backoff, only for its own identity.
    clock.advance(60_000);
    await flush();
    expect(line.state).toBe("connecting");
    await handshake(net, ["DU1"]);
    expect(line.state).toBe("ready");
    expect(records).toHaveLength(1);
    await line.close();
  });

  it("with nothing pinned or recorded, accepts any gateway (an explicit host:port is the user's choice)", async () => {
    const clock = new ManualClock();
    const net = new FakeNet();
    const line = new Line({
      connector: net.connector,
      clock,
      random: () => 1,
      identity: new IdentityGuard(),
    });
    line.start();
    await flush();
    await handshake(net, ["U9"]);
    expect(line.state).toBe("ready");
    await line.close();
  });
});
