/** The `ha` config key: YAML, env, the nested flags --ha-group / --ha-lease-ms, and its need for redis. */
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./index.js";

const REDIS = "redis://127.0.0.1:6379";

describe("ha config", () => {
  it("reads ha from YAML with the default lease, and lets the flags set its fields", () => {
    const file = { name: "s.yaml", text: `redis: ${REDIS}\nha:\n  group: desk\n` };
    expect(loadConfig({ file }).ha).toEqual({ group: "desk", leaseMs: 5_000 });
    const flagged = loadConfig({ file, flags: { "ha.leaseMs": "3000" } });
    expect(flagged.ha).toEqual({ group: "desk", leaseMs: 3_000 });
    const onlyFlags = loadConfig({ flags: { redis: REDIS, "ha.group": "desk2" } });
    expect(onlyFlags.ha).toEqual({ group: "desk2", leaseMs: 5_000 });
    const env = loadConfig({
      env: { SWITCHBOARD_REDIS: REDIS, SWITCHBOARD_HA__GROUP: "e", SWITCHBOARD_HA__LEASE_MS: "4000" },
    });
    expect(env.ha).toEqual({ group: "e", leaseMs: 4_000 });
    expect(loadConfig({}).ha).toBeUndefined();
  });

  it("needs redis, and checks group and leaseMs naming the flag or key", () => {
    const noRedis = (() => {
      try {
        loadConfig({ flags: { "ha.group": "desk" } });
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(noRedis).toBeInstanceOf(ConfigError);
    expect((noRedis as Error).message).toMatch(/--redis/);
    expect(() => loadConfig({ flags: { redis: REDIS, "ha.group": "desk", "ha.leaseMs": "10" } })).toThrow(
      /--ha-lease-ms.*1000\.\.600000/,
    );
    expect(() =>
      loadConfig({ file: { name: "s.yaml", text: `redis: ${REDIS}\nha:\n  group: desk\n  lease: 1\n` } }),
    ).toThrow(/unknown config key "ha.lease"|ha/);
  });
});
