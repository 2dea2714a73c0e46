/**
 * Tiny TWS-like servers for the doctor's tests, built from the server side of the one codec.
 * Each shows one behaviour the doctor must recognise: a normal login, a stall, a taken client
 * id (326), an old server, a stranger that is not TWS. Loopback only, port 0.
 */
import { createServer, connect as netConnect, type Server, type Socket } from "node:net";
import {
  CURRENT_TIME,
  decodeFields,
  ERR_MSG,
  encodeClientHello,
  encodeMessage,
  encodeServerHello,
  FrameDecoder,
  formatConnectionTime,
  fromFields,
  IN,
  MANAGED_ACCTS,
  NEXT_VALID_ID,
  negotiateVersion,
  OUT,
  PrefixReader,
  parseServerHello,
  parseVersionRange,
  peekMessageId,
  START_API,
} from "../../protocol/index.js";

export interface FakeTwsOptions {
  accounts?: string[];
  /** Highest version served (the server speaks 100..serverVersion). Default 178. */
  serverVersion?: number;
  /** "stall-hello": never answer; "stall-start": answer the hello, then nothing. */
  behaviour?: "ok" | "stall-hello" | "stall-start" | "close-hello";
  /** Client ids already connected: START_API with one of them gets 326 and a close. */
  takenIds?: number[];
  /** Notices sent after NEXT_VALID_ID, as [code, message]. */
  notices?: [number, string][];
  /** Added to the time CURRENT_TIME reports. */
  clockOffsetMs?: number;
}

export interface FakeServer {
  port: number;
  close(): Promise<void>;
}

async function listen(server: Server, sockets: Set<Socket>): Promise<FakeServer> {
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error("no port");
  return {
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export function startFakeTws(options: FakeTwsOptions = {}): Promise<FakeServer> {
  const accounts = options.accounts ?? ["DU1234567"];
  const behaviour = options.behaviour ?? "ok";
  const taken = new Set(options.takenIds ?? []);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    const prefix = new PrefixReader();
    const frames = new FrameDecoder();
    let version = 0;
    socket.on("data", (chunk: Buffer) => {
      let rest = chunk;
      if (!prefix.done) rest = chunk.subarray(prefix.push(chunk));
      for (const payload of frames.push(rest)) {
        if (behaviour === "stall-hello") return;
        if (behaviour === "close-hello") {
          socket.destroy();
          return;
        }
        if (version === 0) {
          const v = negotiateVersion(parseVersionRange(payload), {
            min: 100,
            max: options.serverVersion ?? 178,
          });
          if (v === undefined) {
            socket.destroy();
            return;
          }
          version = v;
          socket.write(encodeServerHello(v, formatConnectionTime(Date.now(), "EST")));
          continue;
        }
        if (behaviour === "stall-start") return;
        const id = peekMessageId(payload);
        if (id === OUT.START_API) {
          const { clientId } = fromFields(START_API, decodeFields(payload), version);
          if (taken.has(clientId)) {
            const text =
              "Unable to connect as the client id is already in use. Retry with a unique client id.";
            socket.end(
              encodeMessage(
                ERR_MSG,
                { id: -1, code: 326, message: text, advancedOrderRejectJson: "" },
                version,
              ),
            );
            return;
          }
          socket.write(encodeMessage(MANAGED_ACCTS, { accounts }, version));
          socket.write(encodeMessage(NEXT_VALID_ID, { orderId: 1 }, version));
          for (const [code, message] of options.notices ?? []) {
            socket.write(
              encodeMessage(ERR_MSG, { id: -1, code, message, advancedOrderRejectJson: "" }, version),
            );
          }
        } else if (id === OUT.REQ_CURRENT_TIME) {
          const time = Math.floor((Date.now() + (options.clockOffsetMs ?? 0)) / 1000);
          socket.write(encodeMessage(CURRENT_TIME, { time }, version));
        }
      }
    });
  });
  return listen(server, sockets);
}

/** A server that is not TWS: answers anything like a web server would, then closes. */
export function startHttpLike(): Promise<FakeServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    socket.once("data", () => socket.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
  });
  return listen(server, sockets);
}

/** A port that was free a moment ago: nothing listens there. */
export async function freePort(): Promise<number> {
  const s = await listen(createServer(), new Set());
  await s.close();
  return s.port;
}

/**
 * A client that logs in with `clientId` and stays connected, as an app holding that id does.
 * Resolves once the server has sent NEXT_VALID_ID (the id is then registered as taken).
 */
export function holdClientId(port: number, clientId: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: "127.0.0.1", port });
    const frames = new FrameDecoder();
    let version = 0;
    socket.once("error", reject);
    socket.on("connect", () => socket.write(encodeClientHello({ min: 157, max: 178, options: "" })));
    socket.on("data", (chunk: Buffer) => {
      for (const payload of frames.push(chunk)) {
        if (version === 0) {
          version = parseServerHello(decodeFields(payload)).serverVersion;
          socket.write(encodeMessage(START_API, { clientId, optionalCapabilities: "" }, version));
        } else if (peekMessageId(payload) === IN.NEXT_VALID_ID) resolve(socket);
      }
    });
  });
}
