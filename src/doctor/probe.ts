/**
 * The doctor's probe: one TCP connect with timing, then the TWS handshake as a client would
 * do it (hello → START_API → NEXT_VALID_ID + MANAGED_ACCTS → REQ_CURRENT_TIME), recording
 * every fact on the way and where it stopped. It reads only: it sends no request that
 * changes anything in TWS, and closes the socket politely (FIN) when done.
 *
 * All decoding goes through src/protocol (the one codec).
 */
import { connect as netConnect, type Socket } from "node:net";
import type { Clock, TimerHandle } from "../clock.js";
import { HandshakeError } from "../errors.js";
import {
  CURRENT_TIME,
  decodeFields,
  EMPTY,
  ERR_MSG,
  encodeClientHello,
  encodeMessage,
  FrameDecoder,
  fromFields,
  IN,
  MANAGED_ACCTS,
  MAX_SERVER_VERSION,
  NEXT_VALID_ID,
  parseServerHello,
  peekMessageId,
  REQ_CURRENT_TIME,
  START_API,
} from "../protocol/index.js";
import type { ConnectOutcome, HandshakeAttempt, HandshakeStage, ProbeResult } from "./types.js";

/**
 * We offer versions from 100 so that a TWS older than Switchboard's 157 still answers with
 * its version and the doctor can say "too old" instead of "closed".
 */
export const PROBE_MIN_VERSION = 100;
/** TWS answers the hello with versions in the low hundreds; a larger "version" is not TWS. */
const MAX_PLAUSIBLE_VERSION = 1_000;
/** A handshake never needs big frames; anything larger is a stranger speaking. */
const PROBE_MAX_FRAME_BYTES = 1 << 20;
/** Notices kept per attempt (a Gateway sends a handful; a misbehaving peer could send more). */
const MAX_NOTICES = 64;
/** How long a closed probe socket may wait for the peer's FIN before it is destroyed. */
const LINGER_MS = 500;
/** IB error "client id already in use". */
export const IB_CLIENT_ID_IN_USE = 326;

export interface ProbeOptions {
  host: string;
  port: number;
  /** Applies to the connect and to each handshake stage separately. */
  timeoutMs: number;
  /** Client ids to try, best first; a 326 on one moves to the next (at most two attempts). */
  clientIds: readonly number[];
  clock: Clock;
}

export async function probeEndpoint(options: ProbeOptions): Promise<ProbeResult> {
  const { host, port } = options;
  const first = await connectTcp(host, port, options.timeoutMs, options.clock);
  const result: ProbeResult = { host, port, connect: first.outcome, attempts: [], localPorts: [] };
  let socket = first.socket;
  for (const clientId of options.clientIds.slice(0, 2)) {
    if (!socket) {
      // TWS closes the socket after 326, so a second id needs a second connection.
      const again = await connectTcp(host, port, options.timeoutMs, options.clock);
      socket = again.socket;
      if (!socket) break;
    }
    if (socket.localPort !== undefined) result.localPorts.push(socket.localPort);
    const attempt = await handshake(socket, clientId, options.timeoutMs, options.clock);
    socket = undefined;
    result.attempts.push(attempt);
    if (attempt.outcome.kind !== "client-id-in-use") break;
  }
  socket?.destroy();
  return result;
}

interface Connected {
  outcome: ConnectOutcome;
  socket: Socket | undefined;
}

/** TCP connect, classified: refused (RST: nothing listens) vs timeout (no answer at all). */
export function connectTcp(host: string, port: number, timeoutMs: number, clock: Clock): Promise<Connected> {
  const started = clock.now();
  return new Promise((resolve) => {
    const socket = netConnect({ host, port });
    const settle = (outcome: ConnectOutcome, keep: boolean) => {
      clock.clearTimeout(timer);
      socket.removeAllListeners("connect");
      socket.removeAllListeners("error");
      if (!keep) socket.destroy();
      resolve({ outcome, socket: keep ? socket : undefined });
    };
    const timer: TimerHandle = clock.setTimeout(
      () => settle({ kind: "timeout", ms: clock.now() - started }, false),
      timeoutMs,
    );
    socket.once("connect", () => settle({ kind: "connected", ms: clock.now() - started }, true));
    socket.once("error", (err: NodeJS.ErrnoException) => {
      const ms = clock.now() - started;
      if (err.code === "ECONNREFUSED") settle({ kind: "refused", ms }, false);
      else if (err.code === "ETIMEDOUT") settle({ kind: "timeout", ms }, false);
      else settle({ kind: "error", ms, errno: err.code ?? "unknown", message: err.message }, false);
    });
  });
}

/**
 * One handshake on a connected socket. Always resolves (never rejects) and always leaves the
 * socket ended or destroyed.
 */
