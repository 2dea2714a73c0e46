/**
 * Writes to one downstream socket. Every frame written in one turn of the event loop is
 * encoded straight into one batch and handed to the socket in one write at the end of the
 * turn (one process.nextTick for all writers): one syscall and no buffer per message for a
 * burst of ticks.
 * Output is bounded: when the socket already holds more unsent bytes than the limit, the
 * downstream is not reading and is dropped rather than allowed to grow memory.
 *
 * Invariants:
 * - Frames leave in the order they were written (messages and raw frames share the batch).
 * - Bytes handed to the socket are never overwritten: a slab is only ever appended to, and a
 *   full slab is replaced, not reused (the socket may still hold views of it). A frame is
 *   never split between slabs.
 * - A downstream whose bytes are all handed over holds at most a small slab (MIN_SLAB_BYTES),
 *   or a partly used one it filled with more than a sixteenth in its last turn.
 * - `end()` writes what is batched before the FIN; after `end()` or a destroyed socket,
 *   nothing more is accepted ("closed").
 */
import type { Socket } from "node:net";
import {
  copyBytes,
  frameLength,
  patchedFrameLength,
  writeFrame,
  writePatchedFrame,
} from "../protocol/frame.js";

export type WriteResult = "written" | "overflow" | "closed";

/**
 * Slab sizes. A writer's first slab is small and each one after a full slab is twice as large,
 * up to SLAB_BYTES, so a busy downstream batches a burst in few slabs while an idle one holds
 * little; a frame larger than SLAB_BYTES gets a slab of its own.
 */
const MIN_SLAB_BYTES = 4 * 1024;
const SLAB_BYTES = 64 * 1024;

/**
 * The last message encoded in this turn, by identity: a message fanned out to many
 * downstreams (the same array, or the same upstream frame with the same id, delivered to
 * each) is encoded once and copied. Cleared at the end of every turn, so a message array
 * changed later, or a frame buffer reused, is never answered from here.
 */
let lastKey: object | undefined;
/** For a patched upstream frame: the field and id it was written with (-1 for fields). */
let lastIndex = -1;
let lastId = 0;
/** Where its frame lies: lastSlab[lastStart, lastEnd) (no Buffer view per message). */
const EMPTY = Buffer.alloc(0);
let lastSlab: Buffer = EMPTY;
let lastStart = 0;
let lastEnd = 0;

/** Writers with bytes batched in this turn; one nextTick flushes them all (not one each). */
let dirty: DownstreamWriter[] = [];
let turnEndScheduled = false;

function endOfTurn(): void {
  turnEndScheduled = false;
  const writers = dirty;
  dirty = [];
  for (const w of writers) w.flush();
  lastKey = undefined;
  lastSlab = EMPTY;
}

function scheduleTurnEnd(): void {
  if (turnEndScheduled) return;
  turnEndScheduled = true;
  process.nextTick(endOfTurn);
}

export class DownstreamWriter {
  bytesOut = 0;
  messagesOut = 0;
  readonly #socket: Socket;
  readonly #maxBuffered: number;
  #slab: Buffer = EMPTY;
  /** Batched bytes of this turn: #parts (from full slabs), then #slab[#start, #end). */
  #parts: Buffer[] = [];
  #partBytes = 0;
  #start = 0;
  #end = 0;
  #dirty = false;

  constructor(socket: Socket, maxBufferedBytes: number) {
    this.#socket = socket;
    this.#maxBuffered = maxBufferedBytes;
  }

  /** Bytes written but not yet handed to the kernel (batched ones included). */
  get buffered(): number {
    return this.#socket.writableLength + this.#partBytes + (this.#end - this.#start);
  }

  /** One message, message id first. */
  message(fields: readonly string[]): WriteResult {
    const r = this.#admit();
    if (r !== "written") return r;
    if (fields === lastKey && lastIndex === -1) this.#repeatLast();
    else {
      const at = this.#room(frameLength(fields));
      this.#remember(fields, -1, 0, at, writeFrame(fields, this.#slab, at));
    }
    this.messagesOut++;
    return "written";
  }

