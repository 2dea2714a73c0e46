/**
 * Line identity with real processes: two `switchboard mock-gateway --unmarked` processes (so
 * the daemon takes them for real gateways), a paper one (DU111) and a live one (U222), on free
 * ports that the `autoPorts` config key points `auto` at, and `switchboard start` as a process.
 * A paper line never becomes a live one: not when the paper gateway restarts, not when the
 * daemon restarts while the paper gateway is down, not on the first connect when the config
 * pins `mode: paper`; and a client's modify never reaches the live gateway.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RawClient } from "../mock/raw-client.test-util.js";
import type { MockOrderView } from "../mock/state.js";
import { toFields } from "../protocol/codec.js";
import { PLACE_ORDER, placeOrder } from "../protocol/messages/orders.js";
import { AAPL, V } from "../switch/test-harness.test-util.js";
import {
  type Proc,
  run,
  startProcess,
  until,
  startUnmarkedGateway,
} from "./test-support/process.test-util.js";
import { openSse, type SseReader } from "./test-support/sse.test-util.js";

const procs: Proc[] = [];
const clients: RawClient[] = [];
const readers: SseReader[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const r of readers) r.close();
  for (const c of clients) await c.close();
  for (const p of procs.reverse()) await p.stop("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const PAPER = "DU111";
const LIVE = "U222";

async function gateway(accounts: string, port = 0): Promise<Proc> {
  const p = await startUnmarkedGateway(accounts, port);
  procs.push(p);
  return p;
}

const control = (g: Proc) => `http://127.0.0.1:${String(g.ready.controlPort)}`;

async function gatewayOrders(g: Proc): Promise<MockOrderView[]> {
  const body = (await (await fetch(`${control(g)}/state`)).json()) as { data: { orders: MockOrderView[] } };
  return body.data.orders;
}

function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), "sb-identity-"));
  dirs.push(d);
  return d;
}

/** JSON is YAML: the config file the daemon reads. */
function config(dir: string, body: Record<string, unknown>): string {
  const path = join(dir, "switchboard.yaml");
  writeFileSync(path, JSON.stringify({ httpPort: 0, proxyPort: 0, stateDir: dir, ...body }));
  return path;
}

async function daemon(configPath: string): Promise<Proc> {
  const p = await startProcess(["start", "--config", configPath]);
  procs.push(p);
  return p;
}

interface HealthLine {
  state: string;
  reason: string;
  upstream: string;
  identity: { mode: string | null; accounts: string[] };
}
interface Health {
  success: boolean;
  data: { lines: HealthLine[] };
  error?: { code: string; reason?: string };
}

async function health(d: Proc): Promise<{ status: number; body: Health }> {
  const r = await fetch(`${String(d.ready.http)}/health`);
  return { status: r.status, body: (await r.json()) as Health };
}

async function readyOn(d: Proc, g: Proc): Promise<HealthLine> {
  return until(
    async () => {
      const h = await health(d);
      const l = h.body.data.lines[0];
      return h.status === 200 && l?.upstream === `auto:127.0.0.1:${String(g.ready.port)}` ? l : undefined;
    },
    `the line ready on port ${String(g.ready.port)}`,
    600,
  );
}

const order = (totalQuantity: string, orderRef: string) =>
  toFields(
    PLACE_ORDER,
    placeOrder({
      orderId: 1,
      contract: AAPL,
      action: "BUY",
      totalQuantity,
      orderType: "LMT",
      lmtPrice: 1,
      orderRef,
    }),
    V,
  );

/** An ERR_MSG for order id 1 with `code` (fields: 4, version, id, code, message…). */
const orderError = (code: number) => (f: string[]) => f[0] === "4" && f[2] === "1" && f[3] === String(code);