export function handshake(
  socket: Socket,
  clientId: number,
  timeoutMs: number,
  clock: Clock,
): Promise<HandshakeAttempt> {
  const attempt: HandshakeAttempt = {
    clientId,
    outcome: { kind: "stalled", stage: "hello" },
    serverVersion: null,
    connectionTime: null,
    accounts: [],
    nextValidId: null,
    notices: [],
    serverTime: null,
  };
  const decoder = new FrameDecoder({ maxFrameBytes: PROBE_MAX_FRAME_BYTES });
  let stage: HandshakeStage | "done" = "hello";
  let bytes = 0;
  let timer: TimerHandle | undefined;

  return new Promise((resolve) => {
    const finish = (outcome: HandshakeAttempt["outcome"]) => {
      if (stage === "done") return;
      stage = "done";
      attempt.outcome = outcome;
      clock.clearTimeout(timer);
      socket.removeAllListeners("data");
      socket.removeAllListeners("close");
      // A FIN first so TWS logs a normal disconnect; destroy if the peer never closes its side.
      socket.on("error", () => {});
      socket.end();
      const linger = clock.setTimeout(() => socket.destroy(), LINGER_MS);
      socket.once("close", () => clock.clearTimeout(linger));
      resolve(attempt);
    };
    const enter = (next: HandshakeStage) => {
      stage = next;
      clock.clearTimeout(timer);
      timer = clock.setTimeout(onTimeout, timeoutMs);
    };
    const onTimeout = () => {
      if (stage === "done") return;
      if (stage === "time") finish({ kind: "ok" });
      else if (stage === "hello" && bytes > 0) {
        finish({ kind: "not-tws", detail: `sent ${bytes} bytes that are not a complete TWS frame` });
      } else finish({ kind: "stalled", stage });
    };
    const onFrame = (payload: Buffer) => {
      if (stage === "hello") {
        const fields = decodeFields(payload);
        const hello = parseServerHello(fields);
        if (hello.serverVersion > MAX_PLAUSIBLE_VERSION || fields.length < 2) {
          throw new HandshakeError(`answered ${JSON.stringify(fields.slice(0, 2))} to the hello`);
        }
        attempt.serverVersion = hello.serverVersion;
        attempt.connectionTime = hello.connectionTime;
        socket.write(encodeMessage(START_API, { clientId, optionalCapabilities: "" }, hello.serverVersion));
        enter("start");
        return;
      }
      const version = attempt.serverVersion ?? MAX_SERVER_VERSION;
      const id = peekMessageId(payload);
      if (id === IN.ERR_MSG) {
        const err = fromFields(ERR_MSG, decodeFields(payload), version);
        if (attempt.notices.length < MAX_NOTICES) {
          attempt.notices.push({ id: err.id, code: err.code, message: err.message });
        }
        if (err.code === IB_CLIENT_ID_IN_USE) finish({ kind: "client-id-in-use", clientId });
      } else if (id === IN.MANAGED_ACCTS) {
        attempt.accounts = fromFields(MANAGED_ACCTS, decodeFields(payload), version).accounts;
      } else if (id === IN.NEXT_VALID_ID) {
        attempt.nextValidId = fromFields(NEXT_VALID_ID, decodeFields(payload), version).orderId;
      } else if (id === IN.CURRENT_TIME && stage === "time" && attempt.serverTime) {
        attempt.serverTime.epochSeconds = fromFields(CURRENT_TIME, decodeFields(payload), version).time;
        attempt.serverTime.receivedAtMs = clock.now();
        finish({ kind: "ok" });
        return;
      }
      // Ready as ib_async defines it: both NEXT_VALID_ID and MANAGED_ACCTS seen (requests sent
      // before NEXT_VALID_ID may be dropped by TWS, so the time request waits for it).
      if (stage === "start" && attempt.nextValidId !== null && attempt.accounts.length > 0) {
        attempt.serverTime = { epochSeconds: 0, sentAtMs: clock.now(), receivedAtMs: 0 };
        socket.write(encodeMessage(REQ_CURRENT_TIME, EMPTY, version));
        enter("time");
      }
    };

    socket.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      try {
        for (const payload of decoder.push(chunk)) {
          if (stage === "done") return;
          onFrame(payload);
        }
      } catch (err) {
        const detail = err instanceof Error ? err.message : String(err);
        if (stage === "hello") finish({ kind: "not-tws", detail });
        // After a valid hello a garbled frame is still "not the TWS API we know".
        else if (stage === "start") finish({ kind: "not-tws", detail: `after the hello: ${detail}` });
        else finish({ kind: "ok" });
      }
    });
    socket.on("error", () => {
      // "close" follows and classifies; the errno (ECONNRESET) adds nothing the stage does not say.
    });
    socket.on("close", () => {
      if (stage === "done") return;
      if (stage === "time") finish({ kind: "ok" });
      else if (stage === "hello" && bytes > 0) {
        finish({ kind: "not-tws", detail: `sent ${bytes} bytes and closed` });
      } else finish({ kind: "closed", stage });
    });

    socket.write(encodeClientHello({ min: PROBE_MIN_VERSION, max: MAX_SERVER_VERSION, options: "" }));
    enter("hello");
  });
}
