import { createServer, type Server, type Socket, connect } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeFields, encodeFields } from "../protocol/fields.js";
import { encodeFrame, FrameDecoder } from "../protocol/frame.js";
import { DownstreamWriter } from "./writer.js";

/** Just enough of a socket: a write buffer that nobody drains. */
function stuckSocket() {
  const written: Buffer[] = [];
  const s = {
    destroyed: false,
    writableEnded: false,
    writableLength: 0,
    write(b: Buffer) {
      written.push(Buffer.from(b));
      s.writableLength += b.length;
      return false;
    },
    end() {
      s.writableEnded = true;
    },
  };
  return { socket: s as unknown as Socket, written };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe("DownstreamWriter", () => {
  it("reports overflow once the unread output passes the limit, never growing past one frame over", async () => {
    const { socket, written } = stuckSocket();
    const w = new DownstreamWriter(socket, 100);
    const results = Array.from({ length: 20 }, () => w.message(["1", "2", "x".repeat(30)]));
    expect(results.slice(0, 3)).toEqual(["written", "written", "written"]);
    expect(results.slice(4)).toEqual(Array(16).fill("overflow"));
    expect(w.buffered).toBeLessThan(100 + 40);
    await turn();
    expect(socket.writableLength).toBeLessThan(100 + 40);
    expect(Buffer.concat(written).length).toBe(w.bytesOut);
  });

  it("hands every frame of one turn to the socket in one write, in order", async () => {
    const { socket, written } = stuckSocket();
    const w = new DownstreamWriter(socket, 1 << 20);
    const msgs = Array.from({ length: 50 }, (_, i) => ["1", "6", String(i), "4", `${100 + i}.25`, "1", "0"]);
    w.raw(encodeFrame(encodeFields(["178", "20261207 10:00:00 UTC"])));
    for (const m of msgs) w.message(m);
    expect(written).toHaveLength(0); // nothing before the end of the turn
    await turn();
    expect(written).toHaveLength(1);
    const frames = new FrameDecoder().push(written[0] as Buffer).map((f) => decodeFields(f));
    expect(frames).toEqual([["178", "20261207 10:00:00 UTC"], ...msgs]);
  });

  it("lets one large answer through an empty buffer", async () => {
    const { socket, written } = stuckSocket();
    const w = new DownstreamWriter(socket, 100);
    expect(w.message(["17", "1", "y".repeat(200_000)])).toBe("written");
    expect(w.bytesOut).toBeGreaterThan(200_000);
    await turn();
    expect(decodeFields(new FrameDecoder().push(written[0] as Buffer)[0] as Buffer)[2]).toHaveLength(200_000);
  });

  it("encodes a message again in a later turn: what it remembers lasts one turn", async () => {
    const a = stuckSocket();
    const b = stuckSocket();
    const wa = new DownstreamWriter(a.socket, 1 << 20);
    const wb = new DownstreamWriter(b.socket, 1 << 20);
    const msg = ["1", "6", "7", "4", "100.5", "1", "0"];
    wa.message(msg);
    wb.message(msg); // the same array in the same turn: the same bytes
    await turn();
    msg[4] = "101.25"; // the array is reused later with other content
    wb.message(msg);
    await turn();
    const decode = (bufs: Buffer[]) =>
      bufs.flatMap((x) => new FrameDecoder().push(x)).map((f) => decodeFields(f)[4]);
    expect(decode(a.written)).toEqual(["100.5"]);
    expect(decode(b.written)).toEqual(["100.5", "101.25"]);
  });

  it("writes what the turn batched before the FIN, and nothing after", async () => {
    const { socket, written } = stuckSocket();
    const w = new DownstreamWriter(socket, 1 << 20);
    w.message(["4", "2", "-1", "326", "client id in use"]);
    w.end();
    expect(written).toHaveLength(1);
    expect(w.message(["1", "2", "3"])).toBe("closed");
    await turn();
    expect(written).toHaveLength(1);
  });
});

/** A loopback server that decodes every frame it receives. */
describe("DownstreamWriter over a real socket", () => {
  let server: Server;
  let port = 0;
  /** Frames received, by the client's port. */
  const received = new Map<number, string[][]>();

  beforeAll(async () => {
    server = createServer((s) => {
      const d = new FrameDecoder();
      const got: string[][] = [];
      received.set(s.remotePort ?? -1, got);
      s.on("data", (c) => {
        for (const f of d.push(c)) got.push(decodeFields(f));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  const fieldArb = fc.oneof(
    { arbitrary: fc.string({ maxLength: 12 }), weight: 8 },
    { arbitrary: fc.string({ unit: "grapheme", maxLength: 6 }), weight: 3 },
    // Larger than a slab: the batch moves to a bigger one mid-turn.
    {
      arbitrary: fc
        .tuple(fc.nat(40_000), fc.string({ maxLength: 3 }))
        .map(([n, s]) => "z".repeat(30_000 + n) + s),
      weight: 1,
    },
  );
  const messageArb = fc.array(
    fieldArb.filter((s) => !s.includes("\0")),
    { minLength: 1, maxLength: 8 },
  );

  it("delivers any messages written in any turns, shared between downstreams, byte for byte and in order", async () => {
    await fc.assert(
      fc.asyncProperty(
        // Turns of writes; each write is a message to one of two downstreams, sometimes the
        // very same array as the write before (fan-out), sometimes a pre-framed raw frame.
        fc.array(
          fc.array(
            fc.record({
              to: fc.nat(1),
              msg: messageArb,
              again: fc.boolean(),
              how: fc.constantFrom("message", "raw", "patched"),
              index: fc.nat(3),
              id: fc.integer({ min: -1, max: 99_999 }),
            }),
            {
              maxLength: 12,
            },
          ),
          { minLength: 1, maxLength: 5 },
        ),
        async (turns) => {
          const sockets: Socket[] = [];
          const peers: number[] = [];
          for (let i = 0; i < 2; i++) {
            const s = connect(port, "127.0.0.1");
            await new Promise<void>((r) => s.once("connect", () => r()));
            sockets.push(s);
            peers.push(s.localPort ?? -2);
          }
          const writers = sockets.map((s) => new DownstreamWriter(s, 64 << 20));
          const expected: string[][][] = [[], []];
          let previous: string[] | undefined;
          let previousPayload: Buffer | undefined;
          for (const t of turns) {
            for (const { to, msg, again, how, index, id } of t) {
              const m = again && previous ? previous : msg;
              const w = writers[to] as DownstreamWriter;
              if (how === "raw") w.raw(encodeFrame(encodeFields(m)));
              else if (how === "message") w.message(m);
              else {
                // An upstream frame forwarded with one id patched (the same payload object
                // when repeated, as a fanned-out answer is).
                const payload = again && previousPayload ? previousPayload : encodeFields(m);
                w.patched(payload, index, id);
                previousPayload = payload;
                const rewritten = decodeFields(payload);
                if (index < rewritten.length) rewritten[index] = String(id);
                expected[to]?.push(rewritten);
                previous = m;
                continue;
              }
              expected[to]?.push([...m]);
              previous = m;
            }
            await turn();
          }
          const total = (i: number) => expected[i]?.length ?? 0;
          for (let i = 0; i < 200; i++) {
            if (peers.every((p, k) => (received.get(p)?.length ?? 0) >= total(k))) break;
            await new Promise((r) => setTimeout(r, 5));
          }
          for (const s of sockets) s.destroy();
          expect(received.get(peers[0] as number) ?? []).toEqual(expected[0]);
          expect(received.get(peers[1] as number) ?? []).toEqual(expected[1]);
        },
      ),
      { numRuns: 40 },
    );
  });
});
