/**
 * The connection handshake, both sides.
 *   client → `API\0`, then one frame holding the bare text `v<min>..<max>[ <options>]`
 *   server → frame [serverVersion, connectionTime]
 *   client → START_API [71, 2, clientId, optionalCapabilities]
 */
import { HandshakeError } from "../errors.js";
import { encodeFields } from "./fields.js";
import { encodeFrame } from "./frame.js";
import { MAX_SERVER_VERSION, MIN_SERVER_VERSION } from "./versions.js";

export const API_PREFIX: Buffer = Buffer.from("API\0", "latin1");

export interface VersionRange {
  min: number;
  max: number;
  /** Connect options after the range, e.g. "+PACEAPI"; empty when none. */
  options: string;
}

export function formatVersionRange(range: VersionRange): string {
  const core = range.min === range.max ? `v${range.min}` : `v${range.min}..${range.max}`;
  return range.options ? `${core} ${range.options}` : core;
}

/** The bytes a client sends first: prefix plus one frame with the version range (no NUL). */
export function encodeClientHello(range: VersionRange): Buffer {
  return Buffer.concat([API_PREFIX, encodeFrame(Buffer.from(formatVersionRange(range), "latin1"))]);
}

const RANGE_RE = /^v(\d{1,4})(?:\.\.(\d{1,4}))?(?:\s+(.*))?$/;

/** Parse the client's version frame; a trailing NUL is tolerated. */
export function parseVersionRange(payload: Uint8Array | string): VersionRange {
  const text = (typeof payload === "string" ? payload : Buffer.from(payload).toString("latin1")).replace(
    /\0+$/,
    "",
  );
  const m = RANGE_RE.exec(text.trim());
  if (!m) throw new HandshakeError(`not a TWS API version range: ${JSON.stringify(text.slice(0, 40))}`);
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  if (min > max) throw new HandshakeError(`version range v${min}..${max} is empty`);
  return { min, max, options: (m[3] ?? "").trim() };
}

/**
 * The version a server picks: the highest both support, or undefined when the ranges do
 * not meet (the server then closes the socket, as TWS does).
 */
export function negotiateVersion(
  client: { min: number; max: number },
  server: { min: number; max: number } = { min: MIN_SERVER_VERSION, max: MAX_SERVER_VERSION },
): number | undefined {
  const v = Math.min(client.max, server.max);
  return v >= client.min && v >= server.min ? v : undefined;
}

/** TWS writes its local time as "yyyyMMdd HH:mm:ss <zone>". */
export function formatConnectionTime(epochMs: number, zone = "UTC"): string {
  const d = new Date(epochMs);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(
    d.getUTCMinutes(),
  )}:${p(d.getUTCSeconds())} ${zone}`;
}

/** Server answer: both fields NUL-terminated (@stoqey/ib needs the last NUL too). */
export function encodeServerHello(serverVersion: number, connectionTime: string): Buffer {
  return encodeFrame(encodeFields([String(serverVersion), connectionTime]));
}

export interface ServerHello {
  serverVersion: number;
  connectionTime: string;
}

export function parseServerHello(fields: readonly string[]): ServerHello {
  const v = Number(fields[0]);
  if (!Number.isInteger(v) || v <= 0) {
    throw new HandshakeError(`server answered the handshake with ${JSON.stringify(fields[0] ?? "")}`);
  }
  return { serverVersion: v, connectionTime: fields[1] ?? "" };
}

/**
 * Incremental reader for the server side of the handshake: first the 4-byte prefix, then
 * frames. Returns how many bytes of `chunk` belong to the prefix so the caller feeds the
 * rest to a FrameDecoder.
 */
export class PrefixReader {
  #seen = 0;

  get done(): boolean {
    return this.#seen === API_PREFIX.length;
  }

  /** Consume prefix bytes; returns the number of bytes used. Throws on a wrong prefix. */
  push(chunk: Uint8Array): number {
    let used = 0;
    while (this.#seen < API_PREFIX.length && used < chunk.length) {
      if (chunk[used] !== API_PREFIX[this.#seen]) {
        throw new HandshakeError('the peer did not start with the TWS API prefix "API\\0"');
      }
      this.#seen++;
      used++;
    }
    return used;
  }
}
