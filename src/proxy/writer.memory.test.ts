/**
 * The batched downstream writer: what it holds once a turn's bytes are out, and the frame
 * limit on answers forwarded with their id patched in.
 */
import { spawn } from "node:child_process";
import { createServer, type Server, type Socket, connect } from "node:net";
import v8 from "node:v8";
import vm from "node:vm";
import { afterEach, describe, expect, it } from "vitest";
import { FrameTooLargeError } from "../errors.js";
import { decodeFields, encodeFields } from "../protocol/fields.js";
import { FrameDecoder, MAX_FRAME_BYTES } from "../protocol/frame.js";
import { DownstreamWriter } from "./writer.js";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

const turn = () => new Promise<void>((r) => setImmediate(r));

/** A loopback server; `accepted` are its sockets, `clients` the peers we connected. */
async function loopback(n: number): Promise<{
  server: Server;
  accepted: Socket[];
  clients: Socket[];
}> {
  const accepted: Socket[] = [];
  const server = createServer((s) => accepted.push(s));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const clients: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const c = connect(port, "127.0.0.1");
    await new Promise<void>((r) => c.once("connect", () => r()));
    clients.push(c);
  }
  for (let i = 0; i < 1_000 && accepted.length < n; i++) await turn();
  return { server, accepted, clients };
}

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/** `n` downstream sockets whose peers live in another process (reading and discarding). */
async function remotePeers(n: number): Promise<Socket[]> {
  const accepted: Socket[] = [];
  const server = createServer((s) => accepted.push(s));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const peers = spawn(
    process.execPath,
    [
      "-e",
      `const net = require("node:net");
       for (let i = 0; i < ${n}; i++) net.connect(${port}, "127.0.0.1").on("data", () => {});
       process.stdin.on("end", () => process.exit(0)).resume();`,
    ],
    { stdio: ["pipe", "ignore", "inherit"] },
  );
  cleanup = async () => {
    peers.stdin?.end();
    if (peers.exitCode === null) await new Promise((r) => peers.once("exit", r));
    for (const s of accepted) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  for (let i = 0; i < 2_000 && accepted.length < n; i++) await new Promise((r) => setTimeout(r, 5));
  expect(accepted).toHaveLength(n);
  return accepted;
}

/** Bytes of ArrayBuffers alive after a full collection. */
function heldBuffers(): number {
  gc();
  return process.memoryUsage().arrayBuffers;
}

function closeAll(server: Server, sockets: Socket[]): () => Promise<void> {
  return async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
}

describe("DownstreamWriter memory and limits", () => {
  it("holds no batch memory for a downstream whose bytes are all sent (idle clients cost a slab each)", async () => {
    const n = 100;
    // The peers live in another process, so this heap holds only our side of each socket.
    const writers = (await remotePeers(n)).map((s) => new DownstreamWriter(s, 8 << 20));
    const before = heldBuffers();
    // One tick each (a quiet subscription, or just the start-up messages of an idle client).
    const tick = ["1", "6", "7", "4", "100.25", "1", "0"];
    for (const w of writers) expect(w.message(tick)).toBe("written");
    await turn();
    // Every byte is with the kernel: nothing is batched or queued in a socket.
    expect(writers.every((w) => w.bytesOut > 0 && w.buffered === 0)).toBe(true);
    const held = heldBuffers() - before;
    // ~30 bytes were sent per downstream and nothing is unsent: allow 8 KiB each.
    expect(held).toBeLessThan(n * 8 * 1024);
  });

  it("holds none of a large answer once it is sent (a client that asked for a long history, then went quiet)", async () => {
    const [socket] = (await remotePeers(1)) as [Socket];
    const w = new DownstreamWriter(socket, 64 << 20);
    const before = heldBuffers();
    expect(w.message(["17", "5", "b".repeat(4 << 20)])).toBe("written");
    await turn();
    for (let i = 0; i < 4_000 && w.buffered > 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(w.buffered).toBe(0);
    // The 4 MiB frame is with the kernel (or the peer): this process should not keep it once
    // the socket's write request has completed (its callback may come a few turns later).
    let held = heldBuffers() - before;
    for (let i = 0; i < 200 && held >= 256 * 1024; i++) {
      await new Promise((r) => setTimeout(r, 5));
      held = heldBuffers() - before;
    }
    expect(held).toBeLessThan(256 * 1024);
  });

  it("never puts a frame over MAX_FRAME_BYTES on the wire when a patched id makes an answer longer", async () => {
    const { server, accepted, clients } = await loopback(1);
    cleanup = closeAll(server, [...accepted, ...clients]);
    const [s] = accepted as [Socket];
    const [client] = clients as [Socket];
    const decoder = new FrameDecoder();
    const got: string[][] = [];
    let failure: unknown;
    client.on("data", (b: Buffer) => {
      if (failure) return;
      try {
        for (const f of decoder.push(b)) got.push(decodeFields(f).slice(0, 3));
      } catch (err) {
        failure = err;
      }
    });
    // An upstream answer exactly at the limit (the line accepts it), with upstream id "1";
    // the client asked under id 100000, so the patched frame is 5 bytes longer.
    const payload = encodeFields(["88", "1", "1", "x".repeat(MAX_FRAME_BYTES - 8)]);
    expect(payload.length).toBe(MAX_FRAME_BYTES);
    const w = new DownstreamWriter(s, 64 << 20);
    try {
      w.patched(payload, 1, 100_000);
    } catch (err) {
      // Refusing it as the encoder refuses a too-large message is fine.
      expect(err).toBeInstanceOf(FrameTooLargeError);
    }
    w.message(["4", "2", "100000", "322", "answer too large"]);
    await turn();
    for (let i = 0; i < 4_000 && !failure && !got.some((f) => f[0] === "4"); i++)
      await new Promise((r) => setTimeout(r, 5));
    // The client's decoder (the official limit) must not have to drop the connection.
    expect(failure).toBeUndefined();
    expect(got.at(-1)).toEqual(["4", "2", "100000"]);
  });
});
