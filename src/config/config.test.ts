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

describe("loadConfig", () => {
  it("defaults to the built-in mock on one required line", () => {
    const c = loadConfig({});
    expect(c.lines).toEqual([
      {
        name: "default",
        upstream: { kind: "mock" },
        required: true,
        proxyPort: 4010,
        proxyPortKey: "proxyPort",
        readOnly: false,
      },
    ]);
    expect(c.implicitMock).toBe(true);
    expect(c).toMatchObject({
      httpPort: 4300,
      proxyPort: 4010,
      host: "127.0.0.1",
      readOnly: false,
      mockPort: 0,
    });
  });

  it("layers file < env < flags", () => {
    const c = loadConfig({
      file: { name: "s.yaml", text: "httpPort: 5000\nlogLevel: warn\nreadOnly: true\n" },
      env: { SWITCHBOARD_HTTP_PORT: "5001", SWITCHBOARD_LOG_LEVEL: "debug", HOME: "/x" },
      flags: { httpPort: "5002" },
    });
    expect(c.httpPort).toBe(5002);
    expect(c.logLevel).toBe("debug");
    expect(c.readOnly).toBe(true);
  });

  it("reads lines from YAML and nested env keys joined by __", () => {
    const c = loadConfig({
      file: {
        name: "s.yaml",
        text: "lines:\n  - name: paper\n    upstream: 127.0.0.1:4002\n  - name: live\n    upstream: auto\n    required: false\n    proxyPort: 4011\n",
      },
      env: { SWITCHBOARD_LINES__0__UPSTREAM: "127.0.0.1:4999", SWITCHBOARD_LINES__1__READ_ONLY: "true" },
    });
    expect(c.lines).toEqual([
      {
        name: "paper",
        upstream: { kind: "tcp", host: "127.0.0.1", port: 4999 },
        required: true,
        proxyPort: 4010,
        proxyPortKey: "proxyPort",
        readOnly: false,
      },
      {
        name: "live",
        upstream: { kind: "auto" },
        required: false,
        proxyPort: 4011,
        proxyPortKey: "lines.1.proxyPort",
        readOnly: true,
      },
    ]);
  });

  it("--upstream is shorthand for one line named default and overrides file lines", () => {
    const c = loadConfig({
      file: { name: "s.yaml", text: "lines:\n  - {name: a, upstream: mock}\n" },
      flags: { upstream: "[::1]:4002" },
    });
    expect(c.lines).toEqual([
      {
        name: "default",
        upstream: { kind: "tcp", host: "::1", port: 4002 },
        required: true,
        proxyPort: 4010,
        proxyPortKey: "proxyPort",
        readOnly: false,
      },
    ]);
  });

  it("gives every line its proxy port and read-only mode; the first line may use the top-level proxyPort", () => {
    const c = loadConfig({
      file: {
        name: "s.yaml",
        text:
          "proxyPort: 5010\nreadOnly: true\nlines:\n" +
          "  - {name: paper, upstream: '127.0.0.1:4002', readOnly: false}\n" +
          "  - {name: live, upstream: '127.0.0.1:4001', proxyPort: 5011}\n",
      },
    });
    expect(c.lines.map((l) => [l.name, l.proxyPort, l.readOnly])).toEqual([
      ["paper", 5010, false],
      ["live", 5011, true],
    ]);
    expect(c.proxyPort).toBe(5010);
    const own = loadConfig({
      file: {
        name: "s.yaml",
        text: "lines:\n  - {name: a, upstream: mock, proxyPort: 0}\n  - {name: b, upstream: mock, proxyPort: 0}\n",
      },
    });
    expect(own.lines.map((l) => l.proxyPort)).toEqual([0, 0]);
  });

  it("refuses two lines on one proxy port naming both, and a later line without one", () => {
    const both = fail(() =>
      loadConfig({
        file: {
          name: "s.yaml",
          text: "proxyPort: 4011\nlines:\n  - {name: paper, upstream: mock}\n  - {name: live, upstream: mock, proxyPort: 4011}\n",
        },
      }),
    );
    expect(both.field).toBe("lines.1.proxyPort");
    expect(both.message).toContain(
      'lines "paper" (proxyPort) and "live" (lines.1.proxyPort) both use proxy port 4011',
    );
    const missing = fail(() =>
      loadConfig({
        file: {
          name: "s.yaml",
          text: "lines:\n  - {name: a, upstream: mock}\n  - {name: b, upstream: mock}\n",
        },
      }),
    );
    expect(missing.field).toBe("lines.1.proxyPort");
    expect(missing.message).toContain('line "b" needs its own proxy port');
  });

  it("names an unknown file key and lists the accepted ones", () => {
    const e = fail(() => loadConfig({ file: { name: "s.yaml", text: "htpPort: 1\n" } }));
    expect(e.field).toBe("htpPort");
    expect(e.message).toContain('unknown config key "htpPort"');
    expect(e.message).toContain("httpPort");
  });

  it("names an unknown env key", () => {
    const e = fail(() => loadConfig({ env: { SWITCHBOARD_NOPE: "1" } }));
    expect(e.message).toContain("SWITCHBOARD_NOPE");
    expect(e.message).toContain("SWITCHBOARD_HTTP_PORT");
  });

  it("names a bad value with its source and accepted values", () => {
    const e = fail(() => loadConfig({ env: { SWITCHBOARD_HTTP_PORT: "abc" } }));
    expect(e.field).toBe("httpPort");
    expect(e.message).toContain("SWITCHBOARD_HTTP_PORT");
    expect(e.message).toContain("0..65535");
    const u = fail(() => loadConfig({ flags: { upstream: "nowhere" } }));
    expect(u.message).toContain("--upstream");
    expect(u.message).toContain('"mock", "auto" or host:port');
    const l = fail(() => loadConfig({ file: { name: "f.yaml", text: "logLevel: loud\n" } }));
    expect(l.message).toContain("fatal, error, warn, info, debug, trace, silent");
    const n = fail(() =>
      loadConfig({ file: { name: "f.yaml", text: "lines:\n  - {name: a, upstream: x}\n" } }),
    );
    expect(n.field).toBe("lines.0.upstream");
  });

  it("refuses a non-loopback bind without token and allow-list", () => {
    const e = fail(() => loadConfig({ flags: { host: "0.0.0.0" } }));
    expect(e.field).toBe("host");
    expect(e.message).toContain("--token");
    const ok = loadConfig({ flags: { host: "0.0.0.0", token: "secret-token", allow: "10.0.0.0/8,::1" } });
    expect(ok.allow).toEqual(["10.0.0.0/8", "::1"]);
    const bad = fail(() => loadConfig({ flags: { allow: "10.0.0.0/33" } }));
    expect(bad.field).toBe("allow.0");
  });

  it("refuses duplicate line names and upstream+lines in one layer", () => {
    expect(
      fail(() =>
        loadConfig({
          file: { name: "f", text: "lines: [{name: a, upstream: mock}, {name: a, upstream: auto}]" },
        }),
      ).field,
    ).toBe("lines.1.name");
    expect(
      fail(() =>
        loadConfig({ file: { name: "f", text: "upstream: mock\nlines: [{name: a, upstream: mock}]" } }),
      ).field,
    ).toBe("upstream");
  });

  it("reports a bad value in the file even while a flag overrides that key", () => {
    const e = fail(() =>
      loadConfig({ file: { name: "s.yaml", text: "httpPort: http\n" }, flags: { httpPort: "4400" } }),
    );
    expect(e.field).toBe("httpPort");
    expect(e.message).toContain("s.yaml");
  });

  it("merges purposes over the defaults from file, env or flag, and refuses overlaps", () => {
    const c = loadConfig({ file: { name: "s.yaml", text: "purposes:\n  api: 1000-1999\n  one: 7000\n" } });
    expect(c.purposes.api).toEqual({ min: 1000, max: 1999 });
    expect(c.purposes.one).toEqual({ min: 7000, max: 7000 });
    expect(c.purposes.proxy).toEqual({ min: 900, max: 999 });
    const env = loadConfig({ env: { SWITCHBOARD_PURPOSES: "backfill=2000-2999" } });
    expect(env.purposes.backfill).toEqual({ min: 2000, max: 2999 });
    const overlap = fail(() => loadConfig({ flags: { purposes: "api=950-1050" } }));
    expect(overlap.field).toBe("purposes.api");
    expect(overlap.message).toContain('overlaps purpose "proxy"');
    const bad = fail(() => loadConfig({ file: { name: "s.yaml", text: "purposes:\n  api: lots\n" } }));
    expect(bad.field).toBe("purposes.api");
  });
});
