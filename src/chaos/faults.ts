/**
 * Carrying out one fault of the schedule against the running stack: the mock's control API for
 * what happens at the gateway, raw sockets for what bad clients do, signals for the daemon and
 * Redis. Resolves when the fault is over (its length elapsed, the process back).
 *
 * Invariants: every socket opened here is destroyed before the fault resolves; nothing here
 * decides whether the system behaved — the invariants do.
 */
import { RawClient } from "../mock/raw-client.test-util.js";
import { toFields } from "../protocol/codec.js";
import { encodeFields } from "../protocol/fields.js";
import { encodeFrame } from "../protocol/frame.js";
import { START_API } from "../protocol/messages/connection.js";
import { contract } from "../protocol/messages/contract.js";
import { REQ_MKT_DATA } from "../protocol/messages/market-data.js";
import type { Fault } from "./schedule.js";
import type { ChaosStack } from "./stack.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function control(stack: ChaosStack, name: string, body: object): Promise<void> {
  const res = await fetch(`${stack.control}/faults/${name}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await res.text();
  if (!res.ok) throw new Error(`mock /faults/${name}: HTTP ${res.status}`);
}

async function lineClientId(stack: ChaosStack): Promise<number | undefined> {
  try {
    const res = await fetch(`${stack.http}/api/ib/pool/status`);
    const body = (await res.json()) as { data?: { lines?: { clientId?: number }[] } };
    return body.data?.lines?.[0]?.clientId;
  } catch {
    return undefined;
  }
}

/** A client through the hello and START_API, once NEXT_VALID_ID arrives (null when it cannot get there). */
async function startedClient(port: number, clientId: number): Promise<RawClient | null> {
  let c: RawClient;
  try {
    c = await RawClient.open(port);
  } catch {
    return null;
  }
  try {
    await c.hello(157, 178);
    c.send(START_API, { clientId, optionalCapabilities: "" });
    await c.waitFor((f) => f[0] === "9");
    return c;
  } catch {
    await c.close();
    return null;
  }
}

const mktData = (reqId: number, symbol: string, version: number): Buffer =>
  encodeFrame(
    encodeFields(
      toFields(
        REQ_MKT_DATA,
        {
          tickerId: reqId,
          contract: contract({ symbol, secType: "STK", exchange: "SMART", currency: "USD" }),
          comboLegs: [],
          deltaNeutral: undefined,
          genericTickList: "",
          snapshot: false,
          regulatorySnapshot: false,
          mktDataOptions: "",
        },
        version,
      ),
    ),
  );

export interface FaultContext {
  stack: ChaosStack;
  /** A client id no workload client uses, for the sockets faults open. */
  spareClientId(): number;
  symbols: readonly string[];
}

export async function applyFault(f: Fault, ctx: FaultContext): Promise<void> {
  const { stack } = ctx;
  switch (f.kind) {
    case "drop":
      return control(stack, "drop", {});
    case "down":
      // IB's nightly restart: 1100 and 2103, every socket dropped, down for a while.
      await control(stack, "restart", { ms: f.ms });
      return sleep(f.ms);
    case "stall":
      await control(stack, "stall", { ms: f.ms });
      return sleep(f.ms);
    case "latency":
      await control(stack, "latency", { ms: 100 + (f.ms % 400) });
      await sleep(f.ms);
      return control(stack, "latency", { ms: 0 });
    case "notice1100":
      await control(stack, "error", { code: 1100 });
      await sleep(1_000);
      return control(stack, "error", { code: 1102 });
    case "notice1101":
      await control(stack, "error", { code: 1100 });
      await sleep(1_000);
      return control(stack, "error", { code: 1101 });
    case "notice1102":
      return control(stack, "error", { code: 1102 });
    case "farmFlap":
      await control(stack, "error", { code: 2103 });
      await sleep(1_000);
      return control(stack, "error", { code: 2104 });
    case "squat326":
      return squat(ctx, f.ms);
    case "killMidFrame":
      return killMidFrame(ctx);
    case "malformed":
      return malformed(ctx);
    case "slowReader":
      return slowReader(ctx, f.ms);
    case "daemonKill":
      return stack.killDaemon();
    case "redisRestart":
      return stack.restartRedis();
  }
}

/**
 * TWS still holding the line's client id when it reconnects (a half-open socket): drop the
 * line, and have another socket take its id at the gateway for a while. The line must wait
 * (or switch ids when it holds no live orders), never write an order under another id.
 */
async function squat(ctx: FaultContext, ms: number): Promise<void> {
  const id = await lineClientId(ctx.stack);
  if (id === undefined) return;
  await control(ctx.stack, "drop", { clientId: id });
  const s = await startedClient(ctx.stack.mockPort, id);
  await sleep(ms);
  s?.socket.destroy();
}

/** A client that dies half-way through writing a request. */
async function killMidFrame(ctx: FaultContext): Promise<void> {
  const s = await startedClient(ctx.stack.proxyPort, ctx.spareClientId());
  if (!s) return;
  const frame = mktData(1, ctx.symbols[0]!, s.serverVersion);
  s.socket.write(frame.subarray(0, Math.max(5, frame.length >> 1)));
  await sleep(50);
  s.socket.destroy();
}

/** Frames no TWS client should send: an unknown message id, a bad field, an absurd length. */
async function malformed(ctx: FaultContext): Promise<void> {
  const forms: Buffer[] = [
    encodeFrame(encodeFields(["99999", "1", "x"])),
    encodeFrame(encodeFields(["1", "11", "notanumber", "0", "AAPL"])),
    Buffer.from([0x7f, 0xff, 0xff, 0xff, 0x41, 0x42]),
  ];
  for (const bytes of forms) {
    const s = await startedClient(ctx.stack.proxyPort, ctx.spareClientId());
    if (!s) continue;
    s.socket.write(bytes);
    await sleep(200);
    s.socket.destroy();
  }
}

/** A client that subscribes and stops reading for a while, then goes away. */
async function slowReader(ctx: FaultContext, ms: number): Promise<void> {
  const s = await startedClient(ctx.stack.proxyPort, ctx.spareClientId());
  if (!s) return;
  ctx.symbols.slice(0, 5).forEach((sym, i) => s.socket.write(mktData(i + 1, sym, s.serverVersion)));
  s.socket.pause();
  await sleep(ms);
  s.socket.destroy();
}
