/**
 * Garbage from one downstream hurts only that downstream: a wrong prefix, an oversize or
 * empty frame closes it; random bytes after the handshake are read as messages (answered
 * with errors) or close it; the upstream line, the mock and every other client carry on.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RawClient } from "../mock/raw-client.test-util.js";
import { isTick, mktData, type ProxyStack, startProxyStack, until } from "./test-stack.test-util.js";

let s: ProxyStack;
let observer: RawClient;

beforeAll(async () => {
  s = await startProxyStack();
  observer = await RawClient.connect(s.port, { clientId: 99 });
  observer.sendFields(mktData(1));
  await observer.waitFor(isTick(1));
});

afterAll(async () => {
  await observer?.close();
  await s?.close();
});

/** The observer still streams, the line never dropped, the mock still has one client. */
async function healthy(generation: number): Promise<void> {
  await observer.next(isTick(1));
  observer.sendFields(["49", "1"]);
  await observer.next((f) => f[0] === "49");
  expect(s.line.generation).toBe(generation);
  expect(s.line.state).toBe("ready");
  expect(s.mock.snapshot().clients).toHaveLength(1);
}

describe("proxy under garbage from one downstream", () => {
  it("closes a peer that does not start with API\\0", async () => {
    const gen = s.line.generation;
    const c = await RawClient.open(s.port);
    c.socket.write(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await c.closed;
    await healthy(gen);
  });

  it("closes a downstream that announces a frame over 1 MiB, before reading it", async () => {
    const gen = s.line.generation;
    const before = s.proxy.snapshot().counters.badInput;
    const c = await RawClient.connect(s.port, { clientId: 5 });
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1024 * 1024 + 1);
    c.socket.write(header);
    await c.closed;
    expect(s.proxy.snapshot().counters.badInput).toBe(before + 1);
    await healthy(gen);
  });

  it("closes a downstream that sends an empty frame or a bad version frame", async () => {
    const gen = s.line.generation;
    const a = await RawClient.connect(s.port, { clientId: 6 });
    a.socket.write(Buffer.alloc(4));
    await a.closed;
    const b = await RawClient.open(s.port);
    b.socket.write(Buffer.concat([Buffer.from("API\0"), Buffer.from([0, 0, 0, 3]), Buffer.from("xyz")]));
    await b.closed;
    await healthy(gen);
  });

  it("survives random bytes after the handshake from many downstreams", async () => {
    const gen = s.line.generation;
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 2048 }),
        fc.boolean(),
        async (bytes, framed) => {
          const c = await RawClient.connect(s.port, { clientId: 7 });
          let data = Buffer.from(bytes);
          if (framed) {
            // Well-framed junk reaches the switch as fields: it must answer or ignore, not break.
            const h = Buffer.alloc(4);
            h.writeUInt32BE(data.length);
            data = Buffer.concat([h, data]);
          }
          c.socket.write(data);
          // A round trip after the junk, when the socket survived it.
          c.sendFields(["49", "1"]);
          await Promise.race([
            c.closed,
            c.waitFor((f) => f[0] === "49" || f[0] === "4", 5_000).catch(() => {}),
          ]);
          await c.close();
        },
      ),
      { numRuns: 40 },
    );
    await until(() => s.proxy.snapshot().downstreams.length === 1, "only the observer left");
    await healthy(gen);
  });
});
