import { describe, expect, it } from "vitest";
import { classifyNotice, isLineNotice } from "./notices.js";

describe("classifyNotice", () => {
  it.each([
    [326, "client-id-in-use", "warn"],
    [1100, "degrade", "warn"],
    [1101, "restore-data-lost", "warn"],
    [1102, "restore-data-kept", "info"],
    [1300, "reconnect", "warn"],
    [2110, "degrade", "warn"],
    [2103, "none", "warn"],
    [2104, "none", "info"],
    [2105, "none", "warn"],
    [2106, "none", "info"],
    [2107, "none", "info"],
    [2108, "none", "info"],
    [2157, "none", "warn"],
    [2158, "none", "info"],
    [2137, "none", "info"],
    [162, "none", "warn"],
  ])("code %i → %s at %s", (code, action, level) => {
    expect(classifyNotice(code)).toEqual({ action, level });
  });

  it("tells line notices from request errors", () => {
    expect(isLineNotice(-1, 100)).toBe(true);
    expect(isLineNotice(5, 2104)).toBe(true);
    expect(isLineNotice(5, 200)).toBe(false);
  });
});
