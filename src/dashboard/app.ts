/**
 * The page's controller: fetches the snapshots every few seconds (and soon after any event),
 * feeds the timeline and the cards from /events, polls the chart history, and shows a banner
 * while the daemon cannot be reached. A daemon restart is noticed by its pid and start time;
 * the stream then starts again from the new daemon's first event.
 */
import { type Api, ApiError } from "./api.js";
import { Charts } from "./charts.js";
import { h } from "./dom.js";
import { renderJobs } from "./panels/jobs.js";
import { renderLeases } from "./panels/leases.js";
import { renderLines } from "./panels/lines.js";
import { renderPacing } from "./panels/pacing.js";
import { renderGroups } from "./panels/groups.js";
import { renderTenants } from "./panels/tenants.js";
import { Timeline } from "./panels/timeline.js";
import { EventStream, type StreamState } from "./stream.js";
import type { DaemonEvent, History, Snapshot } from "./types.js";

export const REFRESH_MS = 2_000;
export const HISTORY_MS = 5_000;
export const DOWN_RETRY_MS = 5_000;
/** Events come in bursts (a reconnect is a dozen); one refresh after the burst is enough. */
export const EVENT_REFRESH_DELAY_MS = 250;

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page element #${id} is missing`);
  return el as T;
}

type Conn = "starting" | "up" | "down" | "unauthorized";

export class Dashboard {
  readonly #api: Api;
  readonly #timeline = new Timeline(byId<HTMLOListElement>("events"));
  readonly #charts = new Charts(byId("chart-rtt"), byId("chart-rate"));
  #stream: EventStream | undefined;
  #snap: Snapshot | undefined;
  #epoch: string | undefined;
  #conn: Conn = "starting";
  #refreshTimer: number | undefined;
  #refreshing = false;

  constructor(api: Api) {
    this.#api = api;
  }

  async start(): Promise<void> {
    await this.#refresh();
    if (this.#conn === "unauthorized") return;
    this.#stream = new EventStream((id) => this.#api.eventsUrl(id), {
      event: (id, e) => this.#onEvent(id, e),
      state: (s) => this.#onStream(s),
    });
    void this.#history();
    window.setInterval(() => this.#tick(), 1_000);
  }

