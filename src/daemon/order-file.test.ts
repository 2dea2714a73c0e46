import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { orderFileStore } from "./order-file.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "sb-orders-"));
  dirs.push(d);
  return d;
};

describe("order map file", () => {
  it("is absent at first, then reads back what was saved", () => {
    const store = orderFileStore(tmp(), "default");
    expect(store.load()).toBeUndefined();
    const state = {
      version: 1 as const,
      orders: [{ owner: "proxy:3", localId: 1, upstreamId: 17, upstreamClientId: 900, permId: 5 }],
      highWater: { "proxy:3": 1 },
    };
    store.save(state);
    expect(store.load()).toEqual(state);
  });

  it("refuses a file it cannot understand instead of starting empty", () => {
    const dir = tmp();
    const store = orderFileStore(dir, "default");
    writeFileSync(store.path, '{"version":9}');
    expect(() => store.load()).toThrow(/order map/);
    writeFileSync(store.path, "{not json");
    expect(() => store.load()).toThrow();
  });
});
