import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { DownstreamWriter } from "./writer.js";

/** Just enough of a socket: a write buffer that nobody drains. */
function stuckSocket() {
  const written: Buffer[] = [];
  const s = {
    destroyed: false,
    writableEnded: false,
    writableLength: 0,
    cork() {},
    uncork() {},
    write(b: Buffer) {
      written.push(b);
      s.writableLength += b.length;
      return false;
    },
  };
  return { socket: s as unknown as Socket, written };
}

describe("DownstreamWriter", () => {
  it("reports overflow once the unread output passes the limit, never growing past one frame over", () => {
    const { socket, written } = stuckSocket();
    const w = new DownstreamWriter(socket, 100);
    const results = Array.from({ length: 20 }, () => w.message(["1", "2", "x".repeat(30)]));
    expect(results.slice(0, 3)).toEqual(["written", "written", "written"]);
    expect(results.slice(4)).toEqual(Array(16).fill("overflow"));
    expect(written.length).toBe(w.messagesOut);
    expect(socket.writableLength).toBeLessThan(100 + 40);
  });

  it("lets one large answer through an empty buffer", () => {
    const { socket } = stuckSocket();
    const w = new DownstreamWriter(socket, 100);
    expect(w.message(["17", "1", "y".repeat(10_000)])).toBe("written");
    expect(w.bytesOut).toBeGreaterThan(10_000);
  });
});
