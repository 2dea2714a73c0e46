/**
 * The dashboard in a real browser (Debian's chromium via playwright-core) against the real
 * daemon process and its built-in mock: the line card follows a gateway outage, a client shows
 * up in the tenants table, the token leaves the address bar, and the page comes back after a
 * daemon restart. No console errors. With SWITCHBOARD_SCREENSHOT=1 it saves
 * docs/img/dashboard.png, which the README shows.
 * Needs `npm run build` first (npm test does it): the page is the bundle in dist/assets.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { EventName, IBApi } from "@stoqey/ib";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type Proc, startProcess, startUnmarkedGateway } from "../daemon/test-support/process.test-util.js";
import {
  type Chrome,
  launchChromium,
  openPage,
  type WatchedPage,
  waitForLineState,
} from "./test-support/browser.test-util.js";
import { TEST_NOW } from "../mock/test-now.test-util.js";

const BUNDLE = fileURLToPath(new URL("../../dist/assets/dashboard.js", import.meta.url));
// The README's picture is refreshed on request (SWITCHBOARD_SCREENSHOT=1 npm test), so an
// ordinary test run never changes a tracked file.
const SCREENSHOT = process.env.SWITCHBOARD_SCREENSHOT
  ? fileURLToPath(new URL("../../docs/img/dashboard.png", import.meta.url))
  : join(tmpdir(), `switchboard-dashboard-${process.pid}.png`);

interface Daemon {
  proc: Proc;
  http: string;
  port: number;
  mockControlPort: number;
  proxyPort: number | null;
}

/** Launched by the first test; a launch failure (no chromium) fails every test, none is skipped. */
let chrome: Promise<Chrome> | undefined;
let stateDir = "";
const procs: Proc[] = [];
const pages: WatchedPage[] = [];
const cleanups: (() => void)[] = [];

async function daemon(extra: readonly string[] = [], httpPort = 0): Promise<Daemon> {
  expect(existsSync(BUNDLE), `${BUNDLE} is missing: run \`npm run build\` first`).toBe(true);
  const proc = await startProcess([
    "start",
    "--http-port",
    String(httpPort),
    "--proxy-port",
    "0",
    "--state-dir",
    stateDir,
    "--mock-now",
    TEST_NOW,
    ...extra,
  ]);
  procs.push(proc);
  const r = proc.ready as { http: string; mockControlPort: number; proxyPort: number | null };
  return {
    proc,
    http: r.http,
    port: Number(new URL(r.http).port),
    mockControlPort: r.mockControlPort,
    proxyPort: r.proxyPort,
  };
}

async function page(colorScheme: "light" | "dark" = "light"): Promise<WatchedPage> {
  chrome ??= launchChromium();
  const w = await openPage(await chrome, colorScheme);
  pages.push(w);
  return w;
}

