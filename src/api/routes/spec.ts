/**
 * Routes as data: method, URL, auth, zod schemas for query / params / body / answer, and a
 * handler. The server registers them, parses input with the same schemas, and openapi.ts
 * turns them into /openapi.json: one source for validation and documentation.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { InvalidArgumentError } from "../../errors.js";

export type Auth = "none" | "token" | "token-or-query";
export type Produces = "json" | "text" | "sse" | "html";

/** Returned by handlers that wrote the reply themselves (SSE, text, 503 with data). */
export const HANDLED: unique symbol = Symbol("handled");

export interface RouteInput<Q, P, B> {
  query: Q;
  params: P;
  body: B;
  request: FastifyRequest;
  reply: FastifyReply;
}

interface RouteDef<Q extends z.ZodType, P extends z.ZodType, B extends z.ZodType> {
  method: "GET" | "POST" | "DELETE";
  url: string;
  summary: string;
  description?: string;
  tag: string;
  auth: Auth;
  produces?: Produces;
  query?: Q;
  params?: P;
  body?: B;
  /** Schema of `data` in a success answer. */
  response?: z.ZodType;
  /** Extra statuses this route answers, for the OpenAPI document. */
  errors?: readonly number[];
  /** Status of a success answer (default 200; 202 for work accepted to run later). */
  status?: 200 | 201 | 202;
  handler(input: RouteInput<z.output<Q>, z.output<P>, z.output<B>>): Promise<unknown>;
}

/** A route with its types erased after parsing, as the server and OpenAPI see it. */
export interface Route {
  method: "GET" | "POST" | "DELETE";
  url: string;
  summary: string;
  description: string | undefined;
  tag: string;
  auth: Auth;
  produces: Produces;
  query: z.ZodType | undefined;
  params: z.ZodType | undefined;
  body: z.ZodType | undefined;
  response: z.ZodType | undefined;
  errors: readonly number[];
  status: 200 | 201 | 202;
  run(request: FastifyRequest, reply: FastifyReply): Promise<unknown>;
}

export function route<
  Q extends z.ZodType = z.ZodObject,
  P extends z.ZodType = z.ZodObject,
  B extends z.ZodType = z.ZodObject,
>(def: RouteDef<Q, P, B>): Route {
  const strict = def.body === undefined ? undefined : strictBody(def.body);
  return {
    method: def.method,
    url: def.url,
    summary: def.summary,
    description: def.description,
    tag: def.tag,
    auth: def.auth,
    produces: def.produces ?? "json",
    query: def.query,
    params: def.params,
    body: strict,
    response: def.response,
    errors: def.errors ?? [],
    status: def.status ?? 200,
    run: (request, reply) =>
      def.handler({
        query: parse(def.query, request.query ?? {}, "query") as z.output<Q>,
        params: parse(def.params, request.params ?? {}, "params") as z.output<P>,
        body: parse(strict, request.body ?? {}, "body") as z.output<B>,
        request,
        reply,
      }),
  };
}

function parse(schema: z.ZodType | undefined, value: unknown, where: string): unknown {
  if (!schema) return value;
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  if (issue.code === "unrecognized_keys") {
    const obj = schema instanceof z.ZodOptional ? schema.unwrap() : schema;
    const accepted = obj instanceof z.ZodObject ? Object.keys(obj.shape as object) : [];
    const field = [where, ...issue.path.map(String), issue.keys[0]!].join(".");
    throw new InvalidArgumentError(
      field,
      `${where}: unknown key "${issue.keys[0]!}"; accepted: ${accepted.join(", ") || "none"}`,
    );
  }
  const field = issue.path.length > 0 ? issue.path.map(String).join(".") : where;
  let given: unknown = value;
  for (const p of issue.path) given = (given as Record<PropertyKey, unknown> | undefined)?.[p];
  const text = given === undefined && issue.code === "invalid_type" ? "is required" : issue.message;
  throw new InvalidArgumentError(field, `${field}: ${text}`);
}

/** Query booleans: true/false/1/0. */
export const queryBool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");

/**
 * A JSON body with a key the route does not know is refused (400 naming the key): a typo
 * such as `ttl` for `ttlMs` must not be dropped silently.
 */
function strictBody(schema: z.ZodType): z.ZodType {
  if (schema instanceof z.ZodObject) return schema.strict();
  if (schema instanceof z.ZodOptional && schema.unwrap() instanceof z.ZodObject) {
    return (schema.unwrap() as z.ZodObject).strict().optional();
  }
  return schema;
}
