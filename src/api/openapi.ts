/**
 * /openapi.json, generated from the route table: the same zod schemas that validate each
 * request describe it (zod 4's z.toJSONSchema). Every JSON answer is wrapped in the envelope.
 *
 * One document: every named schema (zod `.meta({id})`) lives once under
 * `components.schemas` and is referenced from there — z.toJSONSchema puts named schemas in a
 * `$defs` beside each use, which no generator can resolve from an operation, so they are
 * hoisted and every `#/$defs/X` becomes `#/components/schemas/X`. openapi.test.ts validates
 * the document with a real OpenAPI 3.1 validator and compiles a client generated from it.
 */
import { z } from "zod";
import type { Route } from "./routes/spec.js";

type Json = Record<string, unknown>;

const errorSchema = z
  .object({
    success: z.literal(false),
    error: z.object({
      code: z.string().describe("stable string: invalid_argument, unauthorized, forbidden, not_found, …"),
      message: z.string(),
      ibCode: z.number().int().optional().describe("IB's error number, where there is one"),
      field: z.string().optional().describe("the offending parameter (400)"),
      reason: z
        .string()
        .optional()
        .describe("why, as a stable string: the line's last failure, identity_changed, client_id_held…"),
    }),
  })
  .meta({ id: "Error" });

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: "invalid_argument (with field)",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  413: "payload_too_large",
  415: "unsupported_media_type",
  409: "range_exhausted",
  429: "pacing_timeout (with Retry-After)",
  501: "not_implemented",
  503: "unhealthy / upstream_unavailable",
  504: "timeout",
};

const COMPONENT_REF = "#/components/schemas/";

/** Named schemas met while building one document, hoisted into components.schemas. */
class Components {
  readonly schemas: Record<string, Json> = {};

  /** The JSON Schema of `s` with its named parts moved to the components. */
  schema(s: z.ZodType, io: "input" | "output"): Json {
    const {
      $schema: _s,
      $defs,
      ...rest
    } = z.toJSONSchema(s, {
      io,
      unrepresentable: "any",
      target: "draft-2020-12",
    }) as Json & { $defs?: Record<string, Json> };
    for (const [name, def] of Object.entries($defs ?? {})) this.#add(name, relink(def) as Json);
    return relink(rest) as Json;
  }

  #add(name: string, def: Json): void {
    const seen = this.schemas[name];
    if (seen === undefined) {
      this.schemas[name] = def;
      return;
    }
    // Input and output forms of one schema may differ (defaults make fields optional on input):
    // keep both under distinct names rather than let one overwrite the other.
    if (JSON.stringify(seen) !== JSON.stringify(def))
      throw new Error(`openapi: two different schemas named ${name}`);
  }
}

/** `#/$defs/X` → `#/components/schemas/X`, everywhere in a schema. */
function relink(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(relink);
  if (typeof v !== "object" || v === null) return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v as Json)) {
    out[k] =
      k === "$ref" && typeof x === "string" && x.startsWith("#/$defs/")
        ? COMPONENT_REF + x.slice(8)
        : relink(x);
  }
  return out;
}

function parameters(r: Route, schema: Components["schema"]): Json[] {
  const out: Json[] = [];
  for (const [where, s] of [
    ["path", r.params],
    ["query", r.query],
  ] as const) {
    if (!s) continue;
    const js = schema(s, "input") as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, p] of Object.entries(js.properties ?? {})) {
      out.push({
        name,
        in: where,
        required: where === "path" || (js.required ?? []).includes(name),
        ...(typeof p.description === "string" ? { description: p.description } : {}),
        schema: p,
      });
    }
  }
  return out;
}

export function buildOpenApi(routes: readonly Route[], version: string): Json {
  const components = new Components();
  const schema = components.schema.bind(components);
  const errorRef = { $ref: `${COMPONENT_REF}Error` };
  schema(errorSchema, "output");
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z]+)/g, "{$1}");
    const ok =
      r.produces === "json"
        ? {
            description: "success",
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  properties: {
                    success: { const: true },
                    data: r.response ? schema(r.response, "output") : {},
                  },
                  required: ["success", "data"],
                },
              },
            },
          }
        : {
            description: "success",
            content: {
              [r.produces === "sse"
                ? "text/event-stream"
                : r.produces === "html"
                  ? "text/html"
                  : "text/plain"]: {
                schema: { type: "string" },
              },
            },
          };
    const responses: Record<string, Json> = { [String(r.status)]: ok };
    const statuses = new Set<number>(r.errors);
    if (r.auth !== "none") statuses.add(401).add(403);
    if (r.query || r.params || r.body) statuses.add(400);
    for (const st of [...statuses].sort()) {
      responses[String(st)] = {
        description: STATUS_TEXT[st] ?? "error",
        content: { "application/json": { schema: errorRef } },
      };
    }
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = {
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      tags: [r.tag],
      operationId: `${r.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c?: string) => (c ? c.toUpperCase() : ""))}`,
      ...(r.auth === "none" ? { security: [] } : {}),
      parameters: parameters(r, schema),
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: { "application/json": { schema: schema(r.body, "input") } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Switchboard daemon API",
      version,
      description:
        "Every JSON answer is {success:true, data} or {success:false, error:{code, message, ibCode?, field?}}.",
    },
    components: {
      schemas: components.schemas,
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
