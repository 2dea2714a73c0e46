/**
 * Who owns a listening port, who is connected to it, and which TWS / IB Gateway processes run.
 * Linux: /proc/net/tcp{,6} gives socket inodes, /proc/<pid>/fd links map inodes to pids (what
 * `ss -p` does). Elsewhere: `lsof` and `ps` when present. Every step degrades to "unknown"
 * (null / empty): a process of another user cannot be inspected without root, and the doctor
 * says so instead of failing.
 */
import { execFile } from "node:child_process";
import { readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import {
  ibProcessKind,
  isLocalAddress,
  parseCmdline,
  parseLsof,
  parseProcNetTcp,
  socketInode,
  type TcpEntry,
} from "./proc-net.js";
import type { GatewayProcess, PeerConnection, ProcessInfo } from "./types.js";

export interface PortInspection {
  /** Owner of the listening socket per port; null when unknown or nothing listens. */
  owners: Map<number, ProcessInfo | null>;
  /** Established client connections per port. */
  peers: Map<number, PeerConnection[]>;
  gateways: GatewayProcess[];
}

/** The doctor's window on the machine; tests pass a fake, the CLI the real one. */
export interface SystemInspector {
  /** `excludeLocalPorts`: client-side ports of the doctor's own probes, left out of `peers`. */
  inspect(ports: readonly number[], excludeLocalPorts: ReadonlySet<number>): Promise<PortInspection>;
}

/** Bounds on what one run reads, so a huge machine cannot make the doctor slow. */
const MAX_PIDS = 20_000;
const MAX_PEERS_PER_PORT = 64;
const EXEC_TIMEOUT_MS = 3_000;

export function systemInspector(procRoot = "/proc"): SystemInspector {
  return {
    async inspect(ports, exclude) {
      const tcp = await readProcNet(procRoot);
      if (tcp) return inspectProc(procRoot, tcp, ports, exclude);
      return inspectLsof(ports, exclude);
    },
  };
}

async function readProcNet(procRoot: string): Promise<TcpEntry[] | null> {
  const texts = await Promise.all(
    ["tcp", "tcp6"].map((f) => readFile(join(procRoot, "net", f), "utf8").catch(() => null)),
  );
  if (texts.every((t) => t === null)) return null;
  return texts.flatMap((t) => (t === null ? [] : parseProcNetTcp(t)));
}

async function inspectProc(
  procRoot: string,
  tcp: TcpEntry[],
  ports: readonly number[],
  exclude: ReadonlySet<number>,
): Promise<PortInspection> {
  const wanted = new Set(ports);
  const listeners = tcp.filter((e) => e.state === "listen");
  const clients = tcp.filter(
    (e) =>
      e.state === "established" &&
      wanted.has(e.remotePort) &&
      isLocalAddress(e.remoteAddress) &&
      !exclude.has(e.localPort),
  );
  const inodes = new Set([...listeners, ...clients].map((e) => e.inode).filter((i) => i > 0));
  const pids = (await readdir(procRoot).catch(() => [] as string[]))
    .filter((d) => /^\d+$/.test(d))
    .slice(0, MAX_PIDS)
    .map(Number);

  const inodeToPid = new Map<number, number>();
  const commands = new Map<number, string>();
  await Promise.all(
    pids.map(async (pid) => {
      const raw = await readFile(join(procRoot, String(pid), "cmdline"), "latin1").catch(() => "");
      commands.set(pid, parseCmdline(raw));
      const fdDir = join(procRoot, String(pid), "fd");
      // Other users' fd dirs are unreadable without root: those sockets stay ownerless.
      const fds = await readdir(fdDir).catch(() => [] as string[]);
      for (const fd of fds) {
        const inode = socketInode(await readlink(join(fdDir, fd)).catch(() => ""));
        if (inode !== null && inodes.has(inode) && !inodeToPid.has(inode)) inodeToPid.set(inode, pid);
      }
    }),
  );
  const info = (pid: number | undefined): ProcessInfo | null =>
    pid === undefined ? null : { pid, command: commands.get(pid) ?? "" };

  const owners = new Map<number, ProcessInfo | null>();
  const peers = new Map<number, PeerConnection[]>();
  for (const port of ports) {
    const own = listeners.filter((e) => e.localPort === port);
    const known = own.find((e) => inodeToPid.has(e.inode));
    owners.set(port, info(known ? inodeToPid.get(known.inode) : undefined));
    peers.set(
      port,
      clients
        .filter((e) => e.remotePort === port)
        .slice(0, MAX_PEERS_PER_PORT)
        .map((e) => ({ localPort: e.localPort, process: info(inodeToPid.get(e.inode)) })),
    );
  }

  const gateways: GatewayProcess[] = [];
  for (const [pid, command] of commands) {
    const kind = ibProcessKind(command);
    if (!kind) continue;
    const listenPorts = listeners.filter((e) => inodeToPid.get(e.inode) === pid).map((e) => e.localPort);
    gateways.push({ pid, command, kind, listenPorts: [...new Set(listenPorts)].sort((a, b) => a - b) });
  }
  gateways.sort((a, b) => a.pid - b.pid);
  return { owners, peers, gateways };
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: EXEC_TIMEOUT_MS, maxBuffer: 8 << 20 }, (err, stdout) =>
      // lsof exits 1 when nothing matched; its output is still right.
      resolve(err && !stdout ? "" : stdout),
    );
  });
}

/** Systems without /proc (macOS): lsof for sockets, ps for command lines. */
async function inspectLsof(ports: readonly number[], exclude: ReadonlySet<number>): Promise<PortInspection> {
  const entries = parseLsof(await run("lsof", ["-nP", "-iTCP", "-FpcnT"]));
  const psText = await run("ps", ["-axo", "pid=,command="]);
  const commands = new Map<number, string>();
  for (const line of psText.split("\n")) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m) commands.set(Number(m[1]), (m[2] ?? "").trim());
  }
  const info = (pid: number, name: string): ProcessInfo => ({ pid, command: commands.get(pid) ?? name });
  const owners = new Map<number, ProcessInfo | null>();
  const peers = new Map<number, PeerConnection[]>();
  for (const port of ports) {
    const l = entries.find((e) => e.state === "listen" && e.localPort === port);
    owners.set(port, l ? info(l.pid, l.name) : null);
    peers.set(
      port,
      entries
        .filter((e) => e.state === "established" && e.remotePort === port && !exclude.has(e.localPort))
        .slice(0, MAX_PEERS_PER_PORT)
        .map((e) => ({ localPort: e.localPort, process: info(e.pid, e.name) })),
    );
  }
  const gateways: GatewayProcess[] = [];
  for (const [pid, command] of commands) {
    const kind = ibProcessKind(command);
    if (!kind) continue;
    const listenPorts = entries.filter((e) => e.pid === pid && e.state === "listen").map((e) => e.localPort);
    gateways.push({ pid, command, kind, listenPorts: [...new Set(listenPorts)].sort((a, b) => a - b) });
  }
  return { owners, peers, gateways };
}
