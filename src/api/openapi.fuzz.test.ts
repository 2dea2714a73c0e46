/**
 * The HTTP API fuzzed from its own OpenAPI document (fast-check): for every operation, requests
 * built from the declared parameters and bodies — valid values, values just outside the
 * schema, and junk — sent to a running daemon over HTTP. Whatever arrives, the daemon never
 * answers 500, and every JSON answer is in the contract's envelope: `{success: true, data}` with
 * a 2xx, `{success: false, error: {code, message}}` otherwise.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Proc, startProcess } from "../daemon/test-support/process.test-util.js";

type Json = Record<string, unknown>;
interface Param {
  name: string;
  in: "query" | "path" | "header";
  schema?: Json;
}
interface Operation {
  method: string;
  path: string;
  params: Param[];
  body: Json | undefined;
}

let dir: string;
let daemon: Proc;
let base: string;
let ops: Operation[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sb-fuzz-"));
  daemon = await startProcess([
    "start",
    "--http-port",
    "0",
    "--proxy-port",
    "0",
    "--state-dir",
    dir,
    "--log-level",
    "error",
  ]);
  base = String(daemon.ready.http);
  const doc = (await (await fetch(`${base}/openapi.json`)).json()) as Json;
  const schemas = (doc.components as { schemas?: Json } | undefined)?.schemas ?? {};
  const deref = (s: Json | undefined): Json | undefined =>
    typeof s?.["$ref"] === "string" ? (schemas[(s["$ref"] as string).split("/").pop()!] as Json) : s;
  ops = [];
  for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
    // A stream that never ends is not a request/answer route.
    if (path === "/events") continue;
    for (const [method, op] of Object.entries(methods)) {
      const content = (op.requestBody as { content?: Record<string, { schema?: Json }> } | undefined)
        ?.content;
      ops.push({
        method: method.toUpperCase(),
        path,
        params: ((op.parameters as Param[] | undefined) ?? []).map((p) => ({
          ...p,
          schema: deref(p.schema),
        })),
        body: deref(content?.["application/json"]?.schema),
      });
    }
  }
});
afterAll(async () => {
  await daemon?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const junk = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    "",
    " ",
    "-1",
    "1e999",
    "NaN",
    "null",
    "%",
    "../../etc/passwd",
    "AAPL\u0000",
    "ü".repeat(50),
  ),
);

/** Values the API's own docs use, for fields whose schema is a free string checked in code. */
const EXAMPLES: Record<string, string[]> = {
  symbol: ["AAPL", "MSFT", "SPY", "NOSUCHSYM", "ES"],
  bar: ["1 min", "5 mins", "1 hour", "1 day", "1min"],
  duration: ["1 D", "2 D", "1 W", "3600 S"],
  end: ["2026-11-16", "2026-11-16T20:00:00Z", "2026-11-16T12:00:00-05:00"],
  purpose: ["ui", "workers", "checks", "proxy", "nosuch"],
  secType: ["STK", "STK", "STK", "FUT", "CASH"],
  exchange: ["SMART"],
  currency: ["USD"],
};

/**
 * A value for a schema: valid, or (when `wild`) also at or past its bounds, or junk. Half of
 * the requests are built valid only, so the routes' success paths are fuzzed too.
 */
