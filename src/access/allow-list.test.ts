import { afterEach, describe, expect, it } from "vitest";
import { MockGateway } from "../mock/gateway.js";
import { AllowList, isLoopbackHost, isLoopbackRequest, parseCidr } from "./allow-list.js";
import { TEST_NOW } from "../mock/test-now.test-util.js";

describe("allow-list", () => {
  it("parses CIDRs and plain addresses, IPv4 and IPv6, and refuses the rest", () => {
    expect(parseCidr("10.0.0.0/8")).toEqual({ address: "10.0.0.0", prefix: 8, family: 4 });
    expect(parseCidr("::1")).toEqual({ address: "::1", prefix: 128, family: 6 });
    expect(parseCidr("10.0.0.0/33")).toBeUndefined();
    expect(parseCidr("example.com")).toBeUndefined();
  });

  it("matches peers, dual-stack mapped IPv4 included; allows everyone without entries", () => {
    const list = new AllowList(["10.1.0.0/16", "::1"]);
    expect(list.allows("10.1.2.3")).toBe(true);
    expect(list.allows("::ffff:10.1.2.3")).toBe(true);
    expect(list.allows("10.2.0.1")).toBe(false);
    expect(list.allows("::1")).toBe(true);
    expect(list.allows(undefined)).toBe(false);
    expect(new AllowList([]).allows("192.0.2.1")).toBe(true);
  });

  it("knows loopback hosts", () => {
    for (const h of ["127.0.0.1", "127.9.9.9", "::1", "localhost", "::ffff:127.0.0.1"])
      expect(isLoopbackHost(h)).toBe(true);
    for (const h of ["0.0.0.0", "10.0.0.1", "example.com", "::"]) expect(isLoopbackHost(h)).toBe(false);
  });

  it("refuses browser requests from foreign sites (DNS rebinding Host, cross-site Origin)", () => {
    expect(isLoopbackRequest("127.0.0.1:4300", undefined)).toBe(true);
    expect(isLoopbackRequest("localhost:4300", "http://localhost:4300")).toBe(true);
    expect(isLoopbackRequest("[::1]:4300", "http://[::1]:4300")).toBe(true);
    expect(isLoopbackRequest("evil.example:4300", undefined)).toBe(false);
    expect(isLoopbackRequest("127.0.0.1:4300", "https://evil.example")).toBe(false);
    expect(isLoopbackRequest("127.0.0.1:4300", "null")).toBe(false);
  });
});

describe("mock control API from a web page", () => {
  let mock: MockGateway | undefined;
  afterEach(async () => {
    await mock?.close();
  });

  it("answers curl but not a cross-site form post", async () => {
    mock = new MockGateway({ port: 0, controlPort: 0, now: TEST_NOW });
    const { controlPort } = await mock.start();
    const url = `http://127.0.0.1:${controlPort}/faults/latency`;
    const fromPage = await fetch(url, {
      method: "POST",
      headers: { origin: "https://evil.example", "content-type": "text/plain" },
      body: '{"ms":5000}',
    });
    expect(fromPage.status).toBe(403);
    expect(mock.snapshot().faults.latencyMs).toBe(0);
    const fromTool = await fetch(url, { method: "POST", body: '{"ms":5}' });
    expect(fromTool.status).toBe(200);
    expect(mock.snapshot().faults.latencyMs).toBe(5);
  });
});
