/**
 * @stoqey/ib, an independent client, completes the handshake against a tiny server built
 * only from our codec; our own client-side handshake works against the same server.
 */
import net from "node:net";
import { EventName, IBApi } from "@stoqey/ib";
import { afterEach, describe, expect, it } from "vitest";
import { encodeMessage, fromFields } from "./codec.js";
import { decodeFields } from "./fields.js";
import { FrameDecoder } from "./frame.js";
import {
  encodeClientHello,
  encodeServerHello,
  formatConnectionTime,
  negotiateVersion,
  PrefixReader,
  parseServerHello,
  parseVersionRange,
} from "./handshake.js";
import { IN, OUT } from "./message-ids.js";
import {
  CURRENT_TIME,
  ERR_MSG,
  MANAGED_ACCTS,
  NEXT_VALID_ID,
  REQ_CURRENT_TIME,
  START_API,
} from "./messages/connection.js";

interface TinyServer {
  port: number;
  startApis: number[];
  versions: number[];
  close(): Promise<void>;
}

async function startTinyServer(): Promise<TinyServer> {
  const startApis: number[] = [];
  const versions: number[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    const prefix = new PrefixReader();
    const frames = new FrameDecoder();
    let version: number | undefined;
    socket.on("data", (chunk) => {
      const used = prefix.done ? 0 : prefix.push(chunk);
      for (const payload of frames.push(chunk.subarray(used))) {
        if (version === undefined) {
          const v = negotiateVersion(parseVersionRange(payload));
          if (v === undefined) return void socket.destroy();
          version = v;
          versions.push(v);
          socket.write(encodeServerHello(v, formatConnectionTime(Date.now(), "EST")));
          continue;
        }
        const fields = decodeFields(payload);
        const id = Number(fields[0]);
        if (id === OUT.START_API) {
          startApis.push(fromFields(START_API, fields, version).clientId);
          socket.write(encodeMessage(MANAGED_ACCTS, { accounts: ["DU1234567"] }, version));
          socket.write(encodeMessage(NEXT_VALID_ID, { orderId: 1 }, version));
          socket.write(
            encodeMessage(
              ERR_MSG,
              {
                id: -1,
                code: 2104,
                message: "Market data farm connection is OK:usfarm",
                advancedOrderRejectJson: "",
              },
              version,
            ),
          );
        } else if (id === OUT.REQ_CURRENT_TIME) {
          socket.write(encodeMessage(CURRENT_TIME, { time: 1_700_000_000 }, version));
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    startApis,
    versions,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

let server: TinyServer | undefined;
let ib: IBApi | undefined;

afterEach(async () => {
  ib?.disconnect();
  ib = undefined;
  await server?.close();
  server = undefined;
});

describe("handshake interoperability", () => {
  it("@stoqey/ib connects, receives accounts and next id, and gets the current time", async () => {
    server = await startTinyServer();
    const api = new IBApi({ host: "127.0.0.1", port: server.port });
    ib = api;
    const accounts = new Promise<string>((resolve) => api.once(EventName.managedAccounts, resolve));
    const nextId = new Promise<number>((resolve) => api.once(EventName.nextValidId, resolve));
    const connected = new Promise<void>((resolve) => api.once(EventName.connected, () => resolve()));
    const errors: unknown[] = [];
    api.on(EventName.error, (err, code) => {
      if (Number(code) !== 2104) errors.push([err.message, code]);
    });
    api.connect(17);
    await connected;
    expect(await accounts).toBe("DU1234567");
    expect(await nextId).toBe(1);
    const time = new Promise<number>((resolve) => api.once(EventName.currentTime, resolve));
    api.reqCurrentTime();
    expect(await time).toBe(1_700_000_000);
    expect(server.startApis).toEqual([17]);
    expect(server.versions).toEqual([178]);
    expect(errors).toEqual([]);
  });

  it("our client side of the handshake works against the same server", async () => {
    server = await startTinyServer();
    const socket = net.connect(server.port, "127.0.0.1");
    const frames = new FrameDecoder();
    const received: string[][] = [];
    let wake: (() => void) | undefined;
    socket.on("data", (c) => {
      for (const f of frames.push(c)) received.push(decodeFields(f));
      wake?.();
    });
    const next = async (pred: (f: string[]) => boolean): Promise<string[]> => {
      for (;;) {
        const i = received.findIndex(pred);
        if (i >= 0) return received.splice(i, 1)[0] as string[];
        await new Promise<void>((r) => {
          wake = r;
        });
      }
    };
    try {
      await new Promise<void>((r) => socket.once("connect", () => r()));
      socket.write(encodeClientHello({ min: 157, max: 178, options: "" }));
      const hello = parseServerHello(await next(() => true));
      expect(hello.serverVersion).toBe(178);
      socket.write(encodeMessage(START_API, { clientId: 3, optionalCapabilities: "" }, 178));
      const accts = fromFields(MANAGED_ACCTS, await next((f) => Number(f[0]) === IN.MANAGED_ACCTS), 178);
      const nvi = fromFields(NEXT_VALID_ID, await next((f) => Number(f[0]) === IN.NEXT_VALID_ID), 178);
      expect(accts.accounts).toEqual(["DU1234567"]);
      expect(nvi.orderId).toBe(1);
      socket.write(encodeMessage(REQ_CURRENT_TIME, {}, 178));
      const t = fromFields(CURRENT_TIME, await next((f) => Number(f[0]) === IN.CURRENT_TIME), 178);
      expect(t.time).toBe(1_700_000_000);
    } finally {
      socket.destroy();
    }
  });
});
