import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import { fixedClientId, rangeClientIds } from "./client-ids.js";

describe("client id sources", () => {
  it("fixedClientId always gives the same id", async () => {
    const ids = fixedClientId(7);
    ids.rejected(7);
    expect((await ids.acquire()).clientId).toBe(7);
    expect((await ids.acquire()).clientId).toBe(7);
  });

  it("rangeClientIds hands out free ids lowest first and takes released ones back", async () => {
    const ids = rangeClientIds(10, 12);
    const a = await ids.acquire();
    const b = await ids.acquire();
    expect([a.clientId, b.clientId]).toEqual([10, 11]);
    await a.release();
    await a.release();
    expect((await ids.acquire()).clientId).toBe(10);
    expect((await ids.acquire()).clientId).toBe(12);
    await expect(ids.acquire()).rejects.toMatchObject({ code: "range_exhausted" });
  });

  it("rangeClientIds cools a refused id down", async () => {
    const clock = new ManualClock();
    const ids = rangeClientIds(1, 3, { clock, cooldownMs: 1_000 });
    const a = await ids.acquire();
    ids.rejected(a.clientId);
    await a.release();
    expect((await ids.acquire()).clientId).toBe(2);
    clock.advance(1_000);
    expect((await ids.acquire()).clientId).toBe(1);
  });
});
