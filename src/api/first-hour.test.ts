/**
 * The daemon's HTTP API as a new user meets it, against the real process: a data route on a
 * dead upstream answers 503 at once with the line's reason and Retry-After; bodies that are
 * too large, not JSON or carry unknown keys are refused with 413 / 415 / 400; the `proxy`
 * purpose is the daemon's own; configured purposes reach /api/ids/purposes and leases; a bad
 * `end` names the accepted format.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Proc, startProcess, until } from "../daemon/test-support/process.test-util.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sb-first-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Answer {
  status: number;
  headers: Headers;
  body: {
    success: boolean;
    data?: unknown;
    error?: { code: string; message: string; field?: string; reason?: string; ibCode?: number };
  };
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Answer["body"] };
}

describe("a data route on a dead upstream", () => {
  let daemon: Proc;
  beforeAll(async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const port = (s.address() as { port: number }).port;
    await new Promise((r) => s.close(r));
    daemon = await startProcess([
      "start",
      "--upstream",
      `127.0.0.1:${port}`,
      "--http-port",
      "0",
      "--proxy-port",
      "0",
      "--state-dir",
      dir,
    ]);
  });
  afterAll(async () => {
    await daemon?.stop();
  });

  it("answers 503 upstream_unavailable with the line's reason and Retry-After, not a 504 after the timeout", async () => {
    const base = String(daemon.ready.http);
    // /health knows the reason once the first connect failed.
    await until(async () => {
      const h = await call(`${base}/health`);
      const lines = (h.body.data as { lines: { reason: string }[] }).lines;
      return /ECONNREFUSED|refused/i.test(lines[0]?.reason ?? "") ? true : undefined;
    }, "the line's first failure");
    const r = await call(`${base}/api/contracts/qualify?symbol=AAPL&timeoutMs=120000`);
    expect(r.status).toBe(503);
    expect(r.body.error).toMatchObject({ code: "upstream_unavailable" });
    expect(r.body.error?.reason).toMatch(/ECONNREFUSED|refused/i);
    expect(r.body.error?.ibCode).toBeUndefined();
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });
});

describe("request bodies, purposes and parameters", () => {
  let daemon: Proc;
  let base: string;
  beforeAll(async () => {
    const config = join(dir, "purposes.yaml");
    writeFileSync(config, "purposes:\n  api: 1000-1999\n  backfill: {min: 2000, max: 2999}\n");
    daemon = await startProcess([
      "start",
      "--config",
      config,
      "--http-port",
      "0",
      "--proxy-port",
      "0",
      "--state-dir",
      join(dir, "state-b"),
    ]);
    base = String(daemon.ready.http);
  });
  afterAll(async () => {
    await daemon?.stop();
  });

  const json = (body: unknown): RequestInit => ({
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

  it("a 5 MB body is 413 payload_too_large", async () => {
    const r = await bigPost(
      `${base}/api/ids/lease`,
      JSON.stringify({ purpose: "api", owner: "x".repeat(5_000_000) }),
    );
    expect(r.status).toBe(413);
    expect(r.body.error?.code).toBe("payload_too_large");
  });

  it("a form body is 415 unsupported_media_type", async () => {
    const r = await call(`${base}/api/ids/lease`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "purpose=api&owner=me",
    });
    expect(r.status).toBe(415);
    expect(r.body.error?.code).toBe("unsupported_media_type");
  });

  it("an unknown JSON key is 400 naming it and the accepted keys", async () => {
    const r = await call(`${base}/api/ids/lease`, json({ purpose: "api", owner: "me", ttl: 5000 }));
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: "invalid_argument", field: "body.ttl" });
    expect(r.body.error?.message).toContain("ttlMs");
  });

  it("the proxy purpose cannot be leased over HTTP", async () => {
    const r = await call(`${base}/api/ids/lease`, json({ purpose: "proxy", owner: "me" }));
    expect(r.status).toBe(403);
    expect(r.body.error).toMatchObject({ code: "forbidden", field: "purpose" });
  });

  it("configured purposes are served and leased from their ranges", async () => {
    const p = await call(`${base}/api/ids/purposes`);
    expect(p.status).toBe(200);
    const rows = p.body.data as { name: string; min: number; max: number }[];
    expect(rows).toContainEqual(expect.objectContaining({ name: "api", min: 1000, max: 1999 }));
    expect(rows).toContainEqual(expect.objectContaining({ name: "backfill", min: 2000, max: 2999 }));
    expect(rows).toContainEqual(expect.objectContaining({ name: "proxy" }));
    const l = await call(`${base}/api/ids/lease`, json({ purpose: "backfill", owner: "me" }));
    expect(l.status).toBe(200);
    expect((l.body.data as { clientId: number }).clientId).toBe(2000);
  });

  it("end=yesterday names the accepted format", async () => {
    const r = await call(`${base}/api/history?symbol=AAPL&end=yesterday`);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: "invalid_argument", field: "end" });
    expect(r.body.error?.message).toContain("2026-05-01T16:00:00Z");
  });
});

/**
 * POST a 5 MB body the way a client streams it: the headers announce its size, the first
 * 64 KiB follow, and the answer is read as soon as it comes — the server answers 413 and
 * closes without reading the rest (writing all of it would race that close).
 */
function bigPost(url: string, body: string): Promise<{ status: number; body: Answer["body"] }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        let text = "";
        res.on("data", (b: Buffer) => {
          text += b.toString();
        });
        res.on("end", () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Answer["body"] });
        });
      },
    );
    req.on("error", (err) => {
      const code = (err as { code?: string }).code;
      if (code !== "EPIPE" && code !== "ECONNRESET") reject(err);
    });
    req.write(body.slice(0, 65_536));
  });
}
