/**
 * Writes to one downstream socket. Frames written in the same turn of the event loop go out
 * in one syscall (cork until the next tick), which is what keeps a stream of small ticks
 * cheap. Output is bounded: when the socket already holds more unsent bytes than the limit,
 * the downstream is not reading and is dropped rather than allowed to grow memory.
 */
import type { Socket } from "node:net";
import { encodeFields } from "../protocol/fields.js";
import { encodeFrame } from "../protocol/frame.js";

export type WriteResult = "written" | "overflow" | "closed";

export class DownstreamWriter {
  bytesOut = 0;
  messagesOut = 0;
  readonly #socket: Socket;
  readonly #maxBuffered: number;
  #corked = false;

  constructor(socket: Socket, maxBufferedBytes: number) {
    this.#socket = socket;
    this.#maxBuffered = maxBufferedBytes;
  }

  /** Bytes written but not yet handed to the kernel. */
  get buffered(): number {
    return this.#socket.writableLength;
  }

  /** One message, message id first. */
  message(fields: readonly string[]): WriteResult {
    const r = this.raw(encodeFrame(encodeFields(fields)));
    if (r === "written") this.messagesOut++;
    return r;
  }

  /** Bytes already framed (the server hello). */
  raw(frame: Buffer): WriteResult {
    const s = this.#socket;
    if (s.destroyed || s.writableEnded) return "closed";
    // Checked before the write, so one large answer (a long history) still passes.
    if (s.writableLength > this.#maxBuffered) return "overflow";
    if (!this.#corked) {
      this.#corked = true;
      s.cork();
      process.nextTick(() => {
        this.#corked = false;
        s.uncork();
      });
    }
    s.write(frame);
    this.bytesOut += frame.length;
    return "written";
  }
}
