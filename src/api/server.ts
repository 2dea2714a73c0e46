/**
 * The daemon's HTTP API on fastify: access checks, the route table, one answer shape for
 * every outcome (including fastify's own 404s and body errors), and a close() that ends
 * open SSE streams before the listener goes.
 */
import { isLoopbackHost, isLoopbackRequest } from "../access/allow-list.js";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Clock } from "../clock.js";
import { ClosedError, InvalidArgumentError } from "../errors.js";
import type { Logger } from "../logger.js";
import { AccessControl } from "./auth.js";
import { errorAnswer, failure, ok } from "./envelope.js";
import { createMetrics, type DaemonMetrics } from "./metrics.js";
import { buildOpenApi } from "./openapi.js";
import { PoolHistory } from "./pool-history.js";
import type { RouteContext } from "./routes/context.js";
import { dashboardRoutes } from "./routes/dashboard.js";
import { dataRoutes } from "./routes/data.js";
import { healthRoutes } from "./routes/health.js";
import { historyJobRoutes } from "./routes/history-jobs.js";
import { idsRoutes } from "./routes/ids.js";
import { metaRoutes } from "./routes/meta.js";
import { paceRoutes } from "./routes/pace.js";
import { HANDLED, type Route } from "./routes/spec.js";
import type { DaemonView } from "./view.js";

/** Bodies are small JSON objects (lease requests); anything larger is a mistake or an attack. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface ApiServerOptions {
  host: string;
  port: number;
  token: string | undefined;
  allow: readonly string[];
  clock: Clock;
  logger: Logger;
  version: string;
}

export type ApiServerState = "idle" | "listening" | "closing" | "closed";

export class ApiServer implements AsyncDisposable {
  readonly #o: ApiServerOptions;
  readonly #app: FastifyInstance;
  readonly #metrics: DaemonMetrics;
  readonly #closing = new AbortController();
  readonly #routes: Route[];
  #state: ApiServerState = "idle";
  #port = 0;

  constructor(view: DaemonView, options: ApiServerOptions) {
    this.#o = options;
    this.#metrics = createMetrics(view);
    const access = new AccessControl({ token: options.token, allow: options.allow });
    const ctx: RouteContext = {
      view,
      metrics: this.#metrics,
      clock: options.clock,
      access,
      closing: this.#closing.signal,
    };
    const history = new PoolHistory(view, { clock: options.clock, closing: this.#closing.signal });
    let openapi: Record<string, unknown> | undefined;
    this.#routes = [
      ...healthRoutes(ctx),
      ...paceRoutes(ctx),
      ...idsRoutes(ctx),
      ...dataRoutes(ctx),
      ...historyJobRoutes(ctx),
      ...dashboardRoutes(ctx, history, options.version),
      ...metaRoutes(ctx, () => {
        openapi ??= buildOpenApi(this.#routes, options.version);
        return openapi;
      }),
    ];
    this.#app = this.#build(access);
  }

  get state(): ApiServerState {
    return this.#state;
  }
  get port(): number {
    return this.#port;
  }
  get routes(): readonly Route[] {
    return this.#routes;
  }
  get url(): string {
    const h = this.#o.host.includes(":") ? `[${this.#o.host}]` : this.#o.host;
    return `http://${h}:${this.#port}`;
  }

  async listen(): Promise<{ port: number; url: string }> {
    if (this.#state !== "idle") throw new ClosedError("api server (already started)");
    await this.#app.listen({ host: this.#o.host, port: this.#o.port });
    const addr = this.#app.server.address();
    this.#port = typeof addr === "object" && addr ? addr.port : this.#o.port;
    this.#transition("listening");
    return { port: this.#port, url: this.url };
  }

  /** End SSE streams and in-flight data calls, then stop listening. */
  async close(): Promise<void> {
    if (this.#state === "closed" || this.#state === "closing") return;
    this.#transition("closing");
    this.#closing.abort(new ClosedError("api server"));
    this.#metrics.close();
    await this.#app.close();
    this.#transition("closed");
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #transition(to: ApiServerState): void {
    this.#o.logger.debug({ from: this.#state, to }, "api server state");
    this.#state = to;
  }

  #build(access: AccessControl): FastifyInstance {
    const app: FastifyInstance = Fastify({
      loggerInstance: this.#o.logger as FastifyBaseLogger,
      // Log transitions, not every request (a scrape every second would flood the log).
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: MAX_BODY_BYTES,
      // SSE streams stay open; close() ends them through the abort signal.
      forceCloseConnections: true,
    });
    const authOf = new Map<string, Route["auth"]>();
    for (const r of this.#routes) authOf.set(`${r.method} ${r.url}`, r.auth);

    const loopbackBind = isLoopbackHost(this.#o.host);
    app.addHook("onRequest", async (request, reply) => {
      if (loopbackBind && !isLoopbackRequest(request.headers.host, request.headers.origin)) {
        // A loopback-only API is not for web pages of other sites (DNS rebinding, cross-site forms).
        const body = failure(403, {
          code: "forbidden",
          message: "loopback API: foreign Host or Origin",
        }).body;
        await reply.code(403).send(body);
        return;
      }
      const auth = authOf.get(`${request.method} ${request.routeOptions.url ?? ""}`) ?? "token";
      const v = access.check(
        auth,
        request.socket.remoteAddress,
        request.headers.authorization,
        (request.query as Record<string, unknown> | undefined)?.token,
      );
      if (v.ok) return;
      if (v.status === 401) reply.header("www-authenticate", 'Bearer realm="switchboard"');
      await reply.code(v.status).send(failure(v.status, { code: v.code, message: v.message }).body);
    });

    for (const r of this.#routes) {
      app.route({
        method: r.method,
        url: r.url,
        handler: async (request, reply) => {
          const data = await r.run(request, reply);
          if (data === HANDLED) return reply;
          return reply.code(r.status).send(ok(data));
        },
      });
    }

    app.setNotFoundHandler(async (request, reply) =>
      reply.code(404).send(
        failure(404, {
          code: "not_found",
          message: `no route ${request.method} ${request.url.split("?")[0]}`,
        }).body,
      ),
    );
    app.setErrorHandler(async (err, request, reply) => {
      // Fastify's own validation of the request (bad JSON, too large, wrong content type).
      const fst = (err as { code?: string; statusCode?: number }).code;
      const answer =
        fst === "FST_ERR_CTP_BODY_TOO_LARGE"
          ? failure(413, {
              code: "payload_too_large",
              message: `body larger than ${MAX_BODY_BYTES} bytes; bodies are small JSON objects`,
            })
          : fst === "FST_ERR_CTP_INVALID_MEDIA_TYPE"
            ? failure(415, {
                code: "unsupported_media_type",
                message: `content-type ${request.headers["content-type"] ?? "(none)"} is not accepted; send application/json`,
              })
            : typeof fst === "string" && fst.startsWith("FST_")
              ? errorAnswer(new InvalidArgumentError("body", `body: ${(err as Error).message}`))
              : errorAnswer(err);
      if (answer.status >= 500) this.#o.logger.error({ err, url: request.url }, "request failed");
      if (reply.sent || reply.raw.headersSent) return;
      await reply.code(answer.status).headers(answer.headers).send(answer.body);
    });
    return app;
  }
}
