/** The config keys of line identity: lines[].mode, lines[].accounts and autoPorts. */
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./index.js";

function fail(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

const file = (text: string) => ({ file: { name: "s.yaml", text } });

describe("identity config keys", () => {
  it("pins a line's mode and accounts", () => {
    const c = loadConfig(
      file(
        "lines:\n  - {name: paper, upstream: auto, mode: paper, accounts: [DU1, DU2]}\n  - {name: live, upstream: '127.0.0.1:7496', mode: live, proxyPort: 4011}\n",
      ),
    );
    expect(c.lines[0]).toMatchObject({ name: "paper", mode: "paper", accounts: ["DU1", "DU2"] });
    expect(c.lines[1]).toMatchObject({ name: "live", mode: "live" });
    expect(c.lines[1]).not.toHaveProperty("accounts");
  });

  it("refuses a mode the pinned accounts contradict, naming the key", () => {
    const e = fail(() =>
      loadConfig(file("lines:\n  - {name: a, upstream: auto, mode: paper, accounts: [U1]}\n")),
    );
    expect(e.field).toBe("lines.0.accounts");
    expect(e.message).toMatch(/live accounts but "lines.0.mode" is paper/);
  });

  it("refuses an unknown mode with the accepted values", () => {
    const e = fail(() => loadConfig(file("lines:\n  - {name: a, upstream: auto, mode: demo}\n")));
    expect(e.field).toBe("lines.0.mode");
    expect(e.message).toMatch(/accepted: paper or live/);
  });

  it("pins the identity of the line `upstream` makes with top-level mode / accounts, and only that one", () => {
    const c = loadConfig({ flags: { upstream: "auto", mode: "live", accounts: "U1,U2" } });
    expect(c.lines).toEqual([
      {
        name: "default",
        upstream: { kind: "auto" },
        required: true,
        mode: "live",
        accounts: ["U1", "U2"],
        proxyPort: 4010,
        proxyPortKey: "proxyPort",
        readOnly: false,
      },
    ]);
    expect(
      loadConfig({ env: { SWITCHBOARD_UPSTREAM: "auto", SWITCHBOARD_MODE: "paper" } }).lines[0]?.mode,
    ).toBe("paper");
    expect(fail(() => loadConfig({ flags: { upstream: "auto", mode: "paper", accounts: "U1" } })).field).toBe(
      "accounts",
    );
    const withLines = fail(() => loadConfig(file("mode: live\nlines:\n  - {name: a, upstream: auto}\n")));
    expect(withLines.field).toBe("mode");
    expect(withLines.message).toMatch(/give lines\[\]\.mode instead/);
  });

  it("takes autoPorts from the file, the env or a flag, defaulting to IB's ports paper first", () => {
    expect(loadConfig({}).autoPorts).toEqual([4002, 7497, 4001, 7496]);
    expect(loadConfig(file("autoPorts: [4102, 4101]\n")).autoPorts).toEqual([4102, 4101]);
    expect(loadConfig({ env: { SWITCHBOARD_AUTO_PORTS: "5002,5001" } }).autoPorts).toEqual([5002, 5001]);
    expect(loadConfig({ flags: { autoPorts: "6002" } }).autoPorts).toEqual([6002]);
    const zero = fail(() => loadConfig(file("autoPorts: [0]\n")));
    expect(zero.field).toBe("autoPorts.0");
    expect(zero.message).toMatch(/accepted: a list of 1..32 ports/);
    expect(fail(() => loadConfig({ flags: { autoPorts: "x" } })).field).toMatch(/^autoPorts/);
  });
});
