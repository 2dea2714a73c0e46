import { describe, expect, it } from "vitest";
import { fixedClientId } from "./client-ids.js";
import { hostPortConnector } from "./connector.js";
import { DEFAULT_HEARTBEAT_DEADLINE_MS, DEFAULT_HEARTBEAT_IDLE_MS, resolveLineOptions } from "./options.js";

describe("resolveLineOptions", () => {
  it("fills every default", () => {
    const o = resolveLineOptions();
    expect(o.connector.target).toBe("127.0.0.1:4002");
    expect(o.heartbeatIdleMs).toBe(DEFAULT_HEARTBEAT_IDLE_MS);
    expect(o.heartbeatDeadlineMs).toBe(DEFAULT_HEARTBEAT_DEADLINE_MS);
    expect(o.heartbeatMaxMissed).toBe(1);
    expect(o.fastProbeIntervalMs).toBe(500);
    expect(o.backoff(1, 1)).toBe(250);
    expect(o.backoff(100, 1)).toBe(30_000);
    expect([o.minVersion, o.maxVersion]).toEqual([157, 178]);
  });

  it("rejects conflicting options naming both", () => {
    expect(() => resolveLineOptions({ connector: hostPortConnector("h", 1), port: 2 })).toThrow(
      /connector.*host\/port/,
    );
    expect(() => resolveLineOptions({ clientId: 1, clientIds: fixedClientId(2) })).toThrow(
      /clientIds.*clientId/,
    );
    expect(() => resolveLineOptions({ backoff: () => 1, backoffMaxMs: 5 })).toThrow(/backoff/);
  });

  it("rejects bad values naming the field", () => {
    expect(() => resolveLineOptions({ port: 70_000 })).toThrow(expect.objectContaining({ field: "port" }));
    expect(() => resolveLineOptions({ heartbeatDeadlineMs: -1 })).toThrow(
      expect.objectContaining({ field: "heartbeatDeadlineMs" }),
    );
    expect(() => resolveLineOptions({ maxVersion: 200 })).toThrow(
      expect.objectContaining({ field: "maxVersion" }),
    );
  });
});
