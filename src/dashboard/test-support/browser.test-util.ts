/**
 * Debian's chromium under playwright-core for the dashboard tests: never a downloaded browser.
 * A missing chromium is a failure with the command that installs it (scripts/test.sh does),
 * not a skipped test. Each page records console errors and uncaught page errors.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/** One browser with a fresh profile; each test opens its own tab (its own sessionStorage). */
export interface Chrome {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Chrome> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; scripts/test.sh does)`,
    );
  }
  const profile = await mkdtemp(join(tmpdir(), "sb-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    timeout: 30_000,
    viewport: { width: 1280, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export interface WatchedPage {
  readonly page: Page;
  /** Console messages of level "error" and uncaught exceptions, as text. */
  readonly errors: string[];
}

export async function openPage(
  chrome: Chrome,
  colorScheme: "light" | "dark" = "light",
): Promise<WatchedPage> {
  const page = await chrome.context.newPage();
  await page.emulateMedia({ colorScheme });
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on("pageerror", (e) => errors.push(`page: ${e.message}`));
  return { page, errors };
}

/** Text of a line card's state badge. */
export function lineState(page: Page, line = "default"): Promise<string | null> {
  return page.locator(`[data-line="${line}"] .state`).textContent();
}

/** Wait (bounded) until the card of `line` shows `state`. */
export async function waitForLineState(
  page: Page,
  state: string,
  timeout = 15_000,
  line = "default",
): Promise<void> {
  await page.waitForFunction(
    ([l, s]) => document.querySelector(`[data-line="${l}"] .state`)?.textContent === s,
    [line, state] as const,
    { timeout, polling: 50 },
  );
}
