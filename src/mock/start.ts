/**
 * `startMockGateway()`: the mock IB Gateway for users' own test suites, in one call. It
 * listens on loopback on free ports unless told otherwise (tests run in parallel), and the
 * handle closes everything it opened (also with `await using`).
 *
 *   const gw = await startMockGateway({ port: 0 });
 *   // connect any IB client to 127.0.0.1:gw.port; faults via http://127.0.0.1:gw.controlPort
 *   await gw.close();
 */
import { MockGateway } from "./gateway.js";
import type { MockGatewayOptions } from "./options.js";

export interface StartedMockGateway extends AsyncDisposable {
  /** The TWS-protocol port. */
  readonly port: number;
  /** The HTTP control API's port (faults, /state); null when `controlPort: null` was given. */
  readonly controlPort: number | null;
  readonly serverVersion: number;
  /** The gateway itself, for events and in-process control. */
  readonly gateway: MockGateway;
  close(): Promise<void>;
}

export async function startMockGateway(options: MockGatewayOptions = {}): Promise<StartedMockGateway> {
  const gateway = new MockGateway({ host: "127.0.0.1", port: 0, controlPort: 0, ...options });
  try {
    const info = await gateway.start();
    const close = () => gateway.close();
    return {
      port: info.port,
      controlPort: info.controlPort,
      serverVersion: info.serverVersion,
      gateway,
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (err) {
    await gateway.close().catch(() => {});
    throw err;
  }
}
