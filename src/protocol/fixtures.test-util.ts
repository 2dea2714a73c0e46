/**
 * Captured TWS traffic (src/protocol/fixtures/*.json): messages a real TWS or IB Gateway sent,
 * as published in IB client projects' test suites, with the source and server version
 * beside each. Tests only read them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { encodeFields } from "./fields.js";
import { encodeFrame } from "./frame.js";
import { encodeServerHello } from "./handshake.js";

export interface CapturedMessage {
  name: string;
  fields: string[];
}

export interface Capture {
  file: string;
  /** The repository or the issue thread that published it. */
  source: string;
  /** Repository, commit and path when published in a repository ("" for an issue thread). */
  commit: string;
  path: string;
  serverVersion: number;
  versionEvidence: string;
  messages: CapturedMessage[];
}

const DIR = new URL("./fixtures/", import.meta.url);

export function loadCaptures(): Capture[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => ({
      file,
      ...(JSON.parse(readFileSync(new URL(file, DIR), "utf8")) as Omit<Capture, "file">),
    }));
}

export function capture(file: string): Capture {
  const c = loadCaptures().find((x) => x.file === file);
  if (!c) throw new Error(`no capture ${file}`);
  return c;
}

/**
 * A scripted TWS on loopback: answers the handshake with `version`, then after START_API
 * sends `messages` (field lists) and closes nothing until `close()`.
 */
export async function scriptedTws(
  version: number,
  messages: readonly (readonly string[])[],
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<import("node:net").Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => undefined);
    let buf = Buffer.alloc(0);
    let stage: "hello" | "start" | "sent" = "hello";
    sock.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (stage === "hello" && buf.length >= 8 && buf.length >= 8 + buf.readUInt32BE(4)) {
        buf = buf.subarray(8 + buf.readUInt32BE(4));
        stage = "start";
        sock.write(encodeServerHello(version, "20250415 19:38:30 British Summer Time"));
      }
      if (stage === "start" && buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        stage = "sent";
        for (const m of messages) sock.write(encodeFrame(encodeFields(m)));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    port: address.port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
