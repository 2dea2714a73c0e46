/** Line identity rules and the guard that holds a line to them (pure, a store in memory). */
import { describe, expect, it } from "vitest";
import { checkIdentity, describeIdentity, identityOf, type LineIdentity } from "./identity.js";
import { IdentityGuard, type IdentityStore } from "./identity-guard.js";

function memoryStore(initial?: LineIdentity): IdentityStore & { records: LineIdentity[] } {
  const records: LineIdentity[] = [];
  let current = initial;
  return {
    records,
    load: () => current,
    record: (i) => {
      records.push(i);
      current = i;
    },
  };
}

describe("identity rules", () => {
  it("is paper only when every account starts with D, and compares sorted accounts", () => {
    expect(identityOf(["DU2", "DU1"])).toEqual({ accounts: ["DU1", "DU2"], mode: "paper" });
    expect(identityOf(["DU1", "U2"]).mode).toBe("live");
    expect(identityOf(["U1"]).mode).toBe("live");
    expect(describeIdentity(identityOf(["DU2", "DU1"]))).toBe("paper DU1,DU2");
  });

  it.each([
    [{}, ["U1"], undefined],
    [{ mode: "paper" as const }, ["DU1"], undefined],
    [{ mode: "paper" as const }, ["U1"], "identity_changed: expected paper, got live U1"],
    [{ mode: "live" as const }, ["DU1"], "identity_changed: expected live, got paper DU1"],
    [{ accounts: ["DU1"] }, ["DU2"], "identity_changed: expected paper DU1, got paper DU2"],
    [{ accounts: ["DU1", "DU2"] }, ["DU2", "DU1"], undefined],
  ])("pin %j with accounts %j → %s", (pin, accounts, reason) => {
    expect(checkIdentity({ pin, recorded: undefined }, accounts)?.reason).toBe(reason);
  });

  it("holds to a recorded identity: other accounts of the same kind are refused too", () => {
    const recorded = identityOf(["DU1"]);
    expect(checkIdentity({ pin: {}, recorded }, ["DU1"])).toBeUndefined();
    expect(checkIdentity({ pin: {}, recorded }, ["U9"])?.reason).toBe(
      "identity_changed: expected paper DU1, got live U9",
    );
    expect(checkIdentity({ pin: {}, recorded }, ["DU1", "DU2"])?.reason).toBe(
      "identity_changed: expected paper DU1, got paper DU1,DU2",
    );
  });
});

describe("identity guard", () => {
  it("records the first ready's identity once, and then holds to it", () => {
    const store = memoryStore();
    const g = new IdentityGuard({ store });
    expect(g.check(["DU1"])).toBeUndefined();
    g.confirmed(["DU1"]);
    g.confirmed(["DU1"]);
    expect(store.records).toEqual([{ accounts: ["DU1"], mode: "paper" }]);
    expect(g.check(["U1"])?.reason).toBe("identity_changed: expected paper DU1, got live U1");
    expect(g.view([])).toMatchObject({ mode: "paper", accounts: ["DU1"], source: "recorded" });
  });

  it("knows a recorded identity from its store at once (a restarted daemon)", () => {
    const g = new IdentityGuard({ store: memoryStore(identityOf(["DU1"])) });
    expect(g.check(["U1"])).toBeDefined();
    expect(g.acceptForAuto(["U1"])).toBeDefined();
    expect(g.acceptForAuto(["DU1"])).toBeUndefined();
  });

  it("records nothing from a Switchboard mock", () => {
    const store = memoryStore();
    const g = new IdentityGuard({ store, isMock: () => true });
    g.confirmed(["DU1234567"]);
    expect(store.records).toEqual([]);
    expect(g.view(["DU1234567"])).toMatchObject({ mode: "mock", source: "mock" });
  });

  it("lets auto take a live gateway only when the config says mode: live", () => {
    expect(new IdentityGuard().acceptForAuto(["U1"])?.reason).toMatch(/^identity_changed: expected paper/);
    expect(new IdentityGuard().acceptForAuto(["DU1"])).toBeUndefined();
    expect(new IdentityGuard({ pin: { mode: "live" } }).acceptForAuto(["U1"])).toBeUndefined();
    expect(new IdentityGuard({ pin: { mode: "live" } }).acceptForAuto(["DU1"])).toBeDefined();
    // A line that recorded live (an explicit host:port once) may find it again by auto.
    expect(
      new IdentityGuard({ store: memoryStore(identityOf(["U1"])) }).acceptForAuto(["U1"]),
    ).toBeUndefined();
  });
});