  /**
   * One upstream message forwarded as bytes: `payload` (a frame's payload, no length prefix)
   * with field `index` set to `id` — the same bytes as message() of its decoded fields with
   * that field rewritten (protocol/frame.ts writePatchedFrame).
   */
  patched(payload: Buffer, index: number, id: number): WriteResult {
    const r = this.#admit();
    if (r !== "written") return r;
    if (payload === lastKey && index === lastIndex && id === lastId) this.#repeatLast();
    else {
      const at = this.#room(patchedFrameLength(payload, index, id));
      this.#remember(payload, index, id, at, writePatchedFrame(payload, index, id, this.#slab, at));
    }
    this.messagesOut++;
    return "written";
  }

  #repeatLast(): void {
    const n = lastEnd - lastStart;
    const at = this.#room(n);
    copyBytes(lastSlab, lastStart, lastEnd, this.#slab, at);
    this.#end = at + n;
    this.bytesOut += n;
  }

  /** A frame was just encoded at #slab[at, end): count it, and remember it for this turn. */
  #remember(key: object, index: number, id: number, at: number, end: number): void {
    this.#end = end;
    this.bytesOut += end - at;
    lastKey = key;
    lastIndex = index;
    lastId = id;
    lastSlab = this.#slab;
    lastStart = at;
    lastEnd = end;
    scheduleTurnEnd();
  }

  /** Bytes already framed (the server hello). */
  raw(frame: Uint8Array): WriteResult {
    const r = this.#admit();
    if (r === "written") this.#append(frame);
    return r;
  }

  /** Write what is batched, then FIN. */
  end(): void {
    this.flush();
    if (!this.#socket.destroyed && !this.#socket.writableEnded) this.#socket.end();
  }

  #admit(): WriteResult {
    const s = this.#socket;
    if (s.destroyed || s.writableEnded) return "closed";
    // Checked before the write, so one large answer (a long history) still passes.
    if (this.buffered > this.#maxBuffered) return "overflow";
    return "written";
  }

  #append(frame: Uint8Array): void {
    const at = this.#room(frame.length);
    this.#slab.set(frame, at);
    this.#end = at + frame.length;
    this.bytesOut += frame.length;
  }

  /** Make room for `n` more bytes in the batch; returns where they go. */
  #room(n: number): number {
    if (this.#end + n > this.#slab.length) {
      // A full slab's part of the batch goes out as it is (no copy): one writev at the flush.
      if (this.#end > this.#start) {
        this.#parts.push(this.#slab.subarray(this.#start, this.#end));
        this.#partBytes += this.#end - this.#start;
      }
      const grown = Math.min(SLAB_BYTES, Math.max(MIN_SLAB_BYTES, this.#slab.length * 2));
      this.#slab = Buffer.allocUnsafe(Math.max(grown, n));
      this.#start = 0;
      this.#end = 0;
    }
    if (!this.#dirty) {
      this.#dirty = true;
      dirty.push(this);
      scheduleTurnEnd();
    }
    return this.#end;
  }

  /** Hand what is batched to the socket now (the end of the turn, or before a FIN). */
  flush(): void {
    this.#dirty = false;
    const parts = this.#parts;
    const tail = this.#slab.subarray(this.#start, this.#end);
    this.#start = this.#end;
    // Memory is not held for quiet downstreams: a slab of one large frame, or one this turn
    // used little of, is let go once its bytes are handed over (the socket keeps its views
    // until the kernel has them); the next write starts a small one.
    if (
      this.#slab.length > SLAB_BYTES ||
      (this.#slab.length > MIN_SLAB_BYTES && tail.length * 16 < this.#slab.length)
    ) {
      this.#slab = EMPTY;
      this.#start = 0;
      this.#end = 0;
    }
    if (parts.length > 0) {
      this.#parts = [];
      this.#partBytes = 0;
    }
    const s = this.#socket;
    if (s.destroyed || s.writableEnded) return;
    if (parts.length === 0) {
      if (tail.length > 0) s.write(tail);
      return;
    }
    s.cork();
    for (const p of parts) s.write(p);
    if (tail.length > 0) s.write(tail);
    s.uncork();
  }
}
