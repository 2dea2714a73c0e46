/**
 * Pure parsers for what the doctor reads about sockets and processes: Linux /proc/net/tcp{,6},
 * /proc/<pid>/cmdline, and the text of `lsof -F` (macOS and other systems without /proc).
 * No I/O here; owner.ts feeds the text in.
 */

export type TcpState = "listen" | "established" | "other";

export interface TcpEntry {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  state: TcpState;
  inode: number;
}

/** Kernel state numbers (include/net/tcp_states.h). */
const TCP_ESTABLISHED = 0x01;
const TCP_LISTEN = 0x0a;

/** Parse /proc/net/tcp or /proc/net/tcp6 (the header line is skipped). */
export function parseProcNetTcp(text: string): TcpEntry[] {
  const out: TcpEntry[] = [];
  for (const line of text.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const local = parseHexEndpoint(cols[1] ?? "");
    const remote = parseHexEndpoint(cols[2] ?? "");
    const st = Number.parseInt(cols[3] ?? "", 16);
    const inode = Number(cols[9]);
    if (!local || !remote || !Number.isFinite(st) || !Number.isInteger(inode)) continue;
    out.push({
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: remote.address,
      remotePort: remote.port,
      state: st === TCP_LISTEN ? "listen" : st === TCP_ESTABLISHED ? "established" : "other",
      inode,
    });
  }
  return out;
}

/** "0100007F:1F90" → 127.0.0.1:8080; 32 hex digits for IPv6 (four little-endian words). */
function parseHexEndpoint(text: string): { address: string; port: number } | null {
  const [hex, portHex] = text.split(":");
  if (!hex || !portHex) return null;
  const port = Number.parseInt(portHex, 16);
  if (!Number.isInteger(port)) return null;
  if (hex.length === 8) return { address: wordBytes(hex).join("."), port };
  if (hex.length !== 32) return null;
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) bytes.push(...wordBytes(hex.slice(w * 8, w * 8 + 8)));
  // IPv4-mapped (::ffff:a.b.c.d) reads better as plain IPv4.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return { address: bytes.slice(12).join("."), port };
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return { address: compressIpv6(groups), port };
}

/** One 32-bit word as the kernel prints it: host (little-endian) order. */
function wordBytes(word: string): number[] {
  const n = Number.parseInt(word, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** RFC 5952 form: the longest run (of two or more) of zero groups becomes "::". */
function compressIpv6(groups: string[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < groups.length;) {
    let j = i;
    while (j < groups.length && groups[j] === "0") j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}

/** "socket:[12345]" → 12345 (the target of a /proc/<pid>/fd/<n> link). */
export function socketInode(linkTarget: string): number | null {
  const m = /^socket:\[(\d+)\]$/.exec(linkTarget);
  return m ? Number(m[1]) : null;
}

/** /proc/<pid>/cmdline is NUL-separated with a trailing NUL. */
export function parseCmdline(raw: string): string {
  return raw.replace(/\0+$/, "").split("\0").join(" ").trim();
}

/** True for the loopback or any-address forms a local listener may use. */
export function isLocalAddress(address: string): boolean {
  return address === "0.0.0.0" || address === "::" || address === "::1" || address.startsWith("127.");
}

export interface LsofEntry {
  pid: number;
  /** Short command name (lsof's `c` field); the full command line comes from `ps`. */
  name: string;
  localPort: number;
  remotePort: number | null;
  state: TcpState;
}

/**
 * Parse `lsof -nP -iTCP -Fpcn -FT` style output: `p<pid>`, `c<cmd>`, `n<addr>`,
 * `TST=<state>` lines, one process block after another.
 */
export function parseLsof(text: string): LsofEntry[] {
  const out: LsofEntry[] = [];
  let pid = 0;
  let name = "";
  let pending: { localPort: number; remotePort: number | null } | null = null;
  const flush = (state: TcpState) => {
    if (pending && pid > 0) out.push({ pid, name, ...pending, state });
    pending = null;
  };
  for (const line of text.split("\n")) {
    const tag = line[0];
    const value = line.slice(1);
    if (tag === "p") {
      flush("other");
      pid = Number(value);
    } else if (tag === "c") name = value;
    else if (tag === "n") {
      flush("other");
      const m = /:(\d+)(?:->.*:(\d+))?$/.exec(value);
      if (m) pending = { localPort: Number(m[1]), remotePort: m[2] === undefined ? null : Number(m[2]) };
    } else if (tag === "T" && value.startsWith("ST=")) {
      const st = value.slice(3);
      flush(st === "LISTEN" ? "listen" : st === "ESTABLISHED" ? "established" : "other");
    }
  }
  flush("other");
  return out;
}

/** What kind of IB process a command line is, if any. */
export function ibProcessKind(command: string): "gateway" | "tws" | null {
  if (/switchboard|mock-gateway|\bgrep\b/i.test(command)) return null;
  if (/ibgateway|IbcGateway|GWClient/i.test(command)) return "gateway";
  if (/jclient[./]LoginFrame|IbcTws|(^|[/\s])tws(\s|$)|\/Jts\/\S*tws/i.test(command)) return "tws";
  return null;
}
