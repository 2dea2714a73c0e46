/**
 * The dashboard's files as the daemon serves them: the bundle that `npm run build` writes to
 * dist/assets/ (esbuild: dashboard.js with uPlot inside, dashboard.css), read once and kept in memory
 * with a content hash. The page names each file with `?v=<hash>`, so a browser may keep it
 * for a year (`immutable`) and still gets the new one after an upgrade; a request without
 * the current hash is revalidated by ETag instead.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { extname } from "node:path";

/** Same place from src/api (tests) and dist/api (the built package). */
export const DASHBOARD_DIR = new URL("../../dist/assets/", import.meta.url);

const TYPES: Readonly<Record<string, string>> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

export interface Asset {
  readonly name: string;
  readonly body: Buffer;
  readonly type: string;
  /** First 16 hex digits of the SHA-256 of the body. */
  readonly hash: string;
}

export type AssetSet = ReadonlyMap<string, Asset>;

/** Every servable file of the bundle; an empty set when the bundle was not built. */
export async function loadAssets(dir: URL = DASHBOARD_DIR): Promise<AssetSet> {
  const out = new Map<string, Asset>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const type = TYPES[extname(name)];
    // Only the bundle's own outputs (dashboard.js, dashboard.css and their maps).
    if (!type || !name.startsWith("dashboard.")) continue;
    const body = await readFile(new URL(name, dir));
    const hash = createHash("sha256").update(body).digest("hex").slice(0, 16);
    out.set(name, { name, body, type, hash });
  }
  return out;
}

export const IMMUTABLE = "public, max-age=31536000, immutable";
export const REVALIDATE = "no-cache";

/** Headers for an asset: long-lived when asked for by its current hash, else revalidated. */
export function assetHeaders(a: Asset, version: string | undefined): Record<string, string> {
  return {
    "content-type": a.type,
    "cache-control": version === a.hash ? IMMUTABLE : REVALIDATE,
    etag: `"${a.hash}"`,
    "x-content-type-options": "nosniff",
  };
}

/**
 * The page carries no data (every number comes from the token-checked API), so a reload after
 * the token left the address bar still loads it and then uses the token kept in the tab.
 * It sends no Referer anywhere and runs only its own script.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

const esc = (v: string): string => v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The page shell: empty panels the script fills in, and a one-line `summary` rendered on the
 * server (shown before the script runs; given only to a caller the token admits).
 */
export function dashboardPage(assets: AssetSet, version: string, summary = "Loading…"): string {
  const js = assets.get("dashboard.js");
  const css = assets.get("dashboard.css");
  const head = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Switchboard</title>
<link rel="icon" href="data:,">
${css ? `<link rel="stylesheet" href="/assets/dashboard.css?v=${css.hash}">` : ""}
${js ? `<script type="module" src="/assets/dashboard.js?v=${js.hash}"></script>` : ""}
</head>`;
  if (!js || !css) {
    return `${head}<body><main><h1>Switchboard ${esc(version)}</h1>
<p>The dashboard was not built. Run <code>npm run build</code> (it bundles src/dashboard into
dist/assets). The JSON API works without it: <code>/health</code>, <code>/api/ib/pool/status</code>,
<code>/openapi.json</code>.</p></main></body></html>`;
  }
  return `${head}<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <h1>Switchboard <small id="version">${esc(version)}</small></h1>
  <p id="summary" class="summary" aria-live="polite">${esc(summary)}</p>
</header>
<div id="banner" class="banner" role="alert" hidden></div>
<main id="main">
  <section aria-labelledby="h-lines"><h2 id="h-lines">Lines</h2><div id="lines" class="cards"></div></section>
  <section aria-labelledby="h-charts" class="wide"><h2 id="h-charts">Last hour</h2><div class="charts">
    <figure><figcaption id="c-rtt">Heartbeat round trip (ms)</figcaption><div id="chart-rtt" class="chart"></div></figure>
    <figure><figcaption id="c-rate">Requests per second</figcaption><div id="chart-rate" class="chart"></div></figure>
  </div></section>
  <section aria-labelledby="h-tenants" class="wide"><h2 id="h-tenants">Tenants</h2><div id="tenants"></div></section>
  <section aria-labelledby="h-groups" class="wide"><h2 id="h-groups">Shared subscriptions</h2><div id="groups"></div></section>
  <section aria-labelledby="h-leases"><h2 id="h-leases">Client-id leases</h2><div id="leases"></div></section>
  <section aria-labelledby="h-pacing"><h2 id="h-pacing">Pacing</h2><div id="pacing"></div></section>
  <section aria-labelledby="h-jobs" class="wide"><h2 id="h-jobs">History jobs</h2><div id="jobs"></div></section>
  <section aria-labelledby="h-events" class="wide"><h2 id="h-events">Events</h2><ol id="events" class="timeline"></ol></section>
</main>
</body></html>`;
}
