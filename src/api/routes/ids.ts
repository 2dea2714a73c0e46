/**
 * /api/ids: client-id leases over the daemon's registry (the same file store the CLI uses,
 * or Redis). Tokens are shown only to whoever took or renewed the lease, never in listings
 * or events.
 */
import { z } from "zod";
import { DAEMON_LEASE_PURPOSE } from "../../daemon/client-ids.js";
import { SwitchboardError } from "../../errors.js";
import { publicLease } from "../../registry/policy.js";
import type { RouteContext } from "./context.js";
import { queryBool, type Route, route } from "./spec.js";

export const leaseSchema = z
  .object({
    clientId: z.number().int(),
    purpose: z.string(),
    owner: z.string(),
    token: z.string().describe("secret for renew/release; only in answers to lease and renew"),
    expiresAt: z.number().describe("ms since the epoch"),
    leasedAt: z.number(),
    host: z.string(),
    pid: z.number().int().nullable(),
    upstream: z.string(),
  })
  .meta({ id: "Lease" });

const publicLeaseSchema = leaseSchema
  .omit({ token: true })
  .extend({ ageMs: z.number() })
  .meta({ id: "PublicLease" });
const purposeSchema = z
  .object({
    name: z.string(),
    min: z.number().int(),
    max: z.number().int(),
    size: z.number().int(),
    leased: z.number().int().describe("leases of this purpose, over every upstream"),
  })
  .meta({ id: "Purpose" });
const clientIdParam = z.object({ clientId: z.coerce.number().int().min(0).max(2_147_483_647) });
const upstream = z.string().min(1).max(200).optional();

export function idsRoutes(ctx: RouteContext): Route[] {
  const reg = () => ctx.view.registry;
  return [
    route({
      method: "GET",
      url: "/api/ids",
      tag: "ids",
      summary: "Current leases (tokens left out), optionally for one upstream or purpose",
      auth: "token",
      query: z.object({ upstream, purpose: z.string().optional() }),
      response: z.array(publicLeaseSchema),
      async handler({ query }) {
        const leases = await reg().list(query.upstream === undefined ? {} : { upstream: query.upstream });
        return leases
          .filter((l) => query.purpose === undefined || l.purpose === query.purpose)
          .map((l) => ({ ...publicLease(l), ageMs: l.ageMs }));
      },
    }),
    route({
      method: "GET",
      url: "/api/ids/purposes",
      tag: "ids",
      summary: "Client-id purposes: each one's range and how many of its ids are leased",
      auth: "token",
      response: z.array(purposeSchema),
      async handler() {
        const leases = await reg().list();
        return reg().purposes.map((p) => ({
          name: p.name,
          min: p.min,
          max: p.max,
          size: p.size,
          leased: leases.filter((l) => l.purpose === p.name).length,
        }));
      },
    }),
    route({
      method: "POST",
      url: "/api/ids/lease",
      tag: "ids",
      summary: "Lease a free client id of a purpose",
      auth: "token",
      body: z.object({
        purpose: z.string().min(1),
        owner: z.string().min(1).max(200),
        ttlMs: z.number().int().min(1).optional(),
        pid: z.number().int().min(1).optional(),
        clientId: z
          .number()
          .int()
          .min(0)
          .optional()
          .describe("lease this id of the purpose's range, no other"),
        upstream,
      }),
      response: leaseSchema,
      errors: [400, 403, 409],
      async handler({ body }) {
        if (body.purpose === DAEMON_LEASE_PURPOSE) {
          // The daemon's lines take their client ids from this range: an HTTP lease there could
          // take the id a line needs after a restart (and its live orders).
          throw new SwitchboardError(
            "forbidden",
            `purpose "${DAEMON_LEASE_PURPOSE}" is the daemon's own range (its lines' client ids); lease another purpose`,
            { field: "purpose" },
          );
        }
        return reg().lease(body.purpose, body.owner, body.ttlMs, {
          ...(body.pid === undefined ? {} : { pid: body.pid }),
          ...(body.clientId === undefined ? {} : { clientId: body.clientId }),
          ...(body.upstream === undefined ? {} : { upstream: body.upstream }),
        });
      },
    }),
    route({
      method: "POST",
      url: "/api/ids/lease/:clientId/renew",
      tag: "ids",
      summary: "Extend a lease; needs its token",
      auth: "token",
      params: clientIdParam,
      body: z.object({ token: z.string().min(1), ttlMs: z.number().int().min(1).optional(), upstream }),
      response: leaseSchema,
      errors: [400, 403, 404],
      async handler({ params, body }) {
        return reg().renew(
          params.clientId,
          body.token,
          body.ttlMs,
          body.upstream === undefined ? {} : { upstream: body.upstream },
        );
      },
    }),
    route({
      method: "DELETE",
      url: "/api/ids/lease/:clientId",
      tag: "ids",
      summary: "Release a lease: its token in the body (or ?leaseToken=), or force",
      auth: "token",
      params: clientIdParam,
      query: z.object({ leaseToken: z.string().optional(), force: queryBool.optional(), upstream }),
      body: z.object({ token: z.string().optional(), force: z.boolean().optional(), upstream }).optional(),
      response: leaseSchema.omit({ token: true }).meta({ id: "ReleasedLease" }),
      errors: [400, 403, 404],
      async handler({ params, query, body }) {
        const token = body?.token ?? query.leaseToken;
        const force = body?.force ?? query.force ?? false;
        const up = body?.upstream ?? query.upstream;
        const lease = await reg().release(params.clientId, {
          ...(token === undefined ? {} : { token }),
          ...(force ? { force: true } : {}),
          ...(up === undefined ? {} : { upstream: up }),
        });
        return publicLease(lease);
      },
    }),
  ];
}
