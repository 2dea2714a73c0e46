/**
 * /openapi.json of a running daemon is one valid OpenAPI 3.1 document: a real validator
 * (@seriousme/openapi-schema-validator, the official 3.1 JSON Schema) accepts it, every $ref
 * resolves inside it, and a typed client generated from it with openapi-typescript compiles
 * with strict TypeScript — including a mistake the types must catch.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Proc, startProcess } from "../daemon/test-support/process.test-util.js";

type Json = Record<string, unknown>;

let dir: string;
let daemon: Proc;
let doc: Json;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sb-openapi-"));
  daemon = await startProcess(["start", "--http-port", "0", "--proxy-port", "0", "--state-dir", dir]);
  doc = (await (await fetch(`${String(daemon.ready.http)}/openapi.json`)).json()) as Json;
});
afterAll(async () => {
  await daemon?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Every `$ref` in the document, with where it sits. */
function refs(v: unknown, at = "#"): [string, string][] {
  if (Array.isArray(v)) return v.flatMap((x, i) => refs(x, `${at}/${i}`));
  if (typeof v !== "object" || v === null) return [];
  return Object.entries(v as Json).flatMap(([k, x]) =>
    k === "$ref" && typeof x === "string" ? [[at, x] as [string, string]] : refs(x, `${at}/${k}`),
  );
}

function resolve(pointer: string): unknown {
  let node: unknown = doc;
  for (const part of pointer.replace(/^#\//, "").split("/")) {
    node = (node as Json | undefined)?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  return node;
}

describe("/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    expect(doc.openapi).toBe("3.1.0");
    const result = await new Validator().validate(doc as unknown as Parameters<Validator["validate"]>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("keeps named schemas once, in components, and every $ref resolves", () => {
    const schemas = (doc.components as { schemas: Json }).schemas;
    for (const name of ["Error", "Health", "Bar", "Contract", "Quote", "Lease", "Purpose"]) {
      expect(schemas[name], name).toBeDefined();
    }
    const all = refs(doc);
    expect(all.length).toBeGreaterThan(10);
    for (const [at, ref] of all) {
      expect(ref.startsWith("#/components/"), `${at}: ${ref}`).toBe(true);
      expect(resolve(ref), `${at}: ${ref}`).toBeDefined();
    }
  });

  it("generates a typed client with openapi-typescript that compiles, and catches a wrong type", async () => {
    const types = astToString(await openapiTS(doc as unknown as Parameters<typeof openapiTS>[0]));
    writeFileSync(join(dir, "api.ts"), types);
    writeFileSync(
      join(dir, "client.ts"),
      [
        'import type { components, paths } from "./api";',
        'type HealthAnswer = paths["/health"]["get"]["responses"][200]["content"]["application/json"];',
        "export const health: HealthAnswer = {",
        "  success: true,",
        '  data: { status: "healthy", upstream: "mock", lines: [] },',
        "};",
        'export type Bar = components["schemas"]["Bar"];',
        'export const bar: Bar = { time: "2026-03-04T14:30:00.000Z", open: 1, high: 2, low: 0.5, close: 1.5, volume: 100, wap: 1.2, count: 7 };',
        'type HistoryQuery = NonNullable<paths["/api/history"]["get"]["parameters"]["query"]>;',
        'export const q: HistoryQuery = { symbol: "AAPL", bar: "1 min", timeoutMs: 5000 };',
        'export type Failure = components["schemas"]["Error"];',
        'export const f: Failure = { success: false, error: { code: "upstream_unavailable", message: "down", reason: "ECONNREFUSED" } };',
        "// @ts-expect-error volume is a number in the API",
        'export const wrong: Bar = { ...bar, volume: "100" };',
      ].join("\n"),
    );
    const program = ts.createProgram([join(dir, "client.ts")], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      skipLibCheck: true,
    });
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    expect(diagnostics).toEqual([]);
  }, 180_000);
});