async function fault(d: Daemon, path: string, body: unknown): Promise<void> {
  const r = await fetch(`http://127.0.0.1:${d.mockControlPort}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(r.status).toBe(200);
}

/** Text of every cell of the tenants table, row by row. */
function tenantRows(w: WatchedPage): Promise<string[][]> {
  return w.page.$$eval("#tenants tbody tr", (trs) =>
    trs.map((tr) => Array.from(tr.querySelectorAll("td"), (td) => td.textContent ?? "")),
  );
}

afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  for (const w of pages.splice(0)) await w.page.close().catch(() => {});
  await Promise.all(procs.splice(0).map((p) => p.stop()));
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

afterAll(async () => {
  await (await chrome?.catch(() => undefined))?.close();
});

describe("dashboard", () => {
  it("follows a gateway outage and a new client live, without console errors", async () => {
    stateDir = await mkdtemp(join(tmpdir(), "sb-dash-"));
    const d = await daemon();
    const w = await page();
    await w.page.goto(`${d.http}/`);
    await waitForLineState(w.page, "ready");
    // The built-in mock moves no money: its card says MOCK where others say PAPER or LIVE.
    expect(await w.page.textContent('[data-line="default"] .identity')).toBe("MOCK");
    await w.page.waitForSelector('#pacing [data-rule="messageRate"] meter');
    // The active pacing profile is on the panel (the daemon's default: IB's current rules).
    expect(await w.page.textContent("#pacing .pace-profile")).toBe("current profile");

    await fault(d, "/faults/down", { ms: 3_000 });
    await waitForLineState(w.page, "reconnecting", 10_000);
    await waitForLineState(w.page, "ready", 20_000);
    await w.page.waitForSelector('#events li[data-type="line.state"]:has-text("→ reconnecting")');

    if (typeof d.proxyPort === "number") {
      // A real IB client through the proxy: its virtual id appears in the tenants table.
      const ib = new IBApi({ host: "127.0.0.1", port: d.proxyPort });
      ib.on(EventName.error, () => {});
      ib.connect(5);
      cleanups.push(() => ib.disconnect());
      await w.page.waitForFunction(() =>
        Array.from(document.querySelectorAll("#tenants tbody tr")).some(
          (tr) => tr.children[3]?.textContent === "5",
        ),
      );
    } else {
      // No proxy in this daemon: the HTTP API's tenant carries the request and shows it.
      const before = (await tenantRows(w)).find((r) => r[1] === "http");
      const q = await fetch(`${d.http}/api/quotes/AAPL`);
      expect(q.status).toBe(200);
      await w.page.waitForFunction(
        (inBefore) =>
          Array.from(document.querySelectorAll("#tenants tbody tr")).some(
            (tr) =>
              tr.children[1]?.textContent === "http" &&
              Number((tr.children[8]?.textContent ?? "0").replace(/\D/g, "")) > inBefore,
          ),
        Number((before?.[8] ?? "0").replace(/\D/g, "")),
      );
    }
    await w.page.waitForSelector("#leases li");
    // Each purpose is shown with its id range, also the ones holding no lease.
    const leasesText = await w.page.$eval("#leases", (el) => el.textContent ?? "");
    expect(leasesText).toContain("ids 900–999");
    expect(leasesText).toContain("ids 300–399");
    // Some traffic for the request-rate chart and the pacing gauges, then a few chart samples
    // (one every 5 s) so the screenshot shows lines rather than dots.
    for (const symbol of ["AAPL", "MSFT", "IBM", "SPY", "QQQ"]) {
      expect((await fetch(`${d.http}/api/quotes/${symbol}`)).status).toBe(200);
    }
    await w.page.waitForFunction(
      () => Number(document.getElementById("chart-rtt")?.dataset.samples) >= 4,
      null,
      {
        timeout: 30_000,
        polling: 200,
      },
    );
    await w.page.waitForSelector("#chart-rtt canvas");

    await mkdir(join(SCREENSHOT, ".."), { recursive: true });
    await w.page.screenshot({ path: SCREENSHOT, fullPage: true });

    const light = await w.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await w.page.emulateMedia({ colorScheme: "dark" });
    const dark = await w.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(dark).not.toBe(light);
    await waitForLineState(w.page, "ready");
    expect(w.errors).toEqual([]);
  }, 90_000);

  it("shows history jobs: a job posted over HTTP appears, runs and ends done with its bars", async () => {
    stateDir = await mkdtemp(join(tmpdir(), "sb-dash-"));
    const d = await daemon();
    const w = await page();
    await w.page.goto(`${d.http}/`);
    await waitForLineState(w.page, "ready");
    expect(await w.page.textContent("#jobs")).toContain("No history jobs.");
    const res = await fetch(`${d.http}/api/history/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        symbols: ["AAPL", "MSFT"],
        bar: "1 hour",
        from: "2026-11-02",
        to: "2026-11-13",
        allowMock: true,
      }),
    });
    expect(res.status).toBe(202);
    const { data } = (await res.json()) as { data: { id: string } };
    await w.page.waitForSelector('#jobs [data-state="done"]', { timeout: 30_000 });
    const row = await w.page.$eval("#jobs tbody tr", (tr) =>
      Array.from(tr.querySelectorAll("td"), (td) => td.textContent ?? ""),
    );
    expect(row[0]).toBe(data.id.slice(0, 8));
    expect(row[1]).toBe("AAPL MSFT");
    expect(row[4]).toBe("done");
    expect(row[5]).toContain("(100%)");
    // 10 extended sessions of 16 one-hour bars, two symbols.
    expect(row[6]).toBe((2 * 10 * 16).toLocaleString());
    // The job's events reached the timeline too.
    await w.page.waitForSelector('#events li[data-type="history.done"]');
    expect(w.errors).toEqual([]);
  }, 60_000);

  it("takes the token from ?token=, removes it from the address bar and uses it", async () => {
    stateDir = await mkdtemp(join(tmpdir(), "sb-dash-"));
    const d = await daemon(["--token", "s3cret-token-for-tests"]);
    const bare = await fetch(`${d.http}/`);
    expect(bare.status).toBe(401);
    expect(await bare.text()).not.toContain("healthy");

    const w = await page();
    const sent: { url: string; auth: string | undefined }[] = [];
    w.page.on("request", (r) => sent.push({ url: r.url(), auth: r.headers().authorization }));
    await w.page.goto(`${d.http}/?token=s3cret-token-for-tests`);
    await waitForLineState(w.page, "ready");
    expect(w.page.url()).toBe(`${d.http}/`);
    expect(await w.page.evaluate(() => sessionStorage.getItem("switchboard.token"))).toBe(
      "s3cret-token-for-tests",
    );
    // The stream works with the token in its query: the ring's events are replayed.
    await w.page.waitForSelector('#events li[data-type="line.state"]');

    const api = sent.filter((s) => new URL(s.url).pathname.startsWith("/api/"));
    expect(api.length).toBeGreaterThan(0);
    expect(api.every((s) => s.auth === "Bearer s3cret-token-for-tests")).toBe(true);
    expect(
      sent.some((s) => s.url.includes("/events?") && s.url.includes("token=s3cret-token-for-tests")),
    ).toBe(true);
    expect(w.errors).toEqual([]);

    // A reload, now without the token in the URL: the page comes with 401 (it holds no data)
    // and works from the token kept in the tab.
    const reload = await w.page.reload();
    expect(reload?.status()).toBe(401);
    await waitForLineState(w.page, "ready");
    expect(w.page.url()).toBe(`${d.http}/`);
    expect(w.errors.filter((e) => !e.includes("status of 401"))).toEqual([]);
  }, 60_000);

  it("shows paper and live side by side: each card with its badge, proxy port, orders and tenants; tenants and pacing per line", async () => {
    stateDir = await mkdtemp(join(tmpdir(), "sb-dash-"));
    const gateway = async (accounts: string) => {
      const p = await startUnmarkedGateway(accounts);
      procs.push(p);
      return Number(p.ready.port);
    };
    const paper = await gateway("DU111");
    const live = await gateway("U222");
    const config = join(stateDir, "switchboard.yaml");
    await writeFile(
      config,
      JSON.stringify({
        lines: [
          { name: "paper", upstream: `127.0.0.1:${paper}` },
          { name: "live", upstream: `127.0.0.1:${live}`, mode: "live", proxyPort: 0, readOnly: true },
        ],
      }),
    );
    const d = await daemon(["--config", config]);
    const w = await page();
    await w.page.goto(`${d.http}/`);
    await waitForLineState(w.page, "ready", 15_000, "paper");
    await waitForLineState(w.page, "ready", 15_000, "live");
    const badge = (line: string) =>
      w.page.$eval(`[data-line="${line}"] .identity`, (el) => ({
        text: el.textContent,
        identity: (el as HTMLElement).dataset.identity,
        inHeader: el.parentElement?.tagName,
        background: getComputedStyle(el).backgroundColor,
      }));
    const p = await badge("paper");
    const l = await badge("live");
    expect(p).toMatchObject({ text: "PAPER", identity: "paper", inHeader: "HEADER" });
    expect(l).toMatchObject({ text: "LIVE", identity: "live", inHeader: "HEADER" });
    // Live is set apart by colour as well as by its word.
    expect(l.background).not.toBe(p.background);
    expect(await w.page.textContent('[data-line="live"]')).toContain("U222");
    // A real IB client on each line's own proxy port: each shows up on its line.
    const proxyPorts = d.proc.ready.proxyPorts as Record<string, number>;
    for (const [line, clientId] of [
      ["paper", 7],
      ["live", 8],
    ] as const) {
      const ib = new IBApi({ host: "127.0.0.1", port: proxyPorts[line] });
      ib.on(EventName.error, () => {});
      ib.connect(clientId);
      cleanups.push(() => ib.disconnect());
    }
    await w.page.waitForFunction(
      () => document.querySelectorAll('#tenants .tenant-line[data-line="live"] .identity').length > 0,
    );
    await w.page.waitForFunction(
      () => document.querySelectorAll('#tenants .tenant-line[data-line="paper"] .identity').length > 0,
    );
    const liveRow = (await tenantRows(w)).find((r) => r[3] === "8");
    expect(liveRow?.[4]).toBe("live LIVE");
    expect((await tenantRows(w)).find((r) => r[3] === "7")?.[4]).toBe("paper PAPER");
    await w.page.waitForFunction(() =>
      /1: /.test(document.querySelector('[data-line="live"] .line-tenants')?.textContent ?? ""),
    );
    const card = async (line: string) => (await w.page.textContent(`[data-line="${line}"]`)) ?? "";
    expect(await card("live")).toContain(String(proxyPorts.live));
    expect(await card("live")).toContain("read-only");
    expect(await card("paper")).toContain(String(proxyPorts.paper));
    expect(await card("paper")).toContain("allowed");
    // Each line's own pacer, headed by its badge.
    expect(await w.page.textContent('#pacing [data-pacer-line="live"] h3 .identity')).toBe("LIVE");
    expect(await w.page.textContent('#pacing [data-pacer-line="paper"] h3 .identity')).toBe("PAPER");
    await w.page.waitForSelector('#pacing [data-pacer-line="live"] [data-rule="messageRate"] meter');
    expect(w.errors).toEqual([]);
  }, 60_000);

  it("shows a banner while the daemon is away and resumes its stream after a restart", async () => {
    stateDir = await mkdtemp(join(tmpdir(), "sb-dash-"));
    const first = await daemon();
    const w = await page("dark");
    await w.page.goto(`${first.http}/`);
    await waitForLineState(w.page, "ready");
    await w.page.waitForSelector('#events li[data-type="line.state"]');

    await first.proc.stop();
    await w.page.waitForSelector("#banner:not([hidden])", { timeout: 15_000 });
    expect(await w.page.textContent("#banner")).toContain("Disconnected");

    const second = await daemon([], first.port);
    await w.page.waitForSelector("#banner", { state: "hidden", timeout: 30_000 });
    await waitForLineState(w.page, "ready");
    await w.page.waitForSelector('#events li.mark:has-text("Daemon restarted")');
    // The new daemon's events arrive on the resumed stream: a fault on its mock shows up.
    await fault(second, "/faults/down", { ms: 1_000 });
    await waitForLineState(w.page, "reconnecting", 10_000);
    await waitForLineState(w.page, "ready", 20_000);
    // While the daemon was gone the browser logged failed connections; nothing else.
    const other = w.errors.filter(
      (e) => !/ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|Failed to load resource/.test(e),
    );
    expect(other).toEqual([]);
  }, 90_000);
});
