/**
 * A tenant: anything that issues requests through the switch (a proxy session, an
 * in-process client, an HTTP handler). It sees only its own answers plus broadcasts, always
 * with its own ids. The switch owns the routing; the tenant is its handle.
 */
import { withId } from "./fields.js";

export type TenantKind = "proxy" | "client" | "http";
export type TenantState = "open" | "closed";

export type TenantMessageListener = (fields: readonly string[]) => void;

/**
 * An upstream message as bytes: `payload` (a frame's payload, valid during the call) with
 * field `index` set to `id`. For a listener that forwards bytes (the proxy): it gets such
 * messages without a field array being built for it.
 */
export type TenantFrameListener = (payload: Buffer, index: number, id: number) => void;

export interface TenantSnapshot {
  id: string;
  kind: TenantKind;
  name: string;
  clientId: number;
  state: TenantState;
  openedAt: string;
  liveRequests: number;
  subscriptions: number;
  orders: number;
  /** Whose orders it places and sees (`proxy:<virtual client id>`, `client:<owner>`). */
  orderOwner: string;
  /** Another open socket shares its order owner (the same virtual client id). */
  sharedOwner: boolean;
  /** It may send order messages: the owner's newest socket, with an owner that outlives the process. */
  orderRights: boolean;
  messagesIn: number;
  messagesOut: number;
  queued: number;
}

export interface TenantPort {
  send(tenant: Tenant, fields: readonly string[]): void;
  close(tenant: Tenant): void;
  snapshotOf(tenant: Tenant): TenantSnapshot;
}

export class Tenant implements AsyncDisposable {
  readonly id: string;
  readonly kind: TenantKind;
  readonly name: string;
  /** The client id this tenant believes it has (virtual; the line has its own). */
  readonly clientId: number;
  /** Whose orders it places and sees: survives a reconnect of the same proxy client id. */
  readonly orderOwner: string;
  /** The owner outlives this process (a proxy client id, or an in-process client's own name). */
  readonly stableOwner: boolean;
  readonly openedAt: number;
  /** REQ_MARKET_DATA_TYPE is per connection at TWS: kept per tenant and applied before its requests. */
  marketDataType = 1;
  messagesIn = 0;
  messagesOut = 0;
  #state: TenantState = "open";
  readonly #port: TenantPort;
  /** Message listeners, each with the frame listener it prefers for rewritten answers. */
  readonly #listeners = new Map<TenantMessageListener, TenantFrameListener | undefined>();
  /** The same, as an array walked per message (no iterator entries on the hot path). */
  #walk: { fn: TenantMessageListener; frame: TenantFrameListener | undefined }[] = [];
  readonly #closeListeners = new Set<() => void>();

  constructor(
    port: TenantPort,
    init: {
      id: string;
      kind: TenantKind;
      name: string;
      clientId: number;
      orderOwner: string;
      stableOwner: boolean;
      openedAt: number;
    },
  ) {
    this.#port = port;
    this.id = init.id;
    this.kind = init.kind;
    this.name = init.name;
    this.clientId = init.clientId;
    this.orderOwner = init.orderOwner;
    this.stableOwner = init.stableOwner;
    this.openedAt = init.openedAt;
  }

  get state(): TenantState {
    return this.#state;
  }

  /** Send one message (message id first) with this tenant's own ids. */
  send(fields: readonly string[]): void {
    this.#port.send(this, fields);
  }

  /**
   * Messages for this tenant (already rewritten to its ids). With `frame`, answers the switch
   * forwards with one id rewritten reach `frame` as bytes instead of `fn` as fields; every
   * message still reaches the listener exactly once, in one form or the other.
   */
  onMessage(fn: TenantMessageListener, options: { frame?: TenantFrameListener } = {}): () => void {
    this.#listeners.set(fn, options.frame);
    this.#rewalk();
    return () => {
      this.#listeners.delete(fn);
      this.#rewalk();
    };
  }

  #rewalk(): void {
    this.#walk = [...this.#listeners].map(([fn, frame]) => ({ fn, frame }));
  }

  onClose(fn: () => void): () => void {
    this.#closeListeners.add(fn);
    return () => this.#closeListeners.delete(fn);
  }

  /** Called by the switch only. */
  deliver(fields: readonly string[]): void {
    if (this.#state !== "open") return;
    this.messagesIn++;
    for (const { fn } of this.#walk) fn(fields);
  }

  /**
   * Called by the switch only: the upstream message `fields`, decoded from `payload`, with
   * field `index` set to `id`. Frame listeners get the bytes; the others get the fields.
   */
  deliverRewritten(payload: Buffer, fields: readonly string[], index: number, id: number): void {
    if (this.#state !== "open") return;
    this.messagesIn++;
    for (const { fn, frame } of this.#walk) {
      if (frame) frame(payload, index, id);
      else fn(withId(fields, index, 0, id));
    }
  }

  /** Called by the switch only, once. */
  markClosed(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    for (const fn of this.#closeListeners) fn();
    this.#listeners.clear();
    this.#walk = [];
    this.#closeListeners.clear();
  }

  snapshot(): TenantSnapshot {
    return this.#port.snapshotOf(this);
  }

  /** Cancels everything the tenant left open upstream; its orders stay. */
  close(): Promise<void> {
    this.#port.close(this);
    return Promise.resolve();
  }

  destroy(): void {
    this.#port.close(this);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
