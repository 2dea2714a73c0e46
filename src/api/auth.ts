/**
 * Access control of the HTTP API: the `--allow` CIDR list (checked first, on every route),
 * then the bearer token on every route but /health. `?token=` is accepted on `/` and
 * `/events` only, because browsers' EventSource cannot set headers; the page removes it
 * from the address bar.
 */

import { timingSafeEqual } from "node:crypto";
import { AllowList } from "../access/allow-list.js";
import type { Auth } from "./routes/spec.js";

export interface AccessOptions {
  token: string | undefined;
  allow: readonly string[];
}

export type AccessVerdict = { ok: true } | { ok: false; status: 401 | 403; code: string; message: string };

export class AccessControl {
  readonly #token: Buffer | undefined;
  readonly #allow: AllowList;

  constructor(o: AccessOptions) {
    this.#token = o.token === undefined ? undefined : Buffer.from(o.token);
    this.#allow = new AllowList(o.allow);
  }

  /** Is this peer address on the allow-list (always, without one)? */
  allowed(address: string | undefined): boolean {
    return this.#allow.allows(address);
  }

  check(
    auth: Auth,
    address: string | undefined,
    header: string | undefined,
    queryToken: unknown,
  ): AccessVerdict {
    if (!this.allowed(address)) {
      return { ok: false, status: 403, code: "forbidden", message: `address ${address} is not in --allow` };
    }
    if (!this.#token || auth === "none") return { ok: true };
    const bearer = /^Bearer\s+(.+)$/i.exec(header ?? "")?.[1]?.trim();
    const given =
      bearer ?? (auth === "token-or-query" && typeof queryToken === "string" ? queryToken : undefined);
    if (given === undefined) {
      return {
        ok: false,
        status: 401,
        code: "unauthorized",
        message: "missing `Authorization: Bearer <token>`",
      };
    }
    const g = Buffer.from(given);
    if (g.length !== this.#token.length || !timingSafeEqual(g, this.#token)) {
      return { ok: false, status: 401, code: "unauthorized", message: "wrong token" };
    }
    return { ok: true };
  }
}
