/**
 * A fake network for driving a Line without sockets: dials stay pending until the test
 * settles them, transports record what the line wrote, and the "server" side feeds frames.
 * Used by the property test; integration tests use the real mock gateway over TCP.
 */
import { encodeMessage } from "../protocol/codec.js";
import { encodeServerHello } from "../protocol/handshake.js";
import { ERR_MSG, MANAGED_ACCTS, NEXT_VALID_ID } from "../protocol/messages/connection.js";
import type { Connector } from "./connector.js";
import type { Transport, TransportHandlers } from "./transport.js";

export const FAKE_VERSION = 178;

export class FakeTransport implements Transport {
  readonly remote = "fake:1";
  readonly written: Uint8Array[] = [];
  open = true;
  #handlers: TransportHandlers | undefined;
  readonly #net: FakeNet;

  constructor(net: FakeNet) {
    this.#net = net;
  }

  listen(handlers: TransportHandlers): void {
    this.#handlers = handlers;
  }
  write(bytes: Uint8Array): void {
    // A real socket ignores writes after close; the line should not make any.
    if (!this.open) return;
    this.written.push(bytes);
    this.#net.writesAfterClose += this.#net.lineClosed ? 1 : 0;
  }
  async end(): Promise<void> {
    this.#close();
  }
  destroy(): void {
    this.#close();
  }
  /** The peer closes. */
  peerClose(): void {
    this.#close();
  }
  feed(bytes: Uint8Array): void {
    if (this.open) this.#handlers?.data(Buffer.from(bytes));
  }
  #close(): void {
    if (!this.open) return;
    this.open = false;
    this.#net.openCount--;
    const h = this.#handlers;
    queueMicrotask(() => h?.closed(undefined));
  }
}

interface PendingDial {
  resolve(t: FakeTransport): void;
  reject(err: unknown): void;
}

export class FakeNet {
  openCount = 0;
  maxOpen = 0;
  pendingDials = 0;
  maxPendingDials = 0;
  dials = 0;
  dialsAfterClose = 0;
  writesAfterClose = 0;
  lineClosed = false;
  reachable = false;
  current: FakeTransport | undefined;
  #pending: PendingDial | undefined;

  readonly connector: Connector = {
    target: "fake:1",
    open: (signal) => {
      this.dials++;
      if (this.lineClosed) this.dialsAfterClose++;
      this.pendingDials++;
      this.maxPendingDials = Math.max(this.maxPendingDials, this.pendingDials);
      return new Promise<Transport>((resolve, reject) => {
        const done = () => {
          this.pendingDials--;
          this.#pending = undefined;
          signal.removeEventListener("abort", onAbort);
        };
        const onAbort = () => {
          done();
          reject(signal.reason);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        this.#pending = {
          resolve: (t) => {
            done();
            resolve(t);
          },
          reject: (err) => {
            done();
            reject(err);
          },
        };
      });
    },
    probe: async () => this.reachable,
  };

  /** Settle the dial in flight, if any. */
  settleDial(ok: boolean): void {
    const p = this.#pending;
    if (!p) return;
    if (!ok) {
      p.reject(new Error("connect ECONNREFUSED"));
      return;
    }
    const t = new FakeTransport(this);
    this.openCount++;
    this.maxOpen = Math.max(this.maxOpen, this.openCount);
    this.current = t;
    p.resolve(t);
  }

  hello(): void {
    this.current?.feed(encodeServerHello(FAKE_VERSION, "20250102 09:30:00 UTC"));
  }
  nextValidId(orderId = 1): void {
    this.current?.feed(encodeMessage(NEXT_VALID_ID, { orderId }, FAKE_VERSION));
  }
  accounts(accounts: readonly string[] = ["DU1"]): void {
    this.current?.feed(encodeMessage(MANAGED_ACCTS, { accounts: [...accounts] }, FAKE_VERSION));
  }
  notice(code: number): void {
    this.current?.feed(
      encodeMessage(
        ERR_MSG,
        { id: -1, code, message: `notice ${code}`, advancedOrderRejectJson: "" },
        FAKE_VERSION,
      ),
    );
  }
  currentTime(): void {
    this.current?.feed(Buffer.from([0, 0, 0, 8, 0x34, 0x39, 0, 0x31, 0, 0x31, 0x30, 0]));
  }
  garbage(): void {
    this.current?.feed(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  }
}

/** Let promise continuations and queued microtasks run. */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}