function valueOf(schema: Json | undefined, field: string, wild: boolean): fc.Arbitrary<unknown> {
  const s = schema ?? {};
  const or = (valid: fc.Arbitrary<unknown>, bad: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
    wild ? fc.oneof(valid, bad) : valid;
  if (EXAMPLES[field] && s.type === "string") return or(fc.constantFrom(...EXAMPLES[field]), junk);
  if (Array.isArray(s.enum)) return or(fc.constantFrom(...(s.enum as unknown[])), junk);
  switch (s.type) {
    case "integer":
    case "number": {
      // Timeouts stay short so a valid request cannot hold the run.
      const max = /timeout/i.test(field) ? 2_000 : Math.min(Number(s.maximum ?? 1e6), 1e6);
      const min = Math.max(Number(s.minimum ?? -1e6), -1e6);
      return or(fc.integer({ min, max }), fc.oneof(fc.constantFrom(min - 1, max + 1, 0.5, -0), junk));
    }
    case "boolean":
      return or(fc.boolean(), junk);
    case "string": {
      const valid =
        typeof s.pattern === "string"
          ? fc.stringMatching(new RegExp(s.pattern as string), { maxLength: 32 })
          : fc.string({ minLength: Number(s.minLength ?? 0), maxLength: 20 });
      return or(valid, junk);
    }
    case "object":
      return objectOf(s, wild);
    case "array":
      return fc.array(valueOf(s.items as Json | undefined, field, wild), { maxLength: 3 });
    default:
      return fc.oneof(junk, fc.integer(), fc.boolean(), fc.constant(null));
  }
}

function objectOf(s: Json, wild: boolean): fc.Arbitrary<Json> {
  const props = (s.properties as Record<string, Json> | undefined) ?? {};
  const record = fc.record(
    Object.fromEntries(Object.entries(props).map(([k, v]) => [k, valueOf(v, k, wild)])),
    { requiredKeys: wild ? [] : ((s.required as string[] | undefined) ?? []) },
  ) as fc.Arbitrary<Json>;
  return wild
    ? fc.oneof(
        record,
        record.map((r) => ({ ...r, unexpectedKey: 1 })),
      )
    : record;
}

interface Request {
  url: string;
  method: string;
  body: string | undefined;
  contentType: string | undefined;
}

function requestOf(op: Operation, wild: boolean): fc.Arbitrary<Request> {
  const params = fc.tuple(
    ...op.params.map((p) =>
      fc.option(valueOf(p.schema, p.name, wild), { nil: undefined, freq: p.in === "path" ? 100 : 3 }),
    ),
  );
  const json = (b: Json): { text: string; type: string } => ({
    text: JSON.stringify(b),
    type: "application/json",
  });
  const body: fc.Arbitrary<{ text: string | undefined; type: string | undefined }> = !op.body
    ? fc.constant({ text: undefined, type: undefined })
    : !wild
      ? objectOf(op.body, false).map(json)
      : fc.oneof(
          { weight: 6, arbitrary: objectOf(op.body, true).map(json) },
          {
            weight: 1,
            arbitrary: fc
              .constantFrom("{", "[]", '"x"', "null")
              .map((t) => ({ text: t, type: "application/json" })),
          },
          {
            weight: 1,
            arbitrary: fc.constant({ text: "purpose=ui", type: "application/x-www-form-urlencoded" }),
          },
        );
  return fc.tuple(params, body).map(([values, b]) => {
    let path = op.path;
    const query = new URLSearchParams();
    op.params.forEach((p, i) => {
      const v = values[i];
      if (p.in === "path") path = path.replace(`{${p.name}}`, encodeURIComponent(String(v ?? "x")));
      else if (p.in === "query" && v !== undefined) query.set(p.name, String(v));
    });
    const qs = query.toString();
    return {
      url: `${base}${path}${qs ? `?${qs}` : ""}`,
      method: op.method,
      body: b.text,
      contentType: b.type,
    };
  });
}

describe("the HTTP API under generated requests", () => {
  it("never answers 500, and every JSON answer is in the contract's envelope", async () => {
    const arb = fc.tuple(fc.constantFrom(...ops), fc.boolean()).chain(([op, wild]) => requestOf(op, wild));
    await fc.assert(
      fc.asyncProperty(arb, async (r) => {
        const res = await fetch(r.url, {
          method: r.method,
          ...(r.body === undefined ? {} : { body: r.body }),
          headers: r.contentType ? { "content-type": r.contentType } : {},
          signal: AbortSignal.timeout(15_000),
        });
        const text = await res.text();
        expect(res.status, `${r.method} ${r.url} ${r.body ?? ""}: ${text.slice(0, 300)}`).not.toBe(500);
        expect(res.status).toBeLessThan(600);
        if (!(res.headers.get("content-type") ?? "").includes("application/json")) return;
        const body = JSON.parse(text) as Json;
        if (r.url.includes("/openapi.json")) return;
        const where = `${r.method} ${r.url} → ${res.status} ${text.slice(0, 300)}`;
        expect(typeof body.success, where).toBe("boolean");
        if (res.status < 300) expect(body.success, where).toBe(true);
        else {
          expect(body.success, where).toBe(false);
          const e = body.error as Json | undefined;
          expect(typeof e?.code, where).toBe("string");
          expect(typeof e?.message, where).toBe("string");
        }
      }),
      { numRuns: 300, seed: 20261207, endOnFailure: true },
    );
  }, 180_000);
});
