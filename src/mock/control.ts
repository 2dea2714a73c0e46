/**
 * The mock's control API: HTTP + JSON on a loopback port, answers shaped like the daemon's
 * (`{success, data}` / `{success:false, error:{code, message}}`). Routes as interfaces.md
 * lists them: /state and /faults/{drop,down,stall,error,latency,clear,restart}.
 */
import { isLoopbackRequest } from "../access/allow-list.js";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { z } from "zod";
import type { MockGateway, MockPlugin } from "./gateway.js";

const MAX_BODY_BYTES = 64 * 1024;
const ms = z.number().int().min(0).max(86_400_000);

const schemas = {
  drop: z.object({ clientId: z.number().int().optional() }),
  down: z.object({ ms }),
  stall: z.object({ ms }),
  latency: z.object({ ms }),
  restart: z.object({ ms }),
  error: z.object({
    code: z.number().int(),
    message: z.string().optional(),
    reqId: z.number().int().optional(),
    clientId: z.number().int().optional(),
  }),
  clear: z.object({}).passthrough(),
};

type Answer = { status: number; body: unknown };

function ok(data: unknown): Answer {
  return { status: 200, body: { success: true, data } };
}
function fail(status: number, code: string, message: string, field?: string): Answer {
  return { status, body: { success: false, error: { code, message, ...(field ? { field } : {}) } } };
}

export class ControlServer implements MockPlugin {
  readonly #host: string;
  readonly #port: number;
  #server: Server | undefined;
  #gw: MockGateway | undefined;

  constructor(host: string, port: number) {
    this.#host = host;
    this.#port = port;
  }

  async start(gw: MockGateway): Promise<void> {
    this.#gw = gw;
    const server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: this.#host, port: this.#port }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.#server = server;
    const addr = server.address();
    gw.controlPort = typeof addr === "object" && addr ? addr.port : this.#port;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let answer: Answer;
    try {
      answer = await this.#route(req);
    } catch (err) {
      answer = fail(500, "internal", err instanceof Error ? err.message : String(err));
    }
    const text = JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(text),
    });
    res.end(text);
  }

  async #route(req: IncomingMessage): Promise<Answer> {
    const gw = this.#gw;
    if (!gw) return fail(503, "unhealthy", "mock gateway not started");
    if (!isLoopbackRequest(req.headers.host, req.headers.origin)) {
      return fail(403, "forbidden", "the control API answers loopback clients only (Host / Origin)");
    }
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (req.method === "GET" && (path === "/state" || path === "/")) return ok(gw.snapshot());
    const m = /^\/faults\/(drop|down|stall|error|latency|clear|restart)$/.exec(path);
    if (!m) return fail(404, "not_found", `no route ${req.method} ${path}`);
    if (req.method !== "POST") return fail(405, "invalid_argument", `use POST for ${path}`);
    const name = m[1] as keyof typeof schemas;
    const raw = await readBody(req);
    let json: unknown = {};
    if (raw.trim()) {
      try {
        json = JSON.parse(raw);
      } catch {
        return fail(400, "invalid_argument", "body is not JSON", "body");
      }
    }
    const parsed = schemas[name].safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join(".") || "body";
      return fail(400, "invalid_argument", `${field}: ${issue?.message ?? "invalid"}`, field);
    }
    const body = parsed.data as Record<string, number | string | undefined>;
    switch (name) {
      case "drop":
        return ok({ dropped: gw.drop(body.clientId as number | undefined) });
      case "down":
        await gw.down(body.ms as number);
        return ok({ downForMs: body.ms });
      case "stall":
        gw.stall(body.ms as number);
        return ok({ stalledForMs: body.ms });
      case "latency":
        gw.latency(body.ms as number);
        return ok({ latencyMs: body.ms });
      case "error":
        return ok({
          sent: gw.injectError({
            code: body.code as number,
            ...(body.message === undefined ? {} : { message: body.message as string }),
            ...(body.reqId === undefined ? {} : { reqId: body.reqId as number }),
            ...(body.clientId === undefined ? {} : { clientId: body.clientId as number }),
          }),
        });
      case "clear":
        await gw.clearFaults();
        return ok({ cleared: true });
      case "restart":
        await gw.restart(body.ms as number);
        return ok({ restartMs: body.ms });
    }
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error("body too large"));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