  #onEvent(id: number, e: DaemonEvent): void {
    // A job's progress (once a second) moves the jobs panel; the timeline keeps its end only.
    if (e.type !== "history.progress") this.#timeline.add(id, e);
    if (e.type === "line.state" && this.#snap && id > this.#snap.lastEventId) {
      // Show the new state at once (not for replayed events the snapshot already includes);
      // the refresh that follows fills in the rest.
      const f = e as DaemonEvent & { line: string; to: string; reason: string };
      this.#snap.pool.lines = this.#snap.pool.lines.map((l) =>
        l.name === f.line ? { ...l, state: f.to as typeof l.state, reason: f.reason } : l,
      );
      renderLines(byId("lines"), this.#snap.pool.lines, Date.now());
    }
    this.#schedule(EVENT_REFRESH_DELAY_MS);
  }

  #onStream(s: StreamState): void {
    if (s === "down") this.#setConn("down");
    if (s === "open") this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#refreshTimer !== undefined) {
      if (ms > 0) return; // one is due already
      window.clearTimeout(this.#refreshTimer);
    }
    this.#refreshTimer = window.setTimeout(() => {
      this.#refreshTimer = undefined;
      void this.#refresh();
    }, ms);
  }

  async #refresh(): Promise<void> {
    if (this.#refreshing) return;
    this.#refreshing = true;
    try {
      const [metrics, pool, health, leases, purposes, pace, stats, jobs] = await Promise.all([
        // Its lastEventId tells replayed events from new ones; an event that falls between
        // these reads is shown by the refresh it schedules, a moment later.
        this.#api.get<{ lastEventId: number }>("/api/ib/pool/metrics"),
        this.#api.get<Snapshot["pool"]>("/api/ib/pool/status"),
        this.#api.get<Snapshot["health"]>("/api/ib/pool/health"),
        this.#api.get<Snapshot["leases"]>("/api/ids"),
        this.#api.get<Snapshot["purposes"]>("/api/ids/purposes"),
        this.#api.get<Snapshot["pace"]>("/api/ib/pace/status"),
        this.#api.get<Snapshot["stats"]>("/api/ib/pace/stats"),
        this.#api.get<Snapshot["jobs"]>("/api/history/jobs"),
      ]);
      this.#snap = { pool, health, leases, purposes, pace, stats, jobs, lastEventId: metrics.lastEventId };
      this.#checkEpoch();
      this.#setConn("up");
      this.#render();
    } catch (err) {
      this.#setConn(err instanceof ApiError && err.status === 401 ? "unauthorized" : "down");
      if (this.#conn === "unauthorized") return;
    } finally {
      this.#refreshing = false;
      // While down, look again less often (the stream's reconnect also triggers a look).
      this.#schedule(this.#conn === "up" ? REFRESH_MS : DOWN_RETRY_MS);
    }
  }

  async #history(): Promise<void> {
    try {
      if (this.#conn === "up") {
        const since = this.#charts.lastTs;
        const q = since === undefined ? "" : `?since=${since}`;
        const hist = await this.#api.get<History>(`/api/ib/pool/history${q}`);
        this.#charts.add(hist.samples, Date.now());
      }
    } catch {
      // The banner already says the daemon is away; the next round tries again.
    }
    window.setTimeout(() => void this.#history(), HISTORY_MS);
  }

  #checkEpoch(): void {
    const info = this.#snap!.health.info;
    const epoch = `${info.pid}@${info.startedAt}`;
    if (this.#epoch !== undefined && this.#epoch !== epoch) {
      this.#timeline.mark(`Daemon restarted (pid ${info.pid})`, Date.now());
      this.#stream?.restart(0);
    }
    this.#epoch = epoch;
  }

  #tick(): void {
    if (this.#snap && this.#conn === "up")
      renderLines(byId("lines"), this.#snap.pool.lines, Date.now(), this.#snap.pool.tenants);
  }

  #render(): void {
    const s = this.#snap!;
    const now = Date.now();
    const info = s.health.info;
    renderLines(byId("lines"), s.pool.lines, now, s.pool.tenants);
    renderTenants(byId("tenants"), s.pool.tenants, s.pool.lines);
    renderGroups(byId("groups"), s.pool.groups ?? [], s.pool.linesSaved ?? 0);
    renderLeases(byId("leases"), s.leases, s.purposes, now);
    renderPacing(byId("pacing"), s.pace, s.stats, s.pool.lines);
    renderJobs(byId("jobs"), s.jobs);
    byId("version").textContent = info.version;
    const parts = [
      `${s.health.status}`,
      `upstream ${s.health.upstream}`,
      `pid ${info.pid}`,
      `since ${new Date(info.startedAt).toLocaleString()}`,
      info.readOnly ? "read-only" : "",
      info.proxyPort === null ? "" : `proxy port ${info.proxyPort}`,
    ].filter(Boolean);
    const summary = byId("summary");
    summary.replaceChildren(
      h("span", { class: `health ${s.health.status}` }, parts[0]!),
      ` · ${parts.slice(1).join(" · ")}`,
      info.upstream === "mock"
        ? h("span", { class: "mock" }, " · BUILT-IN MOCK gateway: synthetic data")
        : "",
    );
    document.title = `Switchboard · ${s.health.status}`;
  }

  #setConn(to: Conn): void {
    if (this.#conn === to) return;
    this.#conn = to;
    const banner = byId("banner");
    document.body.dataset.conn = to;
    if (to === "up") {
      banner.hidden = true;
      banner.textContent = "";
    } else if (to === "down") {
      banner.hidden = false;
      banner.textContent = `Disconnected from the daemon since ${new Date().toLocaleTimeString()}; reconnecting…`;
    } else if (to === "unauthorized") {
      this.#stream?.close();
      banner.hidden = false;
      banner.textContent = this.#api.hasToken
        ? "The daemon refused this page's token. Open the page again as /?token=<token>."
        : "This daemon needs a token. Open the page as /?token=<token>.";
    }
  }
}
