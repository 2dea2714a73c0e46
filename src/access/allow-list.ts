/**
 * Who may connect: the `--allow` list of CIDRs or plain addresses (IPv4 and IPv6), shared by
 * the HTTP API, the proxy and config validation. An IPv4 peer seen through a dual-stack
 * socket (`::ffff:127.0.0.1`) matches IPv4 entries.
 */
import { BlockList, isIP } from "node:net";
import { InvalidArgumentError } from "../errors.js";

export interface Cidr {
  address: string;
  prefix: number;
  family: 4 | 6;
}

/** "10.0.0.0/8", "192.168.1.7", "::1/128", "fd00::/8". */
export function parseCidr(text: string): Cidr | undefined {
  const [address, prefixText, extra] = text.trim().split("/");
  if (extra !== undefined || !address) return undefined;
  const family = isIP(address);
  if (family !== 4 && family !== 6) return undefined;
  const max = family === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return undefined;
  return { address, prefix, family };
}

const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

export class AllowList {
  readonly entries: readonly string[];
  readonly #list = new BlockList();

  constructor(entries: readonly string[]) {
    this.entries = [...entries];
    for (const text of entries) {
      const c = parseCidr(text);
      if (!c) throw new InvalidArgumentError("allow", `not a CIDR or address: ${JSON.stringify(text)}`);
      this.#list.addSubnet(c.address, c.prefix, c.family === 4 ? "ipv4" : "ipv6");
    }
  }

  get empty(): boolean {
    return this.entries.length === 0;
  }

  /** Is this peer allowed? Always, without entries. */
  allows(address: string | undefined): boolean {
    if (this.empty) return true;
    if (!address) return false;
    const mapped = MAPPED_V4.exec(address)?.[1];
    if (mapped !== undefined && this.#list.check(mapped, "ipv4")) return true;
    const family = isIP(address);
    if (family === 0) return false;
    return this.#list.check(address, family === 4 ? "ipv4" : "ipv6");
  }
}

export function isLoopbackHost(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  const mapped = MAPPED_V4.exec(host)?.[1];
  if (mapped !== undefined) return mapped.startsWith("127.");
  return host === "::1";
}

/**
 * Browser defences for services bound to loopback: a DNS-rebinding page reaches them with a
 * foreign Host header, a cross-site form with a foreign Origin. Tools such as curl send a
 * loopback Host and no Origin, so they are unaffected.
 */
export function isLoopbackRequest(host: string | undefined, origin: string | undefined): boolean {
  if (host !== undefined && !isLoopbackHost(hostnameOf(host))) return false;
  if (origin !== undefined) {
    try {
      if (!isLoopbackHost(new URL(origin).hostname.replace(/^\[|\]$/g, ""))) return false;
    } catch {
      return false;
    }
  }
  return true;
}

function hostnameOf(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(1, h.indexOf("]"));
  const colon = h.lastIndexOf(":");
  return colon > -1 && h.indexOf(":") === colon ? h.slice(0, colon) : h;
}
