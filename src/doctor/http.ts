/** A tiny GET-JSON helper with a clock-driven deadline, for /health and the mock's /state. */
import type { Clock } from "../clock.js";

export type HttpAnswer =
  | { kind: "refused" }
  | { kind: "timeout" }
  | { kind: "answer"; status: number; body: unknown }
  | { kind: "error"; detail: string };

const MAX_BODY_CHARS = 1 << 20;

export async function getJson(url: string, timeoutMs: number, clock: Clock): Promise<HttpAnswer> {
  const abort = new AbortController();
  const timer = clock.setTimeout(() => abort.abort(), timeoutMs);
  try {
    const res = await fetch(url, { signal: abort.signal, headers: { accept: "application/json" } });
    const text = (await res.text()).slice(0, MAX_BODY_CHARS);
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: keep the text, the caller decides what a non-JSON answer means.
    }
    return { kind: "answer", status: res.status, body };
  } catch (err) {
    if (abort.signal.aborted) return { kind: "timeout" };
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code === "ECONNREFUSED") return { kind: "refused" };
    return { kind: "error", detail: code ?? (err instanceof Error ? err.message : String(err)) };
  } finally {
    clock.clearTimeout(timer);
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