describe("line identity (daemon and gateways as processes)", () => {
  it("a paper gateway's restart never makes the line ready on live; it comes back to paper, and a modify meanwhile never reaches live", async () => {
    const paper = await gateway(PAPER);
    const live = await gateway(LIVE);
    const dir = stateDir();
    const d = await daemon(
      config(dir, {
        autoPorts: [Number(paper.ready.port), Number(live.ready.port)],
        lines: [{ name: "default", upstream: "auto" }],
      }),
    );
    const first = await readyOn(d, paper);
    expect(first.identity).toEqual({ mode: "paper", accounts: [PAPER] });
    // Recorded in the line's journal at the first ready.
    expect(readFileSync(join(dir, "orders-default.journal"), "utf8")).toMatch(
      /"k":"identity","identity":\{"accounts":\["DU111"\],"mode":"paper"\}/,
    );

    const c = await RawClient.connect(Number(d.ready.proxyPort), { clientId: 5 });
    clients.push(c);
    c.sendFields(order("1", "identity-restart"));
    await c.waitFor((f) => f[0] === "3" && f[1] === "1" && f[2] === "Submitted", 10_000);

    const events = await openSse(`${String(d.ready.http)}/events`);
    readers.push(events);
    const down = await fetch(`${control(paper)}/faults/down`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ms: 5_000 }),
    });
    expect(down.status).toBe(200);

    // auto finds only the live gateway: refused, the line waits disconnected for paper.
    const refused = await events.waitFor(
      (f) => f.event === "line.identity_changed",
      "identity_changed",
      30_000,
    );
    expect(refused.data).toMatchObject({
      line: "default",
      expected: `paper ${PAPER}`,
      got: { mode: "live", accounts: [LIVE] },
      upstream: `127.0.0.1:${String(live.ready.port)}`,
    });
    const during = await health(d);
    expect(during.status).toBe(503);
    expect(during.body.data.lines[0]).toMatchObject({ state: "disconnected" });
    expect(during.body.data.lines[0]?.reason).toBe(
      `identity_changed: expected paper ${PAPER}, got live ${LIVE}`,
    );
    expect(during.body.error?.reason).toBe("identity_changed");

    // The client's modify while the line is not ready: refused with 399, never queued.
    c.sendFields(order("2", "identity-restart"));
    await c.waitFor(orderError(399), 10_000);

    const back = await readyOn(d, paper);
    expect(back.identity).toEqual({ mode: "paper", accounts: [PAPER] });
    // Every ready the line reached was on the paper gateway.
    const readies = events.frames.filter((f) => f.event === "line.state" && f.data.to === "ready");
    expect(readies.length).toBeGreaterThanOrEqual(1);
    for (const f of readies) expect(f.data.upstream).toBe(`auto:127.0.0.1:${String(paper.ready.port)}`);

    // Back on paper the modify goes to the paper order (after the reconciliation).
    await until(
      async () => {
        c.sendFields(order("3", "identity-restart"));
        await new Promise((r) => setTimeout(r, 100));
        const [o] = (await gatewayOrders(paper)).filter((x) => x.orderRef === "identity-restart");
        return o && o.modifyCount >= 1 ? true : undefined;
      },
      "the modify at the paper gateway",
      100,
    );
    expect(await gatewayOrders(live)).toEqual([]);
  }, 120_000);

  it("a daemon restarted while the paper gateway is down does not settle on live", async () => {
    const paper = await gateway(PAPER);
    const live = await gateway(LIVE);
    const paperPort = Number(paper.ready.port);
    const dir = stateDir();
    const cfg = config(dir, {
      autoPorts: [paperPort, Number(live.ready.port)],
      lines: [{ name: "default", upstream: "auto" }],
    });
    const d1 = await daemon(cfg);
    await readyOn(d1, paper);
    const c1 = await RawClient.connect(Number(d1.ready.proxyPort), { clientId: 6 });
    clients.push(c1);
    c1.sendFields(order("1", "identity-daemon-restart"));
    await c1.waitFor((f) => f[0] === "3" && f[1] === "1" && f[2] === "Submitted", 10_000);
    await c1.close();
    expect(await d1.stop()).toBe(0);
    expect(await paper.stop()).toBe(0);

    const d2 = await daemon(cfg);
    const events = await openSse(`${String(d2.ready.http)}/events`, { "last-event-id": "0" });
    readers.push(events);
    // Several searches, each of which met the live gateway and refused it.
    const pool = async () =>
      (
        (await (await fetch(`${String(d2.ready.http)}/api/ib/pool/status`)).json()) as {
          data: { lines: { state: string; reason: string; attempts: number; identity: { mode: string } }[] };
        }
      ).data.lines[0];
    const waiting = await until(
      async () => {
        const l = await pool();
        return l && l.attempts >= 3 && l.reason.startsWith("identity_changed") ? l : undefined;
      },
      "three refused searches",
      600,
    );
    expect(waiting).toMatchObject({ state: "disconnected", identity: { mode: "paper" } });
    const h = await health(d2);
    expect(h.status).toBe(503);
    expect(h.body.data.lines[0]?.reason).toBe(`identity_changed: expected paper ${PAPER}, got live ${LIVE}`);

    // No downstream can even finish its handshake meanwhile: the proxy waits for the line's
    // first ready (interfaces.md, "Versions"), so no order message can reach any gateway.

    // The paper gateway comes back on its port: the line is ready there, and only there.
    const again = await gateway(PAPER, paperPort);
    await readyOn(d2, again);
    const readies = events.frames.filter((f) => f.event === "line.state" && f.data.to === "ready");
    for (const f of readies) expect(f.data.upstream).toBe(`auto:127.0.0.1:${paperPort}`);
    expect(await gatewayOrders(live)).toEqual([]);
  }, 120_000);

  it("a line pinned to mode: paper refuses a live gateway from the first connect", async () => {
    const live = await gateway(LIVE);
    const dir = stateDir();
    const d = await daemon(
      config(dir, {
        lines: [{ name: "default", upstream: `127.0.0.1:${String(live.ready.port)}`, mode: "paper" }],
      }),
    );
    const h = await until(
      async () => {
        const x = await health(d);
        return x.body.data.lines[0]?.reason.startsWith("identity_changed") ? x : undefined;
      },
      "the line refused for its identity",
      400,
    );
    expect(h.status).toBe(503);
    expect(h.body.error).toMatchObject({ code: "unhealthy", reason: "identity_changed" });
    expect(h.body.data.lines[0]).toMatchObject({
      state: "disconnected",
      reason: `identity_changed: expected paper, got live ${LIVE}`,
      identity: { mode: "paper", accounts: [] },
    });
    expect(await gatewayOrders(live)).toEqual([]);
    // The doctor names the refusal and what to do.
    const doc = await run([
      "doctor",
      "--port",
      String(live.ready.port),
      "--url",
      String(d.ready.http),
      "--state-dir",
      dir,
      "--json",
    ]);
    expect(doc.code).toBe(1);
    const findings = (
      JSON.parse(doc.stdout) as { data: { findings: { level: string; code: string; message: string }[] } }
    ).data.findings;
    expect(findings).toContainEqual(
      expect.objectContaining({
        level: "error",
        code: "line-identity",
        message: expect.stringContaining(`expected paper, got live ${LIVE}`) as unknown,
      }),
    );
    // Nothing recorded from a refused gateway.
    expect(readFileSync(join(dir, "orders-default.journal"), "utf8")).not.toMatch(/"k":"identity"/);
  }, 60_000);
});
